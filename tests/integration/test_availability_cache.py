"""Availability's cache on a real Redis: the counts change messages announce are kept by version
beside the cached events (adapters/cache.py), and invalidation by generation still never lets a
request that read before an invalidation write what later requests see."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from services.api.bookings.catalog.v1 import services_pb2
from services.availability.adapters.cache import Announcement, Cache, Kind, Part
from services.availability.domain.model import ParticipantCount
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
