"""Working hours' commands (calendar.working_hours.v1): every bad field is reported by its proto
path, all of a request's at once; the rules' own checks are services/common/weekly_rules.py's
(tests/unit/common), here only as far as their paths keep each rule's index in the request."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import InvalidArgument
from services.common.weekly_rules import WeeklyRule
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.working_hours import (
    MAX_RULES,
    MAX_WORKING_HOURS_SCHEDULES,
    SpanInput,
    WeeklyRuleInput,
    local_dates,
    validate_delete,
    validate_exceptions_range,
    validate_new_holiday,
    validate_new_span,
    validate_set_weekly_rules,
    validate_working_hours_query,
)
from tests.unit.timeframes.helpers import SCHEDULE_ID, T0, violations_of, wire

RULE = WeeklyRuleInput(day_of_week=1, start_time="09:00", end_time="17:00")
EARLIEST = WireTimestamp(-2208988800, 0)  # 1900-01-01T00:00:00Z
END_OF_INSTANTS = WireTimestamp(32503680000, 0)  # 3000-01-01T00:00:00Z


def rule(**changes: object) -> WeeklyRuleInput:
    return dataclasses.replace(RULE, **changes)  # type: ignore[arg-type]


# --- SetWeeklyRules ------------------------------------------------------------------------------


def test_valid_rules_are_parsed_as_given() -> None:
    command = validate_set_weekly_rules(
        SCHEDULE_ID,
        [rule(), rule(day_of_week=7, start_time="00:00", end_time="23:59", effective_from="2031-01-01", effective_to="2031-12-31")],
    )
    assert command.schedule_id == SCHEDULE_ID
    assert command.rules == [
        WeeklyRule(1, time(9), time(17)),
        WeeklyRule(7, time(0), time(23, 59), date(2031, 1, 1), date(2031, 12, 31)),
    ]


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param([], id="no-rules-clears-the-week"),
        pytest.param([rule(start_time="09:00", end_time="12:00"), rule(start_time="12:00", end_time="17:00")], id="touching-rules"),
        pytest.param([rule(effective_to="2031-03-01"), rule(effective_from="2031-03-02")], id="same-hours-in-successive-periods"),
        pytest.param([rule(effective_from="2031-03-01", effective_to="2031-03-01")], id="a-one-day-period"),
        pytest.param([rule(day_of_week=d) for d in range(1, 8)], id="every-day-of-the-week"),
        pytest.param([rule(start_time=f"{h:02d}:00", end_time=f"{h:02d}:30") for h in range(24)], id="many-rules-of-one-day"),
        pytest.param(
            [rule(day_of_week=1 + i % 7, effective_from=f"{2031 + i // 7}-01-01", effective_to=f"{2031 + i // 7}-12-31") for i in range(MAX_RULES)],
            id="50-rules",
        ),
    ],
)
def test_rule_sets_within_the_rules_are_accepted(rules: list[WeeklyRuleInput]) -> None:
    assert len(validate_set_weekly_rules(SCHEDULE_ID, rules).rules) == len(rules)


@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"start_time": ""}, "rules[0].start_time", id="start-time-is-required"),
        pytest.param({"end_time": ""}, "rules[0].end_time", id="end-time-is-required"),
        pytest.param({"start_time": "9:00"}, "rules[0].start_time", id="hours-have-two-digits"),
        pytest.param({"start_time": "24:00"}, "rules[0].start_time", id="hour-24-is-not-a-time"),
        pytest.param({"end_time": "17:60"}, "rules[0].end_time", id="minute-60-is-not-a-time"),
        pytest.param({"end_time": "17:00:00"}, "rules[0].end_time", id="seconds-are-not-taken"),
        pytest.param({"end_time": "５:00"}, "rules[0].end_time", id="only-ascii-digits"),
        pytest.param({"end_time": "08:00"}, "rules[0].end_time", id="end-before-start"),
        pytest.param({"end_time": "09:00"}, "rules[0].end_time", id="end-equal-to-start"),
        pytest.param({"day_of_week": 0}, "rules[0].day_of_week", id="day-0-is-unspecified"),
        pytest.param({"day_of_week": 8}, "rules[0].day_of_week", id="day-8-does-not-exist"),
        pytest.param({"effective_from": "2031-02-30"}, "rules[0].effective_from", id="no-february-30"),
        pytest.param({"effective_from": "2031-3-1"}, "rules[0].effective_from", id="dates-have-padded-fields"),
        pytest.param({"effective_to": "0000-01-01"}, "rules[0].effective_to", id="year-0-is-not-a-date"),
        pytest.param({"effective_to": "20310301"}, "rules[0].effective_to", id="basic-format-is-not-taken"),
        pytest.param({"effective_from": "2031-03-02", "effective_to": "2031-03-01"}, "rules[0].effective_to", id="period-ends-before-it-starts"),
    ],
)
def test_each_bad_rule_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_set_weekly_rules(SCHEDULE_ID, [rule(**changes)])
    assert set(violations_of(exc)) == {field}


@pytest.mark.parametrize(
    "schedule_id", [pytest.param("", id="required"), pytest.param("schedule-1", id="not-a-uuid"), pytest.param(str(uuid.uuid4()) + "0", id="too-long")]
)
def test_the_schedule_id_must_be_a_uuid(schedule_id: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_set_weekly_rules(schedule_id, [rule()])
    assert set(violations_of(exc)) == {"schedule_id"}


def test_every_bad_field_of_every_rule_is_named_at_once_with_its_index_in_the_request() -> None:
    rules = [
        rule(start_time="9"),  # 0: bad text
        rule(start_time="10:00", end_time="11:00"),  # 1: fine
        rule(day_of_week=9, effective_to="soon"),  # 2: bad text and bad day
        rule(start_time="10:30", end_time="12:00"),  # 3: overlaps rules[1]
        rule(end_time="08:00"),  # 4: end before start
    ]
    with pytest.raises(InvalidArgument) as exc:
        validate_set_weekly_rules("nope", rules)
    violations = violations_of(exc)
    assert set(violations) == {
        "schedule_id",
        "rules[0].start_time",
        "rules[2].day_of_week",
        "rules[2].effective_to",
        "rules[3]",
        "rules[4].end_time",
    }
    assert "rules[1]" in violations["rules[3]"]


def test_more_than_50_rules_are_refused_as_a_whole() -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_set_weekly_rules(SCHEDULE_ID, [rule()] * (MAX_RULES + 1))
    assert set(violations_of(exc)) == {"rules"}


def test_beyond_50_rules_each_rules_own_bad_fields_are_still_named() -> None:
    rules = [rule()] * MAX_RULES + [rule(start_time="9"), rule(end_time="08:00"), rule(day_of_week=0)]
    with pytest.raises(InvalidArgument) as exc:
        validate_set_weekly_rules(SCHEDULE_ID, rules)
    assert set(violations_of(exc)) == {"rules", "rules[50].start_time", "rules[51].end_time", "rules[52].day_of_week"}


# --- time off and extra hours --------------------------------------------------------------------

SPAN = SpanInput(start=wire(T0), end=wire(T0 + timedelta(hours=2)), reason="dentist")


@pytest.mark.parametrize("field", ["time_off", "extra_hours"])
def test_a_valid_span_is_kept(field: str) -> None:
    new = validate_new_span(SCHEDULE_ID, field, SPAN)
    assert (new.schedule_id, new.start, new.end, new.reason) == (SCHEDULE_ID, T0, T0 + timedelta(hours=2), "dentist")


@pytest.mark.parametrize(
    "span",
    [
        pytest.param(dataclasses.replace(SPAN, reason=""), id="reason-is-optional"),
        pytest.param(dataclasses.replace(SPAN, reason="r" * 500), id="reason-of-500-characters"),
        pytest.param(SpanInput(EARLIEST, END_OF_INSTANTS), id="the-whole-instant-range"),
        pytest.param(SpanInput(wire(T0), WireTimestamp(wire(T0).seconds, 1000)), id="one-microsecond"),
    ],
)
def test_boundary_spans_are_accepted(span: SpanInput) -> None:
    validate_new_span(SCHEDULE_ID, "time_off", span)


@pytest.mark.parametrize(
    "span, fields",
    [
        pytest.param(dataclasses.replace(SPAN, start=None), {"time_off.start"}, id="start-is-required"),
        pytest.param(dataclasses.replace(SPAN, end=None), {"time_off.end"}, id="end-is-required"),
        pytest.param(dataclasses.replace(SPAN, end=SPAN.start), {"time_off.end"}, id="end-equal-to-start"),
        pytest.param(dataclasses.replace(SPAN, end=wire(T0 - timedelta(minutes=1))), {"time_off.end"}, id="end-before-start"),
        pytest.param(dataclasses.replace(SPAN, start=WireTimestamp(EARLIEST.seconds - 1, 0)), {"time_off.start"}, id="start-before-1900"),
        pytest.param(dataclasses.replace(SPAN, end=WireTimestamp(END_OF_INSTANTS.seconds, 1)), {"time_off.end"}, id="end-after-3000"),
        pytest.param(dataclasses.replace(SPAN, start=WireTimestamp(0, -1)), {"time_off.start"}, id="negative-nanos"),
        pytest.param(dataclasses.replace(SPAN, reason="r" * 501), {"time_off.reason"}, id="reason-longer-than-500"),
        pytest.param(SpanInput(None, None, "r" * 501), {"time_off.start", "time_off.end", "time_off.reason"}, id="all-at-once"),
    ],
)
def test_each_bad_span_field_is_named(span: SpanInput, fields: set[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_span(SCHEDULE_ID, "time_off", span)
    assert set(violations_of(exc)) == fields


def test_extra_hours_are_named_as_extra_hours() -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_span("x", "extra_hours", SpanInput(None, None))
    assert set(violations_of(exc)) == {"schedule_id", "extra_hours.start", "extra_hours.end"}


# --- holidays and deletes ------------------------------------------------------------------------


def test_a_valid_holiday_is_kept() -> None:
    new = validate_new_holiday(SCHEDULE_ID, "2031-12-25", "Christmas")
    assert (new.schedule_id, new.local_date, new.reason) == (SCHEDULE_ID, date(2031, 12, 25), "Christmas")


@pytest.mark.parametrize(
    "local_date, reason, fields",
    [
        pytest.param("", "", {"holiday.local_date"}, id="date-is-required"),
        pytest.param("2031-13-01", "", {"holiday.local_date"}, id="month-13"),
        pytest.param("25.12.2031", "", {"holiday.local_date"}, id="not-iso"),
        pytest.param("2031-12-25T00:00", "", {"holiday.local_date"}, id="a-date-time-is-not-a-date"),
        pytest.param("2031-12-25", "r" * 501, {"holiday.reason"}, id="reason-longer-than-500"),
    ],
)
def test_each_bad_holiday_field_is_named(local_date: str, reason: str, fields: set[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_holiday(SCHEDULE_ID, local_date, reason)
    assert set(violations_of(exc)) == fields


@pytest.mark.parametrize("field", ["time_off_id", "extra_hours_id", "holiday_id"])
def test_a_delete_names_both_bad_ids(field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_delete("", field, "not-an-id")
    assert set(violations_of(exc)) == {"schedule_id", field}


# --- ListExceptions ------------------------------------------------------------------------------


def test_a_range_of_366_days_is_accepted() -> None:
    query = validate_exceptions_range(SCHEDULE_ID, wire(T0), wire(T0 + timedelta(days=366)))
    assert (query.start, query.end) == (T0, T0 + timedelta(days=366))


@pytest.mark.parametrize(
    "start, end, fields",
    [
        pytest.param(None, wire(T0), {"from"}, id="from-is-required"),
        pytest.param(wire(T0), None, {"to"}, id="to-is-required"),
        pytest.param(wire(T0), wire(T0), {"to"}, id="empty-range"),
        pytest.param(wire(T0), wire(T0 - timedelta(seconds=1)), {"to"}, id="to-before-from"),
        pytest.param(wire(T0), wire(T0 + timedelta(days=366, microseconds=1)), {"to"}, id="longer-than-366-days"),
        pytest.param(WireTimestamp(EARLIEST.seconds - 1, 0), wire(T0), {"from"}, id="from-before-1900"),
        pytest.param(wire(T0), WireTimestamp(END_OF_INSTANTS.seconds + 1, 0), {"to"}, id="to-after-3000"),
    ],
)
def test_each_bad_range_field_is_named(start: WireTimestamp | None, end: WireTimestamp | None, fields: set[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_exceptions_range(SCHEDULE_ID, start, end)
    assert set(violations_of(exc)) == fields


# --- ListWorkingHours ----------------------------------------------------------------------------

IDS = [str(uuid.uuid4()) for _ in range(MAX_WORKING_HOURS_SCHEDULES + 1)]


def test_a_query_keeps_the_schedules_in_request_order_over_up_to_400_days() -> None:
    ids = IDS[:MAX_WORKING_HOURS_SCHEDULES]
    query = validate_working_hours_query(ids, wire(T0), wire(T0 + timedelta(days=400)))
    assert (query.schedule_ids, query.start, query.end) == (ids, T0, T0 + timedelta(days=400))


@pytest.mark.parametrize(
    "schedule_ids, start, end, fields",
    [
        pytest.param([], wire(T0), wire(T0 + timedelta(days=1)), {"schedule_ids"}, id="a-schedule-is-required"),
        pytest.param(IDS, wire(T0), wire(T0 + timedelta(days=1)), {"schedule_ids"}, id="more-than-50-schedules"),
        pytest.param(["nope"], wire(T0), wire(T0 + timedelta(days=1)), {"schedule_ids[0]"}, id="not-a-uuid"),
        pytest.param([IDS[0], ""], wire(T0), wire(T0 + timedelta(days=1)), {"schedule_ids[1]"}, id="an-empty-id"),
        pytest.param([IDS[0], IDS[1], IDS[0]], wire(T0), wire(T0 + timedelta(days=1)), {"schedule_ids[2]"}, id="a-repeated-id-names-the-repeat"),
        pytest.param([IDS[0]], None, wire(T0), {"from"}, id="from-is-required"),
        pytest.param([IDS[0]], wire(T0), None, {"to"}, id="to-is-required"),
        pytest.param([IDS[0]], wire(T0), wire(T0), {"to"}, id="empty-range"),
        pytest.param([IDS[0]], wire(T0), wire(T0 + timedelta(days=400, microseconds=1)), {"to"}, id="longer-than-400-days"),
        pytest.param([IDS[0]], WireTimestamp(-2208988801, 0), wire(T0), {"from"}, id="from-before-1900"),
        pytest.param(["x", IDS[0], IDS[0]], None, None, {"schedule_ids[0]", "schedule_ids[2]", "from", "to"}, id="all-at-once"),
    ],
)
def test_each_bad_query_field_is_named(schedule_ids: list[str], start: WireTimestamp | None, end: WireTimestamp | None, fields: set[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_working_hours_query(schedule_ids, start, end)
    assert set(violations_of(exc)) == fields


@pytest.mark.parametrize(
    "start, end, zone, dates",
    [
        pytest.param(T0, T0 + timedelta(hours=1), "UTC", (date(2030, 3, 1), date(2030, 3, 1)), id="within-a-day"),
        pytest.param(T0, datetime(2030, 3, 2, tzinfo=UTC), "UTC", (date(2030, 3, 1), date(2030, 3, 1)), id="the-end-is-excluded"),
        pytest.param(T0, T0 + timedelta(hours=1), "Pacific/Kiritimati", (date(2030, 3, 1), date(2030, 3, 1)), id="ahead-of-utc"),
        pytest.param(T0 + timedelta(hours=10), T0 + timedelta(hours=11), "Pacific/Kiritimati", (date(2030, 3, 2), date(2030, 3, 2)), id="next-day-ahead"),
        pytest.param(T0, T0 + timedelta(hours=1), "Pacific/Pago_Pago", (date(2030, 2, 28), date(2030, 2, 28)), id="previous-day-behind"),
    ],
)
def test_local_dates_are_those_the_half_open_range_touches_in_the_zone(start: datetime, end: datetime, zone: str, dates: tuple[date, date]) -> None:
    assert local_dates(start, end, ZoneInfo(zone)) == dates
