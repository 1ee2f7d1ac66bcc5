"""Local wall-clock time and UTC instants: one rule set for the whole platform (PEP 495 and
RFC 5545 §3.3.5), used by availability's ranges, the CLI and the demo loader. Pure: no I/O.

Businesses think in local time ("Tuesdays at 10:00 in Vienna"); the platform stores UTC instants.
A local time is not always one instant:

- **Ambiguous** (the fall-back hour, e.g. 02:30 on the last Sunday of October in Europe/Vienna,
  which happens twice): always its FIRST occurrence (fold=0, the offset before the transition).
- **Nonexistent** (the spring-forward gap, e.g. 02:30 on the last Sunday of March in
  Europe/Vienna): either REFUSED (`NonexistentLocalTime`), for a time a person typed, which is
  most likely a mistake; or SHIFTED forward by the length of the gap (02:30 -> 03:30, the offset
  from before the transition), for a rule's occurrence or a range's bound, which must not fail
  once a year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Nonexistent = Literal["reject", "shift"]


class LocalTimeError(ValueError):
    """A local date-time that cannot be resolved; the message says why."""


class NonexistentLocalTime(LocalTimeError):
    """The local time falls into a spring-forward gap of its zone."""


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether the naive wall time `local` happens in `tz` (it survives a round trip through UTC)."""
    aware = local.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def to_utc(local: datetime, tz: ZoneInfo, *, nonexistent: Nonexistent) -> datetime:
    """The UTC instant of the naive wall time `local` in `tz`, by the rules above."""
    if local.tzinfo is not None:
        raise LocalTimeError(f"expected a naive local date-time, got {local!r}")
    if nonexistent not in ("reject", "shift"):
        raise ValueError(f"nonexistent must be 'reject' or 'shift', not {nonexistent!r}")
    if nonexistent == "reject" and not exists(local, tz):
        raise NonexistentLocalTime(f"{local.isoformat(timespec='minutes')} does not exist in {tz.key} (the clocks jump forward then); choose another time")
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def repeated(first: datetime, tz: ZoneInfo, step: timedelta, count: int) -> list[datetime]:
    """The UTC instants of the naive wall time `first` in `tz` and of `count - 1` more, each `step`
    of calendar time later: a local rule such as "every Tuesday at 10:00" (`step` 7 days), which
    keeps its wall-clock time across DST changes and so moves by an hour in UTC. The first must
    exist (NonexistentLocalTime: a time someone chose); a later one in a gap is shifted forward,
    one in a fold is its first occurrence, by the rules above."""
    if step <= timedelta(0) or count < 1:
        raise ValueError("step must be positive and count at least 1")
    return [to_utc(first, tz, nonexistent="reject"), *(to_utc(first + step * i, tz, nonexistent="shift") for i in range(1, count))]


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The aware local date-time in `tz` of an aware instant."""
    if instant.tzinfo is None:
        raise LocalTimeError("expected an aware instant")
    return instant.astimezone(tz)
