"""The platform's one rule set for local wall-clock time (services/common/local_time.py): an
ambiguous time is its first occurrence; a nonexistent one is refused or shifted forward by the gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.local_time import LocalTimeError, NonexistentLocalTime, exists, repeated, to_local, to_utc

VIENNA, NEW_YORK, LORD_HOWE = ZoneInfo("Europe/Vienna"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")


@pytest.mark.parametrize(
    ("local", "tz", "expected_utc"),
    [
        pytest.param(datetime(2026, 6, 1, 10), VIENNA, datetime(2026, 6, 1, 8, tzinfo=UTC), id="summer-time"),
        pytest.param(datetime(2026, 12, 1, 10), VIENNA, datetime(2026, 12, 1, 9, tzinfo=UTC), id="winter-time"),
        pytest.param(datetime(2026, 10, 25, 2, 30), VIENNA, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), id="vienna-fold-is-its-first-occurrence"),
        pytest.param(datetime(2026, 11, 1, 1, 30), NEW_YORK, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), id="new-york-fold-is-its-first-occurrence"),
        pytest.param(datetime(2026, 4, 5, 1, 45), LORD_HOWE, datetime(2026, 4, 4, 14, 45, tzinfo=UTC), id="half-hour-fold-is-its-first-occurrence"),
    ],
)
def test_a_local_time_that_happens_is_the_same_instant_in_both_modes(local: datetime, tz: ZoneInfo, expected_utc: datetime) -> None:
    assert exists(local, tz)
    assert to_utc(local, tz, nonexistent="reject") == to_utc(local, tz, nonexistent="shift") == expected_utc


@pytest.mark.parametrize(
    ("local", "tz", "shifted_local"),
    [
        pytest.param(datetime(2026, 3, 29, 2, 30), VIENNA, "2026-03-29T03:30", id="vienna-gap-of-an-hour"),
        pytest.param(datetime(2026, 3, 8, 2, 30), NEW_YORK, "2026-03-08T03:30", id="new-york-gap-of-an-hour"),
        pytest.param(datetime(2026, 10, 4, 2, 15), LORD_HOWE, "2026-10-04T02:45", id="lord-howe-gap-of-half-an-hour"),
    ],
)
def test_a_time_in_a_spring_forward_gap_is_refused_or_moved_forward_by_the_gap(local: datetime, tz: ZoneInfo, shifted_local: str) -> None:
    assert not exists(local, tz)
    with pytest.raises(NonexistentLocalTime, match="does not exist"):
        to_utc(local, tz, nonexistent="reject")
    assert to_local(to_utc(local, tz, nonexistent="shift"), tz).strftime("%Y-%m-%dT%H:%M") == shifted_local


def test_an_aware_local_time_or_a_naive_instant_is_a_mistake() -> None:
    with pytest.raises(LocalTimeError):
        to_utc(datetime(2026, 6, 1, 10, tzinfo=UTC), VIENNA, nonexistent="shift")
    with pytest.raises(LocalTimeError):
        to_local(datetime(2026, 6, 1, 10), VIENNA)


@pytest.mark.parametrize(
    ("first", "tz", "expected_utc"),
    [
        pytest.param(
            datetime(2026, 3, 22, 2, 30),
            VIENNA,
            ["2026-03-22T01:30", "2026-03-29T01:30", "2026-04-05T00:30"],
            id="through-the-spring-gap-the-missing-time-is-moved-forward",
        ),
        pytest.param(
            datetime(2026, 10, 18, 2, 30),
            VIENNA,
            ["2026-10-18T00:30", "2026-10-25T00:30", "2026-11-01T01:30"],
            id="through-the-fall-fold-the-first-occurrence",
        ),
        pytest.param(
            datetime(2026, 3, 1, 10, 0),
            NEW_YORK,
            ["2026-03-01T15:00", "2026-03-08T14:00", "2026-03-15T14:00"],
            id="ten-o-clock-stays-ten-o-clock-local",
        ),
    ],
)
def test_a_weekly_local_rule_keeps_its_wall_time_across_dst(first: datetime, tz: ZoneInfo, expected_utc: list[str]) -> None:
    found = repeated(first, tz, timedelta(days=7), 3)
    assert [i.strftime("%Y-%m-%dT%H:%M") for i in found] == expected_utc
    assert all(i.tzinfo is UTC for i in found)


def test_a_rule_that_starts_in_a_gap_is_refused() -> None:
    with pytest.raises(NonexistentLocalTime):
        repeated(datetime(2026, 3, 29, 2, 30), VIENNA, timedelta(days=7), 3)
