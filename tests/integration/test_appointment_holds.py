"""calendar.working_hours.v1.AppointmentHolds over real gRPC (docs/appointments.md "Double
booking"): time held for a booking on a staff member's schedule, kept apart from other bookings'
holds and from time off by the database. Held, repeated, mismatched, refused naming what is in the
way, released; time off over a hold refused; other tenants' schedules NOT_FOUND; only `internal`
may hold. And raced against the real stack: of concurrent requests for overlapping time exactly
one wins, whatever their lengths."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2

from services.api.calendar.working_hours.v1 import working_hours_pb2 as pb
from services.api.calendar.working_hours.v1.working_hours_pb2_grpc import AppointmentHoldsStub, WorkingHoursStub
from services.common.grpc_status import status_details
from tests import support
from tests.integration.timeframes_support import HOUR, T0, Calendar, instant, internal, reader, ts, writer

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


@pytest.fixture
def holds(timeframes_channel: grpc.aio.Channel) -> AppointmentHoldsStub:
    return AppointmentHoldsStub(timeframes_channel)


@pytest.fixture
def hours(timeframes_channel: grpc.aio.Channel) -> WorkingHoursStub:
    return WorkingHoursStub(timeframes_channel)


def new_id() -> str:
    return str(uuid.uuid4())


def appointment(schedule_id: str, start: datetime, end: datetime, booking_id: str = "") -> pb.AppointmentHold:
    return pb.AppointmentHold(booking_id=booking_id or new_id(), schedule_id=schedule_id, start=ts(start), end=ts(end))


async def hold(holds: AppointmentHoldsStub, tenant: str, message: pb.AppointmentHold) -> pb.AppointmentHold:
    return (await holds.HoldAppointmentTime(pb.HoldAppointmentTimeRequest(hold=message), metadata=internal(tenant))).hold


async def release(holds: AppointmentHoldsStub, tenant: str, booking_id: str) -> bool:
    return (await holds.ReleaseAppointmentTime(pb.ReleaseAppointmentTimeRequest(booking_id=booking_id), metadata=internal(tenant))).released


async def time_off(hours: WorkingHoursStub, tenant: str, schedule_id: str, start: datetime, end: datetime) -> pb.TimeOff:
    request = pb.CreateTimeOffRequest(schedule_id=schedule_id, time_off=pb.TimeOff(start=ts(start), end=ts(end)))
    return (await hours.CreateTimeOff(request, metadata=writer(tenant))).time_off


def error_info(err: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    (info,) = [d for d in status_details(err) if isinstance(d, error_details_pb2.ErrorInfo)]
    return info.reason, dict(info.metadata)


def ids(*values: str) -> str:
    return ",".join(sorted(values))


# --- holding and releasing -----------------------------------------------------------------------


async def test_a_hold_is_answered_as_held_and_repeating_it_answers_it_again(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    wanted = appointment(schedule.id, T0, T0 + 45 * MINUTE)
    assert await hold(holds, calendar.tenant, wanted) == wanted
    # Bookings retries a hold whose answer it lost: the same hold, not a conflict with itself.
    assert await hold(holds, calendar.tenant, wanted) == wanted


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"start": ts(T0 - 15 * MINUTE)}, id="another-start"),
        pytest.param({"end": ts(T0 + HOUR)}, id="another-end"),
        pytest.param({"start": ts(T0 + 2 * HOUR), "end": ts(T0 + 3 * HOUR)}, id="other-time"),
    ],
)
async def test_a_booking_that_holds_other_time_is_a_hold_mismatch(calendar: Calendar, holds: AppointmentHoldsStub, change: dict[str, object]) -> None:
    schedule = await calendar.schedule()
    held = await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + 45 * MINUTE))
    other = pb.AppointmentHold()
    other.CopyFrom(held)
    for field, value in change.items():
        getattr(other, field).CopyFrom(value)
    err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, hold(holds, calendar.tenant, other))
    reason, metadata = error_info(err)
    assert reason == "HOLD_MISMATCH"
    assert metadata["held_schedule_id"] == schedule.id


async def test_a_booking_holds_time_on_one_schedule_only(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    first, second = await calendar.schedule(), await calendar.schedule()
    held = await hold(holds, calendar.tenant, appointment(first.id, T0, T0 + HOUR))
    elsewhere = appointment(second.id, T0, T0 + HOUR, booking_id=held.booking_id)
    err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, hold(holds, calendar.tenant, elsewhere))
    assert error_info(err)[0] == "HOLD_MISMATCH"


@pytest.mark.parametrize(
    "start, end",
    [
        pytest.param(T0, T0 + HOUR, id="the-same-time"),
        pytest.param(T0 + 15 * MINUTE, T0 + 30 * MINUTE, id="inside"),
        pytest.param(T0 - HOUR, T0 + 2 * HOUR, id="around"),
        pytest.param(T0 - 30 * MINUTE, T0 + MINUTE, id="over-the-start"),
        pytest.param(T0 + HOUR - MINUTE, T0 + 2 * HOUR, id="over-the-end"),
        pytest.param(T0 + HOUR - timedelta(microseconds=1), T0 + 3 * HOUR, id="one-microsecond-over"),
    ],
)
async def test_a_hold_overlapping_another_bookings_hold_is_refused_naming_it(
    calendar: Calendar, holds: AppointmentHoldsStub, start: datetime, end: datetime
) -> None:
    schedule = await calendar.schedule()
    first = await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR))
    err = await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hold(holds, calendar.tenant, appointment(schedule.id, start, end)))
    assert error_info(err) == ("SLOT_UNAVAILABLE", {"conflicting_booking_ids": first.booking_id, "conflicting_time_off_ids": ""})


async def test_a_refusal_names_every_hold_and_time_off_in_the_way_sorted(calendar: Calendar, holds: AppointmentHoldsStub, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    tenant = calendar.tenant
    morning = await hold(holds, tenant, appointment(schedule.id, T0, T0 + HOUR))
    noon = await hold(holds, tenant, appointment(schedule.id, T0 + 3 * HOUR, T0 + 4 * HOUR))
    away = await time_off(hours, tenant, schedule.id, T0 + HOUR, T0 + 2 * HOUR)
    also_away = await time_off(hours, tenant, schedule.id, T0 + 90 * MINUTE, T0 + 3 * HOUR)
    err = await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hold(holds, tenant, appointment(schedule.id, T0 + 30 * MINUTE, T0 + 210 * MINUTE)))
    assert error_info(err) == (
        "SLOT_UNAVAILABLE",
        {"conflicting_booking_ids": ids(morning.booking_id, noon.booking_id), "conflicting_time_off_ids": ids(away.id, also_away.id)},
    )


async def test_touching_holds_do_not_overlap(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR))
    await hold(holds, calendar.tenant, appointment(schedule.id, T0 + HOUR, T0 + 2 * HOUR))
    await hold(holds, calendar.tenant, appointment(schedule.id, T0 - 30 * MINUTE, T0))


async def test_holds_of_different_schedules_and_tenants_are_independent(calendar: Calendar, other_calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    mine, also_mine, theirs = await calendar.schedule(), await calendar.schedule(), await other_calendar.schedule()
    await hold(holds, calendar.tenant, appointment(mine.id, T0, T0 + HOUR))
    await hold(holds, calendar.tenant, appointment(also_mine.id, T0, T0 + HOUR))
    await hold(holds, other_calendar.tenant, appointment(theirs.id, T0, T0 + HOUR))


async def test_release_frees_the_time_once(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    first = await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR))
    assert await release(holds, calendar.tenant, first.booking_id) is True
    assert await release(holds, calendar.tenant, first.booking_id) is False
    assert await release(holds, calendar.tenant, new_id()) is False
    await hold(holds, calendar.tenant, appointment(schedule.id, T0 + 30 * MINUTE, T0 + 90 * MINUTE))
    # A released booking may hold again, any time.
    await hold(holds, calendar.tenant, appointment(schedule.id, T0 + 2 * HOUR, T0 + 3 * HOUR, booking_id=first.booking_id))


async def test_a_hold_of_exactly_seven_days_is_taken(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    held = await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + timedelta(days=7)))
    assert (instant(held.start), instant(held.end)) == (T0, T0 + timedelta(days=7))


# --- holds and time off --------------------------------------------------------------------------


async def test_time_off_over_holds_is_time_occupied_naming_the_bookings(calendar: Calendar, holds: AppointmentHoldsStub, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    tenant = calendar.tenant
    first = await hold(holds, tenant, appointment(schedule.id, T0, T0 + HOUR))
    second = await hold(holds, tenant, appointment(schedule.id, T0 + 2 * HOUR, T0 + 150 * MINUTE))
    err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, time_off(hours, tenant, schedule.id, T0 + 30 * MINUTE, T0 + 8 * HOUR))
    assert error_info(err) == ("TIME_OCCUPIED", {"conflicting_booking_ids": ids(first.booking_id, second.booking_id)})

    # Time off touching a hold, or after its release, is fine; holds are never listed as time off.
    before = await time_off(hours, tenant, schedule.id, T0 - HOUR, T0)
    await release(holds, tenant, second.booking_id)
    after = await time_off(hours, tenant, schedule.id, T0 + HOUR, T0 + 8 * HOUR)
    request = pb.ListExceptionsRequest(schedule_id=schedule.id, to=ts(T0 + 24 * HOUR))
    getattr(request, "from").CopyFrom(ts(T0 - 24 * HOUR))
    listed = await hours.ListExceptions(request, metadata=reader(tenant))
    assert list(listed.time_off) == [before, after]


async def test_a_hold_over_time_off_is_slot_unavailable_naming_the_time_off(calendar: Calendar, holds: AppointmentHoldsStub, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    away = await time_off(hours, calendar.tenant, schedule.id, T0, T0 + 8 * HOUR)
    err = await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hold(holds, calendar.tenant, appointment(schedule.id, T0 + 7 * HOUR, T0 + 9 * HOUR)))
    assert error_info(err) == ("SLOT_UNAVAILABLE", {"conflicting_booking_ids": "", "conflicting_time_off_ids": away.id})
    # Touching the time off is fine.
    await hold(holds, calendar.tenant, appointment(schedule.id, T0 + 8 * HOUR, T0 + 9 * HOUR))


async def test_time_off_may_overlap_time_off(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    await time_off(hours, calendar.tenant, schedule.id, T0, T0 + 8 * HOUR)
    await time_off(hours, calendar.tenant, schedule.id, T0 + HOUR, T0 + 2 * HOUR)
    await time_off(hours, calendar.tenant, schedule.id, T0, T0 + 8 * HOUR)


async def test_a_hold_is_not_time_off_to_delete(calendar: Calendar, holds: AppointmentHoldsStub, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    held = await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR))
    request = pb.DeleteTimeOffRequest(schedule_id=schedule.id, time_off_id=held.booking_id)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, hours.DeleteTimeOff(request, metadata=writer(calendar.tenant)))
    await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR)))


# --- refusals ------------------------------------------------------------------------------------


async def test_an_unknown_or_another_tenants_schedule_is_not_found(calendar: Calendar, other_calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    theirs = await other_calendar.schedule()
    their_hold = await hold(holds, other_calendar.tenant, appointment(theirs.id, T0, T0 + HOUR))
    for schedule_id in (theirs.id, new_id()):
        await support.expect_error(grpc.StatusCode.NOT_FOUND, hold(holds, calendar.tenant, appointment(schedule_id, T0 + 2 * HOUR, T0 + 3 * HOUR)))
    # Their booking is not ours to release: their hold stays.
    assert await release(holds, calendar.tenant, their_hold.booking_id) is False
    await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hold(holds, other_calendar.tenant, appointment(theirs.id, T0, T0 + HOUR)))


async def test_every_bad_field_of_a_hold_is_named(holds: AppointmentHoldsStub, tenant: str) -> None:
    bad = pb.AppointmentHold(booking_id="b-1", schedule_id="", start=ts(T0), end=ts(T0 + timedelta(days=8)))
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, hold(holds, tenant, bad))
    assert set(support.field_violations(err)) == {"hold.booking_id", "hold.schedule_id", "hold.end"}
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, holds.HoldAppointmentTime(pb.HoldAppointmentTimeRequest(), metadata=internal(tenant)))
    assert set(support.field_violations(err)) == {"hold.booking_id", "hold.schedule_id", "hold.start", "hold.end"}
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, release(holds, tenant, "nope"))
    assert set(support.field_violations(err)) == {"booking_id"}


async def test_only_the_internal_scope_may_hold_and_release(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    request = pb.HoldAppointmentTimeRequest(hold=appointment(schedule.id, T0, T0 + HOUR))
    for metadata in (writer(calendar.tenant), support.auth(calendar.tenant)):
        await support.expect_error(grpc.StatusCode.PERMISSION_DENIED, holds.HoldAppointmentTime(request, metadata=metadata))
        await support.expect_error(
            grpc.StatusCode.PERMISSION_DENIED, holds.ReleaseAppointmentTime(pb.ReleaseAppointmentTimeRequest(booking_id=new_id()), metadata=metadata)
        )
    # Nothing was held by the refused calls.
    await hold(holds, calendar.tenant, appointment(schedule.id, T0, T0 + HOUR))


# --- races ---------------------------------------------------------------------------------------


@dataclass
class Attempt:
    booking_id: str
    start: datetime
    end: datetime
    code: grpc.StatusCode
    conflicting_booking_ids: frozenset[str] = frozenset()


async def attempt(holds: AppointmentHoldsStub, tenant: str, schedule_id: str, start: datetime, end: datetime) -> Attempt:
    message = appointment(schedule_id, start, end)
    try:
        await hold(holds, tenant, message)
    except grpc.aio.AioRpcError as err:
        conflicting: frozenset[str] = frozenset()
        if err.code() == grpc.StatusCode.ALREADY_EXISTS:
            conflicting = frozenset(filter(None, error_info(err)[1]["conflicting_booking_ids"].split(",")))
        return Attempt(message.booking_id, start, end, err.code(), conflicting)
    return Attempt(message.booking_id, start, end, grpc.StatusCode.OK)


async def test_of_50_concurrent_holds_of_the_same_time_exactly_one_wins(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    for round_ in range(20):
        start = T0 + round_ * 2 * HOUR
        attempts = await asyncio.gather(*(attempt(holds, calendar.tenant, schedule.id, start, start + HOUR) for _ in range(50)))
        (winner,) = [a for a in attempts if a.code == grpc.StatusCode.OK]
        losers = [a for a in attempts if a is not winner]
        assert {a.code for a in losers} == {grpc.StatusCode.ALREADY_EXISTS}, f"round {round_}"
        assert all(a.conflicting_booking_ids == {winner.booking_id} for a in losers), f"round {round_}"


async def test_concurrent_holds_of_different_lengths_never_overlap(calendar: Calendar, holds: AppointmentHoldsStub) -> None:
    schedule = await calendar.schedule()
    rng = random.Random(20310303)

    async def client() -> list[Attempt]:
        made = []
        for _ in range(10):
            start = T0 + rng.randrange(0, 6 * 60, 5) * MINUTE
            made.append(await attempt(holds, calendar.tenant, schedule.id, start, start + rng.choice((30, 45)) * MINUTE))
        return made

    attempts = [a for made in await asyncio.gather(*(client() for _ in range(20))) for a in made]
    held = [a for a in attempts if a.code == grpc.StatusCode.OK]
    refused = [a for a in attempts if a.code != grpc.StatusCode.OK]
    assert held and refused
    assert {a.code for a in refused} == {grpc.StatusCode.ALREADY_EXISTS}
    for a, b in itertools.combinations(held, 2):
        assert a.end <= b.start or b.end <= a.start, f"{a} overlaps {b}"
    # Every refusal names only bookings that hold overlapping time.
    by_booking = {a.booking_id: a for a in held}
    for a in refused:
        assert a.conflicting_booking_ids and a.conflicting_booking_ids <= by_booking.keys()
        assert all(by_booking[b].start < a.end and a.start < by_booking[b].end for b in a.conflicting_booking_ids)


async def test_time_off_and_a_hold_made_at_once_never_both_succeed(calendar: Calendar, holds: AppointmentHoldsStub, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()

    async def away(start: datetime) -> grpc.StatusCode:
        try:
            await time_off(hours, calendar.tenant, schedule.id, start + 30 * MINUTE, start + 3 * HOUR)
        except grpc.aio.AioRpcError as err:
            return err.code()
        return grpc.StatusCode.OK

    outcomes = []
    for round_ in range(40):
        start = T0 + round_ * 4 * HOUR
        booked, off = await asyncio.gather(attempt(holds, calendar.tenant, schedule.id, start, start + HOUR), away(start))
        outcomes.append((booked.code, off))
    assert set(outcomes) <= {(grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION), (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.OK)}
