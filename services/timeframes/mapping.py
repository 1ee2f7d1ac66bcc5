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
    # Same arithmetic as domain.commands.WireTimestamp.of, without the intermediate object: this
    # runs for every event of every QueryEvents answer.
    delta = instant - _EPOCH
    return timestamp_pb2.Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


def event_to_proto(event: Event) -> events_pb2.Event:
    return events_pb2.Event(
        id=event.id,
        schedule_id=event.schedule_id,
        start=timestamp(event.start),
        end=timestamp(event.end),
        time_zone=event.time_zone,
        total_capacity=event.total_capacity,
        participants_total=event.participants_total,
        remaining_capacity=event.remaining_capacity,
        status=_EVENT_STATUS[event.status],
        revision=event.revision,
        title=event.title,
        created_date=timestamp(event.created_date),
        updated_date=timestamp(event.updated_date),
    )


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
