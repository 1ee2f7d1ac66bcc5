"""`make bench-pipeline`: how long a booking takes to show in availability, alone on a quiet
platform and under a steady stream of bookings, and what the pipeline between them (outbox ->
Kafka -> participations -> timeframes -> availability's cache invalidation) holds back meanwhile.
Everything is measured from outside: gRPC calls, read-only SQL on the outboxes, Kafka admin reads
of the consumer groups. Nothing depends on how the pipeline works inside.

    python -m bench.pipeline [--rate 50] [--second-rate 100] [--seconds 60] [--idle-samples 20] [--no-history] [--sweep] [--quick]

What it does, in this order (bench/README.md explains why):
1. starts its own Platform (embedded Postgres/Redis/Kafka + the four services) in a temp dir on
   free ports, as bench/availability.py does; creates a tenant with `course_availability_enabled`
   and `proxy_course_to_new_endpoint` on for it (allow lists); checks the pipeline once end to
   end (a booking of a class of its own must reach timeframes), so every consumer has its
   partitions before anything is measured. Every phase books services and sessions of its own,
   so no phase's counts mix with another's;
2. idle: with the platform quiet, `--idle-samples` single bookings of each kind, one at a time,
   taking turns: a CLASS booking (one session) and a whole-course booking of a 30-session COURSE.
   After each CreateBooking, availability is asked back to back (one call in flight;
   ListEventTimeSlots for the class, ListCourseEventTimeSlots for the course) until it shows the
   booking on every session it books. Before each booking the bench waits until every consumer
   group is at lag 0 and every outbox is empty;
3. the last-spot race, on the platform quiet still: a CLASS of capacity 1, a fresh session per
   round, `--race-bookings` CreateBooking (1 participant each) sent at once; winners counted,
   losers' refusals noted, and once timeframes counts the winners and the pipeline is quiet, the
   session's raw `remaining_capacity` (GetEvent; negative when overbooked). Twice: the service's
   `strict_capacity` off, then on (when this build's Service message has the field; else that
   half is reported as not available);
4. load: CreateBooking open loop (bench/loadgen.py) at `--rate` for `--seconds` after a warm-up,
   half whole-course bookings of a 30-session course, half bookings of a 10-session class (round
   robin); availability watched every `--poll-ms`, noting for every session when its booked count
   (total - remaining) first reached each level; every `--sample-seconds` the consumer lag of
   each group of the pipeline and the outbox backlog of each schema. After the load, the drain:
   from the end of the load until every booking is visible everywhere and, read back to back from
   then on, every consumer group is at lag 0 and every outbox empty (at most `--drain-seconds`).
   The same again at `--second-rate`;
5. what strict capacity costs CreateBooking: a strict and a plain class of the same shape, rounds
   of `--strict-seconds` at `--strict-rate` each, the order swapped every round (needs the field);
6. history: a COURSE of `--history-sessions` sessions (one a day) gets `--history-bookings`
   bookings of 1 participant through CreateBooking (`--history-in-flight` at once), the bench waits
   until every session shows them all and the pipeline is quiet, then measures single bookings of
   that course as in 2 (`--history-samples`); `--no-history` skips it;
7. `--sweep`: load steps of `--sweep-seconds` at rising rates until the pipeline no longer keeps
   up (bench/pipeline_figures.py, `falling_behind`); the knee is the highest rate it kept up with
   below the first it did not (none run when a main step already fell behind);
8. writes bench/results/pipeline.{md,json} and pipeline.png.

**Commit -> visible** of a booking = the first time availability shows it - its commit. The
commit time is the booking's `created_date` (Postgres `now()` in the inserting transaction, i.e.
its start: a few ms before the commit, so the lag is over- rather than underestimated), on the
same clock as the bench. "Shows it" = an answer whose booked count on the session, or on every
session of the course, includes it; the time is that answer's arrival, so the resolution is one
call (idle: back to back, the poll latency is reported) or one watcher period plus one call (load).
Under load, concurrent bookings of one session are told apart by count: after the step every
booking is read back (QueryBookings) and, per session, the k-th booking by `created_date` is
visible when the session's booked count first reached k; a course booking is visible when all
its sessions are. The platform and every helper process are stopped on exit, on an error, on
Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from bench import runtime
from bench.pipeline_figures import BASE_RATE, SECOND_RATE, Knee, falling_behind, knee, sweep_rates
from bench.pipeline_idle import History, SingleBookings, follow_singles, make_history, sighting_stats, until_all_visible
from bench.pipeline_load import Lab, StepPlan, run_step, step_figures
from bench.pipeline_race import last_spot_race, strict_cost
from bench.pipeline_watch import Sampler
from bench.pipeline_world import (
    COURSE_SESSIONS,
    Catalog,
    open_tenant,
    pipeline_check,
    slots_call,
    stored_bookings,
    strict_capacity_available,
    until_listed,
)
from bench.procstats import CpuMeter
from bench.stack import REPO, RESULTS, Ports, machine, make_platform, platform_cpu_meter, say

SWEEP_RATES = (150.0, 200.0, 300.0, 400.0)
SWEEP_STEP = 100.0  # past the planned rates, on by this much


@dataclass(frozen=True)
class Options:
    rate: float
    second_rate: float
    seconds: float
    warmup_seconds: float
    course_share: float
    class_sessions: int
    capacity: int
    poll_ms: float
    sample_seconds: float
    drain_seconds: float
    timeout: float
    idle_samples: int
    idle_timeout: float
    history: bool
    history_bookings: int
    history_sessions: int
    history_in_flight: int
    history_samples: int
    history_drain_seconds: float
    race_rounds: int
    race_bookings: int
    strict_rate: float
    strict_seconds: float
    strict_rounds: int
    sweep: bool
    sweep_rates: tuple[float, ...]
    sweep_max_rate: float
    sweep_seconds: float
    legacy_validation: bool
    quiet_threshold: float
    quiet_max_wait: float
    quick: bool
    out: Path
    keep: bool


def _rates(text: str) -> tuple[float, ...]:
    return tuple(float(r) for r in text.split(",") if r.strip())


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description="booking -> availability propagation benchmark")
    p.add_argument("--rate", type=float, default=BASE_RATE, help="CreateBooking requests/s of the first load step, open loop (default %(default)s)")
    p.add_argument("--second-rate", type=float, default=SECOND_RATE, help="...and of the second one (0: none; default %(default)s)")
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds of each load step (default %(default)s)")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="unmeasured seconds of load first (default %(default)s)")
    p.add_argument("--course-share", type=float, default=0.5, help="share of bookings for the course, the rest for class sessions (default %(default)s)")
    p.add_argument("--class-sessions", type=int, default=10, help="sessions of each load step's class (default %(default)s)")
    p.add_argument("--capacity", type=int, default=5000, help="capacity of every session of a load step, at least (default %(default)s)")
    p.add_argument("--poll-ms", type=float, default=20.0, help="period of each availability watcher under load (default %(default)s)")
    p.add_argument("--sample-seconds", type=float, default=1.0, help="period of the lag/backlog sampler (default %(default)s)")
    p.add_argument(
        "--drain-seconds", type=float, default=60.0, help="after each load step, wait at most this long for the pipeline to drain (default %(default)s)"
    )
    p.add_argument("--timeout", type=float, default=5.0, help="deadline of each CreateBooking under load, s (default %(default)s)")
    p.add_argument("--idle-samples", type=int, default=20, help="single bookings of each kind on the quiet platform (0: none; default %(default)s)")
    p.add_argument("--idle-timeout", type=float, default=30.0, help="follow a single booking at most this long, s (default %(default)s)")
    p.add_argument("--no-history", action="store_true", help="skip the history phase (a course with thousands of participations)")
    p.add_argument("--history-bookings", type=int, default=5000, help="bookings of the history course before it is measured (default %(default)s)")
    p.add_argument("--history-sessions", type=int, default=200, help="sessions of the history course, one a day (default %(default)s)")
    p.add_argument("--history-in-flight", type=int, default=50, help="history bookings in flight at once (default %(default)s)")
    p.add_argument("--history-samples", type=int, default=10, help="single bookings of the history course measured (default %(default)s)")
    p.add_argument("--history-drain-seconds", type=float, default=300.0, help="wait at most this long for the history to be visible and the pipeline quiet")
    p.add_argument("--race-rounds", type=int, default=20, help="rounds of the last-spot race per mode (0: no race; default %(default)s)")
    p.add_argument("--race-bookings", type=int, default=20, help="CreateBooking sent at once in each round (default %(default)s)")
    p.add_argument("--strict-rate", type=float, default=30.0, help="CreateBooking/s of each strict-cost round (default %(default)s)")
    p.add_argument("--strict-seconds", type=float, default=20.0, help="seconds per class per strict-cost round (default %(default)s)")
    p.add_argument("--strict-rounds", type=int, default=3, help="strict-cost rounds, each measuring both classes (0: none; default %(default)s)")
    p.add_argument("--sweep", action="store_true", help="after the main phases, raise the rate step by step until the pipeline no longer keeps up")
    p.add_argument("--sweep-rates", default=",".join(f"{r:.0f}" for r in SWEEP_RATES), help="the sweep's first rates (default %(default)s)")
    p.add_argument("--sweep-max-rate", type=float, default=1000.0, help=f"...then on by {SWEEP_STEP:.0f}/s up to this rate (default %(default)s)")
    p.add_argument("--sweep-seconds", type=float, default=30.0, help="measured seconds of each sweep step (default %(default)s)")
    p.add_argument(
        "--legacy-validation", action="store_true", help="leave proxy_course_to_new_endpoint off: CreateBooking validates with the legacy consistent read"
    )
    p.add_argument("--quiet-threshold", type=float, default=25.0, help="before each phase, wait until other processes use less than this %% of a core")
    p.add_argument("--quiet-max-wait", type=float, default=30.0, help="...but at most this many seconds (default %(default)s)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of every phase: 3 idle samples, 10/s and 20/s for 10 s, 3 race rounds, a 20-booking history, "
        "sweep steps of 5 s at 30 and 40/s if --sweep",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="where the report goes (default bench/results)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data) after a successful run")
    a = p.parse_args(argv)
    if not 0.0 <= a.course_share <= 1.0:
        p.error("--course-share must be within 0..1")
    opts = Options(
        rate=a.rate,
        second_rate=a.second_rate,
        seconds=a.seconds,
        warmup_seconds=a.warmup_seconds,
        course_share=a.course_share,
        class_sessions=max(1, a.class_sessions),
        capacity=a.capacity,
        poll_ms=a.poll_ms,
        sample_seconds=a.sample_seconds,
        drain_seconds=a.drain_seconds,
        timeout=a.timeout,
        idle_samples=max(0, a.idle_samples),
        idle_timeout=a.idle_timeout,
        history=not a.no_history,
        history_bookings=max(0, a.history_bookings),
        history_sessions=max(1, a.history_sessions),
        history_in_flight=max(1, a.history_in_flight),
        history_samples=max(0, a.history_samples),
        history_drain_seconds=a.history_drain_seconds,
        race_rounds=max(0, a.race_rounds),
        race_bookings=max(2, a.race_bookings),
        strict_rate=a.strict_rate,
        strict_seconds=a.strict_seconds,
        strict_rounds=max(0, a.strict_rounds),
        sweep=a.sweep,
        sweep_rates=_rates(a.sweep_rates),
        sweep_max_rate=a.sweep_max_rate,
        sweep_seconds=a.sweep_seconds,
        legacy_validation=a.legacy_validation,
        quiet_threshold=a.quiet_threshold,
        quiet_max_wait=a.quiet_max_wait,
        quick=a.quick,
        out=a.out,
        keep=a.keep,
    )
    return shortened(opts) if a.quick else opts


def shortened(o: Options) -> Options:
    """--quick: every phase, each a few seconds."""
    return replace(
        o,
        rate=10.0,
        second_rate=20.0 if o.second_rate else 0.0,
        seconds=10.0,
        drain_seconds=15.0,
        idle_samples=min(o.idle_samples, 3),
        idle_timeout=min(o.idle_timeout, 15.0),
        history_bookings=min(o.history_bookings, 20),
        history_samples=min(o.history_samples, 2),
        history_drain_seconds=min(o.history_drain_seconds, 90.0),
        race_rounds=min(o.race_rounds, 3),
        strict_seconds=5.0,
        strict_rounds=min(o.strict_rounds, 2),
        sweep_rates=(30.0, 40.0),
        sweep_max_rate=40.0,
        sweep_seconds=5.0,
        quiet_max_wait=min(o.quiet_max_wait, 10.0),
    )


def step_plan(opts: Options, label: str, rate: float, seconds: float) -> StepPlan:
    return StepPlan(
        label=label,
        rate=rate,
        seconds=seconds,
        warmup_seconds=opts.warmup_seconds,
        course_share=opts.course_share,
        class_sessions=opts.class_sessions,
        min_capacity=opts.capacity,
        poll_ms=opts.poll_ms,
        sample_seconds=opts.sample_seconds,
        drain_seconds=opts.drain_seconds,
        timeout=opts.timeout,
    )


# --- the phases -------------------------------------------------------------------------------------------


async def idle_phase(lab: Lab, probe: Sampler, opts: Options) -> dict[str, Any]:
    klass = await lab.catalog.offering("class", "Bench idle class", sessions=1, capacity=opts.idle_samples + 100)
    course = await lab.catalog.offering("course", "Bench idle course", sessions=COURSE_SESSIONS, capacity=opts.idle_samples + 100)
    singles = []
    for offering in (klass, course):
        call = slots_call(lab.availability, lab.tenant, offering)
        await until_listed(call, offering)
        singles.append(SingleBookings(lab.bookings, lab.tenant, offering, call, offering.kind, opts.idle_timeout))
    foreign, _ = await lab.meter.wait_quiet(lab.quiet_threshold, lab.quiet_max_wait)
    snap0 = lab.meter.snapshot()
    sightings = await follow_singles(singles, opts.idle_samples, probe, lab.quiet_max_wait, "idle")
    usage = CpuMeter.percent(snap0, lab.meter.snapshot())
    return {
        "sightings": sightings,
        "stats": {kind: sighting_stats(kind, sightings) for kind in ("class", "course")},
        "sessions": {"class": 1, "course": len(course.event_ids)},
        "foreign_cpu_pct": {"before": foreign, "during": usage.foreign_pct},
    }


async def history_phase(lab: Lab, probe: Sampler, opts: Options) -> dict[str, Any]:
    capacity = max(6000, opts.history_bookings + opts.history_samples + 1000)
    course = await lab.catalog.offering("course", "Bench history course", sessions=opts.history_sessions, capacity=capacity)
    call = slots_call(lab.availability, lab.tenant, course, timeout=10.0)
    history = History(sessions=len(course.event_ids), asked=opts.history_bookings)
    first = await until_listed(call, course)
    history.one_page = len(first.time_slots) == len(course.event_ids) and not first.paging_metadata.has_next
    say(
        f"history: a course of {history.sessions} sessions (listed in one answer: {history.one_page}); "
        f"{history.asked} bookings, {opts.history_in_flight} in flight"
    )
    await make_history(lab.bookings, lab.tenant, course, history, opts.history_in_flight)
    history.stored = len(await stored_bookings(lab.bookings, lab.tenant, [course.service_id]))
    say(f"history: {history.stored} bookings stored in {history.booking_s:.0f} s ({history.errors or 'no errors'}); waiting for the pipeline")
    began = time.time()
    history.visible_s = await until_all_visible(call, course, history.stored, opts.history_drain_seconds)
    quiet = await probe.until_quiet(max(1.0, opts.history_drain_seconds - (time.time() - began)))
    history.quiet = quiet.as_dict()
    shown = f"every session shows {history.stored} after {history.visible_s:.1f} s" if not math.isnan(history.visible_s) else "NOT every session shows them"
    say(f"history: {shown}; pipeline {quiet.describe()}")
    # The same course shape without any history, measured the same way: what the history costs is
    # the difference between the two, whatever the session count costs the read.
    control = await lab.catalog.offering("course", "Bench control course", sessions=opts.history_sessions, capacity=capacity)
    control_call = slots_call(lab.availability, lab.tenant, control, timeout=10.0)
    await until_listed(control_call, control)
    async with grpc.aio.insecure_channel(lab.stack.address("timeframes")) as timeframes:
        single = SingleBookings(lab.bookings, lab.tenant, course, call, "history", opts.idle_timeout, timeframes=timeframes)
        single.booked = history.stored
        fresh = SingleBookings(lab.bookings, lab.tenant, control, control_call, "control", opts.idle_timeout, timeframes=timeframes)
        sightings = await follow_singles([single, fresh], opts.history_samples, probe, lab.quiet_max_wait, "history")
    return {"history": history, "sightings": sightings, "stats": sighting_stats("history", sightings), "control": sighting_stats("control", sightings)}


async def race_phase(lab: Lab, probe: Sampler, opts: Options) -> dict[str, Any]:
    out: dict[str, Any] = {"strict_available": strict_capacity_available(), "rounds": opts.race_rounds, "bookings": opts.race_bookings}
    for mode, strict in (("plain", False), ("strict", True)):
        if strict and not out["strict_available"]:
            out[mode] = None
            continue
        out[mode] = await last_spot_race(lab, probe, strict=strict, rounds=opts.race_rounds, contenders=opts.race_bookings, settle_limit=opts.idle_timeout)
    return out


async def strict_cost_phase(lab: Lab, probe: Sampler, opts: Options) -> dict[str, Any]:
    if not strict_capacity_available():
        return {"skipped": "bookings.catalog.v1.Service has no `strict_capacity` field in this build"}
    await probe.until_quiet(lab.quiet_max_wait * 4)
    return await strict_cost(lab, rate=opts.strict_rate, seconds=opts.strict_seconds, rounds=opts.strict_rounds, timeout=opts.timeout)


async def sweep_phase(lab: Lab, opts: Options, main_records: list[dict[str, Any]]) -> dict[str, Any]:
    paces = [step_figures(r).pace for r in main_records]
    records: list[dict[str, Any]] = []
    # Past a rate the pipeline did not keep up with, no step can move the knee.
    main_behind = min((p.rate for p in paces if falling_behind(p)), default=None)
    top = max((p.rate for p in paces), default=0.0)
    planned = sweep_rates(opts.sweep_rates, SWEEP_STEP, opts.sweep_max_rate, above=top)
    if main_behind is not None:
        say(f"sweep: not run, the pipeline did not keep up at {main_behind:.0f}/s already")
    for rate in planned if main_behind is None else []:
        record = await run_step(lab, step_plan(opts, f"sweep {rate:.0f}/s", rate, opts.sweep_seconds))
        records.append(record)
        behind = step_figures(record).behind
        say(f"sweep {rate:.0f}/s: " + ("keeps up" if not behind else "falls behind: " + "; ".join(behind)))
        if behind:
            break
    found: Knee = knee([*paces, *(step_figures(r).pace for r in records)])
    return {"planned": planned, "skipped_behind": main_behind, "records": records, "knee": found}


Phase = Callable[[], Awaitable[Any]]


async def guarded(name: str, phase: Phase, failures: dict[str, str]) -> Any:
    """A phase that fails is reported as failed; the phases after it still run."""
    try:
        return await phase()
    except Exception as exc:  # noqa: BLE001 - the report says which phase failed and why
        failures[name] = f"{type(exc).__name__}: {exc}"
        say(f"{name} failed: {failures[name]}")
        traceback.print_exc()
        return None


async def run(stack: Any, opts: Options) -> dict[str, Any]:
    tenant = await open_tenant(stack, opts.legacy_validation)
    catalog = Catalog(stack, tenant)
    say(f"tenant {tenant.id}")
    check_s = await pipeline_check(stack, tenant, catalog)
    say(f"pipeline check: a class booking reached timeframes in {check_s * 1000:.0f} ms")
    bookings, availability = grpc.aio.insecure_channel(stack.address("bookings")), grpc.aio.insecure_channel(stack.address("availability"))
    lab = Lab(stack, tenant, catalog, bookings, availability, platform_cpu_meter(stack), opts.quiet_threshold, opts.quiet_max_wait)
    probe = await Sampler(stack, name="probe").start()
    failures: dict[str, str] = {}
    results: dict[str, Any] = {"tenant": {"id": tenant.id, "toggles": tenant.toggles}, "pipeline_check_ms": check_s * 1000, "failures": failures}
    try:
        if opts.idle_samples:
            results["idle"] = await guarded("idle", lambda: idle_phase(lab, probe, opts), failures)
        if opts.race_rounds:
            results["race"] = await guarded("race", lambda: race_phase(lab, probe, opts), failures)
        steps = [(f"{r:.0f}/s", r) for r in dict.fromkeys([opts.rate, opts.second_rate]) if r > 0]
        results["steps"] = []
        for label, rate in steps:
            record = await guarded(f"load {label}", lambda label=label, rate=rate: run_step(lab, step_plan(opts, label, rate, opts.seconds)), failures)
            if record is not None:
                results["steps"].append(record)
        if opts.strict_rounds:
            results["strict_cost"] = await guarded("strict cost", lambda: strict_cost_phase(lab, probe, opts), failures)
        if opts.history:
            results["history"] = await guarded("history", lambda: history_phase(lab, probe, opts), failures)
        if opts.sweep:
            results["sweep"] = await guarded("sweep", lambda: sweep_phase(lab, opts, results["steps"]), failures)
    finally:
        await probe.close()
        await bookings.close()
        await availability.close()
    return results


# --- entry point ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    from bench import pipeline_report  # matplotlib is imported late: the measurement does not need it

    began = time.monotonic()
    started_at = datetime.now(UTC)
    stack = make_platform(Path(tempfile.mkdtemp(prefix="bench-pipeline-")), Ports())
    outcome = runtime.on_platform(stack, lambda s: run(s, opts), keep=opts.keep, say=say)
    if outcome is None:
        return 130
    results, platform_seconds = outcome
    results["meta"] = {
        **runtime.meta("bench.pipeline", argv, opts, started_at=started_at, began=began, platform_seconds=platform_seconds),
        "machine": machine(),
    }
    paths = pipeline_report.write(results, opts.out)
    say(f"done in {results['meta']['duration_s']:.0f} s: " + ", ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in paths))
    print(pipeline_report.summary(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
