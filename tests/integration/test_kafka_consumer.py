"""KafkaConsumerRunner against the real broker: per-key order with partitions processed
concurrently, the producer's trace continued, lag and counters; a partition that is stuck holds
up no other; the route step (unknown types skipped, a message without tenant or that does not
decode dead-lettered); a poison message dead-lettered with its error headers while the partition
moves on, also from inside a batch; offsets committed only after success, so a runner stopped
mid-way and a new one lose nothing.

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
from google.protobuf.wrappers_pb2 import StringValue
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common.config import KafkaSettings
from services.common.consumer import Inbound, KafkaConsumerRunner, Subscription
from services.common.kafka import DLQ_HEADERS, PoisonMessage, cloudevent_headers, create_producer, decode_headers
from services.common.topics import MessageType, Topic
from services.devstack.infra import ensure_topics_async
from services.devstack.stack import Platform
from tests.support import eventually

pytestmark = pytest.mark.integration

WITHIN = 20.0  # seconds a consumer gets to reach a state the test waits for
THING_CHANGED = MessageType("test.thing.changed.v1", StringValue)
THING_RENAMED = MessageType("test.thing.renamed.v1", StringValue)  # declared, but no test consumer acts on it


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
    async def create(partitions: int) -> Topic:
        name = f"test.consumer.{uuid.uuid4().hex[:12]}"
        await ensure_topics_async(settings.kafka_bootstrap_servers, {name: partitions, f"{name}.dlq": 1})
        return Topic(name, key="thing id", message_types=(THING_CHANGED, THING_RENAMED), local_partitions=partitions)

    return create


def each(topic: Topic, handler: Callable[[Inbound[StringValue]], Any]) -> Subscription:
    return Subscription.each(group(), (topic,), {THING_CHANGED: handler})


def text(inbound: Inbound[StringValue]) -> str:
    return inbound.message.value


@pytest.fixture
async def producer(settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    p = create_producer(settings)
    await p.start()
    yield p
    await p.stop()


def group() -> str:
    return f"test-group-{uuid.uuid4().hex[:12]}"


async def publish(
    producer: AIOKafkaProducer,
    topic: Topic,
    messages: list[tuple[str, str]],
    traceparent: str | None = None,
    *,
    ce_type: str = THING_CHANGED.ce_type,
    tenant: str = "t-1",
) -> None:
    """(key, text) pairs, in order, as CloudEvents of `tenant` carrying the text as a StringValue."""
    futures = []
    for key, value in messages:
        headers = cloudevent_headers(
            ce_id=str(uuid.uuid4()),
            source="//bookings-platform/test",
            ce_type=ce_type,
            time=datetime.now(UTC),
            subject=key,
            tenant_id=tenant,
            traceparent=traceparent,
        )
        futures.append(await producer.send(topic.name, value=StringValue(value=value).SerializeToString(), key=key.encode(), headers=headers))
    await asyncio.gather(*futures)


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
    thing = await topic(3)
    keys = [f"key-{k}" for k in range(6)]
    trace_id = uuid.uuid4().hex
    producer_span = uuid.uuid4().hex[:16]
    await publish(producer, thing, [(key, f"{key}:{seq}") for seq in range(10) for key in keys], traceparent=f"00-{trace_id}-{producer_span}-01")

    seen: dict[str, list[int]] = defaultdict(list)
    handled: list[Inbound[StringValue]] = []
    running, most = 0, 0

    async def handler(inbound: Inbound[StringValue]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.002)
            key, seq = text(inbound).split(":")
            assert key == inbound.envelope.key
            seen[key].append(int(seq))
            handled.append(inbound)
        finally:
            running -= 1

    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    metrics = InMemoryMetricReader()
    runner = KafkaConsumerRunner(settings, each(thing, handler), meter_provider=MeterProvider(metric_readers=[metrics]), tracer_provider=tracing)
    async with runner:
        await eventually(lambda: len(handled) == 60, within=WITHIN, what="all 60 messages handled")
        await eventually(lambda: runner.stats.commits >= 1, within=WITHIN, what="a commit")
        lags = points(metrics, "kafka.consumer.lag")
    # The three partitions' progress went to the broker together, not once per message.
    tps = [TopicPartition(thing.name, p) for p in range(3)]
    assert sum((await committed(settings, runner.group_id, tps)).values()) == 60  # type: ignore[arg-type]
    assert runner.stats.commits < 10

    assert {key: seqs for key, seqs in seen.items()} == {key: list(range(10)) for key in keys}
    assert most >= 2, "partitions were not processed concurrently"
    assert {(i.envelope.ce_type, i.tenant_id) for i in handled} == {("test.thing.changed.v1", "t-1")}
    assert sum(p.value for p in points(metrics, "kafka.consumer.processed")) == 60
    assert sorted(p.attributes["messaging.destination.partition.id"] for p in lags) == ["0", "1", "2"]
    assert {p.value for p in lags} == {0}

    finished = [s for s in spans.get_finished_spans() if s.name == f"process {thing.name}"]
    assert len(finished) == 60
    span = finished[0]
    assert span.kind == SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == producer_span
    assert [format(link.context.span_id, "016x") for link in span.links] == [producer_span]


async def test_a_stuck_partition_holds_up_no_other(settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer) -> None:
    """A partition whose message keeps failing on a dependency is retried on its own: the other
    partitions keep handling and committing what arrives meanwhile."""
    thing = await topic(2)
    stuck = TopicPartition(thing.name, 0)
    handled: list[str] = []

    async def handler(inbound: Inbound[StringValue]) -> None:
        if inbound.envelope.partition == stuck.partition:
            raise ConnectionResetError("database restarting")  # transient: retried until it works
        handled.append(text(inbound))

    subscription = each(thing, handler)
    async with KafkaConsumerRunner(settings, subscription, retry_backoff=(0.05, 0.2)) as runner:
        await runner.wait_assigned(20)
        await producer.send_and_wait(thing.name, value=StringValue(value="held").SerializeToString(), key=b"a", partition=0, headers=_headers())
        await eventually(lambda: runner.stats.failures >= 2, within=WITHIN, what="partition 0 retrying")
        for i in range(3):  # one at a time, each a fetch of its own, while partition 0 retries
            await producer.send_and_wait(thing.name, value=StringValue(value=f"free-{i}").SerializeToString(), key=b"b", partition=1, headers=_headers())
            await eventually(lambda i=i: len(handled) == i + 1, within=WITHIN, what=f"free-{i} handled")
        await eventually(lambda: runner.positions.get(TopicPartition(thing.name, 1)) == 3, within=WITHIN, what="partition 1 position")
        assert handled == ["free-0", "free-1", "free-2"]
        assert runner.positions.get(stuck, 0) == 0
        free = TopicPartition(thing.name, 1)
        await eventually(
            lambda: committed(settings, subscription.group_id, [free, stuck]),
            lambda found: found == {free: 3, stuck: None},
            within=WITHIN,
            what="partition 1 committed, 0 not",
        )


def _headers(*, tenant: str = "t-1", ce_type: str = THING_CHANGED.ce_type) -> list[tuple[str, bytes]]:
    return cloudevent_headers(ce_id=str(uuid.uuid4()), source="//test", ce_type=ce_type, time=datetime.now(UTC), subject="k", tenant_id=tenant)


async def test_the_route_step_skips_types_it_does_not_act_on_and_dead_letters_what_cannot_be_read(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    thing = await topic(1)
    await publish(producer, thing, [("k", "kept-0")])
    await publish(producer, thing, [("k", "renamed")], ce_type=THING_RENAMED.ce_type)  # declared, not acted on
    await publish(producer, thing, [("k", "newer")], ce_type="test.thing.merged.v9")  # a newer producer's type
    await publish(producer, thing, [("k", "whose?")], tenant="")  # no tenant: poison
    await producer.send_and_wait(thing.name, value=b"\x0a\x05ab", key=b"k", headers=_headers())  # a truncated StringValue: poison
    await publish(producer, thing, [("k", "kept-1")])
    handled: list[str] = []

    async def handler(inbound: Inbound[StringValue]) -> None:
        handled.append(text(inbound))

    subscription = each(thing, handler)
    async with KafkaConsumerRunner(settings, subscription) as runner:
        await eventually(lambda: runner.positions.get(TopicPartition(thing.name, 0)) == 6, within=WITHIN, what="every message done")
    assert handled == ["kept-0", "kept-1"]
    assert (runner.stats.processed, runner.stats.dead_lettered) == (2, 2)
    assert (await committed(settings, subscription.group_id, [TopicPartition(thing.name, 0)]))[TopicPartition(thing.name, 0)] == 6
    dead = await read_all(settings, thing.dlq, 2)
    errors = [decode_headers(r.headers)["dlq_error"] for r in dead]
    assert errors[0] == "PoisonMessage: test.thing.changed.v1 without ce_tenantid: cannot tell whose data it is"
    assert errors[1].startswith("PoisonMessage: test.thing.changed.v1: value is not a google.protobuf.StringValue")


async def test_a_batch_takes_a_partitions_messages_together_and_a_poison_one_is_taken_out_of_it(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    thing = await topic(1)
    await publish(producer, thing, [("k", f"m{i}") for i in range(8)])  # all there before the consumer starts
    attempts: list[list[str]] = []
    handled: list[str] = []

    async def batch(messages: Any) -> None:
        values = [text(m) for m in messages]
        attempts.append(values)
        if "m5" in values:
            raise PoisonMessage("m5 says something the contract forbids")
        handled.extend(values)

    subscription = Subscription.batched(group(), (thing,), (THING_CHANGED,), batch, limit=100)
    async with KafkaConsumerRunner(settings, subscription) as runner:
        await eventually(lambda: runner.positions.get(TopicPartition(thing.name, 0)) == 8, within=WITHIN, what="every message done")
    assert attempts[0] == [f"m{i}" for i in range(8)], "the messages fetched together were not handled together"
    assert attempts[1:] == [[f"m{i}"] for i in range(8)], "the failed batch was not retried one message at a time"
    assert handled == [f"m{i}" for i in range(8) if i != 5]
    assert (runner.stats.processed, runner.stats.dead_lettered) == (7, 1)
    (dead,) = await read_all(settings, thing.dlq, 1)
    assert StringValue.FromString(dead.value).value == "m5"


async def test_a_poison_message_is_dead_lettered_after_its_attempts_and_the_partition_moves_on(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    thing = await topic(1)
    await publish(producer, thing, [("k", f"m{i}") for i in range(6)])
    attempts: dict[str, int] = defaultdict(int)
    handled: list[str] = []

    async def handler(inbound: Inbound[StringValue]) -> None:
        value = text(inbound)
        attempts[value] += 1
        if value == "m1" and attempts[value] <= 4:
            raise ConnectionResetError("database restarting")  # transient: retried past max_attempts
        if value == "m2":
            raise ValueError("cannot decode m2")
        if value == "m3":
            raise PoisonMessage("unknown version")
        handled.append(value)

    subscription = each(thing, handler)
    runner = KafkaConsumerRunner(settings, subscription, max_attempts=3, retry_backoff=(0.01, 0.05))
    async with runner:
        await eventually(lambda: handled == ["m0", "m1", "m4", "m5"], within=WITHIN, what="the partition moved past the poison messages")
        await eventually(lambda: runner.positions.get(TopicPartition(thing.name, 0)) == 6, within=WITHIN, what="position")

    assert attempts == {"m0": 1, "m1": 5, "m2": 3, "m3": 1, "m4": 1, "m5": 1}
    assert (runner.stats.dead_lettered, runner.stats.processed) == (2, 4)
    assert (await committed(settings, subscription.group_id, [TopicPartition(thing.name, 0)]))[TopicPartition(thing.name, 0)] == 6

    dead = await read_all(settings, thing.dlq, 2)
    assert [(r.key, StringValue.FromString(r.value).value) for r in dead] == [(b"k", "m2"), (b"k", "m3")]
    first = decode_headers(dead[0].headers)
    assert first.keys() >= {"ce_id", "ce_type", "ce_tenantid", "ce_source", *DLQ_HEADERS}
    assert first["ce_type"] == "test.thing.changed.v1"
    assert first["dlq_error"] == "ValueError: cannot decode m2"
    assert first["dlq_consumer_group"] == subscription.group_id
    assert (first["dlq_original_partition"], first["dlq_original_offset"]) == ("0", "2")
    assert datetime.strptime(first["dlq_failed_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert decode_headers(dead[1].headers)["dlq_error"] == "PoisonMessage: unknown version"


async def test_offsets_are_committed_only_after_success_so_a_stopped_runner_loses_nothing(
    settings: KafkaSettings, topic: Callable[[int], Any], producer: AIOKafkaProducer
) -> None:
    thing = await topic(3)
    values = [f"key-{k}:{seq}" for seq in range(10) for k in range(6)]
    await publish(producer, thing, [(v.split(":")[0], v) for v in values])
    group_id = group()

    first: list[tuple[str, int, int]] = []
    stuck = asyncio.Event()
    stuck_at: list[Inbound[StringValue]] = []

    async def hangs_on_the_fifth(inbound: Inbound[StringValue]) -> None:
        if text(inbound).endswith(":4"):
            stuck_at.append(inbound)
            stuck.set()
            await asyncio.Event().wait()  # never finishes: a handler hung on a dead dependency
        first.append((text(inbound), inbound.envelope.partition, inbound.envelope.offset))

    runner = KafkaConsumerRunner(settings, Subscription.each(group_id, (thing,), {THING_CHANGED: hangs_on_the_fifth}))
    await runner.start()
    await asyncio.wait_for(stuck.wait(), 20)
    await asyncio.sleep(0.2)  # let the other partitions reach their fifth message too
    offsets = await committed(settings, group_id, [TopicPartition(thing.name, p) for p in range(3)])
    # Nothing at or past an unfinished message is committed in its partition.
    for blocked in stuck_at:
        assert (offsets[TopicPartition(thing.name, blocked.envelope.partition)] or 0) <= blocked.envelope.offset
    await runner.stop(timeout=0.5)  # hung handlers are cancelled; what finished is committed

    second: list[tuple[str, int, int]] = []

    async def records(inbound: Inbound[StringValue]) -> None:
        second.append((text(inbound), inbound.envelope.partition, inbound.envelope.offset))

    async with KafkaConsumerRunner(settings, Subscription.each(group_id, (thing,), {THING_CHANGED: records})):
        await eventually(lambda: {v for v, _, _ in first} | {v for v, _, _ in second} == set(values), within=WITHIN, what="every message handled once")

    assert first, "the first runner finished nothing before it hung"
    assert {text(i) for i in stuck_at} <= {v for v, _, _ in second}  # redelivered: never finished
    assert not {v for v, _, _ in first} & {v for v, _, _ in second}  # what finished was committed
    for handled in (first, second):
        by_key: dict[str, list[int]] = defaultdict(list)
        for value, _, _ in handled:
            key, seq = value.split(":")
            by_key[key].append(int(seq))
        assert all(seqs == sorted(seqs) for seqs in by_key.values())
