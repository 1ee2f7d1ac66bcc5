"""A/B of the uncached ListCourseEventTimeSlots path: two (or more) code trees measured in one run.

    git worktree add /tmp/base HEAD          # the code as committed
    python -m bench.ab --variant base=/tmp/base --variant change=.   [--rounds 8] [--rate 20]

One platform (embedded Postgres/Redis/Kafka, migrated from this checkout: the variants must share
its schema) and, per variant, its own bookings, timeframes and cache-off availability processes
started from that variant's tree, so each request crosses the whole uncached path of its own
code. Rounds of `--seconds` at `--rate` (open loop, as `make bench-availability`) take turns
between the variants, the order reversed every other round; a paired ratio per round (each
variant's p50 over the first variant's, same round) and its median say whether a change moved
the latency beyond the machine's minute-to-minute noise, which one 10 s window cannot. CPU per
request of each process is printed too. Nothing is written to bench/results: this is a tool for
deciding, and what it decided goes into bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from bench import runtime
from bench.availability import (
    DEPENDENCIES,
    HOST_OF,
    SESSIONS,
    Course,
    availability_call,
    create_course,
    uncached_availability_env,
    until_ready,
)
from bench.loadgen import open_loop
from bench.procstats import CpuMeter
from bench.stack import Ports, make_platform, wait_healthy
from services.devstack.otlp import OtlpReceiver
from services.devstack.stack import Platform

SERVICES = ("bookings", "timeframes", "availability")
WARM_CALLS = 20


def say(message: str) -> None:
    print(f"[ab] {message}", flush=True)


def round_order(variants: Sequence[str], round_index: int) -> list[str]:
    """The variants in the order they are measured in a round: reversed every other round, so
    neither always runs first (right after a pause) or last."""
    return list(variants) if round_index % 2 == 0 else list(reversed(variants))


def paired_ratios(p50s: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per variant but the first: its p50 over the first variant's, round by round."""
    names = list(p50s)
    base = p50s[names[0]]
    return {name: [p50 / b for p50, b in zip(p50s[name], base, strict=True)] for name in names[1:]}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=DIR", help="a name and the checkout to run it from (two or more)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME:KEY=VALUE", help="an environment variable for one variant's processes")
    parser.add_argument("--rounds", type=int, default=8, help="rounds, each measuring every variant once (default %(default)s)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s, open loop (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per variant and round (default %(default)s)")
    args = parser.parse_args(argv)
    variants: dict[str, Path] = {}
    for spec in args.variant:
        name, sep, directory = spec.partition("=")
        path = Path(directory).resolve()
        if not sep or not name or not (path / "services" / "availability").is_dir():
            parser.error(f"--variant {spec!r}: expected NAME=DIR, DIR a checkout of this repository")
        variants[name] = path
    if len(variants) < 2:
        parser.error("give two variants or more")
    env: dict[str, dict[str, str]] = {}
    for spec in args.env:
        name, _, assignment = spec.partition(":")
        key, sep, value = assignment.partition("=")
        if name not in variants or not sep or not key:
            parser.error(f"--env {spec!r}: expected NAME:KEY=VALUE for one of {sorted(variants)}")
        env.setdefault(name, {})[key] = value
    args.variants, args.variant_env = variants, env
    return args


async def start_variant(
    stack: Platform, ports: Ports, name: str, tree: Path, extra: dict[str, str], course: Course, channels: list[grpc.aio.Channel]
) -> Callable[[], Awaitable[Any]]:
    """Bookings, timeframes and a cache-off availability reading them, all from `tree`."""
    port = {service: ports.take() for service in SERVICES}
    for service in SERVICES:
        if service == "availability":
            env = uncached_availability_env(stack, port[service], {dep: f"127.0.0.1:{port[HOST_OF[dep]]}" for dep in DEPENDENCIES})
        else:
            env = stack.service_env(service)
            env.update({"GRPC_PORT": str(port[service]), "GRPC_WORKERS": "1"})
        env.update({"PYTHONPATH": str(tree), **extra})
        stack.supervisor.start(f"{service}-{name}", [sys.executable, "-m", f"services.{service}", "serve"], env=env, cwd=tree)
    for service in SERVICES:
        await wait_healthy(stack, f"{service}-{name}", port[service])
    channels.append(grpc.aio.insecure_channel(f"127.0.0.1:{port['availability']}"))
    call = availability_call(channels[-1], course, 2.0)
    await until_ready(call, SESSIONS)
    for _ in range(WARM_CALLS):  # the first calls also learn the course's schedule id
        await call()
    return call


async def measure(stack: Platform, ports: Ports, args: argparse.Namespace) -> None:
    course = await create_course(stack)
    channels: list[grpc.aio.Channel] = []
    try:
        calls = {name: await start_variant(stack, ports, name, tree, args.variant_env.get(name, {}), course, channels) for name, tree in args.variants.items()}
        await _rounds(stack, calls, args)
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))


async def _rounds(stack: Platform, calls: dict[str, Callable[[], Awaitable[Any]]], args: argparse.Namespace) -> None:
    # Each variant's own processes (Postgres is shared, so its CPU says nothing about either).
    meter = CpuMeter({f"{service}-{name}": stack.supervisor.pid(f"{service}-{name}") for name in calls for service in SERVICES})
    p50s: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(args.rounds):
        for name in round_order(list(calls), i):
            before = meter.snapshot()
            step = await open_loop(calls[name], rate=args.rate, duration=args.seconds, warmup=1.0, label=name, timeout=2.0)
            usage = CpuMeter.percent(before, meter.snapshot())
            p50s[name].append(step.p50_ms)
            cpu = " ".join(  # % of a core over the step -> ms per request
                f"{group.removesuffix('-' + name)} {pct * 10 / args.rate:.2f}" for group, pct in sorted(usage.per_group.items()) if group.endswith("-" + name)
            )
            say(
                f"round {i + 1} {name:<10} p50 {step.p50_ms:6.2f} p95 {step.p95_ms:6.2f} ms  errors {step.errors}  "
                f"CPU ms/request: {cpu}  other processes {usage.foreign_pct:.0f} % of a core"
            )
            await asyncio.sleep(0.5)
    for name, values in p50s.items():
        say(f"{name}: median p50 {statistics.median(values):.2f} ms (rounds: {' '.join(f'{v:.2f}' for v in values)})")
    first = next(iter(p50s))
    for name, ratios in paired_ratios(p50s).items():
        say(f"{name} / {first}, paired by round: median {statistics.median(ratios):.3f} (from {min(ratios):.3f} to {max(ratios):.3f})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports()
    # The services export to a receiver, as in `make bench-availability`: with an endpoint they
    # run a metric reader, as in production, and a measurement costs what it costs there.
    receiver = OtlpReceiver().start()
    try:
        stack = make_platform(Path(tempfile.mkdtemp(prefix="bench-ab-")), ports, telemetry=receiver)
        outcome = runtime.on_platform(stack, lambda s: measure(s, ports, args), keep=False, say=say)
    finally:
        receiver.stop()
    return 130 if outcome is None else 0


if __name__ == "__main__":
    sys.exit(main())
