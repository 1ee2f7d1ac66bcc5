"""Helpers of the participations and DLQ integration tests (this module holds no tests).

The tests drive the participations service through its real interface: they publish
`bookings.booking-events.v1` messages to the real broker exactly as the bookings service's outbox
relay does (CloudEvents binary-mode headers, key = booking id, value = the protobuf event), then
watch the effects through the public APIs (Participations, timeframes Events) and the topics.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import grpc
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, RecordMetadata
from google.protobuf.message import Message

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc
from services.api.bookings.v2 import bookings_pb2
from services.common import topics
from services.common.kafka import cloudevent_headers
from services.participations.entrypoints.events import BOOKINGS_GROUP, UPDATER_GROUP
from tests import support
from tests.integration.topic_reader import TopicReader, committed_past, of_tenant
from tests.support import eventually

T = TypeVar("T")

BOOKING_TOPIC = topics.BOOKING_EVENTS.name
PARTICIPATION_TOPIC = topics.PARTICIPATION_EVENTS.name
CREATED = "bookings.booking.created.v1"
CONFIRMED = "bookings.booking.confirmed.v1"
DECLINED = "bookings.booking.declined.v1"
CANCELED = "bookings.booking.canceled.v1"
RESIZED = "bookings.booking.number_of_participants_updated.v1"
_MESSAGES: dict[str, Callable[..., Message]] = {
    CREATED: booking_events_pb2.BookingCreated,
    CONFIRMED: booking_events_pb2.BookingConfirmed,
    DECLINED: booking_events_pb2.BookingDeclined,
    CANCELED: booking_events_pb2.BookingCanceled,
    RESIZED: booking_events_pb2.BookingNumberOfParticipantsUpdated,
}
# The status each message type leaves the booking in (a resize keeps the status given).
STATUS_AFTER = {CREATED: bookings_pb2.CONFIRMED, CONFIRMED: bookings_pb2.CONFIRMED, DECLINED: bookings_pb2.DECLINED, CANCELED: bookings_pb2.CANCELED}

# How long the asynchronous pipeline may take to settle (booking -> participation -> outbox ->
# event updater -> timeframes) before a test gives up.
SETTLE_WITHIN = 15.0


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Booking:
    """A booking as the bookings service would announce it; `at(...)` gives its next revision."""

    tenant: str
    event_id: str = ""
    schedule_id: str = ""
    participants: int = 1
    status: int = bookings_pb2.CONFIRMED
    revision: int = 1
    id: str = field(default_factory=new_id)
    service_id: str = field(default_factory=new_id)

    def proto(self) -> bookings_pb2.Booking:
        entity = (
            bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(event_id=self.event_id))
            if self.event_id
            else bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=self.schedule_id))
        )
        return bookings_pb2.Booking(
            id=self.id,
            service_id=self.service_id,
            booked_entity=entity,
            number_of_participants=self.participants,
            contact=bookings_pb2.ContactDetails(name="Ada", email="ada@example.com"),
            status=self.status,  # type: ignore[arg-type]
            revision=self.revision,
        )

    def at(self, revision: int, *, status: int | None = None, participants: int | None = None) -> Booking:
        return Booking(
            tenant=self.tenant,
            event_id=self.event_id,
            schedule_id=self.schedule_id,
            participants=self.participants if participants is None else participants,
            status=self.status if status is None else status,
            revision=revision,
            id=self.id,
            service_id=self.service_id,
        )


def booking_message(ce_type: str, booking: Booking, previous_participants: int = 0) -> Message:
    message = _MESSAGES[ce_type](booking=booking.proto())
    if ce_type == RESIZED:
        message.previous_number_of_participants = previous_participants  # type: ignore[attr-defined]
    return message


def booking_headers(ce_type: str, booking_id: str, tenant: str) -> list[tuple[str, bytes]]:
    return cloudevent_headers(
        ce_id=new_id(),
        source="//bookings-platform/bookings",
        ce_type=ce_type,
        time=datetime.now(UTC),
        subject=booking_id,
        tenant_id=tenant,
        traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
    )


class BookingEvents:
    """Publishes booking messages as the bookings service's outbox relay does."""

    def __init__(self, producer: AIOKafkaProducer):
        self._producer = producer
        self.sent: list[RecordMetadata] = []

    async def publish(self, ce_type: str, booking: Booking, *, previous_participants: int = 0) -> RecordMetadata:
        value = booking_message(ce_type, booking, previous_participants).SerializeToString()
        return await self.raw(booking.id, value, booking_headers(ce_type, booking.id, booking.tenant))

    async def raw(self, key: str, value: bytes, headers: Sequence[tuple[str, bytes]], topic: str = BOOKING_TOPIC) -> RecordMetadata:
        metadata = await self._producer.send_and_wait(topic, value=value, key=key.encode(), headers=list(headers))
        self.sent.append(metadata)
        return metadata


async def consumed(
    bootstrap: str, sent: Sequence[RecordMetadata | ConsumerRecord[Any, Any]], *, group_id: str = BOOKINGS_GROUP, within: float = SETTLE_WITHIN
) -> None:
    """Wait until `group_id` (the bookings consumer unless named) committed past every message of
    `sent`: the fence for effects that are an absence."""
    await committed_past(bootstrap, group_id, sent, within=within)


async def pipeline_idle(bootstrap: str, database_url: str, tenant: str, sent: Sequence[RecordMetadata], *, within: float = SETTLE_WITHIN) -> None:
    """Wait until everything `sent` went all the way through for `tenant`: the bookings consumer
    committed past it, the participations outbox published every row of the tenant, and the
    event updater committed past every participation message of the tenant. After this, what
    timeframes holds is the settled state, not a value passing by."""
    await consumed(bootstrap, sent, within=within)
    conn = await asyncpg.connect(database_url)
    try:
        await eventually(
            lambda: conn.fetchval("SELECT count(*) FROM participations.outbox WHERE tenant_id = $1 AND published_at IS NULL", tenant),
            lambda unpublished: unpublished == 0,
            within=within,
            what="the participations outbox published the tenant's rows",
        )
    finally:
        await conn.close()
    async with TopicReader(bootstrap, PARTICIPATION_TOPIC, of_tenant(tenant)) as reader:
        announced = await reader.drain()
    await consumed(bootstrap, announced, group_id=UPDATER_GROUP, within=within)


@dataclass
class ParticipationsApi:
    """bookings.participations.v3.Participations, called as one tenant."""

    stub: participations_pb2_grpc.ParticipationsStub
    tenant: str

    @classmethod
    def of(cls, channel: grpc.aio.Channel, tenant: str) -> ParticipationsApi:
        return cls(participations_pb2_grpc.ParticipationsStub(channel), tenant)

    @property
    def md(self) -> list[tuple[str, str]]:
        return support.auth(self.tenant, "bookings:read")

    async def get(self, participation_id: str) -> participations_pb2.Participation:
        request = participations_pb2.GetParticipationRequest(participation_id=participation_id)
        return (await self.stub.GetParticipation(request, metadata=self.md)).participation

    async def query(self, **fields: Any) -> participations_pb2.QueryParticipationsResponse:
        return await self.stub.QueryParticipations(participations_pb2.QueryParticipationsRequest(**fields), metadata=self.md)

    async def of_bookings(self, *booking_ids: str) -> list[participations_pb2.Participation]:
        return list((await self.query(booking_ids=list(booking_ids))).participations)
