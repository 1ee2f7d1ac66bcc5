"""Appointment slots: from a staff member's working hours to the slots a client may book
(docs/appointments.md). Pure: no I/O, no protobuf;
`now` is always a parameter.

The steps, each a function of its own:
1. `working_intervals`: weekly rules (local wall-clock times in the staff member's zone) plus
   extra hours, as merged UTC intervals.
2. `candidate_slots`: the slot grid inside those intervals (duration, buffers, slot interval).
3. `staff_slots`: every candidate slot still ahead, with the reasons it cannot be booked with
   this staff member (booked, time off, holiday, and the booking policy of the service).
4. `merge_staff`: one slot per (start, end) across staff, bookable when any staff member is free.
5. `date_summaries`: per local date of the request's zone, how many slots are bookable, or the
   one reason none is.

Every instant is a timezone-aware UTC `datetime`; an `Interval` is half-open [start, end), so two
intervals that only touch do not overlap (back-to-back appointments are allowed). Local times
become instants only through services/common/local_time.py (a fold is its first occurrence, a
time in a spring-forward gap is shifted forward by the gap), never by a DST rule of our own.

Slots are laid out in UTC from the start of each working interval, so a slot is always
`duration` of real time, also on a DST change day; only its local label moves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import groupby
from zoneinfo import ZoneInfo

from services.availability.domain.model import Offering, ServiceType, require_aware
from services.common.local_time import to_utc
from services.common.weekly_rules import WeeklyRule, rule_spans

_ZERO = timedelta(0)
_DAY = timedelta(days=1)


def _dates(first: date, last: date) -> list[date]:
    """first..last, both included (empty when last is before first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    # A midnight that falls into a gap (zones that change at 00:00) is shifted, never refused.
    return to_utc(datetime.combine(day, time()), zone, nonexistent="shift")


# --- model --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """A span of time [start, end) between two aware instants; never empty."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware("Interval.start", self.start)
        require_aware("Interval.end", self.end)
        if self.end <= self.start:
            raise ValueError(f"an interval ends after it starts: {self.start.isoformat()} .. {self.end.isoformat()}")

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share an instant. Half-open: intervals that only touch do not overlap."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class StaffCalendar:
    """What one staff member's availability is made of (their schedule in timeframes).

    - `time_zone`: the IANA zone of the rules and of the holidays' local dates.
    - `extra_hours`: instants added to the weekly hours.
    - `time_off`: instants in which the staff member is away; a reason a slot is not bookable,
      not a hole in the hours (the day view shows those slots as "time off").
    - `holidays`: local dates in `time_zone` on which the slots are not bookable (the business's
      holidays, given to each of its staff members' calendars by the caller).
    - `appointments`: the OCCUPIED time of the staff member's existing appointments, i.e. each
      already widened by its own buffers (what the database's exclusion constraint holds), so a
      new slot is compared with it as it is, whatever the buffers of the other service were.
    """

    staff_member_id: str
    time_zone: str
    rules: tuple[WeeklyRule, ...]
    extra_hours: tuple[Interval, ...] = ()
    time_off: tuple[Interval, ...] = ()
    holidays: frozenset[date] = frozenset()
    appointments: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not in the middle of a calculation

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches its instances


@dataclass(frozen=True, slots=True)
class AppointmentShape:
    """An APPOINTMENT service's `appointment {duration_minutes, buffer_before_minutes,
    buffer_after_minutes, slot_interval_minutes}`: how long the client's appointment is, the
    staff member's time kept free before and after it, and the step between slot starts (None:
    the duration, i.e. back-to-back slots)."""

    duration: timedelta
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    slot_interval: timedelta | None = None

    def __post_init__(self) -> None:
        if self.duration <= _ZERO:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError("buffers must not be negative")
        if self.slot_interval is not None and self.slot_interval <= _ZERO:
            raise ValueError(f"slot_interval must be positive, got {self.slot_interval}")

    @property
    def step(self) -> timedelta:
        return self.duration if self.slot_interval is None else self.slot_interval

    def occupied(self, start: datetime) -> Interval:
        """The staff member's time a slot starting at `start` takes: [start − buffer_before,
        start + duration + buffer_after)."""
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)


@dataclass(frozen=True, slots=True)
class SlotReasons:
    """Why a slot cannot be booked (with one staff member, or, merged, with any); all False when it
    can. `too_late`, `too_early` and `online_disabled` come from the service's booking policy and
    are the same for every staff member."""

    booked: bool = False
    time_off: bool = False
    holiday: bool = False
    too_late: bool = False
    too_early: bool = False
    online_disabled: bool = False

    @property
    def policy(self) -> bool:
        return self.too_late or self.too_early or self.online_disabled

    @property
    def any(self) -> bool:
        return self.booked or self.time_off or self.holiday or self.policy


def _union(reasons: Sequence[SlotReasons]) -> SlotReasons:
    return SlotReasons(
        booked=any(r.booked for r in reasons),
        time_off=any(r.time_off for r in reasons),
        holiday=any(r.holiday for r in reasons),
        too_late=any(r.too_late for r in reasons),
        too_early=any(r.too_early for r in reasons),
        online_disabled=any(r.online_disabled for r in reasons),
    )


@dataclass(frozen=True, slots=True)
class StaffSlot:
    """One candidate slot of one staff member, with why it cannot be booked with them."""

    staff_member_id: str
    slot: Interval
    reasons: SlotReasons


@dataclass(frozen=True, slots=True)
class AppointmentSlot:
    """One slot across the staff: who could take it (sorted ids) and, when nobody can, why not."""

    slot: Interval
    available_staff_member_ids: tuple[str, ...]
    reasons: SlotReasons

    @property
    def bookable(self) -> bool:
        return bool(self.available_staff_member_ids)


class UnavailableReason(StrEnum):
    """`ListAvailabilityDates` `dates[].unavailable_reason` (docs/appointments.md "The month view"; names fixed by the contract)."""

    NO_SERVICE_HOURS = "NO_SERVICE_HOURS"
    FULLY_BOOKED = "FULLY_BOOKED"
    CALENDAR_CONFLICT = "CALENDAR_CONFLICT"  # external calendars: not produced by this module yet
    HOLIDAY = "HOLIDAY"
    TIME_OFF = "TIME_OFF"
    TOO_LATE = "TOO_LATE"
    TOO_EARLY = "TOO_EARLY"
    BOOK_ONLINE_DISABLED = "BOOK_ONLINE_DISABLED"


@dataclass(frozen=True, slots=True)
class DateSummary:
    """One local date of `ListAvailabilityDates`: its bookable slots, or (when none) one reason."""

    local_date: date
    bookable_slots: int
    unavailable_reason: UnavailableReason | None


# --- working hours and slots --------------------------------------------------------------------


def working_intervals(calendar: StaffCalendar, first: date, last: date) -> list[Interval]:
    """The staff member's working hours for the local dates first..last (both inclusive, in the
    calendar's zone), as UTC intervals, sorted, merged where they overlap or touch.

    - For each date, the rules in force that date (services/common/weekly_rules.py `rule_spans`),
      each local start and end resolved with `to_utc(..., nonexistent="shift")`: a time in a fold is its first
      occurrence, a time in a spring-forward gap moves forward by the gap. So 09:00–17:00 is 8
      hours on a DST change day too (only its UTC offset differs), a rule across the fold is as
      long as it really is (01:00–02:00 New York on 2026-11-01 is two hours, from the first
      01:00), and a rule entirely inside a gap resolves to an empty span and gives nothing.
    - Plus every extra-hours interval that intersects the span of those dates, whole: not cut at
      the span's ends, so the slot grid of a block does not depend on the range asked; a caller
      keeps only the slots of its own range.
    - Merged where blocks overlap or touch (a rule block 09:00–12:00 and extra hours 12:00–14:00
      are one block 09:00–14:00, whose slots may run across 12:00).
    - Holidays and time off are NOT subtracted: they are reasons a slot is not bookable
      (`staff_slots`), which the day view shows.
    """
    zone = calendar.zone
    blocks = [Interval(start, end) for start, end in rule_spans(calendar.rules, zone, first, last)]
    if first <= last:
        span = Interval(_local_midnight_utc(first, zone), _local_midnight_utc(last + _DAY, zone))
        blocks.extend(extra for extra in calendar.extra_hours if extra.overlaps(span))
    return _merge(blocks)


def _merge(blocks: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for block in sorted(blocks, key=lambda b: (b.start, b.end)):
        if merged and block.start <= merged[-1].end:  # overlapping or touching
            if block.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, block.end)
        else:
            merged.append(block)
    return merged


def candidate_slots(intervals: Iterable[Interval], shape: AppointmentShape) -> list[Interval]:
    """The slots [s, s + duration) the working intervals offer, sorted by start.

    - Starts lie on each interval's own grid, interval.start + k·step (`shape.step`: the slot
      interval, or the duration), in real time: a step smaller than the duration gives
      overlapping candidates (a client may start at 09:00 or 09:30), a larger one gaps between
      them.
    - A slot fits when s + duration + buffer_after ≤ interval.end: the last slot ends with its
      after-buffer inside the working hours (the staff member tidies up before going home).
    - The before-buffer is NOT required to fit inside the working hours: preparing before opening
      is allowed. It counts only against other occupied time (appointments, time off), in
      `staff_slots`.
    """
    slots: list[Interval] = []
    for interval in intervals:
        start = interval.start
        while start + shape.duration + shape.buffer_after <= interval.end:
            slots.append(Interval(start, start + shape.duration))
            start += shape.step
    return sorted(slots, key=lambda s: s.start)


def staff_slots(calendar: StaffCalendar, shape: AppointmentShape, offering: Offering, first: date, last: date, now: datetime) -> list[StaffSlot]:
    """The candidate slots of one staff member for the calendar's local dates first..last
    (`working_intervals`, `candidate_slots`) that start after `now`, each with its reasons.

    - Started slots (start ≤ now) are never offered, whatever the policy: an appointment cannot
      be booked into the past.
    - `holiday`: the slot's start falls on a holiday (a local date in the staff member's zone).
    - `time_off` / `booked`: the slot's occupied time (`AppointmentShape.occupied`, buffers
      included) overlaps a time off / an existing appointment's occupied time. Half-open, so an
      appointment that just touches the buffers does not block.
    - The policy flags, with F = the slot's start and strict comparisons as for classes
      (docs/booking-policies.md "Too early", "Too late before F"): `too_late` (minimum notice)
      = late limit enabled and now > start − latest_booking_in_minutes, so exactly at the limit it
      is still bookable; `too_early` (horizon) = early limit enabled and now < start −
      earliest_booking_in_minutes; `online_disabled` = not offering.online_booking_enabled.

    The policy comes as the `Offering` (type APPOINTMENT), as in policy.py: it carries both the
    policy and the online-booking flag, which a `ProvidedPolicy` replaces together
    (`ProvidedPolicy.applied_to`), so the two cannot come from different sources by mistake.
    """
    require_aware("now", now)
    if offering.type is not ServiceType.APPOINTMENT:
        raise ValueError(f"service {offering.service_id} is a {offering.type}, not an APPOINTMENT")
    policy = offering.policy
    zone = calendar.zone
    latest = timedelta(minutes=policy.latest_booking_in_minutes)
    earliest = timedelta(minutes=policy.earliest_booking_in_minutes)

    result: list[StaffSlot] = []
    for slot in candidate_slots(working_intervals(calendar, first, last), shape):
        if slot.start <= now:
            continue
        occupied = shape.occupied(slot.start)
        reasons = SlotReasons(
            booked=any(occupied.overlaps(a) for a in calendar.appointments),
            time_off=any(occupied.overlaps(t) for t in calendar.time_off),
            holiday=slot.start.astimezone(zone).date() in calendar.holidays,
            too_late=policy.limit_late_booking_enabled and now > slot.start - latest,
            too_early=policy.limit_early_booking_enabled and now < slot.start - earliest,
            online_disabled=not offering.online_booking_enabled,
        )
        result.append(StaffSlot(calendar.staff_member_id, slot, reasons))
    return result


def _slot_key(staff_slot: StaffSlot) -> tuple[datetime, datetime]:
    return staff_slot.slot.start, staff_slot.slot.end


def merge_staff(slots: Iterable[StaffSlot]) -> list[AppointmentSlot]:
    """One `AppointmentSlot` per (start, end) across the staff, sorted by start, then end.

    `available_staff_member_ids`: the staff members with no reason, sorted by id (a stable order
    for the round robin that picks one). When somebody is available the slot carries no reasons;
    when nobody is, its reasons are the union of every staff member's (the day view can say
    "booked" and "time off" at once). The policy reasons are the same for every staff member, so
    a policy violation leaves nobody available.
    """
    merged: list[AppointmentSlot] = []
    for _, group in groupby(sorted(slots, key=_slot_key), key=_slot_key):
        same = list(group)
        available = tuple(sorted({s.staff_member_id for s in same if not s.reasons.any}))
        reasons = SlotReasons() if available else _union([s.reasons for s in same])
        merged.append(AppointmentSlot(same[0].slot, available, reasons))
    return merged


# --- dates --------------------------------------------------------------------------------------


def covering_dates(first: date, last: date, zone: ZoneInfo, other: ZoneInfo) -> tuple[date, date]:
    """The local dates in `other` that the local dates first..last of `zone` touch: which dates of
    a staff member's calendar to read for a request made in another zone. One request date may
    touch two staff dates, and zones lie up to 26 hours apart, so "one day more on each side" is
    not always right; this is."""
    start = _local_midnight_utc(first, zone)
    end = _local_midnight_utc(last + _DAY, zone) - timedelta(microseconds=1)
    return start.astimezone(other).date(), end.astimezone(other).date()


def local_dates(intervals: Iterable[Interval], zone: ZoneInfo) -> frozenset[date]:
    """The local dates in `zone` on which the intervals start. Given the candidate slots of all the
    service's staff (before `now` drops the started ones), the dates with service hours that
    `date_summaries` needs."""
    return frozenset(i.start.astimezone(zone).date() for i in intervals)


def date_summaries(
    slots: Iterable[AppointmentSlot], zone: ZoneInfo, first: date, last: date, has_hours: Callable[[date], bool] | Collection[date]
) -> list[DateSummary]:
    """One summary per local date first..last of the REQUEST's zone (a slot belongs to the date
    its start falls on there, not to the staff member's date). `slots` are all the merged slots,
    bookable or not. The number of bookable slots and, when there is none, one reason, the first
    that holds:

    1. NO_SERVICE_HOURS: no slot that date and no service hours either (`has_hours`: the dates on
       which a candidate slot starts, before `now` drops the started ones, e.g. `local_dates`).
       A date with hours too short for one slot has no service hours.
    2. TOO_LATE, when no slot is left because every slot of the date has started: a past date, or
       today after the last slot (as for a class, a started slot is too late to book).
    3. HOLIDAY: every slot of the date is on a holiday.
    4. TIME_OFF: every slot is on a holiday or in time off (a day half holiday, half time off is
       not bookable because the staff member is away, not because it is full).
    5. TOO_LATE, TOO_EARLY, BOOK_ONLINE_DISABLED: every slot violates that policy.
    6. FULLY_BOOKED otherwise: some slots are booked, the others unavailable for mixed reasons.
    """
    hours = has_hours if callable(has_hours) else has_hours.__contains__
    by_date: dict[date, list[AppointmentSlot]] = {}
    for slot in slots:
        by_date.setdefault(slot.slot.start.astimezone(zone).date(), []).append(slot)

    summaries: list[DateSummary] = []
    for day in _dates(first, last):
        day_slots = by_date.get(day, [])
        bookable = sum(1 for s in day_slots if s.bookable)
        reason = None if bookable else _unavailable_reason(day_slots, hours(day))
        summaries.append(DateSummary(day, bookable, reason))
    return summaries


def _unavailable_reason(slots: Sequence[AppointmentSlot], has_hours: bool) -> UnavailableReason:
    if not slots:
        return UnavailableReason.TOO_LATE if has_hours else UnavailableReason.NO_SERVICE_HOURS
    reasons = [s.reasons for s in slots]
    if all(r.holiday for r in reasons):
        return UnavailableReason.HOLIDAY
    if all(r.holiday or r.time_off for r in reasons):
        return UnavailableReason.TIME_OFF
    if all(r.too_late for r in reasons):
        return UnavailableReason.TOO_LATE
    if all(r.too_early for r in reasons):
        return UnavailableReason.TOO_EARLY
    if all(r.online_disabled for r in reasons):
        return UnavailableReason.BOOK_ONLINE_DISABLED
    return UnavailableReason.FULLY_BOOKED


def next_available_date(summaries: Iterable[DateSummary]) -> date | None:
    """The earliest date with a bookable slot, or None."""
    return min((s.local_date for s in summaries if s.bookable_slots > 0), default=None)
