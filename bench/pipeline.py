"""`make bench-pipeline`: how long a booking takes to show in availability, under a steady stream
of bookings, and what the pipeline between them (outbox -> Kafka -> participations -> timeframes)
holds back meanwhile.

    python -m bench.pipeline [--rate 20] [--seconds 60] [--course-share 0.5] [--poll-ms 20] [--drain-seconds 40] [--quick]

What it does:
1. starts its own Platform (embedded Postgres/Redis/Kafka + the four services) in a temp dir on
   free ports, exactly as bench/availability.py does;
2. creates a tenant with a COURSE (30 sessions, one a day over 31 days) and a CLASS (10 sessions
   over the same days), both with a generous capacity, and switches `course_availability_enabled`
   and `proxy_course_to_new_endpoint` on for it (allow lists); checks the pipeline once end to
   end (a booking of a separate class must reach timeframes) so the consumers have their
   partitions before anything is measured;
3. watches: ListCourseEventTimeSlots (the course) and ListEventTimeSlots (the class), each every
   `--poll-ms`, noting for every session when its booked count (total - remaining) first
   reached each level; and every second the consumer lag of `participations.bookings-consumer`
   and `participations.event-updater` (committed offsets vs high watermarks, admin client) and the
   outbox backlog of each schema (unpublished rows, read-only SQL);
4. CreateBooking open loop (bench/loadgen.py) at `--rate` for `--seconds` after a warm-up,
   alternately the course and a class session (round robin);
5. keeps watching until every booking is visible everywhere and lags and backlogs are 0, or
   `--drain-seconds` passed;
6. writes bench/results/pipeline.{md,json} and pipeline.png.

**Propagation lag** of a booking = the first time availability shows it - its commit. The commit
time is the booking's `created_date` (Postgres `now()` in the inserting transaction, i.e. its
start: a few ms before the commit, so the lag is over- rather than underestimated), on the same
clock as the watchers. Concurrent bookings of one session are told apart by count: after the
run, every booking of the tenant is read back (QueryBookings) and, per session, the k-th booking
by `created_date` is visible when the session's booked count first reaches k. A course booking
counts on all 30 sessions, each settled separately: its lag is given to the first session and to
the last (all 30). The watchers' resolution is their period plus one call.
The platform and every helper process are stopped on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from bench import runtime
from bench.availability import ZONE, Ports, local_date, machine, make_platform, say, timestamp, until_ready
from bench.loadgen import StepResult, open_loop, percentile
from bench.procstats import CpuMeter, Usage
from bench.report import _jsonable as jsonable
from bench.report import _ms as ms
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.adapters.toggles import COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT, ToggleRule, get_rules, set_rule
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE, mint_token
from services.devstack.stack import MIGRATED, TOPICS, Platform
from services.participations import handlers as participations_handlers
from services.participations.entrypoints.events import BOOKINGS_GROUP, BOOKINGS_TOPICS, UPDATER_GROUP, UPDATER_TOPICS

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
COURSE_SESSIONS = 30
DAYS = 31
GROUPS = {BOOKINGS_GROUP: BOOKINGS_TOPICS, UPDATER_GROUP: UPDATER_TOPICS}
SCHEMAS = MIGRATED  # the services with an outbox
CPU_GROUPS = ("availability", "timeframes", "bookings", "participations", "postgres", "redis", "kafka", "generator")


@dataclass(frozen=True)
class Options:
    rate: float
    seconds: float
    warmup_seconds: float
    course_share: float
    class_sessions: int
    capacity: int
    poll_ms: float
    sample_seconds: float
    drain_seconds: float
    timeout: float
    legacy_validation: bool
    quiet_threshold: float
    quiet_max_wait: float
    out: Path
    keep: bool


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description="booking -> availability propagation benchmark")
    parser.add_argument("--rate", type=float, default=20.0, help="CreateBooking requests/s, open loop (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds of load (default %(default)s)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="unmeasured seconds of load first (default %(default)s)")
    parser.add_argument("--course-share", type=float, default=0.5, help="share of bookings for the course, the rest for class sessions (default %(default)s)")
    parser.add_argument("--class-sessions", type=int, default=10, help="sessions of the class (default %(default)s)")
    parser.add_argument("--capacity", type=int, default=5000, help="capacity of every session (default %(default)s)")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="period of each availability watcher (default %(default)s)")
    parser.add_argument("--sample-seconds", type=float, default=1.0, help="period of the lag/backlog sampler (default %(default)s)")
    parser.add_argument(
        "--drain-seconds", type=float, default=40.0, help="after the load, wait at most this long for the pipeline to catch up (default %(default)s)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="deadline of each CreateBooking, s (default %(default)s)")
    parser.add_argument(
        "--legacy-validation", action="store_true", help="leave proxy_course_to_new_endpoint off: CreateBooking validates with the legacy consistent read"
    )
    parser.add_argument("--quiet-threshold", type=float, default=25.0, help="before the load, wait until other processes use less than this %% of a core")
    parser.add_argument("--quiet-max-wait", type=float, default=30.0, help="...but at most this many seconds (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10/s for 10 s, 15 s of drain")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the report goes (default bench/results)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data) after a successful run")
    a = parser.parse_args(argv)
    if not 0.0 <= a.course_share <= 1.0:
        parser.error("--course-share must be within 0..1")
    rate, seconds, drain = (10.0, 10.0, 15.0) if a.quick else (a.rate, a.seconds, a.drain_seconds)
    return Options(
        rate=rate,
        seconds=seconds,
        warmup_seconds=a.warmup_seconds,
        course_share=a.course_share,
        class_sessions=max(1, a.class_sessions),
        capacity=a.capacity,
        poll_ms=a.poll_ms,
        sample_seconds=a.sample_seconds,
        drain_seconds=drain,
        timeout=a.timeout,
        legacy_validation=a.legacy_validation,
        quiet_threshold=a.quiet_threshold,
        quiet_max_wait=a.quiet_max_wait,
        out=a.out,
        keep=a.keep,
    )


# --- the tenant ---------------------------------------------------------------------------------------


@dataclass
class World:
    tenant: str
    metadata: list[tuple[str, str]]
    course_id: str
    course_schedule: str
    course_events: list[str]
    class_id: str
    class_schedule: str
    class_events: list[str]
    window: dict[str, str]
    toggles: dict[str, str]


async def _service(stub: services_pb2_grpc.ServicesStub, md: list[tuple[str, str]], kind: int, name: str, capacity: int) -> services_pb2.Service:
    service = services_pb2.Service(type=kind, name=name, default_capacity=capacity, time_zone=ZONE, online_booking_enabled=True)  # type: ignore[arg-type]
    return (await stub.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=md)).service


async def _sessions(stub: events_pb2_grpc.EventsStub, md: list[tuple[str, str]], schedule_id: str, starts: list[datetime]) -> list[str]:
    events = [events_pb2.Event(schedule_id=schedule_id, start=timestamp(s), end=timestamp(s + timedelta(hours=2))) for s in starts]
    response = await stub.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=events), metadata=md)
    return [e.id for e in sorted(response.events, key=lambda e: (e.start.seconds, e.id))]


async def create_world(stack: Platform, opts: Options) -> World:
    tenant = f"bench-{uuid.uuid4().hex[:12]}"
    scopes = [s for s in ALL_SCOPES if s != INTERNAL_SCOPE]
    md = [("authorization", f"Bearer {mint_token(stack.jwt_secret, tenant_id=tenant, scopes=scopes, ttl_seconds=3 * 3600, subject='bench')}")]
    now = datetime.now(UTC).replace(microsecond=0)
    first = (now + timedelta(days=1)).replace(minute=0, second=0)
    async with grpc.aio.insecure_channel(stack.address("bookings")) as bookings, grpc.aio.insecure_channel(stack.address("timeframes")) as timeframes:
        services, events = services_pb2_grpc.ServicesStub(bookings), events_pb2_grpc.EventsStub(timeframes)
        course = await _service(services, md, services_pb2.COURSE, "Bench course", opts.capacity)
        klass = await _service(services, md, services_pb2.CLASS, "Bench class", opts.capacity)
        course_events = await _sessions(events, md, course.schedule_id, [first + timedelta(days=i) for i in range(COURSE_SESSIONS)])
        step = max(1, (DAYS - 1) // opts.class_sessions)
        class_events = await _sessions(events, md, klass.schedule_id, [first + timedelta(days=i * step, hours=3) for i in range(opts.class_sessions)])
    toggles = {COURSE_AVAILABILITY_ENABLED: "on (allow list)", PROXY_COURSE_TO_NEW_ENDPOINT: "off" if opts.legacy_validation else "on (allow list)"}
    client = aioredis.Redis.from_url(stack.infra.env()["REDIS_URL"])
    try:
        rules = await get_rules(client)
        for name in (COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT):
            rule = rules.get(name) or ToggleRule()
            on = name == COURSE_AVAILABILITY_ENABLED or not opts.legacy_validation
            allow, deny = set(rule.allow) - {tenant}, set(rule.deny) - {tenant}
            (allow if on else deny).add(tenant)
            await set_rule(client, name, ToggleRule(rule.percentage, frozenset(allow), frozenset(deny)))
    finally:
        await client.aclose()
    window = {"from_local_date": local_date(now), "to_local_date": local_date(now + timedelta(days=DAYS)), "time_zone": ZONE}
    return World(tenant, md, course.id, course.schedule_id, course_events, klass.id, klass.schedule_id, class_events, window, toggles)


async def pipeline_check(stack: Platform, world: World, timeout: float = 60.0) -> float:
    """One booking of a separate class (not watched) must reach timeframes: every consumer has
    its partitions and every hop works before anything is measured. Returns how long it took."""
    async with grpc.aio.insecure_channel(stack.address("bookings")) as bookings, grpc.aio.insecure_channel(stack.address("timeframes")) as timeframes:
        klass = await _service(services_pb2_grpc.ServicesStub(bookings), world.metadata, services_pb2.CLASS, "Bench warm-up", 10)
        events = events_pb2_grpc.EventsStub(timeframes)
        (event_id,) = await _sessions(events, world.metadata, klass.schedule_id, [datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)])
        booking = bookings_pb2.Booking(
            service_id=klass.id, number_of_participants=1, contact=bookings_pb2.ContactDetails(name="Warm Up", email="w@example.com")
        )
        booking.booked_entity.slot.event_id = event_id
        began = time.monotonic()
        await bookings_pb2_grpc.BookingsStub(bookings).CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=world.metadata, timeout=10)
        while True:
            event = (await events.GetEvent(events_pb2.GetEventRequest(event_id=event_id), metadata=world.metadata)).event
            if event.participants_total == 1:
                return time.monotonic() - began
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"the pipeline check booking did not reach timeframes in {timeout:.0f} s")
            await asyncio.sleep(0.05)


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

    def __init__(self, channel: grpc.aio.Channel, world: World, opts: Options):
        self._stub = bookings_pb2_grpc.BookingsStub(channel)
        self._world = world
        self._opts = opts
        self._first_measured = int(round(opts.warmup_seconds * opts.rate))
        self._classes = 0
        self.sent: list[Sent] = []

    def _kind(self, n: int) -> str:
        share = self._opts.course_share
        return "course" if math.floor((n + 1) * share) > math.floor(n * share) else "class"

    def __call__(self) -> Awaitable[Any]:
        n = len(self.sent)
        kind = self._kind(n)
        booking = bookings_pb2.Booking(
            service_id=self._world.course_id if kind == "course" else self._world.class_id,
            number_of_participants=1,
            contact=bookings_pb2.ContactDetails(name=f"Bench {n}", email=f"bench{n}@example.com"),
        )
        event_id = ""
        if kind == "course":
            booking.booked_entity.schedule.schedule_id = self._world.course_schedule
        else:
            event_id = self._world.class_events[self._classes % len(self._world.class_events)]
            self._classes += 1
            booking.booked_entity.slot.event_id = event_id
        record = Sent(n, kind, event_id, n >= self._first_measured, time.time())
        self.sent.append(record)
        return self._send(booking, record)

    async def _send(self, booking: bookings_pb2.Booking, record: Sent) -> None:
        try:
            response = await self._stub.CreateBooking(
                bookings_pb2.CreateBookingRequest(booking=booking), metadata=self._world.metadata, timeout=self._opts.timeout
            )
        except grpc.aio.AioRpcError as exc:
            record.error = exc.code().name
            raise
        record.answered = time.time()
        record.booking_id = response.booking.id


# --- the watchers -------------------------------------------------------------------------------------


class Watcher:
    """Polls one availability endpoint every `period` s (a poll starts on schedule even if the one
    before has not answered, up to `max_in_flight`). For every session: the wall time at which
    its booked count (total - remaining) was first seen at each level (`levels[e][k-1]`: first
    seen at >= k)."""

    def __init__(self, name: str, call: Callable[[], Awaitable[Any]], period: float, max_in_flight: int = 4):
        self.name = name
        self._call = call
        self.period = period
        self._max_in_flight = max_in_flight
        self.levels: dict[str, list[float]] = {}
        self.polls = 0
        self.skipped = 0
        self.errors: dict[str, int] = {}
        self.latencies_ms: list[float] = []

    def booked(self, event_id: str) -> int:
        return len(self.levels.get(event_id, ()))

    def observe(self, response: Any, at: float) -> None:
        for slot in response.time_slots:
            count = slot.total_capacity - slot.remaining_capacity
            seen = self.levels.setdefault(slot.event_id, [])
            while len(seen) < count:
                seen.append(at)

    async def _poll(self) -> None:
        began = time.time()
        try:
            response = await self._call()
        except grpc.aio.AioRpcError as exc:
            self.errors[exc.code().name] = self.errors.get(exc.code().name, 0) + 1
            return
        at = time.time()
        self.polls += 1
        self.latencies_ms.append((at - began) * 1000)
        self.observe(response, at)

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        start = loop.time()
        i = 0
        while not stop.is_set():
            due = start + i * self.period
            if due > loop.time():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), due - loop.time())
                continue
            i += 1
            if len(pending) >= self._max_in_flight:
                self.skipped += 1
                continue
            task = loop.create_task(self._poll())
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending, timeout=5)

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "endpoint": self.name,
            "period_ms": self.period * 1000,
            "polls": self.polls,
            "polls_per_s": self.polls / seconds if seconds else math.nan,
            "skipped_in_flight": self.skipped,
            "errors": self.errors,
            "latency_p50_ms": percentile(lat, 50),
            "latency_p99_ms": percentile(lat, 99),
        }


# --- the sampler: consumer lag and outbox backlog ------------------------------------------------------


class Sampler:
    """Every `period` s: committed offsets vs high watermarks per consumer group (admin client and
    an unassigned consumer: nothing joins a group, nothing is committed), and the unpublished
    rows of each schema's outbox (a read-only session)."""

    def __init__(self, stack: Platform, period: float):
        env = stack.infra.env()
        self._bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        self._dsn = env["DATABASE_URL"]
        self.period = period
        self.samples: list[dict[str, Any]] = []
        self.errors: dict[str, int] = {}
        self._partitions = {group: [TopicPartition(t, p) for t in topics for p in range(TOPICS[t])] for group, topics in GROUPS.items()}
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._db: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False, request_timeout_ms=5000)
        await self._consumer.start()
        self._db = await asyncpg.connect(
            self._dsn, server_settings={"default_transaction_read_only": "on", "application_name": "bench-pipeline-sampler"}, timeout=10
        )

    async def close(self) -> None:
        for closing in (self._admin and self._admin.close(), self._consumer and self._consumer.stop(), self._db and self._db.close()):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing

    def _error(self, what: str, exc: BaseException) -> None:
        key = f"{what}: {type(exc).__name__}"
        self.errors[key] = self.errors.get(key, 0) + 1

    async def consumer_lag(self) -> tuple[dict[str, int | None], dict[str, int], dict[str, dict[str, int]]]:
        """(lag per group, lag per "group topic", high watermarks and committed offsets summed per "group topic")."""
        assert self._admin is not None and self._consumer is not None
        every = [tp for tps in self._partitions.values() for tp in tps]
        ends = await self._consumer.end_offsets(every)
        begins = await self._consumer.beginning_offsets(every)
        out: dict[str, int | None] = {}
        by_topic: dict[str, int] = {}
        offsets: dict[str, dict[str, int]] = {}
        for group, tps in self._partitions.items():
            try:
                committed = await self._admin.list_consumer_group_offsets(group, partitions=tps)
            except Exception as exc:  # noqa: BLE001 - recorded, the sample goes on
                self._error(f"offsets of {group}", exc)
                out[group] = None
                continue
            for tp in tps:
                meta = committed.get(tp)
                position = meta.offset if meta is not None and meta.offset >= 0 else begins.get(tp, 0)
                key = f"{group} {tp.topic}"
                by_topic[key] = by_topic.get(key, 0) + max(0, ends.get(tp, 0) - position)
                sums = offsets.setdefault(key, {"end": 0, "committed": 0})
                sums["end"] += ends.get(tp, 0)
                sums["committed"] += position
            out[group] = sum(v for k, v in by_topic.items() if k.startswith(group + " "))
        return out, by_topic, offsets

    async def outbox(self) -> dict[str, dict[str, float]]:
        assert self._db is not None
        out = {}
        for schema in SCHEMAS:
            row = await self._db.fetchrow(
                f"SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age "
                f"FROM {schema}.outbox WHERE published_at IS NULL"
            )
            out[schema] = {"backlog": int(row["backlog"]), "oldest_age_s": round(float(row["age"]), 3)}
        return out

    async def sample(self) -> dict[str, Any]:
        at = time.time()
        sample: dict[str, Any] = {"t": at}
        try:
            sample["consumer_lag"], sample["consumer_lag_by_topic"], sample["offsets"] = await self.consumer_lag()
        except Exception as exc:  # noqa: BLE001
            self._error("consumer lag", exc)
            sample["consumer_lag"], sample["consumer_lag_by_topic"], sample["offsets"] = {group: None for group in GROUPS}, {}, {}
        try:
            sample["outbox"] = await self.outbox()
        except Exception as exc:  # noqa: BLE001
            self._error("outbox", exc)
            sample["outbox"] = {schema: None for schema in SCHEMAS}
        self.samples.append(sample)
        return sample

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            began = time.monotonic()
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, self.period - (time.monotonic() - began)))

    def caught_up(self) -> bool:
        if not self.samples:
            return False
        last = self.samples[-1]
        lags = list(last["consumer_lag"].values())
        backlogs = [v["backlog"] if v else None for v in last["outbox"].values()]
        return all(v == 0 for v in lags + backlogs)


# --- attribution ----------------------------------------------------------------------------------------


@dataclass
class Committed:
    """One booking of the tenant as stored, with when availability first showed it."""

    booking_id: str
    kind: str
    event_id: str
    created: float  # created_date, epoch s
    measured: bool
    answered: float = math.nan
    visible_first: float = math.nan  # class: its session; course: the first of its sessions
    visible_all: float = math.nan  # class: its session; course: the last of its 30 sessions

    @property
    def lag_first_ms(self) -> float:
        return (self.visible_first - self.created) * 1000

    @property
    def lag_all_ms(self) -> float:
        return (self.visible_all - self.created) * 1000

    @property
    def lag_from_answer_ms(self) -> float:
        return (self.visible_all - self.answered) * 1000


async def stored_bookings(stack: Platform, world: World) -> list[bookings_pb2.Booking]:
    out: list[bookings_pb2.Booking] = []
    async with grpc.aio.insecure_channel(stack.address("bookings")) as channel:
        stub = bookings_pb2_grpc.BookingsStub(channel)
        cursor = ""
        while True:
            request = bookings_pb2.QueryBookingsRequest(
                service_ids=[world.course_id, world.class_id], cursor_paging=paging_pb2.CursorPaging(limit=1000, cursor=cursor)
            )
            response = await stub.QueryBookings(request, metadata=world.metadata, timeout=30)
            out.extend(response.bookings)
            if not (response.paging_metadata.has_next and response.paging_metadata.cursors.next):
                return out
            cursor = response.paging_metadata.cursors.next


def attribute(stored: list[bookings_pb2.Booking], sent: list[Sent], world: World, course: Watcher, klass: Watcher) -> list[Committed]:
    """Per session, the k-th booking by created_date is visible when the session's booked count
    first reached k (bookings are never cancelled here, so counts only grow)."""
    by_id = {s.booking_id: s for s in sent if s.booking_id}
    rows: list[Committed] = []
    for b in stored:
        s = by_id.get(b.id)
        kind = "course" if b.booked_entity.WhichOneof("item") == "schedule" else "class"
        created = b.created_date.seconds + b.created_date.nanos / 1e9
        rows.append(
            Committed(
                b.id,
                kind,
                b.booked_entity.slot.event_id if kind == "class" else "",
                created,
                measured=s.measured if s else False,
                answered=s.answered if s else math.nan,
            )
        )
    courses = sorted((r for r in rows if r.kind == "course"), key=lambda r: (r.created, r.booking_id))
    for k, r in enumerate(courses, start=1):
        times = [levels[k - 1] for e in world.course_events if len(levels := course.levels.get(e, [])) >= k]
        if times:
            r.visible_first = min(times)
        if len(times) == len(world.course_events):
            r.visible_all = max(times)
    for event_id in world.class_events:
        mine = sorted((r for r in rows if r.kind == "class" and r.event_id == event_id), key=lambda r: (r.created, r.booking_id))
        levels = klass.levels.get(event_id, [])
        for k, r in enumerate(mine, start=1):
            if len(levels) >= k:
                r.visible_first = r.visible_all = levels[k - 1]
    return rows


@dataclass
class LagStats:
    label: str
    bookings: int
    visible: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    min_ms: float
    negative: int  # visible before created_date (attribution by count across near-simultaneous commits)


def lag_stats(label: str, values: list[float]) -> LagStats:
    seen = sorted(v for v in values if not math.isnan(v))
    return LagStats(
        label,
        len(values),
        len(seen),
        percentile(seen, 50),
        percentile(seen, 95),
        percentile(seen, 99),
        seen[-1] if seen else math.nan,
        seen[0] if seen else math.nan,
        sum(1 for v in seen if v < 0),
    )


def all_visible(world: World, course: Watcher, klass: Watcher, sent: list[Sent]) -> bool:
    ok = [s for s in sent if s.booking_id]
    courses = sum(1 for s in ok if s.kind == "course")
    if any(course.booked(e) < courses for e in world.course_events):
        return False
    return all(klass.booked(e) >= sum(1 for s in ok if s.event_id == e) for e in world.class_events)


# --- the run --------------------------------------------------------------------------------------------


def slots_call(channel: grpc.aio.Channel, world: World, course: bool, timeout: float = 2.0) -> Callable[[], Awaitable[Any]]:
    if course:
        stub = time_slots_pb2_grpc.CourseEventTimeSlotsStub(channel)
        request = time_slots_pb2.ListCourseEventTimeSlotsRequest(service_ids=[world.course_id], **world.window)
        return lambda: stub.ListCourseEventTimeSlots(request, metadata=world.metadata, timeout=timeout)
    cstub = time_slots_pb2_grpc.EventTimeSlotsStub(channel)
    crequest = time_slots_pb2.ListEventTimeSlotsRequest(service_ids=[world.class_id], **world.window)
    return lambda: cstub.ListEventTimeSlots(crequest, metadata=world.metadata, timeout=timeout)


def usage_dict(u: Usage) -> dict[str, Any]:
    return {"cpu_pct": u.per_group, "machine_busy_pct": u.machine_busy_pct, "foreign_cpu_pct": u.foreign_pct}


async def run(stack: Platform, opts: Options) -> dict[str, Any]:
    results: dict[str, Any] = {}
    world = await create_world(stack, opts)
    say(
        f"tenant {world.tenant}: COURSE {world.course_id} ({COURSE_SESSIONS} sessions), CLASS {world.class_id} "
        f"({opts.class_sessions} sessions), capacity {opts.capacity}"
    )
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
    watch_channel = grpc.aio.insecure_channel(stack.address("availability"))
    book_channel = grpc.aio.insecure_channel(stack.address("bookings"))
    sampler = Sampler(stack, opts.sample_seconds)
    try:
        course_call, class_call = slots_call(watch_channel, world, True), slots_call(watch_channel, world, False)
        await until_ready(course_call, COURSE_SESSIONS)  # the toggle is re-read every 0.5 s
        await until_ready(class_call, opts.class_sessions)
        await asyncio.sleep(1.2)  # proxy_course_to_new_endpoint too
        check_s = await pipeline_check(stack, world)
        say(f"pipeline check: a class booking reached timeframes in {check_s * 1000:.0f} ms")
        await sampler.start()
        baseline = await sampler.sample()
        say(f"baseline: consumer lag {baseline['consumer_lag']}, outbox {baseline['outbox']}")
        sampler.samples.clear()

        course_watch = Watcher("ListCourseEventTimeSlots", course_call, opts.poll_ms / 1000)
        class_watch = Watcher("ListEventTimeSlots", class_call, opts.poll_ms / 1000)
        foreign, waited = await meter.wait_quiet(opts.quiet_threshold, opts.quiet_max_wait)
        if foreign > opts.quiet_threshold:
            say(f"warning: other processes use {foreign:.0f} % of a core; measuring anyway")
        stop = asyncio.Event()
        background = [asyncio.create_task(t.run(stop)) for t in (course_watch, class_watch, sampler)]
        load = Bookings(book_channel, world, opts)
        await asyncio.sleep(1.0)  # the watchers' first answers: the starting counts (0)
        t0 = time.time()
        snap0 = meter.snapshot()
        say(f"load: CreateBooking {opts.rate:.0f}/s for {opts.warmup_seconds:.0f} + {opts.seconds:.0f} s ({opts.course_share:.0%} course)")
        step = await open_loop(
            load, rate=opts.rate, duration=opts.seconds, warmup=opts.warmup_seconds, label="CreateBooking", timeout=opts.timeout, drain=opts.timeout + 1
        )
        load_end = time.time()
        snap1 = meter.snapshot()
        say(
            f"CreateBooking: ok {step.ok} err {step.errors} achieved {step.achieved_rps:.1f}/s p50 {ms(step.p50_ms)} p95 {ms(step.p95_ms)} "
            f"p99 {ms(step.p99_ms)} ms; draining (at most {opts.drain_seconds:.0f} s)"
        )
        while time.time() - load_end < opts.drain_seconds:
            if all_visible(world, course_watch, class_watch, load.sent) and sampler.caught_up():
                break
            await asyncio.sleep(0.2)
        drained = time.time()
        caught_up = all_visible(world, course_watch, class_watch, load.sent)
        await asyncio.sleep(1.5 * opts.sample_seconds)  # one more sample after the end
        snap2 = meter.snapshot()
        stop.set()
        await asyncio.gather(*background)
        say(f"drain: {'everything visible' if caught_up else 'NOT everything visible'}, stopped watching {drained - load_end:.1f} s after the load ended")

        stored = await stored_bookings(stack, world)
        rows = attribute(stored, load.sent, world, course_watch, class_watch)
        watch_seconds = time.time() - t0
        results.update(
            world=asdict(world),
            pipeline_check_ms=check_s * 1000,
            quiet={"foreign_cpu_pct": foreign, "waited_s": waited},
            t0=t0,
            load_end=load_end,
            drained=drained,
            caught_up=caught_up,
            step=step,
            sent=load.sent,
            rows=rows,
            samples=sampler.samples,
            sampler_errors=sampler.errors,
            baseline=baseline,
            watchers=[course_watch.summary(watch_seconds), class_watch.summary(watch_seconds)],
            cpu={"load": usage_dict(CpuMeter.percent(snap0, snap1)), "drain": usage_dict(CpuMeter.percent(snap1, snap2))},
            windows={"load_s": load_end - t0, "drain_s": time.time() - load_end},
        )
    finally:
        await sampler.close()
        await watch_channel.close()
        await book_channel.close()
    return results


# --- analysis and report ----------------------------------------------------------------------------------


def analyse(results: dict[str, Any]) -> dict[str, Any]:
    rows: list[Committed] = results["rows"]
    measured = [r for r in rows if r.measured]
    course = [r for r in measured if r.kind == "course"]
    klass = [r for r in measured if r.kind == "class"]
    lags = {
        "class": lag_stats("class booking → its session", [r.lag_all_ms for r in klass]),
        "course_first": lag_stats("course booking → first of its 30 sessions", [r.lag_first_ms for r in course]),
        "course_all": lag_stats("course booking → all 30 sessions", [r.lag_all_ms for r in course]),
        "every": lag_stats("every booking → all its sessions", [r.lag_all_ms for r in measured]),
        "every_from_answer": lag_stats("every booking → all its sessions, from the CreateBooking answer", [r.lag_from_answer_ms for r in measured]),
    }
    load_end = results["load_end"]
    # Does the lag settle or grow? p50 per third of the measured bookings (by commit time).
    trend: dict[str, Any] = {}
    for kind, group in (("class", klass), ("course", course)):
        ordered = sorted(group, key=lambda r: r.created)
        thirds = [ordered[i * len(ordered) // 3 : (i + 1) * len(ordered) // 3] for i in range(3)]
        trend[kind] = {
            "bookings": len(group),
            "p50_ms_by_third": [percentile(sorted(r.lag_all_ms for r in part if not math.isnan(r.lag_all_ms)), 50) for part in thirds],
            "not_visible_at_end": sum(1 for r in group if math.isnan(r.visible_all)),
        }
    seen = [r.visible_all for r in rows]
    all_visible_after_load = max(seen) - load_end if seen and not any(math.isnan(v) for v in seen) else math.nan
    # Bookings committed but not yet visible everywhere, at each sample.
    backlog = []
    for s in results["samples"]:
        t = s["t"]
        backlog.append(sum(1 for r in rows if r.created <= t and not (r.visible_all <= t)))
    peak: dict[str, Any] = {"consumer_lag": {}, "outbox": {}}
    for group in GROUPS:
        values = [s["consumer_lag"].get(group) for s in results["samples"] if s["consumer_lag"].get(group) is not None]
        at_load_end = [s["consumer_lag"].get(group) for s in results["samples"] if s["t"] <= load_end and s["consumer_lag"].get(group) is not None]
        zero_after = next((s["t"] - load_end for s in results["samples"] if s["t"] >= load_end and s["consumer_lag"].get(group) == 0), math.nan)
        peak["consumer_lag"][group] = {
            "max": max(values, default=math.nan),
            "at_load_end": at_load_end[-1] if at_load_end else math.nan,
            "last": values[-1] if values else math.nan,
            "zero_s_after_load": zero_after,
        }
    for schema in SCHEMAS:
        values = [s["outbox"][schema]["backlog"] for s in results["samples"] if s["outbox"].get(schema)]
        ages = [s["outbox"][schema]["oldest_age_s"] for s in results["samples"] if s["outbox"].get(schema)]
        peak["outbox"][schema] = {
            "max_backlog": max(values, default=math.nan),
            "max_oldest_age_s": max(ages, default=math.nan),
            "last": values[-1] if values else math.nan,
        }
    topics = sorted({k for smp in results["samples"] for k in smp.get("consumer_lag_by_topic", {})})
    peak["consumer_lag_by_topic"] = {
        k: {
            "max": max((smp["consumer_lag_by_topic"].get(k, 0) for smp in results["samples"] if smp.get("consumer_lag_by_topic")), default=math.nan),
            "last": next((smp["consumer_lag_by_topic"][k] for smp in reversed(results["samples"]) if k in smp.get("consumer_lag_by_topic", {})), math.nan),
        }
        for k in topics
    }
    return {
        "lags": lags,
        "trend": trend,
        "all_visible_s_after_load": all_visible_after_load,
        "unsettled_at_samples": backlog,
        "peaks": peak,
        "throughput": throughput(results),
    }


def throughput(results: dict[str, Any]) -> dict[str, Any]:
    """Per group and topic: messages arriving (high watermarks) and committed per second, during
    the load and after it; and how long the rest would take at the committing rate after it."""
    samples = [smp for smp in results["samples"] if smp.get("offsets")]
    t0, load_end = results["t0"], results["load_end"]
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
        rest = last.get("end", 0) - last.get("committed", 0)
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


def _rate(v: float) -> str:
    return "–" if v is None or math.isnan(v) else f"{v:.1f}"


def _pct(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"


def _s(v: float) -> str:
    return "–" if v is None or math.isnan(v) else f"{v / 1000:.2f} s" if v >= 10_000 else f"{v:.0f} ms"


def _grows(trend: dict[str, Any]) -> bool:
    """The lag grows over the run: the last third's p50 is over twice the first's and 1 s more, or
    some bookings never became visible."""
    first, _, last = trend["p50_ms_by_third"]
    if trend["not_visible_at_end"]:
        return True
    return not (math.isnan(first) or math.isnan(last)) and last > 2 * first and last - first > 1000


def interpretation(results: dict[str, Any], a: dict[str, Any]) -> list[str]:
    o = results["meta"]["options"]
    step: StepResult = results["step"]
    lags: dict[str, LagStats] = a["lags"]
    trend = a["trend"]
    peaks = a["peaks"]
    lines = []
    foreign = results["cpu"]["load"]["foreign_cpu_pct"]
    if foreign > 25:
        lines.append(
            f"- ⚠ **Shared machine**: processes outside the benchmark used {foreign:.0f} % of a core during the load; every latency below is "
            "worse than this code on a machine of its own. Re-run when the machine is idle."
        )
    offered = o["rate"]
    lines.append(
        f"- **CreateBooking** kept up with the offered {offered:.0f}/s: achieved {step.achieved_rps:.1f}/s, p50 {ms(step.p50_ms)} ms, "
        f"p99 {ms(step.p99_ms)} ms, {step.errors} errors."
        if step.achieved_rps >= 0.98 * offered and step.errors == 0
        else f"- **CreateBooking** did not keep up with {offered:.0f}/s: achieved {step.achieved_rps:.1f}/s, p99 {ms(step.p99_ms)} ms, "
        f"{step.errors} errors ({step.error_codes})."
    )
    cl, ca, cf = lags["class"], lags["course_all"], lags["course_first"]
    lines.append(
        f"- **A class booking** (one session to settle) shows in ListEventTimeSlots after p50 {_s(cl.p50_ms)}, p95 {_s(cl.p95_ms)}, "
        f"p99 {_s(cl.p99_ms)} ({cl.visible}/{cl.bookings} seen)."
    )
    per_session = (ca.p50_ms - cf.p50_ms) / (COURSE_SESSIONS - 1) if ca.visible and cf.visible else math.nan
    lines.append(
        f"- **A course booking** ({COURSE_SESSIONS} sessions to settle) shows on its first session after p50 {_s(cf.p50_ms)} and on all "
        f"{COURSE_SESSIONS} after p50 {_s(ca.p50_ms)}, p95 {_s(ca.p95_ms)}, p99 {_s(ca.p99_ms)} ({ca.visible}/{ca.bookings} seen everywhere). "
        f"The sessions of one course booking become visible one after the other, ≈ {per_session:.0f} ms apart at the median: the event updater "
        + (
            "settles them one after the other"
            if results["meta"].get("settle_concurrency", 1) <= 1
            else f"settles them at most {results['meta']['settle_concurrency']} at a time"
        )
        + " (a transaction and an UpdateEventParticipants call each), and each settlement re-reads every active participation of the "
        "schedule, so that cost grows with the number of course bookings (services/participations: `EventUpdater.settle`, `counted_on`)."
    )
    for kind, t in trend.items():
        first, middle, last = t["p50_ms_by_third"]
        thirds = f"p50 by third of the run {_s(first)} → {_s(middle)} → {_s(last)}"
        if _grows(t):
            lines.append(
                f"- **The capacity lag of {kind} bookings rose over the run**: {thirds}"
                + (f", {t['not_visible_at_end']} not visible everywhere by the end" if t["not_visible_at_end"] else "")
                + ". Whether it keeps growing or that was an episode (see the plot) a run this short cannot tell; its percentiles describe "
                "this run, not a steady state."
            )
        elif not (math.isnan(first) or math.isnan(last)) and last > 1.3 * first and last - first > 500:
            lines.append(f"- **The capacity lag of {kind} bookings rises somewhat** over the run ({thirds}), less than it would if the path fell behind.")
        else:
            lines.append(f"- **The capacity lag of {kind} bookings does not grow** over the run: {thirds}.")
    ev = peaks["consumer_lag"].get(UPDATER_GROUP, {})
    bc = peaks["consumer_lag"].get(BOOKINGS_GROUP, {})
    booked = a["throughput"].get(f"{BOOKINGS_GROUP} bookings.booking-events.v1", {})
    lines.append(
        f"- **Consumer lag**: `{BOOKINGS_GROUP}` committed {_rate(booked.get('committed_per_s_load', math.nan))} of "
        f"{_rate(booked.get('in_per_s_load', math.nan))} messages/s during the load and peaked at {_pct(bc.get('max'))} messages behind "
        f"({_pct(bc.get('at_load_end'))} when the load ended)"
        + (
            ": turning bookings into participations keeps up."
            if (bc.get("max") or 0) <= 20
            else ": it keeps up on average but fell behind for a while; it shares the participations process (one event loop, one "
            "connection pool) with the event updater."
        )
        + f" `{UPDATER_GROUP}` peaked at {_pct(ev.get('max'))} ({_pct(ev.get('at_load_end'))} when the load ended, "
        f"{_pct(ev.get('last'))} at the last sample)."
    )
    part = a["throughput"].get(f"{UPDATER_GROUP} bookings.participation-events.v1")
    if part and not math.isnan(part["in_per_s_load"]) and part["committed_per_s_load"] < 0.9 * part["in_per_s_load"]:
        rest = part["rest_s_at_drain_rate"]
        lines.append(
            f"- **The event updater does not keep up with its messages.** During the load {part['in_per_s_load']:.1f} participation messages/s "
            f"arrived and {part['committed_per_s_load']:.1f}/s were committed; after it, {_rate(part['committed_per_s_after'])}/s"
            + (
                f", so the {part['lag_last']} still waiting at the last sample need in the order of {rest:.0f} s more (commits come in steps: a coarse figure)."
                if not math.isnan(rest) and rest
                else "."
            )
            + f" Under a steady {o['rate']:.0f} bookings/s its backlog grows for as long as the load lasts (see the plot), and it stays busy "
            "after the load (participations' CPU in the drain window)."
        )
        lines.append(
            "- **Why capacity is fresh all the same.** A settlement never applies its message's delta: it recomputes the session's "
            f"total from the participations table (services/participations/domain/totals.py), which `{BOOKINGS_GROUP}` keeps "
            f"current (peak lag {_pct(bc.get('max'))} messages). So settling a session for an *old* message makes it current for "
            "every booking committed so far: the capacity lag is the wait until *some* message of that session is settled, not until "
            "its own. The many messages behind it then only repeat identical writes. Bookings of a session become visible together, "
            "which draws the falling arcs of the class lags in the plot (lag = one moment − each commit); a course message settles "
            "all 30 sessions, so course bookings rarely wait long for one."
        )
    if cl.visible and cf.visible and cl.p50_ms > cf.p50_ms:
        lines.append(
            f"- **Class bookings wait longer than course bookings.** A class booking settles one session, yet its p50 ({_s(cl.p50_ms)}) is above a "
            f"course booking's first session ({_s(cf.p50_ms)}): a class session is refreshed only by a message of its own (1 in "
            f"{len(results['world']['class_events']) / max(1e-9, 1 - o['course_share']):.0f} of the participation messages here), "
            f"and those wait in `{UPDATER_GROUP}` behind course messages of "
            "30 settlements each. The runner processes a fetched batch's partitions concurrently but fetches again, and commits, only when "
            "every partition's share is done (services/common/kafka.py, `KafkaConsumerRunner._consume`: `gather`, then `getmany`): one "
            "partition holding several course messages holds up all the others; the committed offsets advance in steps, at batch ends."
        )
    by_topic = peaks.get("consumer_lag_by_topic", {})
    echo = by_topic.get(f"{UPDATER_GROUP} calendar.event-events.v1")
    if echo and not math.isnan(echo["max"]) and echo["max"] > 0:
        lines.append(
            f"- Of the event updater's lag, up to {_pct(echo['max'])} messages are on calendar.event-events.v1: timeframes announces every "
            "settled session (`calendar.event.participants_updated.v1`, 30 per course message) and the updater reads each of them only to skip "
            "it (it acts on created sessions). Each costs little but takes its place in the partitions' batches."
        )
    ob = peaks["outbox"]
    lines.append(
        "- **Outbox backlog** (unpublished rows, sampled every second): "
        + ", ".join(f"{schema} max {_pct(v['max_backlog'])} (oldest {v['max_oldest_age_s']:.2f} s)" for schema, v in ob.items())
        + (
            ". The relays publish about as fast as rows are written: the lag builds up in the consumers, not before Kafka."
            if all(v["max_oldest_age_s"] < 1.0 for v in ob.values())
            else "."
        )
    )
    load = results["cpu"]["load"]["cpu_pct"]
    busiest = sorted(load.items(), key=lambda kv: -kv[1])[:3]
    lines.append(
        "- **CPU during the load** (% of one core): "
        + ", ".join(f"{k} {v:.0f}" for k, v in busiest)
        + f"; the machine was {results['cpu']['load']['machine_busy_pct']:.0f} % busy over its {results['meta']['machine']['nproc']} cores. "
        + (
            "No process is near a full core: the pipeline is limited by its sequential waits (one settlement after the other), not by CPU."
            if max(load.values(), default=0) < 80 and results["cpu"]["load"]["machine_busy_pct"] < 90
            else "No single process is near a full core, but the cores were: every queue (gRPC, Postgres, the consumers) waited for CPU too, "
            "so part of each lag above is the machine's, not the design's."
            if max(load.values(), default=0) < 80
            else "A Python process near 100 % of a core is saturated: queues and lags grow from there."
        )
    )
    return lines


CAVEATS = [
    "Resolution: each watcher sees a change at most one period plus one call after it happened (see the watcher table); lags below that are not resolved.",
    "The watchers are load too: two availability reads every period, each fanning out to timeframes (events) — their CPU is in the "
    "availability and timeframes columns.",
    "Attribution is by count: with several bookings of one session committing within milliseconds, the k-th by `created_date` may "
    "not be the k-th committed, so "
    "single lags can be off by the spacing of those commits (negative lags, if any, are counted in the table); percentiles are not affected materially.",
    "`created_date` is the inserting transaction's start (Postgres `now()`), a few ms before its commit: lags are slightly overestimated, never under.",
    "Everything shares one machine (services, Postgres, Redis, Kafka, the generator and the watchers); the bench waits for other processes to be quiet first "
    "and records what they used.",
]


def markdown(results: dict[str, Any], a: dict[str, Any], png_name: str) -> str:
    meta = results["meta"]
    m = meta["machine"]
    o = meta["options"]
    step: StepResult = results["step"]
    out: list[str] = []
    w = out.append
    w("# Booking → availability propagation benchmark\n")
    w("Generated by `make bench-pipeline` (bench/pipeline.py, method in its docstring). Do not edit: re-run it.\n")
    w(f"- **Date**: {meta['date']} (UTC); run took {meta['duration_s']:.0f} s (platform start {meta['platform_start_s']:.0f} s)")
    w(
        f"- **Machine**: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}; Python {m['python']}, grpcio {m['grpcio']}, "
        f"event loop {m.get('event_loop', '?')}; commit `{m['commit']}`"
    )
    if m.get("uncommitted_service_changes"):
        w(f"- **Code measured**: commit `{m['commit']}` plus uncommitted changes in " + ", ".join(f"`{f}`" for f in m["uncommitted_service_changes"]))
    w(f"- **Command**: `{meta['command']}`")
    w(
        f"- **Event updater** in the code measured: settles at most {meta.get('settle_concurrency', 1)} session(s) of a course at once "
        "(`_SETTLE_CONCURRENCY`, services/participations/handlers.py)"
    )
    w(
        f"- **Workload**: one tenant with a COURSE ({COURSE_SESSIONS} sessions, one a day over {DAYS} days) and a CLASS "
        f"({o['class_sessions']} sessions over the same days), capacity {o['capacity']} per session; toggles for the tenant: "
        + ", ".join(f"`{k}` {v}" for k, v in results["world"]["toggles"].items())
        + f". CreateBooking open loop at {o['rate']:.0f}/s for {o['warmup_seconds']:.0f} s warm-up + {o['seconds']:.0f} s measured, "
        f"{o['course_share']:.0%} for the course (whole-course bookings), the rest round robin over the class sessions, 1 participant each, "
        f"deadline {o['timeout']:.0f} s. Watchers poll ListCourseEventTimeSlots and ListEventTimeSlots every {o['poll_ms']:.0f} ms; lags and backlogs are "
        f"sampled every {o['sample_seconds']:.0f} s. After the load, at most {o['drain_seconds']:.0f} s of drain."
    )
    q = results["quiet"]
    w(
        f"- **Other processes** used {q['foreign_cpu_pct']:.0f} % of a core just before the load (waited {q['waited_s']:.0f} s for quiet); "
        f"{results['cpu']['load']['foreign_cpu_pct']:.0f} % during it."
    )
    w(f"- **Pipeline check** before the load: a class booking reached timeframes in {results['pipeline_check_ms']:.0f} ms.\n")

    w("## CreateBooking\n")
    w("Latency from each request's scheduled send time (open loop, bench/loadgen.py), warm-up excluded.\n")
    w("| offered/s | achieved/s | ok | errors | p50 ms | p95 ms | p99 ms | max ms | send lag p99 ms |")
    w("|---|---|---|---|---|---|---|---|---|")
    errors = f"{step.errors}" + (f" ({', '.join(f'{k} {v}' for k, v in step.error_codes.items())})" if step.errors else "")
    w(
        f"| {step.rate:.0f} | {step.achieved_rps:.1f} | {step.ok} | {errors} | {ms(step.p50_ms)} | {ms(step.p95_ms)} | {ms(step.p99_ms)} | "
        f"{ms(step.max_ms)} | {ms(step.send_lag_p99_ms)} |\n"
    )

    w("## Propagation lag: commit → visible in availability\n")
    w(f"![lag and backlog over time]({png_name})\n")
    w(
        "From each booking's `created_date` to the first watcher answer whose remaining capacity reflects it (measured bookings only; "
        "*seen* = visible by the end of the run; percentiles over those seen, so with unseen ones they are lower bounds).\n"
    )
    w("| what | seen / bookings | p50 | p95 | p99 | max | min | negative |")
    w("|---|---|---|---|---|---|---|---|")
    for st in a["lags"].values():
        w(
            f"| {st.label} | {st.visible} / {st.bookings} | {_s(st.p50_ms)} | {_s(st.p95_ms)} | {_s(st.p99_ms)} | {_s(st.max_ms)} "
            f"| {_s(st.min_ms)} | {st.negative} |"
        )
    w("")
    w("Does the lag settle or grow? p50 of the lag (to all of a booking's sessions) per third of the measured bookings, by commit time:\n")
    w("| kind | measured bookings | first third | middle third | last third | not visible everywhere at the end |")
    w("|---|---|---|---|---|---|")
    for kind, t in a["trend"].items():
        w(f"| {kind} | {t['bookings']} | " + " | ".join(_s(v) for v in t["p50_ms_by_third"]) + f" | {t['not_visible_at_end']} |")
    after = a["all_visible_s_after_load"]
    w(
        "\nDrain: "
        + (
            f"every booking was visible everywhere {after:.1f} s after the load ended"
            if not math.isnan(after)
            else f"**not every booking was visible everywhere** when the bench stopped watching, {results['drained'] - results['load_end']:.0f} s "
            f"after the load ended (limit {o['drain_seconds']:.0f} s)"
        )
        + ".\n"
    )

    w("## Consumer lag and outbox backlog\n")
    w(
        "Consumer lag = Σ over the group's partitions of (high watermark − committed offset), read with an admin client and an unassigned consumer "
        "(nothing joins the groups). Outbox backlog = rows with `published_at IS NULL` per schema (read-only SQL).\n"
    )
    w("| consumer group | max lag | at the end of the load | last sample | 0 again after the load |")
    w("|---|---|---|---|---|")
    for group, v in a["peaks"]["consumer_lag"].items():
        zero = "–" if math.isnan(v["zero_s_after_load"]) else f"{v['zero_s_after_load']:.1f} s"
        w(f"| `{group}` | {_pct(v['max'])} | {_pct(v['at_load_end'])} | {_pct(v['last'])} | {zero} |")
    w("")
    if a["peaks"].get("consumer_lag_by_topic"):
        w("| consumer group, topic | max lag | last sample |")
        w("|---|---|---|")
        for key, v in a["peaks"]["consumer_lag_by_topic"].items():
            group, topic = key.split(" ", 1)
            w(f"| `{group}`, {topic} | {_pct(v['max'])} | {_pct(v['last'])} |")
        w("")
    tp = a["throughput"]
    if tp:
        w(
            "Messages per second (from the same samples: high watermarks = arriving, committed offsets = done). The event updater commits "
            "in steps, when a whole fetched batch is done, so its rates over a window of tens of seconds are coarse, and the last column "
            "(lag at the last sample / committed per second after the load) is an order of magnitude, no more:\n"
        )
        w("| group, topic | arriving/s, load | committed/s, load | arriving/s, after | committed/s, after | lag, last sample | rest at that rate |")
        w("|---|---|---|---|---|---|---|")
        for key, v in tp.items():
            group, topic = key.split(" ", 1)
            rest = v["rest_s_at_drain_rate"]
            w(
                f"| `{group}`, {topic} | {_rate(v['in_per_s_load'])} | {_rate(v['committed_per_s_load'])} | {_rate(v['in_per_s_after'])} | "
                f"{_rate(v['committed_per_s_after'])} | {v['lag_last']} | {'–' if math.isnan(rest) else f'{rest:.0f} s'} |"
            )
        w("")
    w("| outbox schema | max backlog | max age of the oldest unpublished row | last sample |")
    w("|---|---|---|---|")
    for schema, v in a["peaks"]["outbox"].items():
        w(f"| `{schema}` | {_pct(v['max_backlog'])} | {v['max_oldest_age_s']:.2f} s | {_pct(v['last'])} |")
    if results["sampler_errors"]:
        w(f"\nSampler errors: {results['sampler_errors']}")
    w("")

    w("## Watchers\n")
    w("| endpoint | period ms | polls | polls/s | skipped (4 in flight) | errors | p50 ms | p99 ms |")
    w("|---|---|---|---|---|---|---|---|")
    for v in results["watchers"]:
        w(
            f"| {v['endpoint']} | {v['period_ms']:.0f} | {v['polls']} | {v['polls_per_s']:.1f} | {v['skipped_in_flight']} | {v['errors'] or 0} | "
            f"{ms(v['latency_p50_ms'])} | {ms(v['latency_p99_ms'])} |"
        )
    w("")

    w("## CPU per process\n")
    w("% of one core (bench/procstats.py); postgres = postmaster + backends; generator = the bench process alone (load generator, watchers, sampler).\n")
    w("| window | " + " | ".join(CPU_GROUPS) + " | machine busy % | other processes % |")
    w("|---|" + "---|" * (len(CPU_GROUPS) + 2))
    for name, label in (("load", f"load ({results['windows']['load_s']:.0f} s)"), ("drain", f"drain ({results['windows']['drain_s']:.0f} s)")):
        u = results["cpu"][name]
        w(
            f"| {label} | "
            + " | ".join(_pct(u["cpu_pct"].get(g, math.nan)) for g in CPU_GROUPS)
            + f" | {u['machine_busy_pct']:.0f} | {u['foreign_cpu_pct']:.0f} |"
        )
    w("")

    w("## Interpretation\n")
    out.extend(interpretation(results, a))
    w("\nCaveats:\n")
    out.extend(f"- {c}" for c in CAVEATS)
    return "\n".join(out) + "\n"


def plot(results: dict[str, Any], a: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t0, load_end = results["t0"], results["load_end"]
    rows: list[Committed] = results["rows"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 8), dpi=110, sharex=True)
    for label, points, style in (
        ("class → its session", [(r.created - t0, r.lag_all_ms) for r in rows if r.kind == "class"], dict(s=6, c="tab:green")),
        ("course → first session", [(r.created - t0, r.lag_first_ms) for r in rows if r.kind == "course"], dict(s=6, c="tab:orange")),
        ("course → all 30 sessions", [(r.created - t0, r.lag_all_ms) for r in rows if r.kind == "course"], dict(s=6, c="tab:red")),
    ):
        xs = [x for x, y in points if not math.isnan(y) and y > 0]
        ys = [y for _, y in points if not math.isnan(y) and y > 0]
        if xs:
            ax1.scatter(xs, ys, label=label, alpha=0.6, **style)  # type: ignore[arg-type]
        unseen = [x for x, y in points if math.isnan(y)]
        if unseen:
            top = max(ys, default=1000.0)
            ax1.scatter(unseen, [top * 1.3] * len(unseen), marker="x", c=style["c"], s=12, label=f"{label}: not visible by the end")
    answered = [(s.answered - t0, (s.answered - s.sent) * 1000) for s in results["sent"] if s.booking_id]
    if answered:
        ax1.scatter([x for x, _ in answered], [y for _, y in answered], s=3, c="tab:gray", alpha=0.4, label="CreateBooking latency")
    ax1.set_yscale("log")
    ax1.set_ylabel("ms (log)")
    ax1.set_title("propagation lag of each booking (commit → visible), by commit time", fontsize=10)
    ax1.axvline(load_end - t0, color="k", ls="--", lw=1)
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=7, loc="upper left")

    ts = [s["t"] - t0 for s in results["samples"]]
    keys = sorted({k for smp in results["samples"] for k in smp.get("consumer_lag_by_topic", {})})
    for key in keys:  # per group and topic: the event updater's two topics behave differently
        ys = [smp.get("consumer_lag_by_topic", {}).get(key, math.nan) for smp in results["samples"]]
        ax2.plot(ts, ys, "-", label=f"consumer lag {key.replace(' ', ' ← ')}")
    for schema in SCHEMAS:
        ys = [s["outbox"][schema]["backlog"] if s["outbox"].get(schema) else math.nan for s in results["samples"]]
        ax2.plot(ts, ys, ":", label=f"outbox backlog {schema}")
    ax2.plot(ts, a["unsettled_at_samples"], "k-", lw=2, label="bookings committed, not yet visible everywhere")
    ax2.axvline(load_end - t0, color="k", ls="--", lw=1)
    ax2.set_xlabel("seconds since the load started (dashed: load ends)")
    ax2.set_ylabel("messages / rows / bookings")
    ax2.set_yscale("symlog", linthresh=10)
    ax2.set_ylim(bottom=0)
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7, loc="upper left")
    m = results["meta"]["machine"]
    o = results["meta"]["options"]
    fig.suptitle(f"Booking pipeline at {o['rate']:.0f} CreateBooking/s — {m['nproc']} CPUs, {results['meta']['date'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    a = analyse(results)
    paths = []
    png = out / "pipeline.png"
    if plot(results, a, png):
        paths.append(png)
    md = out / "pipeline.md"
    md.write_text(markdown(results, a, png.name))
    paths.append(md)
    raw = out / "pipeline.json"
    doc = {k: v for k, v in results.items() if k not in ("rows", "sent", "world")}
    doc["world"] = {k: v for k, v in results["world"].items() if k != "metadata"}  # no bearer token in the report
    doc["analysis"] = a
    # Every booking, one row each (times in s from the start of the load, wall clock; NaN/null: not seen).
    t0 = results["t0"]
    sessions = {e: i for i, e in enumerate(results["world"]["class_events"])}
    doc["bookings"] = {
        "columns": ["kind", "class_session", "measured", "created_s", "answered_s", "visible_first_s", "visible_all_s"],
        "rows": [
            [r.kind, sessions.get(r.event_id, -1), r.measured, *(round(v - t0, 3) for v in (r.created, r.answered, r.visible_first, r.visible_all))]
            for r in sorted(results["rows"], key=lambda r: r.created)
        ],
    }
    doc["failed_requests"] = [asdict(s) for s in results["sent"] if s.error]
    # One line per booking row instead of one per value.
    rows = json.dumps(jsonable(doc["bookings"]["rows"]), separators=(",", ":"))[1:-1].replace("],[", "],\n  [")
    doc["bookings"]["rows"] = "__ROWS__"
    text = json.dumps(jsonable(doc), indent=1).replace('"__ROWS__"', "[\n  " + rows + "\n ]")
    raw.write_text(text + "\n")
    paths.append(raw)
    return paths


def summary(results: dict[str, Any]) -> str:
    a = analyse(results)
    step: StepResult = results["step"]
    lines = [
        "",
        f"CreateBooking {step.rate:.0f}/s: achieved {step.achieved_rps:.1f}/s, p50 {ms(step.p50_ms)} p95 {ms(step.p95_ms)} "
        f"p99 {ms(step.p99_ms)} ms, {step.errors} errors",
    ]
    for st in a["lags"].values():
        lines.append(f"  {st.label:<62} {st.visible:>4}/{st.bookings:<4} p50 {_s(st.p50_ms):>9} p95 {_s(st.p95_ms):>9} p99 {_s(st.p99_ms):>9}")
    for group, v in a["peaks"]["consumer_lag"].items():
        lines.append(f"  consumer lag {group:<36} max {_pct(v['max'])}, at load end {_pct(v['at_load_end'])}, last {_pct(v['last'])}")
    for schema, v in a["peaks"]["outbox"].items():
        lines.append(f"  outbox {schema:<42} max backlog {_pct(v['max_backlog'])}, oldest {v['max_oldest_age_s']:.2f} s")
    return "\n".join(lines)


# --- entry point ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
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
        # How many sessions of one course the event updater settles at once, in the code measured.
        "settle_concurrency": getattr(participations_handlers, "_SETTLE_CONCURRENCY", 1),
    }
    paths = write(results, opts.out)
    say(f"done in {results['meta']['duration_s']:.0f} s: " + ", ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in paths))
    print(summary(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
