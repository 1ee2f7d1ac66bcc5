"""bookings.availability.v1.AvailabilityCalendar: the legacy validation API CreateBooking asks
(seed 000 "How Bookings Service Will Use New Endpoint").

One rule set: every answer is `validate_booking` (and `course_availability` / `class_time_slot`
for the numbers) of domain/policy.py, the calculation ListCourseEventTimeSlots shows. The two
modes differ only in where capacity comes from:

- `proxy_course_to_new_endpoint` ON for the tenant: the v2 answer, capacity from
  `Event.remaining_capacity` (eventually consistent: the participations pipeline updates it
  after the booking's Kafka event; seed "Event Update Pipeline").
- OFF: the legacy consistent answer, capacity from bookings itself (QueryBookings: the PENDING and
  CONFIRMED bookings of the course's schedule, or of the class's event, summed), so a booking
  counts the moment CreateBooking returned. Each session's open spots are its total capacity
  minus those participants (DESIGN §5's participant total; a course's sessions carry no bookings
  of their own, because bookings refuses a slot booking on a course event).

Both read the same inputs (service, policy, sessions, time frame) fresh on every call, with no
cache: validation must see a policy change at once (seed "Policy vs Capacity Consistency"). A
caller that has just read the service itself (bookings, which owns the catalog) may pass it in the
request; it is then not read again (one call less per booking), and must own the schedule. The
calculation is called directly rather than through `TimeSlots.get_course`: that entrypoint is
gated by `course_availability_enabled` (a tenant outside that rollout would be refused
FEATURE_DISABLED on CreateBooking) and does not return the sessions `validate_booking` needs for
the refusal reason.

Shadow mode (rollout "Response parity with legacy"): with the toggle OFF and
`AVAILABILITY_SHADOW_COMPARE` on, the v2 answer is computed too, from the same inputs read in
the same concurrent fetch, and compared with the legacy one on `bookable`, `open_spots` and
`refusal_reason`; `availability.calendar.shadow_comparisons` counts comparisons and
`availability.calendar.shadow_mismatches{field}` the differing fields, and a
`bi_event=calendar_shadow_mismatch` log record carries both answers. Since the inputs are
shared, a mismatch is exactly capacity that has not settled yet. The legacy answer is returned;
a failure of the v2 side is logged and counted (`availability.calendar.shadow_errors`), never
returned.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import structlog
from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.availability.adapters.dependencies import offering_from_proto, session_from_proto, time_frame_from_proto
from services.availability.adapters.toggles import PROXY_COURSE_TO_NEW_ENDPOINT
from services.availability.application.memo import ServiceMemo
from services.availability.domain.model import Offering, ServiceType, Session, TimeFrame
from services.availability.domain.policy import class_time_slot, course_availability, needed_spots, validate_booking
from services.availability.domain.requests import validate_calendar_request
from services.common.errors import DependencyUnavailable, InvalidArgument, NotFound

log = structlog.get_logger("availability.calendar")
SHADOW_FIELDS = ("bookable", "open_spots", "refusal_reason")
T = TypeVar("T")


# --- answers (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarAnswer:
    """ScheduleAvailability / SlotAvailability of availability_calendar.proto."""

    total_spots: int
    open_spots: int  # clamped at 0
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    bookable: bool
    refusal_reason: str  # "" when bookable
    min_total_spots_ahead: int = 0  # COURSE only (ScheduleAvailability)
    schedule_id: str = ""  # CLASS only (SlotAvailability): the event's schedule

    def as_log(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Inputs:
    """What one answer is calculated from: for a COURSE all sessions of its schedule and its time
    frame (None when ScheduleTimeFrames was unavailable); for a CLASS exactly the one event."""

    offering: Offering
    sessions: tuple[Session, ...]
    time_frame: TimeFrame | None = None


def answer(now: datetime, inputs: Inputs, number_of_participants: int) -> CalendarAnswer:
    """The domain's decision for this party, mapped to the v1 answer. `bookable` is "no refusal",
    which includes the party size limit (a v1 answer is about this party, not a display slot)."""
    party = needed_spots(number_of_participants)
    offering, sessions = inputs.offering, list(inputs.sessions)
    refusal = validate_booking(now, offering, sessions, inputs.time_frame, party)
    min_total_ahead, schedule_id = 0, ""
    if offering.type is ServiceType.COURSE:
        course = course_availability(now, offering, sessions, inputs.time_frame, party)
        total, open_spots, violations = course.total_capacity, course.open_spots, course.violations
        min_total_ahead = course.min_total_capacity_ahead
    else:
        slot = class_time_slot(now, offering, sessions[0], party)
        total, open_spots, violations = slot.total_capacity, slot.remaining_capacity, slot.violations
        schedule_id = sessions[0].schedule_id
    return CalendarAnswer(
        total_spots=total,
        open_spots=open_spots,
        too_early_to_book=violations.too_early_to_book,
        too_late_to_book=violations.too_late_to_book,
        book_online_disabled=violations.book_online_disabled,
        bookable=refusal is None,
        refusal_reason=refusal.value if refusal is not None else "",
        min_total_spots_ahead=min_total_ahead,
        schedule_id=schedule_id,
    )


def with_booked(inputs: Inputs, booked_participants: int) -> Inputs:
    """The legacy inputs: every session's remaining capacity recomputed from the bookings
    (total capacity − the participants of the PENDING and CONFIRMED bookings on it) instead of the
    pipeline-maintained `Event.remaining_capacity`. Everything else is unchanged."""
    sessions = tuple(dataclasses.replace(s, remaining_capacity=s.total_capacity - booked_participants) for s in inputs.sessions)
    return dataclasses.replace(inputs, sessions=sessions)


def mismatched_fields(legacy: CalendarAnswer, v2: CalendarAnswer) -> list[str]:
    return [f for f in SHADOW_FIELDS if getattr(legacy, f) != getattr(v2, f)]


# --- ports -----------------------------------------------------------------------------------------


class Sources(Protocol):
    """The reads of services.availability.adapters.dependencies.Dependencies used here."""

    async def services(self, service_ids: Sequence[str], types: Sequence[ServiceType]) -> list[services_pb2.Service]: ...
    async def policies(self, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]: ...
    async def events(self, schedule_ids: Sequence[str]) -> list[events_pb2.Event]: ...
    async def event(self, event_id: str) -> events_pb2.Event: ...
    async def schedule_owner(self, schedule_id: str) -> str: ...
    async def time_frames(self, schedule_ids: Sequence[str]) -> dict[str, timeframes_pb2.ScheduleTimeFrame]: ...


class BookingLedger(Protocol):
    async def booked_participants(self, *, schedule_id: str = "", event_id: str = "") -> int:
        """Σ number_of_participants of the PENDING and CONFIRMED bookings of the schedule (course
        bookings) or of the event (class bookings). DependencyUnavailable when bookings is away."""
        ...


class Toggles(Protocol):
    def enabled(self, toggle: str, tenant_id: str) -> bool: ...


# --- the use case ----------------------------------------------------------------------------------


class _Metrics:
    def __init__(self, provider: MeterProvider | None) -> None:
        meter = (provider or metrics.get_meter_provider()).get_meter("services.availability.calendar")
        self.requests = meter.create_counter("availability.calendar.requests", description="AvailabilityCalendar answers, by rpc and mode (proxy|legacy)")
        self.comparisons = meter.create_counter("availability.calendar.shadow_comparisons", description="legacy answers compared with the v2 answer, by rpc")
        self.mismatches = meter.create_counter("availability.calendar.shadow_mismatches", description="compared answers that differ, by field and rpc")
        self.errors = meter.create_counter("availability.calendar.shadow_errors", description="v2 shadow answers that could not be computed, by rpc")


class AvailabilityCalendar:
    def __init__(
        self,
        sources: Sources,
        ledger: BookingLedger,
        toggles: Toggles,
        memo: ServiceMemo,
        *,
        shadow_compare: bool,
        clock: Callable[[], datetime] | None = None,
        meter_provider: MeterProvider | None = None,
    ):
        self._sources = sources
        self._ledger = ledger
        self._toggles = toggles
        self._shadow_compare = shadow_compare
        self._clock = clock or (lambda: datetime.now(UTC))
        self._metrics = _Metrics(meter_provider)
        self._memo = memo

    async def schedule_availability(
        self, tenant: str, schedule_id: str, number_of_participants: int, service: services_pb2.Service | None = None
    ) -> CalendarAnswer:
        """`service`: the owning service as the caller read it (the request's optional field), used
        instead of reading it again."""
        validate_calendar_request(
            "schedule_id",
            schedule_id,
            number_of_participants,
            service.id if service else None,
            service.schedule_id if service else "",
            owned_schedule=schedule_id,
        )
        return await self._answer(
            tenant,
            "GetScheduleAvailability",
            lambda: self._course_inputs(tenant, schedule_id, service),
            lambda: self._ledger.booked_participants(schedule_id=schedule_id),
            number_of_participants,
            {"schedule_id": schedule_id},
        )

    async def slot_availability(self, tenant: str, event_id: str, number_of_participants: int, service: services_pb2.Service | None = None) -> CalendarAnswer:
        validate_calendar_request("event_id", event_id, number_of_participants, service.id if service else None, service.schedule_id if service else "")
        return await self._answer(
            tenant,
            "GetSlotAvailability",
            lambda: self._class_inputs(tenant, event_id, service),
            lambda: self._ledger.booked_participants(event_id=event_id),
            number_of_participants,
            {"event_id": event_id},
        )

    async def _answer(
        self,
        tenant: str,
        rpc: str,
        read_inputs: Callable[[], Awaitable[Inputs]],
        read_booked: Callable[[], Awaitable[int]],
        number_of_participants: int,
        subject: dict[str, str],
    ) -> CalendarAnswer:
        proxy = self._toggles.enabled(PROXY_COURSE_TO_NEW_ENDPOINT, tenant)
        self._metrics.requests.add(1, {"rpc": rpc, "mode": "proxy" if proxy else "legacy"})
        if proxy:
            inputs = await read_inputs()
            return answer(self._clock(), inputs, number_of_participants)

        # Legacy: the bookings are read concurrently with the calendar inputs. Errors of the
        # inputs win (an unknown event is NOT_FOUND even when bookings is away too).
        inputs, booked = await _both(read_inputs(), read_booked())
        now = self._clock()
        legacy = answer(now, with_booked(inputs, booked), number_of_participants)
        if self._shadow_compare:
            self._shadow(tenant, rpc, now, inputs, number_of_participants, legacy, subject)
        return legacy

    def _shadow(self, tenant: str, rpc: str, now: datetime, inputs: Inputs, party: int, legacy: CalendarAnswer, subject: dict[str, str]) -> None:
        try:
            v2 = answer(now, inputs, party)
        except Exception as exc:  # the shadow never fails the answer it shadows
            self._metrics.errors.add(1, {"rpc": rpc})
            log.warning("calendar shadow answer failed", rpc=rpc, tenant_id=tenant, error=repr(exc), **subject)
            return
        self._metrics.comparisons.add(1, {"rpc": rpc})
        fields = mismatched_fields(legacy, v2)
        if not fields:
            return
        for name in fields:
            self._metrics.mismatches.add(1, {"rpc": rpc, "field": name})
        log.warning(
            "bi",
            bi_event="calendar_shadow_mismatch",
            rpc=rpc,
            tenant_id=tenant,
            service_id=inputs.offering.service_id,
            number_of_participants=party,
            fields=fields,
            legacy=legacy.as_log(),
            v2=v2.as_log(),
            **subject,
        )

    # --- inputs ----------------------------------------------------------------------------------

    async def _course_inputs(self, tenant: str, schedule_id: str, given: services_pb2.Service | None) -> Inputs:
        service_id = given.id if given is not None else self._memo.service_of(tenant, schedule_id) or await self._sources.schedule_owner(schedule_id)
        service, events, frames = await asyncio.gather(
            self._offering(service_id, "schedule", schedule_id, given),
            self._sources.events([schedule_id]),
            self._time_frames(schedule_id),
        )
        if service.type is not ServiceType.COURSE:
            raise InvalidArgument.single("schedule_id", f"is the schedule of a {service.type} service; ask GetSlotAvailability for one of its events")
        if given is None:  # only what the catalog said is remembered, never a caller's word
            self._memo.remember(tenant, service)
        frame = time_frame_from_proto(frames[schedule_id]) if frames is not None and schedule_id in frames else None
        return Inputs(service, tuple(session_from_proto(e) for e in events if e.schedule_id == schedule_id), frame)

    async def _class_inputs(self, tenant: str, event_id: str, given: services_pb2.Service | None) -> Inputs:
        event = await self._sources.event(event_id)
        if given is not None:
            _require_owner(given, event.schedule_id, "event_id")
            service_id = given.id
        else:
            service_id = self._memo.service_of(tenant, event.schedule_id) or await self._sources.schedule_owner(event.schedule_id)
        service = await self._offering(service_id, "event", event_id, given)
        if service.type is not ServiceType.CLASS:
            raise InvalidArgument.single("event_id", f"is a session of a {service.type} service; ask GetScheduleAvailability for its schedule")
        if given is None:
            self._memo.remember(tenant, service)
        return Inputs(service, (session_from_proto(event),))

    async def _offering(self, service_id: str, resource: str, resource_id: str, given: services_pb2.Service | None = None) -> Offering:
        if given is not None:
            services, policies = [given], await self._policy(service_id)
        else:
            services, policies = await asyncio.gather(self._sources.services([service_id], ()), self._policy(service_id))
        service = next((s for s in services if s.id == service_id), None)
        if service is None:  # the owning service was deleted: nothing can be booked on it
            raise NotFound(resource, resource_id)
        if service.type not in (services_pb2.COURSE, services_pb2.CLASS):
            raise InvalidArgument.single(f"{resource}_id", "belongs to a service that is neither a COURSE nor a CLASS")
        return offering_from_proto(service, policies.get(service_id))

    async def _policy(self, service_id: str) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        try:
            return await self._sources.policies([service_id])
        except NotFound:
            # Deleted between the reads: the services read reports it. As TimeSlots does.
            return {}

    async def _time_frames(self, schedule_id: str) -> dict[str, timeframes_pb2.ScheduleTimeFrame] | None:
        """None when ScheduleTimeFrames is unavailable: F is then the first session (seed 000,
        graceful degradation), the same fallback as the display."""
        try:
            return await self._sources.time_frames([schedule_id])
        except DependencyUnavailable as exc:
            log.warning("time frames unavailable; first session taken from the events", schedule_id=schedule_id, error=str(exc))
            return None


def _require_owner(service: services_pb2.Service, schedule_id: str, field: str) -> None:
    """A service a caller passes must own what it asks about: the answer is computed from it."""
    if service.schedule_id != schedule_id:
        raise InvalidArgument.single("service.schedule_id", f"is not the schedule of the {field.removesuffix('_id')} asked about")


async def _both(first: Awaitable[T], second: Awaitable[Any]) -> tuple[T, Any]:
    """Both results, read concurrently; the first's error wins when both fail."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(a, BaseException):
        raise a
    if isinstance(b, BaseException):
        raise b
    return a, b
