"""Kafka entrypoint of the availability service: keeps the Redis cache honest.

Any change of a tenant's services (`catalog.service-events.v1`), of its events' times or status
(`calendar.event-events.v1`), of its staff members or the services they offer
(`bookings.staff-events.v1`) or of their schedules' working hours
(`calendar.working-hours-events.v1`) invalidates the tenant's cached entries. A participant-count
update (the busiest messages: one per booking) changes capacity only, so it drops nothing: its
counts are recorded with their versions beside the cached events (adapters/cache.py), the event's
(`calendar.event.participants_updated.v1`) or the course's
(`calendar.schedule.participants_updated.v1`). One that carries no version (from a timeframes
older than the versioned counts) cannot be ordered against a cached read and invalidates the
tenant instead. A fetched partition's messages are handled together: one Redis round trip for its
invalidations and one for its counts. Both are idempotent, so redelivery is harmless. All replicas
share one consumer group because they share one cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import redis

from services.availability.adapters.cache import Announcement, Cache, Part
from services.availability.domain.model import ParticipantCount
from services.common import kafka, topics
from services.common.consumer import Inbound, Subscription

GROUP_ID = "availability.cache-invalidation"
_TOPICS = (topics.SERVICE_EVENTS, topics.EVENT_EVENTS, topics.STAFF_EVENTS, topics.WORKING_HOURS_EVENTS)
TOPICS = tuple(topic.name for topic in _TOPICS)
_PARTICIPANTS_UPDATED = (topics.EVENT_PARTICIPANTS_UPDATED, topics.SCHEDULE_PARTICIPANTS_UPDATED)


def is_transient(error: BaseException) -> bool:
    """Redis being away is transient: retry until it is back rather than dead-letter."""
    return isinstance(error, redis.RedisError) or kafka.is_transient(error)


class CacheInvalidation:
    def __init__(self, cache: Cache):
        self._cache = cache

    def subscription(self) -> Subscription:
        handled = [message_type for topic in _TOPICS for message_type in topic.message_types]
        return Subscription.batched(GROUP_ID, _TOPICS, handled, self.invalidate)

    async def invalidate(self, messages: Sequence[Inbound[Any]]) -> None:
        announcements: list[Announcement] = []
        tenants: set[str] = set()
        for message in messages:
            counts = list(_announced(message)) if message.message_type in _PARTICIPANTS_UPDATED else []
            if counts:
                announcements += counts
            else:
                tenants.add(message.tenant_id)
        await self._cache.invalidate(tenants)
        await self._cache.record(announcements)


def _announced(message: Inbound[Any]) -> Iterator[Announcement]:
    """The versioned counts a participants_updated message announces (none when it carries no
    version)."""
    tenant_id = message.tenant_id
    if message.message_type == topics.SCHEDULE_PARTICIPANTS_UPDATED:
        schedule, version = message.message.schedule, message.message.participants_version
        if version > 0:
            yield Announcement(tenant_id, schedule.id, Part.SCHEDULE, "", ParticipantCount(schedule.participants_total, version))
        return
    event = message.message.event
    if not event.HasField("participant_parts"):
        return
    parts = event.participant_parts
    for part, event_id, count in (
        (Part.EVENT, event.id, parts.event),
        (Part.SCHEDULE, "", parts.schedule),
        (Part.LEGACY, event.id, parts.legacy),
    ):
        if count.version > 0:
            yield Announcement(tenant_id, event.schedule_id, part, event_id, ParticipantCount(count.total, count.version))
