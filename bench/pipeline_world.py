"""What the pipeline benchmark books, and how it asks: one tenant, its services and their sessions
(each phase has its own, so the counts of one never mix with another's), the booking messages,
and the reads from outside (availability's time slots, timeframes' events, bookings' queries)."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import redis.asyncio as aioredis

from bench.stack import ZONE, local_date, timestamp
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.adapters.toggles import get_rules, set_rule
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT, ToggleRule
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE, mint_token
from services.devstack.stack import Platform

COURSE_SESSIONS = 30
DAYS = 31
SLOTS_PER_PAGE = 1000  # the most one ListCourseEventTimeSlots / ListEventTimeSlots answer carries (cursor_paging.limit)
MAX_WINDOW_DAYS = 365  # the longest window availability answers for
STRICT_CAPACITY = "strict_capacity"


def strict_capacity_available() -> bool:
    """Whether this build's Service message has the strict capacity flag."""
    return STRICT_CAPACITY in services_pb2.Service.DESCRIPTOR.fields_by_name


@dataclass(frozen=True)
class Tenant:
    id: str
    metadata: list[tuple[str, str]]
    toggles: dict[str, str]


@dataclass(frozen=True)
class Offering:
    """A COURSE (booked whole) or a CLASS (booked per session), with its sessions and the local
    window that shows all of them."""

    kind: str  # course | class
    name: str
    service_id: str
    schedule_id: str
    event_ids: list[str]
    capacity: int
    window: dict[str, str] = field(default_factory=dict)
    strict: bool = False

    def booking(self, n: int, event_id: str = "") -> bookings_pb2.Booking:
        """Booking number n of one participant: the whole course, or one class session (`event_id`)."""
        booking = bookings_pb2.Booking(
            service_id=self.service_id, number_of_participants=1, contact=bookings_pb2.ContactDetails(name=f"Bench {n}", email=f"bench{n}@example.com")
        )
        if self.kind == "course":
            booking.booked_entity.schedule.schedule_id = self.schedule_id
        else:
            booking.booked_entity.slot.event_id = event_id or self.event_ids[n % len(self.event_ids)]
        return booking


async def open_tenant(stack: Platform, legacy_validation: bool) -> Tenant:
    """A fresh tenant with a user token, `course_availability_enabled` on for it and
    `proxy_course_to_new_endpoint` on unless `legacy_validation` (allow/deny lists in Redis)."""
    tenant = f"bench-{uuid.uuid4().hex[:12]}"
    scopes = [s for s in ALL_SCOPES if s != INTERNAL_SCOPE]
    md = [("authorization", f"Bearer {mint_token(stack.jwt_secret, tenant_id=tenant, scopes=scopes, ttl_seconds=24 * 3600, subject='bench')}")]
    client = aioredis.Redis.from_url(stack.infra.env()["REDIS_URL"])
    try:
        rules = await get_rules(client)
        for name in (COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT):
            rule = rules.get(name) or ToggleRule()
            on = name == COURSE_AVAILABILITY_ENABLED or not legacy_validation
            allow, deny = set(rule.allow) - {tenant}, set(rule.deny) - {tenant}
            (allow if on else deny).add(tenant)
            await set_rule(client, name, ToggleRule(rule.percentage, frozenset(allow), frozenset(deny)))
    finally:
        await client.aclose()
    toggles = {COURSE_AVAILABILITY_ENABLED: "on (allow list)", PROXY_COURSE_TO_NEW_ENDPOINT: "off" if legacy_validation else "on (allow list)"}
    return Tenant(tenant, md, toggles)


class Catalog:
    """Creates the tenant's services and their sessions (bookings' CreateService, timeframes'
    BulkCreateEvents), from tomorrow on."""

    def __init__(self, stack: Platform, tenant: Tenant):
        self._stack = stack
        self._tenant = tenant

    async def offering(self, kind: str, name: str, *, sessions: int, capacity: int, days_apart: float = 1.0, strict: bool = False) -> Offering:
        """`sessions` sessions of 2 hours, `days_apart` days from one to the next (a class's start
        3 h later in the day than a course's, so they never share a start)."""
        md = self._tenant.metadata
        now = datetime.now(UTC).replace(microsecond=0)
        first = (now + timedelta(days=1)).replace(minute=0, second=0) + timedelta(hours=0 if kind == "course" else 3)
        starts = [first + timedelta(days=i * days_apart) for i in range(sessions)]
        last = starts[-1] + timedelta(days=1)
        if (last - now).days > MAX_WINDOW_DAYS:
            raise ValueError(f"{sessions} sessions {days_apart} days apart do not fit a {MAX_WINDOW_DAYS}-day window")
        service = services_pb2.Service(
            type=services_pb2.COURSE if kind == "course" else services_pb2.CLASS,
            name=name,
            default_capacity=capacity,
            time_zone=ZONE,
            online_booking_enabled=True,
        )
        if strict:
            setattr(service, STRICT_CAPACITY, True)  # only asked for when this build has the field
        async with grpc.aio.insecure_channel(self._stack.address("bookings")) as b, grpc.aio.insecure_channel(self._stack.address("timeframes")) as t:
            created = (await services_pb2_grpc.ServicesStub(b).CreateService(services_pb2.CreateServiceRequest(service=service), metadata=md)).service
            events = [events_pb2.Event(schedule_id=created.schedule_id, start=timestamp(s), end=timestamp(s + timedelta(hours=2))) for s in starts]
            response = await events_pb2_grpc.EventsStub(t).BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=events), metadata=md, timeout=30)
        event_ids = [e.id for e in sorted(response.events, key=lambda e: (e.start.seconds, e.id))]
        window = {"from_local_date": local_date(now), "to_local_date": local_date(last), "time_zone": ZONE}
        return Offering(kind, name, created.id, created.schedule_id, event_ids, capacity, window, strict)


# --- reads from outside ----------------------------------------------------------------------------------


SlotsCall = Callable[[], Awaitable[Any]]


def slots_call(channel: grpc.aio.Channel, tenant: Tenant, offering: Offering, timeout: float = 5.0) -> SlotsCall:
    """ListCourseEventTimeSlots (a course) or ListEventTimeSlots (a class) of one offering over its
    window, every session in one answer."""
    paging = paging_pb2.CursorPaging(limit=SLOTS_PER_PAGE)
    if offering.kind == "course":
        stub = time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel)
        request = time_slots_pb2.ListCourseEventTimeSlotsRequest(service_ids=[offering.service_id], cursor_paging=paging, **offering.window)
        return lambda: stub.ListCourseEventTimeSlots(request, metadata=tenant.metadata, timeout=timeout)
    cstub = time_slots_pb2_grpc.EventTimeSlotsStub(channel)
    crequest = time_slots_pb2.ListEventTimeSlotsRequest(service_ids=[offering.service_id], cursor_paging=paging, **offering.window)
    return lambda: cstub.ListEventTimeSlots(crequest, metadata=tenant.metadata, timeout=timeout)


def booked_counts(response: Any) -> dict[str, int]:
    """Per session of a time-slots answer: its booked count, total - remaining capacity."""
    return {slot.event_id: slot.total_capacity - slot.remaining_capacity for slot in response.time_slots}


def shows(counts: dict[str, int], event_ids: list[str], booked: int) -> bool:
    """Every one of `event_ids` shows at least `booked` bookings."""
    return all(counts.get(e, -1) >= booked for e in event_ids)


async def until_listed(call: SlotsCall, offering: Offering, timeout: float = 30.0) -> Any:
    """Call until availability lists every session of the offering in one answer (a new service
    reaches availability's cache through Kafka; the tenant's toggles are re-read every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = await call()
            listed = {slot.event_id for slot in response.time_slots}
            if listed >= set(offering.event_ids) and not response.paging_metadata.has_next:
                return response
            problem = f"{len(listed)} of {len(offering.event_ids)} sessions listed" + (", more pages" if response.paging_metadata.has_next else "")
        except grpc.aio.AioRpcError as exc:
            problem = f"{exc.code().name}: {exc.details()}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"availability does not list {offering.name}: {problem}")
        await asyncio.sleep(0.2)


async def stored_bookings(channel: grpc.aio.Channel, tenant: Tenant, service_ids: list[str]) -> list[bookings_pb2.Booking]:
    """Every booking of the services, as bookings stored it (QueryBookings, page by page)."""
    stub = bookings_pb2_grpc.BookingsStub(channel)
    out: list[bookings_pb2.Booking] = []
    cursor = ""
    while True:
        request = bookings_pb2.QueryBookingsRequest(service_ids=service_ids, cursor_paging=paging_pb2.CursorPaging(limit=1000, cursor=cursor))
        response = await stub.QueryBookings(request, metadata=tenant.metadata, timeout=30)
        out.extend(response.bookings)
        if not (response.paging_metadata.has_next and response.paging_metadata.cursors.next):
            return out
        cursor = response.paging_metadata.cursors.next


def created_at(booking: bookings_pb2.Booking) -> float:
    """A booking's `created_date`, epoch seconds (its inserting transaction's start)."""
    return booking.created_date.seconds + booking.created_date.nanos / 1e9 if booking.HasField("created_date") else math.nan


async def pipeline_check(stack: Platform, tenant: Tenant, catalog: Catalog, timeout: float = 60.0) -> float:
    """One booking of a class of its own must reach timeframes (GetEvent's participants_total):
    every consumer has its partitions and every hop works before anything is measured. Returns
    how long it took, s."""
    klass = await catalog.offering("class", "Bench warm-up", sessions=1, capacity=10)
    async with grpc.aio.insecure_channel(stack.address("bookings")) as b, grpc.aio.insecure_channel(stack.address("timeframes")) as t:
        events = events_pb2_grpc.EventsStub(t)
        began = time.monotonic()
        await bookings_pb2_grpc.BookingsStub(b).CreateBooking(bookings_pb2.CreateBookingRequest(booking=klass.booking(0)), metadata=tenant.metadata, timeout=10)
        while True:
            event = (await events.GetEvent(events_pb2.GetEventRequest(event_id=klass.event_ids[0]), metadata=tenant.metadata, timeout=5)).event
            if event.participants_total == 1:
                return time.monotonic() - began
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"the pipeline check booking did not reach timeframes in {timeout:.0f} s")
            await asyncio.sleep(0.05)
