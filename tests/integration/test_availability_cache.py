"""Availability's cache on a real Redis: the counts change messages announce are kept by version
beside the cached events (adapters/cache.py), and invalidation by generation still never lets a
request that read before an invalidation write what later requests see; the staff members and
their working hours of appointment services (adapters/appointments.py), read with the service in
one round trip, by schedule and bucket of time, while the occupied time is read every time."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2
from services.availability.adapters.appointments import BUCKET, AppointmentReader
from services.availability.adapters.cache import Announcement, Cache, Kind, Part, Snapshot
from services.availability.adapters.inputs import DependencyReader
from services.availability.domain.model import Interval, ParticipantCount
from services.availability.domain.participants import AnnouncedParticipants
from services.devstack.stack import Platform

SCHEDULE, OTHER_SCHEDULE = "schedule-1", "schedule-2"
EVENT = "event-1"
SERVICES = Kind("service", services_pb2.Service.FromString)
TTL = 30.0
KEEP = TTL + 60  # what the cache keeps an announced count for


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(platform.infra.env()["REDIS_URL"])
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(client: redis.Redis, clock: Clock) -> Cache:
    cache = Cache(client, TTL, clock=clock)
    cache.go_live()
    return cache


def schedule_count(tenant: str, total: int, version: int, schedule_id: str = SCHEDULE) -> Announcement:
    return Announcement(tenant, schedule_id, Part.SCHEDULE, "", ParticipantCount(total, version))


def event_count(tenant: str, total: int, version: int, event_id: str = EVENT) -> Announcement:
    return Announcement(tenant, SCHEDULE, Part.EVENT, event_id, ParticipantCount(total, version))


async def announced(cache: Cache, tenant: str, schedule_id: str = SCHEDULE) -> AnnouncedParticipants:
    return (await cache.read(tenant, {}, announced_for=[schedule_id])).announced_for(schedule_id)


async def test_each_count_keeps_its_greatest_version_whatever_order_messages_arrive_in(cache: Cache, tenant: str) -> None:
    await cache.record([schedule_count(tenant, 5, 7), event_count(tenant, 2, 3)])
    await cache.record([schedule_count(tenant, 4, 6), event_count(tenant, 9, 3)])  # late, and a redelivery's twin
    await cache.record([schedule_count(tenant, 5, 7)])  # redelivered
    assert await announced(cache, tenant) == AnnouncedParticipants(ParticipantCount(5, 7), {EVENT: ParticipantCount(2, 3)}, {})

    await cache.record([schedule_count(tenant, 6, 8), Announcement(tenant, SCHEDULE, Part.LEGACY, EVENT, ParticipantCount(1, 1))])
    assert await announced(cache, tenant) == AnnouncedParticipants(ParticipantCount(6, 8), {EVENT: ParticipantCount(2, 3)}, {EVENT: ParticipantCount(1, 1)})


async def test_versions_are_compared_exactly_beyond_a_double(cache: Cache, tenant: str) -> None:
    """Redis scripts compute in doubles: 2^60 and 2^60 + 1 are one number there."""
    await cache.record([schedule_count(tenant, 1, 2**60 + 1)])
    await cache.record([schedule_count(tenant, 2, 2**60)])
    await cache.record([schedule_count(tenant, 3, 999)])
    assert (await announced(cache, tenant)).schedule == ParticipantCount(1, 2**60 + 1)


async def test_counts_are_kept_per_tenant_and_schedule(cache: Cache, tenant: str, other_tenant: str) -> None:
    await cache.record([schedule_count(tenant, 5, 1), schedule_count(tenant, 8, 1, OTHER_SCHEDULE), schedule_count(other_tenant, 9, 2)])
    assert (await announced(cache, tenant)).schedule == ParticipantCount(5, 1)
    assert (await announced(cache, tenant, OTHER_SCHEDULE)).schedule == ParticipantCount(8, 1)
    assert (await announced(cache, other_tenant)).schedule == ParticipantCount(9, 2)
    assert await announced(cache, tenant, "never-announced") == AnnouncedParticipants()


async def test_invalidating_the_tenant_keeps_its_counts(cache: Cache, tenant: str) -> None:
    """Counts are ordered by version, not by generation: entries read again after an invalidation
    are still compared with them."""
    await cache.record([schedule_count(tenant, 5, 1)])
    await cache.invalidate([tenant])
    assert (await announced(cache, tenant)).schedule == ParticipantCount(5, 1)


async def test_a_schedules_counts_expire_after_the_last_one_was_recorded(cache: Cache, client: redis.Redis, tenant: str) -> None:
    await cache.record([schedule_count(tenant, 5, 1)])
    ttl_ms = await client.pttl(f"av:v1:{tenant}:announced:{SCHEDULE}")
    assert KEEP * 1000 - 5_000 < ttl_ms <= KEEP * 1000


async def test_a_crowded_schedule_drops_the_counts_kept_long_enough(cache: Cache, clock: Clock, tenant: str) -> None:
    """A class schedule booked without pause would otherwise keep a count for every event ever
    booked; those older than an entry can live (ttl plus a request's deadline) are dropped."""
    await cache.record([event_count(tenant, 1, 1, f"old-{i}") for i in range(60)])
    clock.now += KEEP - 1
    await cache.record([event_count(tenant, 1, 1, f"recent-{i}") for i in range(10)])  # 70 counts, none old enough
    assert len((await announced(cache, tenant)).events) == 70
    clock.now += 2
    await cache.record([event_count(tenant, 1, 1, "latest")])
    assert sorted((await announced(cache, tenant)).events) == sorted(["latest", *(f"recent-{i}" for i in range(10))])


async def test_a_request_that_read_before_an_invalidation_writes_where_nobody_reads(cache: Cache, tenant: str) -> None:
    before = await cache.read(tenant, {SERVICES: ["s1"]})
    await cache.invalidate([tenant])
    await cache.write(tenant, before, SERVICES, {"s1": services_pb2.Service(id="s1", name="stale")})
    assert (await cache.read(tenant, {SERVICES: ["s1"]})).of(SERVICES) == {}

    fresh = await cache.read(tenant, {SERVICES: ["s1"]})
    await cache.write(tenant, fresh, SERVICES, {"s1": services_pb2.Service(id="s1", name="fresh")})
    assert (await cache.read(tenant, {SERVICES: ["s1"]})).of(SERVICES)["s1"].name == "fresh"


# --- appointments: the staff members and their working hours (adapters/appointments.py) -----------

VIENNA = "Europe/Vienna"
SERVICE_ID, ANNA, BEN = "5e5e5e5e-0000-4000-8000-000000000001", "0a0a0a0a-0000-4000-8000-000000000001", "0b0a0a0a-0000-4000-8000-000000000001"
JUNE_15 = datetime(2026, 6, 15, tzinfo=UTC)


def window(days_from_june_15: int, days: int = 37) -> Interval:
    start = JUNE_15 + timedelta(days=days_from_june_15)
    return Interval(start, start + timedelta(days=days))


class CountingCache(Cache):
    """The cache, counting its read round trips."""

    round_trips = 0

    async def read(self, tenant_id: str, wanted: Mapping[Kind, Sequence[str]], announced_for: Sequence[str] = ()) -> Snapshot:
        self.round_trips += 1
        return await super().read(tenant_id, wanted, announced_for)


@dataclass
class Dependencies:
    """What bookings and timeframes answer (adapters/dependencies.py `Dependencies`,
    adapters/staff_calendars.py `StaffDependencies`): one APPOINTMENT service offered by Anna and
    Ben, who work 09:00-17:00 every day; every call counted, each ListWorkingHours' span kept."""

    calls: Counter[str] = field(default_factory=Counter)
    hours_read: list[tuple[datetime, datetime]] = field(default_factory=list)
    policies_from_catalog: bool = True

    async def services(self, service_ids: Sequence[str], types: Sequence[object]) -> list[services_pb2.Service]:
        self.calls["services"] += 1
        settings = services_pb2.AppointmentSettings(duration_minutes=30)
        return [services_pb2.Service(id=SERVICE_ID, type=services_pb2.APPOINTMENT, time_zone=VIENNA, appointment=settings, staff_member_ids=[ANNA, BEN])]

    async def staff_members(self, staff_member_ids: Sequence[str]) -> list[staff_members_pb2.StaffMember]:
        self.calls["staff"] += 1
        return [staff_members_pb2.StaffMember(id=s, time_zone=VIENNA, schedule_id=f"schedule-of-{s}", service_ids=[SERVICE_ID]) for s in staff_member_ids]

    async def working_hours(self, schedule_ids: Sequence[str], start: datetime, end: datetime) -> list[working_hours_pb2.ScheduleWorkingHours]:
        self.calls["hours"] += 1
        self.hours_read.append((start, end))
        rules = [working_hours_pb2.WeeklyRule(day_of_week=d, start_time="09:00", end_time="17:00") for d in range(1, 8)]
        return [working_hours_pb2.ScheduleWorkingHours(schedule_id=s, time_zone=VIENNA, rules=rules) for s in schedule_ids]

    async def occupied_time(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> list[staff_members_pb2.OccupiedTime]:
        self.calls["occupied"] += 1
        return []


@pytest.fixture
def deps() -> Dependencies:
    return Dependencies()


@pytest.fixture
def counting(client: redis.Redis) -> CountingCache:
    cache = CountingCache(client, TTL)
    cache.go_live()
    return cache


@pytest.fixture
def reader(deps: Dependencies, counting: CountingCache) -> AppointmentReader:
    return AppointmentReader(DependencyReader(deps, counting), DependencyReader(deps), deps, counting)  # type: ignore[arg-type]


async def request(reader: AppointmentReader, tenant: str, window: Interval, *, fresh_service: bool = False) -> list[str]:
    """What a listing reads: the service, its staff, their hours and their appointments; the staff
    member ids of the calendars."""
    reading = await reader.reading(tenant, SERVICE_ID, fresh_service=fresh_service)
    assert reading.offering is not None
    staff = await reading.staff_members(reading.offering.staff_member_ids)
    calendars = await reading.working_hours(staff, window)
    await reading.occupied_time(staff, window)
    assert all(c.rules and c.time_zone == VIENNA for c in calendars)
    return [c.staff_member_id for c in calendars]


async def test_the_staff_and_their_hours_come_with_the_service_in_one_round_trip_and_appointments_every_time(
    reader: AppointmentReader, deps: Dependencies, counting: CountingCache, tenant: str
) -> None:
    assert await request(reader, tenant, window(0)) == [ANNA, BEN]
    assert deps.calls == Counter(services=1, staff=1, hours=2, occupied=1)  # two buckets: two ListWorkingHours
    deps.calls.clear()
    counting.round_trips = 0
    for days_later in range(3):  # the same buckets, whatever day the window starts on
        assert await request(reader, tenant, window(days_later)) == [ANNA, BEN]
    assert (deps.calls, counting.round_trips) == (Counter(occupied=3), 3)


async def test_working_hours_are_kept_by_schedule_and_bucket_so_a_later_window_reads_only_what_it_adds(
    reader: AppointmentReader, deps: Dependencies, counting: CountingCache, tenant: str
) -> None:
    await request(reader, tenant, window(0))
    first = set(deps.hours_read)
    deps.calls.clear()
    counting.round_trips = 0
    await request(reader, tenant, window(20))  # three weeks later: one bucket shared, one new
    assert (deps.calls, counting.round_trips) == (Counter(hours=1, occupied=1), 2)
    (added,) = set(deps.hours_read) - first
    assert added[1] - added[0] == BUCKET


async def test_an_invalidated_tenant_reads_its_staff_and_hours_again(
    reader: AppointmentReader, deps: Dependencies, counting: CountingCache, tenant: str, other_tenant: str
) -> None:
    await request(reader, tenant, window(0))
    await request(reader, other_tenant, window(0))
    deps.calls.clear()
    await counting.invalidate([tenant])  # a staff member or their hours changed
    await request(reader, tenant, window(0))
    await request(reader, other_tenant, window(0))
    assert deps.calls == Counter(services=1, staff=1, hours=2, occupied=2)


async def test_validation_reads_the_service_fresh_and_the_staff_and_hours_from_the_cache(
    reader: AppointmentReader, deps: Dependencies, counting: CountingCache, tenant: str
) -> None:
    await request(reader, tenant, window(0))
    deps.calls.clear()
    counting.round_trips = 0
    await request(reader, tenant, window(0, 7), fresh_service=True)
    assert (deps.calls, counting.round_trips) == (Counter(services=1, occupied=1), 1)
