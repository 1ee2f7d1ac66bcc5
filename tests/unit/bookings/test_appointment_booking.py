"""Booking an appointment (application/appointments.py) against in-memory fakes of the store,
availability's slot answer and timeframes' holds (tests/unit/bookings/fakes.py), scenario by
scenario: who gets the appointment, what time is held, what a refusal or a failure leaves behind,
and when a hold in the way is freed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from services.bookings.application.appointments import Appointments
from services.bookings.application.bookings import Bookings
from services.bookings.domain.bookings import AppointmentSlotAnswer, BookingDraft, BookingStatus, Change, Contact, new_booking, with_staff_member
from services.bookings.domain.policies import BookingPolicy
from services.bookings.domain.services import AppointmentSettings, Service, ServiceType
from services.bookings.domain.staff import StaffMember
from services.common.errors import AlreadyExists, DependencyUnavailable, FailedPrecondition, InvalidArgument
from services.common.paging import CursorCodec
from services.common.validation import WireTimestamp
from tests.unit.bookings.fakes import FakeAppointmentSlots, FakeHolds, FakeStore

TENANT = "tenant-a"
SERVICE_ID = "11111111-1111-4111-8111-111111111111"
ANA, BEN, CAI = (f"aaaaaaaa-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
SCHEDULES = {ANA: "schedule-ana", BEN: "schedule-ben", CAI: "schedule-cai"}
START = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)  # 10:00 in Vienna
MINUTES = timedelta(minutes=1)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.slots = FakeAppointmentSlots(free=(ANA, BEN, CAI))
        self.holds = FakeHolds()
        self.appointments = Appointments(self.store, self.slots, self.holds)
        ids = (f"bbbbbbbb-0000-4000-8000-{n:012d}" for n in itertools.count(1))
        self.bookings = Bookings(self.store, None, None, CursorCodec(b"k" * 32), self.appointments, new_id=lambda: next(ids), clock=lambda: NOW)  # type: ignore[arg-type]
        settings = AppointmentSettings(duration_minutes=30, buffer_before_minutes=5, buffer_after_minutes=10)
        self.store.add_service(
            TENANT,
            Service(SERVICE_ID, ServiceType.APPOINTMENT, "Checkup", 0, "Europe/Vienna", True, False, BookingPolicy().normalized(), appointment=settings),
        )
        for staff_id, schedule in SCHEDULES.items():
            self.store.staff[(TENANT, staff_id)] = StaffMember(staff_id, f"staff {staff_id[-1]}", "", "Europe/Vienna", (SERVICE_ID,), schedule)

    async def book(self, start: datetime = START, staff: str = "", key: str = "", participants: int = 1) -> str:
        draft = BookingDraft(
            service_id=SERVICE_ID,
            entity_kind="appointment",
            number_of_participants=participants,
            contact=Contact("Ada", "ada@example.com"),
            idempotency_key=key,
            start=WireTimestamp.of(start),
            end=WireTimestamp.of(start + 30 * MINUTES),
            staff_member_id=staff,
        )
        booking = await self.bookings.create(TENANT, draft)
        assert booking.appointment is not None
        return booking.appointment.staff_member_id


@pytest.fixture
def world() -> World:
    return World()


async def test_the_named_staff_members_time_is_held_with_the_buffers_and_the_booking_announced(world: World) -> None:
    assert await world.book(staff=BEN) == BEN
    ((holder, held),) = world.holds.held.items()
    assert held == ("schedule-ben", START - 5 * MINUTES, START + 40 * MINUTES)
    (booking,) = world.store.bookings_of(TENANT).values()
    assert (booking.id, booking.status) == (holder, BookingStatus.CONFIRMED)
    assert world.store.announced == [(Change.CREATED, holder, 0)]
    assert world.slots.asked == [(START, START + 30 * MINUTES, (BEN,))]


async def test_round_robin_gives_it_to_whoever_has_fewest_appointments_that_day_then_by_id(world: World) -> None:
    assert [await world.book(START + i * 60 * MINUTES) for i in range(4)] == [ANA, BEN, CAI, ANA]


async def test_when_the_first_choice_was_just_taken_the_next_free_staff_member_gets_it(world: World) -> None:
    await world.holds.hold("someone-else", "schedule-ana", START, START + 30 * MINUTES)
    world.store.locked_booking_ids.add("someone-else")  # being written right now
    assert await world.book() == BEN


async def test_a_slot_taken_for_everyone_is_slot_unavailable_and_leaves_nothing(world: World) -> None:
    for schedule in SCHEDULES.values():
        await world.holds.hold(f"time_off:{schedule}", schedule, START - 60 * MINUTES, START + 60 * MINUTES)
    with pytest.raises(AlreadyExists) as refused:
        await world.book()
    assert refused.value.reason == "SLOT_UNAVAILABLE"
    assert world.store.bookings_of(TENANT) == {} and world.store.announced == []
    assert set(world.holds.held) == {f"time_off:{s}" for s in SCHEDULES.values()}


@pytest.mark.parametrize(
    "answer, reason",
    [
        pytest.param(AppointmentSlotAnswer((), booked=True), "SLOT_UNAVAILABLE", id="nobody free"),
        pytest.param(AppointmentSlotAnswer((ANA,), too_late=True), "TOO_LATE_TO_BOOK", id="inside the minimum notice"),
        pytest.param(AppointmentSlotAnswer((ANA,), online_disabled=True), "BOOK_ONLINE_DISABLED", id="online booking off"),
    ],
)
async def test_availability_refuses_before_any_time_is_held(world: World, answer: AppointmentSlotAnswer, reason: str) -> None:
    world.slots.answer = answer
    with pytest.raises((AlreadyExists, FailedPrecondition)) as refused:
        await world.book()
    assert refused.value.reason == reason  # type: ignore[union-attr]
    assert world.holds.held == {} and world.store.bookings_of(TENANT) == {}


async def test_a_booking_that_fails_to_commit_gives_its_time_back(world: World) -> None:
    world.store.fail_next_insert = DependencyUnavailable("postgres", "connection lost")
    with pytest.raises(DependencyUnavailable):
        await world.book(staff=ANA)
    assert world.holds.held == {} and world.store.bookings_of(TENANT) == {}


async def test_a_hold_whose_booking_never_committed_is_freed_by_the_next_booking(world: World) -> None:
    await world.holds.hold("crashed-request", "schedule-ana", START, START + 30 * MINUTES)
    assert await world.book(staff=ANA) == ANA
    assert "crashed-request" not in world.holds.held


async def test_a_hold_of_a_canceled_booking_is_freed_but_a_hold_being_written_is_not(world: World) -> None:
    await world.book(staff=ANA)
    (first,) = world.store.bookings_of(TENANT).values()
    world.holds.unreachable = True
    canceled = await world.bookings.cancel(TENANT, first.id, first.revision)  # the release fails: logged, not raised
    world.holds.unreachable = False
    assert canceled.status is BookingStatus.CANCELED and first.id in world.holds.held
    assert await world.book(staff=ANA) == ANA  # the stale hold is freed on the way

    await world.holds.hold("in-flight", "schedule-ben", START, START + 30 * MINUTES)
    world.store.locked_booking_ids.add("in-flight")
    with pytest.raises(AlreadyExists):
        await world.book(staff=BEN)
    assert "in-flight" in world.holds.held


async def test_cancelling_frees_the_time(world: World) -> None:
    await world.book(staff=CAI)
    (booking,) = world.store.bookings_of(TENANT).values()
    await world.bookings.cancel(TENANT, booking.id, booking.revision)
    assert world.holds.held == {}


async def test_a_replayed_idempotency_key_answers_the_first_booking_without_holding_again(world: World) -> None:
    assert await world.book(staff=ANA, key="k-1") == ANA
    assert await world.book(staff=ANA, key="k-1") == ANA
    assert len(world.store.bookings_of(TENANT)) == 1 and len(world.holds.held) == 1


async def test_a_request_whose_key_took_the_time_a_moment_ago_is_answered_with_that_booking(world: World) -> None:
    assert await world.book(staff=ANA, key="k-2") == ANA
    (first,) = world.store.bookings_of(TENANT).values()
    # A concurrent twin read no booking for its key before the first one committed, then found the
    # time taken: it answers with the first booking instead of SLOT_UNAVAILABLE.
    world.slots.answer = AppointmentSlotAnswer((ANA,))
    twin = BookingDraft(
        service_id=SERVICE_ID,
        entity_kind="appointment",
        number_of_participants=1,
        contact=Contact("Ada", "ada@example.com"),
        idempotency_key="k-2",
        start=WireTimestamp.of(START),
        end=WireTimestamp.of(START + 30 * MINUTES),
        staff_member_id=ANA,
    )
    booking = with_staff_member(
        new_booking(twin, "cccccccc-0000-4000-8000-000000000001", world.store.services[(TENANT, SERVICE_ID)]),
        ANA,
        START,
        START + 30 * MINUTES,
        5 * MINUTES,
        10 * MINUTES,
    )
    world.store.locked_booking_ids.add(first.id)  # as if still being written when the twin looked
    answered = await world.appointments.create(TENANT, booking, world.store.services[(TENANT, SERVICE_ID)], START, START + 30 * MINUTES, ANA)
    assert answered.id == first.id and len(world.store.bookings_of(TENANT)) == 1


async def test_the_party_size_is_bounded_by_the_policy(world: World) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        await world.book(participants=2)  # the default policy's maximum is 1
    assert refused.value.reason == "MAX_PARTICIPANTS_EXCEEDED"
    assert world.holds.held == {}


@pytest.mark.parametrize(
    "staff, start, end, bad",
    [
        pytest.param([], START, START + MINUTES, {"staff_member_ids"}, id="staff required"),
        pytest.param(["x"], START, START + MINUTES, {"staff_member_ids[0]"}, id="ids are UUIDs"),
        pytest.param([ANA] * 51, START, START + MINUTES, {"staff_member_ids"}, id="at most 50"),
        pytest.param([ANA], START, START, {"to"}, id="to after from"),
        pytest.param([ANA], START, START + timedelta(days=401), {"to"}, id="at most 400 days"),
        pytest.param([ANA], None, None, {"from", "to"}, id="both required"),
    ],
)
async def test_reading_occupied_time_names_every_bad_field(world: World, staff: list[str], start: datetime | None, end: datetime | None, bad: set[str]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await world.appointments.occupied_time(TENANT, staff, WireTimestamp.of(start) if start else None, WireTimestamp.of(end) if end else None)
    assert {v.field for v in refused.value.violations} == bad


async def test_occupied_time_lists_the_active_appointments_with_their_buffers(world: World) -> None:
    await world.book(staff=ANA)
    await world.book(START + 60 * MINUTES, staff=ANA)
    (occupied, later) = await world.appointments.occupied_time(TENANT, [ANA], WireTimestamp.of(START - 60 * MINUTES), WireTimestamp.of(START + 120 * MINUTES))
    assert (occupied.occupied_start, occupied.occupied_end) == (START - 5 * MINUTES, START + 40 * MINUTES)
    assert later.start == START + 60 * MINUTES
