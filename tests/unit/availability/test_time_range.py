"""Local date-times of a request and their time zone (docs/platform.md "Availability requests":
`from_local_date`/`to_local_date` are ISO-8601 local date-times interpreted in `time_zone`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.availability.domain.policy import course_availability, course_time_slots
from services.availability.domain.time_range import LocalRange, in_range, local_to_utc, parse_local_date_time, to_local_iso
from services.common.errors import InvalidArgument
from tests.unit.availability.helpers import course, frame_of, policy, session

VIENNA = ZoneInfo("Europe/Vienna")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def violations(error: InvalidArgument) -> dict[str, str]:
    return {v.field: v.description for v in error.violations}


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("2026-03-29T10:00:00", datetime(2026, 3, 29, 10), id="date-time-with-seconds"),
        pytest.param("2026-03-29T10:00", datetime(2026, 3, 29, 10), id="date-time-without-seconds"),
        pytest.param("2026-03-29T10:00:05.5", datetime(2026, 3, 29, 10, 0, 5, 500000), id="fraction-of-a-second"),
        pytest.param("2026-03-29T10:00:05.123456", datetime(2026, 3, 29, 10, 0, 5, 123456), id="microseconds"),
        pytest.param("2026-03-29", datetime(2026, 3, 29), id="a-plain-date-is-midnight"),
        pytest.param("2028-02-29", datetime(2028, 2, 29), id="leap-day"),
    ],
)
def test_local_date_times_that_parse(text: str, expected: datetime) -> None:
    parsed = parse_local_date_time("from_local_date", text)
    assert parsed == expected and parsed.tzinfo is None


@pytest.mark.parametrize(
    "text, description",
    [
        pytest.param("", "is required", id="empty-is-required"),
        pytest.param("2026-03-29T10:00:00Z", "without an offset", id="Z-is-refused-the-value-is-local"),
        pytest.param("2026-03-29T10:00:00+02:00", "without an offset", id="an-offset-is-refused"),
        pytest.param("2026-03-29T10:00-0500", "without an offset", id="a-compact-offset-is-refused"),
        pytest.param("2026-02-30", "not a valid date-time", id="a-day-that-does-not-exist"),
        pytest.param("2026-03-29T24:00:00", "not a valid date-time", id="hour-24"),
        pytest.param("2026-13-01", "not a valid date-time", id="month-13"),
        pytest.param("29.03.2026", "ISO-8601", id="not-iso"),
        pytest.param("2026-03-29 10:00", "ISO-8601", id="a-space-separator"),
        pytest.param("2026-03-29t10:00", "ISO-8601", id="a-lowercase-separator"),
        pytest.param("2026-3-29", "ISO-8601", id="unpadded-month"),
        pytest.param("2026-03-29T10", "ISO-8601", id="an-hour-without-minutes"),
        pytest.param("2026-03-29T10:00:00.1234567", "ISO-8601", id="more-than-microseconds"),
        pytest.param("２０２６-03-29", "ISO-8601", id="non-ascii-digits"),
        pytest.param("2026-03-29\n", "ISO-8601", id="a-trailing-newline"),
        pytest.param("tomorrow", "ISO-8601", id="garbage"),
        pytest.param("2026-03-29T10:00:00" + "0" * 30, "at most 40 characters", id="overlong"),
        pytest.param("0001-01-01", "from 1900-01-01 through 3000-01-01", id="year-1"),
        pytest.param("1899-12-31T23:59:59", "from 1900-01-01 through 3000-01-01", id="before-1900"),
        pytest.param("3000-01-01T00:00:00.000001", "from 1900-01-01 through 3000-01-01", id="after-3000"),
        pytest.param("9999-12-31T23:59:59.999999", "from 1900-01-01 through 3000-01-01", id="year-9999"),
    ],
)
def test_local_date_times_that_are_refused_name_the_field(text: str, description: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_local_date_time("to_local_date", text)
    assert list(violations(raised.value)) == ["to_local_date"]
    assert description in violations(raised.value)["to_local_date"]


# --- ranges -------------------------------------------------------------------------------------


def test_a_range_is_half_open_and_resolved_in_its_zone() -> None:
    r = LocalRange.resolve("2026-06-01", "2026-06-08", "Europe/Vienna")
    assert (r.start_utc, r.end_utc, r.zone) == (utc(2026, 5, 31, 22), utc(2026, 6, 7, 22), VIENNA)
    assert in_range(session(r.start_utc), r)
    assert in_range(session(r.end_utc - timedelta(microseconds=1)), r)
    assert not in_range(session(r.end_utc), r)
    assert not in_range(session(r.start_utc - timedelta(seconds=1)), r)


@pytest.mark.parametrize(
    "from_text, to_text, zone, expected",
    [
        pytest.param("1900-01-01", "1900-01-03", "Asia/Tokyo", (utc(1900, 1, 1), utc(1900, 1, 2, 15)), id="east-of-utc-at-the-start"),
        pytest.param("2999-12-30", "2999-12-31T23:59", "Pacific/Pago_Pago", (utc(2999, 12, 30, 11), utc(3000, 1, 1)), id="west-of-utc-at-the-end"),
    ],
)
def test_a_range_near_either_end_of_the_instant_range_is_cut_to_it(from_text: str, to_text: str, zone: str, expected: tuple[datetime, datetime]) -> None:
    r = LocalRange.resolve(from_text, to_text, zone)
    assert (r.start_utc, r.end_utc) == expected


@pytest.mark.parametrize(
    "from_text, to_text",
    [pytest.param("2026-06-08", "2026-06-01", id="reversed"), pytest.param("2026-06-01T10:00", "2026-06-01T10:00:00", id="empty")],
)
def test_to_must_be_after_from(from_text: str, to_text: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        LocalRange.resolve(from_text, to_text, "Europe/Vienna")
    assert violations(raised.value) == {"to_local_date": "must be after from_local_date"}


@pytest.mark.parametrize(
    "from_text, to_text, allowed",
    [
        pytest.param("2026-01-01", "2027-01-01", True, id="365-days-allowed"),
        pytest.param("2026-01-01", "2027-01-01T00:00:01", False, id="365-days-and-a-second-refused"),
        pytest.param("2028-01-01", "2029-01-01", False, id="a-leap-year-is-366-days-refused"),
        pytest.param("2026-03-01", "2027-03-01", True, id="365-calendar-days-across-both-dst-changes"),
    ],
)
def test_a_range_is_at_most_365_days(from_text: str, to_text: str, allowed: bool) -> None:
    if allowed:
        LocalRange.resolve(from_text, to_text, "Europe/Vienna")
        return
    with pytest.raises(InvalidArgument) as raised:
        LocalRange.resolve(from_text, to_text, "Europe/Vienna")
    assert "a range over 365 days" in violations(raised.value)["to_local_date"]


def test_every_violation_of_a_range_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as raised:
        LocalRange.resolve("yesterday", "2026-03-29T10:00:00Z", "Mars/Olympus")
    assert set(violations(raised.value)) == {"from_local_date", "to_local_date", "time_zone"}


@pytest.mark.parametrize(
    "zone", [pytest.param("", id="empty"), pytest.param("CET+1", id="posix"), pytest.param("localtime", id="local"), pytest.param("../etc/passwd", id="path")]
)
def test_a_zone_must_be_an_iana_name(zone: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        LocalRange.resolve("2026-06-01", "2026-06-02", zone)
    assert list(violations(raised.value)) == ["time_zone"]


@pytest.mark.parametrize(
    "zone, local, expected_utc",
    [
        pytest.param("UTC", "2026-06-01T10:00", utc(2026, 6, 1, 10), id="utc"),
        pytest.param("Asia/Kolkata", "2026-06-01T10:00", utc(2026, 6, 1, 4, 30), id="half-hour-offset"),
        pytest.param("Asia/Kathmandu", "2026-06-01T10:00", utc(2026, 6, 1, 4, 15), id="quarter-hour-offset"),
        pytest.param("Australia/Lord_Howe", "2026-01-15T10:00", utc(2026, 1, 14, 23), id="half-hour-dst-in-summer"),
        pytest.param("America/Los_Angeles", "2026-06-01T10:00", utc(2026, 6, 1, 17), id="west-of-utc"),
    ],
)
def test_zones(zone: str, local: str, expected_utc: datetime) -> None:
    r = LocalRange.resolve(local, "2026-12-31", zone)
    assert r.start_utc == expected_utc
    assert to_local_iso(r.start_utc, ZoneInfo(zone)) == local + ":00"


# --- DST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, local, expected_utc, back_to_local",
    [
        # Spring forward: the wall clock jumps over the hour, so the local time does not exist. With
        # fold=0 it is read with the offset before the change and lands one hour later on the wall.
        pytest.param(VIENNA, datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30), "2026-03-29T03:30:00", id="vienna-gap-resolves-forward"),
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30), "2026-03-08T03:30:00", id="new-york-gap-resolves-forward"),
        # Fall back: the hour happens twice; fold=0 is the first occurrence (summer time).
        pytest.param(VIENNA, datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30), "2026-10-25T02:30:00", id="vienna-fold-is-the-first-occurrence"),
        pytest.param(NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), "2026-11-01T01:30:00", id="new-york-fold-is-the-first-occurrence"),
        # Around the change, plain times are exact.
        pytest.param(VIENNA, datetime(2026, 3, 29, 1, 59), utc(2026, 3, 29, 0, 59), "2026-03-29T01:59:00", id="vienna-just-before-the-gap"),
        pytest.param(VIENNA, datetime(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1, 0), "2026-03-29T03:00:00", id="vienna-just-after-the-gap"),
        pytest.param(VIENNA, datetime(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2, 0), "2026-10-25T03:00:00", id="vienna-after-the-fold"),
    ],
)
def test_dst_gap_and_fold(zone: ZoneInfo, local: datetime, expected_utc: datetime, back_to_local: str) -> None:
    assert local_to_utc(local, zone) == expected_utc
    assert to_local_iso(expected_utc, zone) == back_to_local


def test_the_second_occurrence_of_a_fold_is_shown_with_the_same_wall_time() -> None:
    assert to_local_iso(utc(2026, 10, 25, 1, 30), VIENNA) == "2026-10-25T02:30:00"


@pytest.mark.parametrize(
    "zone, day, hours",
    [
        pytest.param("Europe/Vienna", "2026-03-29", 23, id="vienna-spring-day-has-23-hours"),
        pytest.param("Europe/Vienna", "2026-10-25", 25, id="vienna-autumn-day-has-25-hours"),
        pytest.param("America/New_York", "2026-03-08", 23, id="new-york-spring-day-has-23-hours"),
        pytest.param("America/New_York", "2026-11-01", 25, id="new-york-autumn-day-has-25-hours"),
        pytest.param("Europe/Vienna", "2026-06-01", 24, id="an-ordinary-day"),
    ],
)
def test_a_one_day_range_over_a_dst_change_covers_the_whole_local_day(zone: str, day: str, hours: int) -> None:
    start = datetime.fromisoformat(day)
    r = LocalRange.resolve(day, (start + timedelta(days=1)).date().isoformat(), zone)
    assert r.end_utc - r.start_utc == timedelta(hours=hours)


def test_a_range_from_a_gap_time_to_just_after_the_gap_is_empty_never_inverted() -> None:
    # 02:30 does not exist and resolves to 03:30 CEST (01:30 UTC); 03:15 CEST is 01:15 UTC.
    r = LocalRange.resolve("2026-03-29T02:30", "2026-03-29T03:15", "Europe/Vienna")
    assert r.start_utc == utc(2026, 3, 29, 1, 30)
    assert r.end_utc == r.start_utc
    assert not in_range(session(r.start_utc), r)


def test_a_range_inside_one_gap_moves_forward_whole() -> None:
    r = LocalRange.resolve("2026-03-29T02:15", "2026-03-29T02:45", "Europe/Vienna")
    assert (r.start_utc, r.end_utc) == (utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 45))


def test_a_range_from_a_gap_time_starts_after_the_gap() -> None:
    r = LocalRange.resolve("2026-03-29T02:30", "2026-03-29T04:00", "Europe/Vienna")
    assert (r.start_utc, r.end_utc) == (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0))


@pytest.mark.parametrize(
    "zone, first_local, expected_local_starts",
    [
        pytest.param("Europe/Vienna", datetime(2026, 3, 22, 18), ["2026-03-22T18:00:00", "2026-03-29T18:00:00", "2026-04-05T18:00:00"], id="vienna-march"),
        pytest.param("Europe/Vienna", datetime(2026, 10, 18, 18), ["2026-10-18T18:00:00", "2026-10-25T18:00:00", "2026-11-01T18:00:00"], id="vienna-october"),
        pytest.param("America/New_York", datetime(2026, 3, 1, 9), ["2026-03-01T09:00:00", "2026-03-08T09:00:00", "2026-03-15T09:00:00"], id="new-york-march"),
        pytest.param(
            "America/New_York", datetime(2026, 10, 25, 9), ["2026-10-25T09:00:00", "2026-11-01T09:00:00", "2026-11-08T09:00:00"], id="new-york-november"
        ),
    ],
)
def test_a_weekly_course_across_a_dst_change_keeps_its_local_time(zone: str, first_local: datetime, expected_local_starts: list[str]) -> None:
    tz = ZoneInfo(zone)
    starts = [local_to_utc(first_local + timedelta(days=7 * i), tz) for i in range(3)]
    assert len({s.time() for s in starts}) == 2  # the UTC time of day moves by the hour
    sessions = [session(s) for s in starts]
    r = LocalRange.resolve(first_local.date().isoformat(), (first_local + timedelta(days=15)).date().isoformat(), zone)
    shown = [s for s in sessions if in_range(s, r)]
    offering = course()
    decision = course_availability(starts[0] - timedelta(days=1), offering, sessions, frame_of(sessions), 1)
    slots = course_time_slots(starts[0] - timedelta(days=1), offering, decision, shown)
    assert [to_local_iso(s.session.start, tz) for s in slots] == expected_local_starts
    assert [to_local_iso(s.session.end, tz) for s in slots] == [x.replace("T18:", "T19:").replace("T09:", "T10:") for x in expected_local_starts]
    assert all(s.bookable for s in slots)


def test_booking_limits_are_elapsed_minutes_not_wall_clock_days_across_dst() -> None:
    # A session at 10:00 CEST on the day clocks spring forward; a 24h (1440 min) early limit opens
    # 24 elapsed hours before, which is 09:00 CET on the previous wall-clock day.
    start = local_to_utc(datetime(2026, 3, 29, 10), VIENNA)
    sessions = [session(start)]
    decision = course_availability(start - timedelta(days=2), course(policy(early=1440)), sessions, frame_of(sessions), 1)
    assert to_local_iso(decision.violations.earliest_booking_date, VIENNA) == "2026-03-28T09:00:00"


def test_to_local_iso_drops_sub_seconds_and_has_no_offset() -> None:
    assert to_local_iso(utc(2026, 6, 1, 8, 0, 5, 999999), VIENNA) == "2026-06-01T10:00:05"


def test_local_to_utc_refuses_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_to_utc(utc(2026, 6, 1), VIENNA)
