"""Helpers of the availability integration tests (no tests here): build courses and classes
through the public catalog and calendar APIs, switch feature toggles in Redis, and call the
availability endpoints.

The availability service reads the real clock, so every scenario is built relative to `now()`
with margins of minutes: the few hundred milliseconds between building a scenario and asking for
it never change an answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import grpc
import redis.asyncio as redis
from google.protobuf import field_mask_pb2, timestamp_pb2

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.adapters.toggles import get_rules, set_rule
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT, ToggleRule
from services.availability.entrypoints.events import GROUP_ID as INVALIDATION_GROUP
from services.common import topics
from services.devstack.stack import Platform
from tests import support
from tests.integration.topic_reader import TopicReader, committed_past, of_tenant

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
VIENNA = "Europe/Vienna"
# Feature toggles are re-read every 0.5 s by default; wait a little longer after a change.
TOGGLE_PROPAGATION_SECONDS = 1.2
# How long a catalog or calendar change may take to reach availability's cache (the Kafka
# consumer dropping the entries typically needs tens of milliseconds).
PROPAGATION_SECONDS = 5.0  # a bound for polling, generous for a loaded 2-core machine
# How long after the platform started availability may take to use its cache: from when its
# invalidation consumer has its partitions (the broker's group join).
CACHE_LIVE_SECONDS = 30.0
EVERYONE = ToggleRule(percentage=100)

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(instant)
    return t


support_ts = ts  # the name the first tests used


def instant(t: timestamp_pb2.Timestamp) -> datetime:
    return t.ToDatetime(tzinfo=UTC)


def local(moment: datetime, zone: str = VIENNA) -> str:
    """An instant as the local wall time a request or a response carries ("2027-03-28T10:00:00")."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="seconds")


def at_local(wall_time: str, zone: str) -> datetime:
    """The UTC instant of a local wall time in `zone` (as a business would schedule it)."""
    return datetime.fromisoformat(wall_time).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def window(start: datetime, end: datetime, zone: str = VIENNA) -> dict[str, str]:
    """from_local_date / to_local_date / time_zone of a request covering [start, end)."""
    return {"from_local_date": local(start, zone), "to_local_date": local(end, zone), "time_zone": zone}


def wide_window(reference: datetime | None = None) -> dict[str, str]:
    """A range comfortably around every scenario of these tests: 40 days back, 80 ahead."""
    reference = reference or now()
    return window(reference - 40 * DAY, reference + 80 * DAY)


def policy(
    *,
    early: int | None = None,
    late: int | None = None,
    book_after_start: bool = False,
    max_per_booking: int = 0,
) -> policy_pb2.BookingPolicy:
    """A booking policy; `early` / `late` are the limits in minutes (None: that limit is off)."""
    p = policy_pb2.BookingPolicy()
    if early is not None:
        p.limit_early_booking.CopyFrom(policy_pb2.LimitEarlyBookingPolicy(enabled=True, earliest_booking_in_minutes=early))
    if late is not None:
        p.limit_late_booking.CopyFrom(policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=late))
    if book_after_start:
        p.book_after_start_policy.CopyFrom(policy_pb2.BookAfterStartPolicy(enabled=True))
    if max_per_booking:
        p.participants_policy.CopyFrom(policy_pb2.ParticipantsPolicy(max_participants_per_booking=max_per_booking))
    return p


@dataclass
class Offering:
    service: services_pb2.Service
    events: list[events_pb2.Event] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.service.id

    @property
    def schedule_id(self) -> str:
        return self.service.schedule_id

    @property
    def event_ids(self) -> list[str]:
        return [e.id for e in self.events]


def _by_start(events: Sequence[events_pb2.Event]) -> list[events_pb2.Event]:
    return sorted(events, key=lambda e: (e.start.seconds, e.id))


@dataclass
class World:
    """One tenant's catalog, calendar and availability, through real gRPC."""

    tenant: str
    services: services_pb2_grpc.ServicesStub
    events: events_pb2_grpc.EventsStub
    courses: time_slots_pb2_grpc.CourseEventTimeSlotsStub
    classes: time_slots_pb2_grpc.EventTimeSlotsStub
    # bookings.v2.Bookings and the legacy bookings.availability.v1.AvailabilityCalendar.
    bookings: bookings_pb2_grpc.BookingsStub | None = None
    calendar: availability_calendar_pb2_grpc.AvailabilityCalendarStub | None = None

    @classmethod
    def of(cls, channel: Callable[[str], grpc.aio.Channel], tenant: str) -> World:
        return cls(
            tenant,
            services_pb2_grpc.ServicesStub(channel("bookings")),
            events_pb2_grpc.EventsStub(channel("timeframes")),
            time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel("availability")),
            time_slots_pb2_grpc.EventTimeSlotsStub(channel("availability")),
            bookings_pb2_grpc.BookingsStub(channel("bookings")),
            availability_calendar_pb2_grpc.AvailabilityCalendarStub(channel("availability")),
        )

    @property
    def md(self) -> list[tuple[str, str]]:
        return support.auth(self.tenant)

    # --- catalog and calendar ----------------------------------------------------------------

    async def offering(
        self,
        kind: int,
        starts: Sequence[datetime],
        *,
        duration: timedelta = HOUR,
        capacity: int = 12,
        booking_policy: policy_pb2.BookingPolicy | None = None,
        online: bool = True,
        time_zone: str = VIENNA,
        name: str = "Pottery",
        manual_approval: bool = False,
        strict_capacity: bool = False,
    ) -> Offering:
        service = services_pb2.Service(
            type=kind,  # type: ignore[arg-type]
            name=name,
            default_capacity=capacity,
            time_zone=time_zone,
            online_booking_enabled=online,
            booking_policy=booking_policy or policy_pb2.BookingPolicy(),
            requires_manual_approval=manual_approval,
            strict_capacity=strict_capacity,
        )
        if kind == services_pb2.APPOINTMENT:
            service.appointment.duration_minutes = int(duration.total_seconds()) // 60
        created = (await self.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=self.md)).service
        offering = Offering(created)
        if starts:
            new = [events_pb2.Event(schedule_id=created.schedule_id, start=ts(s), end=ts(s + duration)) for s in starts]
            response = await self.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=new), metadata=self.md)
            offering.events = _by_start(response.events)
        return offering

    async def course(self, starts: Sequence[datetime], **kwargs: Any) -> Offering:
        return await self.offering(services_pb2.COURSE, starts, **kwargs)

    async def klass(self, starts: Sequence[datetime], **kwargs: Any) -> Offering:
        return await self.offering(services_pb2.CLASS, starts, **kwargs)

    async def update_service(self, offering: Offering, mask: Sequence[str], **fields: Any) -> Offering:
        """UpdateService with the given fields at the current revision."""
        current = (await self.services.GetService(services_pb2.GetServiceRequest(service_id=offering.id), metadata=self.md)).service
        changed = services_pb2.Service(id=offering.id, revision=current.revision, **fields)
        request = services_pb2.UpdateServiceRequest(service=changed, mask=field_mask_pb2.FieldMask(paths=list(mask)))
        offering.service = (await self.services.UpdateService(request, metadata=self.md)).service
        return offering

    async def add_event(self, offering: Offering, start: datetime, duration: timedelta = HOUR) -> events_pb2.Event:
        event = events_pb2.Event(schedule_id=offering.schedule_id, start=ts(start), end=ts(start + duration))
        created = (await self.events.CreateEvent(events_pb2.CreateEventRequest(event=event), metadata=self.md)).event
        offering.events = _by_start([*offering.events, created])
        return created

    async def _current(self, event: events_pb2.Event) -> events_pb2.Event:
        return (await self.events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=self.md)).event

    async def move(self, event: events_pb2.Event, start: datetime, duration: timedelta = HOUR) -> events_pb2.Event:
        current = await self._current(event)
        changed = events_pb2.Event(id=event.id, revision=current.revision, start=ts(start), end=ts(start + duration))
        request = events_pb2.UpdateEventRequest(event=changed, mask=field_mask_pb2.FieldMask(paths=["start", "end"]))
        return (await self.events.UpdateEvent(request, metadata=self.md)).event

    async def cancel(self, event: events_pb2.Event) -> events_pb2.Event:
        current = await self._current(event)
        request = events_pb2.CancelEventRequest(event_id=event.id, revision=current.revision)
        return (await self.events.CancelEvent(request, metadata=self.md)).event

    async def set_participants(self, event: events_pb2.Event, total: int, version: int | None = None) -> events_pb2.Event:
        """What the participations pipeline does for the participants booked on the event itself,
        through the real internal RPC. Each write gets a fresh, increasing version unless one is
        given (nanoseconds: greater than any the pipeline writes, so the pipeline never replaces it)."""
        await self._settle_totals(events=[events_pb2.ParticipantTotal(id=event.id, participants_total=total, version=version or time.time_ns())])
        return await self._current(event)

    async def set_course_participants(self, offering: Offering, total: int, version: int | None = None) -> None:
        """The same for the participants booked on the whole course (its schedule), which every
        session counts."""
        total_of = events_pb2.ParticipantTotal(id=offering.schedule_id, participants_total=total, version=version or time.time_ns())
        await self._settle_totals(schedules=[total_of])

    async def hold_participants(self, event: events_pb2.Event, total: int) -> events_pb2.Event:
        """Pin an event's participant total with a version no pipeline write can beat: its
        `remaining_capacity` stays as if the participations pipeline had not caught up yet (the
        eventual-consistency window of docs/pipeline.md "Eventual consistency and its bounds",
        held open)."""
        return await self.set_participants(event, total, version=HELD_VERSION)

    async def hold_course_participants(self, offering: Offering, total: int) -> None:
        """The same for a course: its participants stay `total` whatever is booked."""
        await self.set_course_participants(offering, total, version=HELD_VERSION)

    async def _settle_totals(self, **totals: list[events_pb2.ParticipantTotal]) -> None:
        response = await self.events.UpdateParticipantTotals(
            events_pb2.UpdateParticipantTotalsRequest(**totals), metadata=support.auth(self.tenant, "internal")
        )
        outcomes = [r.outcome for r in (*response.events, *response.schedules)]
        assert outcomes == [events_pb2.APPLIED] * len(outcomes), f"participants write refused: {response}"

    # --- bookings (bookings.v2.Bookings) ------------------------------------------------------------

    def _bookings(self) -> bookings_pb2_grpc.BookingsStub:
        assert self.bookings is not None, "World.of(...) sets the bookings stub"
        return self.bookings

    async def book(
        self,
        offering: Offering,
        event: events_pb2.Event | None = None,
        *,
        participants: int = 1,
        name: str = "Ada Lovelace",
        email: str = "ada@example.com",
        idempotency_key: str = "",
    ) -> bookings_pb2.Booking:
        """CreateBooking: the whole course, or `event` of a class."""
        request = bookings_pb2.CreateBookingRequest(booking=booking_of(offering, event, participants, name, email), idempotency_key=idempotency_key)
        return (await self._bookings().CreateBooking(request, metadata=self.md)).booking

    async def get_booking(self, booking_id: str) -> bookings_pb2.Booking:
        return (await self._bookings().GetBooking(bookings_pb2.GetBookingRequest(booking_id=booking_id), metadata=self.md)).booking

    # --- the legacy validation API (AvailabilityCalendar, scope `internal`) ---------------------

    def _calendar(self) -> availability_calendar_pb2_grpc.AvailabilityCalendarStub:
        assert self.calendar is not None, "World.of(...) sets the calendar stub"
        return self.calendar

    async def schedule_availability(self, schedule_id: str, participants: int = 1) -> availability_calendar_pb2.ScheduleAvailability:
        request = availability_calendar_pb2.GetScheduleAvailabilityRequest(schedule_id=schedule_id, number_of_participants=participants)
        return (await self._calendar().GetScheduleAvailability(request, metadata=support.auth(self.tenant, "internal"))).availability

    async def slot_availability(self, event_id: str, participants: int = 1) -> availability_calendar_pb2.SlotAvailability:
        request = availability_calendar_pb2.GetSlotAvailabilityRequest(event_id=event_id, number_of_participants=participants)
        return (await self._calendar().GetSlotAvailability(request, metadata=support.auth(self.tenant, "internal"))).availability

    # --- availability ---------------------------------------------------------------------------

    async def list_courses(self, **fields: Any) -> time_slots_pb2.ListCourseEventTimeSlotsResponse:
        request = time_slots_pb2.ListCourseEventTimeSlotsRequest(**fields)
        return await self.courses.ListCourseEventTimeSlots(request, metadata=self.md)

    async def list_classes(self, **fields: Any) -> time_slots_pb2.ListEventTimeSlotsResponse:
        request = time_slots_pb2.ListEventTimeSlotsRequest(**fields)
        return await self.classes.ListEventTimeSlots(request, metadata=self.md)

    async def get_course(self, **fields: Any) -> time_slots_pb2.GetCourseEventTimeSlotResponse:
        request = time_slots_pb2.GetCourseEventTimeSlotRequest(**fields)
        return await self.courses.GetCourseEventTimeSlot(request, metadata=self.md)

    async def get_class(self, **fields: Any) -> time_slots_pb2.GetEventTimeSlotResponse:
        request = time_slots_pb2.GetEventTimeSlotRequest(**fields)
        return await self.classes.GetEventTimeSlot(request, metadata=self.md)

    async def all_course_pages(self, limit: int, **fields: Any) -> list[time_slots_pb2.ListCourseEventTimeSlotsResponse]:
        """Every page of a ListCourseEventTimeSlots query, following `cursors.next`."""
        pages = []
        cursor = ""
        while True:
            page = await self.list_courses(cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor), **fields)
            pages.append(page)
            if not page.paging_metadata.has_next:
                return pages
            cursor = page.paging_metadata.cursors.next
            assert cursor, "has_next without a next cursor"
            assert len(pages) < 1000, "paging does not end"


async def _redis(platform: Platform) -> redis.Redis:
    return redis.Redis.from_url(platform.infra.env()["REDIS_URL"])


async def cached_events(platform: Platform, tenant: str) -> list[tuple[str, tuple[bytes, bytes]]]:
    """The tenant's cached schedule events in Redis, as (kind, (key, value)), sorted: the key names
    the generation they were written under (adapters/cache.py)."""
    client = await _redis(platform)
    try:
        found = []
        async for key in client.scan_iter(match=f"av:v1:{tenant}:*"):
            kind = key.decode().split(":")[4] if key.count(b":") >= 5 else ""
            if kind in ("course_events", "class_events"):
                found.append((kind, (key, await client.get(key))))
        return sorted(found)
    finally:
        await client.aclose()


async def cache_invalidations_handled(platform: Platform, tenant: str, *, services: int, events: int) -> None:
    """Wait until availability's invalidation consumer handled the tenant's first `services`
    catalog messages and `events` calendar messages: after this, the tenant's cache generation
    moves only for later changes (a listing cached before a late creation message is dropped by it,
    rightly)."""
    bootstrap = platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]
    announced = []
    for topic, count in ((topics.SERVICE_EVENTS, services), (topics.EVENT_EVENTS, events)):
        async with TopicReader(bootstrap, topic.name, of_tenant(tenant)) as reader:
            announced += (await reader.until(lambda found, count=count: len(found) >= count, within=PROPAGATION_SECONDS))[:count]
    await committed_past(bootstrap, INVALIDATION_GROUP, announced, within=CACHE_LIVE_SECONDS)


async def set_toggle(platform: Platform, toggle: str, rule: ToggleRule, wait: bool = True) -> None:
    client = await _redis(platform)
    try:
        await set_rule(client, toggle, rule)
    finally:
        await client.aclose()
    if wait:
        await asyncio.sleep(TOGGLE_PROPAGATION_SECONDS)


async def toggle_rules(platform: Platform) -> dict[str, ToggleRule]:
    client = await _redis(platform)
    try:
        return await get_rules(client)
    finally:
        await client.aclose()


async def enable_course_availability_for_everyone(platform: Platform) -> None:
    """Turn `course_availability_enabled` on at 100 %, waiting for the service to see it only
    when the rule actually changes (so each test module does not pay the propagation delay)."""
    if (await toggle_rules(platform)).get(COURSE_AVAILABILITY_ENABLED) == EVERYONE:
        return
    await set_toggle(platform, COURSE_AVAILABILITY_ENABLED, EVERYONE)


def error_of(exc: BaseException) -> grpc.aio.AioRpcError:
    assert isinstance(exc, grpc.aio.AioRpcError)
    return exc


# --- bookings and the AvailabilityCalendar proxy toggle ------------------------------------------------

# Greater than any version the participations pipeline writes (microseconds) or `set_participants`
# draws (nanoseconds): a total written with it is never replaced.
HELD_VERSION = 2**62


def booking_of(
    offering: Offering,
    event: events_pb2.Event | None = None,
    participants: int = 1,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
) -> bookings_pb2.Booking:
    """A CreateBooking booking: the course's schedule, or `event` of a class."""
    booking = bookings_pb2.Booking(service_id=offering.id, number_of_participants=participants, contact=bookings_pb2.ContactDetails(name=name, email=email))
    if event is None:
        booking.booked_entity.schedule.schedule_id = offering.schedule_id
    else:
        booking.booked_entity.slot.event_id = event.id
    return booking


async def set_proxy(platform: Platform, tenant: str, on: bool) -> None:
    """Turn `proxy_course_to_new_endpoint` on or off for one tenant (its allow or deny list),
    leaving every other tenant's state alone; waits for the service to see it only when the
    tenant's state actually changes."""
    rule = (await toggle_rules(platform)).get(PROXY_COURSE_TO_NEW_ENDPOINT) or ToggleRule()
    if rule.enabled_for(PROXY_COURSE_TO_NEW_ENDPOINT, tenant) == on:
        return
    allow, deny = set(rule.allow) - {tenant}, set(rule.deny) - {tenant}
    (allow if on else deny).add(tenant)
    await set_toggle(platform, PROXY_COURSE_TO_NEW_ENDPOINT, ToggleRule(rule.percentage, frozenset(allow), frozenset(deny)))


async def forget_proxy(platform: Platform, tenant: str) -> None:
    """Take a tenant off both lists of `proxy_course_to_new_endpoint` again (a test's clean-up:
    the lists do not grow with every test). Does not wait: the tenant is not used any more."""
    rule = (await toggle_rules(platform)).get(PROXY_COURSE_TO_NEW_ENDPOINT)
    if rule is None or tenant not in rule.allow | rule.deny:
        return
    await set_toggle(platform, PROXY_COURSE_TO_NEW_ENDPOINT, ToggleRule(rule.percentage, rule.allow - {tenant}, rule.deny - {tenant}), wait=False)
