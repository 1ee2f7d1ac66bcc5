"""Watching the pipeline from outside: availability's answers (`Watcher`), and the consumer groups'
lag and the outboxes' backlog (`Sampler`: Kafka admin reads and read-only SQL, nothing joins a
group and nothing is committed). Neither knows how the pipeline works inside, only its topics,
its consumer groups and that each service with a schema has an outbox."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from bench.loadgen import percentile
from bench.pipeline_world import booked_counts
from services.availability.entrypoints.events import GROUP_ID as AVAILABILITY_GROUP
from services.availability.entrypoints.events import TOPICS as AVAILABILITY_TOPICS
from services.devstack.stack import MIGRATED, TOPICS, Platform
from services.participations.entrypoints.events import BOOKINGS_GROUP, BOOKINGS_TOPICS, UPDATER_GROUP, UPDATER_TOPICS

# The pipeline's consumer groups, in the order a booking passes them; availability's cache
# invalidation is the last hop.
GROUPS: dict[str, tuple[str, ...]] = {BOOKINGS_GROUP: BOOKINGS_TOPICS, UPDATER_GROUP: UPDATER_TOPICS, AVAILABILITY_GROUP: AVAILABILITY_TOPICS}
SCHEMAS = MIGRATED  # the services with an outbox


class Watcher:
    """Polls one availability endpoint every `period` s, one call in flight: a poll due while the
    one before is still out is skipped (counted), so the instrument never adds load when the
    platform slows down, and its resolution (period plus one call) is reported. For every session: the wall time at which
    its booked count (total - remaining) was first seen at each level (`levels[e][k-1]`: first
    seen at >= k)."""

    def __init__(self, name: str, call: Callable[[], Awaitable[Any]], period: float, max_in_flight: int = 1):
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
        for event_id, count in booked_counts(response).items():
            seen = self.levels.setdefault(event_id, [])
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


def is_quiet(sample: dict[str, Any]) -> bool:
    """Every consumer group at lag 0 and every outbox empty (a group or schema that could not be
    read is not quiet)."""
    lags = list(sample["consumer_lag"].values())
    backlogs = [v["backlog"] if v else None for v in sample["outbox"].values()]
    return bool(lags or backlogs) and all(v == 0 for v in lags + backlogs)


class Sampler:
    """On demand or every `period` s: committed offsets vs high watermarks per consumer group
    (admin client and an unassigned consumer), and the unpublished rows of each schema's outbox
    (a read-only session). One read at a time: a second concurrent reader needs its own Sampler."""

    def __init__(self, stack: Platform, period: float = 1.0, name: str = "sampler"):
        env = stack.infra.env()
        self._bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        self._dsn = env["DATABASE_URL"]
        self._name = name
        self.period = period
        self.samples: list[dict[str, Any]] = []
        self.errors: dict[str, int] = {}
        self.read_ms: list[float] = []  # how long each sample took to read
        self._partitions = {group: [TopicPartition(t, p) for t in topics for p in range(TOPICS[t])] for group, topics in GROUPS.items()}
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._db: asyncpg.Connection | None = None

    async def start(self) -> Sampler:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False, request_timeout_ms=5000)
        await self._consumer.start()
        self._db = await asyncpg.connect(
            self._dsn, server_settings={"default_transaction_read_only": "on", "application_name": f"bench-pipeline-{self._name}"}, timeout=10
        )
        return self

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
        every = sorted({tp for tps in self._partitions.values() for tp in tps})
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

    async def read(self) -> dict[str, Any]:
        """One sample, not kept: {"t": when it began (wall clock), consumer lag, outbox backlog}."""
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
        self.read_ms.append((time.time() - at) * 1000)
        return sample

    async def sample(self) -> dict[str, Any]:
        sample = await self.read()
        self.samples.append(sample)
        return sample

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            began = time.monotonic()
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, self.period - (time.monotonic() - began)))

    async def until_quiet(self, max_wait: float, period: float = 0.05) -> Quiet:
        """Read back to back (at most every `period` s) until every group is at lag 0 and every
        outbox empty, or `max_wait` s passed."""
        began = time.time()
        while True:
            sample = await self.read()
            if is_quiet(sample):
                return Quiet(True, sample["t"] - began, sample)
            if time.time() - began >= max_wait:
                return Quiet(False, time.time() - began, sample)
            await asyncio.sleep(max(0.0, period - (time.time() - sample["t"])))


@dataclass(frozen=True)
class Quiet:
    reached: bool
    waited_s: float
    last: dict[str, Any]

    def describe(self) -> str:
        if self.reached:
            return f"quiet after {self.waited_s:.2f} s"
        lags = ", ".join(f"{g} {v}" for g, v in self.last["consumer_lag"].items())
        backlog = ", ".join(f"{s} {v['backlog'] if v else '?'}" for s, v in self.last["outbox"].items())
        return f"NOT quiet after {self.waited_s:.0f} s (consumer lag: {lags}; outbox: {backlog})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "reached": self.reached,
            "waited_s": round(self.waited_s, 3),
            "consumer_lag": self.last["consumer_lag"],
            "outbox": {s: (v["backlog"] if v else None) for s, v in self.last["outbox"].items()},
        }
