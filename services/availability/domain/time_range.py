"""Local date-times of an availability request, resolved in an IANA time zone. Pure.

A request names a range in local wall time (`from_local_date`, `to_local_date`, interpreted in
`time_zone`; docs/platform.md "Availability requests") and gets local wall times back
(`local_start_date`, e.g. "2026-03-29T10:00:00", no offset). In between everything is a UTC
instant.

Local to UTC follows the platform's rules (services/common/local_time.py; PEP 495, fold=0), with
a nonexistent time shifted, never refused (a range's bound must not fail once a year):
- A nonexistent local time (in the spring-forward gap) is read with the offset in force BEFORE the
  transition, so it lands the length of the gap later on the wall clock: in Europe/Vienna on
  2026-03-29, 02:30 (does not exist) is 01:30 UTC, which is 03:30 CEST; in America/New_York on
  2026-03-08, 02:30 is 07:30 UTC = 03:30 EDT. It resolves forward, never to an earlier instant.
- An ambiguous local time (the fall-back hour, which happens twice) is its FIRST occurrence, with
  the offset in force before the transition: Europe/Vienna 2026-10-25 02:30 is 00:30 UTC (CEST),
  not 01:30 UTC (CET).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.availability.domain.model import Session, require_aware
from services.common.local_time import to_utc
from services.common.validation import EARLIEST_INSTANT, END_OF_INSTANTS, Violations

FROM_FIELD = "from_local_date"
TO_FIELD = "to_local_date"
TIME_ZONE_FIELD = "time_zone"
MAX_TEXT_LENGTH = 40
MAX_RANGE = timedelta(days=365)

# ASCII digits only (`\d` would accept other scripts' digits); `T` as the only separator.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?", re.ASCII)
# What an offset or a UTC designator looks like after the time, to explain the refusal precisely.
_WITH_OFFSET = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)", re.ASCII)
_EXAMPLE = "e.g. 2026-03-29T10:00:00 or 2026-03-29"
# Local wall times in the platform's instant range (services/common/validation.py); a range near
# either end may reach a little beyond it in UTC and is cut to it (no event lies outside).
_EARLIEST_LOCAL = EARLIEST_INSTANT.replace(tzinfo=None)
_END_LOCAL = END_OF_INSTANTS.replace(tzinfo=None)


def _parse(field: str, text: str, violations: Violations) -> datetime | None:
    if not text:
        violations.add(field, "is required")
        return None
    if len(text) > MAX_TEXT_LENGTH:
        violations.add(field, f"at most {MAX_TEXT_LENGTH} characters")
        return None
    if _LOCAL.fullmatch(text) is None:
        if _WITH_OFFSET.fullmatch(text):
            violations.add(field, f"must be a local date-time without an offset or Z: it is read in {TIME_ZONE_FIELD} ({_EXAMPLE})")
        else:
            violations.add(field, f"must be an ISO-8601 local date-time ({_EXAMPLE})")
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:  # the shape is right but the calendar says no: 2026-02-30, 25:00
        violations.add(field, f"{text!r} is not a valid date-time")
        return None
    if not _EARLIEST_LOCAL <= value <= _END_LOCAL:
        violations.add(field, "must be from 1900-01-01 through 3000-01-01")
        return None
    return value


def parse_local_date_time(field: str, text: str) -> datetime:
    """A naive local datetime from `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` or `YYYY-MM-DD` (midnight).
    Offsets and `Z` are refused (the value is local to the request's time zone), as are empty,
    malformed and overlong (> 40 characters) input: InvalidArgument naming `field`."""
    violations = Violations()
    value = _parse(field, text, violations)
    violations.raise_if_any()
    assert value is not None
    return value


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time in `zone` (fold=0: a time in a spring-forward
    gap resolves forward, an ambiguous fall-back time to its first occurrence; module docstring)."""
    return to_utc(local, zone, nonexistent="shift")


def to_local_iso(instant_utc: datetime, zone: ZoneInfo) -> str:
    """An instant as local wall time in `zone`, "YYYY-MM-DDTHH:MM:SS" without an offset (the
    response names the zone separately); sub-second parts are dropped."""
    require_aware("instant_utc", instant_utc)
    return _local_iso(instant_utc, zone)


@lru_cache(maxsize=65_536)
def _local_iso(instant_utc: datetime, zone: ZoneInfo) -> str:
    # Memoised: the same session times are formatted for every request that shows them (two per
    # slot of every answer), and an instant's wall time in a zone never changes (zoneinfo's rules
    # are loaded once per process). strftime straight from the aware local time: the same text as
    # replace(tzinfo=None).isoformat(timespec="seconds"), with one object fewer.
    return instant_utc.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class LocalRange:
    """The half-open range [start_utc, end_utc) of a request, and the zone it was expressed in."""

    start_utc: datetime
    end_utc: datetime
    zone: ZoneInfo

    @classmethod
    def resolve(cls, from_text: str, to_text: str, time_zone: str, *, max_range: timedelta = MAX_RANGE) -> LocalRange:
        """Parse and check a request's range, reporting every violation at once.

        - `to_local_date` must be after `from_local_date`, and at most `max_range` (365 days unless
          the RPC says less) later. Both are compared as the local wall times the caller wrote (so
          365 days means 365 calendar days even when a DST change makes the UTC span an hour
          longer or shorter).
        - `time_zone` must be an IANA name (the caller substitutes the business zone for an empty
          one before calling).
        - A `from` in a spring-forward gap resolves forward by the gap's length, so a `to` just
          after the gap can resolve earlier than it (02:30 -> 03:30 CEST but 03:15 stays 03:15 on
          the day clocks jump 02:00 -> 03:00); that range is empty (end_utc = start_utc), never
          inverted. Two times inside the same gap both move by the gap and keep their order.
        """
        violations = Violations()
        start = _parse(FROM_FIELD, from_text, violations)
        end = _parse(TO_FIELD, to_text, violations)
        violations.time_zone(TIME_ZONE_FIELD, time_zone)
        if start is not None and end is not None:
            if end <= start:
                violations.add(TO_FIELD, f"must be after {FROM_FIELD}")
            elif end - start > max_range:
                violations.add(TO_FIELD, f"a range over {max_range.days} days is not supported (at most {max_range.days} days after {FROM_FIELD})")
        violations.raise_if_any()
        assert start is not None and end is not None
        zone = ZoneInfo(time_zone)
        start_utc = max(EARLIEST_INSTANT, local_to_utc(start, zone))
        end_utc = max(start_utc, min(END_OF_INSTANTS, local_to_utc(end, zone)))
        return cls(start_utc=start_utc, end_utc=end_utc, zone=zone)

    def contains(self, instant: datetime) -> bool:
        return self.start_utc <= instant < self.end_utc


def _parse_date(field: str, text: str, violations: Violations) -> date | None:
    if not text:
        violations.add(field, "is required")
        return None
    if len(text) > MAX_TEXT_LENGTH or _DATE.fullmatch(text) is None:
        violations.add(field, "must be a local date YYYY-MM-DD, e.g. 2026-03-29")
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:  # the shape is right but the calendar says no: 2026-02-30
        violations.add(field, f"{text!r} is not a valid date")
        return None
    if not _EARLIEST_LOCAL.date() <= value < _END_LOCAL.date():
        violations.add(field, "must be from 1900-01-01 through 2999-12-31")
        return None
    return value


def local_dates_violations(from_text: str, to_text: str, time_zone: str, *, max_dates: int, violations: Violations) -> tuple[date, date] | None:
    """A request's range of local dates "YYYY-MM-DD", both inclusive, of at most `max_dates`
    dates, read in `time_zone` (an IANA name; the caller stands one in for an empty one that
    defaults to the business zone): the first and last date, or None with the violations added."""
    first = _parse_date(FROM_FIELD, from_text, violations)
    last = _parse_date(TO_FIELD, to_text, violations)
    violations.time_zone(TIME_ZONE_FIELD, time_zone)
    if first is None or last is None:
        return None
    if last < first:
        violations.add(TO_FIELD, f"must not be before {FROM_FIELD}")
        return None
    if (last - first).days >= max_dates:
        violations.add(TO_FIELD, f"at most {max_dates} dates from {FROM_FIELD}, both inclusive")
        return None
    return first, last


def in_range(session: Session, local_range: LocalRange) -> bool:
    """Whether a session starts in the range: start in [start_utc, end_utc)."""
    return local_range.contains(session.start)
