"""Booking <-> protobuf mapping and the bookings.booking-events.v1 messages (mapping.py): the
request fields a caller may set, the output fields, and one message type and ce_type per change
as the topic contract (protos/topics/bookings.booking-events.v1.md) lists them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.v2 import bookings_pb2
from services.bookings.domain.bookings import Booking, BookingStatus, Change, Contact, EntityKind
from services.bookings.mapping import booking_draft_from_proto, booking_event, booking_to_proto
from services.common import topics

BOOKING_ID = "44444444-4444-4444-8444-444444444444"
SERVICE_ID = "11111111-1111-4111-8111-111111111111"
WHEN = datetime(2026, 6, 1, 10, 15, 2, 100000, tzinfo=UTC)


def booking(kind: EntityKind = EntityKind.SCHEDULE, status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    return Booking(
        BOOKING_ID, SERVICE_ID, kind, "ent", 2, Contact("Ada", "ada@example.com"), status, revision=3, created_at=WHEN, updated_at=WHEN, idempotency_key="k"
    )


def test_a_course_booking_as_the_api_returns_it() -> None:
    msg = booking_to_proto(booking())
    assert msg.booked_entity.WhichOneof("item") == "schedule" and msg.booked_entity.schedule.schedule_id == "ent"
    assert (msg.id, msg.service_id, msg.number_of_participants, msg.status, msg.revision) == (BOOKING_ID, SERVICE_ID, 2, bookings_pb2.CONFIRMED, 3)
    assert (msg.contact.name, msg.contact.email) == ("Ada", "ada@example.com")
    assert msg.created_date.ToDatetime(tzinfo=UTC) == WHEN == msg.updated_date.ToDatetime(tzinfo=UTC)


def test_a_class_booking_names_its_event() -> None:
    msg = booking_to_proto(booking(EntityKind.SLOT, BookingStatus.PENDING))
    assert (msg.booked_entity.WhichOneof("item"), msg.booked_entity.slot.event_id, msg.status) == ("slot", "ent", bookings_pb2.PENDING)


@pytest.mark.parametrize("status", list(BookingStatus), ids=lambda s: s.name)
def test_statuses_keep_their_wire_numbers(status: BookingStatus) -> None:
    assert bookings_pb2.BookingStatus.Name(booking_to_proto(booking(status=status)).status) == status.name


@pytest.mark.parametrize(
    "item, kind, entity",
    [
        pytest.param({"slot": bookings_pb2.Slot(event_id="e")}, "slot", "e", id="slot"),
        pytest.param({"schedule": bookings_pb2.ScheduleItem(schedule_id="s")}, "schedule", "s", id="schedule"),
        pytest.param({}, "", "", id="unset"),
    ],
)
def test_a_request_keeps_only_what_a_caller_may_set(item: dict[str, object], kind: str, entity: str) -> None:
    sent = bookings_pb2.Booking(
        id="ignored",
        service_id=SERVICE_ID,
        booked_entity=bookings_pb2.BookedEntity(**item),  # type: ignore[arg-type]
        number_of_participants=4,
        contact=bookings_pb2.ContactDetails(name="Ada", email="ada@example.com"),
        status=bookings_pb2.CANCELED,
        revision=9,
    )
    draft = booking_draft_from_proto(bookings_pb2.CreateBookingRequest(booking=sent, idempotency_key="key"))
    assert (draft.service_id, draft.entity_kind, draft.entity_id, draft.number_of_participants) == (SERVICE_ID, kind, entity, 4)
    assert (draft.contact, draft.idempotency_key) == (Contact("Ada", "ada@example.com"), "key")


@pytest.mark.parametrize(
    "change, ce_type, message_type",
    [
        (Change.CREATED, "bookings.booking.created.v1", booking_events_pb2.BookingCreated),
        (Change.CONFIRMED, "bookings.booking.confirmed.v1", booking_events_pb2.BookingConfirmed),
        (Change.DECLINED, "bookings.booking.declined.v1", booking_events_pb2.BookingDeclined),
        (Change.CANCELED, "bookings.booking.canceled.v1", booking_events_pb2.BookingCanceled),
        (Change.NUMBER_OF_PARTICIPANTS_UPDATED, "bookings.booking.number_of_participants_updated.v1", booking_events_pb2.BookingNumberOfParticipantsUpdated),
    ],
    ids=lambda v: v.value if isinstance(v, Change) else None,
)
def test_each_change_publishes_the_whole_booking_keyed_by_its_id(change: Change, ce_type: str, message_type: type) -> None:
    event = booking_event("tenant-a", change, booking(), previous_participants=1)
    assert (event.topic, event.key, event.subject, event.tenant_id, event.ce_type) == (topics.BOOKING_EVENTS.name, BOOKING_ID, BOOKING_ID, "tenant-a", ce_type)
    assert isinstance(event.message, message_type)
    assert event.message.booking == booking_to_proto(booking())  # type: ignore[attr-defined]
    if change is Change.NUMBER_OF_PARTICIPANTS_UPDATED:
        assert event.message.previous_number_of_participants == 1  # type: ignore[attr-defined]
