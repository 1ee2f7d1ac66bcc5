"""The series of the demo tenant loader (services/devstack/demo.py): pure date arithmetic, no
server. Loading them into the real services is tested in tests/integration/test_demo.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.cli import timeseries
from services.devstack import demo

VIENNA = timeseries.zone("Europe/Vienna")


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), id="morning: today's 18:00 is the next session"),
        pytest.param(datetime(2026, 12, 1, 17, 30, tzinfo=UTC), id="evening, today's session has started: tomorrow's is next"),
        pytest.param(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), id="series across spring forward"),
        pytest.param(datetime(2026, 10, 30, 12, 0, tzinfo=UTC), id="past sessions in summer time, next in winter time"),
    ],
)
def test_course_series_is_ten_weekly_18_00_sessions_two_of_them_past(now: datetime) -> None:
    series = demo.course_series(now)

    assert len(series) == 10
    assert [o.start < now for o in series] == [True, True] + [False] * 8
    assert {o.start.astimezone(VIENNA).strftime("%a %H:%M") for o in series} == {series[0].start.astimezone(VIENNA).strftime("%a 18:00")}
    assert all(o.end - o.start == timedelta(minutes=90) for o in series)
    assert series[2].start - now <= timedelta(days=1)


def test_course_series_starts_14_days_before_today_when_run_before_18_00() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert demo.course_series(now)[0].local == datetime(2026, 11, 17, 18, 0)


def test_class_series_is_daily_07_30_for_14_days_from_today() -> None:
    now = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)  # already 21 March in Vienna
    series = demo.class_series(now)

    assert [o.local.date().isoformat() for o in (series[0], series[-1])] == ["2026-03-21", "2026-04-03"]
    assert len(series) == 14
    assert {o.start.astimezone(VIENNA).strftime("%H:%M") for o in series} == {"07:30"}
    assert all(o.end - o.start == timedelta(minutes=60) for o in series)


# --- the clinic ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "holiday"),
    [
        pytest.param(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), "2026-12-22", id="Monday: the Tuesday two weeks later"),
        pytest.param(datetime(2026, 12, 10, 9, 0, tzinfo=UTC), "2026-12-24", id="Thursday: the Thursday two weeks later"),
        pytest.param(datetime(2026, 12, 12, 9, 0, tzinfo=UTC), "2026-12-29", id="Saturday: past the weekend and Monday, to the next Tuesday"),
        pytest.param(datetime(2026, 12, 12, 23, 30, tzinfo=UTC), "2026-12-29", id="the local date in Vienna decides (already Sunday)"),
    ],
)
def test_the_clinic_holiday_is_a_day_all_three_doctors_work_two_weeks_ahead(now: datetime, holiday: str) -> None:
    day = demo.holiday_date(now)

    assert day.isoformat() == holiday
    assert all(day.isoweekday() in d.days for d in demo.DOCTORS)


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), id="winter"),
        pytest.param(datetime(2027, 3, 24, 9, 0, tzinfo=UTC), id="the week the clocks change"),
        pytest.param(datetime(2026, 12, 11, 9, 0, tzinfo=UTC), id="a Friday: the weekend is skipped"),
    ],
)
def test_the_time_off_is_a_working_afternoon_a_week_ahead_before_the_holiday(now: datetime) -> None:
    start, end = demo.time_off_span(now)

    local_start, local_end = start.astimezone(VIENNA), end.astimezone(VIENNA)
    assert (f"{local_start:%H:%M}", f"{local_end:%H:%M}") == ("12:00", "16:00") and local_start.date() == local_end.date()
    assert local_start.isoweekday() <= 5
    assert timedelta(days=6) < start - now < timedelta(days=10)
    assert local_start.date() < demo.holiday_date(now)


def test_the_doctors_weekly_rules() -> None:
    ana, _, chiara = demo.DOCTORS

    assert [(r.day_of_week, r.start_time, r.end_time) for r in demo.weekly_rules(ana)] == [(d, "08:00", "16:00") for d in range(1, 6)]
    assert [(r.day_of_week, r.start_time, r.end_time) for r in demo.weekly_rules(chiara)] == [(d, "10:00", "18:00") for d in range(2, 7)]
