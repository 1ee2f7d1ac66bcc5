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

What the RPCs call, built on those steps and the same rules:
- `appointment_slots`: steps 1 to 4 for several staff members and a range of instants in one
  pass, without an object per staff member's slot;
- `page_parts` and `first_slots`: a page of slots, read and worked out only as far as it needs
  (ListAvailabilityTimeSlots);
- `slot_at`: one slot by its start and end (GetAvailabilityTimeSlot, which CreateBooking asks:
  what is shown is what is validated);
- `dates_view`: step 5 for the range; `search_chunks` and `first_bookable_date`: where
  `next_available_date` is searched when the range has none (ListAvailabilityDates);
- `reading_window`: the instants around a range that decide its slots (what to read);
- `staff_calendar`: a staff member's calendar from their schedule's hours read in parts and the
  occupied time of their appointments.

Every instant is a timezone-aware UTC `datetime`; an `Interval` is half-open [start, end), so two
intervals that only touch do not overlap (back-to-back appointments are allowed). Local times
become instants only through services/common/local_time.py (a fold is its first occurrence, a
time in a spring-forward gap is shifted forward by the gap), never by a DST rule of our own.

Slots are laid out in UTC from the start of each working interval, so a slot is always
`duration` of real time, also on a DST change day; only its local label moves.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from itertools import groupby
from zoneinfo import ZoneInfo

from services.availability.domain.model import AppointmentShape, Interval, Offering, PolicyViolations, ServiceType, require_aware
from services.common.local_time import to_utc
from services.common.validation import EARLIEST_INSTANT, END_OF_INSTANTS
from services.common.weekly_rules import WeeklyRule, rule_spans

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # the platform's precision: [t, t + _TICK) is the instant t alone
# Everything that decides the slots starting in a range lies within this much of it: a slot's
# working block may begin on the staff member's previous local date (`appointment_slots`: up to two
# days before in UTC, an hour more across a DST change), and its occupied time reaches a buffer
# (at most 1440 minutes) before it and a duration plus a buffer (1440 minutes each) after.
READ_MARGIN = timedelta(days=3)
# ListAvailabilityDates' next_available_date is searched at most this many dates from its first,
# a month at a time (each month read on its own, and only when the range has no bookable date).
MAX_SEARCH_DATES = 366
_SEARCH_CHUNK = timedelta(days=31)
# A page of slots is read for this much of the range first (where a page of the default size
# usually fills), and for the rest of the range only when it does not.
_PAGE_FIRST_READ = timedelta(days=7)


def _dates(first: date, last: date) -> list[date]:
    """first..last, both included (empty when last is before first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@lru_cache(maxsize=65_536)
def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    # A midnight that falls into a gap (zones that change at 00:00) is shifted, never refused.
    # Memoised as weekly_rules' spans are: asked for every staff member and request.
    return to_utc(datetime.combine(day, time()), zone, nonexistent="shift")


# --- model --------------------------------------------------------------------------------------


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
class StaffMember:
    """A staff member as availability reads them (bookings.staff.v1): the schedule that holds their
    working hours in timeframes, their zone, and the services they offer."""

    staff_member_id: str
    schedule_id: str
    time_zone: str
    service_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ScheduleHours:
    """A staff member's schedule as timeframes keeps it (ListWorkingHours), read for a span of
    instants: its zone, its weekly rules (whatever the span), and the extra hours, time off and
    holidays touching the span. A calendar is made of the parts read for consecutive spans
    (`staff_calendar`)."""

    time_zone: str
    rules: tuple[WeeklyRule, ...] = ()
    extra_hours: tuple[Interval, ...] = ()
    time_off: tuple[Interval, ...] = ()
    holidays: frozenset[date] = frozenset()


def staff_calendar(member: StaffMember, hours: Sequence[ScheduleHours], appointments: Iterable[Interval] = ()) -> StaffCalendar:
    """A staff member's calendar from their schedule's hours, read in one or more parts, and the
    occupied time of their appointments.

    - The rules and holidays are read in the staff member's zone, which StaffMembers says they are
      read in and which may change; the schedule keeps the zone it was created with
      (docs/appointments.md "Staff members"), used only when the staff member has none.
    - The rules are the first part's: every part has the same, unless a change was read between
      two of them, and then either is a state the schedule was in.
    - The extra hours, time off and holidays of every part, each once (a time off running from one
      span into the next is in both parts).
    """
    if not hours:
        raise ValueError(f"no working hours read for staff member {member.staff_member_id}")
    first = hours[0]
    if len(hours) == 1:
        extra_hours, time_off, holidays = first.extra_hours, first.time_off, first.holidays
    else:
        extra_hours = _distinct(i for part in hours for i in part.extra_hours)
        time_off = _distinct(i for part in hours for i in part.time_off)
        holidays = frozenset().union(*(part.holidays for part in hours))
    return StaffCalendar(
        staff_member_id=member.staff_member_id,
        time_zone=member.time_zone or first.time_zone,
        rules=first.rules,
        extra_hours=extra_hours,
        time_off=time_off,
        holidays=holidays,
        appointments=tuple(appointments),
    )


def _distinct(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    return tuple(sorted(set(intervals), key=lambda i: (i.start, i.end)))


def with_appointments(calendars: Iterable[StaffCalendar], occupied: Mapping[str, Sequence[Interval]]) -> list[StaffCalendar]:
    """The calendars with the occupied time of each staff member's appointments (`occupied`, by
    staff member id; none when absent)."""
    return [dataclasses.replace(c, appointments=tuple(occupied.get(c.staff_member_id, ()))) for c in calendars]


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


# While slots are worked out their reasons are bits: many slots, few distinct sets of reasons, each
# made a `SlotReasons` once.
_BOOKED, _TIME_OFF, _HOLIDAY, _TOO_LATE, _TOO_EARLY, _ONLINE_DISABLED = 1, 2, 4, 8, 16, 32


@cache
def _reasons(bits: int) -> SlotReasons:
    return SlotReasons(
        booked=bool(bits & _BOOKED),
        time_off=bool(bits & _TIME_OFF),
        holiday=bool(bits & _HOLIDAY),
        too_late=bool(bits & _TOO_LATE),
        too_early=bool(bits & _TOO_EARLY),
        online_disabled=bool(bits & _ONLINE_DISABLED),
    )


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
    _require_appointment(offering, now)
    judge = _Judge(calendar, shape, offering, now)
    return [
        StaffSlot(calendar.staff_member_id, slot, _reasons(judge.bits(slot.start)))
        for slot in candidate_slots(working_intervals(calendar, first, last), shape)
        if slot.start > now
    ]


def _require_appointment(offering: Offering, now: datetime) -> None:
    require_aware("now", now)
    if offering.type is not ServiceType.APPOINTMENT:
        raise ValueError(f"service {offering.service_id} is a {offering.type}, not an APPOINTMENT")


class _Spans:
    """Intervals, possibly overlapping, asked whether any of them overlaps a span: by bisection
    over their starts and the running maximum of their ends, O(log n) a question."""

    __slots__ = ("_max_ends", "_starts")

    def __init__(self, intervals: Iterable[Interval]):
        ordered = sorted(intervals, key=lambda i: i.start)
        self._starts = [i.start for i in ordered]
        self._max_ends: list[datetime] = []
        for interval in ordered:
            self._max_ends.append(max(interval.end, self._max_ends[-1]) if self._max_ends else interval.end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether any interval shares an instant with [start, end)."""
        before_end = bisect_left(self._starts, end)  # the intervals that start before `end`
        return before_end > 0 and self._max_ends[before_end - 1] > start


class _Judge:
    """The reasons one staff member cannot take a slot (`staff_slots` states the rules), with what
    every slot needs worked out once: the busy time sorted for bisection (holidays as the instants
    of their local dates), the policy's limits as instants."""

    __slots__ = ("_after", "_always", "_appointments", "_before", "_early", "_holidays", "_late", "_time_off")

    def __init__(self, calendar: StaffCalendar, shape: AppointmentShape, offering: Offering, now: datetime):
        zone = calendar.zone
        policy = offering.policy
        self._before = shape.buffer_before
        self._after = shape.duration + shape.buffer_after
        self._appointments = _Spans(calendar.appointments)
        self._time_off = _Spans(calendar.time_off)
        self._holidays = _Spans(Interval(_local_midnight_utc(day, zone), _local_midnight_utc(day + _DAY, zone)) for day in calendar.holidays)
        # now > start − latest is start < now + latest; now < start − earliest is start > now + earliest.
        self._late = now + timedelta(minutes=policy.latest_booking_in_minutes) if policy.limit_late_booking_enabled else None
        self._early = now + timedelta(minutes=policy.earliest_booking_in_minutes) if policy.limit_early_booking_enabled else None
        self._always = 0 if offering.online_booking_enabled else _ONLINE_DISABLED

    def bits(self, start: datetime) -> int:
        """The reasons against the slot starting at `start`, as bits."""
        bits = self.policy_bits(start)
        occupied_start, occupied_end = start - self._before, start + self._after
        if self._appointments.overlaps(occupied_start, occupied_end):
            bits |= _BOOKED
        if self._time_off.overlaps(occupied_start, occupied_end):
            bits |= _TIME_OFF
        if self._holidays.overlaps(start, start + _TICK):
            bits |= _HOLIDAY
        return bits

    def policy_bits(self, start: datetime) -> int:
        """The booking policy's reasons alone (the same for every staff member)."""
        bits = self._always
        if self._late is not None and start < self._late:
            bits |= _TOO_LATE
        if self._early is not None and start > self._early:
            bits |= _TOO_EARLY
        return bits

    def within(self, interval: Interval) -> Callable[[datetime], int]:
        """`bits` for the slots of one working interval, or `policy_bits` when no busy time comes
        near it: most intervals have none, and their slots need no busy time looked up. A slot's
        occupied time lies in [interval.start − buffer_before, interval.end), its start in the
        interval."""
        near = interval.start - self._before
        busy = (
            self._appointments.overlaps(near, interval.end)
            or self._time_off.overlaps(near, interval.end)
            or self._holidays.overlaps(interval.start, interval.end)
        )
        return self.bits if busy else self.policy_bits


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


class _Merging:
    """One start's staff members so far: those available, and the reasons of the others."""

    __slots__ = ("against", "available")

    def __init__(self) -> None:
        self.available: list[str] = []
        self.against = 0


@dataclass(frozen=True, slots=True)
class RangeSlots:
    """`appointment_slots`' answer: the slots, sorted by start; and the starts of the candidate
    slots that had started, which the month view needs to tell "too late" from "no hours"."""

    slots: list[AppointmentSlot]
    started: frozenset[datetime]


def appointment_slots(
    calendars: Iterable[StaffCalendar],
    shape: AppointmentShape,
    offering: Offering,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    include_started: bool = False,
) -> RangeSlots:
    """The slots starting in [start, end), across the staff members (one calendar each): what
    `staff_slots` and `merge_staff` give, by the same rules, in one pass.

    - Each staff member's grid is laid in their working intervals of the local dates that
      [start, end) touches in their zone, and of the date before: a block that began the evening
      before (extra hours across midnight) keeps the grid it has in any wider range.
    - A started slot (start ≤ now) is left out and its start returned in `started`; with
      `include_started` it is a slot too, too late (a lookup by start and end must tell a slot that
      has started from one that never existed).
    """
    _require_appointment(offering, now)
    step = shape.step
    reach = shape.duration + shape.buffer_after
    by_start: dict[datetime, _Merging] = {}
    started: set[datetime] = set()
    for calendar in calendars:
        judge = _Judge(calendar, shape, offering, now)
        zone = calendar.zone
        staff_member_id = calendar.staff_member_id
        first, last = start.astimezone(zone).date() - _DAY, (end - _TICK).astimezone(zone).date()
        for interval in working_intervals(calendar, first, last):
            slot = interval.start
            if slot < start:  # on to the interval's first grid point at or after `start`
                slot += step * -((interval.start - start) // step)
            last_start = min(interval.end - reach, end - _TICK)
            if slot > last_start:
                continue
            reasons_at = judge.within(interval)
            while slot <= last_start:
                if slot > now:
                    bits = reasons_at(slot)
                else:
                    started.add(slot)
                    if not include_started:
                        slot += step
                        continue
                    bits = reasons_at(slot) | _TOO_LATE
                merging = by_start.get(slot)
                if merging is None:
                    merging = by_start[slot] = _Merging()
                if bits:
                    merging.against |= bits
                else:
                    merging.available.append(staff_member_id)
                slot += step
    duration = shape.duration
    slots = [
        AppointmentSlot(Interval(slot, slot + duration), tuple(sorted(m.available)), _reasons(0 if m.available else m.against))
        for slot, m in sorted(by_start.items(), key=lambda item: item[0])
    ]
    return RangeSlots(slots, frozenset(started))


def page_parts(start: datetime, end: datetime, after: datetime | None) -> list[tuple[datetime, datetime]]:
    """The parts of the range [start, end) a page of slots that start after `after` (the last start
    of the previous page) is read and worked out in, in order: the first `_PAGE_FIRST_READ` (where a
    page usually fills), then the rest, read only when the page is not full by then."""
    low = start if after is None else max(start, after + _TICK)
    if low >= end:
        return []
    middle = min(end, low + _PAGE_FIRST_READ)
    return [(low, middle), (middle, end)] if middle < end else [(low, middle)]


def first_slots(
    calendars: Sequence[StaffCalendar],
    shape: AppointmentShape,
    offering: Offering,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    count: int,
    bookable_only: bool,
) -> list[AppointmentSlot]:
    """The first `count` of `appointment_slots` in [start, end), only the bookable ones when
    `bookable_only`. Worked out a day first, then as many days as the slots found so far say the
    rest needs, so that a page does not cost the slots of the whole range."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    shown: list[AppointmentSlot] = []
    low, days = start, 1
    while low < end and len(shown) < count:
        high = min(end, low + days * _DAY)
        shown.extend(s for s in appointment_slots(calendars, shape, offering, low, high, now).slots if s.bookable or not bookable_only)
        covered = (high - start) / _DAY
        # As many days again as the rate found so far needs for the rest (at least one, at most as
        # many as were covered: a sparse start does not make the next step the whole range).
        wanted = (count - len(shown)) * covered / len(shown) if shown else covered
        days = max(1, min(math.ceil(wanted), math.ceil(covered)))
        low = high
    return shown[:count]


def slot_at(
    calendars: Iterable[StaffCalendar], shape: AppointmentShape, offering: Offering, start: datetime, end: datetime, now: datetime
) -> AppointmentSlot | None:
    """The slot [start, end) as `appointment_slots` shows it, also once it has started (then too
    late); None when it is on no staff member's grid: another length than the service's duration,
    or not a start of the grid of anybody's working hours."""
    if end - start != shape.duration:
        return None
    found = appointment_slots(calendars, shape, offering, start, start + _TICK, now, include_started=True).slots
    return found[0] if found else None


def slot_violations(offering: Offering, slot: AppointmentSlot) -> PolicyViolations:
    """A slot's booking policy violations, as a class's with F = the slot's start
    (docs/booking-policies.md "Booking window dates"): its policy reasons, and the window in which
    it may be booked (start − earliest, start − latest, each when that limit is enabled)."""
    policy = offering.policy
    start = slot.slot.start
    return PolicyViolations(
        too_early_to_book=slot.reasons.too_early,
        too_late_to_book=slot.reasons.too_late,
        book_online_disabled=slot.reasons.online_disabled,
        earliest_booking_date=start - timedelta(minutes=policy.earliest_booking_in_minutes) if policy.limit_early_booking_enabled else None,
        latest_booking_date=start - timedelta(minutes=policy.latest_booking_in_minutes) if policy.limit_late_booking_enabled else None,
    )


def reading_window(start: datetime, end: datetime) -> Interval:
    """The instants whose working hours, time off, holidays and appointments decide the slots
    starting in [start, end) (`READ_MARGIN` on each side), within the platform's instant range."""
    low = min(max(EARLIEST_INSTANT, start - READ_MARGIN), END_OF_INSTANTS - _TICK)
    return Interval(low, max(low + _TICK, min(END_OF_INSTANTS, end + READ_MARGIN)))


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


def dates_window(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of the local dates first..last in `zone`: from the first's midnight to the
    midnight after the last, within the platform's instant range."""
    start = min(max(EARLIEST_INSTANT, _local_midnight_utc(first, zone)), END_OF_INSTANTS)
    return start, max(start, min(END_OF_INSTANTS, _local_midnight_utc(last + _DAY, zone)))


def search_until(offering: Offering, zone: ZoneInfo, first: date, now: datetime) -> date:
    """The last date `dates_view` searches for the next available one: `MAX_SEARCH_DATES` dates
    from `first`, and not beyond the booking horizon (with the early-booking limit a slot starting
    after now + earliest is too early, so a later date has nothing bookable)."""
    until = first + timedelta(days=MAX_SEARCH_DATES - 1)
    policy = offering.policy
    if policy.limit_early_booking_enabled:
        until = min(until, (now + timedelta(minutes=policy.earliest_booking_in_minutes)).astimezone(zone).date())
    return until


@dataclass(frozen=True, slots=True)
class DatesView:
    """ListAvailabilityDates: every date of the range, and the first date with a bookable slot."""

    dates: list[DateSummary]
    next_available: date | None


def dates_view(
    calendars: Sequence[StaffCalendar], shape: AppointmentShape, offering: Offering, zone: ZoneInfo, first: date, last: date, now: datetime
) -> DatesView:
    """The summaries of the local dates first..last of `zone` (`date_summaries`), and the first of
    them with a bookable slot (None when none has one: then `search_chunks` says where to look)."""
    found = appointment_slots(calendars, shape, offering, *dates_window(first, last, zone), now)
    summaries = date_summaries(found.slots, zone, first, last, frozenset(s.astimezone(zone).date() for s in found.started))
    return DatesView(summaries, next_available_date(summaries))


def search_chunks(last: date, until: date, zone: ZoneInfo, now: datetime) -> list[tuple[date, date]]:
    """The months after the range (its last date `last`) in which `next_available_date` is searched
    when the range has no bookable date, in order, each (first, last) date: from today on (no
    earlier date has a bookable slot) through `until` (`search_until`). Each is read and worked out
    on its own, so that a near date is found without a year of reads or of slots."""
    chunks: list[tuple[date, date]] = []
    day = max(last + _DAY, now.astimezone(zone).date())
    while day <= until:
        chunk_last = min(day + _SEARCH_CHUNK - _DAY, until)
        chunks.append((day, chunk_last))
        day = chunk_last + _DAY
    return chunks


def first_bookable_date(
    calendars: Sequence[StaffCalendar], shape: AppointmentShape, offering: Offering, zone: ZoneInfo, first: date, last: date, now: datetime
) -> date | None:
    """The first local date first..last of `zone` with a bookable slot, or None."""
    found = appointment_slots(calendars, shape, offering, *dates_window(first, last, zone), now)
    return next((s.slot.start.astimezone(zone).date() for s in found.slots if s.bookable), None)
