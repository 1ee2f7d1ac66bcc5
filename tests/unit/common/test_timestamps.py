"""Instants and google.protobuf.Timestamp: the same instant both ways, in normalised form, with
microsecond precision; the keys cursors sort by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2

from services.common.instants import EPOCH, from_micros, to_micros
from services.common.timestamps import to_instant, to_timestamp

INSTANTS = [
    datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC),  # the microseconds survive
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # before the epoch: seconds -1, nanos 500 000 000
    EPOCH,
    datetime(1900, 1, 1, tzinfo=UTC),  # the ends of the accepted range (services/common/validation.py)
    datetime(3000, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS)
def test_a_timestamp_is_the_same_instant_in_normalised_form(instant: datetime) -> None:
    ts = to_timestamp(instant)
    assert ts.ToDatetime(tzinfo=UTC) == instant  # protobuf's own reading agrees
    assert 0 <= ts.nanos < 1_000_000_000
    assert to_instant(ts) == instant


def test_an_instant_in_another_zone_is_the_same_instant() -> None:
    vienna_summer = datetime(2026, 7, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert to_timestamp(vienna_summer).seconds == int(datetime(2026, 7, 1, 10, tzinfo=UTC).timestamp())


def test_a_naive_datetime_is_refused_never_read_as_local_time() -> None:
    with pytest.raises(TypeError):
        to_timestamp(datetime(2026, 7, 1, 12))


def test_nanoseconds_below_a_microsecond_are_truncated() -> None:
    assert to_instant(timestamp_pb2.Timestamp(seconds=0, nanos=1_999)) == EPOCH + timedelta(microseconds=1)


@pytest.mark.parametrize("instant", INSTANTS)
def test_a_cursor_key_round_trips_its_instant(instant: datetime) -> None:
    assert from_micros(to_micros(instant)) == instant
