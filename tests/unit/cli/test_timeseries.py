"""Local wall-clock arithmetic: parsing, series across DST (both directions, two zones), the
spring gap (rejected when typed, shifted forward when generated) and the fall-back hour (fold=0).

2026 transitions: Europe/Vienna 29 Mar 02:00 -> 03:00 and 25 Oct 03:00 -> 02:00;
America/New_York 8 Mar 02:00 -> 03:00 and 1 Nov 02:00 -> 01:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.cli import timeseries
from services.cli.timeseries import Interval, NonexistentLocalTime, TimeSeriesError

VIENNA = timeseries.zone("Europe/Vienna")
NEW_YORK = timeseries.zone("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-12-01T10:00", local("2026-12-01T10:00"), id="date-time with T"),
        pytest.param("2026-12-01 10:00", local("2026-12-01T10:00"), id="space instead of T"),
        pytest.param("2026-12-01T10:00:30", local("2026-12-01T10:00:30"), id="with seconds"),
        pytest.param("  2026-12-01T10:00 ", local("2026-12-01T10:00"), id="surrounding blanks ignored"),
        pytest.param("2026-12-01", local("2026-12-01T00:00"), id="bare date is midnight"),
    ],
)
def test_parse_local_accepts_iso_local_date_times(text: str, expected: datetime) -> None:
    assert timeseries.parse_local(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("2026-12-01T10:00Z", "UTC offset", id="Z suffix refused: the zone comes from the option"),
        pytest.param("2026-12-01T10:00+01:00", "UTC offset", id="numeric offset refused"),
        pytest.param("tomorrow 10:00", "not a local date-time", id="words"),
        pytest.param("01.12.2026 10:00", "not a local date-time", id="non-ISO order"),
        pytest.param("2026-12-01T10", "not a local date-time", id="hour without minutes"),
        pytest.param("2026-13-01T10:00", "not a valid date-time", id="month 13"),
        pytest.param("2026-02-30", "not a valid date", id="30 February"),
        pytest.param("2026-12-01T25:00", "not a valid date-time", id="hour 25"),
        pytest.param("", "not a local date-time", id="empty"),
    ],
)
def test_parse_local_rejects_with_reason(text: str, message: str) -> None:
    with pytest.raises(TimeSeriesError, match=message):
        timeseries.parse_local(text)


@pytest.mark.parametrize("name", ["Europe/Vienna", "America/New_York", "UTC", "Asia/Kathmandu"])
def test_zone_accepts_iana_names(name: str) -> None:
    assert timeseries.zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Mars/Olympus", id="unknown"),
        pytest.param("", id="empty"),
        pytest.param(" Europe/Vienna", id="blank padded"),
        pytest.param("../../etc/passwd", id="path traversal"),
        pytest.param("+01:00", id="offset is not a zone"),
    ],
)
def test_zone_rejects_non_iana_names(name: str) -> None:
    with pytest.raises(TimeSeriesError, match="not an IANA time zone"):
        timeseries.zone(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("7d", Interval(7, "d"), id="weekly as days"),
        pytest.param("1w", Interval(1, "w"), id="weekly as weeks"),
        pytest.param("1d", Interval(1, "d"), id="daily"),
        pytest.param("2h", Interval(2, "h"), id="hours"),
        pytest.param("30m", Interval(30, "m"), id="minutes"),
        pytest.param(" 1D ", Interval(1, "d"), id="case and blanks ignored"),
    ],
)
def test_parse_interval(text: str, expected: Interval) -> None:
    assert timeseries.parse_interval(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("0d", id="zero"),
        pytest.param("-1d", id="negative"),
        pytest.param("7", id="no unit"),
        pytest.param("d", id="no amount"),
        pytest.param("1y", id="unknown unit"),
        pytest.param("1.5h", id="fraction"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(TimeSeriesError):
        timeseries.parse_interval(text)


# --- series across DST ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "first", "every", "expected_utc"),
    [
        pytest.param(
            VIENNA,
            "2026-03-15T10:00",
            "7d",
            ["2026-03-15T09:00", "2026-03-22T09:00", "2026-03-29T08:00", "2026-04-05T08:00"],
            id="Vienna weekly across spring forward: 10:00 local, one hour earlier in UTC",
        ),
        pytest.param(
            VIENNA,
            "2026-10-11T10:00",
            "1w",
            ["2026-10-11T08:00", "2026-10-18T08:00", "2026-10-25T09:00", "2026-11-01T09:00"],
            id="Vienna weekly across fall back: 10:00 local, one hour later in UTC",
        ),
        pytest.param(
            NEW_YORK,
            "2026-02-22T10:00",
            "7d",
            ["2026-02-22T15:00", "2026-03-01T15:00", "2026-03-08T14:00", "2026-03-15T14:00"],
            id="New York weekly across spring forward",
        ),
        pytest.param(
            NEW_YORK,
            "2026-10-18T10:00",
            "7d",
            ["2026-10-18T14:00", "2026-10-25T14:00", "2026-11-01T15:00", "2026-11-08T15:00"],
            id="New York weekly across fall back",
        ),
        pytest.param(
            VIENNA,
            "2026-03-27T18:00",
            "1d",
            ["2026-03-27T17:00", "2026-03-28T17:00", "2026-03-29T16:00", "2026-03-30T16:00"],
            id="Vienna daily across spring forward",
        ),
        pytest.param(
            NEW_YORK,
            "2026-10-31T07:30",
            "1d",
            ["2026-10-31T11:30", "2026-11-01T12:30", "2026-11-02T12:30"],
            id="New York daily across fall back",
        ),
    ],
)
def test_calendar_steps_keep_the_local_wall_time(tz, first: str, every: str, expected_utc: list[str]) -> None:  # type: ignore[no-untyped-def]
    series = timeseries.series(local(first), tz, timedelta(minutes=60), len(expected_utc), timeseries.parse_interval(every))

    assert [o.start for o in series] == [utc(t) for t in expected_utc]
    assert {o.start.astimezone(tz).time() for o in series} == {local(first).time()}
    assert all(o.end - o.start == timedelta(minutes=60) for o in series)
    assert not any(o.shifted for o in series)


@pytest.mark.parametrize(
    ("tz", "first", "every", "count", "expected_local"),
    [
        pytest.param(
            VIENNA,
            "2026-10-25T01:30",
            "1h",
            4,
            ["01:30 CEST", "02:30 CEST", "02:30 CET", "03:30 CET"],
            id="Vienna hourly across fall back visits the repeated hour twice, one real hour apart",
        ),
        pytest.param(
            VIENNA,
            "2026-03-29T01:00",
            "1h",
            3,
            ["01:00 CET", "03:00 CEST", "04:00 CEST"],
            id="Vienna hourly across spring forward skips the missing hour",
        ),
        pytest.param(
            NEW_YORK,
            "2026-11-01T00:30",
            "30m",
            5,
            ["00:30 EDT", "01:00 EDT", "01:30 EDT", "01:00 EST", "01:30 EST"],
            id="New York half-hourly across fall back",
        ),
    ],
)
def test_hour_and_minute_steps_are_elapsed_time(tz, first: str, every: str, count: int, expected_local: list[str]) -> None:  # type: ignore[no-untyped-def]
    interval = timeseries.parse_interval(every)
    series = timeseries.series(local(first), tz, timedelta(minutes=15), count, interval)

    assert [o.start.astimezone(tz).strftime("%H:%M %Z") for o in series] == expected_local
    assert all(b.start - a.start == interval.delta() for a, b in zip(series, series[1:], strict=False))


# --- the spring gap and the fall-back hour ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "wall"),
    [
        pytest.param(VIENNA, "2026-03-29T02:30", id="Vienna 02:30 on 29 March does not exist"),
        pytest.param(VIENNA, "2026-03-29T02:00", id="Vienna 02:00 is the first missing minute"),
        pytest.param(NEW_YORK, "2026-03-08T02:30", id="New York 02:30 on 8 March does not exist"),
    ],
)
def test_a_typed_nonexistent_time_is_rejected(tz, wall: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NonexistentLocalTime, match="does not exist"):
        timeseries.resolve(local(wall), tz)
    with pytest.raises(NonexistentLocalTime):
        timeseries.series(local(wall), tz, timedelta(minutes=60), 3, Interval(7, "d"))


@pytest.mark.parametrize(
    ("tz", "wall", "expected_utc", "expected_local"),
    [
        pytest.param(VIENNA, "2026-03-29T02:30", "2026-03-29T01:30", "03:30", id="Vienna 02:30 shifts to 03:30 CEST"),
        pytest.param(NEW_YORK, "2026-03-08T02:30", "2026-03-08T07:30", "03:30", id="New York 02:30 shifts to 03:30 EDT"),
    ],
)
def test_shift_moves_a_nonexistent_time_forward_by_the_gap(tz, wall: str, expected_utc: str, expected_local: str) -> None:  # type: ignore[no-untyped-def]
    start = timeseries.resolve(local(wall), tz, nonexistent="shift")

    assert start == utc(expected_utc)
    assert start.astimezone(tz).strftime("%H:%M") == expected_local


def test_a_generated_occurrence_in_the_gap_is_shifted_and_flagged() -> None:
    series = timeseries.series(local("2026-03-22T02:30"), VIENNA, timedelta(minutes=60), 3, Interval(1, "w"))

    assert [o.start for o in series] == [utc("2026-03-22T01:30"), utc("2026-03-29T01:30"), utc("2026-04-05T00:30")]
    assert [o.shifted for o in series] == [False, True, False]
    assert [o.start.astimezone(VIENNA).strftime("%H:%M") for o in series] == ["02:30", "03:30", "02:30"]
    assert series[1].local == local("2026-03-29T02:30")


@pytest.mark.parametrize(
    ("tz", "wall", "expected_utc", "abbreviation"),
    [
        pytest.param(VIENNA, "2026-10-25T02:30", "2026-10-25T00:30", "CEST", id="Vienna 02:30 on 25 October is the first (summer time)"),
        pytest.param(NEW_YORK, "2026-11-01T01:30", "2026-11-01T05:30", "EDT", id="New York 01:30 on 1 November is the first (EDT)"),
    ],
)
def test_an_ambiguous_time_resolves_to_its_first_occurrence(tz, wall: str, expected_utc: str, abbreviation: str) -> None:  # type: ignore[no-untyped-def]
    for nonexistent in ("reject", "shift"):
        start = timeseries.resolve(local(wall), tz, nonexistent=nonexistent)
        assert start == utc(expected_utc)
        assert start.astimezone(tz).tzname() == abbreviation


def test_a_weekly_series_through_the_ambiguous_hour_uses_fold_0() -> None:
    series = timeseries.series(local("2026-10-18T02:30"), VIENNA, timedelta(minutes=30), 2, Interval(7, "d"))

    assert [o.start for o in series] == [utc("2026-10-18T00:30"), utc("2026-10-25T00:30")]
    assert not series[1].shifted


@pytest.mark.parametrize(
    ("wall", "minutes", "expected_end_local"),
    [
        pytest.param("2026-10-25T01:30", 120, "02:30 CET", id="fall back: 2 real hours end at 02:30 wall time"),
        pytest.param("2026-03-29T01:30", 60, "03:30 CEST", id="spring forward: 1 real hour ends at 03:30 wall time"),
    ],
)
def test_durations_are_elapsed_minutes(wall: str, minutes: int, expected_end_local: str) -> None:
    occurrence = timeseries.occurrence(local(wall), VIENNA, timedelta(minutes=minutes))

    assert occurrence.end - occurrence.start == timedelta(minutes=minutes)
    assert occurrence.end.astimezone(VIENNA).strftime("%H:%M %Z") == expected_end_local


# --- bounds and helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "minutes", "message"),
    [
        pytest.param(0, 60, "count must be", id="no sessions"),
        pytest.param(timeseries.MAX_SERIES + 1, 60, "count must be", id="more than BulkCreateEvents takes"),
        pytest.param(3, 0, "duration must be positive", id="zero duration"),
        pytest.param(3, -30, "duration must be positive", id="negative duration"),
    ],
)
def test_series_bounds(count: int, minutes: int, message: str) -> None:
    with pytest.raises(TimeSeriesError, match=message):
        timeseries.series(local("2026-12-01T10:00"), VIENNA, timedelta(minutes=minutes), count, Interval(7, "d"))


def test_series_of_the_maximum_size_is_allowed() -> None:
    series = timeseries.series(local("2026-12-01T10:00"), VIENNA, timedelta(minutes=60), timeseries.MAX_SERIES, Interval(1, "d"))
    assert len(series) == timeseries.MAX_SERIES


def test_naive_and_aware_inputs_are_not_mixed_up() -> None:
    with pytest.raises(TimeSeriesError):
        timeseries.resolve(utc("2026-12-01T10:00"), VIENNA)
    with pytest.raises(TimeSeriesError):
        timeseries.to_local(local("2026-12-01T10:00"), VIENNA)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2026-12-01T16:59", "2026-12-01T18:00", id="before 18:00 local: today"),
        pytest.param("2026-12-01T17:00", "2026-12-02T18:00", id="exactly 18:00 local: tomorrow (strictly after)"),
        pytest.param("2026-12-01T22:00", "2026-12-02T18:00", id="after 18:00 local: tomorrow"),
        pytest.param("2026-11-30T23:30", "2026-12-01T18:00", id="UTC date behind the local date"),
        pytest.param("2026-07-01T15:59", "2026-07-01T18:00", id="summer time: 18:00 CEST is 16:00 UTC"),
    ],
)
def test_next_wall_time(now: str, expected: str) -> None:
    assert timeseries.next_wall_time(utc(now), VIENNA, time(18, 0)) == local(expected)
