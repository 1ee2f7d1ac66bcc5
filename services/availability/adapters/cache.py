"""Redis cache: services, booking policies, schedule time frames, each course schedule's events and
each class schedule's events of a requested range; and beside those events the participant counts
announced since they were read (domain/participants.py). For appointments, the staff members and
their schedules' working hours (their kinds and keys in adapters/appointments.py).

Staleness bound: an entry is dropped as soon as availability consumes the Kafka event of its
change (`catalog.service-events.v1`, `calendar.event-events.v1`, `bookings.staff-events.v1`,
`calendar.working-hours-events.v1`; typically tens of milliseconds after the commit) and lives at
most `ttl` seconds (default 30) even if an event were lost.
Capacity changes with every booking, so it is not dropped with the events but kept apart: each
`participants_updated` message's counts are recorded with their versions in one hash per
schedule, and a request shows each session with the newer of the count it was read with and the
one announced. A cached schedule's capacity is so never staler than the messages that announce it
(the same stream that announces every capacity change), and a listing under a stream of bookings
still reads its events from the cache.

Invalidation is by generation: every entry key carries the tenant's generation number, and an
invalidation increments it. A request that read old data from a dependency while the invalidation
happened writes under the old generation, which nobody reads any more — the usual
fill-after-invalidate race cannot resurrect stale data. Announced counts need no generation: the
version orders them against what a request read, whichever came first. A schedule's hash expires
`ttl + 60` seconds after its last count was recorded, and a crowded one drops its counts older than
that, so it outlives every entry that could still need one of its counts (an entry is written
within a request's deadline of being read, and lives `ttl`).

A request reads the generation, all the entries and the announced counts it needs in one round
trip (a Lua script; the keys it builds share the tenant's prefix, which is fine on a single Redis or
a primary with replicas; with Redis Cluster a `{tenant}` hash tag would be needed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis.asyncio as redis
import structlog
from google.protobuf.message import Message
from opentelemetry import metrics

from services.availability.domain.model import ParticipantCount
from services.availability.domain.participants import NOTHING_ANNOUNCED, AnnouncedParticipants

_PREFIX = "av:v1"
log = structlog.get_logger("cache")

# KEYS[1] = the tenant's generation, KEYS[2..] = schedules' announced counts; ARGV[1] = tenant
# prefix, ARGV[2..] = entry suffixes "kind:id".
_READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
local keys, announced = {}, {}
for i = 2, #ARGV do keys[#keys + 1] = ARGV[1] .. generation .. ':' .. ARGV[i] end
for i = 2, #KEYS do announced[#announced + 1] = redis.call('HGETALL', KEYS[i]) end
if #keys == 0 then return {generation, {}, announced} end
return {generation, redis.call('MGET', unpack(keys)), announced}
"""
# KEYS = schedules' announced counts; ARGV[1] = now (ms), ARGV[2] = how long a count is kept (ms),
# then per count: key index, field, version, total. A count replaces only an older version of
# itself (versions compared as decimal strings: exact beyond Lua's 2^53). Stored "version total
# recorded-at".
_RECORD = """
local now, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local function newer(a, b) return #a > #b or (#a == #b and a > b) end
for i = 3, #ARGV, 4 do
  local key = KEYS[tonumber(ARGV[i])]
  local stored = redis.call('HGET', key, ARGV[i + 1])
  if not stored or newer(ARGV[i + 2], string.match(stored, '^%d+')) then
    redis.call('HSET', key, ARGV[i + 1], ARGV[i + 2] .. ' ' .. ARGV[i + 3] .. ' ' .. ARGV[1])
  end
end
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, keep)
  if redis.call('HLEN', key) > 64 then
    local all = redis.call('HGETALL', key)
    for j = 1, #all, 2 do
      if now - tonumber(string.match(all[j + 1], '%d+$')) > keep then redis.call('HDEL', key, all[j]) end
    end
  end
end
return 0
"""
_REQUEST_MARGIN_SECONDS = 60  # far longer than any request's deadline


@dataclass(frozen=True)
class Kind:
    """One kind of entry (services, policies...) and how to decode it."""

    name: str
    parse: Callable[[bytes], Any]


class Part(StrEnum):
    """Which count of a schedule's events a `participants_updated` message announced (the field
    prefix in the schedule's hash)."""

    SCHEDULE = "s"  # booked on the whole schedule (a course): every event of it counts them
    EVENT = "e"  # booked on one event
    LEGACY = "l"  # one event's single legacy total


@dataclass(frozen=True)
class Announcement:
    """A participant count announced by a change message, at the version it was settled with."""

    tenant_id: str
    schedule_id: str
    part: Part
    event_id: str  # "" for Part.SCHEDULE
    count: ParticipantCount


@dataclass
class Snapshot:
    """What one request found in the cache: the tenant generation it read, entries by kind, and the
    counts announced for the schedules it asked about. `generation` None means the cache was not
    used (off, not live yet, or Redis away)."""

    generation: int | None
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    announced: dict[str, AnnouncedParticipants] = field(default_factory=dict)

    def of(self, kind: Kind) -> dict[str, Any]:
        return self.found.get(kind.name, {})

    def announced_for(self, schedule_id: str) -> AnnouncedParticipants:
        return self.announced.get(schedule_id, NOTHING_ANNOUNCED)


class Cache:
    """Off until `go_live()`: entries are only read or written once the invalidation consumer is
    receiving events, so nothing can be served that no invalidation would have dropped."""

    def __init__(self, client: redis.Redis, ttl_seconds: float, enabled: bool = True, clock: Callable[[], float] = time.time):
        self._client = client
        self._clock = clock  # when a count is recorded (seconds), for dropping those kept long enough
        self._ttl_ms = int(ttl_seconds * 1000)
        self._keep_announced_ms = int((ttl_seconds + _REQUEST_MARGIN_SECONDS) * 1000)
        self._configured = enabled
        self.enabled = False
        self._read = client.register_script(_READ)
        self._record = client.register_script(_RECORD)
        meter = metrics.get_meter("services.availability.cache")
        self._hits = meter.create_counter("availability.cache.hits", description="cache entries found, by kind")
        self._misses = meter.create_counter("availability.cache.misses", description="cache entries missing, by kind")
        self._errors = meter.create_counter("availability.cache.errors", description="Redis failures (the request goes to the dependency)")

    def go_live(self) -> None:
        self.enabled = self._configured
        log.info("cache live", enabled=self.enabled)

    async def invalidate(self, tenants: Iterable[str]) -> None:
        """Drops every entry of the `tenants`, in one round trip (a fetched batch of change
        messages is invalidated at once)."""
        async with self._client.pipeline(transaction=False) as pipe:
            for tenant_id in tenants:
                pipe.incr(f"{_PREFIX}:{tenant_id}:gen")
            if len(pipe):
                await pipe.execute()

    async def record(self, announcements: Sequence[Announcement]) -> None:
        """Keeps each announced count unless a newer version of it is kept already, in one round
        trip. Idempotent: a redelivered message changes nothing."""
        if not announcements:
            return
        keys: dict[str, int] = {}
        args: list[Any] = [int(self._clock() * 1000), self._keep_announced_ms]
        for a in announcements:
            index = keys.setdefault(_announced_key(a.tenant_id, a.schedule_id), len(keys) + 1)
            args += [index, f"{a.part.value}:{a.event_id}" if a.event_id else a.part.value, a.count.version, a.count.total]
        await self._record(keys=list(keys), args=args)

    async def read(self, tenant_id: str, wanted: Mapping[Kind, Sequence[str]], announced_for: Sequence[str] = ()) -> Snapshot:
        """The tenant's generation, the wanted entries and the counts announced for the schedules
        `announced_for`, in one round trip."""
        if not self.enabled:
            return Snapshot(None)
        wanted_ids = [(kind, item_id) for kind, ids in wanted.items() for item_id in ids]
        args = [f"{_PREFIX}:{tenant_id}:", *(f"{kind.name}:{item_id}" for kind, item_id in wanted_ids)]
        keys = [f"{_PREFIX}:{tenant_id}:gen", *(_announced_key(tenant_id, s) for s in announced_for)]
        try:
            generation, values, announced = await self._read(keys=keys, args=args)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return Snapshot(None)
        snapshot = Snapshot(int(generation), {kind.name: {} for kind in wanted})
        for (kind, item_id), value in zip(wanted_ids, values, strict=True):
            if value is not None:
                snapshot.found[kind.name][item_id] = kind.parse(value)
        for schedule_id, flat in zip(announced_for, announced, strict=True):
            if flat:
                snapshot.announced[schedule_id] = _announced(flat)
        for kind, ids in wanted.items():
            hits = len(snapshot.found[kind.name])
            if hits:
                self._hits.add(hits, {"kind": kind.name})
            if hits < len(ids):
                self._misses.add(len(ids) - hits, {"kind": kind.name})
        return snapshot

    async def write(self, tenant_id: str, snapshot: Snapshot, kind: Kind, items: Mapping[str, Message]) -> None:
        """Store entries under the generation the request read (never a newer one)."""
        if snapshot.generation is None or not items:
            return
        prefix = f"{_PREFIX}:{tenant_id}:{snapshot.generation}:{kind.name}"
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for item_id, message in items.items():
                    pipe.set(f"{prefix}:{item_id}", message.SerializeToString(), px=self._ttl_ms)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self._errors.add(1)
        log.warning("cache unavailable", error=str(exc))


def _announced_key(tenant_id: str, schedule_id: str) -> str:
    return f"{_PREFIX}:{tenant_id}:announced:{schedule_id}"


def _announced(flat: Sequence[bytes]) -> AnnouncedParticipants:
    """A schedule's hash (HGETALL's field, value, field, value...) as the counts it holds."""
    schedule: ParticipantCount | None = None
    events: dict[str, ParticipantCount] = {}
    legacy: dict[str, ParticipantCount] = {}
    for name, value in zip(flat[::2], flat[1::2], strict=True):
        version, total, _recorded_at = value.split()
        count = ParticipantCount(int(total), int(version))
        part, _, event_id = name.decode().partition(":")
        if part == Part.SCHEDULE:
            schedule = count
        else:
            (events if part == Part.EVENT else legacy)[event_id] = count
    return AnnouncedParticipants(schedule, events, legacy)
