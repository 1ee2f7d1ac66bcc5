"""`make bench-availability`: ListCourseEventTimeSlots under open-loop load, through real gRPC
with the whole platform running, plus the fan-out ratio and the distance to a bare gRPC floor.

    python -m bench.availability [--rates 50,100,...] [--step-seconds 15] [--no-profile] [--quick]

What it does (bench/README.md explains why):
1. starts its own Platform (embedded Postgres/Redis/Kafka + the four services) in a temp dir on
   free ports, exactly as the tests do; creates a tenant, a COURSE with 30 sessions over 31
   days, switches `course_availability_enabled` on for that tenant (allow list) and warms up;
2. low rate (20/s): availability's p50, and the p50 of a bare grpc.aio fan-out to four no-ops
   (bench/floor.py) -> the distance to the floor;
3. fan-out: four delaying TCP proxies (bench/delay_proxy.py, calibrated to +20 ms per read), a second
   availability instance reading every dependency through them with its cache off, and the
   old sequential client flow (bench/legacy_flow.py) through the same proxies;
4. the rate sweep (open loop, bench/loadgen.py), CPU per process per step; at the first rate
   not sustained, one step halfway back and a profiling step with py-spy attached to
   availability and timeframes (at the saturation rate unless --profile-rate says otherwise);
6. writes bench/results/availability.{md,json} and availability-latency.png.
The platform and every helper process are stopped on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio as aioredis

from bench import floor, profiling, runtime, trace_timeline
from bench.legacy_flow import SequentialCourseClient
from bench.loadgen import StepResult, open_loop, percentile, sustained
from bench.procstats import CpuMeter
from bench.stack import REPO, RESULTS, ZONE, Ports, local_date, machine, make_platform, say, start_helper, timestamp, wait_healthy, wait_port
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2, booking_policy_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.adapters.toggles import set_rule
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, ToggleRule
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE, mint_token
from services.devstack.otlp import OtlpReceiver
from services.devstack.stack import Platform

DEFAULT_RATES = (50, 100, 200, 300, 400, 500, 600)
FLOOR_RATES = (200, 400)
MAX_RETRIES = 3  # sweep steps measured again because other processes used the machine
SESSIONS = 30
DAYS = 31
# Targets of the issue (2-core machine).
TARGET_P99_AT_200_MS = 30.0
TARGET_SUSTAINED_RPS = 400
SUSTAINED_P99_MS = 100.0
TARGET_FANOUT_RATIO = 1.3
TARGET_FLOOR_RATIO = 2.0
DEPENDENCIES = ("services", "policies", "events", "time_frames")
ADDRESS_ENV = {"services": "SERVICES_ADDRESS", "policies": "POLICY_PROVIDER_ADDRESS", "events": "EVENTS_ADDRESS", "time_frames": "TIME_FRAMES_ADDRESS"}
HOST_OF = {"services": "bookings", "policies": "bookings", "events": "timeframes", "time_frames": "timeframes"}
PROXY_CHECK_CALLS = 50
CALIBRATION_ROUNDS = 3
IDLE_SECONDS = 5.0


@dataclass(frozen=True)
class Options:
    rates: tuple[float, ...]
    step_seconds: float
    warmup_seconds: float
    low_rate: float
    low_seconds: float
    delay_ms: float
    timeout: float
    profile_rate: float  # 0: no profile; -1: auto
    profile_seconds: float
    quiet_threshold: float
    quiet_max_wait: float
    out: Path
    keep: bool
    availability_workers: int
    warm_rate: float
    ratio_rounds: int
    trace_requests: int
    max_rate: float  # the sweep goes on past its last rate while that is sustained, up to this (0: not)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.availability", description="ListCourseEventTimeSlots latency benchmark")
    parser.add_argument("--rates", default=",".join(str(r) for r in DEFAULT_RATES), help="offered rates, requests/s (default %(default)s)")
    parser.add_argument(
        "--max-rate",
        type=float,
        default=2000.0,
        help="while the sweep's last rate is sustained, go on with higher rates (the same step) up to this one (0: not; default %(default)s)",
    )
    parser.add_argument("--step-seconds", type=float, default=15.0, help="measured seconds per rate (default %(default)s)")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="unmeasured seconds at each rate first (default %(default)s)")
    parser.add_argument("--low-rate", type=float, default=20.0, help="rate of the ratio measurements (default %(default)s)")
    parser.add_argument("--warm-rate", type=float, default=100.0, help="the fan-out ratio again at this rate (0: not; default %(default)s)")
    parser.add_argument("--low-seconds", type=float, default=10.0, help="seconds of each ratio measurement (default %(default)s)")
    parser.add_argument(
        "--ratio-rounds",
        type=int,
        default=3,
        help="the fan-out pair (delayed, direct) measured this many times, alternating; the ratio is the median round's (default %(default)s)",
    )
    parser.add_argument(
        "--trace-requests",
        type=int,
        default=200,
        help="uncached requests traced span by span at the low rate, for where their time goes (0: none; default %(default)s)",
    )
    parser.add_argument("--delay-ms", type=float, default=20.0, help="delay each proxied dependency adds (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=2.0, help="deadline of each request, s (default %(default)s)")
    parser.add_argument(
        "--profile-rate",
        default="auto",
        help="rate of the py-spy step: a number, or 'auto' (default) = the highest rate of the sweep still answered at >= 95 %% of the offered rate",
    )
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiling step")
    parser.add_argument("--quiet-threshold", type=float, default=25.0, help="before each step, wait until other processes use less than this %% of a core")
    parser.add_argument("--quiet-max-wait", type=float, default=10.0, help="...but at most this many seconds (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s steps at 50,200 rps, short ratio phases")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the report goes (default bench/results)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data) after a successful run")
    parser.add_argument(
        "--availability-workers",
        type=int,
        default=2,
        help="GRPC_WORKERS of the availability service in the rate sweep: processes sharing its port, one per core (default %(default)s)",
    )
    a = parser.parse_args(argv)
    rates = tuple(float(r) for r in a.rates.split(",") if r.strip())
    step, low_seconds, profile_seconds, ratio_rounds = a.step_seconds, a.low_seconds, a.profile_seconds, max(1, a.ratio_rounds)
    trace_requests, max_rate = max(0, a.trace_requests), max(0.0, a.max_rate)
    if a.quick:
        rates, step, low_seconds, profile_seconds, ratio_rounds = (50.0, 200.0), 3.0, 4.0, 3.0, 1
        trace_requests, max_rate = min(trace_requests, 40), 0.0
    return Options(
        rates=rates,
        step_seconds=step,
        warmup_seconds=a.warmup_seconds,
        low_rate=a.low_rate,
        low_seconds=low_seconds,
        delay_ms=a.delay_ms,
        timeout=a.timeout,
        profile_rate=0.0 if a.no_profile else (-1.0 if a.profile_rate == "auto" else float(a.profile_rate)),
        profile_seconds=profile_seconds,
        quiet_threshold=a.quiet_threshold,
        quiet_max_wait=a.quiet_max_wait,
        out=a.out,
        keep=a.keep,
        availability_workers=a.availability_workers,
        warm_rate=a.warm_rate,
        ratio_rounds=ratio_rounds,
        trace_requests=trace_requests,
        max_rate=max_rate,
    )


# --- the platform and helper processes ---------------------------------------------------------------


def uncached_availability_env(stack: Platform, port: int, dependency_addresses: dict[str, str]) -> dict[str, str]:
    """The environment of one more availability process, on `port`, with its cache off (all four
    reads on every request) and one worker: it stands for one request's path at a low rate, not
    for throughput. `dependency_addresses` (dependency -> host:port) replaces where it reads."""
    env = stack.service_env("availability")
    env.update({"GRPC_PORT": str(port), "AVAILABILITY_CACHE_ENABLED": "false", "GRPC_WORKERS": "1"})
    env.update({ADDRESS_ENV[dep]: address for dep, address in dependency_addresses.items()})
    return env


# --- the course under test --------------------------------------------------------------------------


@dataclass
class Course:
    tenant: str
    metadata: list[tuple[str, str]]
    internal_metadata: list[tuple[str, str]]
    service_id: str
    schedule_id: str
    from_local_date: str
    to_local_date: str

    def request(self) -> time_slots_pb2.ListCourseEventTimeSlotsRequest:
        return time_slots_pb2.ListCourseEventTimeSlotsRequest(
            service_ids=[self.service_id], from_local_date=self.from_local_date, to_local_date=self.to_local_date, time_zone=ZONE
        )


async def create_course(stack: Platform) -> Course:
    tenant = f"bench-{uuid.uuid4().hex[:12]}"
    user_scopes = [s for s in ALL_SCOPES if s != INTERNAL_SCOPE]
    md = [("authorization", f"Bearer {mint_token(stack.jwt_secret, tenant_id=tenant, scopes=user_scopes, ttl_seconds=3 * 3600, subject='bench')}")]
    internal = [("authorization", f"Bearer {mint_token(stack.jwt_secret, tenant_id=tenant, scopes=[INTERNAL_SCOPE], ttl_seconds=3 * 3600, subject='bench')}")]
    now = datetime.now(UTC).replace(microsecond=0)
    policy = booking_policy_pb2.BookingPolicy(limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=60))
    async with grpc.aio.insecure_channel(stack.address("bookings")) as bookings, grpc.aio.insecure_channel(stack.address("timeframes")) as timeframes:
        service = services_pb2.Service(
            type=services_pb2.COURSE, name="Bench pottery course", default_capacity=12, time_zone=ZONE, online_booking_enabled=True, booking_policy=policy
        )
        created = (await services_pb2_grpc.ServicesStub(bookings).CreateService(services_pb2.CreateServiceRequest(service=service), metadata=md)).service
        first = (now + timedelta(days=1)).replace(minute=0, second=0)
        # 30 sessions, one a day from tomorrow: they all fall inside the 31-day window asked for.
        events = [
            events_pb2.Event(schedule_id=created.schedule_id, start=timestamp(first + timedelta(days=i)), end=timestamp(first + timedelta(days=i, hours=2)))
            for i in range(SESSIONS)
        ]
        events_stub = events_pb2_grpc.EventsStub(timeframes)
        await events_stub.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=events), metadata=md)
    client = aioredis.Redis.from_url(stack.infra.env()["REDIS_URL"])
    try:
        await set_rule(client, COURSE_AVAILABILITY_ENABLED, ToggleRule(allow=frozenset({tenant})))
    finally:
        await client.aclose()
    return Course(tenant, md, internal, created.id, created.schedule_id, local_date(now), local_date(now + timedelta(days=DAYS)))


CLIENT_CONNECTIONS = 8


def availability_call(channel: grpc.aio.Channel, course: Course, timeout: float) -> Callable[[], Awaitable[Any]]:
    stub = time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel)
    request = course.request()

    def call() -> Awaitable[Any]:
        return stub.ListCourseEventTimeSlots(request, metadata=course.metadata, timeout=timeout)

    return call


def rotating(calls: list[Callable[[], Awaitable[Any]]]) -> Callable[[], Awaitable[Any]]:
    """One call after the other over several connections."""
    turn = itertools.cycle(calls)
    return lambda: next(turn)()


async def until_ready(call: Callable[[], Awaitable[Any]], expect_slots: int, timeout: float = 20.0) -> Any:
    """Call until it answers with all slots (the toggle is re-read every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = await call()
            if len(response.time_slots) == expect_slots:
                return response
            problem = f"{len(response.time_slots)} slots"
        except grpc.aio.AioRpcError as exc:
            problem = f"{exc.code().name}: {exc.details()}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"ListCourseEventTimeSlots is not ready: {problem}")
        await asyncio.sleep(0.2)


# --- measurements ------------------------------------------------------------------------------------


async def closed_loop_p50(call: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(3):
        await call()
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(sorted(samples), 50)


def dependency_calls(channel: grpc.aio.Channel, dependency: str, course: Course) -> Callable[[], Awaitable[Any]]:
    """The cheapest read of each dependency, to time the proxy's added delay."""
    md, timeout = course.internal_metadata, 2.0
    if dependency == "services":
        stub = services_pb2_grpc.ServicesStub(channel)
        req = services_pb2.QueryServicesRequest(service_ids=[course.service_id])
        return lambda: stub.QueryServices(req, metadata=md, timeout=timeout)
    if dependency == "policies":
        pstub = booking_policy_pb2_grpc.BookingPolicyProviderStub(channel)
        preq = booking_policy_pb2.ListBookingPoliciesRequest(service_ids=[course.service_id])
        return lambda: pstub.ListBookingPolicies(preq, metadata=md, timeout=timeout)
    if dependency == "events":
        estub = events_pb2_grpc.EventsStub(channel)
        ereq = events_pb2.QueryEventsRequest(schedule_ids=[course.schedule_id], include_cancelled=True, cursor_paging=paging_pb2.CursorPaging(limit=1000))
        return lambda: estub.QueryEvents(ereq, metadata=md, timeout=timeout)
    fstub = timeframes_pb2_grpc.ScheduleTimeFramesStub(channel)
    freq = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=[course.schedule_id])
    return lambda: fstub.ListScheduleTimeFrames(freq, metadata=md, timeout=timeout)


async def quiet(opts: Options, meter: CpuMeter) -> float:
    """This machine may be shared (other test runs): wait for it to be quiet (bounded)."""
    foreign, waited = await meter.wait_quiet(opts.quiet_threshold, opts.quiet_max_wait)
    if foreign > opts.quiet_threshold:
        say(f"warning: other processes use {foreign:.0f} % of a core; measuring anyway (the step is flagged)")
    return waited


_retries_left = [MAX_RETRIES]


async def measure(
    label: str, call: Callable[[], Awaitable[Any]], rate: float, seconds: float, opts: Options, meter: CpuMeter, wait_quiet: bool = True
) -> StepResult:
    """One open-loop step. When other processes took CPU during it, it is measured once more (a
    few times per run at most) and the cleaner of the two is kept; either way the step records
    how much CPU they used."""
    result = await _measure_once(label, call, rate, seconds, opts, meter, wait_quiet)
    if result.foreign_cpu_pct > opts.quiet_threshold and wait_quiet and _retries_left[0] > 0:
        _retries_left[0] -= 1
        say(f"repeating: other processes used {result.foreign_cpu_pct:.0f} % of a core during that step")
        await asyncio.sleep(3.0 if collapsed(result) else 1.0)
        again = await _measure_once(label, call, rate, seconds, opts, meter, wait_quiet)
        result = min((result, again), key=lambda st: st.foreign_cpu_pct)
    return result


async def _measure_once(
    label: str, call: Callable[[], Awaitable[Any]], rate: float, seconds: float, opts: Options, meter: CpuMeter, wait_quiet: bool
) -> StepResult:
    waited = await quiet(opts, meter) if wait_quiet else 0.0
    before = meter.snapshot()
    warmup = min(opts.warmup_seconds, 1.0) if rate <= 50 else opts.warmup_seconds
    step = await open_loop(call, rate=rate, duration=seconds, warmup=warmup, label=label, timeout=opts.timeout)
    usage = CpuMeter.percent(before, meter.snapshot())
    step.cpu_pct, step.machine_busy_pct, step.foreign_cpu_pct, step.quiet_wait_s = usage.per_group, usage.machine_busy_pct, usage.foreign_pct, waited
    step.switches = usage.switches
    say(
        f"{label:<34} {rate:>5.0f}/s  ok {step.ok:>5} err {step.errors:>4}  achieved {step.achieved_rps:7.1f}/s  "
        f"p50 {step.p50_ms:7.2f}  p95 {step.p95_ms:7.2f}  p99 {step.p99_ms:7.2f}  max {step.max_ms:7.1f} ms  "
        + "  cpu "
        + " ".join(f"{k} {v:.0f}%" for k, v in sorted(step.cpu_pct.items(), key=lambda kv: -kv[1])[:3])
        + f" other {step.foreign_cpu_pct:.0f}%"
    )
    await asyncio.sleep(0.5)
    return step


def median_step(steps: list[StepResult]) -> StepResult:
    """The step with the median p50 (the higher of the two middle ones for an even count, so
    never the kinder one): a real step, so its CPU and thread-switch figures belong to the p50
    reported with them."""
    return sorted(steps, key=lambda st: st.p50_ms)[len(steps) // 2]


def refinement(sweep: list[StepResult]) -> float | None:
    ok = [st.rate for st in sweep if sustained(st, SUSTAINED_P99_MS)]
    low = max(ok, default=0.0)
    above = [st.rate for st in sweep if st.rate > low]
    if not above:
        return None
    high = min(above)
    mid = round((low + high) / 2 / 10) * 10
    return float(mid) if low < mid < high and high - low > 50 else None


def extension(rates: list[float], sweep: list[StepResult], max_rate: float) -> float | None:
    """The next rate past the planned ones, while the highest rate measured is sustained: a
    faster machine's capacity is then measured rather than reported as the sweep's top. The step is
    the planned rates' last gap; None once a rate is not sustained or `max_rate` is reached."""
    if not sweep or not rates:
        return None
    top = max(sweep, key=lambda st: st.rate)
    if top.rate < rates[-1] or not sustained(top, SUSTAINED_P99_MS):
        return None
    gap = rates[-1] - rates[-2] if len(rates) >= 2 else rates[-1]
    following = rates[-1] + gap
    return following if gap > 0 and following <= max_rate else None


def saturation_rate(sweep: list[StepResult]) -> float:
    """The highest rate still answered at >= 95 % of offered: the CPU is saturated there, but the
    profile shows the work of answered requests rather than of a collapsing backlog."""
    answered = [st.rate for st in sweep if st.achieved_rps >= 0.95 * st.rate and st.errors <= 0.01 * max(st.scheduled, 1)]
    return max(answered, default=float(TARGET_SUSTAINED_RPS))


def saturated(step: StepResult) -> bool:
    """The throughput limit is reached: the answers fall behind the offered rate or queue for long."""
    return step.achieved_rps < 0.95 * step.rate or step.errors > 0 or step.p50_ms > SUSTAINED_P99_MS


def collapsed(step: StepResult) -> bool:
    """Far past saturation: most requests failed or the server answered well under the offered rate."""
    return step.errors > 0.1 * max(step.scheduled, 1) or step.achieved_rps < 0.8 * step.rate


async def run(stack: Platform, ports: Ports, opts: Options, receiver: OtlpReceiver) -> dict[str, Any]:
    results: dict[str, Any] = {}
    course = await create_course(stack)
    say(f"tenant {course.tenant}: COURSE {course.service_id} with {SESSIONS} sessions over {DAYS} days")
    meter = CpuMeter(
        {
            "availability": stack.supervisor.pid("availability"),
            "timeframes": stack.supervisor.pid("timeframes"),
            "bookings": stack.supervisor.pid("bookings"),
            "participations": stack.supervisor.pid("participations"),
            "postgres": stack.infra.postgres.pid if stack.infra.postgres else None,
            "redis": stack.infra.redis.pid if stack.infra.redis else None,
            "kafka": stack.infra.kafka.pid if stack.infra.kafka else None,
            "generator": os.getpid(),
        },
        alone=frozenset({"generator"}),
    )
    # Several connections, like several client processes: the kernel spreads connections (not
    # calls) over the availability workers' SO_REUSEPORT sockets. A local subchannel pool each,
    # or grpc would share one connection between them.
    channels = [grpc.aio.insecure_channel(stack.address("availability"), options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(CLIENT_CONNECTIONS)]
    try:
        call = rotating([availability_call(channel, course, opts.timeout) for channel in channels])
        response = await until_ready(call, SESSIONS)
        results["setup"] = {
            "tenant": course.tenant,
            "sessions": SESSIONS,
            "days": DAYS,
            "slots_returned": len(response.time_slots),
            "response_bytes": response.ByteSize(),
            "request": {"from_local_date": course.from_local_date, "to_local_date": course.to_local_date, "time_zone": ZONE},
        }
        await open_loop(call, rate=100, duration=3, label="warm-up", timeout=opts.timeout)

        # 1. our p50 and the floor's, same generator, same low rate.
        low: dict[str, Any] = {}
        low["availability"] = await measure("availability (low rate)", call, opts.low_rate, opts.low_seconds, opts, meter)
        low.update(await floor_phase(stack, ports, opts, meter))
        results["low_rate"] = low

        # 2. the fan-out ratio.
        results["fanout"] = await fanout_phase(stack, ports, course, opts, meter, receiver)

        # 3. the rate sweep. Once a step saturates (answers fall behind or queue), one step halfway
        # back down (the capacity to within half a step) and the profile at the highest rate still
        # answered, before going on to higher rates, which stop after two collapsed steps in a row.
        sweep: list[StepResult] = []
        skipped: list[float] = []
        profile_rate = opts.profile_rate

        async def step(rate: float) -> StepResult:
            result = await measure("ListCourseEventTimeSlots", call, rate, opts.step_seconds, opts, meter)
            sweep.append(result)
            sweep.sort(key=lambda st: st.rate)
            await asyncio.sleep(3.0 if collapsed(result) else 1.0)  # let a backlog drain
            return result

        async def profile(rate: float) -> None:
            # Availability alone: on the cached path it makes no dependency call.
            results["profile"] = await profile_phase(call, {"availability": stack.supervisor.pid("availability")}, meter, opts, rate)

        rates = list(opts.rates)
        for rate in rates:  # grows while the last rate is sustained (extension)
            ran = [st for st in sweep if st.rate < rate]
            if len(ran) >= 2 and collapsed(ran[-1]) and collapsed(ran[-2]):
                skipped.append(rate)
                continue
            result = await step(rate)
            if saturated(result) and "profile" not in results and profile_rate != 0:
                refine = refinement(sweep)
                if refine:
                    await step(refine)
                await profile(profile_rate if profile_rate > 0 else saturation_rate(sweep))
            more = extension(rates, sweep, opts.max_rate)
            if more is not None:
                rates.append(more)
        if "profile" not in results and profile_rate != 0:  # every rate was sustained
            await profile(profile_rate if profile_rate > 0 else saturation_rate(sweep))
        results["sweep"] = sweep
        results["skipped_rates"] = skipped
        if skipped:
            say(f"skipped rates {skipped}: the two rates before collapsed")
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return results


async def floor_phase(stack: Platform, ports: Ports, opts: Options, meter: CpuMeter) -> dict[str, StepResult]:
    backend_port, front_port = ports.take(), ports.take()
    start_helper(stack, "floor-backend", [sys.executable, "-m", "bench.floor", "backend", "--port", str(backend_port)])
    start_helper(stack, "floor-front", [sys.executable, "-m", "bench.floor", "front", "--port", str(front_port), "--backend", f"127.0.0.1:{backend_port}"])
    try:
        await wait_port(stack, "floor-backend", backend_port)
        await wait_port(stack, "floor-front", front_port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{front_port}") as channel:
            fan_out = channel.unary_unary(floor.FAN_OUT)

            def call() -> Awaitable[Any]:
                return fan_out(b"", timeout=opts.timeout)

            await fan_out(b"", timeout=10.0, wait_for_ready=True)
            await open_loop(call, rate=100, duration=2, label="warm-up", timeout=opts.timeout)
            meter.roots.update({name: stack.supervisor.pid(name) for name in ("floor-front", "floor-backend")})
            out = {"floor": await measure("floor: bare fan-out to 4 no-ops", call, opts.low_rate, opts.low_seconds, opts, meter)}
            # The floor under load too: what this machine can do at best at the rates of the targets.
            for rate in FLOOR_RATES:
                out[f"floor_{rate}"] = await measure("floor: bare fan-out to 4 no-ops", call, rate, min(opts.step_seconds, 8.0), opts, meter)
        return out
    finally:
        for name in ("floor-front", "floor-backend"):
            meter.roots.pop(name, None)
            stack.supervisor.stop(name, grace=3)


async def fanout_phase(stack: Platform, ports: Ports, course: Course, opts: Options, meter: CpuMeter, receiver: OtlpReceiver) -> dict[str, Any]:
    proxy_ports = {dep: ports.take() for dep in DEPENDENCIES}

    async def start_proxy(hold_ms: dict[str, float]) -> None:
        argv = [sys.executable, "-m", "bench.delay_proxy", "--delay-ms", str(opts.delay_ms)]
        for dep in DEPENDENCIES:
            argv += ["--route", f"{proxy_ports[dep]}={stack.address(HOST_OF[dep])}@{hold_ms[dep]:.3f}"]
        start_helper(stack, "delay-proxy", argv)
        for port in proxy_ports.values():
            await wait_port(stack, "delay-proxy", port)

    instances = {"availability-fanout": ports.take(), "availability-nocache": ports.take()}
    channels: list[grpc.aio.Channel] = []

    def open_ch(address: str) -> grpc.aio.Channel:
        ch = grpc.aio.insecure_channel(address)
        channels.append(ch)
        return ch

    async def added_by_proxy(dep: str) -> tuple[float, float]:
        """p50 of one read of `dep` direct and through its proxy, sequential calls, fresh channels."""
        direct = await closed_loop_p50(dependency_calls(open_ch(stack.address(HOST_OF[dep])), dep, course), PROXY_CHECK_CALLS)
        proxied = await closed_loop_p50(dependency_calls(open_ch(f"127.0.0.1:{proxy_ports[dep]}"), dep, course), PROXY_CHECK_CALLS)
        return direct, proxied

    try:
        # 2a. calibration: the proxy by itself costs a little (a hop each way, its timer firing
        # late), so a route holding exactly the delay adds more than the delay. Each round
        # measures what every route adds while holding the delay; each route then holds the delay
        # minus its mean excess, so a read through it takes +delay, as if the dependency answered
        # that much later. (The excess does not depend on the hold: averaging rounds beats
        # correcting round after round, which chases the noise of a p50 of 50 calls.)
        await start_proxy({dep: opts.delay_ms for dep in DEPENDENCIES})
        calibration: list[dict[str, float]] = []
        for _ in range(CALIBRATION_ROUNDS):
            added = {}
            for dep in DEPENDENCIES:
                direct, proxied = await added_by_proxy(dep)
                added[dep] = proxied - direct
            calibration.append(added)
            say(f"proxy calibration: holding {opts.delay_ms:.0f} ms adds " + ", ".join(f"{dep} {added[dep]:.2f}" for dep in DEPENDENCIES))
        stack.supervisor.stop("delay-proxy")
        hold = {dep: max(0.0, opts.delay_ms - statistics.mean(r[dep] - opts.delay_ms for r in calibration)) for dep in DEPENDENCIES}
        await start_proxy(hold)
        # The check: the delay each proxy now really adds.
        check: dict[str, dict[str, float]] = {}
        for dep in DEPENDENCIES:
            direct, proxied = await added_by_proxy(dep)
            check[dep] = {"hold_ms": hold[dep], "direct_p50_ms": direct, "proxied_p50_ms": proxied, "added_ms": proxied - direct}
            say(f"proxy check {dep:<12} holds {hold[dep]:5.2f} ms; direct p50 {direct:6.2f} ms, through proxy {proxied:6.2f} ms: +{proxied - direct:5.2f} ms")

        # 2b. two more availability instances with the cache off (all four reads every time):
        # one reading through the proxies, one direct (the same work without the delay).
        for name, port in instances.items():
            proxied = {dep: f"127.0.0.1:{proxy_ports[dep]}" for dep in DEPENDENCIES} if name == "availability-fanout" else {}
            env = uncached_availability_env(stack, port, proxied)
            stack.supervisor.start(name, [sys.executable, "-m", "services.availability", "serve"], env=env)
        for name, port in instances.items():
            await wait_healthy(stack, name, port)
        meter.roots.update({name: stack.supervisor.pid(name) for name in [*instances, "delay-proxy"]})
        fanout_call = availability_call(open_ch(f"127.0.0.1:{instances['availability-fanout']}"), course, opts.timeout)
        nocache_call = availability_call(open_ch(f"127.0.0.1:{instances['availability-nocache']}"), course, opts.timeout)
        await until_ready(fanout_call, SESSIONS)
        await until_ready(nocache_call, SESSIONS)
        for c in (fanout_call, nocache_call):  # the first call also learns the schedule id (then all four reads start at once)
            for _ in range(10):
                await c()

        def sequential(through_proxy: bool) -> SequentialCourseClient:
            def address(dep: str) -> str:
                return f"127.0.0.1:{proxy_ports[dep]}" if through_proxy else stack.address(HOST_OF[dep])

            return SequentialCourseClient(
                open_ch(address("services")),
                open_ch(address("time_frames")),
                open_ch(address("events")),
                course.metadata,
                course.service_id,
                course.from_local_date,
                course.to_local_date,
                ZONE,
                opts.timeout,
            )

        seq_delayed, seq_direct = sequential(True), sequential(False)
        for c in (seq_delayed, seq_direct):
            slots = await c()
            assert len(slots) == SESSIONS, f"the sequential flow found {len(slots)} slots"
        rate, secs = opts.low_rate, opts.low_seconds
        out: dict[str, Any] = {"delay_ms": opts.delay_ms, "proxy_check": check, "proxy_calibration": calibration, "proxy_ports": proxy_ports}
        # The processes' own background (timers, Kafka fetches, metric export): thread switches
        # per second with no request, to take off the steps' counts.
        before = meter.snapshot()
        await asyncio.sleep(IDLE_SECONDS)
        out["idle_switches_per_s"] = {name: n / IDLE_SECONDS for name, n in CpuMeter.percent(before, meter.snapshot()).switches.items()}
        # The pair the ratio is judged on, in rounds, delayed and direct alternating: on a shared
        # 2-core machine one 10 s window's p50 moves by a millisecond or two from run to run (a
        # tenth of the ratio), so the ratio is the median round's, and every round is reported.
        rounds = opts.ratio_rounds
        for i in range(rounds):
            tag = f" ({i + 1}/{rounds})" if rounds > 1 else ""
            out.setdefault("parallel_rounds", []).append(await measure("parallel fan-out, +20 ms deps" + tag, fanout_call, rate, secs, opts, meter))
            out.setdefault("parallel_undelayed_rounds", []).append(await measure("parallel fan-out, direct deps" + tag, nocache_call, rate, secs, opts, meter))
        out["parallel"] = median_step(out["parallel_rounds"])
        out["parallel_undelayed"] = median_step(out["parallel_undelayed_rounds"])
        if opts.trace_requests:
            out["trace"] = await trace_phase(open_ch(f"127.0.0.1:{instances['availability-nocache']}"), course, receiver, opts, meter)
        out["sequential"] = await measure("old sequential flow, +20 ms deps", seq_delayed, rate, secs, opts, meter)
        out["sequential_undelayed"] = await measure("old sequential flow, direct deps", seq_direct, rate, secs, opts, meter)
        if opts.warm_rate:
            # The same pair at a rate where no process idles between requests (at 20/s every hop
            # also pays the wake-up of an idle process): what the fan-out costs once warm.
            warm = opts.warm_rate
            out["parallel_warm"] = await measure(f"parallel fan-out, +20 ms deps, {warm:.0f}/s", fanout_call, warm, secs, opts, meter)
            out["parallel_undelayed_warm"] = await measure(f"parallel fan-out, direct deps, {warm:.0f}/s", nocache_call, warm, secs, opts, meter)
            if opts.profile_rate != 0:
                # Where the uncached request's CPU goes, in each process on its path (the sweep's
                # profile sees the cached path, where bookings and timeframes are idle).
                targets = {name: stack.supervisor.pid(name) for name in ("availability-nocache", "bookings", "timeframes")}
                out["profile"] = await profile_phase(nocache_call, targets, meter, opts, warm, "uncached", label="uncached + py-spy")
        return out
    finally:
        for ch in channels:
            await ch.close()
        for name in [*instances, "delay-proxy"]:
            meter.roots.pop(name, None)
            with contextlib.suppress(Exception):
                stack.supervisor.stop(name, grace=5)


ROOT_SPAN = "/" + time_slots_pb2.DESCRIPTOR.services_by_name["CourseEventTimeSlots"].full_name + "/ListCourseEventTimeSlots"


async def trace_phase(channel: grpc.aio.Channel, course: Course, receiver: OtlpReceiver, opts: Options, meter: CpuMeter) -> dict[str, Any]:
    """The uncached request (dependencies direct) span by span: `trace_requests` requests at the
    low rate, each with a sampled traceparent of its own, so every process records and exports
    its spans of it (and of nothing else); bench/trace_timeline.py cuts them into segments."""
    stub = time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel)
    request = course.request()
    sent: list[trace_timeline.Sent] = []

    async def traced() -> Any:
        trace_id = secrets.token_hex(16)
        metadata = [*course.metadata, ("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01")]
        began = time.time_ns()
        response = await stub.ListCourseEventTimeSlots(request, metadata=metadata, timeout=opts.timeout)
        sent.append(trace_timeline.Sent(trace_id, began, time.time_ns()))
        return response

    step = await measure("parallel fan-out, direct deps, traced", traced, opts.low_rate, opts.trace_requests / opts.low_rate, opts, meter)
    await asyncio.sleep(3.0)  # the services export spans every second (OTEL_BSP_SCHEDULE_DELAY)
    timelines = [t for t in (trace_timeline.timeline(s, receiver.spans(s.trace_id), ROOT_SPAN) for s in sent) if t is not None]
    say(f"traces: {len(timelines)} complete of {len(sent)} traced requests")
    return {"step": step, "requests": len(sent), "complete": len(timelines), "segments": trace_timeline.summarise(timelines)}


async def profile_phase(
    call: Callable[[], Awaitable[Any]],
    targets: dict[str, int | None],
    meter: CpuMeter,
    opts: Options,
    rate: float,
    prefix: str = "",
    label: str = "ListCourseEventTimeSlots + py-spy",
) -> dict[str, Any]:
    """A step at `rate` with py-spy attached to each of `targets` (name -> pid) inside it; the
    raw stacks go to profile/<prefix-><name>.collapsed.txt."""
    profile_dir = opts.out / "profile"
    profile_dir.mkdir(parents=True, exist_ok=True)
    lead = opts.warmup_seconds + 1.0
    run_seconds = opts.profile_seconds + 2.0  # the profiler runs inside the measured window

    async def profiles() -> list[profiling.Profile]:
        await asyncio.sleep(lead)
        return list(
            await asyncio.gather(
                *(
                    profiling.record(name, pid, opts.profile_seconds, profile_dir / f"{prefix + '-' if prefix else ''}{name}.collapsed.txt")
                    for name, pid in targets.items()
                    if pid
                )
            )
        )

    say(f"profiling {', '.join(targets)} with py-spy at {rate:.0f}/s for {opts.profile_seconds:.0f} s")
    await quiet(opts, meter)
    spy = asyncio.create_task(profiles())
    step = await measure(label, call, rate, run_seconds, opts, meter, wait_quiet=False)
    found = await spy
    for p in found:  # relative to the report, which sits next to profile/
        p.raw_path = str(Path(p.raw_path).relative_to(opts.out)) if Path(p.raw_path).is_relative_to(opts.out) else p.raw_path
    for p in found:
        if p.error:
            say(f"profile of {p.name}: {p.error}")
        else:
            say(f"profile of {p.name}: {p.samples} samples ({p.active_pct:.0f}% of wall time on a Python thread)")
    return {"step": step, "profiles": found}


# --- entry point -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    from bench import report  # matplotlib is imported late: the measurement does not need it

    began = time.monotonic()
    started_at = datetime.now(UTC)
    ports = Ports()
    receiver = OtlpReceiver().start()
    try:
        stack = make_platform(Path(tempfile.mkdtemp(prefix="bench-availability-")), ports, opts.availability_workers, telemetry=receiver)
        outcome = runtime.on_platform(stack, lambda s: run(s, ports, opts, receiver), keep=opts.keep, say=say)
    finally:
        receiver.stop()
    if outcome is None:
        return 130
    results, platform_seconds = outcome
    results["meta"] = {
        **runtime.meta("bench.availability", argv, opts, started_at=started_at, began=began, platform_seconds=platform_seconds),
        "machine": machine(),
        "targets": {
            "p99_at_200_ms": TARGET_P99_AT_200_MS,
            "sustained_rps": TARGET_SUSTAINED_RPS,
            "sustained_p99_ms": SUSTAINED_P99_MS,
            "fanout_ratio": TARGET_FANOUT_RATIO,
            "floor_ratio": TARGET_FLOOR_RATIO,
        },
    }
    paths = report.write(results, opts.out)
    say(f"done in {results['meta']['duration_s']:.0f} s: " + ", ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in paths))
    print(report.summary(results), flush=True)
    return 0


def sustained_rate(sweep: list[StepResult]) -> float:
    ok = [s.rate for s in sweep if sustained(s, SUSTAINED_P99_MS)]
    return max(ok) if ok else 0.0


if __name__ == "__main__":
    sys.exit(main())
