"""Appointment slots from staff working hours (docs/appointments.md;
services/availability/domain/appointments.py): weekly rules in force, extra
hours, DST days, the slot grid with buffers, the reasons a slot is not bookable, merging the staff
and the per-date summaries.

Unless a test says otherwise the staff member works in Europe/Vienna (UTC+2 in June 2026), the
week is Monday 2026-06-15 to Sunday 2026-06-21, and times are written as local wall-clock times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.availability.domain.appointments import (
    AppointmentShape,
    AppointmentSlot,
    DateSummary,
    Interval,
    ScheduleHours,
    SlotReasons,
    StaffCalendar,
    StaffMember,
    StaffSlot,
    UnavailableReason,
    appointment_slots,
    candidate_slots,
    covering_dates,
    date_summaries,
    dates_view,
    dates_window,
    first_bookable_date,
    first_slots,
    local_dates,
    merge_staff,
    next_available_date,
    page_parts,
    reading_window,
    search_chunks,
    search_until,
    slot_at,
    slot_violations,
    staff_calendar,
    staff_slots,
    working_intervals,
)
from services.availability.domain.model import BookingPolicy, Offering, ServiceType
from services.common.errors import InvalidArgument
from services.common.local_time import to_utc
from services.common.validation import Violations
from services.common.weekly_rules import WeeklyRule
from tests.unit.availability.helpers import DAY, MINUTE, SECOND, policy

VIENNA = "Europe/Vienna"
NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
KOLKATA = "Asia/Kolkata"
ANNA, BEN = "anna", "ben"
MON, TUE, SAT, SUN = 1, 2, 6, 7
JUNE_15 = date(2026, 6, 15)  # a Monday
JUNE_16 = date(2026, 6, 16)
LONG_BEFORE = datetime(2026, 6, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


# --- builders -----------------------------------------------------------------------------------


def local(text: str, zone: str = VIENNA) -> datetime:
    """A local wall time such as "2026-06-15 09:00" in `zone`, as a UTC instant."""
    return to_utc(datetime.fromisoformat(text), ZoneInfo(zone), nonexistent="reject")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def span(start: str, end: str, zone: str = VIENNA) -> Interval:
    """span("2026-06-15 09:00", "10:00"): the end on the start's date unless it names its own."""
    return Interval(local(start, zone), local(end if len(end) > 5 else f"{start[:10]} {end}", zone))


def rule(day: int, start: str, end: str, effective_from: date | None = None, effective_to: date | None = None) -> WeeklyRule:
    return WeeklyRule(day, time.fromisoformat(start), time.fromisoformat(end), effective_from, effective_to)


def every_day(start: str, end: str, effective_from: date | None = None, effective_to: date | None = None) -> tuple[WeeklyRule, ...]:
    return tuple(rule(day, start, end, effective_from, effective_to) for day in range(1, 8))


def calendar(*rules: WeeklyRule, zone: str = VIENNA, staff: str = ANNA, **exceptions: object) -> StaffCalendar:
    return StaffCalendar(staff, zone, rules, **exceptions)  # type: ignore[arg-type]


def shape(duration: int = 60, *, before: int = 0, after: int = 0, interval: int | None = None) -> AppointmentShape:
    """An appointment shape in minutes."""
    return AppointmentShape(duration * MINUTE, before * MINUTE, after * MINUTE, None if interval is None else interval * MINUTE)


def offering(p: BookingPolicy | None = None, *, online: bool = True) -> Offering:
    return Offering("svc-haircut", ServiceType.APPOINTMENT, "", VIENNA, online, p or BookingPolicy())


def label(interval: Interval, zone: str = VIENNA) -> str:
    """ "06-15 09:00-10:00" in `zone` (the end with its date when it is on another day)."""
    start, end = interval.start.astimezone(ZoneInfo(zone)), interval.end.astimezone(ZoneInfo(zone))
    return f"{start:%m-%d %H:%M}-{end:%H:%M}" if end.date() == start.date() else f"{start:%m-%d %H:%M}-{end:%m-%d %H:%M}"


def starts(intervals: list[Interval], zone: str = VIENNA) -> list[str]:
    """The local start times "HH:MM" (for tests within one day)."""
    return [f"{i.start.astimezone(ZoneInfo(zone)):%H:%M}" for i in intervals]


def monday_slots(*rules: WeeklyRule, p: BookingPolicy | None = None, now: datetime = LONG_BEFORE, s: AppointmentShape | None = None, **exceptions: object):
    """Anna's slots on Monday 2026-06-15, by local start "HH:MM"."""
    slots = staff_slots(calendar(*rules, **exceptions), s or shape(), offering(p), JUNE_15, JUNE_15, now)
    return {f"{x.slot.start.astimezone(ZoneInfo(VIENNA)):%H:%M}": x for x in slots}


def violations_of(v: Violations) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as raised:
        v.raise_if_any()
    return [(x.field, x.description) for x in raised.value.violations]


# --- working intervals --------------------------------------------------------------------------


def test_effective_dates_switch_from_the_old_rule_to_the_new_one_mid_range() -> None:
    old = every_day("09:00", "17:00", effective_to=date(2026, 6, 14))
    new = every_day("10:00", "14:00", effective_from=date(2026, 6, 15))
    intervals = working_intervals(calendar(*old, *new), date(2026, 6, 13), date(2026, 6, 16))
    assert [label(i) for i in intervals] == ["06-13 09:00-17:00", "06-14 09:00-17:00", "06-15 10:00-14:00", "06-16 10:00-14:00"]


@pytest.mark.parametrize(
    "extra, expected",
    [
        pytest.param(span("2026-06-13 10:00", "12:00"), ["06-13 10:00-12:00", "06-15 09:00-12:00"], id="extra-hours-on-a-day-without-rules-add-a-block"),
        pytest.param(span("2026-06-15 12:00", "14:00"), ["06-15 09:00-14:00"], id="extra-hours-touching-a-rule-block-merge-with-it"),
        pytest.param(span("2026-06-15 11:00", "13:00"), ["06-15 09:00-13:00"], id="extra-hours-overlapping-a-rule-block-merge-with-it"),
        pytest.param(span("2026-06-15 07:00", "08:00"), ["06-15 07:00-08:00", "06-15 09:00-12:00"], id="extra-hours-with-a-gap-stay-apart"),
        pytest.param(span("2026-06-20 10:00", "12:00"), ["06-15 09:00-12:00"], id="extra-hours-outside-the-range-are-left-out"),
        pytest.param(
            span("2026-06-12 22:00", "2026-06-13 02:00"), ["06-12 22:00-06-13 02:00", "06-15 09:00-12:00"], id="extra-hours-partly-in-the-range-come-whole"
        ),
    ],
)
def test_extra_hours(extra: Interval, expected: list[str]) -> None:
    intervals = working_intervals(calendar(rule(MON, "09:00", "12:00"), extra_hours=(extra,)), date(2026, 6, 13), JUNE_15)
    assert [label(i) for i in intervals] == expected


def test_holidays_and_time_off_are_not_subtracted_from_working_hours() -> None:
    cal = calendar(rule(MON, "09:00", "17:00"), holidays=frozenset({JUNE_15}), time_off=(span("2026-06-15 10:00", "12:00"),))
    assert [label(i) for i in working_intervals(cal, JUNE_15, JUNE_15)] == ["06-15 09:00-17:00"]


@pytest.mark.parametrize(
    "zone, day, hours, expected_utc",
    [
        pytest.param(NEW_YORK, date(2026, 3, 7), "09:00-17:00", "14:00-22:00", id="new-york-the-day-before-spring-forward-UTC-5"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "09:00-17:00", "13:00-21:00", id="new-york-spring-forward-day-8h-at-UTC-4"),
        pytest.param(NEW_YORK, date(2026, 10, 31), "09:00-17:00", "13:00-21:00", id="new-york-the-day-before-fall-back-UTC-4"),
        pytest.param(NEW_YORK, date(2026, 11, 1), "09:00-17:00", "14:00-22:00", id="new-york-fall-back-day-8h-at-UTC-5"),
        pytest.param(BERLIN, date(2026, 3, 28), "09:00-17:00", "08:00-16:00", id="berlin-the-day-before-spring-forward-UTC+1"),
        pytest.param(BERLIN, date(2026, 3, 29), "09:00-17:00", "07:00-15:00", id="berlin-spring-forward-day-8h-at-UTC+2"),
        pytest.param(BERLIN, date(2026, 10, 24), "09:00-17:00", "07:00-15:00", id="berlin-the-day-before-fall-back-UTC+2"),
        pytest.param(BERLIN, date(2026, 10, 25), "09:00-17:00", "08:00-16:00", id="berlin-fall-back-day-8h-at-UTC+1"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "02:00-03:00", None, id="new-york-a-rule-inside-the-gap-gives-nothing"),
        pytest.param(BERLIN, date(2026, 3, 29), "02:00-03:00", None, id="berlin-a-rule-inside-the-gap-gives-nothing"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "02:30-05:00", "07:30-09:00", id="new-york-a-start-in-the-gap-moves-forward-by-it-to-03:30"),
        pytest.param(NEW_YORK, date(2026, 11, 1), "01:00-02:00", "05:00-07:00", id="new-york-across-the-fold-two-real-hours-from-the-first-01:00"),
        pytest.param(BERLIN, date(2026, 10, 25), "02:00-03:00", "00:00-02:00", id="berlin-across-the-fold-two-real-hours-from-the-first-02:00"),
    ],
)
def test_rules_on_dst_change_days_keep_their_wall_clock_times(zone: str, day: date, hours: str, expected_utc: str | None) -> None:
    intervals = working_intervals(calendar(rule(day.isoweekday(), *hours.split("-")), zone=zone), day, day)
    assert [f"{i.start:%H:%M}-{i.end:%H:%M}" for i in intervals] == ([expected_utc] if expected_utc else [])
    assert all(i.start.date() == i.end.date() == day for i in intervals)  # the UTC times above are on the same date


@pytest.mark.parametrize(
    "zone, day",
    [
        pytest.param(NEW_YORK, date(2026, 3, 8), id="new-york-spring-forward"),
        pytest.param(NEW_YORK, date(2026, 11, 1), id="new-york-fall-back"),
        pytest.param(BERLIN, date(2026, 3, 29), id="berlin-spring-forward"),
        pytest.param(BERLIN, date(2026, 10, 25), id="berlin-fall-back"),
    ],
)
def test_slots_of_a_dst_change_day_are_the_usual_local_hours(zone: str, day: date) -> None:
    slots = candidate_slots(working_intervals(calendar(rule(day.isoweekday(), "09:00", "17:00"), zone=zone), day, day), shape(60))
    assert starts(slots, zone) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


# --- the slot grid ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hours, s, expected",
    [
        pytest.param([("09:00", "12:00")], shape(60), ["09:00", "10:00", "11:00"], id="no-slot-interval-means-back-to-back-slots"),
        pytest.param([("09:00", "12:00")], shape(60, interval=30), ["09:00", "09:30", "10:00", "10:30", "11:00"], id="an-interval-below-the-duration-overlaps"),
        pytest.param([("09:00", "12:00")], shape(30, interval=90), ["09:00", "10:30"], id="an-interval-above-the-duration-leaves-gaps"),
        pytest.param([("09:00", "12:00")], shape(45), ["09:00", "09:45", "10:30", "11:15"], id="the-last-slot-may-end-at-closing"),
        pytest.param([("09:00", "11:59")], shape(60), ["09:00", "10:00"], id="a-slot-that-would-end-after-closing-is-left-out"),
        pytest.param([("09:00", "12:00")], shape(60, after=15), ["09:00", "10:00"], id="the-last-slot-ends-with-its-after-buffer-inside"),
        pytest.param([("09:00", "12:15")], shape(60, after=15), ["09:00", "10:00", "11:00"], id="an-after-buffer-ending-exactly-at-closing-fits"),
        pytest.param([("09:00", "12:00")], shape(60, before=30), ["09:00", "10:00", "11:00"], id="the-before-buffer-may-lie-before-opening"),
        pytest.param([("09:00", "12:00")], shape(240), [], id="hours-shorter-than-one-slot-give-none"),
        pytest.param([("09:00", "10:30"), ("13:15", "15:00")], shape(60), ["09:00", "13:15"], id="each-working-interval-has-its-own-grid"),
    ],
)
def test_candidate_slots(hours: list[tuple[str, str]], s: AppointmentShape, expected: list[str]) -> None:
    slots = candidate_slots([span(f"2026-06-15 {start}", end) for start, end in hours], s)
    assert starts(slots) == expected
    assert all(slot.end - slot.start == s.duration for slot in slots)


def test_occupied_time_is_widened_by_both_buffers() -> None:
    assert shape(60, before=10, after=15).occupied(local("2026-06-15 10:00")) == span("2026-06-15 09:50", "11:15")


# --- reasons of one staff member's slots --------------------------------------------------------


@pytest.mark.parametrize(
    "s, appointment, booked",
    [
        pytest.param(shape(60), ("10:00", "11:00"), ["10:00"], id="an-appointment-blocks-its-slot-and-not-the-slots-that-touch-it"),
        pytest.param(shape(60), ("10:30", "11:30"), ["10:00", "11:00"], id="an-appointment-across-two-slots-blocks-both"),
        pytest.param(shape(60, after=15), ("11:10", "12:00"), ["10:00", "11:00"], id="the-after-buffer-reaching-an-appointment-blocks"),
        pytest.param(shape(60, after=15), ("11:15", "12:00"), ["11:00"], id="the-after-buffer-just-touching-an-appointment-does-not-block"),
        pytest.param(shape(60, before=15), ("09:00", "09:50"), ["09:00", "10:00"], id="the-before-buffer-reaching-an-appointment-blocks"),
        pytest.param(shape(60, before=15), ("09:00", "09:45"), ["09:00"], id="the-before-buffer-just-touching-an-appointment-does-not-block"),
        pytest.param(shape(60, before=30), ("08:00", "08:40"), ["09:00"], id="the-before-buffer-counts-against-an-appointment-before-opening"),
        pytest.param(shape(60), ("10:50", "12:10"), ["10:00", "11:00", "12:00"], id="an-existing-appointment-counts-with-its-own-buffers"),
    ],
)
def test_existing_appointments_block_exactly_the_slots_whose_occupied_time_overlaps_them(
    s: AppointmentShape, appointment: tuple[str, str], booked: list[str]
) -> None:
    slots = monday_slots(rule(MON, "09:00", "13:00"), s=s, appointments=(span(f"2026-06-15 {appointment[0]}", appointment[1]),))
    assert sorted(start for start, x in slots.items() if x.reasons.booked) == booked
    assert all(x.reasons == SlotReasons(booked=True) for x in slots.values() if x.reasons.booked)


def test_time_off_across_midnight_marks_the_slots_of_both_days() -> None:
    cal = calendar(rule(MON, "09:00", "17:00"), rule(TUE, "09:00", "17:00"), time_off=(span("2026-06-15 15:00", "2026-06-16 11:00"),))
    slots = staff_slots(cal, shape(60), offering(), JUNE_15, JUNE_16, LONG_BEFORE)
    assert [label(x.slot) for x in slots if x.reasons.time_off] == ["06-15 15:00-16:00", "06-15 16:00-17:00", "06-16 09:00-10:00", "06-16 10:00-11:00"]
    assert len([x for x in slots if not x.reasons.any]) == 16 - 4


def test_time_off_counts_with_the_buffers() -> None:
    slots = monday_slots(rule(MON, "09:00", "13:00"), s=shape(60, after=15), time_off=(span("2026-06-15 11:10", "13:00"),))
    assert [start for start, x in slots.items() if x.reasons.time_off] == ["10:00", "11:00"]


def test_a_holiday_marks_every_slot_of_its_local_date() -> None:
    cal = calendar(*every_day("09:00", "11:00"), holidays=frozenset({JUNE_16}))
    slots = staff_slots(cal, shape(60), offering(), JUNE_15, date(2026, 6, 17), LONG_BEFORE)
    assert [label(x.slot) for x in slots if x.reasons.holiday] == ["06-16 09:00-10:00", "06-16 10:00-11:00"]
    assert all(x.reasons == SlotReasons(holiday=True) for x in slots if x.reasons.holiday)


def test_a_holiday_is_a_date_in_the_staff_members_zone() -> None:
    # 00:30 Kolkata on 2026-06-16 is still 2026-06-15 (21:00) in Vienna: the staff member's date counts.
    cal = calendar(rule(TUE, "00:30", "01:30"), zone=KOLKATA, holidays=frozenset({JUNE_16}))
    (only,) = staff_slots(cal, shape(60), offering(), JUNE_16, JUNE_16, LONG_BEFORE)
    assert only.reasons.holiday and label(only.slot) == "06-15 21:00-22:00"


@pytest.mark.parametrize(
    "now, too_late",
    [
        pytest.param(local("2026-06-15 09:00") - SECOND, False, id="a-second-before-the-minimum-notice-bookable"),
        pytest.param(local("2026-06-15 09:00"), False, id="exactly-at-the-minimum-notice-bookable"),
        pytest.param(local("2026-06-15 09:00") + SECOND, True, id="a-second-past-the-minimum-notice-too-late"),
    ],
)
def test_minimum_notice_is_the_late_booking_limit_strict(now: datetime, too_late: bool) -> None:
    slot = monday_slots(rule(MON, "09:00", "12:00"), p=policy(late=60), now=now)["10:00"]
    assert slot.reasons == SlotReasons(too_late=too_late)
    assert slot.reasons.policy is too_late


@pytest.mark.parametrize(
    "now, too_early",
    [
        pytest.param(local("2026-06-08 10:00") - SECOND, True, id="a-second-before-the-horizon-opens-too-early"),
        pytest.param(local("2026-06-08 10:00"), False, id="exactly-when-the-horizon-opens-bookable"),
    ],
)
def test_the_booking_horizon_is_the_early_booking_limit_strict(now: datetime, too_early: bool) -> None:
    slot = monday_slots(rule(MON, "09:00", "12:00"), p=policy(early=7 * 24 * 60), now=now)["10:00"]
    assert slot.reasons == SlotReasons(too_early=too_early)


def test_a_service_not_bookable_online_marks_every_slot() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    slots = staff_slots(cal, shape(60), offering(online=False), JUNE_15, JUNE_15, LONG_BEFORE)
    assert [x.reasons for x in slots] == [SlotReasons(online_disabled=True)] * 3


@pytest.mark.parametrize(
    "now, offered",
    [
        pytest.param(local("2026-06-15 10:00") - SECOND, ["10:00", "11:00"], id="a-slot-not-yet-started-is-offered"),
        pytest.param(local("2026-06-15 10:00"), ["11:00"], id="a-slot-starting-now-has-started"),
        pytest.param(local("2026-06-15 12:00"), [], id="after-closing-nothing-is-offered"),
    ],
)
def test_started_slots_are_never_offered(now: datetime, offered: list[str]) -> None:
    assert list(monday_slots(rule(MON, "09:00", "12:00"), now=now)) == offered


def test_only_an_appointment_service_has_staff_slots() -> None:
    klass = Offering("svc-yoga", ServiceType.CLASS, "sched", VIENNA, True)
    with pytest.raises(ValueError, match="not an APPOINTMENT"):
        staff_slots(calendar(rule(MON, "09:00", "12:00")), shape(), klass, JUNE_15, JUNE_15, LONG_BEFORE)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        staff_slots(calendar(rule(MON, "09:00", "12:00")), shape(), offering(), JUNE_15, JUNE_15, datetime(2026, 6, 1))


@pytest.mark.parametrize(
    "build, error",
    [
        pytest.param(lambda: AppointmentShape(timedelta(0)), "duration must be positive", id="a-shape-needs-a-duration"),
        pytest.param(lambda: AppointmentShape(MINUTE, buffer_after=-MINUTE), "must not be negative", id="buffers-are-not-negative"),
        pytest.param(lambda: AppointmentShape(MINUTE, slot_interval=timedelta(0)), "slot_interval must be positive", id="a-slot-interval-is-positive"),
        pytest.param(lambda: Interval(utc("2026-06-15 10:00"), utc("2026-06-15 10:00")), "ends after it starts", id="an-interval-is-never-empty"),
        pytest.param(lambda: Interval(datetime(2026, 6, 15, 10), utc("2026-06-15 11:00")), "timezone-aware", id="an-interval-is-between-instants"),
        pytest.param(lambda: StaffCalendar(ANNA, "Nowhere/City", ()), "Nowhere/City", id="a-calendar-needs-a-real-zone"),
    ],
)
def test_malformed_values_are_refused_at_construction(build: Callable[[], object], error: str) -> None:
    with pytest.raises((ValueError, KeyError), match=error):  # an unknown zone is ZoneInfoNotFoundError, a KeyError
        build()


# --- merging the staff --------------------------------------------------------------------------

TEN = span("2026-06-15 10:00", "11:00")


@pytest.mark.parametrize(
    "anna, ben, available, reasons",
    [
        pytest.param(SlotReasons(), SlotReasons(), (ANNA, BEN), SlotReasons(), id="both-free-both-available-sorted-by-id"),
        pytest.param(SlotReasons(booked=True), SlotReasons(), (BEN,), SlotReasons(), id="one-booked-the-other-available-and-no-reasons"),
        pytest.param(SlotReasons(booked=True), SlotReasons(booked=True), (), SlotReasons(booked=True), id="both-booked-not-bookable-booked"),
        pytest.param(
            SlotReasons(time_off=True), SlotReasons(booked=True), (), SlotReasons(booked=True, time_off=True), id="nobody-available-the-union-of-reasons"
        ),
        pytest.param(
            SlotReasons(too_late=True), SlotReasons(booked=True, too_late=True), (), SlotReasons(booked=True, too_late=True), id="a-policy-reason-leaves-nobody"
        ),
    ],
)
def test_merging_two_staff_members(anna: SlotReasons, ben: SlotReasons, available: tuple[str, ...], reasons: SlotReasons) -> None:
    (merged,) = merge_staff([StaffSlot(BEN, TEN, ben), StaffSlot(ANNA, TEN, anna)])
    assert merged == AppointmentSlot(TEN, available, reasons)
    assert merged.bookable is bool(available)


def test_two_staff_members_merged_from_their_calendars() -> None:
    hours = rule(MON, "09:00", "12:00")
    anna = calendar(hours, staff=ANNA, appointments=(span("2026-06-15 10:00", "11:00"),))
    ben = calendar(hours, staff=BEN, appointments=(span("2026-06-15 10:00", "12:00"),))
    merged = merge_staff(
        [*staff_slots(anna, shape(), offering(), JUNE_15, JUNE_15, LONG_BEFORE), *staff_slots(ben, shape(), offering(), JUNE_15, JUNE_15, LONG_BEFORE)]
    )
    assert [(label(m.slot), m.available_staff_member_ids, m.reasons) for m in merged] == [
        ("06-15 09:00-10:00", (ANNA, BEN), SlotReasons()),
        ("06-15 10:00-11:00", (), SlotReasons(booked=True)),
        ("06-15 11:00-12:00", (ANNA,), SlotReasons()),
    ]


def test_merged_slots_are_sorted_by_start_then_end() -> None:
    short, long_, earlier = span("2026-06-15 10:00", "10:30"), span("2026-06-15 10:00", "11:00"), span("2026-06-15 09:00", "09:30")
    merged = merge_staff([StaffSlot(ANNA, long_, SlotReasons()), StaffSlot(BEN, short, SlotReasons()), StaffSlot(ANNA, earlier, SlotReasons())])
    assert [m.slot for m in merged] == [earlier, short, long_]


# --- date summaries -----------------------------------------------------------------------------


def on_monday(*reasons: SlotReasons) -> list[AppointmentSlot]:
    """Monday 2026-06-15 slots from 09:00, one an hour: bookable (by Anna) for an empty reason."""
    return [AppointmentSlot(span(f"2026-06-15 {9 + i:02d}:00", f"{10 + i:02d}:00"), () if r.any else (ANNA,), r) for i, r in enumerate(reasons)]


FREE, BOOKED, OFF, HOLIDAY = SlotReasons(), SlotReasons(booked=True), SlotReasons(time_off=True), SlotReasons(holiday=True)
LATE, EARLY, OFFLINE = SlotReasons(too_late=True), SlotReasons(too_early=True), SlotReasons(online_disabled=True)


@pytest.mark.parametrize(
    "slots, has_hours, bookable, reason",
    [
        pytest.param([], False, 0, UnavailableReason.NO_SERVICE_HOURS, id="no-candidate-slot-no-service-hours"),
        pytest.param([], True, 0, UnavailableReason.TOO_LATE, id="hours-whose-slots-have-all-started-too-late"),
        pytest.param(on_monday(FREE, BOOKED, FREE), True, 2, None, id="bookable-slots-are-counted-no-reason"),
        pytest.param(on_monday(HOLIDAY, HOLIDAY), True, 0, UnavailableReason.HOLIDAY, id="every-slot-on-a-holiday"),
        pytest.param(on_monday(HOLIDAY, SlotReasons(holiday=True, online_disabled=True)), True, 0, UnavailableReason.HOLIDAY, id="holiday-before-policy"),
        pytest.param(on_monday(OFF, OFF), True, 0, UnavailableReason.TIME_OFF, id="every-slot-in-time-off"),
        pytest.param(on_monday(HOLIDAY, OFF), True, 0, UnavailableReason.TIME_OFF, id="holiday-and-time-off-mixed-time-off"),
        pytest.param(on_monday(SlotReasons(time_off=True, too_late=True), LATE), True, 0, UnavailableReason.TOO_LATE, id="every-slot-too-late"),
        pytest.param(on_monday(SlotReasons(too_late=True, too_early=True), EARLY), True, 0, UnavailableReason.TOO_EARLY, id="every-slot-too-early"),
        pytest.param(
            on_monday(OFFLINE, SlotReasons(booked=True, online_disabled=True)), True, 0, UnavailableReason.BOOK_ONLINE_DISABLED, id="online-booking-disabled"
        ),
        pytest.param(on_monday(BOOKED, BOOKED), True, 0, UnavailableReason.FULLY_BOOKED, id="every-slot-booked"),
        pytest.param(on_monday(BOOKED, LATE, OFF), True, 0, UnavailableReason.FULLY_BOOKED, id="mixed-reasons-fully-booked"),
    ],
)
def test_the_reason_a_date_has_no_bookable_slot(slots: list[AppointmentSlot], has_hours: bool, bookable: int, reason: UnavailableReason | None) -> None:
    (summary,) = date_summaries(slots, ZoneInfo(VIENNA), JUNE_15, JUNE_15, lambda day: has_hours)
    assert summary == DateSummary(JUNE_15, bookable, reason)


def test_dates_follow_the_request_zone_not_the_staff_members() -> None:
    # Kolkata is UTC+05:30: Monday 02:00-06:00 there is Sunday 20:30 to Monday 00:30 UTC, which in
    # Vienna (UTC+2) is Sunday 22:30 to Monday 02:30.
    vienna, kolkata = ZoneInfo(VIENNA), ZoneInfo(KOLKATA)
    cal = calendar(rule(MON, "02:00", "06:00"), zone=KOLKATA)
    first, last = date(2026, 6, 13), JUNE_16
    in_vienna = dates_view([cal], shape(60), offering(), vienna, first, last, LONG_BEFORE)
    assert [(s.local_date.isoformat(), s.bookable_slots, s.unavailable_reason) for s in in_vienna.dates] == [
        ("2026-06-13", 0, UnavailableReason.NO_SERVICE_HOURS),
        ("2026-06-14", 2, None),
        ("2026-06-15", 2, None),
        ("2026-06-16", 0, UnavailableReason.NO_SERVICE_HOURS),
    ]
    assert in_vienna.next_available == date(2026, 6, 14)

    in_kolkata = dates_view([cal], shape(60), offering(), kolkata, first, last, LONG_BEFORE)
    assert [(s.local_date.isoformat(), s.bookable_slots) for s in in_kolkata.dates] == [
        ("2026-06-13", 0),
        ("2026-06-14", 0),
        ("2026-06-15", 4),
        ("2026-06-16", 0),
    ]
    assert in_kolkata.next_available == JUNE_15


def test_a_day_view_after_closing_and_before_the_next_working_day() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), rule(TUE, "09:00", "12:00"))
    zone = ZoneInfo(VIENNA)
    now = local("2026-06-15 12:30")
    slots = merge_staff(staff_slots(cal, shape(), offering(policy(late=24 * 60)), JUNE_15, date(2026, 6, 17), now))
    hours = local_dates(candidate_slots(working_intervals(cal, JUNE_15, date(2026, 6, 17)), shape()), zone)
    summaries = date_summaries(slots, zone, JUNE_15, date(2026, 6, 17), hours)
    assert [(s.bookable_slots, s.unavailable_reason) for s in summaries] == [
        (0, UnavailableReason.TOO_LATE),  # Monday's slots have all started
        (0, UnavailableReason.TOO_LATE),  # Tuesday's are within the day of notice
        (0, UnavailableReason.NO_SERVICE_HOURS),
    ]
    assert next_available_date(summaries) is None


@pytest.mark.parametrize(
    "counts, expected",
    [
        pytest.param([0, 0, 0], None, id="nothing-bookable-none"),
        pytest.param([0, 3, 1], date(2026, 6, 16), id="the-first-date-with-a-bookable-slot"),
    ],
)
def test_next_available_date(counts: list[int], expected: date | None) -> None:
    summaries = [DateSummary(JUNE_15 + i * DAY, n, None if n else UnavailableReason.FULLY_BOOKED) for i, n in enumerate(counts)]
    assert next_available_date(reversed(summaries)) == expected


@pytest.mark.parametrize(
    "zone, other, first, last, expected",
    [
        pytest.param(VIENNA, VIENNA, JUNE_15, JUNE_16, (JUNE_15, JUNE_16), id="the-same-zone-the-same-dates"),
        pytest.param(VIENNA, KOLKATA, JUNE_15, JUNE_15, (JUNE_15, JUNE_16), id="east-of-the-request-one-more-date-after"),
        pytest.param(VIENNA, NEW_YORK, JUNE_15, JUNE_15, (date(2026, 6, 14), JUNE_15), id="west-of-the-request-one-more-date-before"),
        pytest.param(
            "Pacific/Kiritimati", "Pacific/Pago_Pago", JUNE_15, JUNE_15, (date(2026, 6, 13), date(2026, 6, 14)), id="25-hours-apart-a-whole-date-back"
        ),
    ],
)
def test_covering_dates(zone: str, other: str, first: date, last: date, expected: tuple[date, date]) -> None:
    assert covering_dates(first, last, ZoneInfo(zone), ZoneInfo(other)) == expected


# --- what the RPCs call -------------------------------------------------------------------------

TUESDAY_OFF = span("2026-06-16 10:00", "11:30")
SCENARIOS = [
    pytest.param(shape(60), policy(), {}, {}, id="plain-hours"),
    pytest.param(shape(30, before=15, after=15, interval=20), policy(), {}, {}, id="buffers-and-an-interval"),
    pytest.param(
        shape(45, after=10),
        policy(late=18 * 60, early=3 * 24 * 60),
        {"appointments": (span("2026-06-15 10:00", "11:00"), span("2026-06-17 09:30", "10:10")), "holidays": frozenset({date(2026, 6, 18)})},
        {"time_off": (TUESDAY_OFF,), "appointments": (span("2026-06-15 09:00", "12:00"),)},
        id="appointments-time-off-holidays-and-the-policy",
    ),
]


def _two_staff(anna: dict[str, object], ben: dict[str, object]) -> list[StaffCalendar]:
    return [
        calendar(*every_day("09:00", "12:00"), rule(SAT, "14:00", "18:00"), staff=ANNA, **anna),
        calendar(*every_day("08:00", "11:00"), zone=BERLIN, staff=BEN, extra_hours=(span("2026-06-16 15:00", "17:00", BERLIN),), **ben),
    ]


@pytest.mark.parametrize("limit", ["08:30", "09:00", "10:30", "11:00", "11:30", "12:00"])
@pytest.mark.parametrize("late", [True, False], ids=["minimum-notice", "horizon"])
def test_a_policy_limit_on_any_slot_of_a_block_splits_it_exactly(limit: str, late: bool) -> None:
    # Monday 09:00-12:00, half-hour slots: the limit (now + 1 hour) on the block's first, a middle
    # or its last start, or just outside it.
    cal = calendar(rule(MON, "09:00", "12:00"))
    now = local(f"2026-06-15 {limit}") - 60 * MINUTE
    o = offering(policy(late=60) if late else policy(early=60))
    expected = merge_staff(staff_slots(cal, shape(30), o, JUNE_15, JUNE_15, now))
    assert appointment_slots([cal], shape(30), o, local("2026-06-15 00:00"), local("2026-06-16 00:00"), now).slots == expected


@pytest.mark.parametrize("s, p, anna, ben", SCENARIOS)
def test_appointment_slots_are_the_staff_slots_merged(s: AppointmentShape, p: BookingPolicy, anna: dict[str, object], ben: dict[str, object]) -> None:
    calendars = _two_staff(anna, ben)
    now = local("2026-06-14 20:00")
    first, last = JUNE_15, date(2026, 6, 21)
    expected = merge_staff([x for c in calendars for x in staff_slots(c, s, offering(p), first, last, now)])
    start, end = local("2026-06-15 00:00"), local("2026-06-22 00:00")
    found = appointment_slots(calendars, s, offering(p), start, end, now)
    assert found.slots == expected
    assert found.started == frozenset()
    # Worked out a day at a time, the same slots.
    by_day = [x for i in range(7) for x in appointment_slots(calendars, s, offering(p), start + i * DAY, start + (i + 1) * DAY, now).slots]
    assert by_day == expected


def test_a_range_that_starts_inside_a_block_keeps_the_blocks_grid() -> None:
    # Extra hours from 22:00 on Sunday: slots of 45 minutes from 22:00, whatever the range asked.
    cal = calendar(extra_hours=(span("2026-06-14 22:00", "2026-06-15 02:00"),))
    found = appointment_slots([cal], shape(45), offering(), local("2026-06-15 00:00"), local("2026-06-16 00:00"), LONG_BEFORE)
    assert [label(x.slot) for x in found.slots] == ["06-15 00:15-01:00", "06-15 01:00-01:45"]


def test_started_slots_are_left_out_or_too_late() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    now = local("2026-06-15 10:30")
    window = (local("2026-06-15 00:00"), local("2026-06-16 00:00"))
    found = appointment_slots([cal], shape(60), offering(), *window, now)
    assert [label(x.slot) for x in found.slots] == ["06-15 11:00-12:00"]
    assert sorted(found.started) == [local("2026-06-15 09:00"), local("2026-06-15 10:00")]
    with_started = appointment_slots([cal], shape(60), offering(), *window, now, include_started=True)
    assert [x.reasons for x in with_started.slots] == [SlotReasons(too_late=True), SlotReasons(too_late=True), SlotReasons()]


@pytest.mark.parametrize(
    "start, end, now, expected",
    [
        pytest.param("09:00", "10:00", LONG_BEFORE, ((ANNA, BEN), SlotReasons()), id="on-both-grids"),
        pytest.param("13:00", "14:00", LONG_BEFORE, ((BEN,), SlotReasons()), id="on-one-grid-only"),
        pytest.param("10:00", "11:00", LONG_BEFORE, ((), SlotReasons(booked=True)), id="booked-for-both"),
        pytest.param("09:00", "10:00", local("2026-06-15 09:00"), ((), SlotReasons(too_late=True)), id="started"),
        pytest.param("09:30", "10:30", LONG_BEFORE, None, id="off-the-grid"),
        pytest.param("09:00", "09:30", LONG_BEFORE, None, id="another-length"),
        pytest.param("11:30", "12:30", LONG_BEFORE, None, id="after-closing"),
    ],
)
def test_one_slot_by_its_start_and_end(start: str, end: str, now: datetime, expected: tuple[tuple[str, ...], SlotReasons] | None) -> None:
    booked = (span("2026-06-15 10:00", "11:00"),)
    anna = calendar(rule(MON, "09:00", "12:00"), staff=ANNA, appointments=booked)
    ben = calendar(rule(MON, "09:00", "15:00"), staff=BEN, appointments=booked)
    found = slot_at([anna, ben], shape(60), offering(), local(f"2026-06-15 {start}"), local(f"2026-06-15 {end}"), now)
    assert (None if found is None else (found.available_staff_member_ids, found.reasons)) == expected


def test_a_page_is_worked_out_until_it_is_full() -> None:
    cal = calendar(*every_day("09:00", "12:00"), appointments=(span("2026-06-15 09:00", "12:00"),))
    start, end = local("2026-06-15 00:00"), local("2026-07-15 00:00")
    args = ([cal], shape(60), offering(), start, end, LONG_BEFORE)
    page = first_slots(*args, count=4, bookable_only=True)
    assert [label(x.slot) for x in page] == ["06-16 09:00-10:00", "06-16 10:00-11:00", "06-16 11:00-12:00", "06-17 09:00-10:00"]
    assert [label(x.slot) for x in first_slots(*args, count=2, bookable_only=False)] == ["06-15 09:00-10:00", "06-15 10:00-11:00"]
    everything = first_slots(*args, count=1000, bookable_only=True)
    assert (len(everything), label(everything[-1].slot)) == (29 * 3, "07-14 11:00-12:00")  # a sparse start does not stop it short


def test_a_page_is_read_its_first_week_then_the_rest_of_the_range() -> None:
    start, end = local("2026-06-15 00:00"), local("2026-07-15 00:00")
    assert page_parts(start, end, None) == [(start, local("2026-06-22 00:00")), (local("2026-06-22 00:00"), end)]
    after = local("2026-07-10 09:00")
    assert page_parts(start, end, after) == [(after + MICRO, end)]  # less than a week left: one part
    assert page_parts(start, end, end) == []


def test_a_calendar_read_in_parts_has_each_exception_once_and_the_first_parts_rules() -> None:
    anna = StaffMember(ANNA, "schedule-of-anna", KOLKATA, frozenset())
    across = span("2026-06-20 22:00", "2026-06-21 02:00")
    june = ScheduleHours(VIENNA, every_day("09:00", "12:00"), time_off=(span("2026-06-16 09:00", "10:00"), across), holidays=frozenset({JUNE_16}))
    july = ScheduleHours(VIENNA, every_day("10:00", "11:00"), time_off=(across,), extra_hours=(span("2026-07-01 13:00", "14:00"),))
    cal = staff_calendar(anna, [june, july], [span("2026-06-15 09:00", "10:00")])
    assert (cal.staff_member_id, cal.time_zone, cal.rules) == (ANNA, KOLKATA, every_day("09:00", "12:00"))
    assert (cal.time_off, cal.extra_hours, cal.holidays) == (
        (span("2026-06-16 09:00", "10:00"), across),
        (span("2026-07-01 13:00", "14:00"),),
        frozenset({JUNE_16}),
    )
    assert cal.appointments == (span("2026-06-15 09:00", "10:00"),)
    assert staff_calendar(StaffMember(ANNA, "schedule-of-anna", "", frozenset()), [june]).time_zone == VIENNA  # the schedule's, lacking the staff member's


def test_the_month_view_of_the_range_and_where_it_searches_on() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), appointments=(span("2026-06-15 09:00", "12:00"),))
    view = dates_view([cal], shape(60), offering(), ZoneInfo(VIENNA), JUNE_15, JUNE_16, LONG_BEFORE)
    assert ([(d.bookable_slots, d.unavailable_reason) for d in view.dates], view.next_available) == (
        [(0, UnavailableReason.FULLY_BOOKED), (0, UnavailableReason.NO_SERVICE_HOURS)],
        None,
    )
    now = local("2026-06-30 12:00")  # the search starts today, not on the day after the range
    assert search_chunks(JUNE_16, date(2026, 8, 15), ZoneInfo(VIENNA), now) == [(date(2026, 6, 30), date(2026, 7, 30)), (date(2026, 7, 31), date(2026, 8, 15))]
    assert search_chunks(JUNE_16, date(2026, 6, 20), ZoneInfo(VIENNA), now) == []  # nothing left before the horizon
    assert first_bookable_date([cal], shape(60), offering(), ZoneInfo(VIENNA), JUNE_15, date(2026, 7, 15), LONG_BEFORE) == date(2026, 6, 22)
    assert first_bookable_date([cal], shape(60), offering(), ZoneInfo(VIENNA), JUNE_15, JUNE_16, LONG_BEFORE) is None


@pytest.mark.parametrize(
    "p, expected",
    [
        pytest.param(policy(), date(2027, 6, 15), id="no-horizon-366-dates"),
        pytest.param(policy(early=3 * 24 * 60), date(2026, 6, 4), id="the-horizons-date-in-the-zone"),
        pytest.param(policy(early=2 * 366 * 24 * 60), date(2027, 6, 15), id="a-horizon-beyond-366-dates"),
    ],
)
def test_search_until(p: BookingPolicy, expected: date) -> None:
    # Now is 2026-06-01 00:00 UTC, 02:00 in Vienna.
    assert search_until(offering(p), ZoneInfo(VIENNA), JUNE_15, LONG_BEFORE) == expected


def test_the_windows_stay_in_the_instant_range() -> None:
    end_of_instants = datetime(3000, 1, 1, tzinfo=UTC)
    assert dates_window(date(2999, 12, 31), date(2999, 12, 31), ZoneInfo(NEW_YORK)) == (local("2999-12-31 00:00", NEW_YORK), end_of_instants)
    assert dates_window(date(1900, 1, 1), date(1900, 1, 1), ZoneInfo("Asia/Tokyo"))[0] == datetime(1900, 1, 1, tzinfo=UTC)
    assert reading_window(utc("2026-06-15 10:00"), utc("2026-06-15 11:00")) == Interval(utc("2026-06-12 10:00"), utc("2026-06-18 11:00"))
    assert reading_window(utc("2999-12-31 10:00"), end_of_instants).end == end_of_instants


@pytest.mark.parametrize(
    "p, earliest, latest",
    [
        pytest.param(policy(), None, None, id="no-limits-no-dates"),
        pytest.param(policy(early=24 * 60, late=30), "2026-06-14 10:00", "2026-06-15 09:30", id="start-minus-each-limit"),
    ],
)
def test_a_slots_booking_window(p: BookingPolicy, earliest: str | None, latest: str | None) -> None:
    slot = AppointmentSlot(span("2026-06-15 10:00", "11:00"), (), SlotReasons(too_early=True))
    violations = slot_violations(offering(p), slot)
    assert (violations.too_early_to_book, violations.too_late_to_book, violations.book_online_disabled) == (True, False, False)
    assert (violations.earliest_booking_date, violations.latest_booking_date) == (earliest and local(earliest), latest and local(latest))


# --- the fast paths against the rules' own steps -------------------------------------------------
#
# `appointment_slots`, `dates_view` and `first_bookable_date` work out slots in microseconds, in one
# pass across staff; `staff_slots`, `merge_staff` and `date_summaries` state the rules one slot at a
# time. Any calendars, shapes, policies and clocks: both give the same answers.

ZONES = [VIENNA, NEW_YORK, KOLKATA, "Australia/Lord_Howe", "UTC"]
WEEK_START = date(2026, 3, 5)  # New York's spring forward (03-08) and Vienna's (03-29) within four weeks


@st.composite
def _spans(draw: st.DrawFn, zone: str, most: int) -> tuple[Interval, ...]:
    spans = []
    for _ in range(draw(st.integers(0, most))):
        start = datetime.combine(WEEK_START + timedelta(days=draw(st.integers(-2, 30))), time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))))
        start_utc = to_utc(start, ZoneInfo(zone), nonexistent="shift")
        spans.append(Interval(start_utc, start_utc + draw(st.integers(1, 36 * 4)) * 15 * MINUTE))
    return tuple(spans)


@st.composite
def _calendar(draw: st.DrawFn, staff: str) -> StaffCalendar:
    zone = draw(st.sampled_from(ZONES))
    rules = []
    for day in range(1, 8):
        for start, end in draw(st.sampled_from([[], [(9, 12)], [(9, 12), (13, 17)], [(0, 3)], [(20, 23)], [(1, 4)]])):
            rules.append(WeeklyRule(day, time(start, draw(st.sampled_from([0, 30]))), time(end)))
    holidays = frozenset(WEEK_START + timedelta(days=d) for d in draw(st.lists(st.integers(0, 27), max_size=3)))
    return StaffCalendar(
        staff,
        zone,
        tuple(rules),
        extra_hours=draw(_spans(zone, 2)),
        time_off=draw(_spans(zone, 3)),
        holidays=holidays,
        appointments=draw(_spans(zone, 6)),
    )


@st.composite
def _case(draw: st.DrawFn) -> tuple[list[StaffCalendar], AppointmentShape, Offering, datetime, str]:
    calendars = [draw(_calendar(staff)) for staff in draw(st.sampled_from([[ANNA], [ANNA, BEN], [ANNA, BEN, "cara"]]))]
    s = shape(
        draw(st.sampled_from([15, 30, 45, 60, 90])),
        before=draw(st.sampled_from([0, 0, 10, 30])),
        after=draw(st.sampled_from([0, 0, 15])),
        interval=draw(st.sampled_from([None, None, 15, 20, 30, 40])),
    )
    p = policy(late=draw(st.sampled_from([None, 60, 3 * 24 * 60])), early=draw(st.sampled_from([None, 10 * 24 * 60])))
    # On the half hour, as most slots start: a slot starting at now, or at a limit of the policy, is
    # the edge case.
    now = local("2026-03-05 00:00") + draw(st.integers(0, 14 * 24 * 2)) * 30 * MINUTE
    return calendars, s, offering(p, online=draw(st.sampled_from([True, True, False]))), now, draw(st.sampled_from(ZONES))


@settings(max_examples=400, deadline=None)
@given(_case())
def test_the_fast_paths_agree_with_the_rules_step_by_step(case: tuple[list[StaffCalendar], AppointmentShape, Offering, datetime, str]) -> None:
    calendars, s, o, now, asked_in = case
    zone = ZoneInfo(asked_in)
    first, last = WEEK_START + timedelta(days=3), WEEK_START + timedelta(days=24)
    start, end = dates_window(first, last, zone)

    found = appointment_slots(calendars, s, o, start, end, now)
    # Each staff member's slots of every local date the range touches (and the date before), then
    # merged: those starting in the range.
    by_staff = [
        x for c in calendars for x in staff_slots(c, s, o, *(d - DAY * i for d, i in zip(covering_dates(first, last, zone, c.zone), (1, 0), strict=True)), now)
    ]
    assert found.slots == [x for x in merge_staff(by_staff) if start <= x.slot.start < end]

    with_started = appointment_slots(calendars, s, o, start, end, now, include_started=True)
    started_dates = frozenset(x.astimezone(zone).date() for x in with_started.started)
    view = dates_view(calendars, s, o, zone, first, last, now)
    assert view.dates == date_summaries(found.slots, zone, first, last, started_dates)
    assert view.next_available == next((x.slot.start.astimezone(zone).date() for x in found.slots if x.bookable), None)
    assert first_bookable_date(calendars, s, o, zone, first, last, now) == view.next_available
