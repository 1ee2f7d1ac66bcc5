"""UTC instants as the platform stores them: one definition of the epoch, and the microsecond
count since it that cursors sort by (Postgres keeps microseconds). Pure: no I/O, no protobuf
(services/common/timestamps.py converts to and from google.protobuf.Timestamp)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_micros(instant: datetime) -> int:
    """Microseconds since the epoch of an aware instant (a naive one raises TypeError)."""
    return (instant - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND
