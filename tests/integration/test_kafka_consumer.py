"""KafkaConsumerRunner against the real broker: per-key order with partitions processed
concurrently, the producer's trace continued, lag and counters; a poison message dead-lettered
with its error headers while the partition moves on; offsets committed only after success, so a
runner stopped mid-way and a new one lose nothing.

Each test has topics of its own (and a unique consumer group)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common.config import KafkaSettings
from services.common.kafka import DLQ_HEADERS, Envelope, KafkaConsumerRunner, PoisonMessage, cloudevent_headers, create_producer, decode_headers
from services.devstack.infra import ensure_topics_async
from services.devstack.stack import Platform

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(platform: Platform) -> KafkaSettings:
    # A short session: the local broker holds a join for about half of it, and tests start groups.
    env = platform.infra.env()
    return KafkaSettings(
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        kafka_fetch_max_wait_ms=int(env["KAFKA_FETCH_MAX_WAIT_MS"]),
        kafka_client_id="consumer-test",
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=500,
    )


@pytest.fixture
async def topic(settings: KafkaSettings) -> Callable[[int], Any]:
    async def create(partitions: int) -> str:
        name = f"test.consumer.{uuid.uuid4().hex[:12]}"
        await ensure_topics_async(settings.kafka_bootstrap_servers, {name: partitions, f"{name}.dlq": 1})
        return name

    return create


@pytest.fixture
async def producer(settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    p = create_producer(settings)
    await p.start()
    yield p
    await p.stop()


def group() -> str:
    return f"test-group-{uuid.uuid4().hex[:12]}"


async def publish(producer: AIOKafkaProducer, topic: str, messages: list[tuple[str, str]], traceparent: str | None = None) -> None:
    """(key, value) pairs, in order, as CloudEvents of tenant `t-1`."""
    futures = []
    for key, value in messages:
        headers = cloudevent_headers(
            ce_id=str(uuid.uuid4()),
            source="//bookings-platform/test",
            ce_type="test.thing.changed.v1",
            time=datetime.now(UTC),
            subject=key,
            tenant_id="t-1",
            traceparent=traceparent,
        )
        futures.append(await producer.send(topic, value=value.encode(), key=key.encode(), headers=headers))
    await asyncio.gather(*futures)


async def eventually(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.02)


async def committed(settings: KafkaSettings, group_id: str, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    """The group's committed offsets, read without joining it."""
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await reader.start()
    try:
        return {tp: await reader.committed(tp) for tp in tps}
    finally:
        await reader.stop()


async def read_all(settings: KafkaSettings, topic: str, n: int, timeout: float = 15.0) -> list[Any]:
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest")
    await reader.start()
    try:
        reader.assign([TopicPartition(topic, 0)])
        await reader.seek_to_beginning()
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < n and time.monotonic() < deadline:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records += batch
        return records
    finally:
        await reader.stop()


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    return [p for rm in (data.resource_metrics if data else []) for sm in rm.scope_metrics for m in sm.metrics if m.name == name for p in m.data.data_points]


async def test_partitions_run_concurrently_each_in_order_inside_the_producers_trace(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    name = await topic(3)
    keys = [f"key-{k}" for k in range(6)]
    trace_id = uuid.uuid4().hex
    producer_span = uuid.uuid4().hex[:16]
    await publish(producer, name, [(key, f"{key}:{seq}") for seq in range(10) for key in keys], traceparent=f"00-{trace_id}-{producer_span}-01")

    seen: dict[str, list[int]] = defaultdict(list)
    envelopes: list[Envelope] = []
    running, most = 0, 0

    async def handler(envelope: Envelope) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.002)
            key, seq = envelope.value.decode().split(":")
            assert key == envelope.key
            seen[key].append(int(seq))
            envelopes.append(envelope)
        finally:
            running -= 1

    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    metrics = InMemoryMetricReader()
    runner = KafkaConsumerRunner(settings, group(), [name], handler, meter_provider=MeterProvider(metric_readers=[metrics]), tracer_provider=tracing)
    async with runner:
        await eventually(lambda: len(envelopes) == 60, what="all 60 messages handled")
        await eventually(lambda: runner.stats.commits >= 3, what="commits")
        lags = points(metrics, "kafka.consumer.lag")

    assert {key: seqs for key, seqs in seen.items()} == {key: list(range(10)) for key in keys}
    assert most >= 2, "partitions were not processed concurrently"
    assert {(e.ce_type, e.tenant_id) for e in envelopes} == {("test.thing.changed.v1", "t-1")}
    assert sum(p.value for p in points(metrics, "kafka.consumer.processed")) == 60
    assert sorted(p.attributes["messaging.destination.partition.id"] for p in lags) == ["0", "1", "2"]
    assert {p.value for p in lags} == {0}

    finished = [s for s in spans.get_finished_spans() if s.name == f"process {name}"]
    assert len(finished) == 60
    span = finished[0]
    assert span.kind == SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == producer_span
    assert [format(link.context.span_id, "016x") for link in span.links] == [producer_span]


async def test_a_poison_message_is_dead_lettered_after_its_attempts_and_the_partition_moves_on(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    name = await topic(1)
    await publish(producer, name, [("k", f"m{i}") for i in range(6)])
    attempts: dict[str, int] = defaultdict(int)
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        value = envelope.value.decode()
        attempts[value] += 1
        if value == "m1" and attempts[value] <= 4:
            raise ConnectionResetError("database restarting")  # transient: retried past max_attempts
        if value == "m2":
            raise ValueError("cannot decode m2")
        if value == "m3":
            raise PoisonMessage("unknown version")
        handled.append(value)

    group_id = group()
    runner = KafkaConsumerRunner(settings, group_id, [name], handler, max_attempts=3, retry_backoff=(0.01, 0.05))
    async with runner:
        await eventually(lambda: handled == ["m0", "m1", "m4", "m5"], what="the partition moved past the poison messages")
        await eventually(lambda: runner.positions.get(TopicPartition(name, 0)) == 6, what="position")

    assert attempts == {"m0": 1, "m1": 5, "m2": 3, "m3": 1, "m4": 1, "m5": 1}
    assert (runner.stats.dead_lettered, runner.stats.processed) == (2, 4)
    assert (await committed(settings, group_id, [TopicPartition(name, 0)]))[TopicPartition(name, 0)] == 6

    dead = await read_all(settings, f"{name}.dlq", 2)
    assert [(r.key, r.value) for r in dead] == [(b"k", b"m2"), (b"k", b"m3")]
    first = decode_headers(dead[0].headers)
    assert first.keys() >= {"ce_id", "ce_type", "ce_tenantid", "ce_source", *DLQ_HEADERS}
    assert first["ce_type"] == "test.thing.changed.v1"
    assert first["dlq_error"] == "ValueError: cannot decode m2"
    assert first["dlq_consumer_group"] == group_id
    assert (first["dlq_original_partition"], first["dlq_original_offset"]) == ("0", "2")
    assert datetime.strptime(first["dlq_failed_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert decode_headers(dead[1].headers)["dlq_error"] == "PoisonMessage: unknown version"


async def test_offsets_are_committed_only_after_success_so_a_stopped_runner_loses_nothing(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    name = await topic(3)
    values = [f"key-{k}:{seq}" for seq in range(10) for k in range(6)]
    await publish(producer, name, [(v.split(":")[0], v) for v in values])
    group_id = group()

    first: list[tuple[str, int, int]] = []
    stuck = asyncio.Event()
    stuck_at: list[Envelope] = []

    async def hangs_on_the_fifth(envelope: Envelope) -> None:
        if envelope.value.decode().endswith(":4"):
            stuck_at.append(envelope)
            stuck.set()
            await asyncio.Event().wait()  # never finishes: a handler hung on a dead dependency
        first.append((envelope.value.decode(), envelope.partition, envelope.offset))

    runner = KafkaConsumerRunner(settings, group_id, [name], hangs_on_the_fifth)
    await runner.start()
    await asyncio.wait_for(stuck.wait(), 20)
    await asyncio.sleep(0.2)  # let the other partitions reach their fifth message too
    offsets = await committed(settings, group_id, [TopicPartition(name, p) for p in range(3)])
    # Nothing at or past an unfinished message is committed in its partition.
    for blocked in stuck_at:
        assert (offsets[TopicPartition(name, blocked.partition)] or 0) <= blocked.offset
    await runner.stop(timeout=0.5)  # hung handlers are cancelled; what finished is committed

    second: list[tuple[str, int, int]] = []

    async def records(envelope: Envelope) -> None:
        second.append((envelope.value.decode(), envelope.partition, envelope.offset))

    async with KafkaConsumerRunner(settings, group_id, [name], records):
        await eventually(lambda: {v for v, _, _ in first} | {v for v, _, _ in second} == set(values), what="every message handled once")

    assert first, "the first runner finished nothing before it hung"
    assert {e.value.decode() for e in stuck_at} <= {v for v, _, _ in second}  # redelivered: never finished
    assert not {v for v, _, _ in first} & {v for v, _, _ in second}  # what finished was committed
    for handled in (first, second):
        by_key: dict[str, list[int]] = defaultdict(list)
        for value, _, _ in handled:
            key, seq = value.split(":")
            by_key[key].append(int(seq))
        assert all(seqs == sorted(seqs) for seqs in by_key.values())
