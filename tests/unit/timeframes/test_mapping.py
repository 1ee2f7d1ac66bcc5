"""An event on the wire (calendar.events.v3.Event): every field, whichever way the message is built;
a change of working hours as its calendar.working-hours-events.v1 message."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.working_hours_events.v1 import working_hours_events_pb2
from services.common import topics
from services.timeframes.domain.model import EventStatus
from services.timeframes.domain.working_hours import WorkingHoursPart
from services.timeframes.mapping import event_to_proto, set_event_proto, working_hours_message
from tests.unit.timeframes.helpers import SCHEDULE_ID, T0, booked, stored_event


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


@pytest.mark.parametrize(
    "part, wire_part",
    [
        pytest.param(WorkingHoursPart.WEEKLY_RULES, working_hours_events_pb2.WEEKLY_RULES, id="weekly-rules"),
        pytest.param(WorkingHoursPart.TIME_OFF, working_hours_events_pb2.TIME_OFF, id="time-off"),
        pytest.param(WorkingHoursPart.EXTRA_HOURS, working_hours_events_pb2.EXTRA_HOURS, id="extra-hours"),
        pytest.param(WorkingHoursPart.HOLIDAYS, working_hours_events_pb2.HOLIDAYS, id="holidays"),
    ],
)
def test_a_working_hours_change_is_one_message_keyed_by_its_schedule_naming_the_part(part: WorkingHoursPart, wire_part: int) -> None:
    changed_at = T0 + timedelta(microseconds=417)
    outgoing = working_hours_message("tenant-a", SCHEDULE_ID, part, changed_at)
    assert (outgoing.tenant_id, outgoing.topic, outgoing.ce_type) == ("tenant-a", topics.WORKING_HOURS_EVENTS.name, topics.WORKING_HOURS_CHANGED.ce_type)
    assert outgoing.key == outgoing.subject == SCHEDULE_ID
    assert isinstance(outgoing.message, working_hours_events_pb2.WorkingHoursChanged)
    assert (outgoing.message.schedule_id, outgoing.message.part) == (SCHEDULE_ID, wire_part)
    assert outgoing.message.changed_at.ToDatetime(tzinfo=UTC) == changed_at


def test_every_part_of_working_hours_has_its_wire_value() -> None:
    """A part added to the domain without a wire value would fail the write that announces it."""
    wire_parts = {working_hours_message("t", SCHEDULE_ID, part, T0).message.part for part in WorkingHoursPart}
    assert wire_parts == set(working_hours_events_pb2.WorkingHoursPart.values()) - {working_hours_events_pb2.WORKING_HOURS_PART_UNSPECIFIED}
