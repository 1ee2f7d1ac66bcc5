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
