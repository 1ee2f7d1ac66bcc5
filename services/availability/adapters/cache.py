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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import redis.asyncio as redis
import structlog
from google.protobuf.message import Message
from opentelemetry import metrics

M = TypeVar("M", bound=Message)
_PREFIX = "av:v1"
log = structlog.get_logger("cache")


class _Counters:
    def __init__(self) -> None:
        meter = metrics.get_meter("services.availability.cache")
        self.hits = meter.create_counter("availability.cache.hits", description="cache entries found, by kind")
        self.misses = meter.create_counter("availability.cache.misses", description="cache entries missing, by kind")
        self.errors = meter.create_counter("availability.cache.errors", description="Redis failures (the request goes to the dependency)")


class Cache:
    """Off until `go_live()`: entries are only read or written once the invalidation consumer is
    receiving events, so nothing can be served that no invalidation would have dropped."""

    def __init__(self, client: redis.Redis, ttl_seconds: float, enabled: bool = True):
        self._client = client
        self._ttl_ms = int(ttl_seconds * 1000)
        self._configured = enabled
        self.enabled = False
        self._counters = _Counters()

    def go_live(self) -> None:
        self.enabled = self._configured
        log.info("cache live", enabled=self.enabled)

    async def generation(self, tenant_id: str) -> int:
        if not self.enabled:
            return 0
        try:
            value = await self._client.get(f"{_PREFIX}:{tenant_id}:gen")
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return -1  # a generation no fill is written for: Redis is away, use the dependencies
        return int(value or 0)

    async def invalidate_tenant(self, tenant_id: str) -> None:
        await self._client.incr(f"{_PREFIX}:{tenant_id}:gen")

    def kind(self, kind: str, parse: Callable[[bytes], M]) -> CacheKind[M]:
        return CacheKind(self, kind, parse)

    def _failed(self, exc: Exception) -> None:
        self._counters.errors.add(1)
        log.warning("cache unavailable", error=str(exc))


class CacheKind(Generic[M]):
    """Entries of one kind (e.g. services), keyed by id within a tenant generation."""

    def __init__(self, cache: Cache, kind: str, parse: Callable[[bytes], M]):
        self._cache = cache
        self._kind = kind
        self._parse = parse

    def _key(self, tenant_id: str, generation: int, item_id: str) -> str:
        return f"{_PREFIX}:{tenant_id}:{generation}:{self._kind}:{item_id}"

    async def get_many(self, tenant_id: str, generation: int, ids: Sequence[str]) -> dict[str, M]:
        if not self._cache.enabled or generation < 0 or not ids:
            return {}
        try:
            values = await self._cache._client.mget([self._key(tenant_id, generation, i) for i in ids])
        except (redis.RedisError, OSError) as exc:
            self._cache._failed(exc)
            return {}
        found = {i: self._parse(v) for i, v in zip(ids, values, strict=True) if v is not None}
        attrs = {"kind": self._kind}
        if found:
            self._cache._counters.hits.add(len(found), attrs)
        if len(found) < len(ids):
            self._cache._counters.misses.add(len(ids) - len(found), attrs)
        return found

    async def put_many(self, tenant_id: str, generation: int, items: dict[str, M]) -> None:
        if not self._cache.enabled or generation < 0 or not items:
            return
        try:
            async with self._cache._client.pipeline(transaction=False) as pipe:
                for item_id, message in items.items():
                    pipe.set(self._key(tenant_id, generation, item_id), message.SerializeToString(), px=self._cache._ttl_ms)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._cache._failed(exc)
