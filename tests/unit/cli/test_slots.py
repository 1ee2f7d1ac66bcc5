"""Availability answers in words (services/cli/slots.py): why a slot is not bookable, local times,
spots and the booking window. Pure: built from protobuf messages, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from google.protobuf import timestamp_pb2

from services.api.bookings.availability.v2 import time_slots_pb2
from services.cli import slots

VIENNA = ZoneInfo("Europe/Vienna")
NOW = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # Tue 1 Dec 17:30 in Vienna


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(instant)
    return t


def violations(*, earliest: datetime | None = None, latest: datetime | None = None, **flags: bool) -> time_slots_pb2.BookingPolicyViolations:
    v = time_slots_pb2.BookingPolicyViolations(**flags)
    if earliest is not None:
        v.earliest_booking_date.CopyFrom(ts(earliest))
    if latest is not None:
        v.latest_booking_date.CopyFrom(ts(latest))
    return v


def reasons(**flags: bool) -> time_slots_pb2.NonBookableReasons:
    return time_slots_pb2.NonBookableReasons(**flags)


POLICY = {"violates_booking_policy": True}
FULL = {"no_remaining_capacity": True}
CLOSED = NOW - timedelta(minutes=30)  # Tue 1 Dec 17:00 Vienna
OPENS = NOW + timedelta(days=2, minutes=30)  # Thu 3 Dec 18:00 Vienna


@pytest.mark.parametrize(
    ("v", "r", "kwargs", "expected"),
    [
        pytest.param(violations(), reasons(), {}, [], id="bookable: nothing to say"),
        pytest.param(violations(), reasons(event_cancelled=True), {}, ["cancelled"], id="a cancelled session"),
        pytest.param(violations(), reasons(event_started=True), {}, ["already started"], id="a started session"),
        pytest.param(
            violations(too_late_to_book=True, latest=CLOSED),
            reasons(event_started=True, **POLICY, **FULL),
            {"remaining": 0},
            ["already started"],
            id="a started session is explained by that alone, not by the course's reasons",
        ),
        pytest.param(violations(book_online_disabled=True), reasons(**POLICY), {}, ["online booking off"], id="online booking off"),
        pytest.param(
            violations(too_early_to_book=True, earliest=OPENS), reasons(**POLICY), {}, ["not open yet (opens Thu 3 Dec 18:00)"], id="too early: when it opens"
        ),
        pytest.param(violations(too_early_to_book=True), reasons(**POLICY), {}, ["not open yet"], id="too early without a date"),
        pytest.param(
            violations(too_late_to_book=True, latest=CLOSED),
            reasons(**POLICY),
            {},
            ["too late to book (closed Tue 1 Dec 17:00)"],
            id="too late: when it closed, in the response zone",
        ),
        pytest.param(
            violations(too_late_to_book=True, latest=NOW + timedelta(days=7)),
            reasons(**POLICY),
            {},
            ["too late to book"],
            id="too late with a closing moment still ahead (book after start): no date that would mislead",
        ),
        pytest.param(
            violations(too_late_to_book=True), reasons(**POLICY), {"sessions_left": 0}, ["too late to book (no sessions left)"], id="too late: nothing left"
        ),
        pytest.param(violations(), reasons(**FULL), {"remaining": 0}, ["fully booked"], id="this session is full"),
        pytest.param(violations(), reasons(**FULL), {"remaining": -2}, ["fully booked"], id="overbooked is full too"),
        pytest.param(
            violations(), reasons(**FULL), {"remaining": 5}, ["another session is fully booked"], id="course: this session has room, another one is full"
        ),
        pytest.param(
            violations(),
            reasons(**FULL),
            {"remaining": 2, "party": 3},
            ["only 2 spots left for a party of 3"],
            id="party larger than the open spots",
        ),
        pytest.param(violations(), reasons(**FULL), {"remaining": 1, "party": 2}, ["only 1 spot left for a party of 2"], id="one spot: singular"),
        pytest.param(
            violations(),
            reasons(**FULL),
            {"remaining": 8, "party": 3},
            ["another session has fewer than 3 spots"],
            id="course and party: another session is too small",
        ),
        pytest.param(violations(), reasons(**FULL), {}, ["fully booked"], id="the course as a whole"),
        pytest.param(violations(), reasons(**FULL), {"party": 4}, ["not enough spots for a party of 4"], id="the course as a whole, for a party"),
        pytest.param(violations(), reasons(**FULL), {"remaining": 5, "course": False}, ["not enough spots"], id="class: never blames another session"),
        pytest.param(
            violations(book_online_disabled=True, too_late_to_book=True, latest=CLOSED),
            reasons(**POLICY, **FULL),
            {"remaining": 0},
            ["online booking off", "too late to book (closed Tue 1 Dec 17:00)", "fully booked"],
            id="several: configuration, then time, then capacity",
        ),
        pytest.param(violations(), reasons(**POLICY), {}, ["a booking policy forbids it"], id="a policy flag without a known violation"),
    ],
)
def test_why_not(v: time_slots_pb2.BookingPolicyViolations, r: time_slots_pb2.NonBookableReasons, kwargs: dict[str, object], expected: list[str]) -> None:
    assert slots.why_not(v, r, zone=VIENNA, now=NOW, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bookable", "phrases", "cell"),
    [
        pytest.param(True, [], "-", id="bookable"),
        pytest.param(False, ["cancelled"], "cancelled", id="one reason"),
        pytest.param(False, ["online booking off", "fully booked"], "online booking off; fully booked", id="reasons joined"),
        pytest.param(False, [], "not bookable", id="no reason known"),
    ],
)
def test_why_not_text(bookable: bool, phrases: list[str], cell: str) -> None:
    assert slots.why_not_text(bookable, phrases) == cell


@pytest.mark.parametrize(
    ("instant", "zone", "text"),
    [
        pytest.param(datetime(2026, 12, 1, 16, 0, tzinfo=UTC), VIENNA, "Tue 1 Dec 17:00", id="in the zone, without the current year"),
        pytest.param(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), VIENNA, "Mon 4 Jan 2027 10:00", id="another year is named"),
        pytest.param(datetime(2026, 12, 1, 16, 0, tzinfo=UTC), ZoneInfo("America/New_York"), "Tue 1 Dec 11:00", id="another zone"),
        pytest.param(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), VIENNA, "Fri 1 Jan 2027 00:30", id="the local date decides the year"),
    ],
)
def test_moment(instant: datetime, zone: ZoneInfo, text: str) -> None:
    assert slots.moment(instant, zone, NOW) == text


@pytest.mark.parametrize(
    ("start", "end", "zone", "text"),
    [
        pytest.param("2026-12-01T18:00:00", "2026-12-01T19:30:00", VIENNA, "Tue 2026-12-01 18:00–19:30 CET", id="winter"),
        pytest.param("2027-03-28T18:00:00", "2027-03-28T19:30:00", VIENNA, "Sun 2027-03-28 18:00–19:30 CEST", id="the evening of the spring change"),
        pytest.param("2027-03-28T01:30:00", "2027-03-28T03:30:00", VIENNA, "Sun 2027-03-28 01:30 CET–03:30 CEST", id="the clocks change during it"),
        pytest.param("2026-12-01T23:30:00", "2026-12-02T00:30:00", VIENNA, "Tue 2026-12-01 23:30–Wed 2026-12-02 00:30 CET", id="ends the next day"),
        pytest.param("2026-12-01T18:00:00", "2026-12-01T19:00:00", ZoneInfo("UTC"), "Tue 2026-12-01 18:00–19:00 UTC", id="UTC"),
        pytest.param("garbage", "", VIENNA, "garbage–", id="unreadable text is shown as it came"),
    ],
)
def test_local_span(start: str, end: str, zone: ZoneInfo, text: str) -> None:
    assert slots.local_span(start, end, zone) == text


@pytest.mark.parametrize(
    ("remaining", "total", "text"),
    [pytest.param(3, 12, "3/12", id="open spots of capacity"), pytest.param(-2, 12, "0/12", id="overbooking clamped at 0")],
)
def test_spots(remaining: int, total: int, text: str) -> None:
    assert slots.spots(remaining, total) == text


@pytest.mark.parametrize(
    ("v", "first", "text"),
    [
        pytest.param(violations(earliest=NOW - timedelta(days=1), latest=CLOSED), None, "Mon 30 Nov 17:30 → Tue 1 Dec 17:00", id="both limits"),
        pytest.param(violations(latest=CLOSED), None, "any time → Tue 1 Dec 17:00", id="no early limit: any time"),
        pytest.param(
            violations(), NOW + timedelta(days=3), "any time → first session starts (Fri 4 Dec 17:30)", id="no late limit: until the first session starts"
        ),
        pytest.param(violations(), None, "any time → no sessions", id="no sessions at all"),
    ],
)
def test_booking_window(v: time_slots_pb2.BookingPolicyViolations, first: datetime | None, text: str) -> None:
    assert slots.booking_window(v, VIENNA, NOW, first) == text
