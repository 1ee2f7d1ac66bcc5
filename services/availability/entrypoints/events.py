"""Kafka entrypoint of the availability service: keeps the Redis cache honest.

Any change of a tenant's services (`catalog.service-events.v1`) or of its events' times or
status (`calendar.event-events.v1`) invalidates the tenant's cached entries. A participant-total
update (the busiest messages: one per booking) invalidates only the cached events of one
schedule: the event's (`calendar.event.participants_updated.v1`) or the course's
(`calendar.schedule.participants_updated.v1`); it changes capacity, not services, policies or time
frames. The messages of one fetched partition are coalesced: each tenant or schedule is
invalidated once, however many of its messages arrived together. Invalidating is idempotent, so
redelivery is harmless. All replicas share one consumer group because they share one cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from services.availability.adapters.cache import Cache, Kind
from services.common import kafka, topics
from services.common.consumer import Inbound, Subscription

GROUP_ID = "availability.cache-invalidation"
TOPICS = (topics.SERVICE_EVENTS.name, topics.EVENT_EVENTS.name)
_WHOLE_TENANT = (*topics.SERVICE_EVENTS.message_types, topics.EVENT_CREATED, topics.EVENT_UPDATED, topics.EVENT_CANCELLED)


def is_transient(error: BaseException) -> bool:
    """Redis being away is transient: retry until it is back rather than dead-letter."""
    return isinstance(error, redis.RedisError) or kafka.is_transient(error)


class CacheInvalidation:
    def __init__(self, cache: Cache, course_events: Kind):
        self._cache = cache
        self._course_events = course_events

    def subscription(self) -> Subscription:
        handled = (*_WHOLE_TENANT, topics.EVENT_PARTICIPANTS_UPDATED, topics.SCHEDULE_PARTICIPANTS_UPDATED)
        return Subscription.batched(GROUP_ID, (topics.SERVICE_EVENTS, topics.EVENT_EVENTS), handled, self.invalidate)

    async def invalidate(self, messages: Sequence[Inbound[Any]]) -> None:
        tenants = {m.tenant_id for m in messages if m.message_type in _WHOLE_TENANT}
        schedules = {(m.tenant_id, _schedule_of(m)) for m in messages if m.tenant_id not in tenants}
        await self._cache.invalidate(tenants, ((tenant, self._course_events, schedule_id) for tenant, schedule_id in schedules))


def _schedule_of(participants_updated: Inbound[Any]) -> str:
    if participants_updated.message_type == topics.SCHEDULE_PARTICIPANTS_UPDATED:
        return str(participants_updated.message.schedule.id)
    return str(participants_updated.message.event.schedule_id)
