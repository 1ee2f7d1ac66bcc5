"""Working hours of a schedule (calendar.working_hours.v1): weekly rules, time off, extra hours
and holidays, the commands as received and their validation. Pure: no I/O, no protobuf.

The rule model and its rules (day of week, end after start, effective dates, overlaps) are
services/common/weekly_rules.py's, shared with availability; this module adds what the wire
brings: "HH:MM" times and "YYYY-MM-DD" dates as text, ids, reasons and instants. Every check
names the proto field path it is about (`rules[2].start_time`, `time_off.end`), and all of a
request's violations are reported together, before anything is read or written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.common.local_time import to_local
from services.common.validation import Violations
from services.common.weekly_rules import WeeklyRule, check_day_of_week, weekly_rule_violations
from services.timeframes.domain.commands import WireTimestamp, checked_id, checked_instant

MAX_RULES = 50
MAX_REASON_LENGTH = 500
MAX_EXCEPTIONS_RANGE = timedelta(days=366)
MAX_WORKING_HOURS_SCHEDULES = 50
MAX_WORKING_HOURS_RANGE = timedelta(days=400)

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- stored entities -----------------------------------------------------------------------------


class WorkingHoursPart(StrEnum):
    """What part of a schedule's working hours a write changed; each change is announced as one
    `calendar.working-hours-events.v1` message naming it (mapping.py)."""

    WEEKLY_RULES = "weekly_rules"
    TIME_OFF = "time_off"
    EXTRA_HOURS = "extra_hours"
    HOLIDAYS = "holidays"


@dataclass(frozen=True)
class Span:
    """Time off or extra hours: a half-open span of instants of a schedule."""

    id: str
    schedule_id: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class Holiday:
    id: str
    schedule_id: str
    local_date: date
    reason: str


@dataclass(frozen=True)
class Exceptions:
    """ListExceptions' answer: each list in the order the contract states."""

    time_off: list[Span]
    extra_hours: list[Span]
    holidays: list[Holiday]


@dataclass(frozen=True)
class ScheduleWorkingHours:
    """ListWorkingHours' answer for one schedule: the rules sorted by rule_sort_key, the rest as
    ListExceptions answers them (the store reads the rules in the order set and the holidays of a
    wider range of dates; the use case orders and cuts them)."""

    schedule_id: str
    time_zone: str
    rules: list[WeeklyRule]
    time_off: list[Span]
    extra_hours: list[Span]
    holidays: list[Holiday]


def local_dates(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local date, in `zone`, that the half-open range [start, end) touches."""
    return to_local(start, zone).date(), to_local(end - timedelta(microseconds=1), zone).date()


def rule_sort_key(rule: WeeklyRule) -> tuple[int, time, date, time]:
    """The order SetWeeklyRules and ListWeeklyRules answer in: day, start, then effective_from
    (unbounded first), then end. Rules that tie on all four would overlap, which is refused."""
    return (rule.day_of_week, rule.start, rule.effective_from or date.min, rule.end)


def format_time(value: time) -> str:
    return f"{value:%H:%M}"


# --- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklyRuleInput:
    """A WeeklyRule message's fields as they arrived."""

    day_of_week: int
    start_time: str
    end_time: str
    effective_from: str = ""
    effective_to: str = ""


@dataclass(frozen=True)
class SetWeeklyRules:
    schedule_id: str
    rules: list[WeeklyRule]


@dataclass(frozen=True)
class SpanInput:
    """A TimeOff or ExtraHours message's writable fields; timestamps are None when unset."""

    start: WireTimestamp | None
    end: WireTimestamp | None
    reason: str = ""


@dataclass(frozen=True)
class NewSpan:
    schedule_id: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class NewHoliday:
    schedule_id: str
    local_date: date
    reason: str


@dataclass(frozen=True)
class ExceptionsRange:
    schedule_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class WorkingHoursQuery:
    schedule_ids: list[str]
    start: datetime
    end: datetime


def _time(v: Violations, field: str, value: str) -> time | None:
    if not value:
        v.add(field, 'is required: a local time "HH:MM"')
        return None
    if not _HH_MM.fullmatch(value):
        v.add(field, f'{value[:32]!r} is not a local time "HH:MM" (00:00 to 23:59)')
        return None
    return time(int(value[:2]), int(value[3:]))


def _date(v: Violations, field: str, value: str, *, required: bool) -> date | None:
    if not value:
        if required:
            v.add(field, 'is required: a local date "YYYY-MM-DD"')
        return None
    parsed = None
    if _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        v.add(field, f'{value[:32]!r} is not a local date "YYYY-MM-DD"')
    return parsed


def _reason(v: Violations, field: str, value: str) -> str:
    v.check(len(value) <= MAX_REASON_LENGTH, field, f"at most {MAX_REASON_LENGTH} characters")
    return value


def validate_set_weekly_rules(schedule_id: str, rules: list[WeeklyRuleInput]) -> SetWeeklyRules:
    """SetWeeklyRules: the schedule id, then each rule's text (times and dates), then the shared
    rule checks (services/common/weekly_rules.py) over the rules whose text parsed; their paths
    keep each rule's index in the request."""
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    too_many = len(rules) > MAX_RULES
    if too_many:
        v.add("rules", f"at most {MAX_RULES} rules ({len(rules)} given)")
    parsed: dict[int, WeeklyRule] = {}  # by position in the request
    for i, rule in enumerate(rules):
        at = f"rules[{i}]"
        start = _time(v, f"{at}.start_time", rule.start_time)
        end = _time(v, f"{at}.end_time", rule.end_time)
        effective_from = _date(v, f"{at}.effective_from", rule.effective_from, required=False)
        effective_to = _date(v, f"{at}.effective_to", rule.effective_to, required=False)
        well_formed = start is not None and end is not None
        well_formed &= not rule.effective_from or effective_from is not None
        well_formed &= not rule.effective_to or effective_to is not None
        if not well_formed:
            check_day_of_week(v, f"{at}.day_of_week", rule.day_of_week)
            continue
        assert start is not None and end is not None
        parsed[i] = WeeklyRule(rule.day_of_week, start, end, effective_from, effective_to)
    # Beyond the limit each rule is still checked on its own (every bad field is named), but
    # not against the others: the overlap check compares every pair.
    weekly_rule_violations(parsed, violations=v, overlaps=not too_many)
    v.raise_if_any()
    return SetWeeklyRules(canonical, list(parsed.values()))


def validate_schedule_id(schedule_id: str) -> str:
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    v.raise_if_any()
    return canonical


def validate_new_span(schedule_id: str, field: str, span: SpanInput) -> NewSpan:
    """CreateTimeOff (`field` = "time_off") and CreateExtraHours ("extra_hours")."""
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    start = checked_instant(v, f"{field}.start", span.start, required=True)
    end = checked_instant(v, f"{field}.end", span.end, required=True)
    if start is not None and end is not None:
        v.check(end > start, f"{field}.end", "must be after start")
    reason = _reason(v, f"{field}.reason", span.reason)
    v.raise_if_any()
    assert start is not None and end is not None
    return NewSpan(canonical, start, end, reason)


def validate_new_holiday(schedule_id: str, local_date: str, reason: str) -> NewHoliday:
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    day = _date(v, "holiday.local_date", local_date, required=True)
    _reason(v, "holiday.reason", reason)
    v.raise_if_any()
    assert day is not None
    return NewHoliday(canonical, day, reason)


def validate_delete(schedule_id: str, field: str, item_id: str) -> tuple[str, str]:
    """Delete*: the schedule id and the id of the item (`field`: time_off_id, extra_hours_id,
    holiday_id)."""
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    item = checked_id(v, field, item_id)
    v.raise_if_any()
    return canonical, item


def _range(v: Violations, start: WireTimestamp | None, end: WireTimestamp | None, longest: timedelta) -> tuple[datetime, datetime] | None:
    first = checked_instant(v, "from", start, required=True)
    last = checked_instant(v, "to", end, required=True)
    if first is None or last is None:
        return None
    if v.check(last > first, "to", "must be after from"):
        v.check(last - first <= longest, "to", f"must be at most {longest.days} days after from")
    return first, last


def validate_exceptions_range(schedule_id: str, start: WireTimestamp | None, end: WireTimestamp | None) -> ExceptionsRange:
    v = Violations()
    canonical = checked_id(v, "schedule_id", schedule_id)
    span = _range(v, start, end, MAX_EXCEPTIONS_RANGE)
    v.raise_if_any()
    assert span is not None
    return ExceptionsRange(canonical, *span)


def validate_working_hours_query(schedule_ids: list[str], start: WireTimestamp | None, end: WireTimestamp | None) -> WorkingHoursQuery:
    """ListWorkingHours: 1 to 50 distinct schedule ids, each named by its index when it is not a
    UUID or repeats an earlier one, and the range as ListExceptions' (up to 400 days)."""
    v = Violations()
    if not schedule_ids:
        v.add("schedule_ids", f"is required: 1 to {MAX_WORKING_HOURS_SCHEDULES} schedule ids")
    elif len(schedule_ids) > MAX_WORKING_HOURS_SCHEDULES:
        # Not checked one by one beyond the limit: a request may carry very many.
        v.add("schedule_ids", f"at most {MAX_WORKING_HOURS_SCHEDULES} schedule ids ({len(schedule_ids)} given)")
    else:
        first_index: dict[str, int] = {}
        for i, schedule_id in enumerate(schedule_ids):
            canonical = checked_id(v, f"schedule_ids[{i}]", schedule_id)
            if canonical and v.check(canonical not in first_index, f"schedule_ids[{i}]", f"repeats schedule_ids[{first_index.get(canonical)}]"):
                first_index[canonical] = i
    span = _range(v, start, end, MAX_WORKING_HOURS_RANGE)
    v.raise_if_any()
    assert span is not None
    return WorkingHoursQuery(list(schedule_ids), *span)
