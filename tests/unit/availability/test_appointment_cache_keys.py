"""How availability's cache keys a schedule's working hours (adapters/appointments.py): by fixed
buckets of time, so that the windows of many requests share entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.availability.adapters.appointments import BUCKET, bucket_span, buckets
from services.availability.domain.model import Interval
from services.common.validation import EARLIEST_INSTANT, END_OF_INSTANTS

JUNE_15 = datetime(2026, 6, 15, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_the_longest_listings_window_touches_at_most_two_buckets_wherever_it_starts() -> None:
    # 31 days and the reading margin of 3 days on each side.
    touched = {len(buckets(Interval(JUNE_15 + i * HOUR, JUNE_15 + i * HOUR + 37 * DAY))) for i in range(0, 42 * 24)}
    assert touched == {1, 2}


def test_a_window_reads_the_buckets_it_touches_and_no_other() -> None:
    (bucket,) = buckets(Interval(JUNE_15, JUNE_15 + HOUR))
    start, end = bucket_span(bucket)
    assert (end - start, start <= JUNE_15 < end) == (BUCKET, True)
    assert list(buckets(Interval(start, end))) == [bucket]  # half-open: its end is the next one's
    assert list(buckets(Interval(start - HOUR, end + HOUR))) == [bucket - 1, bucket, bucket + 1]


def test_buckets_at_the_ends_of_the_instant_range_stay_inside_it() -> None:
    (first,) = buckets(Interval(EARLIEST_INSTANT, EARLIEST_INSTANT + HOUR))
    (last,) = buckets(Interval(END_OF_INSTANTS - HOUR, END_OF_INSTANTS))
    assert bucket_span(first)[0] == EARLIEST_INSTANT
    assert bucket_span(last)[1] == END_OF_INSTANTS
