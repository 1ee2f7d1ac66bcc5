"""The slot rules of docs/appointments.md through the real platform, scenario by scenario: the same
cases the pure calculation's table-driven tests cover (tests/unit/availability/test_appointment_slots.py),
set up as a business would (staff, weekly rules, extra hours, time off, appointments) and read back
through bookings.availability.v2.AvailabilityTimeSlots. Dates are in 2031, years ahead of the real
clock, except where the clock is the point (minimum notice and horizon)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as pb
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.common.v1 import paging_pb2
from services.common.timestamps import to_instant
from tests.integration.appointment_support import MONDAY, VIENNA, Shop, at, every_day, ts, weekdays

pytestmark = pytest.mark.integration

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"


@pytest.fixture
def shop(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> Shop:
    return Shop.of(channel, tenant)


def starts_by_date(response: pb.ListAvailabilityTimeSlotsResponse) -> dict[str, list[str]]:
    """The slots' local start times "HH:MM", by local date."""
    days: dict[str, list[str]] = defaultdict(list)
    for slot in response.time_slots:
        days[slot.local_start_date[:10]].append(slot.local_start_date[11:16])
    return dict(days)


def rule(day: int, start: str, end: str, effective_from: str = "", effective_to: str = "") -> hours_pb2.WeeklyRule:
    return hours_pb2.WeeklyRule(day_of_week=day, start_time=start, end_time=end, effective_from=effective_from, effective_to=effective_to)


async def test_a_new_rule_set_takes_over_on_its_effective_date(shop: Shop) -> None:
    service = await shop.appointment()
    await shop.staff("Ana", service.id, rules=[rule(1, "09:00", "10:00", effective_to="2031-03-09"), rule(1, "14:00", "15:00", effective_from="2031-03-10")])
    fortnight = starts_by_date(await shop.list_slots(service.id, MONDAY, days=14))
    assert fortnight == {"2031-03-03": ["09:00", "09:30"], "2031-03-10": ["14:00", "14:30"]}


async def test_extra_hours_add_to_the_rules_and_run_on_across_their_seam(shop: Shop) -> None:
    service = await shop.appointment(60, interval=30)
    ana = await shop.staff("Ana", service.id, rules=weekdays("09:00", "10:00"))
    for start, end in (("2031-03-03 10:00", "2031-03-03 11:00"), ("2031-03-08 10:00", "2031-03-08 11:00")):
        extra = hours_pb2.ExtraHours(start=ts(at(start)), end=ts(at(end)), reason="fair")
        await shop.hours.CreateExtraHours(hours_pb2.CreateExtraHoursRequest(schedule_id=ana.schedule_id, extra_hours=extra), metadata=shop.md)
    week = starts_by_date(await shop.list_slots(service.id, MONDAY, days=7))
    # Monday's rule and its adjacent extra hour are one block: the 09:30 slot runs across the seam.
    assert week["2031-03-03"] == ["09:00", "09:30", "10:00"]
    assert week["2031-03-08"] == ["10:00"]  # a Saturday: extra hours only


async def test_time_off_across_midnight_takes_the_slots_of_both_days(shop: Shop) -> None:
    service = await shop.appointment()
    ana = await shop.staff("Ana", service.id, rules=[rule(1, "22:00", "23:59"), rule(2, "00:00", "02:00")])
    await shop.time_off(ana, "2031-03-03 23:00", "2031-03-04 01:00")
    two_days = await shop.list_slots(service.id, MONDAY, days=2, include_non_bookable=True)
    seen = [(s.local_start_date[5:16], s.bookable, s.non_bookable_reasons.time_off) for s in two_days.time_slots]
    assert seen == [
        ("03-03T22:00", True, False),
        ("03-03T22:30", True, False),
        ("03-03T23:00", False, True),  # 23:30 would end after 23:59: not a slot
        ("03-04T00:00", False, True),
        ("03-04T00:30", False, True),
        ("03-04T01:00", True, False),
        ("03-04T01:30", True, False),
    ]


async def test_buffers_keep_an_appointments_neighbours_free_and_the_first_buffer_may_lie_before_opening(shop: Shop) -> None:
    service = await shop.appointment(30, buffer_before=10, buffer_after=10)
    ana = await shop.staff("Ana", service.id)
    await shop.book(service.id, f"{MONDAY} 10:00", f"{MONDAY} 10:30", ana.id)
    day = await shop.list_slots(service.id, include_non_bookable=True)
    # 10:00 occupies 09:50-10:40; 09:30 (09:20-10:10) and 10:30 (10:20-11:10) overlap it, 09:00 and
    # 11:00 touch nothing; 11:30 would end with its buffer at 12:10, after closing.
    assert [(s.local_start_date[11:16], s.bookable, s.non_bookable_reasons.booked) for s in day.time_slots] == [
        ("09:00", True, False),
        ("09:30", False, True),
        ("10:00", False, True),
        ("10:30", False, True),
        ("11:00", True, False),
    ]


async def test_slots_start_every_interval_and_the_last_one_ends_with_its_buffer_inside_the_hours(shop: Shop) -> None:
    overlapping = await shop.appointment(45, interval=15)
    await shop.staff("Ana", overlapping.id, rules=weekdays("09:00", "11:00"))
    assert starts_by_date(await shop.list_slots(overlapping.id))[MONDAY] == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]

    with_buffer = await shop.appointment(60, buffer_after=15)
    await shop.staff("Ben", with_buffer.id)
    assert starts_by_date(await shop.list_slots(with_buffer.id))[MONDAY] == ["09:00", "10:00"]


async def test_the_minimum_notice_and_the_horizon_are_the_booking_policy(shop: Shop) -> None:
    policy = booking_policy_pb2.BookingPolicy(
        limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=120),
        limit_early_booking=booking_policy_pb2.LimitEarlyBookingPolicy(enabled=True, earliest_booking_in_minutes=3 * 24 * 60),
    )
    ana = await shop.hire("Ana", hours=("00:00", "23:59"))
    service = await shop.appointment(staff=[ana], policy=policy)
    answer = await shop.list_slots(
        service.id, datetime.now(UTC).date().isoformat(), days=5, time_zone="UTC", include_non_bookable=True, cursor_paging=paging_pb2.CursorPaging(limit=500)
    )
    now = datetime.now(UTC)
    checked = 0
    for slot in answer.time_slots:
        start = to_instant(slot.start_date)
        assert start > now - timedelta(minutes=1), "a slot that has started is never offered"
        if abs(start - (now + timedelta(hours=2))) < timedelta(minutes=2) or abs(start - (now + timedelta(days=3))) < timedelta(minutes=2):
            continue  # the boundaries move with the clock while the test runs
        too_late, too_early = start < now + timedelta(hours=2), start > now + timedelta(days=3)
        violations = slot.booking_policy_violations
        assert (violations.too_late_to_book, violations.too_early_to_book, slot.bookable) == (too_late, too_early, not too_late and not too_early), slot
        checked += 1
    assert not answer.paging_metadata.has_next and checked > 100


async def test_a_spring_forward_day_in_new_york_keeps_wall_clock_hours_and_loses_the_gap(shop: Shop) -> None:
    # 2031-03-09: 02:00 jumps to 03:00. A 01:00-04:00 rule gives two real hours; a rule inside the gap none.
    service = await shop.appointment(time_zone=NEW_YORK)
    await shop.staff("Ana", service.id, time_zone=NEW_YORK, rules=[rule(7, "01:00", "04:00")])
    await shop.staff("Ben", service.id, time_zone=NEW_YORK, rules=[rule(7, "02:00", "03:00")])
    sunday = await shop.list_slots(service.id, "2031-03-09", time_zone=NEW_YORK)
    assert [s.local_start_date[11:16] for s in sunday.time_slots] == ["01:00", "01:30", "03:00", "03:30"]
    instants = [to_instant(s.start_date) for s in sunday.time_slots]
    assert [b - a for a, b in zip(instants, instants[1:], strict=False)] == [timedelta(minutes=30)] * 3
    a_week_later = await shop.list_slots(service.id, "2031-03-16", time_zone=NEW_YORK)
    assert [(s.local_start_date[11:16], len(s.available_staff_member_ids)) for s in a_week_later.time_slots][2:4] == [("02:00", 2), ("02:30", 2)]


async def test_a_fall_back_day_in_new_york_repeats_the_folded_hour(shop: Shop) -> None:
    # 2031-11-02: 02:00 falls back to 01:00. 00:30-02:30 local is three real hours.
    service = await shop.appointment(time_zone=NEW_YORK)
    await shop.staff("Ana", service.id, time_zone=NEW_YORK, rules=[rule(7, "00:30", "02:30")])
    sunday = await shop.list_slots(service.id, "2031-11-02", time_zone=NEW_YORK)
    assert [s.local_start_date[11:16] for s in sunday.time_slots] == ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]


@pytest.mark.parametrize("first", ["2031-03-29", "2031-10-25"], ids=["spring-forward", "fall-back"])
async def test_berlin_hours_stay_nine_to_five_local_on_both_sides_of_a_change(shop: Shop, first: str) -> None:
    service = await shop.appointment(time_zone=BERLIN)
    await shop.staff("Ana", service.id, time_zone=BERLIN, rules=every_day("09:00", "17:00"))
    three_days = await shop.list_slots(service.id, first, days=3, time_zone=BERLIN)
    days = starts_by_date(three_days)
    assert len(days) == 3
    assert all(starts[0] == "09:00" and starts[-1] == "16:30" and len(starts) == 16 for starts in days.values())
    nine_utc = sorted({to_instant(s.start_date).astimezone(UTC).hour for s in three_days.time_slots if s.local_start_date.endswith("09:00:00")})
    assert len(nine_utc) == 2  # the same local 09:00 is another UTC hour after the change


async def test_the_day_view_reads_the_staff_members_hours_in_their_zone_and_answers_in_the_asked_one(shop: Shop) -> None:
    # Kolkata is UTC+05:30 and Vienna UTC+1 in March: 14:30-15:30 there is 10:00-11:00 here.
    service = await shop.appointment()
    await shop.staff("Priya", service.id, time_zone="Asia/Kolkata", rules=weekdays("14:30", "15:30"))
    in_vienna = await shop.list_slots(service.id, time_zone=VIENNA)
    in_kolkata = await shop.list_slots(service.id, time_zone="Asia/Kolkata")
    assert [s.local_start_date[11:16] for s in in_vienna.time_slots] == ["10:00", "10:30"]
    assert [s.local_start_date[11:16] for s in in_kolkata.time_slots] == ["14:30", "15:00"]
    assert [s.start_date for s in in_vienna.time_slots] == [s.start_date for s in in_kolkata.time_slots]
