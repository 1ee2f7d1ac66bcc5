"""Kafka entrypoint of the availability service: keeps the Redis cache honest.

Any change of a tenant's services (`catalog.service-events.v1`) or of its events' times or
status (`calendar.event-events.v1`) invalidates the tenant's cached services, policies and time
frames. Participant-total updates are ignored: capacity is never cached, and they do not move a
schedule's time frame. Invalidating is idempotent, so redelivery is harmless. All replicas share
one consumer group because they share one cache.
"""

from __future__ import annotations

import redis
import structlog

from services.availability.adapters.cache import Cache
from services.common import kafka
from services.common.kafka import Envelope, PoisonMessage

GROUP_ID = "availability.cache-invalidation"
TOPICS = ("catalog.service-events.v1", "calendar.event-events.v1")
# Changes that leave every cached entry valid.
_IRRELEVANT = frozenset({"calendar.event.participants_updated.v1"})

log = structlog.get_logger("cache-invalidation")


def is_transient(error: BaseException) -> bool:
    """Redis being away is transient: retry until it is back rather than dead-letter."""
    return isinstance(error, redis.RedisError) or kafka.is_transient(error)


class CacheInvalidation:
    def __init__(self, cache: Cache):
        self._cache = cache

    async def handle(self, envelope: Envelope) -> None:
        if envelope.ce_type in _IRRELEVANT:
            return
        if not envelope.tenant_id:
            raise PoisonMessage(f"{envelope.ce_type} without ce_tenantid: cannot tell whose cache to drop")
        await self._cache.invalidate_tenant(envelope.tenant_id)
        log.debug("cache invalidated", ce_type=envelope.ce_type, tenant_id=envelope.tenant_id)
