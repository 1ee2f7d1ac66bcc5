"""Domain -> protobuf mapping of events, one place for both of its users: the gRPC entrypoints
and the outbox (the `calendar.event-events.v1` messages carry the same `calendar.events.v3.Event`
the API returns)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.events.v3 import events_pb2
from services.common.outbox import OutboxMessage
from services.timeframes.domain.model import Event, EventChange, EventStatus

# protos/topics/calendar.event-events.v1.md
EVENT_EVENTS_TOPIC = "calendar.event-events.v1"
# EventChange's value is the message's ce_type.
_EVENT_MESSAGES = {
    EventChange.CREATED: event_events_pb2.EventCreated,
    EventChange.UPDATED: event_events_pb2.EventUpdated,
    EventChange.CANCELLED: event_events_pb2.EventCancelled,
    EventChange.PARTICIPANTS_UPDATED: event_events_pb2.EventParticipantsUpdated,
}
_EVENT_STATUS = {EventStatus.CONFIRMED: events_pb2.CONFIRMED, EventStatus.CANCELLED: events_pb2.CANCELLED}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(instant: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    _set_timestamp(ts, instant)
    return ts


def _set_timestamp(ts: timestamp_pb2.Timestamp, instant: datetime) -> None:
    # Same arithmetic as domain.commands.WireTimestamp.of, without the intermediate object: this
    # runs four times for every event of every QueryEvents answer.
    delta = instant - _EPOCH
    ts.seconds = delta.days * 86_400 + delta.seconds
    ts.nanos = delta.microseconds * 1000


def event_to_proto(event: Event) -> events_pb2.Event:
    return set_event_proto(events_pb2.Event(), event)


def set_event_proto(message: events_pb2.Event, event: Event) -> events_pb2.Event:
    """Fill `message` (fresh, or `response.events.add()`) with the event, timestamps set in place.
    A 30-event QueryEvents answer built this way costs half the CPU of Event(start=Timestamp(...),
    ...) messages copied into the response (paired timeit, 12 rounds, same bytes): QueryEvents is
    the heaviest of the four reads availability waits for."""
    message.id = event.id
    message.schedule_id = event.schedule_id
    _set_timestamp(message.start, event.start)
    _set_timestamp(message.end, event.end)
    message.time_zone = event.time_zone
    message.total_capacity = event.total_capacity
    message.participants_total = event.participants_total
    message.remaining_capacity = event.remaining_capacity
    message.status = _EVENT_STATUS[event.status]
    message.revision = event.revision
    message.title = event.title
    _set_timestamp(message.created_date, event.created_date)
    _set_timestamp(message.updated_date, event.updated_date)
    return message


def event_message(tenant_id: str, change: EventChange, event: Event) -> OutboxMessage:
    """The integration event of one event's change: the whole event as of the change, keyed by
    its id."""
    return OutboxMessage(
        tenant_id=tenant_id,
        topic=EVENT_EVENTS_TOPIC,
        key=event.id,
        ce_type=change.value,
        message=_EVENT_MESSAGES[change](event=event_to_proto(event)),
        subject=event.id,
    )
