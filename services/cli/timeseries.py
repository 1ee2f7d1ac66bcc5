"""Local wall-clock time arithmetic for the CLI and the demo loader. Pure: no I/O, no grpc.

Businesses think in local time ("every Tuesday at 10:00 in Vienna"); the calendar API stores UTC
instants. This module turns the first into the second with the platform's one rule set
(services/common/local_time.py), which decides the two cases where a local time is not one instant:

* Nonexistent local time (the spring-forward gap, e.g. 02:30 on the last Sunday of March in
  Europe/Vienna): a time the user typed (`resolve`, the first occurrence of a `series`) is
  REJECTED with `NonexistentLocalTime`, because it most likely is a mistake. A later occurrence
  of a series that falls into a gap is SHIFTED forward by the length of the gap (02:30 -> 03:30),
  which is the UTC offset from before the transition, so a weekly series never fails once a year.
* Ambiguous local time (the fall-back hour, e.g. 02:30 on the last Sunday of October in
  Europe/Vienna, which happens twice): resolved to the FIRST occurrence (fold=0, still on summer
  time), for typed times and series alike.

Series steps: `d` (days) and `w` (weeks) are calendar steps that keep the wall-clock time, so a
weekly 10:00 session stays at 10:00 local across DST changes and moves by an hour in UTC.
`h` and `m` steps are elapsed time (added in UTC), so an "every 2h" series never produces a
duplicate or missing instant around a transition. Durations are elapsed minutes: a 60-minute
session is 60 real minutes long even when the clocks change during it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common import local_time
from services.common.local_time import Nonexistent

MAX_SERIES = 500  # BulkCreateEvents takes at most 500 events


class TimeSeriesError(ValueError):
    """A local date-time, zone, interval or series that cannot be used; the message says why."""


class NonexistentLocalTime(TimeSeriesError):
    """The local time falls into a spring-forward gap of its zone."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or TimeSeriesError."""
    if not name or name != name.strip():
        raise TimeSeriesError(f"{name!r} is not an IANA time zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeSeriesError(f"{name!r} is not an IANA time zone (for example Europe/Vienna)") from None


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


def parse_local(text: str) -> datetime:
    """A naive local date-time from ISO-8601 `YYYY-MM-DDTHH:MM[:SS]` (a space may replace the
    `T`); a bare date `YYYY-MM-DD` means 00:00 of that day. An offset or `Z` is refused: the zone
    comes from the time zone option or the schedule, never from the text."""
    value = text.strip()
    if _DATE_ONLY.match(value):
        try:
            return datetime.combine(date.fromisoformat(value), time())
        except ValueError as exc:
            raise TimeSeriesError(f"{text!r} is not a valid date: {exc}") from None
    if not _DATE_TIME.match(value):
        if re.search(r"(Z|[+-]\d{2}:?\d{2})$", value):
            raise TimeSeriesError(f"{text!r} has a UTC offset; give a local date-time such as 2026-12-01T10:00 and the zone separately")
        raise TimeSeriesError(f"{text!r} is not a local date-time; expected YYYY-MM-DDTHH:MM, for example 2026-12-01T10:00")
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError as exc:
        raise TimeSeriesError(f"{text!r} is not a valid date-time: {exc}") from None


def resolve(local: datetime, tz: ZoneInfo, *, nonexistent: Nonexistent = "reject") -> datetime:
    """The UTC instant of the naive wall time `local` in `tz` (services/common/local_time.py):
    an ambiguous time is its first occurrence; a nonexistent one is refused, or with
    `nonexistent="shift"` moved forward by the gap."""
    try:
        return local_time.to_utc(local, tz, nonexistent=nonexistent)
    except local_time.NonexistentLocalTime as exc:
        raise NonexistentLocalTime(str(exc)) from None
    except local_time.LocalTimeError as exc:
        raise TimeSeriesError(str(exc)) from None


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The aware local date-time of a UTC instant."""
    try:
        return local_time.to_local(instant, tz)
    except local_time.LocalTimeError as exc:
        raise TimeSeriesError(str(exc)) from None


@dataclass(frozen=True)
class Interval:
    amount: int
    unit: str  # "m", "h", "d" or "w"

    @property
    def is_calendar(self) -> bool:
        """Days and weeks keep the wall-clock time; hours and minutes are elapsed time."""
        return self.unit in ("d", "w")

    def delta(self) -> timedelta:
        return {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}[self.unit] * self.amount


_INTERVAL = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_interval(text: str) -> Interval:
    """`7d`, `1w`, `1d`, `2h`, `30m` (m = minutes)."""
    match = _INTERVAL.match(text.strip().lower())
    if not match:
        raise TimeSeriesError(f"{text!r} is not an interval; use a number and a unit: 7d, 1w, 1d, 2h or 30m")
    amount = int(match.group(1))
    if amount <= 0:
        raise TimeSeriesError(f"{text!r}: the interval must be positive")
    return Interval(amount, match.group(2))


@dataclass(frozen=True)
class Occurrence:
    """One session of a series: the requested wall time and the UTC instants to store."""

    local: datetime  # naive wall time as requested (before any gap shift)
    tz: ZoneInfo
    start: datetime  # UTC
    end: datetime  # UTC

    @property
    def shifted(self) -> bool:
        """True when the requested wall time did not exist and was moved forward."""
        return to_local(self.start, self.tz).replace(tzinfo=None) != self.local


def occurrence(local: datetime, tz: ZoneInfo, duration: timedelta, *, nonexistent: Nonexistent = "reject") -> Occurrence:
    if duration <= timedelta(0):
        raise TimeSeriesError("the duration must be positive")
    start = resolve(local, tz, nonexistent=nonexistent)
    return Occurrence(local=local, tz=tz, start=start, end=start + duration)


def series(first: datetime, tz: ZoneInfo, duration: timedelta, count: int, every: Interval) -> list[Occurrence]:
    """`count` sessions starting at the naive wall time `first` in `tz`, one every `every`.

    The first start must exist (NonexistentLocalTime otherwise); see the module doc for how later
    starts in a gap or in an ambiguous hour are resolved and for calendar vs elapsed steps.
    """
    if not 1 <= count <= MAX_SERIES:
        raise TimeSeriesError(f"count must be 1..{MAX_SERIES}, not {count}")
    head = occurrence(first, tz, duration)  # the typed start: refused in a gap, the duration checked
    step = every.delta()
    if every.is_calendar:
        starts = local_time.repeated(first, tz, step, count)
        return [head, *(Occurrence(local=first + step * i, tz=tz, start=start, end=start + duration) for i, start in enumerate(starts[1:], 1))]
    elapsed = [head.start + step * i for i in range(1, count)]
    return [head, *(Occurrence(local=to_local(start, tz).replace(tzinfo=None), tz=tz, start=start, end=start + duration) for start in elapsed)]


def next_wall_time(now: datetime, tz: ZoneInfo, at: time) -> datetime:
    """The naive local date-time of the first `at` o'clock in `tz` strictly after the instant `now`."""
    local_now = to_local(now, tz)
    candidate = datetime.combine(local_now.date(), at)
    if resolve(candidate, tz, nonexistent="shift") <= now:
        candidate += timedelta(days=1)
    return candidate
