"""What the slot use cases report besides their answers: the metrics and the BI log records
(`bi_event=...`) of README "Availability", in one collaborator so the use cases say what happened
and not how it is counted."""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from opentelemetry import metrics

from services.availability.domain.model import CourseAvailability
from services.common.errors import DependencyUnavailable

log = structlog.get_logger("availability")
_VIOLATIONS = ("too_early_to_book", "too_late_to_book", "book_online_disabled", "no_remaining_capacity")


class SlotObservations:
    def __init__(self) -> None:
        meter = metrics.get_meter("services.availability")
        self._course_requests = meter.create_counter("availability.course_requests.total", description="course availability requests")
        self._latency = meter.create_histogram("availability.latency_ms", unit="ms", description="availability calculation latency, by endpoint")
        self._dependency_errors = meter.create_counter("availability.dependency_errors", description="failed reads of a dependency, by dependency")
        self._violations = {
            name: meter.create_counter(f"availability.policy_violations.{name}", description=f"courses shown with {name}") for name in _VIOLATIONS
        }

    def course_request(self, rpc: str) -> None:
        self._course_requests.add(1, {"rpc": rpc})

    def answered(self, rpc: str, started: float) -> None:
        """`started`: time.perf_counter() when the request began."""
        self._latency.record((time.perf_counter() - started) * 1000, {"rpc": rpc})

    def courses_shown(self, tenant: str, courses: Sequence[CourseAvailability], slot_count: int, started: float) -> None:
        for course in courses:
            flags = {
                "too_early_to_book": course.violations.too_early_to_book,
                "too_late_to_book": course.violations.too_late_to_book,
                "book_online_disabled": course.violations.book_online_disabled,
                "no_remaining_capacity": course.reasons.no_remaining_capacity,
            }
            for name, flag in flags.items():
                if flag:
                    self._violations[name].add(1)
                    log.info("bi", bi_event="course_policy_violation", violation=name, service_id=course.service_id, tenant_id=tenant)
        log.info(
            "bi",
            bi_event="course_availability_query",
            tenant_id=tenant,
            courses=len(courses),
            slots=slot_count,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def dependency_failed(self, tenant: str, where: str, exc: DependencyUnavailable, *, degraded: bool = False) -> None:
        """A read that failed: the request failed with it, or (`degraded`) went on without it."""
        self._dependency_errors.add(1, {"dependency": exc.dependency})
        log.warning("bi", bi_event="course_availability_error", tenant_id=tenant, where=where, dependency=exc.dependency, degraded=degraded, error=str(exc))
