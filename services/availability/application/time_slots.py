"""The availability use cases: fetch in parallel, then one pure calculation (domain/policy.py).

The data flow (docs/booking-policies.md "The four reads"): services, events with remaining
capacity, schedule time frames and booking policies are fetched concurrently; the calculation
needs all of them. Which schedules a course has is only known from its service, but a service's
schedule never changes, so once a service has been seen its schedule id is remembered and all
four reads start at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.availability.application.memo import ServiceMemo
from services.availability.application.observability import SlotObservations
from services.availability.application.ports import AvailabilityInputs, Toggles, Wanted
from services.availability.domain.model import CourseAvailability, Offering, ServiceType, Session, TimeSlot
from services.availability.domain.policy import class_time_slot, course_availability, course_time_slots
from services.availability.domain.requests import (
    SlotQuery,
    check_requested_offerings,
    slot_query_violations,
    validate_class_lookup,
    validate_course_lookup,
)
from services.availability.domain.slots import decode_key, encode_key, page_after, slot_sort_key, visible
from services.availability.domain.time_range import LocalRange, in_range
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED
from services.common.errors import DependencyUnavailable, FailedPrecondition, NotFound
from services.common.paging import CursorCodec, query_fingerprint


@dataclass(frozen=True)
class SlotPage:
    slots: list[TimeSlot]
    zone: ZoneInfo
    next_cursor: str
    has_next: bool


@dataclass(frozen=True)
class CourseView:
    """GetCourseEventTimeSlot: the course, and the asked-for session when asked by event."""

    course: CourseAvailability
    offering: Offering
    slot: TimeSlot | None
    zone: ZoneInfo


class TimeSlots:
    def __init__(self, inputs: AvailabilityInputs, toggles: Toggles, cursors: CursorCodec, memo: ServiceMemo, clock: Callable[[], datetime] | None = None):
        self._inputs = inputs
        self._toggles = toggles
        self._cursors = cursors
        self._clock = clock or (lambda: datetime.now(UTC))
        self._memo = memo
        self._observe = SlotObservations()

    # --- courses -------------------------------------------------------------------------------

    async def list_course_slots(self, tenant: str, query: SlotQuery) -> SlotPage:
        started = time.perf_counter()
        self._observe.course_request("ListCourseEventTimeSlots")
        try:
            self._require_course_availability(tenant)
            page = _validate_page(self._cursors, tenant, "ListCourseEventTimeSlots", query)
            courses, now = await self._courses(tenant, query.service_ids, query.min_bookable_capacity)
            zone = _zone(query.time_zone, [c.offering for c in courses])
            window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key)
            slots: list[TimeSlot] = []
            for course in courses:
                shown = [s for s in course.sessions if in_range(s, window)]
                slots.extend(course_time_slots(now, course.offering, course.availability, shown))
            result, has_next = page_after(visible(slots, query.include_non_bookable), page.after, page.limit)
            next_cursor = self._cursors.encode(encode_key(slot_sort_key(result[-1])), page.fingerprint) if has_next and result else ""
            self._observe.courses_shown(tenant, [c.availability for c in courses], len(result), started)
            return SlotPage(result, zone, next_cursor, has_next)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, "ListCourseEventTimeSlots", exc)
            raise
        finally:
            self._observe.answered("ListCourseEventTimeSlots", started)

    async def get_course(self, tenant: str, *, event_id: str, schedule_id: str, time_zone: str, min_bookable_capacity: int) -> CourseView:
        started = time.perf_counter()
        self._observe.course_request("GetCourseEventTimeSlot")
        try:
            self._require_course_availability(tenant)
            validate_course_lookup(event_id=event_id, schedule_id=schedule_id, time_zone=time_zone, min_bookable_capacity=min_bookable_capacity)
            if event_id:
                schedule_id = (await self._inputs.event(tenant, event_id)).schedule_id
            service_id = self._memo.service_of(tenant, schedule_id) or await self._inputs.schedule_owner(tenant, schedule_id)
            courses, now = await self._courses(tenant, (service_id,), min_bookable_capacity, field="schedule_id" if not event_id else "event_id")
            course = courses[0]
            if course.offering.schedule_id != schedule_id:
                raise NotFound("schedule", schedule_id)
            slot = None
            if event_id:
                session = next((s for s in course.sessions if s.event_id == event_id), None)
                if session is None:
                    raise NotFound("event", event_id)
                slot = course_time_slots(now, course.offering, course.availability, [session])[0]
            zone = _zone(time_zone, [course.offering])
            self._observe.courses_shown(tenant, [course.availability], 1, started)
            return CourseView(course.availability, course.offering, slot, zone)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, "GetCourseEventTimeSlot", exc)
            raise
        finally:
            self._observe.answered("GetCourseEventTimeSlot", started)

    def _require_course_availability(self, tenant: str) -> None:
        if not self._toggles.enabled(COURSE_AVAILABILITY_ENABLED, tenant):
            raise FailedPrecondition(
                "FEATURE_DISABLED",
                f"course availability is not enabled for this tenant (feature toggle {COURSE_AVAILABILITY_ENABLED})",
                {"toggle": COURSE_AVAILABILITY_ENABLED},
            )

    async def _courses(self, tenant: str, service_ids: Sequence[str], min_bookable_capacity: int, field: str = "service_ids") -> tuple[list[_Course], datetime]:
        """Each requested COURSE (all of the tenant's when none requested) with its sessions,
        time frame and policy, read concurrently; and the one `now` every course was decided at,
        which the caller must also use for the slots (`past`), so that a session starting between
        two clock reads is never "ahead" for the course and "past" for its slot."""
        known_schedules = self._memo.schedules(tenant, service_ids) if service_ids else None
        if known_schedules is not None:
            found = await self._inputs.read(tenant, Wanted(service_ids=service_ids, course_schedules=known_schedules))
            offerings = found.offerings
            check_requested_offerings(offerings, service_ids, ServiceType.COURSE, field)
        else:
            offerings = await self._offerings(tenant, service_ids, ServiceType.COURSE, field)
            found = await self._inputs.read(tenant, Wanted(course_schedules=[o.schedule_id for o in offerings]))
        if found.time_frames_failure is not None:
            self._observe.dependency_failed(tenant, "time_frames", found.time_frames_failure, degraded=True)
        sessions_by_schedule: dict[str, list[Session]] = {}
        for session in found.sessions:
            sessions_by_schedule.setdefault(session.schedule_id, []).append(session)
        courses = []
        now = self._clock()
        for offering in offerings:
            self._memo.remember(tenant, offering)
            sessions = sessions_by_schedule.get(offering.schedule_id, [])
            frame = found.time_frames.get(offering.schedule_id) if found.time_frames is not None else None
            availability = course_availability(now, offering, sessions, frame, min_bookable_capacity)
            courses.append(_Course(offering, sessions, availability))
        return courses, now

    async def _offerings(self, tenant: str, service_ids: Sequence[str], kind: ServiceType, field: str) -> list[Offering]:
        """The requested offerings (every live one of `kind` when none is requested), checked."""
        offerings = (await self._inputs.read(tenant, Wanted(service_ids=service_ids, of_type=kind))).offerings
        check_requested_offerings(offerings, service_ids, kind, field)
        return offerings

    # --- classes -------------------------------------------------------------------------------

    async def list_class_slots(self, tenant: str, query: SlotQuery) -> SlotPage:
        started = time.perf_counter()
        try:
            page = _validate_page(self._cursors, tenant, "ListEventTimeSlots", query)
            # With the zone given and the services' schedules known (a schedule never changes), the
            # range's events are read with the services in one round trip, as for courses.
            known_schedules = self._memo.schedules(tenant, query.service_ids) if query.service_ids and query.time_zone else None
            if known_schedules is not None:
                zone = ZoneInfo(query.time_zone)
                window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key)
                found = await self._inputs.read(
                    tenant, Wanted(service_ids=query.service_ids, class_schedules=known_schedules, window=(window.start_utc, window.end_utc))
                )
                offerings = found.offerings
                check_requested_offerings(offerings, query.service_ids, ServiceType.CLASS, "service_ids")
            else:
                offerings = await self._offerings(tenant, query.service_ids, ServiceType.CLASS, "service_ids")
                zone = _zone(query.time_zone, offerings)
                window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key)
                found = await self._inputs.read(tenant, Wanted(class_schedules=[o.schedule_id for o in offerings], window=(window.start_utc, window.end_utc)))
            by_schedule = {o.schedule_id: o for o in offerings}
            for offering in offerings:
                self._memo.remember(tenant, offering)
            now = self._clock()
            slots = [class_time_slot(now, by_schedule[session.schedule_id], session, query.min_bookable_capacity) for session in found.sessions]
            result, has_next = page_after(visible(slots, query.include_non_bookable), page.after, page.limit)
            next_cursor = self._cursors.encode(encode_key(slot_sort_key(result[-1])), page.fingerprint) if has_next and result else ""
            return SlotPage(result, zone, next_cursor, has_next)
        finally:
            self._observe.answered("ListEventTimeSlots", started)

    async def get_class_slot(self, tenant: str, event_id: str, time_zone: str, min_bookable_capacity: int) -> tuple[TimeSlot, ZoneInfo]:
        validate_class_lookup(event_id=event_id, time_zone=time_zone, min_bookable_capacity=min_bookable_capacity)
        session = await self._inputs.event(tenant, event_id)
        service_id = self._memo.service_of(tenant, session.schedule_id) or await self._inputs.schedule_owner(tenant, session.schedule_id)
        (offering,) = await self._offerings(tenant, (service_id,), ServiceType.CLASS, "event_id")
        self._memo.remember(tenant, offering)
        slot = class_time_slot(self._clock(), offering, session, min_bookable_capacity)
        return slot, _zone(time_zone, [offering])


@dataclass(frozen=True)
class _Course:
    offering: Offering
    sessions: list[Session]
    availability: CourseAvailability


@dataclass(frozen=True)
class _Page:
    limit: int
    after: tuple[datetime, str] | None
    fingerprint: str


def _validate_page(cursors: CursorCodec, tenant: str, rpc: str, query: SlotQuery) -> _Page:
    v = slot_query_violations(query)  # reported with the paging's in one answer
    fingerprint = query_fingerprint(
        tenant,
        rpc,
        sorted(query.service_ids),
        query.from_local_date,
        query.to_local_date,
        query.time_zone,
        query.include_non_bookable,
        query.min_bookable_capacity,
    )
    page = cursors.add_page(v, query.limit, query.cursor, None if v else fingerprint)
    v.raise_if_any()
    assert page is not None
    return _Page(page.limit, decode_key(page.after) if page.after is not None else None, fingerprint)


def _zone(time_zone: str, offerings: Sequence[Offering]) -> ZoneInfo:
    """The requested zone, else the business time zone: that of the tenant's (first) service."""
    if time_zone:
        return ZoneInfo(time_zone)
    if offerings:
        return ZoneInfo(offerings[0].time_zone)
    return ZoneInfo("UTC")
