"""An event on the wire (calendar.events.v3.Event): every field, whichever way the message is built."""

from __future__ import annotations

from datetime import UTC, timedelta

from services.api.calendar.events.v3 import events_pb2
from services.timeframes.domain.model import EventStatus
from services.timeframes.mapping import event_to_proto, set_event_proto
from tests.unit.timeframes.helpers import T0, booked, stored_event


def test_an_event_maps_field_for_field() -> None:
    event = stored_event(participants=booked(4), revision=7, updated_date=T0 + timedelta(microseconds=250))
    message = event_to_proto(event)
    assert message.id == event.id
    assert message.schedule_id == event.schedule_id
    assert message.start.ToDatetime(tzinfo=UTC) == event.start
    assert message.end.ToDatetime(tzinfo=UTC) == event.end
    assert message.time_zone == "Europe/Vienna"
    assert (message.total_capacity, message.participants_total, message.remaining_capacity) == (10, 4, 6)
    assert message.status == events_pb2.CONFIRMED
    assert message.revision == 7
    assert message.title == "Pottery"
    assert message.created_date.ToDatetime(tzinfo=UTC) == event.created_date
    assert message.updated_date.ToDatetime(tzinfo=UTC) == event.updated_date


def test_events_added_to_a_list_answer_are_the_same_messages_as_single_ones() -> None:
    events = [stored_event(id=f"event-{i}", start=T0 + timedelta(days=i), end=T0 + timedelta(days=i, hours=2)) for i in range(3)]
    events.append(stored_event(id="event-cancelled", status=EventStatus.CANCELLED, participants=booked(12)))
    response = events_pb2.QueryEventsResponse()
    for event in events:
        set_event_proto(response.events.add(), event)
    assert list(response.events) == [event_to_proto(e) for e in events]
    assert response.events[-1].status == events_pb2.CANCELLED
    assert response.events[-1].remaining_capacity == -2  # overbooked: raw on the wire, clamped only for display
