"""Helpers of the availability integration tests (no tests here): build courses and classes
through the public catalog and calendar APIs, switch feature toggles in Redis, and call the
availability endpoints."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import redis.asyncio as redis

from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.availability.adapters.toggles import COURSE_AVAILABILITY_ENABLED, ToggleRule, get_rules, set_rule
from services.devstack.stack import Platform
from tests import support

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Feature toggles are re-read every 0.5 s by default; wait a little longer after a change.
TOGGLE_PROPAGATION_SECONDS = 1.2


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def policy(
    *,
    early: int | None = None,
    late: int | None = None,
    book_after_start: bool = False,
    max_per_booking: int = 0,
) -> policy_pb2.BookingPolicy:
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


@dataclass
class World:
    """One tenant's catalog, calendar and availability, through real gRPC."""

    tenant: str
    services: services_pb2_grpc.ServicesStub
    events: events_pb2_grpc.EventsStub
    courses: time_slots_pb2_grpc.CourseEventTimeSlotsStub
    classes: time_slots_pb2_grpc.EventTimeSlotsStub

    @classmethod
    def of(cls, channel, tenant: str) -> World:  # type: ignore[no-untyped-def]
        return cls(
            tenant,
            services_pb2_grpc.ServicesStub(channel("bookings")),
            events_pb2_grpc.EventsStub(channel("timeframes")),
            time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel("availability")),
            time_slots_pb2_grpc.EventTimeSlotsStub(channel("availability")),
        )

    @property
    def md(self) -> list[tuple[str, str]]:
        return support.auth(self.tenant)

    async def offering(
        self,
        kind: int,
        starts: list[datetime],
        *,
        duration: timedelta = HOUR,
        capacity: int = 12,
        booking_policy: policy_pb2.BookingPolicy | None = None,
        online: bool = True,
        time_zone: str = "Europe/Vienna",
        name: str = "Pottery",
    ) -> Offering:
        service = services_pb2.Service(
            type=kind,
            name=name,
            default_capacity=capacity,
            time_zone=time_zone,
            online_booking_enabled=online,
            booking_policy=booking_policy or policy_pb2.BookingPolicy(),
        )
        created = (await self.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=self.md)).service
        offering = Offering(created)
        if starts:
            new = [events_pb2.Event(schedule_id=created.schedule_id, start=support_ts(s), end=support_ts(s + duration)) for s in starts]
            response = await self.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=new), metadata=self.md)
            offering.events = sorted(response.events, key=lambda e: (e.start.ToDatetime(), e.id))
        return offering

    async def course(self, starts: list[datetime], **kwargs: object) -> Offering:
        return await self.offering(services_pb2.COURSE, starts, **kwargs)  # type: ignore[arg-type]

    async def klass(self, starts: list[datetime], **kwargs: object) -> Offering:
        return await self.offering(services_pb2.CLASS, starts, **kwargs)  # type: ignore[arg-type]

    async def set_participants(self, event: events_pb2.Event, total: int, version: int = 1) -> events_pb2.Event:
        """What the participations pipeline does, through the real internal RPC."""
        request = events_pb2.UpdateEventParticipantsRequest(event_id=event.id, participants_total=total, version=version)
        response = await self.events.UpdateEventParticipants(request, metadata=support.auth(self.tenant, "internal"))
        return response.event

    async def list_courses(self, **fields: object) -> time_slots_pb2.ListCourseEventTimeSlotsResponse:
        request = time_slots_pb2.ListCourseEventTimeSlotsRequest(**fields)  # type: ignore[arg-type]
        return await self.courses.ListCourseEventTimeSlots(request, metadata=self.md)

    async def list_classes(self, **fields: object) -> time_slots_pb2.ListEventTimeSlotsResponse:
        request = time_slots_pb2.ListEventTimeSlotsRequest(**fields)  # type: ignore[arg-type]
        return await self.classes.ListEventTimeSlots(request, metadata=self.md)


def support_ts(instant: datetime):  # type: ignore[no-untyped-def]
    from google.protobuf import timestamp_pb2

    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(instant)
    return ts


def local(instant: datetime, zone: str = "Europe/Vienna") -> str:
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="seconds")


async def set_toggle(platform: Platform, toggle: str, rule: ToggleRule, wait: bool = True) -> None:
    client = redis.Redis.from_url(platform.infra.env()["REDIS_URL"])
    try:
        await set_rule(client, toggle, rule)
    finally:
        await client.aclose()
    if wait:
        await asyncio.sleep(TOGGLE_PROPAGATION_SECONDS)


async def toggle_rules(platform: Platform) -> dict[str, ToggleRule]:
    client = redis.Redis.from_url(platform.infra.env()["REDIS_URL"])
    try:
        return await get_rules(client)
    finally:
        await client.aclose()


async def enable_course_availability_for_everyone(platform: Platform) -> None:
    await set_toggle(platform, COURSE_AVAILABILITY_ENABLED, ToggleRule(percentage=100))


def error_of(exc: BaseException) -> grpc.aio.AioRpcError:
    assert isinstance(exc, grpc.aio.AioRpcError)
    return exc
