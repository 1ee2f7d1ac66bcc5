"""The benchmark's rate sweep: past its planned rates it goes on only while the top one is sustained."""

from __future__ import annotations

import pytest

from bench.availability import extension
from bench.loadgen import StepResult

PLANNED = [50.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0]


def step(rate: float, *, p99_ms: float = 5.0, achieved: float | None = None, errors: int = 0) -> StepResult:
    return StepResult(
        "ListCourseEventTimeSlots",
        rate,
        15.0,
        2.0,
        scheduled=int(rate * 15),
        ok=int(rate * 15) - errors,
        errors=errors,
        achieved_rps=rate if achieved is None else achieved,
        p99_ms=p99_ms,
    )


def sweep_up_to(top: float, **last: object) -> list[StepResult]:
    return [step(r) for r in PLANNED if r < top] + [step(top, **last)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rates", "sweep", "max_rate", "expected"),
    [
        pytest.param(PLANNED, sweep_up_to(600), 2000, 700, id="every planned rate sustained: one step more, the same gap"),
        pytest.param([*PLANNED, 700.0, 800.0], [*sweep_up_to(600), step(700), step(800)], 2000, 900, id="an extension sustained: on again"),
        pytest.param(PLANNED, sweep_up_to(600, p99_ms=150.0), 2000, None, id="the top rate's p99 over 100 ms: stop"),
        pytest.param(PLANNED, sweep_up_to(600, achieved=560.0), 2000, None, id="the top rate answered behind: stop"),
        pytest.param(PLANNED, sweep_up_to(600, errors=3), 2000, None, id="errors at the top rate: stop"),
        pytest.param(PLANNED, sweep_up_to(500), 2000, None, id="the planned rates are not all measured yet"),
        pytest.param(PLANNED, sweep_up_to(600), 650, None, id="the next rate would pass --max-rate"),
        pytest.param(PLANNED, sweep_up_to(600), 700, 700, id="--max-rate itself is measured"),
        pytest.param(PLANNED, sweep_up_to(600), 0, None, id="--max-rate 0: no extension"),
        pytest.param([300.0], [step(300)], 2000, 600, id="one planned rate: the gap is the rate"),
        pytest.param(PLANNED, [], 2000, None, id="nothing measured"),
    ],
)
def test_sweep_extension(rates: list[float], sweep: list[StepResult], max_rate: float, expected: float | None) -> None:
    assert extension(rates, sweep, max_rate) == expected


def test_a_refined_step_below_a_saturated_top_does_not_extend() -> None:
    # 600 saturated, then the refinement at 550 was sustained: the top measured (600) decides.
    sweep = [*sweep_up_to(600, achieved=500.0), step(550)]
    assert extension(PLANNED, sorted(sweep, key=lambda st: st.rate), 2000) is None
