"""Redis cache of what changes rarely: services, booking policies and schedule time frames.

Staleness bound: an entry is dropped as soon as availability consumes the Kafka event of its
change (`catalog.service-events.v1`, `calendar.event-events.v1`; typically well under a second
after the commit) and lives at most `ttl` seconds (default 30) even if an event were lost.
Capacity (events) is never cached: it is always read from timeframes, so it is never staler than
the events it comes from.

Invalidation is by tenant generation: every entry key carries the tenant's generation number and
an invalidation increments it. A request that read old data from a dependency while the
invalidation happened writes under the old generation, which nobody reads any more — the usual
fill-after-invalidate race cannot resurrect stale data.

A request reads the generation and all the entries it needs in one round trip (a Lua script;
the keys it builds share the tenant's prefix, which is fine on a single Redis or a primary with
replicas; with Redis Cluster a `{tenant}` hash tag would be needed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
import structlog
from google.protobuf.message import Message
from opentelemetry import metrics

_PREFIX = "av:v1"
log = structlog.get_logger("cache")

_READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
local keys = {}
for i = 2, #ARGV do keys[#keys + 1] = ARGV[1] .. generation .. ':' .. ARGV[i] end
if #keys == 0 then return {generation, {}} end
return {generation, redis.call('MGET', unpack(keys))}
"""


@dataclass(frozen=True)
class Kind:
    """One kind of entry (services, policies...) and how to decode it."""

    name: str
    parse: Callable[[bytes], Any]


@dataclass
class Snapshot:
    """What one request found in the cache: the tenant generation it read, and entries by kind.
    `generation` None means the cache was not used (off, not live yet, or Redis away)."""

    generation: int | None
    found: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of(self, kind: Kind) -> dict[str, Any]:
        return self.found.get(kind.name, {})


class Cache:
    """Off until `go_live()`: entries are only read or written once the invalidation consumer is
    receiving events, so nothing can be served that no invalidation would have dropped."""

    def __init__(self, client: redis.Redis, ttl_seconds: float, enabled: bool = True):
        self._client = client
        self._ttl_ms = int(ttl_seconds * 1000)
        self._configured = enabled
        self.enabled = False
        self._read = client.register_script(_READ)
        meter = metrics.get_meter("services.availability.cache")
        self._hits = meter.create_counter("availability.cache.hits", description="cache entries found, by kind")
        self._misses = meter.create_counter("availability.cache.misses", description="cache entries missing, by kind")
        self._errors = meter.create_counter("availability.cache.errors", description="Redis failures (the request goes to the dependency)")

    def go_live(self) -> None:
        self.enabled = self._configured
        log.info("cache live", enabled=self.enabled)

    async def invalidate_tenant(self, tenant_id: str) -> None:
        await self._client.incr(f"{_PREFIX}:{tenant_id}:gen")

    async def read(self, tenant_id: str, wanted: Mapping[Kind, Sequence[str]]) -> Snapshot:
        """The tenant's generation and the wanted entries, in one round trip."""
        if not self.enabled:
            return Snapshot(None)
        wanted_ids = [(kind, item_id) for kind, ids in wanted.items() for item_id in ids]
        try:
            generation, values = await self._read(
                keys=[f"{_PREFIX}:{tenant_id}:gen"], args=[f"{_PREFIX}:{tenant_id}:", *(f"{k.name}:{i}" for k, i in wanted_ids)]
            )
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return Snapshot(None)
        snapshot = Snapshot(int(generation), {kind.name: {} for kind in wanted})
        for (kind, item_id), value in zip(wanted_ids, values, strict=True):
            if value is not None:
                snapshot.found[kind.name][item_id] = kind.parse(value)
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
