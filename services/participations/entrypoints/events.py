"""Kafka entrypoints of the participations service: decode the message, hand it to a use case.

- `BookingsConsumer` (group `participations.bookings-consumer`) consumes
  `bookings.booking-events.v1` and applies each booking to its participation.
- `EventUpdaterConsumer` (group `participations.event-updater`) consumes the service's own
  `bookings.participation-events.v1` (the seed's self domain event + task queue) and
  `calendar.event-events.v1` (a session added to a course), and settles the affected events.

A message that can never be processed (it does not decode, lacks its tenant, or says something
the contract forbids) raises `PoisonMessage`: it goes to `<topic>.dlq` at once, with the error,
and the partition moves on. A dependency being down (Postgres, timeframes) raises
`DependencyUnavailable`, which the runner retries until it is back. Message types a consumer does
not know are skipped: a topic may gain new types that old consumers ignore (protos/topics/README.md).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from google.protobuf.message import DecodeError, Message

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.event_events.v1 import event_events_pb2
from services.common.kafka import Envelope, PoisonMessage
from services.common.logging import get_logger
from services.common.validation import is_uuid
from services.participations.domain.model import BookingSnapshot, BookingStatus, Target
from services.participations.domain.totals import EventRef
from services.participations.handlers import EventUpdater, Participations

log = get_logger("participations.events")

BOOKING_EVENTS_TOPIC = "bookings.booking-events.v1"
PARTICIPATION_EVENTS_TOPIC = "bookings.participation-events.v1"
EVENT_EVENTS_TOPIC = "calendar.event-events.v1"

BOOKINGS_GROUP = "participations.bookings-consumer"
BOOKINGS_TOPICS = (BOOKING_EVENTS_TOPIC,)
UPDATER_GROUP = "participations.event-updater"
UPDATER_TOPICS = (PARTICIPATION_EVENTS_TOPIC, EVENT_EVENTS_TOPIC)

# protos/topics/bookings.booking-events.v1.md: every type carries the whole booking.
BOOKING_MESSAGES: dict[str, type[Message]] = {
    "bookings.booking.created.v1": booking_events_pb2.BookingCreated,
    "bookings.booking.confirmed.v1": booking_events_pb2.BookingConfirmed,
    "bookings.booking.declined.v1": booking_events_pb2.BookingDeclined,
    "bookings.booking.canceled.v1": booking_events_pb2.BookingCanceled,
    "bookings.booking.number_of_participants_updated.v1": booking_events_pb2.BookingNumberOfParticipantsUpdated,
}
PARTICIPATION_MESSAGES: dict[str, type[Message]] = {
    "bookings.participation.created.v1": participation_events_pb2.ParticipationCreated,
    "bookings.participation.updated.v1": participation_events_pb2.ParticipationUpdated,
    "bookings.participation.removed.v1": participation_events_pb2.ParticipationRemoved,
}
SESSION_CREATED = "calendar.event.created.v1"

_STATUSES = {
    bookings_pb2.PENDING: BookingStatus.PENDING,
    bookings_pb2.CONFIRMED: BookingStatus.CONFIRMED,
    bookings_pb2.DECLINED: BookingStatus.DECLINED,
    bookings_pb2.CANCELED: BookingStatus.CANCELED,
}
_MAX_SERVICE_ID = 100


def decode(envelope: Envelope, message_type: type[Message]) -> Message:
    if not envelope.tenant_id:
        raise PoisonMessage(f"{envelope.ce_type} without ce_tenantid: cannot tell whose data it is")
    message = message_type()
    try:
        message.ParseFromString(envelope.value)
    except DecodeError as exc:
        raise PoisonMessage(f"{envelope.ce_type}: value is not a {message_type.DESCRIPTOR.full_name}: {exc}") from None
    return message


def booking_snapshot(booking: bookings_pb2.Booking) -> BookingSnapshot:
    """The booking a message carries, or PoisonMessage naming everything the contract forbids."""
    problems = []
    if not is_uuid(booking.id):
        problems.append("booking.id must be a UUID")
    if len(booking.service_id) > _MAX_SERVICE_ID:
        problems.append(f"booking.service_id is longer than {_MAX_SERVICE_ID} characters")
    item = booking.booked_entity.WhichOneof("item")
    target: Target | None = None
    if item == "slot" and is_uuid(booking.booked_entity.slot.event_id):
        target = Target.event(booking.booked_entity.slot.event_id)
    elif item == "schedule" and is_uuid(booking.booked_entity.schedule.schedule_id):
        target = Target.schedule(booking.booked_entity.schedule.schedule_id)
    else:
        problems.append("booking.booked_entity must be a slot with an event_id or a schedule with a schedule_id (UUIDs)")
    status = _STATUSES.get(booking.status)
    if status is None:
        problems.append(f"booking.status {booking.status} is not PENDING, CONFIRMED, DECLINED or CANCELED")
    if booking.revision < 1:
        problems.append("booking.revision must be at least 1")
    if booking.number_of_participants < (1 if status is not None and status.holds_capacity else 0):
        problems.append("booking.number_of_participants must be at least 1")
    if problems:
        raise PoisonMessage("; ".join(problems))
    assert target is not None and status is not None
    return BookingSnapshot(
        id=booking.id,
        service_id=booking.service_id,
        target=target,
        number_of_participants=booking.number_of_participants,
        status=status,
        revision=booking.revision,
    )


def committed_at(envelope: Envelope) -> datetime | None:
    """The message's `ce_time` (when the bookings service wrote the change), None when missing or
    unreadable: it only feeds a metric, so it never makes a message poison."""
    try:
        instant = datetime.fromisoformat(envelope.headers.get("ce_time", ""))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


class BookingsConsumer:
    def __init__(self, participations: Participations):
        self._participations = participations

    async def handle(self, envelope: Envelope) -> None:
        message_type = BOOKING_MESSAGES.get(envelope.ce_type)
        if message_type is None:
            log.info("booking message type not handled; skipped", ce_type=envelope.ce_type)
            return
        message = decode(envelope, message_type)
        if not message.HasField("booking"):  # type: ignore[attr-defined]
            raise PoisonMessage(f"{envelope.ce_type} without a booking")
        booking = dataclasses.replace(booking_snapshot(message.booking), committed_at=committed_at(envelope))  # type: ignore[attr-defined]
        decision = await self._participations.apply_booking(envelope.tenant_id, booking)
        log.debug(
            "booking applied",
            booking_id=booking.id,
            revision=booking.revision,
            ignored=decision.ignored,
            announced=[a.change.name for a in decision.announcements],
        )


class EventUpdaterConsumer:
    def __init__(self, updater: EventUpdater):
        self._updater = updater

    async def handle(self, envelope: Envelope) -> None:
        if envelope.topic == EVENT_EVENTS_TOPIC:
            await self._calendar_event(envelope)
            return
        message_type = PARTICIPATION_MESSAGES.get(envelope.ce_type)
        if message_type is None:
            log.info("participation message type not handled; skipped", ce_type=envelope.ce_type)
            return
        message = decode(envelope, message_type)
        participation = message.participation  # type: ignore[attr-defined]
        target_field = participation.WhichOneof("target")
        target_id = getattr(participation, target_field) if target_field else ""
        if not is_uuid(target_id):
            raise PoisonMessage(f"{envelope.ce_type}: participation.{target_field or 'target'} must be a UUID")
        target = Target.event(target_id) if target_field == "event_id" else Target.schedule(target_id)
        # Only for the propagation-lag metric; messages written before the field existed go unmeasured.
        committed = message.booking_committed_at.ToDatetime(UTC) if message.HasField("booking_committed_at") else None  # type: ignore[attr-defined]
        await self._updater.participation_changed(envelope.tenant_id, target, booking_committed_at=committed)

    async def _calendar_event(self, envelope: Envelope) -> None:
        # Moves, cancellations and participant updates (our own writes coming back) change no
        # participation: only a new session may have course participations to count.
        if envelope.ce_type != SESSION_CREATED:
            return
        event = decode(envelope, event_events_pb2.EventCreated).event  # type: ignore[attr-defined]
        if not (is_uuid(event.id) and is_uuid(event.schedule_id)):
            raise PoisonMessage(f"{envelope.ce_type}: event.id and event.schedule_id must be UUIDs")
        await self._updater.session_created(envelope.tenant_id, EventRef(event.id, event.schedule_id))
