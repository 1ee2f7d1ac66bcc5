"""Availability's cache-invalidation consumer (entrypoints/events.py) through its route step and
effect: which messages drop a tenant's cached entries, and which only record a count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest
from google.protobuf.message import Message

from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.working_hours_events.v1 import working_hours_events_pb2
from services.api.catalog.service_events.v1 import service_events_pb2
from services.availability.adapters.cache import Announcement, Part
from services.availability.domain.model import ParticipantCount
from services.availability.entrypoints.events import TOPICS, CacheInvalidation
from services.common import topics
from services.common.kafka import Envelope

TENANT, OTHER = "tenant-a", "tenant-b"
STAFF_MEMBER = staff_members_pb2.StaffMember(id="5be1a0c2-0000-4000-8000-000000000001", schedule_id="c40f0000-0000-4000-8000-000000000001")
WORKING_HOURS = working_hours_events_pb2.WorkingHoursChanged(schedule_id=STAFF_MEMBER.schedule_id, part=working_hours_events_pb2.TIME_OFF)


@dataclass
class FakeCache:
    """What the consumer calls of adapters/cache.py `Cache`."""

    invalidated: list[set[str]] = field(default_factory=list)
    recorded: list[Announcement] = field(default_factory=list)

    async def invalidate(self, tenants: Iterable[str]) -> None:
        self.invalidated.append(set(tenants))

    async def record(self, announcements: Sequence[Announcement]) -> None:
        self.recorded += announcements


def envelope(topic: topics.Topic, message_type: topics.MessageType[Message], value: Message, tenant: str = TENANT) -> Envelope:
    return Envelope(topic.name, 0, 0, "key", {"ce_type": message_type.ce_type}, message_type.ce_type, tenant, value.SerializeToString())


async def deliver(*envelopes: Envelope) -> FakeCache:
    cache = FakeCache()
    await CacheInvalidation(cache).subscription().deliver(envelopes)  # type: ignore[arg-type]
    return cache


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(envelope(topics.SERVICE_EVENTS, topics.SERVICE_UPDATED, service_events_pb2.ServiceUpdated()), id="a-service-changed"),
        pytest.param(envelope(topics.EVENT_EVENTS, topics.EVENT_CANCELLED, event_events_pb2.EventCancelled()), id="an-event-cancelled"),
        pytest.param(
            envelope(topics.STAFF_EVENTS, topics.STAFF_MEMBER_UPDATED, topics.STAFF_MEMBER_UPDATED.message(staff_member=STAFF_MEMBER)),
            id="a-staff-member-changed",
        ),
        pytest.param(
            envelope(topics.STAFF_EVENTS, topics.STAFF_MEMBER_DELETED, topics.STAFF_MEMBER_DELETED.message(staff_member=STAFF_MEMBER)),
            id="a-staff-member-deleted",
        ),
        pytest.param(envelope(topics.WORKING_HOURS_EVENTS, topics.WORKING_HOURS_CHANGED, WORKING_HOURS), id="a-schedules-working-hours-changed"),
    ],
)
async def test_a_change_of_what_the_cache_holds_drops_the_tenants_entries(message: Envelope) -> None:
    cache = await deliver(message)
    assert (cache.invalidated, cache.recorded) == ([{TENANT}], [])


async def test_a_batch_drops_each_tenant_once_and_records_the_counts_announced() -> None:
    event = events_pb2.Event(id="event-1", schedule_id="schedule-1")
    event.participant_parts.event.CopyFrom(events_pb2.ParticipantCount(total=3, version=7))
    counted = event_events_pb2.EventParticipantsUpdated(event=event)
    cache = await deliver(
        envelope(topics.WORKING_HOURS_EVENTS, topics.WORKING_HOURS_CHANGED, WORKING_HOURS),
        envelope(topics.STAFF_EVENTS, topics.STAFF_MEMBER_CREATED, topics.STAFF_MEMBER_CREATED.message(staff_member=STAFF_MEMBER)),
        envelope(topics.WORKING_HOURS_EVENTS, topics.WORKING_HOURS_CHANGED, WORKING_HOURS, tenant=OTHER),
        envelope(topics.EVENT_EVENTS, topics.EVENT_PARTICIPANTS_UPDATED, counted),
    )
    assert cache.invalidated == [{TENANT, OTHER}]
    assert cache.recorded == [Announcement(TENANT, "schedule-1", Part.EVENT, "event-1", ParticipantCount(3, 7))]


def test_the_consumer_reads_every_topic_of_what_the_cache_holds() -> None:
    assert set(TOPICS) == {t.name for t in (topics.SERVICE_EVENTS, topics.EVENT_EVENTS, topics.STAFF_EVENTS, topics.WORKING_HOURS_EVENTS)}
