"""The two Kafka entrypoints over the use cases, with in-memory fakes of the store and of
timeframes (fakes.py): what a message decodes to, which messages are poison (straight to the
DLQ), which are skipped, and what the event updater settles for each message."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.participations.v3 import participations_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.events.v3 import events_pb2
from services.common.errors import DependencyUnavailable
from services.common.kafka import Envelope, PoisonMessage, is_transient
from services.common.paging import CursorCodec
from services.participations.domain.model import ParticipationChange
from services.participations.domain.totals import EventRef
from services.participations.entrypoints.events import BookingsConsumer, EventUpdaterConsumer
from services.participations.handlers import EventUpdater, Participations
from tests.unit.participations.fakes import FakeCalendar, FakeStore

TENANT = "t-1"
BOOKING_ID = "5c1e0f0e-3f4a-4f53-9b8e-0d6d0f5a2b11"
EVENT_ID = "3f0c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
SCHEDULE_ID = "71c29a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
SESSIONS = [EventRef(f"00000000-0000-4000-8000-00000000000{i}", SCHEDULE_ID) for i in range(3)]
CLASS_EVENT = EventRef(EVENT_ID, "99999999-0000-4000-8000-000000000000")
CREATED = "bookings.booking.created.v1"


def envelope(ce_type: str, value: bytes | Message, *, tenant: str = TENANT, topic: str = "bookings.booking-events.v1") -> Envelope:
    raw = value if isinstance(value, bytes) else value.SerializeToString()
    return Envelope(topic=topic, partition=0, offset=0, key=BOOKING_ID, headers={"ce_type": ce_type}, ce_type=ce_type, tenant_id=tenant, value=raw)


async def deliver(consumer: BookingsConsumer | EventUpdaterConsumer, message: Envelope) -> None:
    """The message through the consumer's route step and effect, as the runner delivers it."""
    await consumer.subscription().deliver([message])


def booking(**fields: object) -> bookings_pb2.Booking:
    base: dict[str, object] = {
        "id": BOOKING_ID,
        "service_id": "svc",
        "booked_entity": bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(event_id=EVENT_ID)),
        "number_of_participants": 2,
        "status": bookings_pb2.CONFIRMED,
        "revision": 1,
    }
    return bookings_pb2.Booking(**(base | fields))  # type: ignore[arg-type]


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def consumer(store: FakeStore) -> BookingsConsumer:
    ids = (f"0b4a6c8e-0000-4000-8000-{n:012d}" for n in itertools.count())
    return BookingsConsumer(Participations(store, CursorCodec(b"k"), new_id=lambda: next(ids), now=lambda: datetime(2026, 11, 21, tzinfo=UTC)))


# --- bookings consumer ---------------------------------------------------------------------------


async def test_a_booking_message_becomes_a_participation_and_its_announcement_in_one_transaction(consumer: BookingsConsumer, store: FakeStore) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking())))
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking())))  # redelivered

    data = store.data(TENANT)
    (row,) = data.rows.values()
    assert (row.booking_id, row.target.id, row.party_size, row.active) == (BOOKING_ID, EVENT_ID, 2, True)
    assert [a.change for a in data.outbox] == [ParticipationChange.CREATED]


async def test_a_course_booking_is_a_schedule_participation(consumer: BookingsConsumer, store: FakeStore) -> None:
    course = booking(booked_entity=bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=SCHEDULE_ID)), status=bookings_pb2.PENDING)
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course)))
    (row,) = store.data(TENANT).rows.values()
    assert (row.target.kind.value, row.target.id) == ("schedule", SCHEDULE_ID)


async def test_tenants_are_kept_apart(consumer: BookingsConsumer, store: FakeStore) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking())))
    await deliver(
        consumer,
        envelope("bookings.booking.canceled.v1", booking_events_pb2.BookingCanceled(booking=booking(status=bookings_pb2.CANCELED, revision=2)), tenant="t-2"),
    )
    assert store.data(TENANT).rows[BOOKING_ID].active
    assert not store.data("t-2").rows[BOOKING_ID].active


@pytest.mark.parametrize(
    "ce_type, value, tenant, reason",
    [
        pytest.param(CREATED, b"\xff\xff\xff", TENANT, "value is not a bookings.booking_events.v1.BookingCreated", id="undecodable-value"),
        pytest.param(CREATED, booking_events_pb2.BookingCreated(booking=booking()), "", "without ce_tenantid", id="no-tenant"),
        pytest.param(CREATED, booking_events_pb2.BookingCreated(), TENANT, "without a booking", id="no-booking"),
        pytest.param(CREATED, booking_events_pb2.BookingCreated(booking=booking(id="42")), TENANT, "booking.id must be a UUID", id="booking-id-not-a-uuid"),
        pytest.param(
            CREATED, booking_events_pb2.BookingCreated(booking=booking(booked_entity=bookings_pb2.BookedEntity())), TENANT, "booked_entity", id="nothing-booked"
        ),
        pytest.param(
            CREATED,
            booking_events_pb2.BookingCreated(booking=booking(booked_entity=bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(event_id="x")))),
            TENANT,
            "booked_entity",
            id="event-id-not-a-uuid",
        ),
        pytest.param(
            CREATED,
            booking_events_pb2.BookingCreated(booking=booking(status=bookings_pb2.BOOKING_STATUS_UNSPECIFIED)),
            TENANT,
            "booking.status",
            id="no-status",
        ),
        pytest.param(CREATED, booking_events_pb2.BookingCreated(booking=booking(revision=0)), TENANT, "booking.revision", id="no-revision"),
        pytest.param(
            CREATED,
            booking_events_pb2.BookingCreated(booking=booking(number_of_participants=0)),
            TENANT,
            "number_of_participants",
            id="active-without-participants",
        ),
    ],
)
async def test_a_message_that_can_never_apply_is_poison(
    consumer: BookingsConsumer, store: FakeStore, ce_type: str, value: bytes | Message, tenant: str, reason: str
) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        await deliver(consumer, envelope(ce_type, value, tenant=tenant))
    assert all(not data.rows for data in store.tenants.values())


async def test_a_cancel_may_carry_no_participants(consumer: BookingsConsumer, store: FakeStore) -> None:
    canceled = booking_events_pb2.BookingCanceled(booking=booking(status=bookings_pb2.CANCELED, number_of_participants=0, revision=2))
    await deliver(consumer, envelope("bookings.booking.canceled.v1", canceled))
    assert not store.data(TENANT).rows[BOOKING_ID].active


async def test_an_unknown_message_type_is_skipped(consumer: BookingsConsumer, store: FakeStore) -> None:
    await deliver(consumer, envelope("bookings.booking.rescheduled.v9", b"\xff\xff"))
    assert store.tenants == {}


# --- event updater ---------------------------------------------------------------------------------


@pytest.fixture
def calendar() -> FakeCalendar:
    return FakeCalendar(sessions={TENANT: [*SESSIONS, CLASS_EVENT]})


@pytest.fixture
def updater(store: FakeStore, calendar: FakeCalendar) -> EventUpdaterConsumer:
    clock = itertools.count(1000)
    return EventUpdaterConsumer(EventUpdater(store, calendar, clock_micros=lambda: next(clock)))


def participation_message(change: str, *, event_id: str = "", schedule_id: str = "", party: int = 2) -> Envelope:
    participation = participations_pb2.Participation(id="e7d9a1c4-6d1e-4b8a-9b1f-2d4c5e6f7a8b", booking_id=BOOKING_ID, party_size=party)
    if event_id:
        participation.event_id = event_id
    if schedule_id:
        participation.schedule_id = schedule_id
    message_type = {
        "created": participation_events_pb2.ParticipationCreated,
        "updated": participation_events_pb2.ParticipationUpdated,
        "removed": participation_events_pb2.ParticipationRemoved,
    }[change]
    return envelope(f"bookings.participation.{change}.v1", message_type(participation=participation), topic="bookings.participation-events.v1")


def calendar_message(ce_type: str, event: EventRef) -> Envelope:
    message = event_events_pb2.EventCreated(event=events_pb2.Event(id=event.id, schedule_id=event.schedule_id))
    return envelope(ce_type, message, topic="calendar.event-events.v1")


async def test_a_course_participation_settles_every_session_with_the_recomputed_total(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar
) -> None:
    course = booking(booked_entity=bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=SCHEDULE_ID)), number_of_participants=3)
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course)))
    message = participation_message("created", schedule_id=SCHEDULE_ID, party=99)  # the size in the message is never used

    await deliver(updater, message)
    await deliver(updater, message)  # a duplicate: the same totals again, at newer versions

    assert {(event_id, total) for _, event_id, total, _ in calendar.calls} == {(s.id, 3) for s in SESSIONS}
    assert len(calendar.calls) == 6
    versions = [version for _, event_id, _, version in calendar.calls if event_id == SESSIONS[0].id]
    assert versions == sorted(versions) and len(set(versions)) == 2
    assert calendar.total(TENANT, CLASS_EVENT.id) == 0


async def test_a_class_participation_settles_its_event_only(consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking(number_of_participants=4))))
    await deliver(updater, participation_message("created", event_id=EVENT_ID))
    assert [(event_id, total) for _, event_id, total, _ in calendar.calls] == [(EVENT_ID, 4)]


async def test_a_new_session_is_settled_only_when_its_schedule_has_course_participations(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar
) -> None:
    added = EventRef("00000000-0000-4000-8000-000000000009", SCHEDULE_ID)
    await deliver(updater, calendar_message("calendar.event.created.v1", added))
    assert calendar.calls == []

    course = booking(booked_entity=bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=SCHEDULE_ID)), number_of_participants=2)
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course)))
    await deliver(updater, calendar_message("calendar.event.created.v1", added))
    assert [(event_id, total) for _, event_id, total, _ in calendar.calls] == [(added.id, 2)]


@pytest.mark.parametrize(
    "ce_type", ["calendar.event.updated.v1", "calendar.event.cancelled.v1", "calendar.event.participants_updated.v1", "calendar.event.renamed.v7"]
)
async def test_other_calendar_messages_change_no_total(updater: EventUpdaterConsumer, calendar: FakeCalendar, ce_type: str) -> None:
    await deliver(updater, calendar_message(ce_type, SESSIONS[0]))
    assert calendar.calls == []


async def test_a_participation_message_without_a_target_is_poison(updater: EventUpdaterConsumer) -> None:
    with pytest.raises(PoisonMessage, match="target"):
        await deliver(updater, participation_message("removed"))


async def test_a_timeframes_outage_is_transient(updater: EventUpdaterConsumer, calendar: FakeCalendar, store: FakeStore) -> None:
    calendar.down = DependencyUnavailable("timeframes", "UNAVAILABLE: connection refused")
    with pytest.raises(DependencyUnavailable) as exc:
        await deliver(updater, participation_message("created", schedule_id=SCHEDULE_ID))
    assert is_transient(exc.value)  # retried until timeframes is back, never dead-lettered
