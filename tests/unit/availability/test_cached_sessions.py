"""A course schedule's cached events become sessions once per distinct cache entry: requests that
read the same bytes share the decoded sessions, and an entry that changed (new capacity, a
cancelled session) is decoded anew, never answered from an older one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.api.calendar.events.v3 import events_pb2
from services.availability.adapters.inputs import COURSE_EVENTS
from services.common.timestamps import to_timestamp

SCHEDULE = "0b4a6c8e-0000-4000-8000-000000000999"
FIRST = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def event_proto(event_id: str, schedule: str, start: datetime, remaining: int, total: int = 10, cancelled: bool = False) -> events_pb2.Event:
    return events_pb2.Event(
        id=event_id,
        schedule_id=schedule,
        start=to_timestamp(start),
        end=to_timestamp(start + timedelta(hours=1)),
        total_capacity=total,
        remaining_capacity=remaining,
        participants_total=total - remaining,
        status=events_pb2.CANCELLED if cancelled else events_pb2.CONFIRMED,
    )


def _entry(remaining: int, cancelled_second: bool = False) -> bytes:
    events = [
        event_proto("0b4a6c8e-0000-4000-8000-000000000001", SCHEDULE, FIRST, remaining),
        event_proto("0b4a6c8e-0000-4000-8000-000000000002", SCHEDULE, FIRST + timedelta(days=7), remaining, cancelled=cancelled_second),
    ]
    return events_pb2.QueryEventsResponse(events=events).SerializeToString()


def test_the_same_entry_read_twice_is_decoded_once_and_shared() -> None:
    first = COURSE_EVENTS.parse(_entry(remaining=4))
    again = COURSE_EVENTS.parse(bytes(bytearray(_entry(remaining=4))))  # equal bytes, another object
    assert again is first
    assert [(s.event_id[-1], s.start, s.remaining_capacity, s.cancelled) for s in first] == [
        ("1", FIRST, 4, False),
        ("2", FIRST + timedelta(days=7), 4, False),
    ]


def test_a_changed_entry_is_decoded_anew() -> None:
    before = COURSE_EVENTS.parse(_entry(remaining=4))
    after = COURSE_EVENTS.parse(_entry(remaining=3, cancelled_second=True))
    assert after is not before
    assert [(s.remaining_capacity, s.cancelled) for s in after] == [(3, False), (3, True)]
