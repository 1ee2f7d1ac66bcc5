"""Redis cache: services, booking policies, schedule time frames, and a course's events.

Staleness bound: an entry is dropped as soon as availability consumes the Kafka event of its
change (`catalog.service-events.v1`, `calendar.event-events.v1`; typically tens of milliseconds
after the commit) and lives at most `ttl` seconds (default 30) even if an event were lost.
Capacity (a course's events with `remaining_capacity`) is cached per schedule and dropped by
every event message of that schedule, participant-total updates included: it is never staler
than the event messages it comes from (the same stream that announces every capacity change).

Invalidation is by generation: every entry key carries the tenant's generation number, and a
*scoped* entry (a schedule's events) also its scope's; an invalidation increments one of them. A
request that read old data from a dependency while the invalidation happened writes under the
old generation, which nobody reads any more — the usual fill-after-invalidate race cannot
resurrect stale data.

A request reads the generation and all the entries it needs in one round trip (a Lua script;
the keys it builds share the tenant's prefix, which is fine on a single Redis or a primary with
replicas; with Redis Cluster a `{tenant}` hash tag would be needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
import structlog
from google.protobuf.message import Message
from opentelemetry import metrics

_PREFIX = "av:v1"
log = structlog.get_logger("cache")

# ARGV[1] = tenant prefix; then pairs (entry suffix "kind:id", scoped "1"/"0"). A scoped entry's
# key also carries its scope generation (prefix .. "scope:" .. suffix).
_READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
local keys, scopes = {}, {}
for i = 2, #ARGV, 2 do
  local scope = ''
  if ARGV[i + 1] == '1' then scope = redis.call('GET', ARGV[1] .. 'scope:' .. ARGV[i]) or '0' end
  scopes[#scopes + 1] = scope
  keys[#keys + 1] = ARGV[1] .. generation .. ':' .. ARGV[i] .. ':' .. scope
end
if #keys == 0 then return {generation, {}, {}} end
return {generation, redis.call('MGET', unpack(keys)), scopes}
"""
_SCOPE_TTL_SECONDS = 86_400  # far longer than any entry written under a scope generation


@dataclass(frozen=True)
class Kind:
    """One kind of entry (services, policies...) and how to decode it. A `scoped` kind is also
    invalidated per entry (`Cache.invalidate_scope`), not only per tenant."""

    name: str
    parse: Callable[[bytes], Any]
    scoped: bool = False


@dataclass
class Snapshot:
    """What one request found in the cache: the tenant generation it read, and entries by kind.
    `generation` None means the cache was not used (off, not live yet, or Redis away)."""

    generation: int | None
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    scopes: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> scope generation read

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

    async def invalidate(self, tenants: Iterable[str] = (), scopes: Iterable[tuple[str, Kind, str]] = ()) -> None:
        """Drops every entry of the `tenants`, and the scoped entries `(tenant, kind, id)`, in one
        round trip (a fetched batch of change messages is invalidated at once). A transaction, so
        that no scope counter is left without its expiry."""
        async with self._client.pipeline(transaction=True) as pipe:
            for tenant_id in tenants:
                pipe.incr(f"{_PREFIX}:{tenant_id}:gen")
            for tenant_id, kind, item_id in scopes:
                key = f"{_PREFIX}:{tenant_id}:scope:{kind.name}:{item_id}"
                pipe.incr(key)
                pipe.expire(key, _SCOPE_TTL_SECONDS)
            if len(pipe):
                await pipe.execute()

    async def read(self, tenant_id: str, wanted: Mapping[Kind, Sequence[str]]) -> Snapshot:
        """The tenant's generation and the wanted entries, in one round trip."""
        if not self.enabled:
            return Snapshot(None)
        wanted_ids = [(kind, item_id) for kind, ids in wanted.items() for item_id in ids]
        args = [f"{_PREFIX}:{tenant_id}:"]
        for kind, item_id in wanted_ids:
            args += [f"{kind.name}:{item_id}", "1" if kind.scoped else "0"]
        try:
            generation, values, scopes = await self._read(keys=[f"{_PREFIX}:{tenant_id}:gen"], args=args)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return Snapshot(None)
        snapshot = Snapshot(int(generation), {kind.name: {} for kind in wanted})
        for (kind, item_id), value, scope in zip(wanted_ids, values, scopes, strict=True):
            snapshot.scopes[(kind.name, item_id)] = scope.decode() if isinstance(scope, bytes) else str(scope)
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
                    scope = snapshot.scopes.get((kind.name, item_id))
                    if scope is None:
                        continue  # not read in this snapshot: its scope generation is unknown
                    pipe.set(f"{prefix}:{item_id}:{scope}", message.SerializeToString(), px=self._ttl_ms)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self._errors.add(1)
        log.warning("cache unavailable", error=str(exc))
