"""google.protobuf.Timestamp and aware UTC datetimes, for every service (the epoch is
services/common/instants.py's).

In arithmetic rather than Timestamp.FromDatetime / ToDatetime, which are pure Python in protobuf
and run for every event of every listing (bench/README.md). Instants are aware datetimes
(docs/platform.md "Instants and local times": the platform stores UTC instants); a naive one is
a bug and fails here, never read as local time.
Precision is the microsecond (what Postgres stores): nanoseconds below it are truncated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from google.protobuf import timestamp_pb2

from services.common.instants import EPOCH


def set_timestamp(ts: timestamp_pb2.Timestamp, instant: datetime) -> None:
    """Set `ts` in place (a field of a message being built) to the aware `instant`."""
    delta = instant - EPOCH
    ts.seconds = delta.days * 86_400 + delta.seconds
    ts.nanos = delta.microseconds * 1000


def to_timestamp(instant: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    set_timestamp(ts, instant)
    return ts


def to_instant(ts: timestamp_pb2.Timestamp) -> datetime:
    """The aware UTC instant of a Timestamp (of its seconds and nanos, not whether it is set)."""
    return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
