"""The participations pipeline end to end on the real stack: booking messages published to
`bookings.booking-events.v1` exactly as the bookings service's outbox relay does -> participations
(consumer) -> `bookings.participation-events.v1` (outbox) -> event updater -> timeframes
`participants_total` / `remaining_capacity` (eventually consistent, so polled).

docs/pipeline.md "Settled state" is what these prove: for every event, participants_total = Σ
number_of_participants of the non-canceled, non-declined bookings on the event plus those on its
schedule, however messages were duplicated, reordered or redelivered. Effects that are an absence
(a message that changed nothing) are checked after the consumer group committed past the message.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import grpc
import pytest
from aiokafka import AIOKafkaProducer

from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.common import topics
from services.common.auth import ServiceTokens
from services.common.clients import open_channel
from services.common.config import KafkaSettings
from services.common.consumer import KafkaConsumerRunner, Routes
from services.common.kafka import DLQ_HEADERS, create_producer
from services.devstack.infra import ensure_topics_async, free_port
from services.devstack.stack import Platform
from services.participations.adapters.postgres import participations_store
from services.participations.adapters.timeframes import TimeframesTotals
from services.participations.application.participations import EventUpdater
from services.participations.domain.model import Target
from services.participations.domain.totals import SettleOutcome, TargetTotal
from services.participations.entrypoints.events import PARTICIPATION_MESSAGES, EventUpdaterConsumer
from services.participations.settings import ParticipationsSettings
from tests.integration.participations_support import (
    BOOKING_TOPIC,
    CANCELED,
    CONFIRMED,
    CREATED,
    DECLINED,
    PARTICIPATION_TOPIC,
    RESIZED,
    Booking,
    BookingEvents,
    ParticipationsApi,
    booking_headers,
    consumed,
    new_id,
    pipeline_idle,
)
from tests.integration.timeframes_support import HOUR, T0, Calendar
from tests.integration.topic_reader import TopicReader, headers, of_tenant
from tests.support import eventually

pytestmark = pytest.mark.integration

PARTICIPATION_CREATED = "bookings.participation.created.v1"


@pytest.fixture(scope="module")
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="module")
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = create_producer(KafkaSettings(kafka_bootstrap_servers=bootstrap, kafka_client_id="participations-test"))
    await p.start()
    yield p
    await p.stop()


@pytest.fixture(scope="module")
async def pipeline_ready(platform: Platform, producer: AIOKafkaProducer) -> None:
    """The services' consumer groups are joined: a first booking went all the way through. (On
    the local broker a group's first join takes a few seconds; later messages take milliseconds.)"""
    tenant = f"tenant-warm-up-{new_id()}"
    async with grpc.aio.insecure_channel(platform.address("timeframes")) as channel:
        calendar = Calendar.of(channel, tenant)
        event = await calendar.event((await calendar.schedule()).id)
        await BookingEvents(producer).publish(CREATED, Booking(tenant, event_id=event.id))
        await eventually(lambda: calendar.get_event(event.id), lambda e: e.participants_total == 1, within=90, what="the pipeline's first settlement")


@pytest.fixture
def bookings(producer: AIOKafkaProducer, pipeline_ready: None) -> BookingEvents:
    return BookingEvents(producer)


@pytest.fixture
def idle(platform: Platform, bootstrap: str, bookings: BookingEvents, tenant: str) -> Callable[[], Awaitable[None]]:
    """idle() waits until everything this test published settled (participations_support.pipeline_idle)."""
    return lambda: pipeline_idle(bootstrap, platform.infra.env()["DATABASE_URL"], tenant, bookings.sent)


@pytest.fixture
def participations(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> ParticipationsApi:
    return ParticipationsApi.of(channel("participations"), tenant)


async def settled(calendar: Calendar, event_id: str, total: int) -> events_pb2.Event:
    """The event once its participant total is `total`."""
    return await eventually(lambda: calendar.get_event(event_id), lambda e: e.participants_total == total, what=f"participants_total == {total}")


async def sessions(calendar: Calendar, count: int, capacity: int = 10) -> tuple[str, list[events_pb2.Event]]:
    schedule = await calendar.schedule(default_capacity=capacity)
    events = [await calendar.event(schedule.id, T0 + i * 24 * HOUR) for i in range(count)]
    return schedule.id, events


# --- the happy paths -------------------------------------------------------------------------------


async def test_a_class_booking_becomes_a_participation_counted_on_its_event(
    bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, bootstrap: str, tenant: str
) -> None:
    _, (event,) = await sessions(calendar, 1, capacity=10)
    booking = Booking(tenant, event_id=event.id, participants=2)
    await bookings.publish(CREATED, booking)

    settled_event = await settled(calendar, event.id, 2)
    assert settled_event.remaining_capacity == 8

    (participation,) = await participations.of_bookings(booking.id)
    assert (participation.event_id, participation.party_size, participation.booking_revision, participation.service_id) == (event.id, 2, 1, booking.service_id)
    # The participation was announced on its topic through the outbox: CloudEvents headers, key =
    # the participation id, the protobuf event as value.
    async with TopicReader(bootstrap, PARTICIPATION_TOPIC, of_tenant(tenant)) as reader:
        (record,) = await reader.until(lambda records: len(records) >= 1)
    announced = headers(record)
    assert record.key.decode() == participation.id
    assert (announced["ce_type"], announced["ce_subject"], announced["ce_source"]) == (
        "bookings.participation.created.v1",
        participation.id,
        "//bookings-platform/participations",
    )
    assert announced["content-type"] == "application/protobuf" and announced["traceparent"]
    assert participation_events_pb2.ParticipationCreated.FromString(record.value).participation == participation


async def test_a_pending_course_booking_counts_on_every_session_of_the_schedule_cancelled_ones_included(
    bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, tenant: str
) -> None:
    schedule_id, events = await sessions(calendar, 3, capacity=5)
    await calendar.cancel(events[2])
    booking = Booking(tenant, schedule_id=schedule_id, participants=2, status=bookings_pb2.PENDING)
    await bookings.publish(CREATED, booking)

    for event in events:
        assert (await settled(calendar, event.id, 2)).remaining_capacity == 3
    (participation,) = (await participations.query(schedule_ids=[schedule_id])).participations
    assert (participation.schedule_id, participation.party_size) == (schedule_id, 2)


async def test_more_participants_than_capacity_are_counted_and_remaining_capacity_goes_negative(
    bookings: BookingEvents, calendar: Calendar, tenant: str
) -> None:
    _, (event,) = await sessions(calendar, 1, capacity=2)
    # Both passed availability before either was counted (docs/overbooking-race.md).
    await bookings.publish(CREATED, Booking(tenant, event_id=event.id, participants=2))
    await bookings.publish(CREATED, Booking(tenant, event_id=event.id, participants=1))

    overbooked = await settled(calendar, event.id, 3)
    assert (overbooked.total_capacity, overbooked.remaining_capacity) == (2, -1)


async def test_a_party_size_change_recomputes_the_total(bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, tenant: str) -> None:
    schedule_id, (event,) = await sessions(calendar, 1)
    resized = Booking(tenant, event_id=event.id, participants=2)
    await bookings.publish(CREATED, resized)
    await bookings.publish(CREATED, Booking(tenant, schedule_id=schedule_id, participants=1))
    await settled(calendar, event.id, 3)

    await bookings.publish(RESIZED, resized.at(2, participants=5), previous_participants=2)
    await settled(calendar, event.id, 6)
    (participation,) = await participations.of_bookings(resized.id)
    assert (participation.party_size, participation.booking_revision) == (5, 2)


async def test_a_session_added_to_a_course_counts_the_course_participations_at_once(bookings: BookingEvents, calendar: Calendar, tenant: str) -> None:
    schedule_id, events = await sessions(calendar, 2)
    await bookings.publish(CREATED, Booking(tenant, schedule_id=schedule_id, participants=3))
    await bookings.publish(CREATED, Booking(tenant, event_id=events[0].id, participants=1))
    await settled(calendar, events[0].id, 4)
    await settled(calendar, events[1].id, 3)

    # The course's participants are one number, its schedule's: a new session counts them when
    # it is created, with nothing for the pipeline to settle.
    added = await calendar.event(schedule_id, T0 + 30 * 24 * HOUR)
    assert (added.participants_total, added.remaining_capacity) == (3, 7)


# --- duplicates, reordering, late messages -----------------------------------------------------------


async def test_duplicates_of_every_message_change_nothing(
    bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, bootstrap: str, tenant: str, idle: Callable[[], Awaitable[None]]
) -> None:
    _, (event,) = await sessions(calendar, 1)
    churned = Booking(tenant, event_id=event.id, participants=2, status=bookings_pb2.PENDING)
    kept = Booking(tenant, event_id=event.id, participants=1)
    history = [
        (CREATED, churned, 0),
        (CONFIRMED, churned.at(2, status=bookings_pb2.CONFIRMED), 0),
        (RESIZED, churned.at(3, status=bookings_pb2.CONFIRMED, participants=4), 2),
        (CANCELED, churned.at(4, status=bookings_pb2.CANCELED, participants=4), 0),
    ]
    for ce_type, booking, previous in history:
        for _ in range(2):
            await bookings.publish(ce_type, booking, previous_participants=previous)
    for _ in range(2):
        await bookings.publish(CREATED, kept)

    await idle()
    assert (await calendar.get_event(event.id)).participants_total == 1
    assert [p.booking_id for p in (await participations.query(event_ids=[event.id])).participations] == [kept.id]
    # Each change of the churned booking was announced once: confirming changed nothing
    # (PENDING already counts), each duplicate nothing at all.
    async with TopicReader(bootstrap, PARTICIPATION_TOPIC, of_tenant(tenant)) as reader:
        records = await reader.drain()
    announced = {headers(r)["ce_id"]: (r.key, headers(r)["ce_type"]) for r in records}
    churned_key = next(key for key, ce_type in announced.values() if ce_type.endswith("removed.v1"))
    assert [ce_type for key, ce_type in announced.values() if key == churned_key] == [
        "bookings.participation.created.v1",
        "bookings.participation.updated.v1",
        "bookings.participation.removed.v1",
    ]
    assert len(announced) == 4  # and one created for the kept booking


async def test_an_older_revision_arriving_after_a_newer_one_is_ignored(
    bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, bootstrap: str, tenant: str
) -> None:
    _, (event,) = await sessions(calendar, 1)
    booking = Booking(tenant, event_id=event.id, participants=2)
    await bookings.publish(CREATED, booking)
    await bookings.publish(RESIZED, booking.at(2, participants=4), previous_participants=2)
    await settled(calendar, event.id, 4)

    await bookings.publish(CREATED, booking)  # redelivered late, after revision 2
    await consumed(bootstrap, bookings.sent)
    (participation,) = await participations.of_bookings(booking.id)
    assert (participation.party_size, participation.booking_revision) == (4, 2)
    assert (await calendar.get_event(event.id)).participants_total == 4


async def test_a_cancel_processed_before_its_create_leaves_no_participation(
    bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, bootstrap: str, tenant: str
) -> None:
    _, (event,) = await sessions(calendar, 1)
    booking = Booking(tenant, event_id=event.id, participants=3)
    await bookings.publish(CANCELED, booking.at(2, status=bookings_pb2.CANCELED))
    await bookings.publish(CREATED, booking)
    await consumed(bootstrap, bookings.sent)

    assert await participations.of_bookings(booking.id) == []
    event_now = await calendar.get_event(event.id)
    assert (event_now.participants_total, event_now.remaining_capacity) == (0, 10)
    # The event still settles for the other bookings, without the canceled one.
    await bookings.publish(CREATED, Booking(tenant, event_id=event.id, participants=1))
    await settled(calendar, event.id, 1)


@dataclass
class History:
    booking: Booking
    messages: list[tuple[str, Booking, int]]

    @property
    def final(self) -> Booking:
        return max((b for _, b, _ in self.messages), key=lambda b: b.revision)


def random_history(rng: random.Random, booking: Booking) -> History:
    """A plausible life of a booking: created (pending or confirmed), maybe confirmed, resized,
    then maybe canceled or declined."""
    current = booking.at(1, status=rng.choice([bookings_pb2.PENDING, bookings_pb2.CONFIRMED]), participants=rng.randint(1, 4))
    messages = [(CREATED, current, 0)]
    if current.status == bookings_pb2.PENDING and rng.random() < 0.5:
        current = current.at(current.revision + 1, status=bookings_pb2.CONFIRMED)
        messages.append((CONFIRMED, current, 0))
    if rng.random() < 0.5:
        previous = current.participants
        current = current.at(current.revision + 1, participants=rng.randint(1, 4))
        messages.append((RESIZED, current, previous))
    ending = rng.random()
    if ending < 0.3:
        messages.append((CANCELED, current.at(current.revision + 1, status=bookings_pb2.CANCELED), 0))
    elif ending < 0.4 and current.status == bookings_pb2.PENDING:
        messages.append((DECLINED, current.at(current.revision + 1, status=bookings_pb2.DECLINED), 0))
    return History(booking, messages)


async def test_settled_totals_match_the_bookings_however_messages_are_duplicated_and_reordered(
    platform: Platform, bookings: BookingEvents, calendar: Calendar, tenant: str, idle: Callable[[], Awaitable[None]]
) -> None:
    rng = random.Random(20261121)
    schedule_id, course_sessions = await sessions(calendar, 3, capacity=8)
    _, classes = await sessions(calendar, 2, capacity=8)
    targets = [{"schedule_id": schedule_id}] + [{"event_id": e.id} for e in classes] + [{"event_id": course_sessions[0].id}]
    histories = [random_history(rng, Booking(tenant, **rng.choice(targets))) for _ in range(16)]  # type: ignore[arg-type]

    # Every booking's messages shuffled (a cancel may come first), some sent twice; bookings
    # interleaved, as partitions interleave them.
    queues = []
    for history in histories:
        messages = history.messages + [m for m in history.messages if rng.random() < 0.5]
        rng.shuffle(messages)
        queues.append(messages)
    while any(queues):
        messages = rng.choice([q for q in queues if q])
        ce_type, booking, previous = messages.pop()
        await bookings.publish(ce_type, booking, previous_participants=previous)

    def counted(event: events_pb2.Event) -> int:
        total = 0
        for history in histories:
            final = history.final
            if final.status in (bookings_pb2.CANCELED, bookings_pb2.DECLINED):
                continue
            if final.event_id == event.id or final.schedule_id == event.schedule_id:
                total += final.participants
        return total

    await idle()
    expected = {event.id: counted(event) for event in course_sessions + classes}
    assert sum(expected.values()) > 0
    # The totals the database keeps with every participation write are the sums of the rows.
    assert await kept_totals(platform, tenant) == await summed_totals(platform, tenant)
    settled_events = [await calendar.get_event(event_id) for event_id in expected]
    assert {e.id: e.participants_total for e in settled_events} == expected
    assert {e.id: e.remaining_capacity for e in settled_events} == {event_id: 8 - total for event_id, total in expected.items()}


async def kept_totals(platform: Platform, tenant: str) -> dict[tuple[str, str], int]:
    """participations.participant_totals of the tenant, by (kind, target), zeros left out."""
    rows = await _fetch(platform, "SELECT target_kind, target_id, participants_total FROM participations.participant_totals WHERE tenant_id = $1", tenant)
    return {(r["target_kind"], str(r["target_id"])): r["participants_total"] for r in rows if r["participants_total"]}


async def summed_totals(platform: Platform, tenant: str) -> dict[tuple[str, str], int]:
    """What those totals must be: the party sizes of the tenant's active participations, summed."""
    rows = await _fetch(
        platform,
        """
        SELECT CASE WHEN event_id IS NOT NULL THEN 'event' ELSE 'schedule' END AS kind, coalesce(event_id, schedule_id) AS target, sum(party_size) AS total
        FROM participations.participations WHERE tenant_id = $1 AND active GROUP BY 1, 2
        """,
        tenant,
    )
    return {(r["kind"], str(r["target"])): r["total"] for r in rows}


async def _fetch(platform: Platform, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(platform.infra.env()["DATABASE_URL"])
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


# --- poison messages and outages ---------------------------------------------------------------------


async def test_a_poison_message_goes_to_the_dlq_with_its_error_and_the_next_message_is_processed(
    bookings: BookingEvents, calendar: Calendar, bootstrap: str, tenant: str
) -> None:
    _, (event,) = await sessions(calendar, 1)
    booking = Booking(tenant, event_id=event.id, participants=2)
    poison = await bookings.raw(booking.id, b"\xff\xff\xff not protobuf", booking_headers(CREATED, booking.id, tenant))
    await bookings.publish(CREATED, booking)  # same key, same partition: right behind the poison

    await settled(calendar, event.id, 2)
    async with TopicReader(bootstrap, f"{BOOKING_TOPIC}.dlq", of_tenant(tenant)) as reader:
        (dead,) = await reader.until(lambda records: len(records) >= 1)
    dead_headers = headers(dead)
    assert (dead.key.decode(), dead.value) == (booking.id, b"\xff\xff\xff not protobuf")
    assert dead_headers.keys() >= {"ce_id", "ce_type", "ce_tenantid", "ce_source", *DLQ_HEADERS}
    assert dead_headers["ce_type"] == CREATED
    assert dead_headers["dlq_error"].startswith("PoisonMessage: bookings.booking.created.v1: value is not a bookings.booking_events.v1.BookingCreated")
    assert dead_headers["dlq_consumer_group"] == "participations.bookings-consumer"
    assert (dead_headers["dlq_original_partition"], dead_headers["dlq_original_offset"]) == (str(poison.partition), str(poison.offset))


class SwitchableCalendar:
    """The real timeframes client behind a switch: while `down`, every call goes to a port
    nothing listens on (a real gRPC UNAVAILABLE), then to the real service."""

    def __init__(self, down: TimeframesTotals, up: TimeframesTotals):
        self.down = True
        self._clients = {True: down, False: up}
        self.outcomes: list[dict[Target, SettleOutcome]] = []

    async def update_totals(self, tenant_id: str, totals: Sequence[TargetTotal]) -> dict[Target, SettleOutcome]:
        outcomes = await self._clients[self.down].update_totals(tenant_id, totals)
        self.outcomes.append(outcomes)
        return outcomes


async def test_a_timeframes_outage_is_retried_until_it_is_back_and_never_dead_lettered(
    platform: Platform, bootstrap: str, bookings: BookingEvents, calendar: Calendar, participations: ParticipationsApi, tenant: str
) -> None:
    """The event updater's handler against the real database and timeframes, run by a runner of
    its own on a topic of its own, so the shared stack is not disturbed."""
    env = platform.service_env("participations")
    settings = ParticipationsSettings(
        database_url=env["DATABASE_URL"],
        kafka_bootstrap_servers=bootstrap,
        kafka_fetch_max_wait_ms=int(env["KAFKA_FETCH_MAX_WAIT_MS"]),
        auth_jwt_secret=platform.jwt_secret,
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=500,
    )
    tokens = ServiceTokens(settings)
    _, (event,) = await sessions(calendar, 1)
    booking = Booking(tenant, event_id=event.id, participants=3)
    await bookings.publish(CREATED, booking)
    await settled(calendar, event.id, 3)
    (participation,) = await participations.of_bookings(booking.id)

    topic = f"test.participations.outage.{new_id()[:8]}"
    await ensure_topics_async(bootstrap, {topic: 1, f"{topic}.dlq": 1})
    created = participation_events_pb2.ParticipationCreated(participation=participation)
    await bookings.raw(participation.id, created.SerializeToString(), booking_headers(PARTICIPATION_CREATED, participation.id, tenant), topic=topic)

    pool = await asyncpg.create_pool(env["DATABASE_URL"], min_size=1, max_size=2, server_settings={"search_path": "participations"})
    dead = open_channel(f"127.0.0.1:{free_port()}", tokens, 1)
    live = open_channel(platform.address("timeframes"), tokens, 5)
    try:
        switch = SwitchableCalendar(TimeframesTotals(dead, tokens), TimeframesTotals(live, tokens))
        updater = EventUpdaterConsumer(EventUpdater(participations_store(pool, acquire_timeout=5), switch)).subscription()
        # The updater's own effect, on a topic of this test's that declares the participation messages.
        own_topic = dataclasses.replace(topics.PARTICIPATION_EVENTS, name=topic)
        subscription = dataclasses.replace(updater, group_id=f"test-outage-{new_id()[:8]}", routes=Routes((own_topic,), PARTICIPATION_MESSAGES))
        runner = KafkaConsumerRunner(settings, subscription, max_attempts=2, retry_backoff=(0.05, 0.2))
        async with runner:
            await eventually(lambda: _now(runner.stats.failures), lambda failures: failures >= 4, within=30, what="attempts while timeframes is down")
            # Retried past max_attempts: an outage says nothing about the message.
            assert (runner.stats.dead_lettered, runner.stats.processed, switch.outcomes) == (0, 0, [])
            switch.down = False
            await eventually(lambda: _now(runner.stats.processed), lambda processed: processed == 1, what="processed once timeframes is back")
        assert runner.stats.dead_lettered == 0
        # The event's current total went through (stale: the shared pipeline had settled it already).
        assert switch.outcomes == [{Target.event(event.id): SettleOutcome.STALE}]
        assert (await calendar.get_event(event.id)).participants_total == 3
    finally:
        await dead.close()
        await live.close()
        await pool.close()


async def _now(value: int) -> int:
    return value
