"""The transactional outbox end to end, against the real Postgres and broker: writes through gRPC
publish their integration events (CloudEvents headers, key, protobuf value, the caller's trace),
the relay wakes on NOTIFY, a late-committing lower id is still published, a paused broker delays
but loses nothing, one relay per schema publishes, published rows are cleaned up.

Messages are read without a consumer group (every partition assigned, from the beginning), so
no test waits for a group to form; each test filters by its own tenant (`ce_tenantid`) or uses a
topic and schema of its own."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from aiokafka.structs import ConsumerRecord
from google.protobuf import field_mask_pb2, wrappers_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.catalog.service_events.v1 import service_events_pb2
from services.common import outbox, topics
from services.common.config import KafkaSettings
from services.common.kafka import create_producer
from services.devstack.infra import ensure_topics_async
from services.devstack.stack import Platform
from tests.integration.timeframes_support import HOUR, T0, Calendar, event_message, writer
from tests.integration.topic_reader import TopicReader, headers, of_tenant
from tests.support import auth, eventually

pytestmark = pytest.mark.integration

SERVICE_TOPIC = topics.SERVICE_EVENTS.name
EVENT_TOPIC = topics.EVENT_EVENTS.name
MIGRATION = outbox.MIGRATIONS / "0000_outbox.sql"
CE_HEADERS = {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_tenantid", "content-type", "traceparent"}


# --- reading topics ----------------------------------------------------------------------------------


def count(n: int) -> Callable[[list[Any]], bool]:
    return lambda records: len(records) >= n


def keys_seen(keys: set[str]) -> Callable[[list[ConsumerRecord[Any, Any]]], bool]:
    return lambda records: keys <= {r.key.decode() for r in records}


def values_seen(values: set[str]) -> Callable[[list[ConsumerRecord[Any, Any]]], bool]:
    """For PrivateOutbox messages (StringValue values)."""
    return lambda records: values <= {wrappers_pb2.StringValue.FromString(r.value).value for r in records}


@pytest.fixture
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture
def catalog(channel: Callable[[str], grpc.aio.Channel]) -> services_pb2_grpc.ServicesStub:
    return services_pb2_grpc.ServicesStub(channel("bookings"))


def appointment(name: str = "Haircut") -> services_pb2.Service:
    return services_pb2.Service(
        type=services_pb2.APPOINTMENT,
        name=name,
        time_zone="Europe/Vienna",
        default_capacity=1,
        appointment=services_pb2.AppointmentSettings(duration_minutes=30),
    )


def new_traceparent() -> tuple[str, str]:
    trace_id = uuid.uuid4().hex
    return trace_id, f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


# --- the bookings and timeframes outboxes through their RPCs ------------------------------------------


async def test_create_service_publishes_one_created_event_with_every_cloudevents_header(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, bootstrap: str
) -> None:
    trace_id, traceparent = new_traceparent()
    response = await catalog.CreateService(services_pb2.CreateServiceRequest(service=appointment()), metadata=[*auth(tenant), ("traceparent", traceparent)])
    service = response.service

    async with TopicReader(bootstrap, SERVICE_TOPIC, of_tenant(tenant)) as reader:
        await reader.until(count(1))
        (message,) = await reader.drain()

    h = headers(message)
    assert h.keys() >= CE_HEADERS
    assert h["ce_specversion"] == "1.0"
    assert uuid.UUID(h["ce_id"])
    assert h["ce_source"] == "//bookings-platform/bookings"
    assert h["ce_type"] == "catalog.service.created.v1"
    assert h["ce_subject"] == service.id
    assert h["ce_tenantid"] == tenant
    assert h["content-type"] == "application/protobuf"
    ce_time = datetime.strptime(h["ce_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(ce_time - service.created_date.ToDatetime(tzinfo=UTC)) < timedelta(seconds=1)
    # One trace from the caller's RPC to every consumer of the event.
    assert h["traceparent"].split("-")[1] == trace_id
    assert message.key == service.id.encode()
    assert service_events_pb2.ServiceCreated.FromString(message.value).service == service


async def test_update_and_delete_publish_in_order_and_a_rejected_write_publishes_nothing(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, bootstrap: str
) -> None:
    created = (await catalog.CreateService(services_pb2.CreateServiceRequest(service=appointment()), metadata=auth(tenant))).service
    renamed = services_pb2.Service(id=created.id, revision=created.revision, name="Beard trim")
    mask = field_mask_pb2.FieldMask(paths=["name"])
    updated = (await catalog.UpdateService(services_pb2.UpdateServiceRequest(service=renamed, mask=mask), metadata=auth(tenant))).service
    with pytest.raises(grpc.aio.AioRpcError):  # a stale revision: ABORTED, rolled back with its event
        await catalog.UpdateService(services_pb2.UpdateServiceRequest(service=renamed, mask=mask), metadata=auth(tenant))
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id, revision=updated.revision), metadata=auth(tenant))

    async with TopicReader(bootstrap, SERVICE_TOPIC, of_tenant(tenant)) as reader:
        await reader.until(count(3))
        messages = await reader.drain()

    assert [headers(m)["ce_type"] for m in messages] == ["catalog.service.created.v1", "catalog.service.updated.v1", "catalog.service.deleted.v1"]
    assert len({m.partition for m in messages}) == 1  # one key, one partition: the order holds
    assert service_events_pb2.ServiceUpdated.FromString(messages[1].value).service == updated
    deleted = service_events_pb2.ServiceDeleted.FromString(messages[2].value).service
    assert (deleted.id, deleted.revision) == (created.id, updated.revision + 1)


async def test_every_change_of_an_event_publishes_the_whole_event(timeframes_channel: grpc.aio.Channel, tenant: str, bootstrap: str) -> None:
    calendar = Calendar.of(timeframes_channel, tenant)
    schedule = await calendar.schedule(default_capacity=5)
    trace_id, traceparent = new_traceparent()
    single = (
        await calendar.events.CreateEvent(
            events_pb2.CreateEventRequest(event=event_message(schedule.id)), metadata=[*writer(tenant), ("traceparent", traceparent)]
        )
    ).event
    bulk = (
        await calendar.events.BulkCreateEvents(
            events_pb2.BulkCreateEventsRequest(events=[event_message(schedule.id, T0 + HOUR * i) for i in (2, 4)]), metadata=writer(tenant)
        )
    ).events
    moved = await calendar.move(bulk[0], T0 + HOUR * 6, T0 + HOUR * 7)
    cancelled = await calendar.cancel(bulk[1])
    settled = (await calendar.settle(single.id, participants_total=3, version=1)).event
    await calendar.settle(single.id, participants_total=3, version=2)  # same total: not a change, no message

    async with TopicReader(bootstrap, EVENT_TOPIC, of_tenant(tenant)) as reader:
        await reader.until(count(6))
        messages = await reader.drain()

    by_event: dict[str, list[tuple[str, Any]]] = {}
    types = {
        "calendar.event.created.v1": event_events_pb2.EventCreated,
        "calendar.event.updated.v1": event_events_pb2.EventUpdated,
        "calendar.event.cancelled.v1": event_events_pb2.EventCancelled,
        "calendar.event.participants_updated.v1": event_events_pb2.EventParticipantsUpdated,
    }
    for m in messages:
        h = headers(m)
        assert m.key.decode() == h["ce_subject"]
        assert h["ce_source"] == "//bookings-platform/timeframes"
        by_event.setdefault(m.key.decode(), []).append((h["ce_type"], types[h["ce_type"]].FromString(m.value).event))

    assert [t for t, _ in by_event[single.id]] == ["calendar.event.created.v1", "calendar.event.participants_updated.v1"]
    assert by_event[single.id][0][1] == single
    assert by_event[single.id][1][1] == settled
    assert by_event[single.id][1][1].remaining_capacity == 2
    assert [(t, e) for t, e in by_event[bulk[0].id]] == [("calendar.event.created.v1", bulk[0]), ("calendar.event.updated.v1", moved)]
    assert [(t, e) for t, e in by_event[bulk[1].id]] == [("calendar.event.created.v1", bulk[1]), ("calendar.event.cancelled.v1", cancelled)]
    single_created = next(m for m in messages if m.key.decode() == single.id)
    assert headers(single_created)["traceparent"].split("-")[1] == trace_id


async def test_a_transaction_committing_late_with_a_lower_id_is_still_published(platform: Platform, tenant: str, bootstrap: str) -> None:
    """No "id > last seen" cursor: T1 takes the lower id but commits after T2's row was published."""
    url = platform.infra.env()["DATABASE_URL"]
    t1 = await asyncpg.connect(url, server_settings={"search_path": "bookings"})
    t2 = await asyncpg.connect(url, server_settings={"search_path": "bookings"})
    try:

        async def write(conn: asyncpg.Connection, key: str) -> int:
            await outbox.record(
                conn,
                tenant_id=tenant,
                topic=SERVICE_TOPIC,
                key=key,
                ce_type="catalog.service.created.v1",
                message=service_events_pb2.ServiceCreated(service=services_pb2.Service(id=key, name=key)),
                subject=key,
            )
            return int(await conn.fetchval("SELECT max(id) FROM outbox WHERE key = $1", key))

        late, early = str(uuid.uuid4()), str(uuid.uuid4())
        tx1 = t1.transaction()
        await tx1.start()
        late_id = await write(t1, late)
        async with t2.transaction():
            early_id = await write(t2, early)
        assert late_id < early_id

        async with TopicReader(bootstrap, SERVICE_TOPIC, of_tenant(tenant)) as reader:
            await reader.until(keys_seen({early}))
            assert late.encode() not in {r.key for r in reader.records}  # not committed yet
            await tx1.commit()
            await reader.until(keys_seen({late, early}))
        assert await t1.fetchval("SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND published_at IS NULL", [late, early]) == 0
    finally:
        await t1.close()
        await t2.close()


# --- relays of a schema of their own ------------------------------------------------------------------


class PrivateOutbox:
    """An outbox schema and topic of this test only, with relays run in the test process."""

    def __init__(self, url: str, bootstrap: str):
        self.schema = f"outbox_it_{uuid.uuid4().hex[:12]}"
        self.topic = f"test.outbox.{uuid.uuid4().hex[:12]}"
        self.url, self.bootstrap = url, bootstrap
        self.channel = outbox.channel_for(self.schema)
        self.tenant = f"tenant-{uuid.uuid4()}"
        self.pool: asyncpg.Pool | None = None
        self.relays: list[outbox.OutboxRelay] = []
        self.producers: list[Any] = []
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    async def open(self) -> None:
        await ensure_topics_async(self.bootstrap, {self.topic: 3})
        admin = await asyncpg.connect(self.url)
        try:
            await admin.execute(f'CREATE SCHEMA "{self.schema}"')
        finally:
            await admin.close()
        self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=6, server_settings={"search_path": self.schema})
        await self.pool.execute(MIGRATION.read_text())

    async def close(self) -> None:
        for relay in self.relays:
            await relay.stop()
        for producer in self.producers:
            await producer.stop()
        if self.pool is not None:
            await self.pool.close()
        admin = await asyncpg.connect(self.url)
        try:
            await admin.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        finally:
            await admin.close()

    async def relay(self, *, request_timeout_ms: int = 15_000, **options: Any) -> outbox.OutboxRelay:
        assert self.pool is not None
        settings = KafkaSettings(kafka_bootstrap_servers=self.bootstrap, kafka_request_timeout_ms=request_timeout_ms)
        producer = create_producer(settings)
        self.producers.append(producer)
        relay = outbox.OutboxRelay(self.pool, producer, "//bookings-platform/test", self.channel, meter_provider=self.meter_provider, **options)
        self.relays.append(relay)
        await relay.start()
        return relay

    async def write(self, *values: str) -> None:
        """One transaction; each value's entity (its Kafka key) is its first letter, so "a1",
        "a2", "a3" are three versions of entity "a" and must come out in that order."""
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            await outbox.record_many(
                conn,
                [outbox.OutboxMessage(self.tenant, self.topic, v[:1], "test.thing.created.v1", wrappers_pb2.StringValue(value=v), v[:1]) for v in values],
            )

    async def unpublished(self) -> int:
        assert self.pool is not None
        return int(await self.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))

    async def drained(self) -> bool:
        return await self.unpublished() == 0

    def metric(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
async def private(platform: Platform) -> AsyncIterator[PrivateOutbox]:
    env = platform.infra.env()
    box = PrivateOutbox(env["DATABASE_URL"], env["KAFKA_BOOTSTRAP_SERVERS"])
    await box.open()
    try:
        yield box
    finally:
        await box.close()


async def test_the_relay_is_woken_by_notify_on_commit_not_by_its_poll(private: PrivateOutbox) -> None:
    # With the fallback poll a minute away, every publish below comes from a NOTIFY wake-up.
    relay = await private.relay(poll_interval=60.0)
    await eventually(lambda: relay.active, what="relay active")
    latencies = []
    for i in range(20):
        published = relay.stats.published
        await private.write(f"k{i}")
        committed = time.perf_counter()
        while relay.stats.published == published:
            assert time.perf_counter() - committed < 15, f"row {i} not published"
            await asyncio.sleep(0.0005)
        latencies.append(time.perf_counter() - committed)
    assert relay.stats.notify_wakeups >= 20
    assert relay.stats.poll_wakeups == 0
    assert await private.unpublished() == 0
    q = statistics.quantiles(latencies, n=20)
    print(f"\ncommit -> broker ack, N={len(latencies)}: median {statistics.median(latencies) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms")


async def test_messages_of_one_key_go_out_in_commit_order_with_headers_and_metrics(private: PrivateOutbox) -> None:
    relay = await private.relay(sample_interval=0.0)
    await private.write("a1", "b1")
    await private.write("a2")
    await private.write("b2", "a3")
    async with TopicReader(private.bootstrap, private.topic, of_tenant(private.tenant)) as reader:
        messages = await reader.until(count(5))
    values = [wrappers_pb2.StringValue.FromString(m.value).value for m in messages]
    assert [v for v in values if v.startswith("a")] == ["a1", "a2", "a3"]
    assert [v for v in values if v.startswith("b")] == ["b1", "b2"]
    assert all(headers(m)["ce_source"] == "//bookings-platform/test" for m in messages)
    assert "traceparent" not in headers(messages[0])  # written outside any trace

    await eventually(lambda: relay.stats.backlog == 0 and relay.stats.published == 5, what="backlog sampled")
    assert sum(p.value for p in private.metric("outbox.published")) == 5
    assert [p.value for p in private.metric("outbox.backlog")] == [0]
    assert [p.value for p in private.metric("outbox.oldest_age_seconds")] == [0.0]
    assert sum(p.count for p in private.metric("outbox.publish_delay")) == 5


async def test_one_relay_publishes_and_a_standby_takes_over_when_it_stops(private: PrivateOutbox) -> None:
    first = await private.relay(standby_interval=0.1)
    await eventually(lambda: first.active, what="first relay active")
    second = await private.relay(standby_interval=0.1)
    await private.write("x1")
    await eventually(lambda: first.stats.published == 1, what="published by the active relay")
    await asyncio.sleep(0.3)  # a few standby attempts of the second relay
    assert not second.active and second.stats.published == 0

    await first.stop()
    await eventually(lambda: second.active, what="standby takes over")
    await private.write("x2")
    await eventually(lambda: second.stats.published == 1, what="published by the new active relay")
    assert first.stats.published == 1


async def test_the_relay_holds_the_lock_on_one_connection_and_recovers_when_that_connection_dies(private: PrivateOutbox) -> None:
    assert private.pool is not None
    relay = await private.relay(backoff=(0.05, 0.2))
    await eventually(lambda: relay.active, what="relay active")
    holder = """
        SELECT l.pid FROM pg_locks l, (SELECT hashtextextended($1, 0) AS k) lock
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = (lock.k >> 32) & 4294967295 AND l.objid::bigint = lock.k & 4294967295
    """
    (pid,) = [r["pid"] for r in await private.pool.fetch(holder, f"outbox-relay:{private.channel}")]
    await private.pool.execute("SELECT pg_terminate_backend($1)", pid)  # as a database restart or failover would

    await private.write("after-the-crash")
    await eventually(lambda: relay.stats.published == 1, what="published after reconnecting")
    (new_pid,) = [r["pid"] for r in await private.pool.fetch(holder, f"outbox-relay:{private.channel}")]
    assert new_pid != pid


async def test_published_rows_are_deleted_after_the_retention(private: PrivateOutbox) -> None:
    assert private.pool is not None
    relay = await private.relay(retention=timedelta(0), cleanup_interval=0.05, cleanup_batch=2)
    await private.write("c1", "c2", "c3", "c4", "c5")
    await eventually(lambda: relay.stats.deleted == 5, what="clean-up")
    assert await private.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_paused_broker_delays_publishing_but_writes_succeed_and_nothing_is_lost(
    platform: Platform, private: PrivateOutbox, catalog: services_pb2_grpc.ServicesStub, tenant: str, bootstrap: str
) -> None:
    assert platform.infra.kafka is not None
    # A relay whose broker requests time out during the pause: it must fail, back off and retry.
    relay = await private.relay(request_timeout_ms=1000, publish_timeout=2.0)
    await private.write("warm-up")  # the producer is connected before the pause
    await eventually(lambda: relay.stats.published == 1, what="warm-up published")

    platform.infra.kafka.pause()
    paused = time.monotonic()
    try:
        services = []
        for i in range(5):
            response = await catalog.CreateService(services_pb2.CreateServiceRequest(service=appointment(f"Paused {i}")), metadata=auth(tenant), timeout=5)
            services.append(response.service.id)
        await private.write(*(f"p{i}" for i in range(5)))
        await eventually(lambda: relay.stats.publish_errors >= 1, within=10, what="a failed round while the broker is paused")
        await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - paused)))  # a few seconds in all
    finally:
        platform.infra.kafka.resume()

    await eventually(private.drained, within=30, what="private outbox drained after the broker came back")

    async with TopicReader(bootstrap, SERVICE_TOPIC, of_tenant(tenant)) as reader:
        await reader.until(keys_seen(set(services)), within=30)
        catalog_messages = await reader.drain()
    async with TopicReader(bootstrap, private.topic, of_tenant(private.tenant)) as reader:
        wanted = {f"p{i}" for i in range(5)}
        await reader.until(values_seen(wanted), within=30)
        private_messages = await reader.drain()

    # At least once: a request that timed out may still have reached the broker, so a message can
    # appear twice (with the same ce_id); none is missing.
    assert {m.key.decode() for m in catalog_messages} == set(services)
    assert {wrappers_pb2.StringValue.FromString(m.value).value for m in private_messages} >= wanted

    def duplicates(messages: list[ConsumerRecord[Any, Any]]) -> int:
        return len(messages) - len({headers(m)["ce_id"] for m in messages})

    print(
        f"\nbroker paused {time.monotonic() - paused:.1f}s: bookings relay {duplicates(catalog_messages)} duplicate(s) of {len(catalog_messages)};"
        f" 1 s-timeout relay {relay.stats.publish_errors} failed round(s), {duplicates(private_messages)} duplicate(s) of {len(private_messages)}"
    )
