"""One load step of the pipeline benchmark: CreateBooking open loop at a rate (half whole-course
bookings, half class bookings), availability watched meanwhile, then the drain, measured until
every booking is visible everywhere and every consumer group is at lag 0; and what the step says
(propagation lag of each booking, by thirds, consumer lag, outbox backlog, CPU)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from bench.loadgen import StepResult, open_loop, percentile
from bench.pipeline_figures import Pace, Spread, falling_behind, is_flat, spread, thirds
from bench.pipeline_watch import GROUPS, SCHEMAS, Sampler, Watcher, is_quiet
from bench.pipeline_world import COURSE_SESSIONS, DAYS, Catalog, Offering, Tenant, created_at, slots_call, stored_bookings, until_listed
from bench.procstats import CpuMeter, Usage
from bench.stack import say
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.devstack.stack import Platform

CPU_GROUPS = ("availability", "timeframes", "bookings", "participations", "postgres", "redis", "kafka", "generator")


@dataclass(frozen=True)
class StepPlan:
    label: str
    rate: float
    seconds: float
    warmup_seconds: float
    course_share: float
    class_sessions: int
    min_capacity: int
    poll_ms: float
    sample_seconds: float
    drain_seconds: float
    timeout: float

    def capacity(self) -> int:
        """Room for every booking of the step on every session, whatever the rate."""
        return max(self.min_capacity, math.ceil(self.rate * (self.warmup_seconds + self.seconds) * 1.2) + 100)


@dataclass
class Lab:
    """The platform under test as the steps use it."""

    stack: Platform
    tenant: Tenant
    catalog: Catalog
    bookings: grpc.aio.Channel
    availability: grpc.aio.Channel
    meter: CpuMeter
    quiet_threshold: float
    quiet_max_wait: float


def usage_dict(u: Usage) -> dict[str, Any]:
    return {"cpu_pct": u.per_group, "machine_busy_pct": u.machine_busy_pct, "foreign_cpu_pct": u.foreign_pct}


# --- the load -----------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One CreateBooking as the generator saw it (wall clock, epoch seconds)."""

    n: int
    kind: str  # course | class
    event_id: str  # the class session; "" for the course
    measured: bool
    sent: float
    answered: float = math.nan
    booking_id: str = ""
    error: str = ""


class Bookings:
    """The open-loop call: booking n goes to the course or to the next class session."""

    def __init__(self, channel: grpc.aio.Channel, tenant: Tenant, course: Offering, klass: Offering, plan: StepPlan):
        self._stub = bookings_pb2_grpc.BookingsStub(channel)
        self._tenant = tenant
        self._course = course
        self._class = klass
        self._plan = plan
        self._first_measured = int(round(plan.warmup_seconds * plan.rate))
        self._classes = 0
        self.sent: list[Sent] = []

    def _kind(self, n: int) -> str:
        share = self._plan.course_share
        return "course" if math.floor((n + 1) * share) > math.floor(n * share) else "class"

    def __call__(self) -> Awaitable[Any]:
        n = len(self.sent)
        kind = self._kind(n)
        event_id = ""
        if kind == "course":
            booking = self._course.booking(n)
        else:
            event_id = self._class.event_ids[self._classes % len(self._class.event_ids)]
            self._classes += 1
            booking = self._class.booking(n, event_id=event_id)
        record = Sent(n, kind, event_id, n >= self._first_measured, time.time())
        self.sent.append(record)
        return self._send(booking, record)

    async def _send(self, booking: bookings_pb2.Booking, record: Sent) -> None:
        try:
            response = await self._stub.CreateBooking(
                bookings_pb2.CreateBookingRequest(booking=booking), metadata=self._tenant.metadata, timeout=self._plan.timeout
            )
        except grpc.aio.AioRpcError as exc:
            record.error = exc.code().name
            raise
        record.answered = time.time()
        record.booking_id = response.booking.id


# --- attribution ----------------------------------------------------------------------------------------


@dataclass
class Committed:
    """One booking as stored, with when availability first showed it."""

    booking_id: str
    kind: str
    event_id: str
    created: float  # created_date, epoch s
    measured: bool
    answered: float = math.nan
    visible_first: float = math.nan  # class: its session; course: the first of its sessions
    visible_all: float = math.nan  # class: its session; course: the last of its sessions

    @property
    def lag_first_ms(self) -> float:
        return (self.visible_first - self.created) * 1000

    @property
    def lag_all_ms(self) -> float:
        return (self.visible_all - self.created) * 1000

    @property
    def lag_from_answer_ms(self) -> float:
        return (self.visible_all - self.answered) * 1000


def attribute(stored: list[bookings_pb2.Booking], sent: list[Sent], course: Offering, klass: Offering, watch: Watcher, class_watch: Watcher) -> list[Committed]:
    """Per session, the k-th booking by created_date is visible when the session's booked count
    first reached k (bookings are never cancelled here, so counts only grow)."""
    by_id = {s.booking_id: s for s in sent if s.booking_id}
    rows: list[Committed] = []
    for b in stored:
        s = by_id.get(b.id)
        kind = "course" if b.booked_entity.WhichOneof("item") == "schedule" else "class"
        event_id = b.booked_entity.slot.event_id if kind == "class" else ""
        rows.append(Committed(b.id, kind, event_id, created_at(b), measured=s.measured if s else False, answered=s.answered if s else math.nan))
    courses = sorted((r for r in rows if r.kind == "course"), key=lambda r: (r.created, r.booking_id))
    for k, r in enumerate(courses, start=1):
        times = [levels[k - 1] for e in course.event_ids if len(levels := watch.levels.get(e, [])) >= k]
        if times:
            r.visible_first = min(times)
        if len(times) == len(course.event_ids):
            r.visible_all = max(times)
    for event_id in klass.event_ids:
        mine = sorted((r for r in rows if r.kind == "class" and r.event_id == event_id), key=lambda r: (r.created, r.booking_id))
        levels = class_watch.levels.get(event_id, [])
        for k, r in enumerate(mine, start=1):
            if len(levels) >= k:
                r.visible_first = r.visible_all = levels[k - 1]
    return rows


def all_visible(course: Offering, klass: Offering, watch: Watcher, class_watch: Watcher, sent: list[Sent]) -> bool:
    ok = [s for s in sent if s.booking_id]
    courses = sum(1 for s in ok if s.kind == "course")
    if any(watch.booked(e) < courses for e in course.event_ids):
        return False
    return all(class_watch.booked(e) >= sum(1 for s in ok if s.event_id == e) for e in klass.event_ids)


# --- the step -------------------------------------------------------------------------------------------


async def quiet_drain(probe: Sampler, everything_visible: Callable[[], bool], load_end: float, limit: float) -> float:
    """Seconds from the end of the load to the first read, taken once everything was visible,
    with every consumer group at lag 0 and every outbox empty (reads back to back); NaN past `limit`."""
    while time.time() - load_end < limit:
        if not everything_visible():
            await asyncio.sleep(0.005)
            continue
        sample = await probe.read()
        if is_quiet(sample):
            return sample["t"] - load_end
    return math.nan


async def step_offerings(lab: Lab, plan: StepPlan) -> tuple[Offering, Offering]:
    """The step's own COURSE (30 sessions, one a day) and CLASS (its sessions over the same days),
    listed by availability."""
    capacity = plan.capacity()
    course = await lab.catalog.offering("course", f"{plan.label} course", sessions=COURSE_SESSIONS, capacity=capacity)
    step_days = max(1, (DAYS - 1) // plan.class_sessions)
    klass = await lab.catalog.offering("class", f"{plan.label} class", sessions=plan.class_sessions, capacity=capacity, days_apart=step_days)
    for offering in (course, klass):
        await until_listed(slots_call(lab.availability, lab.tenant, offering), offering)
    return course, klass


async def run_step(lab: Lab, plan: StepPlan) -> dict[str, Any]:
    course, klass = await step_offerings(lab, plan)
    watch = Watcher("ListCourseEventTimeSlots", slots_call(lab.availability, lab.tenant, course), plan.poll_ms / 1000)
    class_watch = Watcher("ListEventTimeSlots", slots_call(lab.availability, lab.tenant, klass), plan.poll_ms / 1000)
    sampler, probe = await Sampler(lab.stack, plan.sample_seconds).start(), await Sampler(lab.stack, name="drain-probe").start()
    try:
        settled = await probe.until_quiet(lab.quiet_max_wait * 4)
        say(f"{plan.label}: pipeline {settled.describe()} before the load")
        foreign, waited = await lab.meter.wait_quiet(lab.quiet_threshold, lab.quiet_max_wait)
        if foreign > lab.quiet_threshold:
            say(f"warning: other processes use {foreign:.0f} % of a core; measuring anyway")
        stop = asyncio.Event()
        background = [asyncio.create_task(t.run(stop)) for t in (watch, class_watch, sampler)]
        load = Bookings(lab.bookings, lab.tenant, course, klass, plan)
        await asyncio.sleep(1.0)  # the watchers' first answers: the starting counts (0)
        t0 = time.time()
        snap0 = lab.meter.snapshot()
        say(f"{plan.label}: CreateBooking {plan.rate:.0f}/s for {plan.warmup_seconds:.0f} + {plan.seconds:.0f} s ({plan.course_share:.0%} course)")
        result = await open_loop(
            load, rate=plan.rate, duration=plan.seconds, warmup=plan.warmup_seconds, label="CreateBooking", timeout=plan.timeout, drain=plan.timeout + 1
        )
        load_end = time.time()
        snap1 = lab.meter.snapshot()
        say(
            f"{plan.label}: CreateBooking ok {result.ok} err {result.errors} achieved {result.achieved_rps:.1f}/s p50 {result.p50_ms:.1f} "
            f"p99 {result.p99_ms:.1f} ms; draining (at most {plan.drain_seconds:.0f} s)"
        )
        quiet_s = await quiet_drain(probe, lambda: all_visible(course, klass, watch, class_watch, load.sent), load_end, plan.drain_seconds)
        drained = time.time()
        caught_up = all_visible(course, klass, watch, class_watch, load.sent)
        await asyncio.sleep(1.5 * plan.sample_seconds)  # one more sample after the end
        snap2 = lab.meter.snapshot()
        stop.set()
        await asyncio.gather(*background)
        say(f"{plan.label}: drain: " + (f"everything visible and quiet {quiet_s:.2f} s after the load" if not math.isnan(quiet_s) else "NOT drained"))
        stored = await stored_bookings(lab.bookings, lab.tenant, [course.service_id, klass.service_id])
        rows = attribute(stored, load.sent, course, klass, watch, class_watch)
        watch_seconds = time.time() - t0
        return {
            "plan": plan,
            "offerings": {"course": course, "class": klass},
            "settled_before": settled.as_dict(),
            "quiet": {"foreign_cpu_pct": foreign, "waited_s": waited},
            "t0": t0,
            "load_end": load_end,
            "drained": drained,
            "caught_up": caught_up,
            "quiet_after_load_s": quiet_s,
            "drain_probe_ms_p50": percentile(sorted(probe.read_ms), 50),
            "step": result,
            "sent": load.sent,
            "rows": rows,
            "samples": sampler.samples,
            "sampler_errors": {**sampler.errors, **probe.errors},
            "watchers": [watch.summary(watch_seconds), class_watch.summary(watch_seconds)],
            "cpu": {"load": usage_dict(CpuMeter.percent(snap0, snap1)), "drain": usage_dict(CpuMeter.percent(snap1, snap2))},
            "windows": {"load_s": load_end - t0, "drain_s": time.time() - load_end},
        }
    finally:
        await sampler.close()
        await probe.close()


# --- what one step says -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drain:
    limit_s: float
    all_visible_s: float  # from the end of the load until the last booking was visible everywhere (0: before it ended)
    quiet_s: float  # ... until, everything visible, every consumer group was at lag 0 and every outbox empty
    probe_ms_p50: float  # how long one read of the lags and backlogs took: the resolution of `quiet_s`

    @property
    def drained_s(self) -> float:
        return math.nan if math.isnan(self.quiet_s) or math.isnan(self.all_visible_s) else max(self.all_visible_s, self.quiet_s)


@dataclass
class StepFigures:
    label: str
    rate: float
    seconds: float
    create: StepResult
    lags: dict[str, tuple[str, Spread]]  # key -> (what, spread)
    lag_by_third_ms: dict[str, list[float]]  # every | class | course -> p50 per third
    not_visible: dict[str, int]
    drain: Drain
    cpu_load: dict[str, float]
    pace: Pace
    behind: list[str] = field(default_factory=list)  # why the pipeline did not keep up (empty: it did)

    @property
    def flat(self) -> bool | None:
        return is_flat(self.lag_by_third_ms["every"])


def step_figures(record: dict[str, Any]) -> StepFigures:
    plan: StepPlan = record["plan"]
    rows: list[Committed] = [r for r in record["rows"] if r.measured]
    by_kind = {"class": [r for r in rows if r.kind == "class"], "course": [r for r in rows if r.kind == "course"]}
    n = len(record["offerings"]["course"].event_ids)
    lags = {
        "every": ("every booking → all its sessions", spread(r.lag_all_ms for r in rows)),
        "every_from_answer": ("every booking → all its sessions, from the CreateBooking answer", spread(r.lag_from_answer_ms for r in rows)),
        "class": ("class booking → its session", spread(r.lag_all_ms for r in by_kind["class"])),
        "course_first": (f"course booking → first of its {n} sessions", spread(r.lag_first_ms for r in by_kind["course"])),
        "course_all": (f"course booking → all {n} sessions", spread(r.lag_all_ms for r in by_kind["course"])),
    }
    by_third = {"every": thirds([(r.created, r.lag_all_ms) for r in rows])}
    by_third |= {kind: thirds([(r.created, r.lag_all_ms) for r in group]) for kind, group in by_kind.items()}
    not_visible = {"every": sum(1 for r in rows if math.isnan(r.visible_all))}
    not_visible |= {kind: sum(1 for r in group if math.isnan(r.visible_all)) for kind, group in by_kind.items()}
    seen = [r.visible_all for r in record["rows"]]
    last_visible = max(seen) - record["load_end"] if seen and not any(math.isnan(v) for v in seen) else math.nan
    drain = Drain(
        plan.drain_seconds, max(0.0, last_visible) if not math.isnan(last_visible) else math.nan, record["quiet_after_load_s"], record["drain_probe_ms_p50"]
    )
    create: StepResult = record["step"]
    first, middle, last = by_third["every"]
    pace = Pace(plan.rate, create.achieved_rps, create.errors, (first, middle, last), not_visible["every"])
    return StepFigures(
        label=plan.label,
        rate=plan.rate,
        seconds=plan.seconds,
        create=create,
        lags=lags,
        lag_by_third_ms=by_third,
        not_visible=not_visible,
        drain=drain,
        cpu_load=record["cpu"]["load"]["cpu_pct"],
        pace=pace,
        behind=falling_behind(pace),
    )


def unsettled_at_samples(record: dict[str, Any]) -> list[int]:
    """Bookings committed but not yet visible everywhere, at each sample."""
    rows: list[Committed] = record["rows"]
    return [sum(1 for r in rows if r.created <= s["t"] and not (r.visible_all <= s["t"])) for s in record["samples"]]


def consumer_peaks(record: dict[str, Any]) -> dict[str, Any]:
    samples, load_end = record["samples"], record["load_end"]
    peak: dict[str, Any] = {"consumer_lag": {}, "outbox": {}}
    for group in GROUPS:
        values = [s["consumer_lag"].get(group) for s in samples if s["consumer_lag"].get(group) is not None]
        at_load_end = [s["consumer_lag"].get(group) for s in samples if s["t"] <= load_end and s["consumer_lag"].get(group) is not None]
        zero_after = next((s["t"] - load_end for s in samples if s["t"] >= load_end and s["consumer_lag"].get(group) == 0), math.nan)
        peak["consumer_lag"][group] = {
            "max": max(values, default=math.nan),
            "at_load_end": at_load_end[-1] if at_load_end else math.nan,
            "last": values[-1] if values else math.nan,
            "zero_s_after_load": zero_after,
        }
    for schema in SCHEMAS:
        values = [s["outbox"][schema]["backlog"] for s in samples if s["outbox"].get(schema)]
        ages = [s["outbox"][schema]["oldest_age_s"] for s in samples if s["outbox"].get(schema)]
        peak["outbox"][schema] = {
            "max_backlog": max(values, default=math.nan),
            "max_oldest_age_s": max(ages, default=math.nan),
            "last": values[-1] if values else math.nan,
        }
    topics = sorted({k for smp in samples for k in smp.get("consumer_lag_by_topic", {})})
    peak["consumer_lag_by_topic"] = {
        k: {
            "max": max((smp["consumer_lag_by_topic"].get(k, 0) for smp in samples if smp.get("consumer_lag_by_topic")), default=math.nan),
            "last": next((smp["consumer_lag_by_topic"][k] for smp in reversed(samples) if k in smp.get("consumer_lag_by_topic", {})), math.nan),
        }
        for k in topics
    }
    return peak


def throughput(record: dict[str, Any]) -> dict[str, Any]:
    """Per group and topic: messages arriving (high watermarks) and committed per second, during
    the load and after it; and how long the rest would take at the committing rate after it."""
    samples = [smp for smp in record["samples"] if smp.get("offsets")]
    t0, load_end = record["t0"], record["load_end"]
    during = [smp for smp in samples if t0 - 1 <= smp["t"] <= load_end]
    after = [smp for smp in samples if smp["t"] >= load_end]
    out: dict[str, Any] = {}
    for key in sorted({k for smp in samples for k in smp["offsets"]}):

        def rate(window: list[dict[str, Any]], what: str, key: str = key) -> float:
            have = [smp for smp in window if key in smp["offsets"]]
            if len(have) < 2 or have[-1]["t"] - have[0]["t"] < 1:
                return math.nan
            return (have[-1]["offsets"][key][what] - have[0]["offsets"][key][what]) / (have[-1]["t"] - have[0]["t"])

        last = samples[-1]["offsets"].get(key, {}) if samples else {}
        # The high watermarks are read just before the committed offsets: a commit in between can pass them.
        rest = max(0, last.get("end", 0) - last.get("committed", 0))
        drain_rate = rate(after, "committed")
        out[key] = {
            "in_per_s_load": rate(during, "end"),
            "committed_per_s_load": rate(during, "committed"),
            "in_per_s_after": rate(after, "end"),
            "committed_per_s_after": drain_rate,
            "lag_last": rest,
            "rest_s_at_drain_rate": rest / drain_rate if rest and drain_rate and drain_rate > 0 else (0.0 if not rest else math.nan),
        }
    return out
