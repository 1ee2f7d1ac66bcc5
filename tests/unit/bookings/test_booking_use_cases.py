"""The booking use cases (services/bookings/application/bookings.py) against in-memory fakes of
the store (tests/unit/bookings/fakes.py), availability and the calendar: what is asked of availability and
when, that nothing is written on any rejection, idempotent replays, the precedence of errors, and
which writes count a strict-capacity service's bookings under its entity's lock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from services.bookings.application.appointments import Appointments
from services.bookings.application.bookings import Bookings
from services.bookings.application.ports import AvailabilityAnswer, CalendarEvent, NotAClassSession
from services.bookings.domain.bookings import BookingDraft, BookingStatus, Change, Contact
from services.bookings.domain.policies import BookingPolicy, CancellationPolicy, ParticipantsPolicy
from services.bookings.domain.services import Service, ServiceType
from services.common.errors import DependencyUnavailable, FailedPrecondition, InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec
from tests.unit.bookings.fakes import FakeAppointmentSlots, FakeHolds, FakeStore

TENANT = "tenant-a"
COURSE_ID = "11111111-1111-4111-8111-111111111111"
CLASS_ID = "22222222-2222-4222-8222-222222222222"
COURSE_SCHEDULE = "33333333-3333-4333-8333-333333333333"
CLASS_SCHEDULE = "44444444-4444-4444-8444-444444444444"
EVENT_ID = "55555555-5555-4555-8555-555555555555"
FOREIGN_EVENT = "66666666-6666-4666-8666-666666666666"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OK = AvailabilityAnswer(bookable=True, open_spots=5, total_spots=10, refusal_reason="", capacity=10)


def policy(max_participants: int = 4, cancel_minutes: int | None = None) -> BookingPolicy:
    cancellation = CancellationPolicy(cancel_minutes is not None, cancel_minutes or 0)
    return BookingPolicy(participants_policy=ParticipantsPolicy(max_participants), cancellation_policy=cancellation)


def service(kind: ServiceType, *, manual: bool = False, p: BookingPolicy | None = None, strict: bool = False) -> Service:
    course = kind is ServiceType.COURSE
    return Service(
        id=COURSE_ID if course else CLASS_ID,
        type=kind,
        name="x",
        default_capacity=10,
        time_zone="Europe/Vienna",
        online_booking_enabled=True,
        requires_manual_approval=manual,
        booking_policy=p or policy(),
        strict_capacity=strict,
        schedule_id=COURSE_SCHEDULE if course else CLASS_SCHEDULE,
    )


@dataclass
class FakeAvailability:
    """Answers `answer` for any entity it knows; like availability, a slot's answer names the
    event's schedule (unless `names_schedules` is off, as from an older release), an unknown event
    is NotFound and a course's session NotAClassSession."""

    answer: AvailabilityAnswer = OK
    error: Exception | None = None
    asked: list[tuple[str, str, int]] = field(default_factory=list)
    events: dict[str, CalendarEvent] = field(default_factory=dict)
    course_schedules: set[str] = field(default_factory=set)
    names_schedules: bool = True

    async def _reply(self, kind: str, entity: str, n: int) -> AvailabilityAnswer:
        self.asked.append((kind, entity, n))
        if self.error is not None:
            raise self.error
        return self.answer

    async def schedule(self, schedule_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer:
        assert service.schedule_id == schedule_id  # the booked service, as bookings read it
        return await self._reply("schedule", schedule_id, number_of_participants)

    async def slot(self, event_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer:
        answer = await self._reply("slot", event_id, number_of_participants)
        event = self.events.get(event_id)
        if event is None:
            raise NotFound("event", event_id)
        if event.schedule_id in self.course_schedules:
            raise NotAClassSession(event_id)
        return replace(answer, schedule_id=event.schedule_id if self.names_schedules else "")


@dataclass
class FakeCalendar:
    events: dict[str, CalendarEvent] = field(default_factory=dict)
    first_starts: dict[str, datetime] = field(default_factory=dict)

    async def event(self, event_id: str) -> CalendarEvent | None:
        return self.events.get(event_id)

    async def first_session_start(self, schedule_id: str) -> datetime | None:
        return self.first_starts.get(schedule_id)


@dataclass
class World:
    store: FakeStore
    availability: FakeAvailability
    calendar: FakeCalendar
    bookings: Bookings


@pytest.fixture
def world() -> World:
    ids = (f"aaaaaaaa-0000-4000-8000-{n:012d}" for n in itertools.count(1))
    store, availability = FakeStore(), FakeAvailability()
    calendar = FakeCalendar(
        events={
            EVENT_ID: CalendarEvent(EVENT_ID, CLASS_SCHEDULE, NOW + timedelta(hours=2), False),
            FOREIGN_EVENT: CalendarEvent(FOREIGN_EVENT, COURSE_SCHEDULE, NOW + timedelta(hours=2), False),
        },
        first_starts={COURSE_SCHEDULE: NOW + timedelta(hours=2)},
    )
    for kind in (ServiceType.COURSE, ServiceType.CLASS):
        store.add_service(TENANT, service(kind))
    availability.events, availability.course_schedules = calendar.events, {COURSE_SCHEDULE}
    appointments = Appointments(store, FakeAppointmentSlots(), FakeHolds())
    bookings = Bookings(store, availability, calendar, CursorCodec(b"k" * 32), appointments, new_id=lambda: next(ids), clock=lambda: NOW)
    return World(store, availability, calendar, bookings)


def course_draft(**fields: object) -> BookingDraft:
    values: dict[str, object] = {
        "service_id": COURSE_ID,
        "entity_kind": "schedule",
        "entity_id": COURSE_SCHEDULE,
        "number_of_participants": 2,
        "contact": Contact("Ada", "ada@example.com"),
    }
    values.update(fields)
    return BookingDraft(**values)  # type: ignore[arg-type]


def class_draft(event_id: str = EVENT_ID, **fields: object) -> BookingDraft:
    return course_draft(service_id=CLASS_ID, entity_kind="slot", entity_id=event_id, **fields)


# --- create ----------------------------------------------------------------------------------------


async def test_a_course_booking_asks_for_its_schedule_and_party(world: World) -> None:
    booking = await world.bookings.create(TENANT, course_draft(number_of_participants=3))
    assert world.availability.asked == [("schedule", COURSE_SCHEDULE, 3)]
    assert booking.status is BookingStatus.CONFIRMED
    assert world.store.announced == [(Change.CREATED, booking.id, 0)]


async def test_a_class_booking_asks_for_its_event(world: World) -> None:
    await world.bookings.create(TENANT, class_draft())
    assert world.availability.asked == [("slot", EVENT_ID, 2)]


async def test_a_manual_approval_service_creates_pending(world: World) -> None:
    world.store.add_service(TENANT, service(ServiceType.COURSE, manual=True))
    assert (await world.bookings.create(TENANT, course_draft())).status is BookingStatus.PENDING


@pytest.mark.parametrize(
    "reason",
    ["TOO_EARLY_TO_BOOK", "TOO_LATE_TO_BOOK", "BOOK_ONLINE_DISABLED", "CAPACITY_EXCEEDED", "EVENT_CANCELLED", "MAX_PARTICIPANTS_EXCEEDED"],
)
async def test_a_refusal_is_its_reason_and_writes_nothing(world: World, reason: str) -> None:
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=1, total_spots=10, refusal_reason=reason, capacity=10)
    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.create(TENANT, class_draft())
    assert exc.value.reason == reason
    assert (world.store.bookings_of(TENANT), world.store.announced) == ({}, [])


async def test_availability_unreachable_writes_nothing(world: World) -> None:
    world.availability.error = DependencyUnavailable("availability", "UNAVAILABLE")
    with pytest.raises(DependencyUnavailable):
        await world.bookings.create(TENANT, course_draft())
    assert world.store.bookings_of(TENANT) == {}


async def test_a_not_bookable_answer_without_a_reason_is_a_contract_bug(world: World) -> None:
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=0, total_spots=10, refusal_reason="", capacity=10)
    with pytest.raises(RuntimeError):
        await world.bookings.create(TENANT, course_draft())
    assert world.store.bookings_of(TENANT) == {}


OTHER_CLASS_EVENT = "66666666-6666-4666-8666-666666666666"


@pytest.mark.parametrize("names_schedules", [True, False], ids=["availability-names-the-schedule", "an-older-availability-the-event-is-read"])
@pytest.mark.parametrize(
    "event_id, error",
    [
        pytest.param(FOREIGN_EVENT, InvalidArgument, id="a-course-session"),
        pytest.param(OTHER_CLASS_EVENT, InvalidArgument, id="a-session-of-another-class"),
        pytest.param("77777777-7777-4777-8777-777777777777", NotFound, id="an-unknown-event"),
    ],
)
async def test_a_wrong_event_is_reported_before_availability_s_answer(world: World, names_schedules: bool, event_id: str, error: type[Exception]) -> None:
    """Whatever availability would refuse about the event, the caller learns what is wrong with
    its request."""
    world.calendar.events[OTHER_CLASS_EVENT] = CalendarEvent(OTHER_CLASS_EVENT, "55555555-5555-4555-8555-555555555555", NOW + timedelta(hours=2), False)
    world.availability.names_schedules = names_schedules
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=0, total_spots=10, refusal_reason="TOO_LATE_TO_BOOK", capacity=10)
    with pytest.raises(error) as exc:
        await world.bookings.create(TENANT, class_draft(event_id))
    if error is InvalidArgument:
        assert exc.value.violations[0].field == "booking.booked_entity.slot.event_id"  # type: ignore[attr-defined]
    assert world.store.bookings_of(TENANT) == {}


async def test_invalid_requests_ask_nobody(world: World) -> None:
    with pytest.raises(InvalidArgument):
        await world.bookings.create(TENANT, course_draft(number_of_participants=0))
    with pytest.raises(NotFound):
        await world.bookings.create(TENANT, course_draft(service_id="99999999-9999-4999-8999-999999999999"))
    assert world.availability.asked == []


async def test_a_replayed_key_is_answered_from_storage_without_asking_again(world: World) -> None:
    first = await world.bookings.create(TENANT, course_draft(idempotency_key="k"))
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=0, total_spots=10, refusal_reason="CAPACITY_EXCEEDED", capacity=10)

    again = await world.bookings.create(TENANT, course_draft(idempotency_key="k"))

    assert again == first
    assert len(world.availability.asked) == 1
    assert len(world.store.announced) == 1


async def test_losing_the_insert_race_answers_with_the_winners_booking(world: World) -> None:
    winner = await world.bookings.create(TENANT, course_draft(idempotency_key="k"))
    world.store.bookings.clear()
    world.store.lose_race_to = winner

    assert await world.bookings.create(TENANT, course_draft(idempotency_key="k")) == winner
    world.store.lose_race_to = winner
    with pytest.raises(InvalidArgument):
        await world.bookings.create(TENANT, course_draft(idempotency_key="k", number_of_participants=1))


# --- party size ------------------------------------------------------------------------------------


async def test_an_increase_asks_for_the_added_participants_only(world: World) -> None:
    booking = await world.bookings.create(TENANT, course_draft(number_of_participants=1))
    world.availability.asked.clear()

    grown = await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 4)

    assert world.availability.asked == [("schedule", COURSE_SCHEDULE, 3)]
    assert (grown.number_of_participants, grown.revision) == (4, 2)
    assert world.store.announced[-1] == (Change.NUMBER_OF_PARTICIPANTS_UPDATED, booking.id, 1)


async def test_a_decrease_or_no_change_asks_nobody(world: World) -> None:
    booking = await world.bookings.create(TENANT, class_draft(number_of_participants=3))
    world.availability.asked.clear()

    assert await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 3) == booking
    smaller = await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 1)

    assert world.availability.asked == []
    assert (smaller.number_of_participants, smaller.revision) == (1, 2)


async def test_an_increase_over_the_limit_is_refused_before_asking(world: World) -> None:
    booking = await world.bookings.create(TENANT, course_draft(number_of_participants=1))
    world.availability.asked.clear()
    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 5)
    assert exc.value.reason == "MAX_PARTICIPANTS_EXCEEDED"
    assert world.availability.asked == []
    assert world.store.bookings_of(TENANT)[booking.id] == booking


async def test_an_increase_availability_refuses_writes_nothing(world: World) -> None:
    booking = await world.bookings.create(TENANT, course_draft(number_of_participants=1))
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=0, total_spots=10, refusal_reason="CAPACITY_EXCEEDED", capacity=10)
    with pytest.raises(FailedPrecondition):
        await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 2)
    assert world.store.bookings_of(TENANT)[booking.id] == booking
    assert len(world.store.announced) == 1


async def test_a_stale_revision_is_aborted_before_any_rule(world: World) -> None:
    booking = await world.bookings.create(TENANT, course_draft())
    await world.bookings.cancel(TENANT, booking.id, 1)
    with pytest.raises(RevisionMismatch):
        await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 3)  # stale, and canceled


# --- cancellation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes, allowed",
    [pytest.param(None, True, id="no policy"), pytest.param(60, True, id="2 h ahead, 60 min window"), pytest.param(180, False, id="2 h ahead, 3 h window")],
)
async def test_the_course_window_is_measured_from_its_first_session(world: World, minutes: int | None, allowed: bool) -> None:
    world.store.add_service(TENANT, service(ServiceType.COURSE, p=policy(cancel_minutes=minutes)))
    booking = await world.bookings.create(TENANT, course_draft())
    if allowed:
        assert (await world.bookings.cancel(TENANT, booking.id, 1)).status is BookingStatus.CANCELED
        return
    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.cancel(TENANT, booking.id, 1)
    assert exc.value.reason == "TOO_LATE_TO_CANCEL"
    assert world.store.bookings_of(TENANT)[booking.id].status is BookingStatus.CONFIRMED


async def test_the_class_window_is_measured_from_its_event_unless_it_was_cancelled(world: World) -> None:
    world.store.add_service(TENANT, service(ServiceType.CLASS, p=policy(cancel_minutes=180)))
    booking = await world.bookings.create(TENANT, class_draft())
    with pytest.raises(FailedPrecondition):
        await world.bookings.cancel(TENANT, booking.id, 1)
    world.calendar.events[EVENT_ID] = replace(world.calendar.events[EVENT_ID], cancelled=True)
    assert (await world.bookings.cancel(TENANT, booking.id, 1)).status is BookingStatus.CANCELED


async def test_a_booking_of_a_deleted_service_can_be_canceled(world: World) -> None:
    world.store.add_service(TENANT, service(ServiceType.COURSE, p=policy(cancel_minutes=180)))
    booking = await world.bookings.create(TENANT, course_draft())
    del world.store.services[(TENANT, COURSE_ID)]
    assert (await world.bookings.cancel(TENANT, booking.id, 1)).status is BookingStatus.CANCELED


# --- strict capacity -------------------------------------------------------------------------------


def make_strict(world: World, kind: ServiceType, *, capacity: int, max_participants: int = 4) -> None:
    """Makes the service of `kind` strict, and availability answer with `capacity`."""
    s = service(kind, strict=True, p=policy(max_participants))
    world.store.add_service(TENANT, s)
    world.availability.answer = replace(OK, capacity=capacity)


async def test_without_strict_capacity_no_write_is_asked_to_count(world: World) -> None:
    course = await world.bookings.create(TENANT, course_draft(number_of_participants=1))
    await world.bookings.create(TENANT, class_draft())
    await world.bookings.update_number_of_participants(TENANT, course.id, 1, 3)
    assert world.store.locked == [False, False, False]


async def test_a_strict_class_counts_its_bookings_against_the_event_capacity(world: World) -> None:
    make_strict(world, ServiceType.CLASS, capacity=3)
    await world.bookings.create(TENANT, class_draft(number_of_participants=2))
    await world.bookings.create(TENANT, class_draft(number_of_participants=1))

    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.create(TENANT, class_draft(number_of_participants=1))

    assert (exc.value.reason, exc.value.metadata) == ("CAPACITY_EXCEEDED", {"open_spots": "0", "total_spots": "3"})
    assert world.store.locked == [True, True, True]
    assert len(world.store.bookings_of(TENANT)) == len(world.store.announced) == 2


async def test_a_strict_course_counts_against_the_capacity_availability_gives_for_it(world: World) -> None:
    # The course's smallest session ahead holds 4, though its largest session holds 10.
    make_strict(world, ServiceType.COURSE, capacity=4)
    await world.bookings.create(TENANT, course_draft(number_of_participants=4))
    with pytest.raises(FailedPrecondition):
        await world.bookings.create(TENANT, course_draft(number_of_participants=1))
    assert world.store.locked == [True, True]


async def test_a_strict_service_takes_its_own_count_over_availabilitys_capacity_refusal(world: World) -> None:
    # Availability still shows the spot a cancellation just freed (eventual capacity): the
    # bookings themselves say it is free.
    make_strict(world, ServiceType.CLASS, capacity=1)
    first = await world.bookings.create(TENANT, class_draft(number_of_participants=1))
    await world.bookings.cancel(TENANT, first.id, 1)
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=0, total_spots=1, refusal_reason="CAPACITY_EXCEEDED", capacity=1)

    again = await world.bookings.create(TENANT, class_draft(number_of_participants=1))

    assert again.status is BookingStatus.CONFIRMED
    assert world.store.locked == [True, False, True]  # the cancel counts nothing


@pytest.mark.parametrize("reason", ["TOO_EARLY_TO_BOOK", "TOO_LATE_TO_BOOK", "BOOK_ONLINE_DISABLED", "EVENT_CANCELLED", "MAX_PARTICIPANTS_EXCEEDED"])
async def test_a_strict_service_still_takes_availabilitys_policy_refusals(world: World, reason: str) -> None:
    make_strict(world, ServiceType.CLASS, capacity=10)
    world.availability.answer = AvailabilityAnswer(bookable=False, open_spots=10, total_spots=10, refusal_reason=reason, capacity=10)
    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.create(TENANT, class_draft())
    assert exc.value.reason == reason
    assert (world.store.bookings_of(TENANT), world.store.locked) == ({}, [])


async def test_a_replay_on_a_full_strict_service_answers_with_its_booking(world: World) -> None:
    make_strict(world, ServiceType.COURSE, capacity=2)
    first = await world.bookings.create(TENANT, course_draft(number_of_participants=2, idempotency_key="k"))

    assert await world.bookings.create(TENANT, course_draft(number_of_participants=2, idempotency_key="k")) == first
    with pytest.raises(FailedPrecondition):
        await world.bookings.create(TENANT, course_draft(number_of_participants=2, idempotency_key="other"))


async def test_a_strict_increase_counts_the_new_size_and_a_decrease_counts_nothing(world: World) -> None:
    make_strict(world, ServiceType.CLASS, capacity=4)
    booking = await world.bookings.create(TENANT, class_draft(number_of_participants=2))
    await world.bookings.create(TENANT, class_draft(number_of_participants=1))

    grown = await world.bookings.update_number_of_participants(TENANT, booking.id, 1, 3)  # 3 + 1 of 4
    with pytest.raises(FailedPrecondition) as exc:
        await world.bookings.update_number_of_participants(TENANT, booking.id, 2, 4)  # 4 + 1 of 4
    assert (exc.value.reason, exc.value.metadata) == ("CAPACITY_EXCEEDED", {"open_spots": "3", "total_spots": "4"})
    assert world.store.bookings_of(TENANT)[booking.id] == grown

    world.availability.answer = replace(OK, capacity=1)  # the capacity was lowered: the event is overbooked
    smaller = await world.bookings.update_number_of_participants(TENANT, booking.id, 2, 1)
    assert smaller.number_of_participants == 1
    assert world.store.locked[2:] == [True, True, False]
