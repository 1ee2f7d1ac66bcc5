"""The pipeline benchmark's rules and figures, pure: percentiles over what was seen, the lag by
thirds of a run, "does the pipeline keep up at this rate", the sweep's knee, the last-spot race's
tally. bench/pipeline.py measures; this decides what the measurements say."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bench.loadgen import percentile

# The targets ("capacity in milliseconds").
IDLE_P50_MS = 50.0  # a single booking on a quiet platform: commit -> visible, p50, class and course alike
BASE_RATE = 50.0  # the first load step
BASE_CREATE_P99_MS = 60.0  # CreateBooking p99 at the first step's rate
BASE_LAG_P50_MS = 50.0  # every booking -> all its sessions at the first step's rate, p50
BASE_LAG_P99_MS = 250.0  # ... and p99
DRAIN_S = 1.0  # from the end of the load until everything is visible and every consumer group is at lag 0
SECOND_RATE = 100.0  # the second load step
SECOND_LAG_P99_MS = 1000.0  # every booking -> all its sessions, p99, at the second step's rate
GOAL_RATE = 300.0  # the longer-term goal: the lag still flat at this rate
FLAT_FACTOR = 1.5  # flat: the last third's p50 is at most this many times the first third's


@dataclass(frozen=True)
class Spread:
    """Percentiles of lags (ms) over the samples that were seen; NaN values are samples not seen."""

    samples: int
    seen: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    min_ms: float
    negative: int  # below 0: visible before the commit instant, which only attribution by count can produce

    @property
    def unseen(self) -> int:
        return self.samples - self.seen


def spread(values: Iterable[float]) -> Spread:
    every = list(values)
    seen = sorted(v for v in every if not math.isnan(v))
    return Spread(
        samples=len(every),
        seen=len(seen),
        p50_ms=percentile(seen, 50),
        p90_ms=percentile(seen, 90),
        p95_ms=percentile(seen, 95),
        p99_ms=percentile(seen, 99),
        max_ms=seen[-1] if seen else math.nan,
        min_ms=seen[0] if seen else math.nan,
        negative=sum(1 for v in seen if v < 0),
    )


def p50_counting_unseen(values: Iterable[float]) -> float:
    """The p50 with every sample not seen counted as slower than any seen (math.inf when those are
    half or more): what a target on the p50 is judged by, so unseen samples cannot flatter it."""
    ordered = sorted(math.inf if math.isnan(v) else v for v in values)
    return percentile(ordered, 50)


def thirds(lags_by_time: Sequence[tuple[float, float]]) -> list[float]:
    """p50 of the lag in each third of the run: (commit time, lag ms) pairs, split by commit time
    into three parts of (nearly) equal count; each p50 over the part's bookings that were seen."""
    ordered = [lag for _, lag in sorted(lags_by_time, key=lambda pair: pair[0])]
    n = len(ordered)
    parts = [ordered[i * n // 3 : (i + 1) * n // 3] for i in range(3)]
    return [percentile(sorted(v for v in part if not math.isnan(v)), 50) for part in parts]


def is_flat(by_third: Sequence[float], factor: float = FLAT_FACTOR) -> bool | None:
    """The lag does not grow over the run: the last third's p50 <= factor x the first third's.
    None when either third has nothing seen."""
    first, last = by_third[0], by_third[-1]
    if math.isnan(first) or math.isnan(last):
        return None
    return last <= factor * first


@dataclass(frozen=True)
class Pace:
    """What one load step says about the pipeline at its rate."""

    rate: float
    achieved_rps: float  # reported, not judged: a slow answer does not delay the commit the lag starts from
    create_errors: int
    lag_by_third_ms: tuple[float, float, float]
    not_visible: int  # bookings not visible everywhere by the end of the drain

    @property
    def flat(self) -> bool | None:
        return is_flat(self.lag_by_third_ms)


def falling_behind(pace: Pace) -> list[str]:
    """Why the pipeline did not keep up at this rate (empty: it did). The sweep's stop rule."""
    reasons = []
    first, _, last = pace.lag_by_third_ms
    if pace.flat is False:
        reasons.append(f"the lag grows: last third p50 {last:.0f} ms > {FLAT_FACTOR}× the first third's {first:.0f} ms")
    elif pace.flat is None:
        reasons.append("no lag seen in the first or the last third")
    if pace.not_visible:
        reasons.append(f"{pace.not_visible} booking(s) not visible everywhere by the end of the drain")
    if pace.create_errors:
        reasons.append(f"{pace.create_errors} CreateBooking error(s)")
    return reasons


@dataclass(frozen=True)
class Knee:
    rate: float | None  # the highest rate at which the pipeline kept up, below the first rate where it did not
    reached: bool  # False: it kept up at every rate tried, so the knee lies above `rate`
    first_behind: float | None  # the lowest rate at which it did not keep up


def knee(paces: Sequence[Pace]) -> Knee:
    """Rates in increasing order; the knee is the last rate kept up with before the first one that
    was not (a later step that happens to keep up again does not count)."""
    best: float | None = None
    for pace in sorted(paces, key=lambda p: p.rate):
        if falling_behind(pace):
            return Knee(best, True, pace.rate)
        best = pace.rate
    return Knee(best, False, None)


def sweep_rates(planned: Sequence[float], step: float, max_rate: float, above: float = 0.0) -> list[float]:
    """The sweep's rates: the planned ones above `above` (the main steps' top), then on by `step`
    up to `max_rate` inclusive."""
    rates = sorted(r for r in set(planned) if above < r <= max_rate)
    top = max([above, *rates])
    while step > 0 and top + step <= max_rate:
        top += step
        rates.append(top)
    return rates


@dataclass(frozen=True)
class RaceTally:
    """The last-spot race over its rounds: one session of capacity 1, many bookings at once."""

    rounds: int
    winners_min: int
    winners_median: float
    winners_max: int
    distribution: dict[int, int]  # winners -> rounds
    exactly_one: int  # rounds with exactly one winner
    lowest_remaining: int | None  # the lowest raw remaining capacity seen after settling (negative: overbooked)
    refusals: dict[str, int] = field(default_factory=dict)  # "CODE/REASON" -> losers


def tally(winners: Sequence[int], remaining: Sequence[int | None], refusals: Iterable[str]) -> RaceTally:
    if not winners:
        return RaceTally(0, 0, math.nan, 0, {}, 0, None, dict(Counter(refusals)))
    known = [r for r in remaining if r is not None]
    return RaceTally(
        rounds=len(winners),
        winners_min=min(winners),
        winners_median=statistics.median(winners),
        winners_max=max(winners),
        distribution=dict(sorted(Counter(winners).items())),
        exactly_one=sum(1 for w in winners if w == 1),
        lowest_remaining=min(known) if known else None,
        refusals=dict(Counter(refusals).most_common()),
    )


def paired_ratios(variant: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Per round, the variant's figure over the baseline's of the same round."""
    if len(variant) != len(baseline):
        raise ValueError(f"{len(variant)} rounds against {len(baseline)}: each round measures both")
    return [v / b if b and not math.isnan(v) and not math.isnan(b) else math.nan for v, b in zip(variant, baseline, strict=True)]


def median(values: Iterable[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return statistics.median(known) if known else math.nan


def at_most(value: float, limit: float) -> bool | None:
    """A target's verdict: None when nothing was measured."""
    return None if value is None or math.isnan(value) else value <= limit
