"""Domain -> protobuf mapping of participations, one place for both of its users: the gRPC
entrypoints and the outbox (the `bookings.participation-events.v1` messages carry the same
`bookings.participations.v3.Participation` the API returns)."""

from __future__ import annotations

from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.participations.v3 import participations_pb2
from services.common import topics
from services.common.outbox import OutboxMessage
from services.common.timestamps import to_timestamp
from services.participations.domain.model import Announcement, Participation, ParticipationChange, TargetKind


def participation_to_proto(p: Participation) -> participations_pb2.Participation:
    message = participations_pb2.Participation(
        id=p.id,
        booking_id=p.booking_id,
        service_id=p.service_id,
        party_size=p.party_size,
        booking_revision=p.booking_revision,
        created_date=to_timestamp(p.created_date),
        updated_date=to_timestamp(p.updated_date),
    )
    if p.target.kind is TargetKind.EVENT:
        message.event_id = p.target.id
    else:
        message.schedule_id = p.target.id
    return message


def announcement_message(tenant_id: str, announcement: Announcement) -> OutboxMessage:
    """The integration event of one participation change, keyed by the participation id (so the
    updater sees one participation's changes in order)."""
    participation = participation_to_proto(announcement.participation)
    message: participation_events_pb2.ParticipationCreated | participation_events_pb2.ParticipationUpdated | participation_events_pb2.ParticipationRemoved
    if announcement.change is ParticipationChange.CREATED:
        message_type, message = topics.PARTICIPATION_CREATED, participation_events_pb2.ParticipationCreated(participation=participation)
    elif announcement.change is ParticipationChange.UPDATED:
        message_type = topics.PARTICIPATION_UPDATED
        message = participation_events_pb2.ParticipationUpdated(participation=participation, previous_party_size=announcement.previous_party_size)
    else:
        message_type, message = topics.PARTICIPATION_REMOVED, participation_events_pb2.ParticipationRemoved(participation=participation)
    if announcement.participation.booking_committed_at is not None:
        message.booking_committed_at.CopyFrom(to_timestamp(announcement.participation.booking_committed_at))
    return OutboxMessage.of(tenant_id, topics.PARTICIPATION_EVENTS, message_type, announcement.participation.id, message)
