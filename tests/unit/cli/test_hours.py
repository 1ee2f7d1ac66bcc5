"""What the working-hours commands (services/cli/hours.py) make of what a person types, before
anything is called: `--rule` strings, the rules of one call with their effective dates, and local
date-times in a zone, DST included. Pure: no server."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.cli.context import CliError, local_instant
from services.cli.hours import RuleError, local_period, parse_rule, rule_argument, rule_of_proto, rule_to_proto, weekly_rules
from services.cli.timeseries import zone
from services.common.weekly_rules import WeeklyRule

VIENNA = zone("Europe/Vienna")
NEW_YORK = zone("America/New_York")


def spans(text: str) -> list[tuple[int, str, str]]:
    return [(r.day_of_week, f"{r.start:%H:%M}", f"{r.end:%H:%M}") for r in parse_rule(text).rules]


# --- --rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("mon-fri 09:00-17:00", [(d, "09:00", "17:00") for d in range(1, 6)], id="a range of days"),
        pytest.param("sat 10:00-14:00", [(6, "10:00", "14:00")], id="one day"),
        pytest.param("mon,wed,fri 9:00-12:30", [(1, "09:00", "12:30"), (3, "09:00", "12:30"), (5, "09:00", "12:30")], id="a list of days; H:MM"),
        pytest.param("fri-mon 10:00-12:00", [(d, "10:00", "12:00") for d in (5, 6, 7, 1)], id="wraps past Sunday"),
        pytest.param(
            "Tuesday 08:00-12:00,13:00-16:00", [(2, "08:00", "12:00"), (2, "13:00", "16:00")], id="full day name, two spans (a lunch break) in the order typed"
        ),
        pytest.param("MON-TUE  09:00 - 17:00", [(1, "09:00", "17:00"), (2, "09:00", "17:00")], id="case and spaces in the hours do not matter"),
        pytest.param("sun 09:00–13:00", [(7, "09:00", "13:00")], id="an en dash is a dash"),
        pytest.param("mon-wed,tue 09:00-10:00", [(1, "09:00", "10:00"), (2, "09:00", "10:00"), (3, "09:00", "10:00")], id="a day named twice counts once"),
        pytest.param("sat 00:00-23:59", [(6, "00:00", "23:59")], id="the whole day"),
    ],
)
def test_a_rule_is_one_weekly_rule_per_day_and_span(text: str, expected: list[tuple[int, str, str]]) -> None:
    assert spans(text) == expected
    assert parse_rule(text).text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("mon-fry 09:00-17:00", "unknown day 'fry'", id="unknown day"),
        pytest.param("weekdays 09:00-17:00", "unknown day 'weekdays'", id="no such day name"),
        pytest.param("mon-fri", "expected days and hours", id="no hours"),
        pytest.param("09:00-17:00", "expected days and hours", id="no days"),
        pytest.param("mon 9-17", "'9' is not a time; use HH:MM", id="hours without minutes"),
        pytest.param("mon 09:00", "is not a span of hours", id="a time, not a span"),
        pytest.param("mon 17:00-09:00", "the end must be after the start (a rule may not cross midnight)", id="end before start"),
        pytest.param("mon 09:00-09:00", "the end must be after the start", id="empty span"),
        pytest.param("mon 22:00-24:00", "there is no 24:00; the latest end of a day is 23:59", id="24:00"),
        pytest.param("mon 09:00-17:60", "'17:60' is not a time of day", id="minute 60"),
        pytest.param("mon 25:00-26:00", "'25:00' is not a time of day", id="hour 25"),
        pytest.param("mon,,tue 09:00-10:00", "unknown day ''", id="an empty day in a list"),
    ],
)
def test_a_bad_rule_says_why(text: str, message: str) -> None:
    with pytest.raises(RuleError) as raised:
        parse_rule(text)
    assert message in str(raised.value)


def test_the_argparse_type_names_the_rule_as_typed() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"^'mon 17:00-09:00': '17:00-09:00': the end must be after the start"):
        rule_argument("mon 17:00-09:00")


# --- the rules of one call ----------------------------------------------------------------------------------


def test_the_effective_dates_apply_to_every_rule_of_the_call() -> None:
    rules = weekly_rules([parse_rule("mon-tue 09:00-17:00"), parse_rule("sat 10:00-14:00")], date(2027, 1, 1), date(2027, 3, 31))

    assert [(r.day_of_week, r.effective_from, r.effective_to) for r in rules] == [
        (1, date(2027, 1, 1), date(2027, 3, 31)),
        (2, date(2027, 1, 1), date(2027, 3, 31)),
        (6, date(2027, 1, 1), date(2027, 3, 31)),
    ]


def test_added_rules_come_after_the_current_ones_and_may_share_a_day_in_another_period() -> None:
    current = [WeeklyRule(1, time(9), time(17), None, date(2026, 12, 31))]

    rules = weekly_rules([parse_rule("mon 10:00-18:00")], date(2027, 1, 1), None, current)

    assert rules == [current[0], WeeklyRule(1, time(10), time(18), date(2027, 1, 1), None)]


@pytest.mark.parametrize(
    ("given", "current", "message"),
    [
        pytest.param(
            ["mon-fri 09:00-17:00", "tue 12:00-13:00"],
            [],
            "--rule 'tue 12:00-13:00' (Tuesday 12:00-13:00): overlaps --rule 'mon-fri 09:00-17:00' (09:00-17:00 on the same day while both are in effect)",
            id="two rules of the call on one day",
        ),
        pytest.param(
            ["wed 09:00-12:00,11:00-13:00"],
            [],
            "--rule 'wed 09:00-12:00,11:00-13:00' (Wednesday 11:00-13:00): overlaps --rule 'wed 09:00-12:00,11:00-13:00'",
            id="two spans of one rule",
        ),
        pytest.param(
            ["mon 08:00-10:00"],
            [WeeklyRule(1, time(9), time(17))],
            "--rule 'mon 08:00-10:00' (Monday 08:00-10:00): overlaps the current rule Monday 09:00-17:00",
            id="--add over a current rule",
        ),
    ],
)
def test_overlapping_rules_are_refused_by_their_text(given: list[str], current: list[WeeklyRule], message: str) -> None:
    with pytest.raises(CliError) as refused:
        weekly_rules([parse_rule(t) for t in given], None, None, current)
    assert message in str(refused.value)


def test_touching_rules_are_fine() -> None:
    assert len(weekly_rules([parse_rule("mon 09:00-12:00,12:00-17:00")], None, None)) == 2


def test_an_end_date_before_the_start_date_is_refused() -> None:
    with pytest.raises(CliError, match=r"--to: 2027-01-01 is before --from 2027-01-02"):
        weekly_rules([parse_rule("mon 09:00-17:00")], date(2027, 1, 2), date(2027, 1, 1))


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(WeeklyRule(3, time(8, 30), time(12)), id="unbounded"),
        pytest.param(WeeklyRule(7, time(0), time(23, 59), date(2027, 1, 1), date(2027, 6, 30)), id="both dates"),
    ],
)
def test_rules_go_to_the_wire_and_back_unchanged(rule: WeeklyRule) -> None:
    message = rule_to_proto(rule)
    assert (message.start_time, message.end_time) == (f"{rule.start:%H:%M}", f"{rule.end:%H:%M}")
    assert rule_of_proto(message) == rule
    assert rule_of_proto(hours_pb2.WeeklyRule(day_of_week=2, start_time="09:00", end_time="17:00")).effective_from is None


# --- local date-times ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz", "expected"),
    [
        pytest.param(datetime(2026, 12, 24, 9, 0), VIENNA, datetime(2026, 12, 24, 8, 0, tzinfo=UTC), id="winter: CET is UTC+1"),
        pytest.param(datetime(2027, 7, 1, 9, 0), VIENNA, datetime(2027, 7, 1, 7, 0, tzinfo=UTC), id="summer: CEST is UTC+2"),
        pytest.param(datetime(2027, 3, 28, 3, 0), VIENNA, datetime(2027, 3, 28, 1, 0, tzinfo=UTC), id="right after the spring gap"),
        pytest.param(datetime(2026, 10, 25, 2, 30), VIENNA, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), id="the fall-back hour: its first occurrence"),
        pytest.param(datetime(2026, 11, 1, 1, 30), NEW_YORK, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), id="New York's fall-back hour: still EDT"),
    ],
)
def test_a_local_date_time_is_read_in_the_zone(local: datetime, tz: ZoneInfo, expected: datetime) -> None:
    assert local_instant(local, tz, "--start") == expected


@pytest.mark.parametrize(
    ("local", "tz", "option"),
    [
        pytest.param(datetime(2027, 3, 28, 2, 30), VIENNA, "--start", id="Vienna's spring gap"),
        pytest.param(datetime(2027, 3, 14, 2, 0), NEW_YORK, "--end", id="New York's spring gap, named by the option"),
    ],
)
def test_a_time_in_the_spring_gap_is_refused_naming_the_option(local: datetime, tz: ZoneInfo, option: str) -> None:
    with pytest.raises(CliError) as refused:
        local_instant(local, tz, option)
    assert str(refused.value).startswith(f"{option}: {local:%Y-%m-%dT%H:%M} does not exist in {tz.key}")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2026-12-24T09:00", "2026-12-24T13:00", (datetime(2026, 12, 24, 9), datetime(2026, 12, 24, 13)), id="date-times as typed"),
        pytest.param("2026-12-24", "2026-12-24", (datetime(2026, 12, 24), datetime(2026, 12, 25)), id="a bare --end date includes that day"),
        pytest.param("2026-12-24 09:00", "2026-12-27", (datetime(2026, 12, 24, 9), datetime(2026, 12, 28)), id="a space for the T; through the 27th"),
    ],
)
def test_start_and_end_are_a_local_period(start: str, end: str, expected: tuple[datetime, datetime]) -> None:
    assert local_period(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        pytest.param("2026-12-24T13:00", "2026-12-24T09:00", "--end: '2026-12-24T09:00' must be after --start '2026-12-24T13:00'", id="end before start"),
        pytest.param("2026-12-24T09:00", "2026-12-24T09:00", "--end: '2026-12-24T09:00' must be after --start", id="empty"),
        pytest.param("2026-12-24T09:00+01:00", "2026-12-24T13:00", "--start: '2026-12-24T09:00+01:00' has a UTC offset", id="an offset"),
        pytest.param("2026-12-24T09:00", "tomorrow", "--end: 'tomorrow' is not a local date-time", id="not a date-time"),
    ],
)
def test_a_bad_period_names_the_option(start: str, end: str, message: str) -> None:
    with pytest.raises(CliError) as refused:
        local_period(start, end)
    assert str(refused.value).startswith(message)
