"""The one Kafka consumer every service runs: a chain of small steps (getsentry/arroyo style).

    fetch ─▶ per partition, in order:  decode ─▶ tenant check ─▶ route by ce_type ─▶ batch
                                        ─▶ effect (retried; dead-lettered when it never can succeed)
                                        ─▶ commit the offset after the effect is durable

- **decode**: the record becomes an `Envelope` (CloudEvents binary mode, services/common/kafka.py).
- **route** (`Routes`): the `ce_type` is looked up in the consumer's topics (services/common/
  topics.py). A type the topic does not declare (a newer producer's) or that this consumer does
  not act on is skipped: topics gain types that old consumers ignore (protos/topics/README.md).
  A message without `ce_tenantid`, or whose value is not its declared protobuf, is poison.
- **batch**: a consumer acts on one message at a time (`Subscription.each`), or on the routed
  messages of one fetched partition at once (`Subscription.batched`), which lets it coalesce:
  many changes of one thing in one effect.
- **effect**: run inside a CONSUMER span continuing the producer's trace. A failure is retried
  with exponential backoff. Transient failures (`is_transient`: a dependency is down) are retried
  until it is back, holding only that partition, because skipping would reorder an entity's
  messages. Others are retried up to `max_attempts`, then the message goes to `<topic>.dlq` with
  its key, value and headers plus `dlq_error`, `dlq_consumer_group`, `dlq_original_partition`,
  `dlq_original_offset`, `dlq_failed_at`; `PoisonMessage` skips the retries. A batch that fails
  for a reason other than a dependency is taken apart and its messages run one by one, so only
  the bad one is dead-lettered. With `dlq=False` its partition holds at such a message instead: nothing is
  ever dropped silently.
- **commit**: auto-commit is off; after each chunk of a partition, the offset after the last
  message whose effect (or dead letter) is durable is marked, and the marks of every partition go
  to the broker together, at most `commit_interval` later (one request, not one per message: at
  tens of messages a second per partition that is most of the broker's and the client's work), and
  at once when partitions are revoked or the consumer stops. Delivery is therefore at least once
  (a crash redelivers at most that interval's messages), and every effect must be idempotent.

Partitions make progress on their own: the fetch loop hands each partition's records to that
partition's worker and goes on fetching, so a partition that is retrying or slow holds up only
itself (and is paused, so its backlog stays bounded). Within a partition messages are handled
strictly in order; a key always maps to one partition, so one entity's messages stay in order.

On a rebalance the revoked partitions finish their in-flight chunk and commit before they move.
`stop()` does the same for all of them and leaves the group; a chunk still running after the
timeout is cancelled, its messages stay uncommitted and are redelivered.

Metrics: `kafka.consumer.processed`, `kafka.consumer.failures` (effects that raised, and poison
messages),
`kafka.consumer.dlq`, `kafka.consumer.lag` (per partition: high watermark minus the next offset
to process).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.protocol.group import JoinGroupRequest, LeaveGroupRequest
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from google.protobuf.message import DecodeError, Message
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import Link, SpanKind, StatusCode, TracerProvider

from services.common.config import KafkaSettings
from services.common.kafka import Backoff, Envelope, PoisonMessage, consumer_config, create_producer, dead_letter_headers, is_transient
from services.common.telemetry import PerMeterProvider
from services.common.topics import M, MessageType, Topic

log = structlog.get_logger("kafka")

# How long one fetch call waits for records before the loop looks at stop and rebalances again
# (the broker-side wait is KafkaSettings.kafka_fetch_max_wait_ms).
_POLL_TIMEOUT_MS = 200


# --- route -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound(Generic[M]):
    """One routed message: its declared type, the decoded protobuf, and its envelope (headers,
    key, partition, offset). `tenant_id` is never empty."""

    envelope: Envelope
    message_type: MessageType[M]
    message: M

    @property
    def tenant_id(self) -> str:
        return self.envelope.tenant_id


class Routes:
    """The route step: which declared message types of which topics a consumer acts on."""

    def __init__(self, topics: Sequence[Topic], handled: Iterable[MessageType[Any]]):
        if not topics:
            raise ValueError("at least one topic is required")
        self.topics = tuple(topics)
        self._topics = {t.name: t for t in self.topics}
        self._handled = frozenset(handled)
        for message_type in self._handled:
            if not any(t.message_type(message_type.ce_type) == message_type for t in self.topics):
                raise ValueError(f"{message_type.ce_type} is not a message type of {[t.name for t in self.topics]}")

    def route(self, envelope: Envelope) -> Inbound[Message] | None:
        """The routed message; None when this consumer skips it; PoisonMessage when it can never
        be processed."""
        topic = self._topics.get(envelope.topic)
        message_type = topic.message_type(envelope.ce_type) if topic is not None else None
        if message_type is None:
            log.info("message type not declared for the topic; skipped", topic=envelope.topic, ce_type=envelope.ce_type)
            return None
        if message_type not in self._handled:
            return None
        if not envelope.tenant_id:
            raise PoisonMessage(f"{envelope.ce_type} without ce_tenantid: cannot tell whose data it is")
        try:
            message = message_type.parse(envelope.value)
        except DecodeError as exc:
            raise PoisonMessage(f"{envelope.ce_type}: value is not a {message_type.message.DESCRIPTOR.full_name}: {exc}") from None
        return Inbound(envelope, message_type, message)


# --- what a consumer does ------------------------------------------------------------------------------

MessageHandler = Callable[[Inbound[Any]], Awaitable[None]]
BatchHandler = Callable[[Sequence[Inbound[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A consumer group: what it reads (`routes`), how many routed messages one effect takes at
    most (`batch_limit`), and the effect. Build one with `each` or `batched`. `fetch_max_wait_ms`
    overrides the setting for a group that is not on a latency path (fewer idle fetches)."""

    group_id: str
    routes: Routes
    effect: BatchHandler
    batch_limit: int
    fetch_max_wait_ms: int | None = None

    @classmethod
    def each(cls, group_id: str, topics: Sequence[Topic], handlers: Mapping[MessageType[Any], MessageHandler]) -> Subscription:
        """One message at a time, by type."""
        table = dict(handlers)

        async def one(batch: Sequence[Inbound[Any]]) -> None:
            (inbound,) = batch
            await table[inbound.message_type](inbound)

        return cls(group_id, Routes(topics, table), one, batch_limit=1)

    @classmethod
    def batched(
        cls,
        group_id: str,
        topics: Sequence[Topic],
        handled: Iterable[MessageType[Any]],
        handler: BatchHandler,
        *,
        limit: int = 500,
        fetch_max_wait_ms: int | None = None,
    ) -> Subscription:
        """Up to `limit` routed messages of one partition, in order, in one effect. The effect must
        be idempotent for any split of the same messages (a failed batch is retried one by one)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return cls(group_id, Routes(topics, handled), handler, batch_limit=limit, fetch_max_wait_ms=fetch_max_wait_ms)

    async def deliver(self, envelopes: Sequence[Envelope]) -> None:
        """Route and apply in batches as the runner does, without Kafka, retries or dead letters
        (a poison message raises PoisonMessage): how unit tests and tools drive a consumer."""
        routed = [inbound for envelope in envelopes if (inbound := self.routes.route(envelope)) is not None]
        for start in range(0, len(routed), self.batch_limit):
            await self.effect(routed[start : start + self.batch_limit])


class _Interrupted(Exception):
    """Stop was requested (or the partition revoked) while a message waited for its next
    attempt: it stays uncommitted."""


@dataclass
class ConsumerStats:
    processed: int = 0
    failures: int = 0
    dead_lettered: int = 0
    commits: int = 0


# --- the runner ----------------------------------------------------------------------------------------


class KafkaConsumerRunner:
    """Runs a `Subscription` as a member of its consumer group (module docstring)."""

    def __init__(
        self,
        settings: KafkaSettings,
        subscription: Subscription,
        *,
        dlq: bool = True,
        max_attempts: int = 5,
        retry_backoff: tuple[float, float] = (0.1, 5.0),
        transient: Callable[[BaseException], bool] = is_transient,
        auto_offset_reset: str = "earliest",
        max_fetch: int = 500,
        commit_interval: float = 0.2,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._settings = settings
        self.subscription = subscription
        self.group_id = subscription.group_id
        self.topics = tuple(t.name for t in subscription.routes.topics)
        self._dlq = dlq
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._transient = transient
        self._auto_offset_reset = auto_offset_reset
        self._max_fetch = max_fetch
        self._commit_interval = commit_interval
        self._marked: dict[TopicPartition, int] = {}  # offsets done, not yet committed
        self._marks = asyncio.Event()
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._metrics = _CONSUMER_METRICS.of(meter_provider or metrics.get_meter_provider())
        self._metrics.runners.add(self)

        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._assigned = asyncio.Event()
        self._partitions: dict[TopicPartition, _Partition] = {}
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
        # A bug in the loop itself (effect errors never get here): say so at once, not at stop.
        if not task.cancelled() and task.exception() is not None:
            log.error("consumer crashed; it no longer consumes", group=self.group_id, error=repr(task.exception()))

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the in-flight chunks, commit, leave the group. After `timeout` seconds what is
        still running is cancelled (and redelivered later)."""
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
            log.warning("consumer did not stop in time; cancelling its in-flight effects", group=self.group_id, timeout=timeout)
            for effect in list(self._inflight):
                effect.cancel()
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
        committer = asyncio.create_task(self._committer(consumer), name=f"kafka-committer:{self.group_id}")
        try:
            await self._fetch(consumer)
        finally:
            await self._finish(list(self._partitions))
            committer.cancel()
            await asyncio.gather(committer, return_exceptions=True)
            await self._commit_marked(consumer)  # whatever the committer had not sent yet
            await self._close(consumer)

    async def _start_consumer(self) -> AIOKafkaConsumer | None:
        backoff = Backoff(*self._retry_backoff)
        while not self._stopping.is_set():
            config = consumer_config(self._settings, self.group_id)
            if self.subscription.fetch_max_wait_ms is not None:
                config["fetch_max_wait_ms"] = self.subscription.fetch_max_wait_ms
            consumer = AIOKafkaConsumer(**config, auto_offset_reset=self._auto_offset_reset)
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

    # --- fetch: hand each partition its records ----------------------------------------------------

    async def _fetch(self, consumer: AIOKafkaConsumer) -> None:
        backoff = Backoff(*self._retry_backoff)
        while not self._stopping.is_set():
            try:
                fetched = await consumer.getmany(timeout_ms=_POLL_TIMEOUT_MS, max_records=self._max_fetch)
            except KafkaError as exc:
                log.warning("fetch failed; retrying", group=self.group_id, error=repr(exc))
                with contextlib.suppress(_Interrupted):
                    await self._pause(backoff.next())
                continue
            backoff.reset()
            await self._track_idle_partitions(consumer, fetched)
            for tp, records in fetched.items():
                partition = self._partitions.get(tp)
                if partition is None or partition.closing:
                    partition = self._partitions[tp] = _Partition(self, consumer, tp)
                partition.feed(records)

    # --- one partition: route, batch, effect, commit --------------------------------------------------

    async def _chunk(self, partition: _Partition, records: Sequence[ConsumerRecord[Any, Any]]) -> int | None:
        """Routes the records and applies the effect in batches, in offset order; returns the
        offset after the last record done (effect durable, dead-lettered or skipped), None when
        none was."""
        done: int | None = None
        seen: int | None = None  # the offset after the last record routed or skipped
        batch: list[tuple[ConsumerRecord[Any, Any], Inbound[Any]]] = []

        async def flush() -> None:
            nonlocal done
            if batch:
                await self._apply(partition, batch)
                batch.clear()
            done = seen

        try:
            for record in records:
                if partition.closing:
                    break
                try:
                    inbound = self.subscription.routes.route(Envelope.from_record(record))
                except PoisonMessage as exc:
                    await flush()
                    self._failed(record.topic)
                    await self._dead_letter(partition, record, exc, attempts=1)
                    done = seen = record.offset + 1
                    continue
                seen = record.offset + 1
                if inbound is None:  # skipped: done as soon as what came before it is
                    if not batch:
                        done = seen
                    continue
                batch.append((record, inbound))
                if len(batch) >= self.subscription.batch_limit:
                    await flush()
            if not partition.closing:
                await flush()
        except _Interrupted:
            pass
        return done

    async def _apply(self, partition: _Partition, batch: list[tuple[ConsumerRecord[Any, Any], Inbound[Any]]]) -> None:
        """The effect of a batch, retried (module docstring); a batch failing for a reason other
        than a dependency is taken apart so that only the bad message is dead-lettered."""
        attrs = self._attributes(batch[0][0].topic)
        backoff = Backoff(*self._retry_backoff)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._effect(partition, [inbound for _, inbound in batch], attempt)
            except _Interrupted:
                raise
            except Exception as exc:
                self._failed(batch[0][0].topic)
                poison = isinstance(exc, PoisonMessage)
                transient = not poison and self._transient(exc)
                if len(batch) > 1 and not transient:
                    log.warning("batch failed; retrying its messages one by one", **_where(batch[0][1].envelope), size=len(batch), error=repr(exc))
                    for one in list(batch):
                        await self._apply(partition, [one])
                    return
                if (poison or (attempt >= self._max_attempts and not transient)) and self._dlq:
                    await self._dead_letter(partition, batch[0][0], exc, attempts=attempt)
                    return
                delay = backoff.next()
                log.warning("message failed; retrying", **_where(batch[0][1].envelope), attempt=attempt, transient=transient, retry_in=delay, error=repr(exc))
                await self._pause(delay, partition)
            else:
                self.stats.processed += len(batch)
                self._metrics.processed.add(len(batch), attrs)
                return

    def _attributes(self, topic: str) -> dict[str, str]:
        return {"messaging.destination.name": topic, "messaging.consumer.group.name": self.group_id}

    def _failed(self, topic: str) -> None:
        """An attempt failed: an effect raised, or the route step found the message poison."""
        self.stats.failures += 1
        self._metrics.failures.add(1, self._attributes(topic))

    async def _effect(self, partition: _Partition, batch: list[Inbound[Any]], attempt: int) -> None:
        """The effect runs as its own task, so a stop that timed out can cancel just the effects
        still running: their partitions then commit what finished before them."""
        task = asyncio.ensure_future(self._traced(batch, attempt))
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

    async def _traced(self, batch: list[Inbound[Any]], attempt: int) -> None:
        first = batch[0].envelope
        contexts = [propagate.extract(dict(inbound.envelope.headers)) for inbound in batch]
        links = [Link(span) for span in (trace.get_current_span(c).get_span_context() for c in contexts) if span.is_valid]
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": first.topic,
            "messaging.consumer.group.name": self.group_id,
            "messaging.destination.partition.id": str(first.partition),
            "messaging.kafka.offset": first.offset,
            "messaging.kafka.message.key": first.key or "",
            "messaging.message.id": first.ce_id,
            "cloudevents.event_type": first.ce_type,
            "tenant.id": first.tenant_id,
            "retry.attempt": attempt,
        }
        if len(batch) > 1:
            attributes["messaging.batch.message_count"] = len(batch)
        # A child of the producer's span, so the RPC that caused the message and its consumers share
        # one trace and log lines carry its trace id. A batch has one parent: the first message
        # whose trace is sampled (a trace someone is following), else the first message; every
        # producer's span is linked, as the messaging conventions ask for batches.
        sampled = (c for c in contexts if trace.get_current_span(c).get_span_context().trace_flags.sampled)
        parent: Context = next(sampled, contexts[0])
        with self._tracer.start_as_current_span(f"process {first.topic}", context=parent, kind=SpanKind.CONSUMER, links=links, attributes=attributes) as span:
            with structlog.contextvars.bound_contextvars(**_where(first)):
                try:
                    await self.subscription.effect(batch)
                except Exception as exc:
                    span.record_exception(exc)
                    span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
                    raise

    async def _dead_letter(self, partition: _Partition, record: ConsumerRecord[Any, Any], error: BaseException, *, attempts: int) -> None:
        """Publish to `<topic>.dlq` and wait for the acknowledgement, retrying until it succeeds:
        only then may the original offset be committed. Without a DLQ the partition holds at the
        message until stopped (nothing is dropped silently)."""
        if not self._dlq:
            log.error("message can never be processed and there is no dead-letter topic: its partition holds", **_at(record), error=repr(error))
            backoff = Backoff(*self._retry_backoff)
            while True:
                await self._pause(backoff.next(), partition)
        headers = dead_letter_headers(record, error, self.group_id, datetime.now(UTC))
        backoff = Backoff(*self._retry_backoff)
        while True:
            try:
                producer = await self._dlq_producer_started()
                await producer.send_and_wait(record.topic + ".dlq", value=record.value, key=record.key, headers=headers)
                break
            except KafkaError as exc:
                log.error("dead-letter publish failed; retrying", topic=record.topic + ".dlq", error=repr(exc))
                await self._pause(backoff.next(), partition)
        self.stats.dead_lettered += 1
        self._metrics.dlq.add(1, self._attributes(record.topic))
        log.error("message dead-lettered", **_at(record), attempts=attempts, error=repr(error))

    async def _dlq_producer_started(self) -> AIOKafkaProducer:
        if self._dlq_producer is None:
            self._dlq_producer = create_producer(self._settings)
        if not self._dlq_started:
            await self._dlq_producer.start()
            self._dlq_started = True
        return self._dlq_producer

    def _mark(self, tp: TopicPartition, offset: int) -> None:
        """Every message of the partition before `offset` is done: commit it soon."""
        self._positions[tp] = offset
        self._marked[tp] = offset
        self._marks.set()

    async def _committer(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            await self._marks.wait()
            await asyncio.sleep(self._commit_interval)  # gather the marks of every partition
            self._marks.clear()
            await self._commit_marked(consumer)

    async def _commit_marked(self, consumer: AIOKafkaConsumer, tps: Iterable[TopicPartition] | None = None) -> None:
        """One commit of the marked offsets (of `tps` only, when given). A mark is dropped once
        committed, or once its partition has moved on; a broker error keeps it for the next round."""
        wanted = set(self._marked) if tps is None else set(tps) & set(self._marked)
        offsets = {tp: OffsetAndMetadata(self._marked[tp], "") for tp in wanted}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
            self.stats.commits += 1
        except (CommitFailedError, IllegalStateError) as exc:
            # A partition moved to another member meanwhile: it redelivers from the last
            # committed offset, and the effects are idempotent.
            log.warning("commit failed; messages will be redelivered", group=self.group_id, offsets=_offsets(offsets), error=repr(exc))
        except KafkaError as exc:
            log.error("commit failed; retrying with the next commit", group=self.group_id, offsets=_offsets(offsets), error=repr(exc))
            self._marks.set()
            return
        for tp, meta in offsets.items():
            if self._marked.get(tp) == meta.offset:  # not marked further meanwhile
                del self._marked[tp]

    async def _pause(self, seconds: float, partition: _Partition | None = None) -> None:
        """Sleep, unless stop is requested (or the partition revoked) meanwhile: then raise
        _Interrupted."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if partition is not None:
            waits.append(asyncio.ensure_future(partition.revoked.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if self._stopping.is_set() or (partition is not None and partition.revoked.is_set()):
            raise _Interrupted

    # --- rebalances ------------------------------------------------------------------------------

    async def _finish(self, tps: Iterable[TopicPartition]) -> None:
        """The partitions finish their in-flight chunk and commit; queued records are dropped
        (their next owner, or this member after a restart, reads them from the committed offset)."""
        partitions = [p for tp in tps if (p := self._partitions.pop(tp, None)) is not None]
        for partition in partitions:
            partition.close()
        await asyncio.gather(*(p.closed() for p in partitions))
        if self._consumer is not None:
            await self._commit_marked(self._consumer, [p.tp for p in partitions])
        for partition in partitions:
            self._positions.pop(partition.tp, None)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        # Called by the group coordinator before the group rebalances, so the next owner starts
        # after what was committed here.
        await self._finish(revoked)

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
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
        """Partitions that never returned anything still have a lag (zero when caught up): once
        fetched, their position is known and is where this consumer stands. (A partition with a
        worker has its position set by the worker, after each chunk.)"""
        # A rebalance under way (assignment changing) leaves positions to the next round.
        with contextlib.suppress(AssertionError, IllegalStateError):
            for tp in consumer.assignment():
                if tp not in self._positions and tp not in self._partitions and tp not in fetched and consumer.highwater(tp) is not None:
                    self._positions[tp] = await consumer.position(tp)


class _Partition:
    """One assigned partition's worker: takes the records the fetch loop hands it, in order, in
    chunks, and marks what is done after each (the runner commits the marks). It pauses the partition's fetching while its backlog is
    large, so a slow partition never buffers without bound."""

    def __init__(self, runner: KafkaConsumerRunner, consumer: AIOKafkaConsumer, tp: TopicPartition):
        self._runner = runner
        self._consumer = consumer
        self.tp = tp
        self._pending: deque[ConsumerRecord[Any, Any]] = deque()
        self._wakeup = asyncio.Event()
        self.revoked = asyncio.Event()
        self._paused = False
        self._task = asyncio.create_task(self._run(), name=f"kafka-partition:{runner.group_id}:{tp.topic}[{tp.partition}]")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        # A bug in the worker itself (effect errors never get here): the partition no longer moves.
        if not task.cancelled() and task.exception() is not None:
            log.error("partition worker crashed; the partition no longer moves", partition=str(self.tp), error=repr(task.exception()))

    @property
    def closing(self) -> bool:
        return self.revoked.is_set() or self._runner._stopping.is_set()

    def feed(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        self._pending.extend(records)
        self._wakeup.set()
        if len(self._pending) >= 2 * self._runner._max_fetch and not self._paused:
            with contextlib.suppress(IllegalStateError):
                self._consumer.pause(self.tp)
                self._paused = True

    def close(self) -> None:
        self.revoked.set()
        self._wakeup.set()

    async def closed(self) -> None:
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        runner = self._runner
        while not self.closing:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending and not self.closing:
                chunk = [self._pending.popleft() for _ in range(min(len(self._pending), runner._max_fetch))]
                done = await runner._chunk(self, chunk)
                if done is not None:
                    runner._mark(self.tp, done)
                if self._paused and len(self._pending) < runner._max_fetch and not self.closing:
                    with contextlib.suppress(IllegalStateError):
                        self._consumer.resume(self.tp)
                    self._paused = False
        self._pending.clear()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: KafkaConsumerRunner):
        self._runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runner._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner._on_assigned(assigned)


def _offsets(offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> dict[str, int]:
    return {f"{tp.topic}[{tp.partition}]": meta.offset for tp, meta in offsets.items()}


def _at(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


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
    """The instruments of every runner of the process (one set per meter provider:
    `_CONSUMER_METRICS`, services/common/telemetry.py `PerMeterProvider`)."""

    processed: Any
    failures: Any
    dlq: Any
    runners: weakref.WeakSet[KafkaConsumerRunner] = field(default_factory=weakref.WeakSet)

    @classmethod
    def create(cls, provider: MeterProvider) -> _ConsumerMetrics:
        meter = provider.get_meter("services.common.kafka")
        created = cls(
            processed=meter.create_counter("kafka.consumer.processed", unit="{message}", description="Messages handled successfully"),
            failures=meter.create_counter("kafka.consumer.failures", unit="{attempt}", description="Failed attempts: effects that raised, poison messages"),
            dlq=meter.create_counter("kafka.consumer.dlq", unit="{message}", description="Messages sent to the dead-letter topic"),
        )
        meter.create_observable_gauge(
            "kafka.consumer.lag",
            callbacks=[created._observe_lag],
            unit="{message}",
            description="Per partition: high watermark minus the next offset to process",
        )
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


_CONSUMER_METRICS = PerMeterProvider(_ConsumerMetrics.create)
