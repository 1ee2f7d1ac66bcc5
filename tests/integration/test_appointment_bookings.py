"""Booking appointments against the real platform (docs/appointments.md "Booking an appointment",
"Double booking"): a staff member's time is booked once, whatever the lengths of the appointments
and however many clients race for it; round robin shares the work; a cancellation frees the time
at once; a time off and a booking made at the same moment never both stand, nor do a time off and
a booking made after it that availability validated before seeing it; a hold left behind by a
request that never wrote its booking is freed by the next booking that needs the time."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as availability_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.common.timestamps import to_instant, to_timestamp
from tests.integration.appointment_support import Shop, days_ahead, local
from tests.support import auth, error_reason, expect_error, field_violations

pytestmark = pytest.mark.integration

RACERS = 50
ROUNDS = 20


@pytest.fixture
def shop(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> Shop:
    return Shop.of(channel, tenant)


def span(booking: bookings_pb2.Booking) -> tuple[datetime, datetime]:
    return to_instant(booking.booked_entity.slot.start_date), to_instant(booking.booked_entity.slot.end_date)


async def test_a_staff_members_slot_is_booked_once_and_round_robin_gives_the_next_client_the_other(shop: Shop) -> None:
    ana, ben = await shop.hire("Ana"), await shop.hire("Ben")
    service = await shop.appointment(staff=[ana, ben])
    start = local(days_ahead(3), 10)

    first = await shop.create(shop.booking_of(service, start, staff_member_id=ana.id))
    assert (first.status, first.booked_entity.slot.staff_member_id, span(first)) == (bookings_pb2.CONFIRMED, ana.id, (start, start + timedelta(minutes=30)))

    err = await expect_error(grpc.StatusCode.ALREADY_EXISTS, shop.create(shop.booking_of(service, start, staff_member_id=ana.id)))
    assert error_reason(err) == "SLOT_UNAVAILABLE"

    anyone = await shop.create(shop.booking_of(service, start))
    assert anyone.booked_entity.slot.staff_member_id == ben.id
    err = await expect_error(grpc.StatusCode.ALREADY_EXISTS, shop.create(shop.booking_of(service, start)))
    assert error_reason(err) == "SLOT_UNAVAILABLE"
    assert [b.id for b in await shop.appointments_of(ana.id)] == [first.id]


async def test_round_robin_prefers_the_staff_member_with_fewest_appointments_that_day(shop: Shop) -> None:
    ana, ben = await shop.hire("Ana"), await shop.hire("Ben")
    service = await shop.appointment(staff=[ana, ben])
    day = days_ahead(4)
    ids = sorted([ana.id, ben.id])
    booked = [(await shop.create(shop.booking_of(service, local(day, 9 + i)))).booked_entity.slot.staff_member_id for i in range(4)]
    # Ties go to the stable order; then whoever has fewer that day.
    assert booked == [ids[0], ids[1], ids[0], ids[1]]


async def test_cancelling_or_declining_frees_the_time_at_once(shop: Shop) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana], manual=True)
    start = local(days_ahead(3), 11)
    pending = await shop.create(shop.booking_of(service, start))
    assert pending.status == bookings_pb2.PENDING
    await shop.bookings.DeclineBooking(bookings_pb2.DeclineBookingRequest(booking_id=pending.id, revision=pending.revision), metadata=shop.md)
    again = await shop.create(shop.booking_of(service, start))
    await shop.bookings.CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=again.id, revision=again.revision), metadata=shop.md)
    third = await shop.create(shop.booking_of(service, start))
    assert third.status == bookings_pb2.PENDING


async def test_buffers_keep_the_next_appointment_apart_and_back_to_back_occupied_times_fit(shop: Shop) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana], interval=15, buffer_after=15)
    day = days_ahead(5)
    await shop.create(shop.booking_of(service, local(day, 10)))
    # 10:00-10:30 occupies until 10:45: 10:30 is taken, 10:45 is free.
    err = await expect_error(grpc.StatusCode.ALREADY_EXISTS, shop.create(shop.booking_of(service, local(day, 10, 30))))
    assert error_reason(err) == "SLOT_UNAVAILABLE"
    await shop.create(shop.booking_of(service, local(day, 10, 45)))


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_fifty_clients_racing_for_one_slot_make_exactly_one_booking(shop: Shop, round_: int) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana])
    start = local(days_ahead(2 + round_ % 20), 9 + round_ % 8)
    request = shop.booking_of(service, start, staff_member_id=ana.id)

    results = await asyncio.gather(*(shop.create(request, timeout=30) for _ in range(RACERS)), return_exceptions=True)

    won = [r for r in results if isinstance(r, bookings_pb2.Booking)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1, [r for r in results if not isinstance(r, (bookings_pb2.Booking, grpc.aio.AioRpcError))]
    assert {(e.code(), error_reason(e)) for e in lost} == {(grpc.StatusCode.ALREADY_EXISTS, "SLOT_UNAVAILABLE")}
    assert len(lost) == RACERS - 1
    assert [b.id for b in await shop.appointments_of(ana.id)] == [won[0].id]


async def test_overlapping_appointments_of_different_lengths_never_both_commit(shop: Shop) -> None:
    ana = await shop.hire("Ana", hours=("08:00", "20:00"))
    short = await shop.appointment(30, staff=[ana], interval=15)
    long = await shop.appointment(45, staff=[ana], interval=15)
    day = days_ahead(6)
    rng = random.Random(15)

    async def client(i: int) -> None:
        for _ in range(5):
            service, minutes = (short, 30) if rng.random() < 0.5 else (long, 45)
            start = local(day, 9) + timedelta(minutes=15 * rng.randrange(0, 16))
            try:
                await shop.create(shop.booking_of(service, start, minutes, name=f"client {i}"), timeout=30)
            except grpc.aio.AioRpcError as err:
                assert (err.code(), error_reason(err)) == (grpc.StatusCode.ALREADY_EXISTS, "SLOT_UNAVAILABLE"), err

    await asyncio.gather(*(client(i) for i in range(20)))

    booked = sorted(span(b) for b in await shop.appointments_of(ana.id))
    assert booked, "some client must have won"
    for (_, end), (next_start, _) in zip(booked, booked[1:], strict=False):
        assert end <= next_start, booked


async def test_a_time_off_and_a_booking_made_at_once_never_both_stand(shop: Shop) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana])
    hours = shop.hours
    outcomes = set()
    for i in range(10):
        start = local(days_ahead(7 + i), 14)
        time_off = working_hours_pb2.TimeOff(
            start=to_timestamp(start - timedelta(minutes=15)), end=to_timestamp(start + timedelta(minutes=15)), reason="dentist"
        )
        booked, blocked = await asyncio.gather(
            shop.create(shop.booking_of(service, start, staff_member_id=ana.id), timeout=30),
            hours.CreateTimeOff(working_hours_pb2.CreateTimeOffRequest(schedule_id=ana.schedule_id, time_off=time_off), metadata=shop.md, timeout=30),
            return_exceptions=True,
        )
        assert isinstance(booked, bookings_pb2.Booking) != isinstance(blocked, working_hours_pb2.CreateTimeOffResponse), (booked, blocked)
        outcomes.add("booking" if isinstance(booked, bookings_pb2.Booking) else "time off")
        if isinstance(blocked, grpc.aio.AioRpcError):
            assert (blocked.code(), error_reason(blocked)) == (grpc.StatusCode.FAILED_PRECONDITION, "TIME_OCCUPIED")
        if isinstance(booked, grpc.aio.AioRpcError):
            assert (booked.code(), error_reason(booked)) == (grpc.StatusCode.ALREADY_EXISTS, "SLOT_UNAVAILABLE")


async def test_a_time_off_availability_has_not_shown_yet_still_refuses_the_booking(shop: Shop) -> None:
    # Availability validates with the working hours it has cached (display = validation) and drops
    # them when timeframes announces the change; until then the hold is refused by the database.
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana])
    start = local(days_ahead(6), 10)
    lookup = availability_pb2.GetAvailabilityTimeSlotRequest(
        service_id=service.id, start_date=to_timestamp(start), end_date=to_timestamp(start + timedelta(minutes=30))
    )
    assert (await shop.slots.GetAvailabilityTimeSlot(lookup, metadata=shop.md)).time_slot.bookable  # and Ana's hours now cached
    time_off = working_hours_pb2.TimeOff(start=to_timestamp(start), end=to_timestamp(start + timedelta(hours=1)))
    await shop.hours.CreateTimeOff(working_hours_pb2.CreateTimeOffRequest(schedule_id=ana.schedule_id, time_off=time_off), metadata=shop.md)
    err = await expect_error(grpc.StatusCode.ALREADY_EXISTS, shop.create(shop.booking_of(service, start)))
    assert error_reason(err) == "SLOT_UNAVAILABLE"
    assert await shop.appointments_of(ana.id) == []


async def test_a_hold_left_by_a_request_that_never_wrote_its_booking_is_freed_by_the_next_booking(
    shop: Shop, tenant: str, channel: Callable[[str], grpc.aio.Channel]
) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana])
    start = local(days_ahead(3), 15)
    # What a crash between holding the time and writing the booking leaves behind.
    holds = working_hours_pb2_grpc.AppointmentHoldsStub(channel("timeframes"))
    orphan = working_hours_pb2.AppointmentHold(
        booking_id=str(uuid.uuid4()), schedule_id=ana.schedule_id, start=to_timestamp(start), end=to_timestamp(start + timedelta(minutes=30))
    )
    await holds.HoldAppointmentTime(working_hours_pb2.HoldAppointmentTimeRequest(hold=orphan), metadata=auth(tenant, "internal"))

    booked = await shop.create(shop.booking_of(service, start))
    assert booked.booked_entity.slot.staff_member_id == ana.id
    released = await holds.ReleaseAppointmentTime(
        working_hours_pb2.ReleaseAppointmentTimeRequest(booking_id=orphan.booking_id), metadata=auth(tenant, "internal")
    )
    assert not released.released


async def test_a_staff_member_with_appointments_ahead_cannot_be_deleted(shop: Shop) -> None:
    ana = await shop.hire("Ana")
    service = await shop.appointment(staff=[ana])
    booking = await shop.create(shop.booking_of(service, local(days_ahead(3), 9)))
    err = await expect_error(
        grpc.StatusCode.FAILED_PRECONDITION,
        shop.staff_members.DeleteStaffMember(staff_members_pb2.DeleteStaffMemberRequest(staff_member_id=ana.id), metadata=shop.md),
    )
    assert error_reason(err) == "STAFF_MEMBER_HAS_FUTURE_APPOINTMENTS"
    await shop.bookings.CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=booking.id, revision=booking.revision), metadata=shop.md)
    await shop.staff_members.DeleteStaffMember(staff_members_pb2.DeleteStaffMemberRequest(staff_member_id=ana.id), metadata=shop.md)


async def test_bad_appointment_requests_name_their_field_and_book_nothing(shop: Shop, channel: Callable[[str], grpc.aio.Channel], other_tenant: str) -> None:
    ana, ben = await shop.hire("Ana"), await shop.hire("Ben")
    service = await shop.appointment(staff=[ana])
    start = local(days_ahead(3), 10)
    stranger = await Shop.of(channel, other_tenant).hire("Stranger")

    reversed_ = shop.booking_of(service, start)
    reversed_.booked_entity.slot.end_date.CopyFrom(to_timestamp(start - timedelta(minutes=30)))
    with_event = shop.booking_of(service, start)
    with_event.booked_entity.slot.event_id = str(uuid.uuid4())
    cases = [
        (reversed_, "booking.booked_entity.slot.end_date"),
        (with_event, "booking.booked_entity.slot.event_id"),
        (shop.booking_of(service, start + timedelta(minutes=7)), "booking.booked_entity.slot.start_date"),
        (shop.booking_of(service, start, minutes=45), "booking.booked_entity.slot.start_date"),
        (shop.booking_of(service, start, staff_member_id=ben.id), "booking.booked_entity.slot.staff_member_id"),
        (shop.booking_of(service, start, staff_member_id=stranger.id), "booking.booked_entity.slot.staff_member_id"),
        (shop.booking_of(service, start, staff_member_id="nope"), "booking.booked_entity.slot.staff_member_id"),
    ]
    for booking, bad in cases:
        err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, shop.create(booking))
        assert bad in field_violations(err), (bad, field_violations(err))
    assert await shop.appointments_of(ana.id) == []


async def test_the_minimum_notice_is_the_late_booking_policy(shop: Shop) -> None:
    ana = await shop.hire("Ana", hours=("00:00", "23:59"))
    policy = booking_policy_pb2.BookingPolicy(limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=24 * 60))
    service = await shop.appointment(staff=[ana], policy=policy)
    # Two to three hours ahead, on the half-hour grid that starts at midnight (Vienna is a whole
    # number of hours from UTC): inside the 24-hour notice.
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, shop.create(shop.booking_of(service, soon)))
    assert error_reason(err) == "TOO_LATE_TO_BOOK"
