"""Transactional outbox: integration events are written to the service's own `outbox` table in
the transaction of the change they announce (`record`), and `OutboxRelay` publishes them to
Kafka afterwards. An event therefore exists if and only if its change committed, and a write
RPC never waits for, or fails because of, the broker (docs/pipeline.md "Transactional outbox"
and "No acknowledged booking is lost").

The table is created in each publishing service's schema by `MIGRATIONS` (services/common/migrations),
applied before the service's own.

How the relay publishes, and why:

- It wakes on `NOTIFY outbox_<schema>`, which `record` sends in the writing transaction (so it is
  delivered on commit only), and polls every second anyway: a notification sent while the
  relay was reconnecting is lost.
- Each round claims the oldest unpublished rows (`published_at IS NULL ORDER BY id ... FOR
  UPDATE SKIP LOCKED`) in a transaction, sends them in id order, waits for the broker to
  acknowledge every one, and only then sets `published_at` and commits. A failure rolls the
  round back, so its rows go out again next round: delivery is at least once, never at most
  once, and consumers deduplicate by revision (or `ce_id`).
- There is no "id > last seen" cursor: ids are taken when a transaction inserts, not when it
  commits, so a transaction committing late makes a lower id visible after higher ones were
  published. Scanning for `published_at IS NULL` finds it whenever it commits.
- One relay per service publishes: it holds a session advisory lock, the others stand by and
  take over when its session ends. SKIP LOCKED alone would let two relays claim two rows of the
  same entity (the newer one skipping the older one locked by the other relay) and publish them
  concurrently, out of order.
- While the broker is away the relay logs, counts `outbox.publish_errors`, and retries with
  backoff from 0.1 s to 5 s; rows accumulate (`outbox.backlog`, `outbox.oldest_age_seconds`)
  and writes keep succeeding.
- A row the broker refuses for good (a topic that does not exist, a message too large) is
  retried, never skipped: it holds back the rows after it, because order per entity matters
  more than progress. `outbox.oldest_age_seconds` is what to alert on.
- Published rows are deleted after a retention (a day), a bounded batch at a time.
- Tracing: `record` stores the writer's W3C trace context with each row; the relay publishes each
  row inside a PRODUCER span (`send <topic>`) that is a child of that context and lasts until the
  broker acknowledged, and the message's `traceparent` header is that span's. So one trace runs
  from the RPC that wrote the change through the publish to every consumer of the message.
  Rows written outside any trace get no span and no header (never a new root trace per row).

Public API: `record` / `record_many` (+ `OutboxMessage`) to write, `OutboxRelay` to publish,
`start_relay` to wire both into a service's bootstrap, `channel_for` / `source_for` for names.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from google.protobuf.message import Message
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import Span, SpanKind, StatusCode, TracerProvider

from services.common.config import KafkaSettings
from services.common.kafka import Backoff, cloudevent_headers, create_producer
from services.common.telemetry import PerMeterProvider
from services.common.topics import M, MessageType, Topic

log = structlog.get_logger("outbox")

TABLE = "outbox"
# The outbox table's migrations, applied in a publishing service's schema before its own.
MIGRATIONS = Path(__file__).with_name("migrations")

# One statement inserts every message of the transaction (in the order given, so ids follow it)
# and queues the notification. NOTIFY is transactional: the relay hears it on commit, and never
# for a rollback; identical notifications of one transaction are delivered once.
_INSERT = """
WITH inserted AS (
    INSERT INTO outbox (tenant_id, topic, key, ce_type, ce_id, ce_subject, ce_time, payload, traceparent, tracestate)
    SELECT m.tenant_id, m.topic, m.key, m.ce_type, m.ce_id, m.ce_subject, now(), m.payload, $8, $9
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::bytea[])
         WITH ORDINALITY AS m(tenant_id, topic, key, ce_type, ce_id, ce_subject, payload, n)
    ORDER BY m.n
    RETURNING 1
)
SELECT pg_notify('outbox_' || current_schema(), '')
"""

_CLAIM = """
SELECT id, tenant_id, topic, key, ce_type, ce_id, ce_subject, ce_time, payload, traceparent, tracestate, created_at
FROM outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""

_MARK_PUBLISHED = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"

_BACKLOG = "SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM outbox WHERE published_at IS NULL"

_CLEANUP = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE created_at < now() - make_interval(secs => $1) AND published_at IS NOT NULL
    LIMIT $2
)
"""

_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))"


def channel_for(schema: str) -> str:
    """The NOTIFY channel `record` signals in `schema` (it uses `current_schema()`)."""
    return f"outbox_{schema}"


def source_for(service: str) -> str:
    """CloudEvents `source` of a service's events (protos/topics/README.md)."""
    return f"//bookings-platform/{service}"


async def start_relay(stack: contextlib.AsyncExitStack, pool: asyncpg.Pool, settings: KafkaSettings, *, service: str, schema: str) -> OutboxRelay:
    """Bootstrap wiring of a publishing service: a producer and the relay of its schema's outbox,
    on the server's exit stack, so both stop after the gRPC server drained (the relay first,
    finishing its round, then the producer, flushing)."""
    if await pool.fetchval("SELECT to_regclass('outbox')") is None:
        raise RuntimeError(f"schema {schema!r} has no outbox table: run `python -m services.{service} migrate` first")
    producer = create_producer(settings)
    stack.push_async_callback(producer.stop)
    relay = OutboxRelay(pool, producer, source=source_for(service), channel=channel_for(schema))
    await stack.enter_async_context(relay)
    return relay


# --- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxMessage:
    """One integration event to publish: `key` is the aggregate id (the partition key), `subject`
    the CloudEvents subject (the aggregate id too), `message` the protobuf event."""

    tenant_id: str
    topic: str
    key: str
    ce_type: str
    message: Message
    subject: str

    @classmethod
    def of(cls, tenant_id: str, topic: Topic, message_type: MessageType[M], key: str, message: M) -> OutboxMessage:
        """A message of a declared topic (services/common/topics.py), keyed and subjected by its
        aggregate id. Refuses a type the topic does not declare, or a message of another type."""
        if topic.message_type(message_type.ce_type) != message_type:
            raise ValueError(f"{message_type.ce_type} is not a message type of {topic.name}")
        if not isinstance(message, message_type.message):
            raise TypeError(f"{message_type.ce_type} carries {message_type.message.__name__}, not {type(message).__name__}")
        return cls(tenant_id=tenant_id, topic=topic.name, key=key, ce_type=message_type.ce_type, message=message, subject=key)


def current_trace_context() -> tuple[str | None, str | None]:
    """The W3C `traceparent` and `tracestate` of the current span (None outside any trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate") or None


async def record(
    conn: asyncpg.Connection,
    *,
    tenant_id: str,
    topic: str,
    key: str,
    ce_type: str,
    message: Message,
    subject: str,
) -> uuid.UUID:
    """Add one event to the outbox inside the caller's transaction; returns its `ce_id`."""
    (ce_id,) = await record_many(conn, [OutboxMessage(tenant_id, topic, key, ce_type, message, subject)])
    return ce_id


async def record_many(conn: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> list[uuid.UUID]:
    """Add events to the outbox inside the caller's transaction (one round trip, published in
    the order given), with the current trace context; returns their `ce_id`s."""
    if not messages:
        return []
    if not conn.is_in_transaction():
        # Outside a transaction the row would commit on its own, whatever becomes of the change.
        raise RuntimeError("outbox.record must run inside the transaction of the change it announces")
    traceparent, tracestate = current_trace_context()
    ids = [uuid.uuid4() for _ in messages]
    await conn.execute(
        _INSERT,
        [m.tenant_id for m in messages],
        [m.topic for m in messages],
        [m.key for m in messages],
        [m.ce_type for m in messages],
        ids,
        [m.subject for m in messages],
        [m.message.SerializeToString() for m in messages],
        traceparent,
        tracestate,
    )
    return ids


# --- publishing ------------------------------------------------------------------------------------


class PublishTimeout(Exception):
    """The broker did not acknowledge a round's messages in time."""


@dataclass
class RelayStats:
    """What the relay did since it started (also exported as metrics)."""

    rounds: int = 0
    published: int = 0
    publish_errors: int = 0
    notify_wakeups: int = 0
    poll_wakeups: int = 0
    deleted: int = 0
    backlog: int = 0
    oldest_age_seconds: float = 0.0
    last_publish_delays: list[float] = field(default_factory=list)  # seconds from write to ack, last round


class OutboxRelay:
    """Publishes the outbox of one schema (see the module docstring). Start it with
    `start()` (or `async with`); `stop()` lets the round in progress finish."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        source: str,
        channel: str,
        batch_size: int = 500,
        *,
        poll_interval: float = 1.0,
        backoff: tuple[float, float] = (0.1, 5.0),
        publish_timeout: float = 30.0,
        standby_interval: float = 2.0,
        retention: timedelta = timedelta(days=1),
        cleanup_interval: float = 60.0,
        cleanup_batch: int = 1000,
        sample_interval: float = 5.0,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._pool = pool
        self._producer = producer
        self._producer_started = False
        self.source = source
        self.channel = channel
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._publish_timeout = publish_timeout
        self._standby_interval = standby_interval
        self._retention_seconds = retention.total_seconds()
        self._cleanup_interval = cleanup_interval
        self._cleanup_batch = cleanup_batch
        self._sample_interval = sample_interval
        self._lock_name = f"outbox-relay:{channel}"

        self.stats = RelayStats()
        self.active = False  # holds the lock: this is the relay publishing the schema's outbox
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_sample = 0.0
        self._next_cleanup = 0.0
        self._metrics = _RELAY_METRICS.of(meter_provider or metrics.get_meter_provider())
        self._metrics.relays.add(self)
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"outbox-relay:{self.channel}")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the round in progress (its rows are marked published), then release the lock.
        A round still waiting for the broker after `timeout` is cancelled and rolled back."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.warning("outbox relay did not stop in time; cancelling its round", channel=self.channel)
            task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        if isinstance(results[0], Exception):
            log.error("outbox relay ended with an error", channel=self.channel, error=repr(results[0]))

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run(self) -> None:
        """Lead when the lock is free, stand by otherwise; reconnect after database failures."""
        backoff = Backoff(*self._backoff)
        while not self._stopping.is_set():
            try:
                led = await self._lead_if_free()
                backoff.reset()
                if not led:
                    await self._sleep(self._standby_interval)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox relay lost its database connection; reconnecting", channel=self.channel, error=repr(exc))
                await self._sleep(backoff.next())
            except Exception:
                # Never let the relay die quietly: the service would keep accepting writes whose
                # events nobody publishes.
                log.exception("outbox relay failed unexpectedly; restarting it", channel=self.channel)
                await self._sleep(backoff.next())

    async def _lead_if_free(self) -> bool:
        async with self._pool.acquire() as conn:
            if not await conn.fetchval(_TRY_LOCK, self._lock_name):
                return False
            try:
                await conn.add_listener(self.channel, self._notified)
                self.active = True
                log.info("outbox relay active", channel=self.channel)
                await self._publish_loop(conn)
            finally:
                self.active = False
                # The pool does not reset sessions (services.common.db): release the listener and
                # the lock here, each on its own, so a live connection never keeps the lock. A dead
                # connection has nothing to release (its session, and lock, are gone).
                with contextlib.suppress(Exception):
                    await conn.remove_listener(self.channel, self._notified)
                with contextlib.suppress(Exception):
                    await conn.fetchval(_UNLOCK, self._lock_name)
            return True

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _publish_loop(self, conn: asyncpg.Connection) -> None:
        broker_backoff = Backoff(*self._backoff)
        more = True  # rows may have been written while no relay listened: look at once
        while not self._stopping.is_set():
            if not more:
                await self._wait_for_work()
                if self._stopping.is_set():
                    return
            self._wake.clear()  # a commit from now on wakes the next round
            try:
                published = await self.publish_round(conn)
            except (KafkaError, PublishTimeout) as exc:
                self.stats.publish_errors += 1
                self._metrics.publish_errors.add(1, {"outbox.channel": self.channel})
                delay = broker_backoff.next()
                log.warning("outbox publish failed; retrying", channel=self.channel, retry_in=delay, error=repr(exc))
                await self._sleep(delay)
                more = True
                continue
            broker_backoff.reset()
            cleanup_pending = await self._housekeeping(conn)
            more = published >= self._batch_size or cleanup_pending

    async def _wait_for_work(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        except TimeoutError:
            self.stats.poll_wakeups += 1
            self._metrics.wakeups.add(1, {"outbox.channel": self.channel, "reason": "poll"})
            return
        if not self._stopping.is_set():
            self.stats.notify_wakeups += 1
            self._metrics.wakeups.add(1, {"outbox.channel": self.channel, "reason": "notify"})

    async def publish_round(self, conn: asyncpg.Connection) -> int:
        """Claim up to batch_size unpublished rows, publish them in id order, wait for every
        acknowledgement, then mark them published, all in one transaction; returns how many."""
        async with conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            futures: list[asyncio.Future[Any]] = []
            spans: list[Span] = []
            try:
                async with asyncio.timeout(self._publish_timeout):
                    await self._ensure_producer()
                    for row in rows:
                        span = self._producer_span(row)
                        spans.append(span)
                        headers = self._headers(row, span)
                        futures.append(await self._producer.send(row["topic"], value=row["payload"], key=row["key"].encode(), headers=headers))
                    await asyncio.wait(futures)
            except TimeoutError:
                raise PublishTimeout(f"{sum(not f.done() for f in futures)} of {len(rows)} messages not acknowledged in {self._publish_timeout}s") from None
            finally:
                for future in futures:  # retrieve every outcome, so none is reported as unhandled
                    future.add_done_callback(_consume_outcome)
                for index, span in enumerate(spans):
                    _end_producer_span(span, futures[index] if index < len(futures) else None)
            for future in futures:  # any failure fails the round: all its rows go out again
                if future.cancelled():
                    raise PublishTimeout("a send was cancelled")
                error = future.exception()
                if error is not None:
                    raise error
            await conn.execute(_MARK_PUBLISHED, [row["id"] for row in rows])
        self._published(rows)
        return len(rows)

    def _producer_span(self, row: Mapping[str, Any]) -> Span:
        """The PRODUCER span of one row's publish, a child of the writer's stored context. A row
        without one gets the invalid span: nothing recorded, no trace header."""
        if not row["traceparent"]:
            return trace.INVALID_SPAN
        carrier = {"traceparent": row["traceparent"]}
        if row["tracestate"]:
            carrier["tracestate"] = row["tracestate"]
        # An explicit, otherwise empty context: the relay's own (none) must never be the parent.
        writer = propagate.extract(carrier, context=Context())
        if not trace.get_current_span(writer).get_span_context().is_valid:
            return trace.INVALID_SPAN  # a malformed stored header: better no span than a new root trace
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": row["topic"],
            "messaging.kafka.message.key": row["key"],
            "messaging.message.id": str(row["ce_id"]),
            "cloudevents.event_type": row["ce_type"],
            "tenant.id": row["tenant_id"],
            "outbox.channel": self.channel,
        }
        return self._tracer.start_span(f"send {row['topic']}", context=writer, kind=SpanKind.PRODUCER, attributes=attributes)

    def _headers(self, row: Mapping[str, Any], span: Span = trace.INVALID_SPAN) -> list[tuple[str, bytes]]:
        traceparent, tracestate = row["traceparent"], row["tracestate"]
        if span.get_span_context().is_valid:
            # Consumers continue from the publish, not from the writer: the Kafka hop shows in the trace.
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span, Context()))
            traceparent, tracestate = carrier.get("traceparent", traceparent), carrier.get("tracestate") or None
        return cloudevent_headers(
            ce_id=str(row["ce_id"]),
            source=self.source,
            ce_type=row["ce_type"],
            time=row["ce_time"],
            subject=row["ce_subject"],
            tenant_id=row["tenant_id"],
            traceparent=traceparent,
            tracestate=tracestate,
        )

    def _published(self, rows: Sequence[Mapping[str, Any]]) -> None:
        now = datetime.now(UTC)
        self.stats.rounds += 1
        self.stats.published += len(rows)
        self.stats.last_publish_delays = [(now - row["created_at"]).total_seconds() for row in rows]
        by_topic: dict[str, int] = {}
        for row, delay in zip(rows, self.stats.last_publish_delays, strict=True):
            by_topic[row["topic"]] = by_topic.get(row["topic"], 0) + 1
            self._metrics.publish_delay.record(max(delay, 0.0), {"outbox.channel": self.channel})
        for topic, count in by_topic.items():
            self._metrics.published.add(count, {"outbox.channel": self.channel, "messaging.destination.name": topic})

    async def _ensure_producer(self) -> None:
        # Started here rather than at boot, so a service starts and serves without the broker.
        if not self._producer_started:
            await self._producer.start()
            self._producer_started = True

    async def _housekeeping(self, conn: asyncpg.Connection) -> bool:
        """Between rounds, on the relay's connection: sample the backlog for the gauges, delete a
        batch of expired published rows when due. True when more expired rows remain (the next
        batch follows right after the next round)."""
        now = time.monotonic()
        if now >= self._next_sample:
            row = await conn.fetchrow(_BACKLOG)
            self.stats.backlog, self.stats.oldest_age_seconds = int(row["backlog"]), float(row["age"])
            self._next_sample = now + self._sample_interval
        if now >= self._next_cleanup:
            status = await conn.execute(_CLEANUP, self._retention_seconds, self._cleanup_batch)
            deleted = int(status.split()[-1])
            self.stats.deleted += deleted
            self._next_cleanup = now if deleted >= self._cleanup_batch else now + self._cleanup_interval
            return deleted >= self._cleanup_batch
        return False

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _observed(self) -> Iterable[tuple[str, int, float]]:
        if self.active:
            yield self.channel, self.stats.backlog, self.stats.oldest_age_seconds


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _end_producer_span(span: Span, future: asyncio.Future[Any] | None) -> None:
    """End a publish's span with its outcome: acknowledged, failed, or not acknowledged (timed out,
    or never sent); on failure the round is rolled back and the row goes out again, in a new span."""
    if future is None or not future.done():
        span.set_status(StatusCode.ERROR, "not acknowledged")
    elif future.cancelled():
        span.set_status(StatusCode.ERROR, "send cancelled")
    elif (error := future.exception()) is not None:
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}")
    else:
        metadata = future.result()
        span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
        span.set_attribute("messaging.kafka.offset", metadata.offset)
    span.end()


@dataclass
class _RelayMetrics:
    """The instruments of the relays of the process (one set per meter provider:
    `_RELAY_METRICS`, services/common/telemetry.py `PerMeterProvider`)."""

    published: Any
    publish_errors: Any
    wakeups: Any
    publish_delay: Any
    relays: weakref.WeakSet[OutboxRelay] = field(default_factory=weakref.WeakSet)

    @classmethod
    def create(cls, provider: MeterProvider) -> _RelayMetrics:
        meter = provider.get_meter("services.common.outbox")
        created = cls(
            published=meter.create_counter("outbox.published", unit="{message}", description="Outbox messages acknowledged by the broker"),
            publish_errors=meter.create_counter("outbox.publish_errors", unit="{round}", description="Relay rounds that failed to publish"),
            wakeups=meter.create_counter("outbox.wakeups", unit="{wakeup}", description="Relay wake-ups, by reason (notify or poll)"),
            publish_delay=meter.create_histogram("outbox.publish_delay", unit="s", description="From the writing transaction to the broker's ack"),
        )
        meter.create_observable_gauge("outbox.backlog", callbacks=[created._observe_backlog], unit="{message}", description="Unpublished outbox rows")
        meter.create_observable_gauge(
            "outbox.oldest_age_seconds", callbacks=[created._observe_age], unit="s", description="Age of the oldest unpublished outbox row"
        )
        return created

    def _observe_backlog(self, _options: CallbackOptions) -> Iterable[Observation]:
        for relay in list(self.relays):
            for channel, backlog, _age in relay._observed():
                yield Observation(backlog, {"outbox.channel": channel})

    def _observe_age(self, _options: CallbackOptions) -> Iterable[Observation]:
        for relay in list(self.relays):
            for channel, _backlog, age in relay._observed():
                yield Observation(age, {"outbox.channel": channel})


_RELAY_METRICS = PerMeterProvider(_RelayMetrics.create)
