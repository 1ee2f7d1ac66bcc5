"""The two Kafka entrypoints over the use cases, with in-memory fakes of the store and of
timeframes (fakes.py): what a message decodes to, which messages are poison (straight to the
DLQ), which are skipped, and what the event updater settles for a batch of messages."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.participations.v3 import participations_pb2
from services.api.bookings.v2 import bookings_pb2
from services.common import topics
from services.common.errors import DependencyUnavailable
from services.common.kafka import Envelope, PoisonMessage, is_transient
from services.common.paging import CursorCodec
from services.participations.application.participations import EventUpdater, Participations
from services.participations.domain.model import ParticipationChange, Target
from services.participations.entrypoints.events import BookingsConsumer, EventUpdaterConsumer
from tests.unit.participations.fakes import FakeCalendar, FakeStore

TENANT = "t-1"
BOOKING_ID = "5c1e0f0e-3f4a-4f53-9b8e-0d6d0f5a2b11"
EVENT_ID = "3f0c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
SCHEDULE_ID = "71c29a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
CREATED = "bookings.booking.created.v1"
RESIZED = "bookings.booking.number_of_participants_updated.v1"
CANCELED = "bookings.booking.canceled.v1"


def envelope(ce_type: str, value: bytes | Message, *, tenant: str = TENANT, topic: str = topics.BOOKING_EVENTS.name) -> Envelope:
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


async def test_an_appointment_booking_makes_no_participation(consumer: BookingsConsumer, store: FakeStore) -> None:
    slot = bookings_pb2.Slot(staff_member_id="9d3c2b1a-0000-4000-8000-000000000001")
    slot.start_date.FromDatetime(datetime(2026, 12, 1, 9, tzinfo=UTC))
    slot.end_date.FromDatetime(datetime(2026, 12, 1, 10, tzinfo=UTC))
    for ce_type, message in [
        (CREATED, booking_events_pb2.BookingCreated(booking=booking(booked_entity=bookings_pb2.BookedEntity(slot=slot)))),
        (CANCELED, booking_events_pb2.BookingCanceled(booking=booking(booked_entity=bookings_pb2.BookedEntity(slot=slot), status=bookings_pb2.CANCELED))),
    ]:
        await deliver(consumer, envelope(ce_type, message))
    assert store.tenants == {}


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

COURSE = Target.schedule(SCHEDULE_ID)
CLASS = Target.event(EVENT_ID)


@pytest.fixture
def calendar() -> FakeCalendar:
    return FakeCalendar(known={TENANT: {COURSE, CLASS}})


@pytest.fixture
def updater(store: FakeStore, calendar: FakeCalendar) -> EventUpdaterConsumer:
    return EventUpdaterConsumer(EventUpdater(store, calendar))


def participation_message(change: str, *, event_id: str = "", schedule_id: str = "", party: int = 2, tenant: str = TENANT) -> Envelope:
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
    return envelope(f"bookings.participation.{change}.v1", message_type(participation=participation), tenant=tenant, topic=topics.PARTICIPATION_EVENTS.name)


def course_booking(party: int, booking_id: str = BOOKING_ID) -> bookings_pb2.Booking:
    return booking(
        id=booking_id, booked_entity=bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=SCHEDULE_ID)), number_of_participants=party
    )


def settled(calendar: FakeCalendar) -> list[tuple[Target, int]]:
    return [(t.target, t.participants_total) for _, totals in calendar.calls for t in totals]


async def test_a_course_participation_settles_the_schedules_total_once_however_many_sessions_it_has(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar
) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(3))))
    message = participation_message("created", schedule_id=SCHEDULE_ID, party=99)  # the size in the message is never used

    await deliver(updater, message)
    await deliver(updater, message)  # a duplicate: timeframes acknowledged this version already, so nothing is sent

    assert settled(calendar) == [(COURSE, 3)] and calendar.total(TENANT, COURSE) == 3


async def test_a_total_is_sent_again_by_an_updater_that_does_not_know_timeframes_has_it(
    consumer: BookingsConsumer, store: FakeStore, calendar: FakeCalendar
) -> None:
    """Another replica, or this one after a restart: it sends the same version, and timeframes
    acknowledges it as stale."""
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(3))))
    message = participation_message("created", schedule_id=SCHEDULE_ID)
    for replica in (EventUpdaterConsumer(EventUpdater(store, calendar)), EventUpdaterConsumer(EventUpdater(store, calendar))):
        await deliver(replica, message)
    (first,), (again,) = (totals for _, totals in calendar.calls)
    assert first == again and calendar.total(TENANT, COURSE) == 3


# --- the fast path: settled right after the participation committed ---------------------------------


@pytest.fixture
async def fast(store: FakeStore, calendar: FakeCalendar) -> AsyncIterator[tuple[BookingsConsumer, EventUpdater]]:
    ids = (f"0c4a6c8e-0000-4000-8000-{n:012d}" for n in itertools.count())
    participations = Participations(store, CursorCodec(b"k"), new_id=lambda: next(ids), now=lambda: datetime(2026, 11, 21, tzinfo=UTC))
    async with EventUpdater(store, calendar) as updater:
        yield BookingsConsumer(participations, settle_soon=updater.settle_soon), updater


async def settled_soon(calendar: FakeCalendar, calls: int) -> None:
    for _ in range(100):
        if len(calendar.calls) >= calls:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{calls} settlement call(s) expected, {len(calendar.calls)} made")


async def test_a_committed_change_is_settled_without_waiting_for_its_message(fast: tuple[BookingsConsumer, EventUpdater], calendar: FakeCalendar) -> None:
    consumer, updater = fast
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(3))))
    await settled_soon(calendar, 1)
    assert settled(calendar) == [(COURSE, 3)]

    # The participation message arrives later and finds it settled: nothing more is sent.
    await deliver(EventUpdaterConsumer(updater), participation_message("created", schedule_id=SCHEDULE_ID))
    assert len(calendar.calls) == 1


async def test_when_the_fast_path_fails_the_message_settles_it(fast: tuple[BookingsConsumer, EventUpdater], calendar: FakeCalendar) -> None:
    consumer, updater = fast
    calendar.down = DependencyUnavailable("timeframes", "UNAVAILABLE: connection refused")
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(3))))  # the booking is applied all the same
    await asyncio.sleep(0.01)
    assert calendar.stored == {}

    calendar.down = None
    await deliver(EventUpdaterConsumer(updater), participation_message("created", schedule_id=SCHEDULE_ID))
    assert settled(calendar) == [(COURSE, 3)]


async def test_a_class_participation_settles_its_event_only(consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking(number_of_participants=4))))
    await deliver(updater, participation_message("created", event_id=EVENT_ID))
    assert settled(calendar) == [(CLASS, 4)]


async def test_a_batch_settles_each_target_once_with_its_current_total(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar
) -> None:
    """Many changes of one course fetched together: one read, one call, the sum of all of them."""
    ids = [f"5c1e0f0e-3f4a-4f53-9b8e-0d6d0f5a2b{n:02d}" for n in range(5)]
    for booking_id in ids:
        await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(2, booking_id))))
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=booking(id=BOOKING_ID.replace("5c", "6c", 1)))))
    batch = [participation_message("created", schedule_id=SCHEDULE_ID) for _ in ids] + [participation_message("created", event_id=EVENT_ID)]
    await updater.subscription().deliver(batch)
    assert settled(calendar) == [(COURSE, 10), (CLASS, 2)]
    assert len(calendar.calls) == 1


def revised(booking: bookings_pb2.Booking, revision: int, **fields: object) -> bookings_pb2.Booking:
    changed = bookings_pb2.Booking()
    changed.CopyFrom(booking)
    changed.revision = revision
    for name, value in fields.items():
        setattr(changed, name, value)
    return changed


async def test_a_booking_created_resized_and_canceled_within_one_batch_settles_to_what_is_left(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar, store: FakeStore
) -> None:
    """The updater sends current totals, never deltas: however a booking's changes are batched,
    the total is what its participations sum to once they are applied."""
    churned, kept = course_booking(3), course_booking(2, BOOKING_ID.replace("5c", "7c", 1))
    for ce_type, message in (
        (CREATED, booking_events_pb2.BookingCreated(booking=churned)),
        (CREATED, booking_events_pb2.BookingCreated(booking=kept)),
        (RESIZED, booking_events_pb2.BookingNumberOfParticipantsUpdated(booking=revised(churned, 2, number_of_participants=5))),
        (CANCELED, booking_events_pb2.BookingCanceled(booking=revised(churned, 3, number_of_participants=5, status=bookings_pb2.CANCELED))),
    ):
        await deliver(consumer, envelope(ce_type, message))
    announced = [participation_message(a.change.value, schedule_id=SCHEDULE_ID) for a in store.data(TENANT).outbox]
    assert [a.change for a in store.data(TENANT).outbox] == [
        ParticipationChange.CREATED,
        ParticipationChange.CREATED,
        ParticipationChange.UPDATED,
        ParticipationChange.REMOVED,
    ]

    await updater.subscription().deliver(announced)
    assert settled(calendar) == [(COURSE, 2)] and len(calendar.calls) == 1


async def test_a_batch_of_several_tenants_settles_each_tenant_apart(consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(2))))
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(5)), tenant="t-2"))
    calendar.known["t-2"] = {COURSE}
    await updater.subscription().deliver([participation_message("created", schedule_id=SCHEDULE_ID, tenant=t) for t in (TENANT, "t-2")])
    assert sorted((tenant, t.participants_total) for tenant, totals in calendar.calls for t in totals) == [("t-1", 2), ("t-2", 5)]


async def test_a_target_timeframes_does_not_know_is_reported_and_changes_nothing(
    consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar
) -> None:
    calendar.known[TENANT] = set()
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(2))))
    await deliver(updater, participation_message("created", schedule_id=SCHEDULE_ID))
    assert calendar.stored == {}


async def test_a_message_about_a_participation_that_never_counted_settles_nothing(updater: EventUpdaterConsumer, calendar: FakeCalendar) -> None:
    await deliver(updater, participation_message("created", schedule_id=SCHEDULE_ID))
    assert settled(calendar) == []


async def test_a_participation_message_without_a_target_is_poison(updater: EventUpdaterConsumer) -> None:
    with pytest.raises(PoisonMessage, match="target"):
        await deliver(updater, participation_message("removed"))


async def test_a_timeframes_outage_is_transient(consumer: BookingsConsumer, updater: EventUpdaterConsumer, calendar: FakeCalendar) -> None:
    await deliver(consumer, envelope(CREATED, booking_events_pb2.BookingCreated(booking=course_booking(2))))
    calendar.down = DependencyUnavailable("timeframes", "UNAVAILABLE: connection refused")
    with pytest.raises(DependencyUnavailable) as exc:
        await deliver(updater, participation_message("created", schedule_id=SCHEDULE_ID))
    assert is_transient(exc.value)  # retried until timeframes is back, never dead-lettered
