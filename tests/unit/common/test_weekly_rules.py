"""Weekly working-hours rules (services/common/weekly_rules.py; docs/appointments.md "Working
hours"): every bad field of a rule set named at once, overlapping rules named on the later one,
and a rule's occurrences as instants across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import InvalidArgument
from services.common.validation import Violations
from services.common.weekly_rules import WeeklyRule, rule_spans, weekly_rule_violations

MON, TUE = 1, 2


def rule(day: int, start: str, end: str, effective_from: date | None = None, effective_to: date | None = None) -> WeeklyRule:
    return WeeklyRule(day, time.fromisoformat(start), time.fromisoformat(end), effective_from, effective_to)


def violations_of(v: Violations) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as raised:
        v.raise_if_any()
    return [(x.field, x.description) for x in raised.value.violations]


def test_every_bad_rule_field_is_named_at_once() -> None:
    rules = [
        rule(MON, "09:00", "17:00"),
        rule(TUE, "12:00", "09:00"),
        rule(0, "09:00", "17:00"),
        rule(8, "10:00", "10:00"),
        rule(MON, "18:00", "19:00", date(2026, 6, 15), date(2026, 6, 14)),
    ]
    assert [field for field, _ in violations_of(weekly_rule_violations(rules))] == [
        "rules[1].end_time",
        "rules[2].day_of_week",
        "rules[3].day_of_week",
        "rules[3].end_time",
        "rules[4].effective_to",
    ]


def test_rule_violations_say_what_is_wrong() -> None:
    described = dict(violations_of(weekly_rule_violations([rule(0, "12:00", "09:00", date(2026, 6, 15), date(2026, 6, 1))])))
    assert described == {
        "rules[0].day_of_week": "must be between 1 (MONDAY) and 7 (SUNDAY)",
        "rules[0].end_time": "must be after start_time (a rule may not cross midnight)",
        "rules[0].effective_to": "must not be before effective_from",
    }


@pytest.mark.parametrize(
    "rules, expected",
    [
        pytest.param([rule(MON, "09:00", "12:00"), rule(MON, "11:00", "13:00")], ["rules[1]: overlaps rules[0] (09:00-12:00"], id="same-day-overlapping-times"),
        pytest.param([rule(MON, "09:00", "12:00"), rule(MON, "09:00", "12:00")], ["rules[1]: overlaps rules[0]"], id="a-duplicate-overlaps"),
        pytest.param([rule(MON, "09:00", "12:00"), rule(MON, "12:00", "17:00")], [], id="blocks-that-touch-do-not-overlap"),
        pytest.param([rule(MON, "09:00", "12:00"), rule(TUE, "09:00", "12:00")], [], id="the-same-times-on-another-day-are-fine"),
        pytest.param(
            [rule(MON, "09:00", "17:00", effective_to=date(2026, 6, 14)), rule(MON, "10:00", "14:00", effective_from=date(2026, 6, 15))],
            [],
            id="disjoint-effective-periods-do-not-overlap",
        ),
        pytest.param(
            [rule(MON, "09:00", "17:00", effective_to=date(2026, 6, 15)), rule(MON, "10:00", "14:00", effective_from=date(2026, 6, 15))],
            ["rules[1]: overlaps rules[0]"],
            id="effective-periods-sharing-one-date-overlap-inclusive",
        ),
        pytest.param(
            [rule(MON, "09:00", "17:00", effective_from=date(2026, 7, 1)), rule(MON, "10:00", "14:00")],
            ["rules[1]: overlaps rules[0]"],
            id="an-unbounded-period-overlaps-a-later-one",
        ),
        pytest.param(
            [rule(MON, "09:00", "11:00"), rule(MON, "12:00", "14:00"), rule(MON, "10:00", "13:00")],
            ["rules[2]: overlaps rules[0]", "rules[2]: overlaps rules[1]"],
            id="the-later-rule-is-named-once-per-earlier-rule-it-overlaps",
        ),
        pytest.param([rule(MON, "09:00", "12:00"), rule(MON, "11:00", "10:00")], ["rules[1].end_time: must be after"], id="a-bad-rule-is-not-also-an-overlap"),
    ],
)
def test_overlapping_rules_are_named_on_the_later_rule(rules: list[WeeklyRule], expected: list[str]) -> None:
    v = weekly_rule_violations(rules)
    found = [f"{field}: {description}" for field, description in violations_of(v)] if v else []
    assert len(found) == len(expected)
    assert all(text.startswith(prefix) for text, prefix in zip(found, expected, strict=True)), found


def test_rule_violations_join_a_requests_other_violations_under_its_field() -> None:
    v = Violations()
    v.id("schedule_id", "")
    weekly_rule_violations([rule(MON, "10:00", "09:00")], field="weekly_rules", violations=v)
    assert [field for field, _ in violations_of(v)] == ["schedule_id", "weekly_rules[0].end_time"]


@pytest.mark.parametrize(
    "zone, day, start, end, expected_utc",
    [
        pytest.param("America/New_York", date(2026, 3, 8), "09:00", "17:00", [("13:00", "21:00")], id="new-york-spring-forward-day-keeps-local-hours"),
        pytest.param("America/New_York", date(2026, 3, 7), "09:00", "17:00", [("14:00", "22:00")], id="new-york-the-day-before"),
        pytest.param("America/New_York", date(2026, 3, 8), "02:00", "03:00", [], id="a-rule-inside-the-gap-gives-nothing"),
        pytest.param("America/New_York", date(2026, 11, 1), "01:00", "02:00", [("05:00", "07:00")], id="across-the-fold-two-real-hours-from-the-first-01-00"),
        pytest.param("Europe/Berlin", date(2026, 10, 25), "09:00", "17:00", [("08:00", "16:00")], id="berlin-fall-back-day-keeps-local-hours"),
    ],
)
def test_a_rule_occurs_at_its_local_time_whatever_the_offset(zone: str, day: date, start: str, end: str, expected_utc: list[tuple[str, str]]) -> None:
    weekday_rule = rule(day.isoweekday(), start, end)
    spans = rule_spans([weekday_rule], ZoneInfo(zone), day, day)
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in spans] == expected_utc
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in spans)


def test_a_rule_occurs_only_on_its_weekday_inside_its_effective_dates() -> None:
    mondays = rule(MON, "09:00", "10:00", effective_from=date(2026, 6, 15), effective_to=date(2026, 6, 29))
    spans = rule_spans([mondays], ZoneInfo("UTC"), date(2026, 6, 1), date(2026, 7, 31))
    assert [s for s, _ in spans] == [datetime(2026, 6, d, 9, tzinfo=UTC) for d in (15, 22, 29)]
