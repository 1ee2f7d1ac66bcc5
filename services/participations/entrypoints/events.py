"""Kafka entrypoints of the participations service: decode the message, hand it to a use case.

- `BookingsConsumer` (group `participations.bookings-consumer`) consumes
  `bookings.booking-events.v1` and applies each booking to its participation.
- `EventUpdaterConsumer` (group `participations.event-updater`) consumes the service's own
  `bookings.participation-events.v1` (docs/pipeline.md "The event updater") in batches and
  settles the participant totals of the targets they name. It needs nothing else: a session added
  to a course counts the course's participants by itself (timeframes stores them per schedule).

A message that can never be processed (it does not decode, lacks its tenant, or says something
the contract forbids) raises `PoisonMessage`: it goes to `<topic>.dlq` at once, with the error,
and the partition moves on. A dependency being down (Postgres, timeframes) raises
`DependencyUnavailable`, which the runner retries until it is back. Message types a consumer does
not know are skipped: a topic may gain new types that old consumers ignore (protos/topics/README.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.api.bookings.v2 import bookings_pb2
from services.common import topics
from services.common.consumer import Inbound, Subscription
from services.common.kafka import Envelope, PoisonMessage
from services.common.logging import get_logger
from services.common.timestamps import to_instant
from services.common.validation import is_uuid
from services.participations.application.participations import EventUpdater, Participations
from services.participations.domain.model import BookingSnapshot, BookingStatus, Target
from services.participations.domain.totals import ParticipationChanged

log = get_logger("participations.events")

BOOKINGS_GROUP = "participations.bookings-consumer"
BOOKINGS_TOPICS = (topics.BOOKING_EVENTS.name,)
UPDATER_GROUP = "participations.event-updater"
UPDATER_TOPICS = (topics.PARTICIPATION_EVENTS.name,)

# protos/topics/bookings.booking-events.v1.md: every type carries the whole booking.
BOOKING_MESSAGES = (
    topics.BOOKING_CREATED,
    topics.BOOKING_CONFIRMED,
    topics.BOOKING_DECLINED,
    topics.BOOKING_CANCELED,
    topics.BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED,
)
PARTICIPATION_MESSAGES = (topics.PARTICIPATION_CREATED, topics.PARTICIPATION_UPDATED, topics.PARTICIPATION_REMOVED)

_STATUSES = {
    bookings_pb2.PENDING: BookingStatus.PENDING,
    bookings_pb2.CONFIRMED: BookingStatus.CONFIRMED,
    bookings_pb2.DECLINED: BookingStatus.DECLINED,
    bookings_pb2.CANCELED: BookingStatus.CANCELED,
}
_MAX_SERVICE_ID = 100
DURABLE_FETCH_WAIT_MS = 500


def is_appointment(booking: bookings_pb2.Booking) -> bool:
    """An APPOINTMENT booking (a slot naming its staff member, not an event) is one person's
    exclusive time: it takes no spot of a shared capacity, so it makes no participation."""
    return booking.booked_entity.WhichOneof("item") == "slot" and bool(booking.booked_entity.slot.staff_member_id)


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
    """`settle_soon`: told the participation changes each booking message committed (the event
    updater's fast path), so their totals reach timeframes without waiting for their messages."""

    def __init__(self, participations: Participations, settle_soon: Callable[[str, Sequence[ParticipationChanged]], None] | None = None):
        self._participations = participations
        self._settle_soon = settle_soon

    def subscription(self) -> Subscription:
        return Subscription.each(BOOKINGS_GROUP, (topics.BOOKING_EVENTS,), dict.fromkeys(BOOKING_MESSAGES, self.handle))

    async def handle(self, inbound: Inbound[Any]) -> None:
        if not inbound.message.HasField("booking"):
            raise PoisonMessage(f"{inbound.envelope.ce_type} without a booking")
        if is_appointment(inbound.message.booking):
            log.debug("appointment booking skipped", booking_id=inbound.message.booking.id)
            return
        booking = dataclasses.replace(booking_snapshot(inbound.message.booking), committed_at=committed_at(inbound.envelope))
        decision = await self._participations.apply_booking(inbound.tenant_id, booking)
        if self._settle_soon is not None and decision.announcements:
            changed = [ParticipationChanged(a.participation.target, a.participation.booking_committed_at) for a in decision.announcements]
            self._settle_soon(inbound.tenant_id, changed)
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

    def subscription(self) -> Subscription:
        # Batched: many messages about one target, fetched together, settle in one write. Kafka's
        # default fetch wait, whatever the setting: the fast path (BookingsConsumer) settles
        # first, these messages only make sure, so they may wait and the group fetches less.
        return Subscription.batched(UPDATER_GROUP, (topics.PARTICIPATION_EVENTS,), PARTICIPATION_MESSAGES, self.settle, fetch_max_wait_ms=DURABLE_FETCH_WAIT_MS)

    async def settle(self, messages: Sequence[Inbound[Any]]) -> None:
        by_tenant: dict[str, list[ParticipationChanged]] = defaultdict(list)
        for inbound in messages:
            by_tenant[inbound.tenant_id].append(participation_changed(inbound))
        await asyncio.gather(*(self._updater.settle(tenant, changes) for tenant, changes in by_tenant.items()))


def participation_changed(inbound: Inbound[Any]) -> ParticipationChanged:
    """The target a participation message names, or PoisonMessage."""
    participation = inbound.message.participation
    target_field = participation.WhichOneof("target")
    target_id = getattr(participation, target_field) if target_field else ""
    if not is_uuid(target_id):
        raise PoisonMessage(f"{inbound.envelope.ce_type}: participation.{target_field or 'target'} must be a UUID")
    target = Target.event(target_id) if target_field == "event_id" else Target.schedule(target_id)
    # Only for the propagation-lag metric; messages written before the field existed go unmeasured.
    committed = to_instant(inbound.message.booking_committed_at) if inbound.message.HasField("booking_committed_at") else None
    return ParticipationChanged(target, committed)
