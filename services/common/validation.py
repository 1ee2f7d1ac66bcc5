"""Request validation that collects every violation before failing, so a caller fixes all of
its fields in one round trip. Pure: no I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from services.common.errors import FieldViolation, InvalidArgument
from services.common.instants import from_micros, to_micros

MAX_IDS_PER_FILTER = 100
# The instants the platform accepts wherever a request names one (stated in the protos): from
# 1900-01-01T00:00:00Z through 3000-01-01T00:00:00Z, both included (a range's exclusive end may
# be the last). Far wider than any business calendar, and far
# enough inside Python's years 1 to 9999 and the Postgres driver's range (it stores
# google.protobuf.Timestamp's own ends as -/+infinity) that no local date of an accepted instant,
# in any zone, nor any booking-policy lead time before it, can overflow.
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
END_OF_INSTANTS = datetime(3000, 1, 1, tzinfo=UTC)
INSTANT_RANGE = "from 1900-01-01T00:00:00Z through 3000-01-01T00:00:00Z"
_EARLIEST_SECONDS = to_micros(EARLIEST_INSTANT) // 1_000_000
_END_SECONDS = to_micros(END_OF_INSTANTS) // 1_000_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# Present in the tz database files of some systems, but not zones a business can be in.
_NOT_BUSINESS_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_BUSINESS_ZONES


def is_time_zone(name: str) -> bool:
    """True for IANA names only (not "local", not POSIX strings, not file paths)."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_uuid(value: str) -> bool:
    try:
        # Canonical lowercase only: ids are compared as text in storage and cursors.
        return str(uuid.UUID(value)) == value
    except (ValueError, AttributeError):
        return False


class Violations:
    """Collects field violations; `raise_if_any()` raises one InvalidArgument with all of them."""

    def __init__(self) -> None:
        self._items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self._items.append(FieldViolation(field, description))

    def check(self, condition: bool, field: str, description: str) -> bool:
        if not condition:
            self.add(field, description)
        return condition

    def id(self, field: str, value: str, *, required: bool = True) -> bool:
        if not value:
            if required:
                self.add(field, "is required")
            return not required
        return self.check(is_uuid(value), field, "must be a UUID")

    def ids(self, field: str, values: list[str], *, max_items: int = MAX_IDS_PER_FILTER) -> None:
        if len(values) > max_items:
            self.add(field, f"at most {max_items} ids")
            return
        for i, value in enumerate(values):
            self.id(f"{field}[{i}]", value)
        if len(set(values)) != len(values):
            self.add(field, "must not repeat an id")

    def text(self, field: str, value: str, *, max_len: int, required: bool = True) -> None:
        if not value.strip():
            if required:
                self.add(field, "is required")
            elif value:
                self.add(field, "must not be blank")
            return
        self.check(len(value) <= max_len, field, f"at most {max_len} characters")

    def time_zone(self, field: str, value: str, *, required: bool = True) -> None:
        if not value:
            if required:
                self.add(field, "is required")
            return
        self.check(is_time_zone(value), field, f"{value[:64]!r} is not an IANA time zone")

    def instant(self, field: str, seconds: int, nanos: int) -> datetime | None:
        """A google.protobuf.Timestamp's fields as a UTC instant with microsecond precision (what
        Postgres stores: nanoseconds below a microsecond are truncated), or None and a violation
        when it lies outside the accepted range or its nanos are not 0 to 999999999."""
        if not 0 <= nanos < 1_000_000_000:
            self.add(field, "nanos must be between 0 and 999999999")
            return None
        if not _EARLIEST_SECONDS <= seconds <= _END_SECONDS or (seconds == _END_SECONDS and nanos):
            self.add(field, f"must be {INSTANT_RANGE}")
            return None
        return from_micros(seconds * 1_000_000 + nanos // 1000)

    def int_range(self, field: str, value: int, low: int, high: int) -> None:
        self.check(low <= value <= high, field, f"must be between {low} and {high}")

    def email(self, field: str, value: str) -> None:
        if not value:
            self.add(field, "is required")
            return
        self.check(len(value) <= 320 and bool(_EMAIL.match(value)), field, "must be an email address")

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise InvalidArgument(list(self._items))


@dataclass(frozen=True)
class WireTimestamp:
    """A google.protobuf.Timestamp as it arrived, before its range is checked. Stored with
    microsecond precision (Postgres timestamptz): nanoseconds below a microsecond are truncated."""

    seconds: int
    nanos: int

    @classmethod
    def of(cls, instant: datetime) -> WireTimestamp:
        seconds, micros = divmod(to_micros(instant), 1_000_000)
        return cls(seconds, micros * 1000)


def checked_instant(v: Violations, field: str, value: WireTimestamp | None, *, required: bool) -> datetime | None:
    """The instant, or None with the field named in `v` (absent when required, or out of range)."""
    if value is None:
        if required:
            v.add(field, "is required")
        return None
    return v.instant(field, value.seconds, value.nanos)
