"""The rules of `make bench-appointments`, pure: the targets, what a step records, the sweep's
rates and capacity, and the order the booking population is booked in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from bench.loadgen import StepResult, sustained


@dataclass(frozen=True)
class Target:
    key: str  # slots | dates | booking: the sweep's name in the results
    rpc: str
    what: str  # the request, for the report
    rate: float
    p99_ms: float


# The targets (2-core machine). A step at the target's rate passes with p99 within it and
# no errors.
TARGETS = (
    Target("slots", "ListAvailabilityTimeSlots", "31 days from tomorrow 00:00, default page", 100.0, 20.0),
    Target("dates", "ListAvailabilityDates", "31 dates from tomorrow", 100.0, 30.0),
    Target("booking", "CreateBooking", "an appointment, a free slot of its own per request", 50.0, 60.0),
)
TARGET = {t.key: t for t in TARGETS}
SUSTAINED_P99_MS = 100.0  # the platform's sustained rule (bench/loadgen.py `sustained`), the same as bench-availability's


@dataclass
class Step(StepResult):
    """A step of bench/loadgen.py plus what CreateBooking refused because the slot was taken:
    those answers are in `ok` and the latencies (the server answered), not in `errors`."""

    slot_unavailable: int = 0


def as_step(result: StepResult, slot_unavailable: int = 0) -> Step:
    return Step(**{f.name: getattr(result, f.name) for f in fields(StepResult)}, slot_unavailable=slot_unavailable)


def passed(step: StepResult, target: Target) -> bool:
    return step.errors == 0 and step.p99_ms <= target.p99_ms


def collapsed(step: StepResult) -> bool:
    """Far past saturation: most requests failed or the server answered well under the offered rate."""
    return step.errors > 0.1 * max(step.scheduled, 1) or step.achieved_rps < 0.8 * step.rate


def highest_sustained(steps: Sequence[StepResult]) -> float:
    return max((s.rate for s in steps if sustained(s, SUSTAINED_P99_MS)), default=0.0)


def halfway(steps: Sequence[StepResult]) -> float | None:
    """The rate halfway between the highest sustained one and the next one tried (to 5/s), when
    that gap is wide enough to say something and the rate was not measured yet."""
    low = highest_sustained(steps)
    above = [s.rate for s in steps if s.rate > low]
    if not above:
        return None
    high = min(above)
    mid = round((low + high) / 2 / 5) * 5
    return float(mid) if low < mid < high and high - low > 20 and mid not in {s.rate for s in steps} else None


def planned_rates(rates: Sequence[float], target: Target) -> list[float]:
    """The sweep's rates, the target's always among them."""
    return sorted({*rates, target.rate})


def warmup(rate: float, warmup_seconds: float) -> float:
    # At low rates a second of warm-up is as many requests as two seconds at twice the rate.
    return min(warmup_seconds, 1.0) if rate <= 50 else warmup_seconds


def needed_bookings(rates: Sequence[float], warmup_seconds: float, step_seconds: float) -> int:
    """Requests the booking sweep may send at these rates: every step twice (a repeat when other
    processes took the machine, or the step halfway back) and the warm-up."""
    per_pass = sum(r * (warmup(r, warmup_seconds) + step_seconds) for r in rates)
    return int(2 * per_pass) + 200


@dataclass(frozen=True)
class PlannedBooking:
    start: Any  # google.protobuf.Timestamp, as the listing gave it
    end: Any
    staff_member_id: str  # "" = round robin


def booking_plan(slots: Sequence[tuple[Any, Any, Sequence[str]]]) -> list[PlannedBooking]:
    """Every free (slot, staff member) pair once, in an order where no request competes with
    another for a staff member's time (`slots`: start, end, the staff free then, in time order).

    The starts take turns: an even one is booked by round robin only (as many requests as staff
    members free, none naming one), an odd one by naming each free staff member once, so a named
    request never meets a round-robin one on the same time. The requests go in passes over all
    starts, one request per start and pass, so a start's next request comes a whole pass later
    (thousands of requests, many seconds even at the highest rate): its round robin then sees the
    earlier booking and picks another staff member. Within a pass, five named requests in a row
    name five different staff members, so consecutive holds do not queue for one schedule's lock
    in timeframes."""
    passes = max((len(free) for _, _, free in slots), default=0)
    plan = []
    for p in range(passes):
        for j, (start, end, free) in enumerate(slots):
            if p < len(free):
                plan.append(PlannedBooking(start, end, "" if j % 2 == 0 else free[(p + j) % len(free)]))
    return plan
