"""The availability use cases: fetch in parallel, then one pure calculation (domain/policy.py).

Seed 000's data flow: services, events with remaining capacity, schedule time frames and booking
policies are fetched concurrently; the calculation needs all of them. Which schedules a course
has is only known from its service, but a service's schedule never changes, so once a service
has been seen its schedule id is remembered and all four reads start at once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.availability.adapters.cache import Cache, Kind, Snapshot
from services.availability.adapters.dependencies import Dependencies, offering_from_proto, session_from_proto, time_frame_from_proto
from services.availability.adapters.toggles import COURSE_AVAILABILITY_ENABLED, FeatureToggles
from services.availability.application.memo import ServiceMemo
from services.availability.application.observability import SlotObservations
from services.availability.domain.model import CourseAvailability, Offering, ServiceType, Session, TimeSlot
from services.availability.domain.participants import NOTHING_ANNOUNCED
from services.availability.domain.policy import class_time_slot, course_availability, course_time_slots
from services.availability.domain.requests import SlotQuery, slot_query_violations, validate_class_lookup, validate_course_lookup
from services.availability.domain.slots import decode_key, encode_key, page_after, slot_sort_key, visible
from services.availability.domain.time_range import LocalRange, in_range
from services.common.errors import DependencyUnavailable, FailedPrecondition, NotFound
from services.common.instants import to_micros
from services.common.paging import CursorCodec, query_fingerprint
from services.common.validation import Violations

# What the cache holds.
SERVICES = Kind("service", services_pb2.Service.FromString)
POLICIES = Kind("policy", booking_policy_pb2.ServiceBookingPolicy.FromString)
TIME_FRAMES = Kind("time_frame", timeframes_pb2.ScheduleTimeFrame.FromString)
SERVICE_LISTS = Kind("services_of_type", services_pb2.QueryServicesResponse.FromString)


@functools.lru_cache(maxsize=256)
def _decode_sessions(entry: bytes) -> tuple[Session, ...]:
    """A cached schedule's events as sessions, decoded once per distinct entry rather than on every
    request: an entry's bytes only change when the schedule's events do, and sessions are
    immutable, so requests can share them. At most 256 entries per process, the least recently
    used dropped first (their memory, well inside the pod's limit, in bench/README.md "Measurements
    behind code choices"); a schedule that drops out is only decoded again."""
    return tuple(session_from_proto(event) for event in events_pb2.QueryEventsResponse.FromString(entry).events)


# A course schedule's sessions, and a class schedule's sessions starting in one range (keyed
# "schedule@from-to", in microseconds): capacity as read, the counts announced since applied on
# every request (domain/participants.py).
COURSE_EVENTS = Kind("course_events", _decode_sessions)
CLASS_EVENTS = Kind("class_events", _decode_sessions)


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
    def __init__(
        self, deps: Dependencies, cache: Cache, toggles: FeatureToggles, cursors: CursorCodec, memo: ServiceMemo, clock: Callable[[], datetime] | None = None
    ):
        self._deps = deps
        self._cache = cache
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
                event = await self._deps.event(event_id)
                schedule_id = event.schedule_id
            service_id = self._memo.service_of(tenant, schedule_id) or await self._deps.schedule_owner(schedule_id)
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
            wanted = {SERVICES: service_ids, POLICIES: service_ids, TIME_FRAMES: known_schedules, COURSE_EVENTS: known_schedules}
            cached = await self._cache.read(tenant, wanted, announced_for=known_schedules)
            services, policies, sessions, frames = await asyncio.gather(
                self._service_list(tenant, cached, service_ids, ServiceType.COURSE),
                self._policy_map(tenant, cached, service_ids),
                self._course_sessions(tenant, cached, known_schedules),
                self._time_frames(tenant, cached, known_schedules),
            )
            _check_services(services, service_ids, ServiceType.COURSE, field)
        else:
            cached = await self._cache.read(tenant, {SERVICES: service_ids} if service_ids else {SERVICE_LISTS: [ServiceType.COURSE.name]})
            services = await self._service_list(tenant, cached, service_ids, ServiceType.COURSE)
            _check_services(services, service_ids, ServiceType.COURSE, field)
            ids = [s.id for s in services]
            schedules = [s.schedule_id for s in services]
            cached = await self._cache.read(tenant, {POLICIES: ids, TIME_FRAMES: schedules, COURSE_EVENTS: schedules}, announced_for=schedules)
            policies, sessions, frames = await asyncio.gather(
                self._policy_map(tenant, cached, ids), self._course_sessions(tenant, cached, schedules), self._time_frames(tenant, cached, schedules)
            )
        sessions_by_schedule: dict[str, list[Session]] = {}
        for session in sessions:
            sessions_by_schedule.setdefault(session.schedule_id, []).append(session)
        courses = []
        now = self._clock()
        for service in services:
            offering = offering_from_proto(service, policies.get(service.id))
            self._memo.remember(tenant, offering)
            sessions = sessions_by_schedule.get(service.schedule_id, [])
            frame = time_frame_from_proto(frames[service.schedule_id]) if frames and service.schedule_id in frames else None
            availability = course_availability(now, offering, sessions, frame, min_bookable_capacity)
            courses.append(_Course(offering, sessions, availability))
        return courses, now

    # --- classes -------------------------------------------------------------------------------

    async def list_class_slots(self, tenant: str, query: SlotQuery) -> SlotPage:
        started = time.perf_counter()
        try:
            page = _validate_page(self._cursors, tenant, "ListEventTimeSlots", query)
            # With the zone given and the services' schedules known (a schedule never changes), the
            # range's events are read with the services in one cache round trip, as for courses.
            known_schedules = self._memo.schedules(tenant, query.service_ids) if query.service_ids and query.time_zone else None
            if known_schedules is not None:
                zone = ZoneInfo(query.time_zone)
                window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key)
                entries = _class_entries(known_schedules, window)
                wanted = {SERVICES: query.service_ids, POLICIES: query.service_ids, CLASS_EVENTS: list(entries)}
                cached = sessions_cached = await self._cache.read(tenant, wanted, announced_for=known_schedules)
                services = await self._service_list(tenant, cached, query.service_ids, ServiceType.CLASS)
                _check_services(services, query.service_ids, ServiceType.CLASS, "service_ids")
            else:
                wanted = {SERVICES: query.service_ids} if query.service_ids else {SERVICE_LISTS: [ServiceType.CLASS.name]}
                cached = await self._cache.read(tenant, {**wanted, POLICIES: query.service_ids})
                services = await self._service_list(tenant, cached, query.service_ids, ServiceType.CLASS)
                _check_services(services, query.service_ids, ServiceType.CLASS, "service_ids")
                zone = _zone(query.time_zone, [offering_from_proto(s, None) for s in services])
                window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key)
                entries = _class_entries([s.schedule_id for s in services], window)
                sessions_cached = await self._cache.read(tenant, {CLASS_EVENTS: list(entries)}, announced_for=list(entries.values())) if entries else cached
            policies, sessions = await asyncio.gather(
                self._policy_map(tenant, cached, [s.id for s in services]),
                self._sessions(tenant, sessions_cached, CLASS_EVENTS, entries, window.start_utc, window.end_utc),
            )
            by_schedule = {s.schedule_id: offering_from_proto(s, policies.get(s.id)) for s in services}
            for offering in by_schedule.values():
                self._memo.remember(tenant, offering)
            now = self._clock()
            slots = [class_time_slot(now, by_schedule[session.schedule_id], session, query.min_bookable_capacity) for session in sessions]
            result, has_next = page_after(visible(slots, query.include_non_bookable), page.after, page.limit)
            next_cursor = self._cursors.encode(encode_key(slot_sort_key(result[-1])), page.fingerprint) if has_next and result else ""
            return SlotPage(result, zone, next_cursor, has_next)
        finally:
            self._observe.answered("ListEventTimeSlots", started)

    async def get_class_slot(self, tenant: str, event_id: str, time_zone: str, min_bookable_capacity: int) -> tuple[TimeSlot, ZoneInfo]:
        validate_class_lookup(event_id=event_id, time_zone=time_zone, min_bookable_capacity=min_bookable_capacity)
        event = await self._deps.event(event_id)
        service_id = self._memo.service_of(tenant, event.schedule_id) or await self._deps.schedule_owner(event.schedule_id)
        cached = await self._cache.read(tenant, {SERVICES: (service_id,), POLICIES: (service_id,)})
        services, policies = await asyncio.gather(
            self._service_list(tenant, cached, (service_id,), ServiceType.CLASS), self._policy_map(tenant, cached, (service_id,))
        )
        _check_services(services, (service_id,), ServiceType.CLASS, "event_id")
        offering = offering_from_proto(services[0], policies.get(service_id))
        self._memo.remember(tenant, offering)
        slot = class_time_slot(self._clock(), offering, session_from_proto(event), min_bookable_capacity)
        return slot, _zone(time_zone, [offering])

    # --- cached reads ----------------------------------------------------------------------------

    async def _service_list(self, tenant: str, cached: Snapshot, service_ids: Sequence[str], kind: ServiceType) -> list[services_pb2.Service]:
        if not service_ids:
            listed = cached.of(SERVICE_LISTS).get(kind.name)
            if listed is not None:
                return list(listed.services)
            services = await self._deps.services((), (kind,))
            await self._cache.write(tenant, cached, SERVICE_LISTS, {kind.name: services_pb2.QueryServicesResponse(services=services)})
            return services
        found = dict(cached.of(SERVICES))
        missing = [s for s in service_ids if s not in found]
        if missing:
            fetched = {s.id: s for s in await self._deps.services(missing, ())}
            await self._cache.write(tenant, cached, SERVICES, fetched)
            found.update(fetched)
        return [found[s] for s in service_ids if s in found]

    async def _policy_map(self, tenant: str, cached: Snapshot, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        found = {s: p for s, p in cached.of(POLICIES).items() if s in service_ids}
        missing = [s for s in service_ids if s not in found]
        if missing:
            try:
                fetched = await self._deps.policies(missing)
            except NotFound:
                # A service deleted between the two reads: its absence is reported from the
                # services read; the policy provider's view is not authoritative for existence.
                fetched = {}
            await self._cache.write(tenant, cached, POLICIES, fetched)
            found.update(fetched)
        return found

    async def _course_sessions(self, tenant: str, cached: Snapshot, schedule_ids: Sequence[str]) -> list[Session]:
        """Every session of the courses' schedules (cancelled included)."""
        return await self._sessions(tenant, cached, COURSE_EVENTS, {s: s for s in schedule_ids})

    async def _sessions(
        self, tenant: str, cached: Snapshot, kind: Kind, schedules: Mapping[str, str], start: datetime | None = None, end: datetime | None = None
    ) -> list[Session]:
        """The sessions of each schedule (`schedules`: entry id -> schedule id), starting in
        [start, end) when given, from the cache or else from timeframes (one read for every
        missing schedule), each with the participant counts announced since it was read."""
        found: dict[str, Sequence[Session]] = dict(cached.of(kind))
        missing = {schedules[entry]: entry for entry in schedules if entry not in found}
        if missing:
            by_entry = {entry: events_pb2.QueryEventsResponse() for entry in missing.values()}
            for event in await self._deps.events(list(missing), start=start, end=end):
                by_entry[missing[event.schedule_id]].events.append(event)
            await self._cache.write(tenant, cached, kind, by_entry)
            found.update({entry: [session_from_proto(e) for e in response.events] for entry, response in by_entry.items()})
        sessions: list[Session] = []
        for entry, schedule_id in schedules.items():
            announced = cached.announced_for(schedule_id)
            sessions.extend(found[entry] if announced is NOTHING_ANNOUNCED else (announced.apply(session) for session in found[entry]))
        return sessions

    async def _time_frames(self, tenant: str, cached: Snapshot, schedule_ids: Sequence[str]) -> dict[str, timeframes_pb2.ScheduleTimeFrame] | None:
        """None when ScheduleTimeFrames is unavailable: the calculation then takes the first
        session from the events (seed 000, graceful degradation)."""
        found = dict(cached.of(TIME_FRAMES))
        missing = [s for s in schedule_ids if s not in found]
        if missing:
            try:
                fetched = await self._deps.time_frames(missing)
            except DependencyUnavailable as exc:
                self._observe.dependency_failed(tenant, "time_frames", exc, degraded=True)
                return None
            await self._cache.write(tenant, cached, TIME_FRAMES, fetched)
            found.update(fetched)
        return found


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


def _class_entries(schedule_ids: Sequence[str], window: LocalRange) -> dict[str, str]:
    """The CLASS_EVENTS entries of the schedules' events in the range (entry id -> schedule id).
    A range can resolve empty (a `from` in a spring-forward gap moves past a `to` just after it,
    see LocalRange.resolve); QueryEvents refuses to_date == from_date, so an empty range reads no
    events rather than turning that refusal into INTERNAL."""
    if window.end_utc <= window.start_utc:
        return {}
    return {f"{s}@{to_micros(window.start_utc)}-{to_micros(window.end_utc)}": s for s in schedule_ids}


def _check_services(services: Sequence[services_pb2.Service], requested: Sequence[str], kind: ServiceType, field: str) -> None:
    """Requested ids must be live services of the tenant, of the endpoint's type."""
    by_id = {s.id: s for s in services}
    v = Violations()
    for i, service_id in enumerate(requested):
        service = by_id.get(service_id)
        if service is None:
            raise NotFound("service", service_id)
        if service.type != (services_pb2.COURSE if kind is ServiceType.COURSE else services_pb2.CLASS):
            actual = services_pb2.ServiceType.Name(service.type)
            hint = "ListEventTimeSlots" if kind is ServiceType.COURSE else "ListCourseEventTimeSlots"
            v.add(f"{field}[{i}]" if field == "service_ids" else field, f"is a {actual} service, not a {kind.name}; use {hint}")
    v.raise_if_any()


def _zone(time_zone: str, offerings: Sequence[Offering]) -> ZoneInfo:
    """The requested zone, else the business time zone: that of the tenant's (first) service."""
    if time_zone:
        return ZoneInfo(time_zone)
    if offerings:
        return ZoneInfo(offerings[0].time_zone)
    return ZoneInfo("UTC")
