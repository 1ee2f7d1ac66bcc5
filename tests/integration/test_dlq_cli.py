"""`bookings dlq list|replay` against the real broker and the running participations consumer:
a poison message the consumer dead-lettered is listed with its error; a dead letter replayed goes
back to its topic without the dlq_* headers and is applied (idempotently, so replaying twice
changes nothing); offsets that are not there are refused before anything is published.

The shared DLQs hold other tests' dead letters too: each test looks for its own (by key or
tenant), or works on topics of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.cli.main import main
from services.common.config import KafkaSettings
from services.common.kafka import DLQ_HEADERS, create_producer, rfc3339
from services.devstack.infra import ensure_topics_async
from services.devstack.stack import Platform
from tests.integration.cli_support import Result
from tests.integration.participations_support import (
    BOOKING_TOPIC,
    CREATED,
    Booking,
    BookingEvents,
    ParticipationsApi,
    booking_headers,
    booking_message,
    consumed,
    new_id,
)
from tests.integration.timeframes_support import Calendar
from tests.integration.topic_reader import TopicReader, headers, of_tenant
from tests.support import eventually

pytestmark = pytest.mark.integration

DLQ_TOPIC = f"{BOOKING_TOPIC}.dlq"


Cli = Callable[..., Awaitable[Result]]


@pytest.fixture
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture
def cli(bootstrap: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """await cli(*argv) runs `bookings *argv` (in a thread: the CLI runs its own event loop) with
    KAFKA_BOOTSTRAP_SERVERS pointing at the test broker."""

    async def run(*argv: str) -> Result:
        code = await asyncio.to_thread(main, list(argv), {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "BOOKINGS_TIMEOUT": "15"})
        return Result.of(code, capsys)

    return run


@pytest.fixture
async def bookings(bootstrap: str) -> AsyncIterator[BookingEvents]:
    producer: AIOKafkaProducer = create_producer(KafkaSettings(kafka_bootstrap_servers=bootstrap, kafka_client_id="dlq-test"))
    await producer.start()
    yield BookingEvents(producer)
    await producer.stop()


@pytest.fixture
async def own_topic(bootstrap: str) -> str:
    name = f"test.dlq.{uuid.uuid4().hex[:12]}"
    await ensure_topics_async(bootstrap, {name: 1, f"{name}.dlq": 1})
    return name


def dead_letter_headers(original: list[tuple[str, bytes]], error: str, offset: int = 0) -> list[tuple[str, bytes]]:
    """What KafkaConsumerRunner adds when it gives up on a message."""
    extra = {
        "dlq_error": error,
        "dlq_consumer_group": "participations.bookings-consumer",
        "dlq_original_partition": "0",
        "dlq_original_offset": str(offset),
        "dlq_failed_at": rfc3339(datetime.now(UTC)),
    }
    return original + [(name, value.encode()) for name, value in extra.items()]


async def test_list_shows_what_the_consumer_dead_lettered_with_its_error(bookings: BookingEvents, bootstrap: str, cli: Cli, tenant: str) -> None:
    key = new_id()
    await bookings.raw(key, b"\x08\x96\x01 truncated \xff", booking_headers(CREATED, key, tenant))
    async with TopicReader(bootstrap, DLQ_TOPIC, of_tenant(tenant)) as reader:
        (dead,) = await reader.until(lambda records: len(records) >= 1, within=60)  # the first message may wait for the group to join

    listed = (await cli("dlq", "list", BOOKING_TOPIC, "--limit", "100000", "--json")).json()
    assert listed["topic"] == DLQ_TOPIC and listed["total"] >= 1
    (mine,) = [d for d in listed["dead_letters"] if d["key"] == key]
    assert (mine["partition"], mine["offset"], mine["ce_type"], mine["tenant_id"]) == (dead.partition, dead.offset, CREATED, tenant)
    assert mine["dlq_error"].startswith("PoisonMessage: bookings.booking.created.v1: value is not a bookings.booking_events.v1.BookingCreated")
    assert mine["dlq_consumer_group"] == "participations.bookings-consumer"
    assert mine["failed_at"] == headers(dead)["dlq_failed_at"]

    text = await cli("dlq", "list", f"{BOOKING_TOPIC}.dlq", "--limit", "100000")  # the DLQ's own name works too
    assert text.code == 0, text.err
    (row,) = [line for line in text.out.splitlines() if key in line]
    assert tenant in row and CREATED in row and "PoisonMessage" in row


async def test_a_replayed_dead_letter_is_applied_once_however_often_it_is_replayed(
    bookings: BookingEvents, bootstrap: str, cli: Cli, calendar: Calendar, channel: Callable[[str], Any], tenant: str
) -> None:
    """As if the consumer had once failed on a good message (a bug since fixed): replaying it
    gets it applied."""
    event = await calendar.event((await calendar.schedule()).id)
    booking = Booking(tenant, event_id=event.id, participants=3)
    original = booking_headers(CREATED, booking.id, tenant)
    value = booking_message(CREATED, booking).SerializeToString()
    dead = await bookings.raw(booking.id, value, dead_letter_headers(original, "RuntimeError: a bug, since fixed"), topic=DLQ_TOPIC)

    replayed = (await cli("dlq", "replay", BOOKING_TOPIC, "--offset", str(dead.offset), "--json")).json()
    (entry,) = replayed["replayed"]
    assert (replayed["from"], replayed["to"], entry["offset"], entry["key"], entry["tenant_id"]) == (DLQ_TOPIC, BOOKING_TOPIC, dead.offset, booking.id, tenant)

    settled = await eventually(lambda: calendar.get_event(event.id), lambda e: e.participants_total == 3, within=60, what="the replayed booking counted")
    assert settled.remaining_capacity == 7
    async with TopicReader(bootstrap, BOOKING_TOPIC, of_tenant(tenant)) as reader:
        (republished,) = await reader.until(lambda records: len(records) >= 1)
    assert (republished.partition, republished.offset) == (entry["replayed_partition"], entry["replayed_offset"])
    assert (republished.key.decode(), republished.value) == (booking.id, value)
    assert list(republished.headers) == original  # ce_id included; no dlq_* header

    text = await cli("dlq", "replay", BOOKING_TOPIC, "--offset", str(dead.offset))  # again: the consumer is idempotent
    assert text.code == 0, text.err
    assert "Replayed 1 dead letter(s)" in text.out and booking.id in text.out
    async with TopicReader(bootstrap, BOOKING_TOPIC, of_tenant(tenant)) as reader:
        again = await reader.until(lambda records: len(records) >= 2)
    await consumed(bootstrap, again)
    (participation,) = await ParticipationsApi.of(channel("participations"), tenant).of_bookings(booking.id)
    assert (participation.party_size, participation.booking_revision) == (3, 1)
    assert (await calendar.get_event(event.id)).participants_total == 3


async def test_replay_all_republishes_every_dead_letter_in_order_without_the_dlq_headers(
    bookings: BookingEvents, bootstrap: str, cli: Cli, own_topic: str, tenant: str
) -> None:
    sent = []
    for i in range(3):
        key = f"key-{i}"
        original = booking_headers(CREATED, key, tenant)
        await bookings.raw(key, f"value-{i}".encode(), dead_letter_headers(original, f"ValueError: {i}", offset=i), topic=f"{own_topic}.dlq")
        sent.append((key, f"value-{i}".encode(), original))

    listed = (await cli("dlq", "list", own_topic, "--json")).json()
    assert [(d["offset"], d["key"], d["dlq_error"]) for d in listed["dead_letters"]] == [(i, f"key-{i}", f"ValueError: {i}") for i in range(3)]
    limited = (await cli("dlq", "list", own_topic, "--limit", "2")).out
    assert "first 2 of 3" in limited and "key-1" in limited and "key-2" not in limited

    replayed = (await cli("dlq", "replay", own_topic, "--all", "--json")).json()
    assert [r["key"] for r in replayed["replayed"]] == ["key-0", "key-1", "key-2"]
    async with TopicReader(bootstrap, own_topic, lambda _: True) as reader:
        records = await reader.until(lambda rs: len(rs) >= 3)
    assert [(r.key.decode(), r.value, list(r.headers)) for r in records] == sent
    assert not {name for r in records for name, _ in r.headers} & set(DLQ_HEADERS)


async def test_offsets_not_in_the_dlq_are_refused_before_anything_is_replayed(
    bookings: BookingEvents, bootstrap: str, cli: Cli, own_topic: str, tenant: str
) -> None:
    await bookings.raw("k", b"v", dead_letter_headers(booking_headers(CREATED, "k", tenant), "ValueError: x"), topic=f"{own_topic}.dlq")

    result = await cli("dlq", "replay", own_topic, "--offset", "0", "7", "--offset", "1:0")
    assert result.code == 1
    assert result.err.strip() == "error: no dead letter at offset(s) 7, 1:0; `bookings dlq list` shows what there is"
    async with TopicReader(bootstrap, own_topic, lambda _: True) as reader:
        assert await reader.drain() == []


async def test_an_empty_dlq_and_a_topic_that_does_not_exist(cli: Cli, own_topic: str) -> None:
    empty = await cli("dlq", "list", own_topic)
    assert (empty.code, empty.out.strip()) == (0, f"No dead letters in {own_topic}.dlq.")
    assert (await cli("dlq", "replay", own_topic, "--all")).out.strip() == f"No dead letters in {own_topic}.dlq: nothing replayed."

    missing = await cli("dlq", "list", "no.such-topic.v1")
    assert missing.code == 1 and "topic no.such-topic.v1.dlq does not exist" in missing.err


async def test_an_unreachable_broker_is_one_clear_error(cli: Cli) -> None:
    result = await cli("dlq", "list", BOOKING_TOPIC, "--bootstrap", "127.0.0.1:1", "--timeout", "3")
    assert result.code == 1
    assert result.err.startswith("error: cannot reach the Kafka broker at 127.0.0.1:1")
    assert len(result.err.strip().splitlines()) == 1
