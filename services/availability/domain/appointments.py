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
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, lru_cache, reduce
from itertools import accumulate, groupby
from zoneinfo import ZoneInfo

from services.availability.domain.model import AppointmentShape, Interval, Offering, PolicyViolations, ServiceType, require_aware
from services.common.instants import from_micros, to_micros
from services.common.local_time import to_utc
from services.common.validation import EARLIEST_INSTANT, END_OF_INSTANTS
from services.common.weekly_rules import WeeklyRule, rule_spans

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # the platform's precision: [t, t + _TICK) is the instant t alone
_MINUTE_US = timedelta(minutes=1) // _TICK
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
    return [Interval(from_micros(start), from_micros(end)) for start, end in _blocks(calendar, first, last)]


# What follows works in microseconds since the epoch (services/common/instants.py) rather than in
# datetimes: a month of a few staff members' slots is thousands of comparisons, additions and
# lookups, each several times cheaper on ints. Instants become datetimes again only for what is
# answered.


def _blocks(calendar: StaffCalendar, first: date, last: date) -> tuple[tuple[int, int], ...]:
    """`working_intervals` in microseconds."""
    zone = calendar.zone
    blocks = _rule_blocks(calendar.rules, zone, first, last)
    if calendar.extra_hours and first <= last:
        low, high = to_micros(_local_midnight_utc(first, zone)), to_micros(_local_midnight_utc(last + _DAY, zone))
        extra = [(start, end) for start, end in ((to_micros(e.start), to_micros(e.end)) for e in calendar.extra_hours) if start < high and low < end]
        if extra:
            return _merge([*blocks, *extra])
    return blocks


@lru_cache(maxsize=4_096)
def _rule_blocks(rules: tuple[WeeklyRule, ...], zone: ZoneInfo, first: date, last: date) -> tuple[tuple[int, int], ...]:
    # Memoised: every request of a range asks for the same staff members' rules on the same dates,
    # and what rules give on given local dates of a zone never changes.
    return _merge((to_micros(start), to_micros(end)) for start, end in rule_spans(rules, zone, first, last))


def _merge(blocks: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:  # overlapping or touching
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


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
    judge = _Judge(calendar, shape, offering, to_micros(now))
    return [
        StaffSlot(calendar.staff_member_id, slot, _reasons(judge.bits(to_micros(slot.start))))
        for slot in candidate_slots(working_intervals(calendar, first, last), shape)
        if slot.start > now
    ]


def _require_appointment(offering: Offering, now: datetime) -> None:
    require_aware("now", now)
    if offering.type is not ServiceType.APPOINTMENT:
        raise ValueError(f"service {offering.service_id} is a {offering.type}, not an APPOINTMENT")


class _Spans:
    """Spans of microseconds, possibly overlapping, asked whether any of them overlaps a span: by
    bisection over their starts and the running maximum of their ends, O(log n) a question."""

    __slots__ = ("_max_ends", "_starts")

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._max_ends = list(accumulate((end for _, end in ordered), max))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether any span shares an instant with [start, end)."""
        before_end = bisect_left(self._starts, end)  # the spans that start before `end`
        return before_end > 0 and self._max_ends[before_end - 1] > start


def _us(interval: Interval) -> tuple[int, int]:
    return to_micros(interval.start), to_micros(interval.end)


class _Judge:
    """The reasons one staff member cannot take a slot (`staff_slots` states the rules), with what
    every slot needs worked out once, in microseconds: the busy time sorted for bisection (holidays
    as the instants of their local dates), the policy's limits as instants."""

    __slots__ = ("_after", "_always", "_appointments", "_before", "_early", "_holidays", "_late", "_time_off")

    def __init__(self, calendar: StaffCalendar, shape: AppointmentShape, offering: Offering, now: int):
        zone = calendar.zone
        policy = offering.policy
        self._before = shape.buffer_before // _TICK
        self._after = (shape.duration + shape.buffer_after) // _TICK
        self._appointments = _Spans(_us(i) for i in calendar.appointments)
        self._time_off = _Spans(_us(i) for i in calendar.time_off)
        self._holidays = _Spans((to_micros(_local_midnight_utc(day, zone)), to_micros(_local_midnight_utc(day + _DAY, zone))) for day in calendar.holidays)
        # now > start − latest is start < now + latest; now < start − earliest is start > now + earliest.
        self._late = now + policy.latest_booking_in_minutes * _MINUTE_US if policy.limit_late_booking_enabled else None
        self._early = now + policy.earliest_booking_in_minutes * _MINUTE_US if policy.limit_early_booking_enabled else None
        self._always = 0 if offering.online_booking_enabled else _ONLINE_DISABLED

    def bits(self, start: int) -> int:
        """The reasons against the slot starting at `start`, as bits."""
        bits = self.policy_bits(start)
        occupied_start, occupied_end = start - self._before, start + self._after
        if self._appointments.overlaps(occupied_start, occupied_end):
            bits |= _BOOKED
        if self._time_off.overlaps(occupied_start, occupied_end):
            bits |= _TIME_OFF
        if self._holidays.overlaps(start, start + 1):
            bits |= _HOLIDAY
        return bits

    def policy_bits(self, start: int) -> int:
        """The booking policy's reasons alone (the same for every staff member)."""
        bits = self._always
        if self._late is not None and start < self._late:
            bits |= _TOO_LATE
        if self._early is not None and start > self._early:
            bits |= _TOO_EARLY
        return bits

    def within(self, block_start: int, block_end: int, first: int, last: int) -> int | Callable[[int], int]:
        """The reasons against the slots of one working block that start from `first` through
        `last`: the bits they all have when they are all alike (no busy time comes near the block,
        and no limit of the policy falls among them: most blocks), else the function to ask slot by
        slot (`policy_bits` when only a limit of the policy tells them apart). A slot's occupied
        time lies in [block_start − buffer_before, block_end), its start in the block."""
        near = block_start - self._before
        if (
            (self._appointments and self._appointments.overlaps(near, block_end))
            or (self._time_off and self._time_off.overlaps(near, block_end))
            or (self._holidays and self._holidays.overlaps(block_start, block_end))
        ):
            return self.bits
        late, early = self._late, self._early
        if (late is not None and first < late <= last) or (early is not None and first <= early < last):
            return self.policy_bits
        return self.policy_bits(first)


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
    table = _table(calendars, shape, offering, to_micros(start), to_micros(end), to_micros(now), include_started=include_started)
    duration = shape.duration // _TICK
    slots = [
        AppointmentSlot(Interval(from_micros(slot), from_micros(slot + duration)), tuple(sorted(table.free.get(slot, ()))), _reasons(table.bits(slot)))
        for slot in table.starts()
    ]
    return RangeSlots(slots, frozenset(from_micros(slot) for slot in table.started))


@dataclass(frozen=True, slots=True)
class _Table:
    """The slots of a range across staff, by start (microseconds): who is free for each (`free`),
    the reasons of the others (`against`, bits, united); and the starts of the candidate slots that
    had started (`started`)."""

    free: dict[int, list[str]]
    against: dict[int, int]
    started: set[int]

    def starts(self) -> list[int]:
        return sorted(self.free.keys() | self.against.keys())

    def bits(self, start: int) -> int:
        """The slot's reasons: none when somebody is free for it."""
        return 0 if start in self.free else self.against[start]


def _table(calendars: Iterable[StaffCalendar], shape: AppointmentShape, offering: Offering, start: int, end: int, now: int, *, include_started: bool) -> _Table:
    """`appointment_slots` in microseconds, before any slot is an object."""
    step = shape.step // _TICK
    reach = (shape.duration + shape.buffer_after) // _TICK
    free: dict[int, list[str]] = {}
    against: dict[int, int] = {}
    started: set[int] = set()
    if end <= start:
        return _Table(free, against, started)
    low, high = from_micros(start), from_micros(end - 1)
    for calendar in calendars:
        judge = _Judge(calendar, shape, offering, now)
        zone = calendar.zone
        staff_member_id = calendar.staff_member_id
        for block_start, block_end in _blocks(calendar, low.astimezone(zone).date() - _DAY, high.astimezone(zone).date()):
            slot = block_start if block_start >= start else block_start + step * -((block_start - start) // step)
            last = min(block_end - reach, end - 1)
            if slot > last:
                continue
            if slot <= now:  # the block's slots that have started
                ahead = slot + step * ((now - slot) // step + 1)
                for past in range(slot, min(ahead, last + 1), step):
                    started.add(past)
                    if include_started:
                        against[past] = against.get(past, 0) | judge.bits(past) | _TOO_LATE
                slot = ahead
                if slot > last:
                    continue
            reasons = judge.within(block_start, block_end, slot, last)
            if reasons == 0:  # the usual block: every slot free
                for s in range(slot, last + 1, step):
                    staff = free.get(s)
                    if staff is None:
                        free[s] = [staff_member_id]
                    else:
                        staff.append(staff_member_id)
            elif isinstance(reasons, int):
                for s in range(slot, last + 1, step):
                    against[s] = against.get(s, 0) | reasons
            else:
                for s in range(slot, last + 1, step):
                    bits = reasons(s)
                    if bits:
                        against[s] = against.get(s, 0) | bits
                    else:
                        staff = free.get(s)
                        if staff is None:
                            free[s] = [staff_member_id]
                        else:
                            staff.append(staff_member_id)
    return _Table(free, against, started)


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
        summaries.append(_summary(day, bookable, [_bits(s.reasons) for s in day_slots], hours(day)))
    return summaries


def _bits(reasons: SlotReasons) -> int:
    return (
        (_BOOKED if reasons.booked else 0)
        | (_TIME_OFF if reasons.time_off else 0)
        | (_HOLIDAY if reasons.holiday else 0)
        | (_TOO_LATE if reasons.too_late else 0)
        | (_TOO_EARLY if reasons.too_early else 0)
        | (_ONLINE_DISABLED if reasons.online_disabled else 0)
    )


def _summary(day: date, bookable: int, against: Sequence[int], has_hours: bool) -> DateSummary:
    """A date's summary (`date_summaries` states the rules) from its number of bookable slots and
    the reasons (bits) of its slots that are not."""
    if bookable:
        return DateSummary(day, bookable, None)
    if not against:
        return DateSummary(day, 0, UnavailableReason.TOO_LATE if has_hours else UnavailableReason.NO_SERVICE_HOURS)
    every = reduce(operator.and_, against)
    if every & _HOLIDAY:
        reason = UnavailableReason.HOLIDAY
    elif all(bits & (_HOLIDAY | _TIME_OFF) for bits in against):
        reason = UnavailableReason.TIME_OFF
    elif every & _TOO_LATE:
        reason = UnavailableReason.TOO_LATE
    elif every & _TOO_EARLY:
        reason = UnavailableReason.TOO_EARLY
    elif every & _ONLINE_DISABLED:
        reason = UnavailableReason.BOOK_ONLINE_DISABLED
    else:
        reason = UnavailableReason.FULLY_BOOKED
    return DateSummary(day, 0, reason)


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
    _require_appointment(offering, now)
    start, end = dates_window(first, last, zone)
    table = _table(calendars, shape, offering, to_micros(start), to_micros(end), to_micros(now), include_started=False)
    days = _dates(first, last)
    # As `date_summaries`, without an object per slot: a slot's date is found among the instants
    # at which each date after the first begins.
    begins = [to_micros(_local_midnight_utc(day, zone)) for day in days[1:]]
    bookable = [0] * len(days)
    against: list[list[int]] = [[] for _ in days]
    for slot in table.starts():
        i = bisect_right(begins, slot)
        if slot in table.free:
            bookable[i] += 1
        else:
            against[i].append(table.against[slot])
    started = {bisect_right(begins, slot) for slot in table.started}
    summaries = [_summary(day, bookable[i], against[i], i in started) for i, day in enumerate(days)]
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
    _require_appointment(offering, now)
    start, end = dates_window(first, last, zone)
    free = _table(calendars, shape, offering, to_micros(start), to_micros(end), to_micros(now), include_started=False).free
    return from_micros(min(free)).astimezone(zone).date() if free else None
