"""CreateBooking's validation through availability (docs/rollout.md "How bookings validates"),
idempotency keys, and the bookings.booking-events.v1 messages, end to end against the real
platform.

"Nothing written" is checked where it lives: the tenant's rows in `bookings.bookings` and in the
bookings outbox (a message can only ever be published from an outbox row). Messages are read
without a consumer group, as tests/integration/test_outbox.py does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.common import topics
from services.common.grpc_status import status_details
from services.devstack.infra import free_port
from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, MINUTE, World, booking_of, forget_proxy, now, policy, set_proxy
from tests.integration.instances import extra_instance
from tests.integration.topic_reader import TopicReader, headers, of_tenant
from tests.support import auth, error_reason, expect_error, field_violations

pytestmark = pytest.mark.integration

TOPIC = topics.BOOKING_EVENTS.name


@pytest.fixture
async def world(channel: Callable[[str], grpc.aio.Channel], tenant: str, platform: Platform) -> AsyncIterator[World]:
    await set_proxy(platform, tenant, False)  # consistent capacity (the default, made sure of)
    yield World.of(channel, tenant)
    await forget_proxy(platform, tenant)


@pytest.fixture
async def db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.infra.env()["DATABASE_URL"])
    yield conn
    await conn.close()


@pytest.fixture
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


async def written(db: asyncpg.Connection, tenant: str) -> tuple[int, int]:
    """(bookings, booking events in the outbox) of the tenant."""
    bookings = await db.fetchval("SELECT count(*) FROM bookings.bookings WHERE tenant_id = $1", tenant)
    events = await db.fetchval("SELECT count(*) FROM bookings.outbox WHERE tenant_id = $1 AND topic = $2", tenant, TOPIC)
    return bookings, events


# --- refusals: the reason of availability, nothing written ----------------------------------------------


async def _too_early(world: World) -> bookings_pb2.Booking:
    offering = await world.course([now() + 3 * DAY], booking_policy=policy(early=60))
    return booking_of(offering)


async def _too_late(world: World) -> bookings_pb2.Booking:
    offering = await world.klass([now() + 30 * MINUTE], booking_policy=policy(late=60))
    return booking_of(offering, offering.events[0])


async def _started_course(world: World) -> bookings_pb2.Booking:
    offering = await world.course([now() - 10 * MINUTE, now() + 7 * DAY])  # no booking after start
    return booking_of(offering)


async def _online_disabled(world: World) -> bookings_pb2.Booking:
    return booking_of(await world.course([now() + DAY], online=False))


async def _over_max(world: World) -> bookings_pb2.Booking:
    return booking_of(await world.course([now() + DAY], booking_policy=policy(max_per_booking=2)), participants=3)


async def _full(world: World) -> bookings_pb2.Booking:
    offering = await world.course([now() + DAY, now() + 8 * DAY], capacity=4, booking_policy=policy(max_per_booking=4))
    await world.book(offering, participants=3)  # counts at once: capacity is summed from bookings
    return booking_of(offering, participants=2)


async def _cancelled_event(world: World) -> bookings_pb2.Booking:
    offering = await world.klass([now() + DAY])
    await world.cancel(offering.events[0])
    return booking_of(offering, offering.events[0])


@pytest.mark.parametrize(
    "scenario, reason, message, before",
    [
        pytest.param(_too_early, "TOO_EARLY_TO_BOOK", "booking is not open yet", 0, id="too early"),
        pytest.param(_too_late, "TOO_LATE_TO_BOOK", "booking has closed", 0, id="too late"),
        pytest.param(_started_course, "TOO_LATE_TO_BOOK", "booking has closed", 0, id="course started, no booking after start"),
        pytest.param(_online_disabled, "BOOK_ONLINE_DISABLED", "the service cannot be booked online", 0, id="online booking disabled"),
        pytest.param(_over_max, "MAX_PARTICIPANTS_EXCEEDED", "more participants than the service allows in one booking", 0, id="party over the max"),
        pytest.param(_full, "CAPACITY_EXCEEDED", "not enough open spots", 1, id="not enough spots"),
        pytest.param(_cancelled_event, "EVENT_CANCELLED", "the event is cancelled", 0, id="event cancelled"),
    ],
)
async def test_each_refusal_of_availability_is_the_reason_and_nothing_is_written(
    world: World, db: asyncpg.Connection, tenant: str, scenario: Callable[[World], Any], reason: str, message: str, before: int
) -> None:
    booking = await scenario(world)
    assert await written(db, tenant) == (before, before)

    err = await expect_error(
        grpc.StatusCode.FAILED_PRECONDITION, world._bookings().CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=world.md)
    )

    assert error_reason(err) == reason
    assert err.details() == message
    assert await written(db, tenant) == (before, before)


async def test_capacity_exceeded_reports_the_open_spots(world: World) -> None:
    offering = await world.klass([now() + DAY], capacity=3, booking_policy=policy(max_per_booking=3))
    await world.book(offering, offering.events[0], participants=2)

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(offering, offering.events[0], participants=2))

    assert error_reason(err) == "CAPACITY_EXCEEDED"
    info = next(d for d in status_details(err) if isinstance(d, error_details_pb2.ErrorInfo))
    assert dict(info.metadata) == {"open_spots": "1", "total_spots": "3"}
    assert (await world.book(offering, offering.events[0], participants=1)).number_of_participants == 1


async def test_availability_unreachable_is_unavailable_and_nothing_is_written(world: World, db: asyncpg.Connection, tenant: str, platform: Platform) -> None:
    offering = await world.course([now() + DAY])
    async with extra_instance(platform, "bookings", "bookings-no-availability", availability_address=f"127.0.0.1:{free_port()}") as lonely:
        channel = grpc.aio.insecure_channel(lonely.address)
        try:
            stub = bookings_pb2_grpc.BookingsStub(channel)
            request = bookings_pb2.CreateBookingRequest(booking=booking_of(offering), idempotency_key="retry-me")
            err = await expect_error(grpc.StatusCode.UNAVAILABLE, stub.CreateBooking(request, metadata=world.md))
        finally:
            await channel.close()
    assert error_reason(err) == "DEPENDENCY_UNAVAILABLE"
    assert await written(db, tenant) == (0, 0)
    # The client's retry with the same key, once availability answers, books once.
    booking = await world.book(offering, idempotency_key="retry-me")
    assert await written(db, tenant) == (1, 1)
    assert (await world.book(offering, idempotency_key="retry-me")).id == booking.id


# --- idempotency keys ------------------------------------------------------------------------------


async def test_ten_concurrent_creates_with_one_key_make_one_booking(world: World, db: asyncpg.Connection, tenant: str) -> None:
    offering = await world.course([now() + DAY], capacity=20)

    answers = await asyncio.gather(*(world.book(offering, idempotency_key="checkout-42") for _ in range(10)))

    assert len({b.id for b in answers}) == 1
    assert all(b == answers[0] for b in answers)
    assert await written(db, tenant) == (1, 1)


async def test_a_repeated_key_returns_the_booking_as_it_is_now(world: World, db: asyncpg.Connection, tenant: str) -> None:
    offering = await world.course([now() + DAY])
    first = await world.book(offering, idempotency_key="k1")
    canceled = (await world._bookings().CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=first.id, revision=1), metadata=world.md)).booking

    again = await world.book(offering, idempotency_key="k1")

    assert again == canceled  # the same booking, not a second one (and not re-validated)
    assert await written(db, tenant) == (1, 2)
    other = await world.book(offering, idempotency_key="k2")
    assert other.id != first.id


async def test_a_key_reused_for_another_request_is_invalid_and_writes_nothing(world: World, db: asyncpg.Connection, tenant: str) -> None:
    offering = await world.course([now() + DAY], booking_policy=policy(max_per_booking=2))
    await world.book(offering, idempotency_key="k1", participants=1)

    for changed in ({"participants": 2}, {"name": "Someone Else"}, {"email": "other@example.com"}):
        err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.book(offering, idempotency_key="k1", **changed))  # type: ignore[arg-type]
        assert "idempotency_key" in field_violations(err)
    assert await written(db, tenant) == (1, 1)


async def test_keys_are_per_tenant(world: World, channel: Callable[[str], grpc.aio.Channel], other_tenant: str, platform: Platform) -> None:
    elsewhere = World.of(channel, other_tenant)
    mine = await world.book(await world.course([now() + DAY]), idempotency_key="shared")
    theirs = await elsewhere.book(await elsewhere.course([now() + DAY]), idempotency_key="shared")
    assert mine.id != theirs.id


# --- events on bookings.booking-events.v1 ----------------------------------------------------------------


async def test_create_publishes_exactly_one_booking_created_message(world: World, tenant: str, bootstrap: str) -> None:
    offering = await world.course([now() + DAY])
    async with TopicReader(bootstrap, TOPIC, of_tenant(tenant)) as reader:
        booking = await world.book(offering, idempotency_key="once")
        await world.book(offering, idempotency_key="once")  # a replay publishes nothing
        records = await reader.until(lambda r: len(r) >= 1)
        await asyncio.sleep(0.5)  # anything more would have been published by now
        records = await reader.drain()

    assert len(records) == 1
    record = records[0]
    h = headers(record)
    assert (h["ce_type"], h["ce_subject"], h["ce_tenantid"], h["content-type"]) == ("bookings.booking.created.v1", booking.id, tenant, "application/protobuf")
    assert record.key.decode() == booking.id
    assert booking_events_pb2.BookingCreated.FromString(record.value).booking == booking


async def test_every_change_publishes_the_whole_booking_in_order(world: World, tenant: str, bootstrap: str) -> None:
    offering = await world.course([now() + DAY], manual_approval=True, booking_policy=policy(max_per_booking=3))
    stub, md = world._bookings(), world.md
    async with TopicReader(bootstrap, TOPIC, of_tenant(tenant)) as reader:
        created = await world.book(offering)
        confirmed = (await stub.ConfirmBooking(bookings_pb2.ConfirmBookingRequest(booking_id=created.id, revision=1), metadata=md)).booking
        resized = (
            await stub.UpdateNumberOfParticipants(
                bookings_pb2.UpdateNumberOfParticipantsRequest(booking_id=created.id, revision=2, number_of_participants=3), metadata=md
            )
        ).booking
        canceled = (await stub.CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=created.id, revision=3), metadata=md)).booking
        declined_one = await world.book(offering)
        declined = (await stub.DeclineBooking(bookings_pb2.DeclineBookingRequest(booking_id=declined_one.id, revision=1), metadata=md)).booking
        records = await reader.until(lambda r: len(r) >= 6)

    by_key: dict[str, list[tuple[str, bytes]]] = {}
    for r in records:
        by_key.setdefault(r.key.decode(), []).append((headers(r)["ce_type"], r.value))
    assert [t for t, _ in by_key[created.id]] == [
        "bookings.booking.created.v1",
        "bookings.booking.confirmed.v1",
        "bookings.booking.number_of_participants_updated.v1",
        "bookings.booking.canceled.v1",
    ]
    values = [v for _, v in by_key[created.id]]
    assert booking_events_pb2.BookingConfirmed.FromString(values[1]).booking == confirmed
    update = booking_events_pb2.BookingNumberOfParticipantsUpdated.FromString(values[2])
    assert (update.booking, update.previous_number_of_participants) == (resized, 1)
    assert booking_events_pb2.BookingCanceled.FromString(values[3]).booking == canceled
    assert [t for t, _ in by_key[declined.id]] == ["bookings.booking.created.v1", "bookings.booking.declined.v1"]
    assert booking_events_pb2.BookingDeclined.FromString(by_key[declined.id][1][1]).booking == declined


async def test_a_rejected_change_publishes_nothing(world: World, db: asyncpg.Connection, tenant: str) -> None:
    booking = await world.book(await world.course([now() + DAY]))
    stub = world._bookings()
    await expect_error(grpc.StatusCode.ABORTED, stub.CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=booking.id, revision=5), metadata=world.md))
    await expect_error(
        grpc.StatusCode.FAILED_PRECONDITION, stub.ConfirmBooking(bookings_pb2.ConfirmBookingRequest(booking_id=booking.id, revision=1), metadata=world.md)
    )
    await expect_error(
        grpc.StatusCode.PERMISSION_DENIED,
        stub.CancelBooking(bookings_pb2.CancelBookingRequest(booking_id=booking.id, revision=1), metadata=auth(tenant, "bookings:read")),
    )
    assert await written(db, tenant) == (1, 1)
