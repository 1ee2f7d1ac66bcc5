"""Capacity under contention: the last-spot race (many bookings at once for a session with one
spot left, with the service's strict capacity off and on), and what strict capacity costs
CreateBooking (a strict and a non-strict class of the same shape, taking turns)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from bench.loadgen import StepResult, open_loop
from bench.pipeline_figures import median, paired_ratios, tally
from bench.pipeline_load import Lab
from bench.pipeline_watch import Sampler
from bench.pipeline_world import Offering, slots_call, until_listed
from bench.stack import say
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.common.grpc_status import error_reason


@dataclass
class RaceRound:
    event_id: str
    winners: int = 0
    refusals: list[str] = field(default_factory=list)  # "CODE/REASON" of each loser
    participants_total: int | None = None  # timeframes' GetEvent once settled
    remaining_capacity: int | None = None  # raw: negative when overbooked
    settled: bool = False  # timeframes counted every winner and the pipeline was quiet, within the limit
    settle_s: float = 0.0


def refusal(exc: grpc.aio.AioRpcError) -> str:
    return f"{exc.code().name}/{error_reason(exc) or '-'}"


async def race_round(lab: Lab, offering: Offering, event_id: str, contenders: int) -> RaceRound:
    """`contenders` CreateBooking of one participant for the session, all sent at once (every call
    is started before the first answer is awaited)."""
    stub = bookings_pb2_grpc.BookingsStub(lab.bookings)
    requests = [bookings_pb2.CreateBookingRequest(booking=offering.booking(n, event_id=event_id)) for n in range(contenders)]
    calls = [stub.CreateBooking(r, metadata=lab.tenant.metadata, timeout=10) for r in requests]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    out = RaceRound(event_id)
    for answer in answers:
        if isinstance(answer, grpc.aio.AioRpcError):
            out.refusals.append(refusal(answer))
        elif isinstance(answer, BaseException):
            out.refusals.append(type(answer).__name__)
        else:
            out.winners += 1
    return out


async def settle(events: events_pb2_grpc.EventsStub, lab: Lab, probe: Sampler, one: RaceRound, limit: float) -> None:
    """GetEvent until timeframes counts every winner, then until the pipeline is quiet (each
    bounded by `limit` s), then the session's raw figures once more."""
    began = time.monotonic()

    async def read() -> None:
        event = (await events.GetEvent(events_pb2.GetEventRequest(event_id=one.event_id), metadata=lab.tenant.metadata, timeout=5)).event
        one.participants_total, one.remaining_capacity = event.participants_total, event.remaining_capacity

    await read()
    while one.participants_total != one.winners and time.monotonic() - began < limit:
        await asyncio.sleep(0.05)
        await read()
    quiet = await probe.until_quiet(limit)
    await read()
    one.settle_s = time.monotonic() - began
    one.settled = quiet.reached and one.participants_total == one.winners


async def last_spot_race(lab: Lab, probe: Sampler, *, strict: bool, rounds: int, contenders: int, settle_limit: float) -> dict[str, Any]:
    """A CLASS of capacity 1 with one fresh session per round."""
    mode = "strict" if strict else "plain"
    offering = await lab.catalog.offering("class", f"Bench last spot ({mode})", sessions=rounds, capacity=1, strict=strict)
    await until_listed(slots_call(lab.availability, lab.tenant, offering), offering)
    out: list[RaceRound] = []
    async with grpc.aio.insecure_channel(lab.stack.address("timeframes")) as channel:
        events = events_pb2_grpc.EventsStub(channel)
        for i, event_id in enumerate(offering.event_ids):
            await probe.until_quiet(lab.quiet_max_wait)
            one = await race_round(lab, offering, event_id, contenders)
            await settle(events, lab, probe, one, settle_limit)
            out.append(one)
            say(
                f"race ({mode}) {i + 1}/{rounds}: {one.winners} winner(s), remaining capacity {one.remaining_capacity}"
                + ("" if one.settled else f" (not settled: timeframes counts {one.participants_total} after {one.settle_s:.0f} s)")
            )
    race_tally = tally([r.winners for r in out], [r.remaining_capacity for r in out], [x for r in out for x in r.refusals])
    return {"mode": mode, "service_id": offering.service_id, "rounds": out, "tally": race_tally, "unsettled_rounds": sum(1 for r in out if not r.settled)}


# --- what strict capacity costs -------------------------------------------------------------------------


async def strict_cost(lab: Lab, *, rate: float, seconds: float, rounds: int, timeout: float) -> dict[str, Any]:
    """CreateBooking on a strict class and on a plain one of the same shape (10 sessions, capacity
    far above the bookings), rounds of `seconds` at `rate` each, the order swapped every round."""
    capacity = max(1000, int(rate * (seconds + 2) * rounds) + 100)
    classes = {
        "plain": await lab.catalog.offering("class", "Bench cost (plain)", sessions=10, capacity=capacity, days_apart=3),
        "strict": await lab.catalog.offering("class", "Bench cost (strict)", sessions=10, capacity=capacity, days_apart=3, strict=True),
    }
    for offering in classes.values():
        await until_listed(slots_call(lab.availability, lab.tenant, offering), offering)
    steps: dict[str, list[StepResult]] = {"plain": [], "strict": []}
    stub = bookings_pb2_grpc.BookingsStub(lab.bookings)
    for r in range(rounds):
        order = ("plain", "strict") if r % 2 == 0 else ("strict", "plain")
        for mode in order:
            offering, counter = classes[mode], iter(range(1_000_000))

            def call(offering: Offering = offering, counter: Any = counter) -> Any:
                booking = offering.booking(next(counter))
                return stub.CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=lab.tenant.metadata, timeout=timeout)

            await lab.meter.wait_quiet(lab.quiet_threshold, lab.quiet_max_wait)
            step = await open_loop(call, rate=rate, duration=seconds, warmup=2.0, label=f"CreateBooking ({mode})", timeout=timeout)
            steps[mode].append(step)
            say(f"strict cost round {r + 1}/{rounds}, {mode}: p50 {step.p50_ms:.1f} p99 {step.p99_ms:.1f} ms, {step.errors} errors")
    p50 = {mode: [s.p50_ms for s in v] for mode, v in steps.items()}
    p99 = {mode: [s.p99_ms for s in v] for mode, v in steps.items()}
    return {
        "rate": rate,
        "seconds": seconds,
        "rounds": rounds,
        "steps": steps,
        "median_p50_ms": {mode: median(v) for mode, v in p50.items()},
        "median_p99_ms": {mode: median(v) for mode, v in p99.items()},
        "p50_ratios": (p50_ratios := paired_ratios(p50["strict"], p50["plain"])),
        "p99_ratios": (p99_ratios := paired_ratios(p99["strict"], p99["plain"])),
        "median_p50_ratio": median(p50_ratios),
        "median_p99_ratio": median(p99_ratios),
    }
