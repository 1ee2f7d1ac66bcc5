"""The pipeline benchmark's rules: percentiles over what was seen, the lag by thirds, when a step
keeps up, the sweep's knee and rates, the last-spot race's tally."""

from __future__ import annotations

import math

import pytest

from bench.pipeline_figures import (
    Pace,
    falling_behind,
    is_flat,
    knee,
    p50_counting_unseen,
    paired_ratios,
    spread,
    sweep_rates,
    tally,
    thirds,
)
from bench.pipeline_load import Drain, StepPlan
from bench.pipeline_watch import is_quiet
from bench.pipeline_world import shows

NAN = math.nan


def pace(rate: float, first: float = 100.0, last: float = 120.0, *, errors: int = 0, achieved: float | None = None, not_visible: int = 0) -> Pace:
    return Pace(rate, rate if achieved is None else achieved, errors, (first, (first + last) / 2, last), not_visible)


def test_a_spread_is_over_the_samples_seen_and_counts_the_others() -> None:
    s = spread([30.0, NAN, 10.0, 20.0, NAN])
    assert (s.samples, s.seen, s.unseen) == (5, 3, 2)
    assert (s.p50_ms, s.max_ms, s.min_ms) == (20.0, 30.0, 10.0)


def test_a_spread_of_nothing_seen_has_no_percentiles() -> None:
    s = spread([NAN, NAN])
    assert s.seen == 0 and math.isnan(s.p50_ms) and math.isnan(s.max_ms)


def test_negative_lags_are_counted() -> None:
    assert spread([-2.0, 5.0, 7.0]).negative == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([10.0, 20.0, 30.0, 40.0], 20.0, id="all seen: the plain p50"),
        pytest.param([10.0, 20.0, 30.0, NAN], 20.0, id="one unseen of four counts as the slowest: p50 unchanged"),
        pytest.param([10.0, 20.0, NAN, NAN], 20.0, id="half unseen: the nearest-rank p50 is still the slower seen one"),
        pytest.param([10.0, NAN, NAN], math.inf, id="most unseen: the p50 is beyond anything seen"),
    ],
)
def test_a_target_on_the_p50_counts_unseen_samples_as_slowest(values: list[float], expected: float) -> None:
    assert p50_counting_unseen(values) == expected


def test_thirds_split_by_commit_time_not_by_order_given() -> None:
    pairs = [(9.0, 900.0), (1.0, 100.0), (5.0, 500.0), (2.0, 200.0), (8.0, 800.0), (4.0, 400.0)]
    assert thirds(pairs) == [100.0, 400.0, 800.0]


def test_a_third_with_nothing_seen_has_no_p50() -> None:
    by_third = thirds([(1.0, 10.0), (2.0, 10.0), (3.0, NAN), (4.0, NAN), (5.0, 30.0), (6.0, 30.0)])
    assert by_third[0] == 10.0 and math.isnan(by_third[1]) and by_third[2] == 30.0


@pytest.mark.parametrize(
    ("by_third", "expected"),
    [
        pytest.param([100.0, 400.0, 150.0], True, id="last exactly 1.5x the first: flat (the middle does not count)"),
        pytest.param([100.0, 100.0, 151.0], False, id="last above 1.5x the first: grows"),
        pytest.param([100.0, 90.0, 40.0], True, id="falling is flat"),
        pytest.param([NAN, 100.0, 100.0], None, id="nothing seen in the first third: cannot tell"),
    ],
)
def test_flat_is_the_last_third_within_one_and_a_half_times_the_first(by_third: list[float], expected: bool | None) -> None:
    assert is_flat(by_third) is expected


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        pytest.param(pace(100, 100.0, 160.0), "the lag grows", id="lag grows"),
        pytest.param(pace(100, not_visible=3), "not visible", id="bookings not visible by the end of the drain"),
        pytest.param(pace(100, errors=2), "CreateBooking error", id="CreateBooking errors"),
        pytest.param(pace(100, NAN, 100.0), "no lag seen", id="nothing seen in the first third"),
    ],
)
def test_a_step_falls_behind_for_any_of_these_reasons(step: Pace, reason: str) -> None:
    reasons = falling_behind(step)
    assert len(reasons) == 1 and reason in reasons[0]


def test_a_flat_step_without_errors_keeps_up_even_when_its_answers_lag() -> None:
    # CreateBooking's own latency is a target of its own; the lag is counted from the commit.
    assert falling_behind(pace(100, achieved=90.0)) == []


@pytest.mark.parametrize(
    ("paces", "rate", "reached", "first_behind"),
    [
        pytest.param([pace(50), pace(100), pace(150), pace(200, 100.0, 400.0)], 150.0, True, 200.0, id="the last rate kept up with before the first not"),
        pytest.param([pace(300, 100.0, 400.0), pace(50), pace(100)], 100.0, True, 300.0, id="steps given out of order are sorted by rate"),
        pytest.param([pace(50), pace(100, errors=1), pace(150)], 50.0, True, 100.0, id="keeping up again above a failed rate does not count"),
        pytest.param([pace(50), pace(100)], 100.0, False, None, id="kept up everywhere: the knee lies above the top"),
        pytest.param([pace(50, not_visible=1)], None, True, 50.0, id="not even the lowest rate"),
        pytest.param([], None, False, None, id="nothing measured"),
    ],
)
def test_the_knee(paces: list[Pace], rate: float | None, reached: bool, first_behind: float | None) -> None:
    found = knee(paces)
    assert (found.rate, found.reached, found.first_behind) == (rate, reached, first_behind)


@pytest.mark.parametrize(
    ("planned", "step", "max_rate", "above", "expected"),
    [
        pytest.param([150, 200, 300, 400], 100, 600, 100, [150, 200, 300, 400, 500, 600], id="planned, then on by the step to the maximum"),
        pytest.param([150, 200, 300, 400], 100, 250, 100, [150, 200], id="the maximum cuts the planned rates"),
        pytest.param([150, 200, 300], 100, 1000, 200, [300, 400, 500, 600, 700, 800, 900, 1000], id="rates the main steps covered are left out"),
        pytest.param([300, 150, 150], 0, 1000, 0, [150, 300], id="no step: the planned rates only, once each, in order"),
        pytest.param([], 100, 300, 100, [200, 300], id="nothing planned: on from the main steps' top"),
    ],
)
def test_sweep_rates(planned: list[float], step: float, max_rate: float, above: float, expected: list[float]) -> None:
    assert sweep_rates(planned, step, max_rate, above) == expected


def test_the_race_tally() -> None:
    t = tally([1, 3, 1, 2], [0, -2, None, -1], ["FAILED_PRECONDITION/CAPACITY_EXCEEDED"] * 5 + ["UNAVAILABLE/-"])
    assert (t.rounds, t.winners_min, t.winners_median, t.winners_max) == (4, 1, 1.5, 3)
    assert t.distribution == {1: 2, 2: 1, 3: 1}
    assert t.exactly_one == 2
    assert t.lowest_remaining == -2
    assert t.refusals == {"FAILED_PRECONDITION/CAPACITY_EXCEEDED": 5, "UNAVAILABLE/-": 1}


def test_a_race_never_settled_has_no_lowest_remaining() -> None:
    assert tally([1], [None], []).lowest_remaining is None


def test_paired_ratios_are_per_round() -> None:
    assert paired_ratios([12.0, 9.0, NAN], [10.0, 9.0, 5.0])[:2] == [1.2, 1.0]
    assert math.isnan(paired_ratios([NAN], [1.0])[0])
    with pytest.raises(ValueError):
        paired_ratios([1.0], [1.0, 2.0])


@pytest.mark.parametrize(
    ("counts", "booked", "expected"),
    [
        pytest.param({"a": 3, "b": 3}, 3, True, id="every session shows the count"),
        pytest.param({"a": 4, "b": 3}, 3, True, id="more is visible too (counts only grow)"),
        pytest.param({"a": 3, "b": 2}, 3, False, id="one session behind"),
        pytest.param({"a": 3}, 3, False, id="a session missing from the answer"),
    ],
)
def test_a_booking_shows_when_every_session_it_books_counts_it(counts: dict[str, int], booked: int, expected: bool) -> None:
    assert shows(counts, ["a", "b"], booked) is expected


def sample(lags: dict[str, int | None], backlogs: dict[str, int | None]) -> dict[str, object]:
    return {"consumer_lag": lags, "outbox": {k: (None if v is None else {"backlog": v}) for k, v in backlogs.items()}}


@pytest.mark.parametrize(
    ("lags", "backlogs", "expected"),
    [
        pytest.param({"g1": 0, "g2": 0}, {"s": 0}, True, id="all groups at lag 0, outboxes empty"),
        pytest.param({"g1": 0, "g2": 1}, {"s": 0}, False, id="a group behind"),
        pytest.param({"g1": 0}, {"s": 2}, False, id="an outbox not empty"),
        pytest.param({"g1": None}, {"s": 0}, False, id="a group that could not be read is not quiet"),
        pytest.param({"g1": 0}, {"s": None}, False, id="an outbox that could not be read is not quiet"),
        pytest.param({}, {}, False, id="nothing read"),
    ],
)
def test_the_pipeline_is_quiet_when_every_group_is_at_lag_0_and_every_outbox_empty(
    lags: dict[str, int | None], backlogs: dict[str, int | None], expected: bool
) -> None:
    assert is_quiet(sample(lags, backlogs)) is expected


@pytest.mark.parametrize(
    ("all_visible_s", "quiet_s", "expected"),
    [
        pytest.param(0.4, 0.7, 0.7, id="visible, then quiet: drained when quiet"),
        pytest.param(0.0, 0.05, 0.05, id="visible before the load ended"),
        pytest.param(0.4, NAN, NAN, id="never quiet within the limit: not drained"),
        pytest.param(NAN, NAN, NAN, id="never all visible: not drained"),
    ],
)
def test_the_drain_ends_when_everything_is_visible_and_the_pipeline_quiet(all_visible_s: float, quiet_s: float, expected: float) -> None:
    drained = Drain(60.0, all_visible_s, quiet_s, 5.0).drained_s
    assert drained == expected or (math.isnan(drained) and math.isnan(expected))


def test_a_step_has_room_for_every_booking_on_every_session() -> None:
    plan = StepPlan("x", 400.0, 30.0, 3.0, 0.5, 10, 5000, 20.0, 1.0, 60.0, 5.0)
    assert plan.capacity() >= 400 * 33
    assert StepPlan("x", 10.0, 10.0, 3.0, 0.5, 10, 5000, 20.0, 1.0, 60.0, 5.0).capacity() == 5000
