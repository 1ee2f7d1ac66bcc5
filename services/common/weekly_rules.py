"""Weekly working-hours rules: local wall-clock blocks of a day of the week, in force between
two optional local dates (docs/appointments.md "Working hours"), their validation and their
occurrences as UTC instants. Timeframes stores them, availability turns them into slots; both use
this one definition. Pure: no I/O.

Local times become instants through local_time.py only (a fold is its first occurrence, a time in
a spring-forward gap is shifted forward by the gap), so a rule keeps its wall-clock time across a
DST change and moves in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.common.local_time import to_utc
from services.common.validation import Violations


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """A weekly block of working hours: every `day_of_week` (1 = Monday .. 7 = Sunday, as
    `google.type.DayOfWeek` and `date.isoweekday()`) from `start` to `end`, local wall-clock
    times in the staff member's zone, in force from `effective_from` through `effective_to`
    (local dates, both inclusive; None = unbounded on that side).

    A rule may not cross midnight, so `end` is after `start` on the same day; `datetime.time`
    cannot say 24:00, so the latest end is 23:59:59.999999. Construction does not refuse a bad
    rule: `weekly_rule_violations` reports all of a request's bad rules at once.
    """

    day_of_week: int
    start: time
    end: time
    effective_from: date | None = None
    effective_to: date | None = None

    def in_effect_on(self, day: date) -> bool:
        """Whether the rule gives hours on this local date: its weekday, inside its effective period."""
        return (
            day.isoweekday() == self.day_of_week
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )


def rule_spans(rules: Sequence[WeeklyRule], zone: ZoneInfo, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Each rule's occurrence on each local date first..last (both inclusive) on which it is in
    force, as UTC (start, end), in date order then rule order. A rule entirely inside a
    spring-forward gap resolves to an empty span and gives nothing that day; one across a fold is
    as long as it really is (01:00–02:00 New York on 2026-11-01 is two hours)."""
    spans = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        for rule in rules:
            if rule.in_effect_on(day):
                span = _span(day, rule.start, rule.end, zone)
                if span is not None:
                    spans.append(span)
    return spans


@lru_cache(maxsize=65_536)
def _span(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    # Memoised: the same hours are resolved for every staff member and request that shows them,
    # and a wall time's instant in a zone never changes (zoneinfo's rules are loaded once per
    # process).
    start_utc = to_utc(datetime.combine(day, start), zone, nonexistent="shift")
    end_utc = to_utc(datetime.combine(day, end), zone, nonexistent="shift")
    return (start_utc, end_utc) if end_utc > start_utc else None


def check_day_of_week(v: Violations, field: str, day_of_week: int) -> bool:
    return v.check(1 <= day_of_week <= 7, field, "must be between 1 (MONDAY) and 7 (SUNDAY)")


def weekly_rule_violations(
    rules: Sequence[WeeklyRule] | Mapping[int, WeeklyRule], *, field: str = "rules", violations: Violations | None = None, overlaps: bool = True
) -> Violations:
    """Every bad rule of a `SetWeeklyRules` request, added to `violations` (a new collector when
    None, so a request's other fields can be reported with them) under proto paths such as
    `rules[2].end_time`. `rules` by their position in the request (a sequence: its indexes), so a
    caller that dropped some rules (text that did not parse) keeps the others' paths right:

    - `day_of_week` outside 1..7;
    - `end_time` not after `start_time` (this also refuses a rule across midnight);
    - `effective_to` before `effective_from`;
    - with `overlaps`, two rules of the same day whose effective periods share a date and whose
      times overlap (half-open, so 09:00–12:00 and 12:00–17:00 are fine): reported once per pair,
      on the later rule, `rules[i]` "overlaps rules[j] ...". A rule already bad for one of the
      reasons above is left out of this check, since its day or times mean nothing. (Pairwise:
      a caller turns it off for a list beyond its size limit.)
    """
    v = Violations() if violations is None else violations
    sound: list[tuple[int, WeeklyRule]] = []
    for i, rule in rules.items() if isinstance(rules, Mapping) else enumerate(rules):
        at = f"{field}[{i}]"
        ok = check_day_of_week(v, f"{at}.day_of_week", rule.day_of_week)
        ok &= v.check(rule.end > rule.start, f"{at}.end_time", "must be after start_time (a rule may not cross midnight)")
        if rule.effective_from is not None and rule.effective_to is not None:
            ok &= v.check(rule.effective_to >= rule.effective_from, f"{at}.effective_to", "must not be before effective_from")
        if not ok or not overlaps:
            continue
        for j, earlier in sound:
            if _clash(earlier, rule):
                v.add(at, f"overlaps {field}[{j}] ({_times(earlier)} on the same day while both are in effect)")
        sound.append((i, rule))
    return v


def _clash(a: WeeklyRule, b: WeeklyRule) -> bool:
    if a.day_of_week != b.day_of_week or not (a.start < b.end and b.start < a.end):
        return False
    # Effective periods are inclusive date ranges; None is unbounded.
    a_from, b_from = a.effective_from or date.min, b.effective_from or date.min
    a_to, b_to = a.effective_to or date.max, b.effective_to or date.max
    return a_from <= b_to and b_from <= a_to


def _times(rule: WeeklyRule) -> str:
    return f"{rule.start:%H:%M}-{rule.end:%H:%M}"
