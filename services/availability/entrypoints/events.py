"""Kafka entrypoint of the availability service: keeps the Redis cache honest.

Any change of a tenant's services (`catalog.service-events.v1`) or of its events' times or
status (`calendar.event-events.v1`) invalidates the tenant's cached entries. A participant-total
update (the busiest message: one per booking) invalidates only the cached events of that event's
schedule: it changes capacity, not services, policies or time frames. Invalidating is
idempotent, so redelivery is harmless. All replicas share one consumer group because they share
one cache.
"""

from __future__ import annotations

import redis
import structlog
from google.protobuf.message import DecodeError

from services.api.calendar.event_events.v1 import event_events_pb2
from services.availability.adapters.cache import Cache, Kind
from services.common import kafka
from services.common.kafka import Envelope, PoisonMessage

GROUP_ID = "availability.cache-invalidation"
TOPICS = ("catalog.service-events.v1", "calendar.event-events.v1")
PARTICIPANTS_UPDATED = "calendar.event.participants_updated.v1"

log = structlog.get_logger("cache-invalidation")


def is_transient(error: BaseException) -> bool:
    """Redis being away is transient: retry until it is back rather than dead-letter."""
    return isinstance(error, redis.RedisError) or kafka.is_transient(error)


class CacheInvalidation:
    def __init__(self, cache: Cache, course_events: Kind):
        self._cache = cache
        self._course_events = course_events

    async def handle(self, envelope: Envelope) -> None:
        if not envelope.tenant_id:
            raise PoisonMessage(f"{envelope.ce_type} without ce_tenantid: cannot tell whose cache to drop")
        if envelope.ce_type == PARTICIPANTS_UPDATED:
            try:
                schedule_id = event_events_pb2.EventParticipantsUpdated.FromString(envelope.value).event.schedule_id
            except DecodeError as exc:
                raise PoisonMessage(f"undecodable {envelope.ce_type}: {exc}") from exc
            await self._cache.invalidate_scope(envelope.tenant_id, self._course_events, schedule_id)
            return
        await self._cache.invalidate_tenant(envelope.tenant_id)
        log.debug("cache invalidated", ce_type=envelope.ce_type, tenant_id=envelope.tenant_id)
