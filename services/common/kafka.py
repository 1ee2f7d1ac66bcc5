"""Kafka for the services: the producer factory, the CloudEvents binary-mode envelope
(protos/topics/README.md) and `KafkaConsumerRunner`, the one consumer loop every event consumer
runs on.

A consumer is a short pipeline (getsentry/arroyo style): decode the record into an `Envelope`,
run the handler inside a CONSUMER span of the producer's trace, retry a failure with backoff,
dead-letter what keeps failing, and commit the offset only once the effect (or the dead letter)
is durable. Delivery is therefore at least once, and every handler must be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.group import JoinGroupRequest, LeaveGroupRequest
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import Link, SpanKind, StatusCode, TracerProvider

from services.common.config import KafkaSettings
from services.common.db import TRANSIENT_ERRORS
from services.common.errors import DependencyUnavailable

log = structlog.get_logger("kafka")

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
DLQ_SUFFIX = ".dlq"
# The headers a dead letter carries besides the original ones (protos/topics/README.md).
DLQ_HEADERS = ("dlq_error", "dlq_consumer_group", "dlq_original_partition", "dlq_original_offset", "dlq_failed_at")
_MAX_ERROR_LENGTH = 2000


# --- producer --------------------------------------------------------------------------------------


def connection_options(settings: KafkaSettings) -> dict[str, Any]:
    """Where the brokers are and how to talk to them (TLS, SASL), for every aiokafka client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": settings.kafka_client_name,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        # Verifies the brokers' certificates and host names; with no CA file, the system's CAs.
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile)
    if settings.kafka_security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    """The producer every service uses: acknowledged by all in-sync replicas, a 5 ms linger so a
    relay batch goes out in few requests, no compression (small protobuf messages), idempotence
    as configured (true in production, false against the local broker)."""
    return {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "linger_ms": 5,
        "compression_type": None,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
    }


def create_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """A producer, not started: its owner starts it (retrying while the broker is away, so a
    service comes up and serves RPCs without Kafka) and stops it on shutdown. Call it inside the
    event loop."""
    return AIOKafkaProducer(**producer_config(settings))


def rfc3339(instant: datetime) -> str:
    """CloudEvents `time`: RFC 3339 in UTC with microseconds, e.g. 2026-11-21T10:15:02.120000Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cloudevent_headers(
    *,
    ce_id: str,
    source: str,
    ce_type: str,
    time: datetime,
    subject: str,
    tenant_id: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> list[tuple[str, bytes]]:
    """Kafka headers of a CloudEvent in binary mode (protos/topics/README.md); the message value
    is the protobuf event itself."""
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", ce_id),
        ("ce_source", source),
        ("ce_type", ce_type),
        ("ce_time", rfc3339(time)),
        ("ce_subject", subject),
        ("ce_tenantid", tenant_id),
        ("content-type", CONTENT_TYPE),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent))
    if tracestate:
        headers.append(("tracestate", tracestate))
    return [(name, value.encode()) for name, value in headers]


class Backoff:
    """Exponential backoff: initial, doubled on each failure, capped at maximum; reset on success."""

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, factor: float = 2.0):
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


# --- consumer ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """One Kafka message as a handler sees it: CloudEvents binary mode, so the event's attributes
    are headers (`ce_type`, `ce_tenantid`, ...) and `value` is the protobuf message itself."""

    topic: str
    partition: int
    offset: int
    key: str | None
    headers: Mapping[str, str]
    ce_type: str
    tenant_id: str
    value: bytes

    @property
    def ce_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def ce_subject(self) -> str:
        return self.headers.get("ce_subject", "")

    @classmethod
    def from_record(cls, record: ConsumerRecord[Any, Any]) -> Envelope:
        headers = decode_headers(record.headers)
        key = record.key.decode("utf-8", errors="replace") if isinstance(record.key, bytes | bytearray) else record.key
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=key,
            headers=headers,
            ce_type=headers.get("ce_type", ""),
            tenant_id=headers.get("ce_tenantid", ""),
            value=bytes(record.value or b""),
        )


def decode_headers(headers: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """Kafka headers as text (a repeated name keeps its last value)."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in headers}


def dead_letter_headers(record: ConsumerRecord[Any, Any], error: BaseException, group_id: str, failed_at: datetime) -> list[tuple[str, bytes]]:
    """The original headers, unchanged, plus why and where the message failed."""
    description = f"{type(error).__name__}: {error}"[:_MAX_ERROR_LENGTH]
    extra = {
        "dlq_error": description,
        "dlq_consumer_group": group_id,
        "dlq_original_partition": str(record.partition),
        "dlq_original_offset": str(record.offset),
        "dlq_failed_at": rfc3339(failed_at),
    }
    original = [(name, bytes(value or b"")) for name, value in record.headers if name not in extra]
    return original + [(name, value.encode()) for name, value in extra.items()]


class PoisonMessage(Exception):
    """Raise from a handler for a message that can never be processed (it does not decode, its
    version is unknown...): it goes to the dead-letter topic at once, without retries."""


_TRANSIENT_GRPC = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED})


def is_transient(error: BaseException) -> bool:
    """Failures of a dependency (database or service down, overloaded, timing out): they say
    nothing about the message, so it is retried until the dependency is back, never
    dead-lettered. Anything else is taken as a problem of the message."""
    if isinstance(error, (DependencyUnavailable, *TRANSIENT_ERRORS)):  # the database's, as the RPCs classify them
        return True
    return isinstance(error, grpc.aio.AioRpcError) and error.code() in _TRANSIENT_GRPC


Handler = Callable[[Envelope], Awaitable[None]]


class _Interrupted(Exception):
    """Stop was requested while a message waited for its next attempt: it stays uncommitted."""


@dataclass
class ConsumerStats:
    processed: int = 0
    failures: int = 0
    dead_lettered: int = 0
    commits: int = 0


class KafkaConsumerRunner:
    """Runs `handler` for every message of `topics` as consumer group `group_id`.

    **Handlers must be idempotent.** Delivery is at least once: a message is redelivered after a
    crash, a rebalance or a failed commit, and the outbox relays publish at least once too. Every
    message carries its entity's full state with a `revision`; apply it only when it is newer than
    what is stored, or make the effect a recomputation, so a duplicate or late message changes
    nothing.

    Pipeline per message: decode (`Envelope`) -> handle (inside a CONSUMER span in the producer's
    trace, with tenant, topic, partition and offset bound to the log context) -> commit.

    - Order: partitions are processed concurrently, the messages of one partition strictly in
      order (a key always maps to one partition, so one entity's events are handled in order).
    - Failures: a failing message is retried with exponential backoff. Transient failures
      (`is_transient`: a dependency is down) are retried until it is back, blocking only that
      partition, because skipping would reorder the entity's events. Other failures are retried
      up to `max_attempts`; then the message is published to `<topic>.dlq` with its key, value and
      headers plus `dlq_error`, `dlq_consumer_group`, `dlq_original_partition`,
      `dlq_original_offset`, `dlq_failed_at`, and the partition moves on. A handler raising
      `PoisonMessage` skips the retries. With `dlq=False` a message is retried forever instead:
      nothing is ever dropped silently.
    - Commits: auto-commit is off; after each fetched batch of a partition the offset after the
      last message whose handler (or dead letter) succeeded is committed. On a rebalance the
      revoked partitions finish their in-flight message and commit before they move.
    - Stop: `stop()` lets each partition finish its in-flight message, commits, and leaves the
      group so the partitions move at once. A handler still running after `timeout` is
      cancelled: its message stays uncommitted and is redelivered, what finished is committed.

    Metrics: `kafka.consumer.processed`, `kafka.consumer.failures` (handler attempts that
    raised), `kafka.consumer.dlq`, `kafka.consumer.lag` (per partition: high watermark minus the
    next offset to process).

    A single fetch feeds all partitions, so a partition still retrying delays the next fetch of
    the others by at most its retry budget; consumers here handle messages in milliseconds.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        dlq: bool = True,
        max_attempts: int = 5,
        retry_backoff: tuple[float, float] = (0.1, 5.0),
        transient: Callable[[BaseException], bool] = is_transient,
        auto_offset_reset: str = "earliest",
        max_batch: int = 200,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not topics:
            raise ValueError("at least one topic is required")
        self._settings = settings
        self.group_id = group_id
        self.topics = tuple(topics)
        self._handler = handler
        self._dlq = dlq
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._transient = transient
        self._auto_offset_reset = auto_offset_reset
        self._max_batch = max_batch
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._metrics = _ConsumerMetrics.of(meter_provider or metrics.get_meter_provider())
        self._metrics.runners.add(self)

        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._assigned = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._revoked: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}  # next offset to process, per partition
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer: AIOKafkaProducer | None = None
        self._dlq_started = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Future[None]] = set()

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run in a background task until `stop()`."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"kafka-consumer:{self.group_id}")
            self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        # A bug in the loop itself (handler errors never get here): say so at once, not at stop.
        if not task.cancelled() and task.exception() is not None:
            log.error("consumer crashed; it no longer consumes", group=self.group_id, error=repr(task.exception()))

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the in-flight messages, commit, leave the group. After `timeout` seconds what
        is still running is cancelled (and redelivered later)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if self._consumer is None:
            # Still connecting or joining the group: nothing handled, nothing to commit, and a
            # join can outlast any grace period (a rebalance waits for departed members).
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.warning("consumer did not stop in time; cancelling its in-flight handlers", group=self.group_id, timeout=timeout)
            for handler in list(self._inflight):
                handler.cancel()
            done, _ = await asyncio.wait({task}, timeout=max(5.0, timeout))  # commit and leave
            if not done:
                task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # a crash was logged by _ended

    async def __aenter__(self) -> KafkaConsumerRunner:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_assigned(self, timeout: float | None = None) -> None:
        """Wait until the group gave this consumer its first partitions."""
        await asyncio.wait_for(self._assigned.wait(), timeout)

    @property
    def positions(self) -> dict[TopicPartition, int]:
        """Per partition, the offset after the last message handled (or dead-lettered) here."""
        return dict(self._positions)

    async def run(self) -> None:
        consumer = await self._start_consumer()
        if consumer is None:
            return
        try:
            await self._consume(consumer)
        finally:
            await self._close(consumer)

    async def _start_consumer(self) -> AIOKafkaConsumer | None:
        backoff = Backoff(*self._retry_backoff)
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                **connection_options(self._settings),
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset=self._auto_offset_reset,
                session_timeout_ms=self._settings.kafka_session_timeout_ms,
                heartbeat_interval_ms=self._settings.kafka_heartbeat_interval_ms,
                fetch_max_wait_ms=self._settings.kafka_fetch_max_wait_ms,
                request_timeout_ms=max(self._settings.kafka_request_timeout_ms, self._settings.kafka_session_timeout_ms + 5000),
            )
            consumer.subscribe(list(self.topics), listener=_Rebalance(self))
            try:
                await consumer.start()
            except asyncio.CancelledError:  # stopped while connecting (see stop)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 2.0)
                raise
            except KafkaError as exc:
                log.warning("kafka unavailable; consumer retrying", group=self.group_id, error=repr(exc))
                await consumer.stop()
                with contextlib.suppress(_Interrupted):
                    await self._pause(backoff.next())
                continue
            _leave_group_on_stop_at_generation_zero(consumer)
            self._consumer = consumer
            log.info("consumer started", group=self.group_id, topics=list(self.topics))
            return consumer
        return None

    async def _close(self, consumer: AIOKafkaConsumer) -> None:
        try:
            await consumer.stop()  # leaves the group: its partitions move to the other members now
        finally:
            self._consumer = None
            self._positions.clear()
            if self._dlq_producer is not None:
                await self._dlq_producer.stop()
                self._dlq_producer, self._dlq_started = None, False
            log.info("consumer stopped", group=self.group_id)

    # --- the loop --------------------------------------------------------------------------------

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        backoff = Backoff(*self._retry_backoff)
        while not self._stopping.is_set():
            try:
                batch = await consumer.getmany(timeout_ms=200, max_records=self._max_batch)
            except KafkaError as exc:
                log.warning("fetch failed; retrying", group=self.group_id, error=repr(exc))
                with contextlib.suppress(_Interrupted):
                    await self._pause(backoff.next())
                continue
            backoff.reset()
            await self._track_idle_partitions(consumer, batch)
            if not batch:
                continue
            self._idle.clear()
            try:
                await asyncio.gather(*(self._partition(consumer, tp, records) for tp, records in batch.items()))
            finally:
                self._idle.set()

    async def _partition(self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]) -> None:
        """The fetched messages of one partition, in order; then commit what succeeded."""
        done: int | None = None
        try:
            for record in records:
                if self._stopping.is_set() or tp in self._revoked:
                    break
                await self._process(record)
                done = record.offset + 1
                self._positions[tp] = done
        except _Interrupted:
            pass
        if done is not None:
            await self._commit(consumer, tp, done)

    async def _process(self, record: ConsumerRecord[Any, Any]) -> None:
        envelope = Envelope.from_record(record)
        attrs = {"messaging.destination.name": record.topic, "messaging.consumer.group.name": self.group_id}
        backoff = Backoff(*self._retry_backoff)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._run_handler(envelope, attempt)
            except _Interrupted:
                raise
            except Exception as exc:
                self.stats.failures += 1
                self._metrics.failures.add(1, attrs)
                poison = isinstance(exc, PoisonMessage)
                transient = not poison and self._transient(exc)
                exhausted = poison or (attempt >= self._max_attempts and not transient)
                if exhausted and self._dlq:
                    log.error("message failed; dead-lettering it", **_where(envelope), attempts=attempt, error=repr(exc))
                    await self._dead_letter(record, exc)
                    self.stats.dead_lettered += 1
                    self._metrics.dlq.add(1, attrs)
                    return
                delay = backoff.next()
                log.warning("message failed; retrying", **_where(envelope), attempt=attempt, transient=transient, retry_in=delay, error=repr(exc))
                await self._pause(delay)
            else:
                self.stats.processed += 1
                self._metrics.processed.add(1, attrs)
                return

    async def _run_handler(self, envelope: Envelope, attempt: int) -> None:
        """The handler runs as its own task, so a stop that timed out can cancel just the
        handlers still running: their partitions then commit what finished before them."""
        task = asyncio.ensure_future(self._handle(envelope, attempt))
        self._inflight.add(task)
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current is not None and current.cancelling()):
                raise _Interrupted from None
            raise
        finally:
            self._inflight.discard(task)

    async def _handle(self, envelope: Envelope, attempt: int) -> None:
        parent = propagate.extract(dict(envelope.headers))
        producer_span = trace.get_current_span(parent).get_span_context()
        links = [Link(producer_span)] if producer_span.is_valid else []
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": envelope.topic,
            "messaging.consumer.group.name": self.group_id,
            "messaging.destination.partition.id": str(envelope.partition),
            "messaging.kafka.offset": envelope.offset,
            "messaging.kafka.message.key": envelope.key or "",
            "messaging.message.id": envelope.ce_id,
            "cloudevents.event_type": envelope.ce_type,
            "tenant.id": envelope.tenant_id,
            "retry.attempt": attempt,
        }
        # A child of the producer's span (so the RPC that caused the event and its consumers share
        # one trace, and log lines carry its trace id), also linked as messaging conventions ask.
        name = f"process {envelope.topic}"
        with self._tracer.start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER, links=links, attributes=attributes) as span:
            with structlog.contextvars.bound_contextvars(**_where(envelope)):
                try:
                    await self._handler(envelope)
                except Exception as exc:
                    span.record_exception(exc)
                    span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
                    raise

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        """Publish to `<topic>.dlq` and wait for the acknowledgement, retrying until it succeeds:
        only then may the original offset be committed."""
        headers = dead_letter_headers(record, error, self.group_id, datetime.now(UTC))
        backoff = Backoff(*self._retry_backoff)
        while True:
            try:
                producer = await self._dlq_producer_started()
                await producer.send_and_wait(record.topic + DLQ_SUFFIX, value=record.value, key=record.key, headers=headers)
                return
            except KafkaError as exc:
                log.error("dead-letter publish failed; retrying", topic=record.topic + DLQ_SUFFIX, error=repr(exc))
                await self._pause(backoff.next())

    async def _dlq_producer_started(self) -> AIOKafkaProducer:
        if self._dlq_producer is None:
            self._dlq_producer = create_producer(self._settings)
        if not self._dlq_started:
            await self._dlq_producer.start()
            self._dlq_started = True
        return self._dlq_producer

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "")})
            self.stats.commits += 1
        except (CommitFailedError, IllegalStateError) as exc:
            # The partition moved to another member meanwhile: it redelivers from the last
            # committed offset, and the handlers are idempotent.
            log.warning("commit failed; messages will be redelivered", group=self.group_id, partition=str(tp), offset=offset, error=repr(exc))
        except KafkaError as exc:
            log.error("commit failed; messages will be redelivered", group=self.group_id, partition=str(tp), offset=offset, error=repr(exc))

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless stop is requested meanwhile (then raise _Interrupted)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Interrupted

    # --- rebalances ------------------------------------------------------------------------------

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        # Called by the group coordinator before the group rebalances: the revoked partitions
        # finish their in-flight message and commit, so their next owner starts after it.
        self._revoked |= set(revoked)
        await self._idle.wait()
        for tp in revoked:
            self._positions.pop(tp, None)

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._revoked.clear()
        self._assigned.set()
        log.info("partitions assigned", group=self.group_id, partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))

    def _lag(self) -> list[tuple[TopicPartition, int]]:
        # Called from the metric reader's thread: read a snapshot, tolerate a rebalance under way.
        consumer = self._consumer
        if consumer is None:
            return []
        lags = []
        for tp, position in list(self._positions.items()):
            try:
                highwater = consumer.highwater(tp)
            except (AssertionError, AttributeError, IllegalStateError):
                continue
            if highwater is not None:
                lags.append((tp, max(0, highwater - position)))
        return lags

    async def _track_idle_partitions(self, consumer: AIOKafkaConsumer, fetched: Mapping[TopicPartition, Any]) -> None:
        """Partitions that returned nothing still have a lag (zero when caught up): once fetched,
        their position is known and is where this consumer stands."""
        # A rebalance under way (assignment changing) leaves positions to the next round.
        with contextlib.suppress(AssertionError, IllegalStateError):
            for tp in consumer.assignment():
                if tp not in self._positions and tp not in fetched and consumer.highwater(tp) is not None:
                    self._positions[tp] = await consumer.position(tp)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: KafkaConsumerRunner):
        self._runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runner._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner._on_assigned(assigned)


def _where(envelope: Envelope) -> dict[str, Any]:
    return {"topic": envelope.topic, "partition": envelope.partition, "offset": envelope.offset, "tenant_id": envelope.tenant_id, "ce_type": envelope.ce_type}


def _leave_group_on_stop_at_generation_zero(consumer: AIOKafkaConsumer) -> None:
    """aiokafka sends LeaveGroup on stop only when the group generation is > 0. Kafka numbers
    generations from 1, but the local broker (Tansu) from 0: a stopped consumer of a new group
    would stay a member until its session timed out, and its partitions would wait that long.
    On Kafka this never triggers."""
    coordinator = getattr(consumer, "_coordinator", None)
    original = getattr(coordinator, "_maybe_leave_group", None)
    if coordinator is None or original is None:
        return

    async def maybe_leave_group() -> None:
        if coordinator.generation == 0 and coordinator.member_id != JoinGroupRequest.UNKNOWN_MEMBER_ID:
            with contextlib.suppress(KafkaError, OSError, TimeoutError):
                await asyncio.wait_for(coordinator._send_req(LeaveGroupRequest(coordinator.group_id, coordinator.member_id)), 5)
            coordinator.reset_generation()
            return
        await original()

    coordinator._maybe_leave_group = maybe_leave_group


# --- metrics -------------------------------------------------------------------------------------


@dataclass
class _ConsumerMetrics:
    """One set of instruments per meter provider, shared by every runner of the process (an
    observable instrument registered twice would keep only its first callback)."""

    processed: Any
    failures: Any
    dlq: Any
    runners: weakref.WeakSet[KafkaConsumerRunner] = field(default_factory=weakref.WeakSet)

    @classmethod
    def of(cls, provider: MeterProvider) -> _ConsumerMetrics:
        existing = _CONSUMER_METRICS.get(provider)
        if existing is not None:
            return existing
        meter = provider.get_meter("services.common.kafka")
        created = cls(
            processed=meter.create_counter("kafka.consumer.processed", unit="{message}", description="Messages handled successfully"),
            failures=meter.create_counter("kafka.consumer.failures", unit="{attempt}", description="Handler attempts that raised"),
            dlq=meter.create_counter("kafka.consumer.dlq", unit="{message}", description="Messages sent to the dead-letter topic"),
        )
        meter.create_observable_gauge(
            "kafka.consumer.lag",
            callbacks=[created._observe_lag],
            unit="{message}",
            description="Per partition: high watermark minus the next offset to process",
        )
        _CONSUMER_METRICS[provider] = created
        return created

    def _observe_lag(self, _options: CallbackOptions) -> Iterable[Observation]:
        for runner in list(self.runners):
            for tp, lag in runner._lag():
                attributes = {
                    "messaging.consumer.group.name": runner.group_id,
                    "messaging.destination.name": tp.topic,
                    "messaging.destination.partition.id": str(tp.partition),
                }
                yield Observation(lag, attributes)


_CONSUMER_METRICS: weakref.WeakKeyDictionary[MeterProvider, _ConsumerMetrics] = weakref.WeakKeyDictionary()
