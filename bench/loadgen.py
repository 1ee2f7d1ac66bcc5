"""Open-loop load generation: requests leave on a fixed schedule whether or not earlier ones
have finished, and each latency is measured from the request's *scheduled* send time.

A closed-loop client (send, wait, send again) slows down with the server and so hides queueing:
at 400 requests/s a 50 ms stall delays 20 requests, and only the open loop charges those 20
requests for the wait (the "coordinated omission" problem). When the generator itself falls
behind its schedule the lag is charged to the latency too, and reported (`send_lag_p99_ms`), so
a slow generator can only make the figures worse, never better.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc

Call = Callable[[], Awaitable[Any]]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class StepResult:
    """One measured step: `rate` requests/s offered for `duration` seconds after `warmup` seconds."""

    label: str
    rate: float
    duration: float
    warmup: float
    scheduled: int = 0  # requests scheduled inside the measured window
    ok: int = 0
    errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    achieved_rps: float = 0.0  # ok responses / (window start .. last of them completed)
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p95_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    mean_ms: float = math.nan
    send_lag_p50_ms: float = math.nan  # how late the generator actually sent, vs. the schedule
    send_lag_p99_ms: float = math.nan
    generator_cpu_pct: float = math.nan  # this process's CPU (all threads), % of one core
    cpu_pct: dict[str, float] = field(default_factory=dict)  # per process group, % of one core
    switches: dict[str, int] = field(default_factory=dict)  # per process group, thread context switches (warm-up included)
    machine_busy_pct: float = math.nan  # all cores, 100 = every core busy
    foreign_cpu_pct: float = math.nan  # % of one core used by processes the bench did not start
    quiet_wait_s: float = 0.0  # waited this long for other processes to calm down first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def open_loop(
    call: Call,
    *,
    rate: float,
    duration: float,
    warmup: float = 0.0,
    label: str = "",
    timeout: float = 2.0,
    drain: float | None = None,
) -> StepResult:
    """Call `call()` `rate` times a second for `warmup + duration` seconds; measure the requests
    scheduled in the last `duration` seconds.

    `call` must raise on failure (a grpc.aio.AioRpcError is counted by its code) and should
    carry its own deadline of about `timeout`; outstanding requests are awaited up to `drain`
    seconds (default timeout + 1) after the last one was sent, the rest are cancelled and count
    as errors (CANCELLED_BY_BENCH).
    """
    # time.monotonic(), not loop.time(): uvloop's clock has millisecond resolution.
    loop = asyncio.get_running_loop()
    clock = time.monotonic
    interval = 1.0 / rate
    total = int(round((warmup + duration) * rate))
    first_measured = int(round(warmup * rate))
    latencies: list[float] = []
    lags: list[float] = []
    errors: dict[str, int] = {}
    last_done = 0.0
    pending: set[asyncio.Task[None]] = set()

    async def one(scheduled: float, measured: bool) -> None:
        nonlocal last_done
        sent = clock()
        try:
            await call()
        except asyncio.CancelledError:
            if measured:
                errors["CANCELLED_BY_BENCH"] = errors.get("CANCELLED_BY_BENCH", 0) + 1
            raise
        except grpc.aio.AioRpcError as exc:
            if measured:
                errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
            return
        except Exception as exc:  # noqa: BLE001 - any failure is an error of this step
            if measured:
                name = type(exc).__name__
                errors[name] = errors.get(name, 0) + 1
            return
        done = clock()
        if measured:
            latencies.append(done - scheduled)
            lags.append(sent - scheduled)
            last_done = max(last_done, done)

    cpu0, wall0 = time.process_time(), time.monotonic()
    start = clock() + 0.05
    window_start = start + first_measured * interval
    i = 0
    while i < total:
        now = clock()
        due = start + i * interval
        if due > now:
            await asyncio.sleep(due - now)
            continue
        # Everything due by now leaves at once (the generator may wake up late).
        while i < total and start + i * interval <= now:
            task = loop.create_task(one(start + i * interval, i >= first_measured))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
    if pending:
        _, still = await asyncio.wait(set(pending), timeout=drain if drain is not None else timeout + 1.0)
        for task in still:
            task.cancel()
        if still:
            await asyncio.gather(*still, return_exceptions=True)
    cpu1, wall1 = time.process_time(), time.monotonic()

    result = StepResult(label=label, rate=rate, duration=duration, warmup=warmup)
    result.scheduled = total - first_measured
    result.ok = len(latencies)
    result.errors = sum(errors.values())
    result.error_codes = errors
    if latencies:
        span = max(last_done - window_start, duration)
        result.achieved_rps = len(latencies) / span
        lat = sorted(x * 1000 for x in latencies)
        lag = sorted(x * 1000 for x in lags)
        result.p50_ms, result.p90_ms, result.p95_ms, result.p99_ms = (percentile(lat, q) for q in (50, 90, 95, 99))
        result.max_ms = lat[-1]
        result.mean_ms = sum(lat) / len(lat)
        result.send_lag_p50_ms, result.send_lag_p99_ms = percentile(lag, 50), percentile(lag, 99)
    result.generator_cpu_pct = 100.0 * (cpu1 - cpu0) / max(wall1 - wall0, 1e-9)
    return result


def sustained(step: StepResult, p99_limit_ms: float = 100.0) -> bool:
    """The issue's rule: achieved >= 98 % of the offered rate, no errors, p99 <= the limit."""
    return step.errors == 0 and step.ok > 0 and step.achieved_rps >= 0.98 * step.rate and step.p99_ms <= p99_limit_ms


def cpu_count() -> int:
    return os.cpu_count() or 1
