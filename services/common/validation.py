"""Request validation that collects every violation before failing, so a caller fixes all of
its fields in one round trip. Pure: no I/O."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from services.common.errors import FieldViolation, InvalidArgument

MAX_IDS_PER_FILTER = 100
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
