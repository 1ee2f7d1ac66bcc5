"""Strict capacity (`Service.strict_capacity`) end to end against the real platform: a rush of
concurrent CreateBooking for the last spot of a class event or of a course has exactly one winner,
whichever capacity availability answers with (`proxy_course_to_new_endpoint` on: eventual; off:
the legacy count), and the event settles at 0 remaining, never below. A party-size increase is
counted like a booking, a decrease never; a cancellation frees its spots for the next booking at
once; switching the flag on counts the bookings made before; idempotent replays are answered, not
refused; only CLASS and COURSE services can have it.

Without the flag nothing changes: the race of test_pipeline_invariants.py still overbooks
(docs/overbooking-race.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, HOUR, Offering, World, booking_of, forget_proxy, now, policy, set_proxy
from tests.support import error_reason, expect_error, field_violations

pytestmark = pytest.mark.integration

CAPACITY = 5
RACERS = 20
ROUNDS = 3
ACTIVE = (bookings_pb2.PENDING, bookings_pb2.CONFIRMED)
PROXY = pytest.mark.parametrize("proxy", [True, False], ids=["proxy-on-eventual-capacity", "proxy-off-consistent-capacity"])


@pytest.fixture
def world(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> World:
    return World.of(channel, tenant)


@pytest.fixture
async def eventual(world: World, platform: Platform) -> AsyncIterator[World]:
    """Availability answers with `Event.remaining_capacity` (the pipeline's, eventually consistent)."""
    await set_proxy(platform, world.tenant, True)
    yield world
    await forget_proxy(platform, world.tenant)


async def strict_class(world: World, sessions: int = 1, capacity: int = CAPACITY) -> Offering:
    """A strict CLASS with `sessions` events, one an hour from two days ahead; parties up to the capacity."""
    start = now() + 2 * DAY
    starts = [start + i * HOUR for i in range(sessions)]
    return await world.klass(starts, capacity=capacity, booking_policy=policy(max_per_booking=capacity), strict_capacity=True)


async def strict_course(world: World, capacity: int = CAPACITY) -> Offering:
    """A strict COURSE of three weekly sessions from two days ahead; parties up to the capacity."""
    start = now() + 2 * DAY
    starts = [start + i * 7 * DAY for i in range(3)]
    return await world.course(starts, capacity=capacity, booking_policy=policy(max_per_booking=capacity), strict_capacity=True)


async def resize(world: World, booking: bookings_pb2.Booking, participants: int) -> bookings_pb2.Booking:
    request = bookings_pb2.UpdateNumberOfParticipantsRequest(booking_id=booking.id, revision=booking.revision, number_of_participants=participants)
    return (await world._bookings().UpdateNumberOfParticipants(request, metadata=world.md)).booking


async def cancel(world: World, booking: bookings_pb2.Booking) -> bookings_pb2.Booking:
    request = bookings_pb2.CancelBookingRequest(booking_id=booking.id, revision=booking.revision)
    return (await world._bookings().CancelBooking(request, metadata=world.md)).booking


async def rush(world: World, booking: bookings_pb2.Booking) -> tuple[list[bookings_pb2.Booking], list[grpc.aio.AioRpcError]]:
    """RACERS identical CreateBooking requests at once (no idempotency key): who won, who was refused."""
    request = bookings_pb2.CreateBookingRequest(booking=booking)
    results = await asyncio.gather(*(world._bookings().CreateBooking(request, metadata=world.md, timeout=20) for _ in range(RACERS)), return_exceptions=True)
    won = [r.booking for r in results if isinstance(r, bookings_pb2.CreateBookingResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) + len(refused) == RACERS, [r for r in results if not isinstance(r, bookings_pb2.CreateBookingResponse | grpc.aio.AioRpcError)]
    return won, refused


async def held(world: World, **entity: list[str]) -> int:
    """Σ participants of the active bookings of the given schedule_ids or event_ids, as stored."""
    page = await world._bookings().QueryBookings(bookings_pb2.QueryBookingsRequest(**entity), metadata=world.md)
    return sum(b.number_of_participants for b in page.bookings if b.status in ACTIVE)


async def settled(world: World, event: events_pb2.Event, participants: int, within: float = 60.0) -> events_pb2.Event:
    """The event once the participations pipeline has written `participants` to it."""
    deadline = time.monotonic() + within
    while True:
        current = (await world.events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=world.md)).event
        if current.participants_total == participants:
            return current
        assert time.monotonic() < deadline, f"event {event.id}: participants_total {current.participants_total}, wanted {participants}"
        await asyncio.sleep(0.1)


def assert_capacity_refusals(refused: list[grpc.aio.AioRpcError]) -> None:
    assert all(r.code() == grpc.StatusCode.FAILED_PRECONDITION and error_reason(r) == "CAPACITY_EXCEEDED" for r in refused), refused[:1]


# --- the rush for the last spot ---------------------------------------------------------------------------


@pytest.mark.timeout(240)
@PROXY
async def test_a_rush_for_the_last_spot_of_a_strict_class_event_has_exactly_one_winner(world: World, platform: Platform, proxy: bool) -> None:
    await set_proxy(platform, world.tenant, proxy)
    try:
        offering = await strict_class(world, sessions=ROUNDS)
        for event in offering.events:  # one round per event
            await world.book(offering, event, participants=CAPACITY - 1)

            won, refused = await rush(world, booking_of(offering, event, 1, name="Racer"))

            assert (len(won), len(refused)) == (1, RACERS - 1)
            assert_capacity_refusals(refused)
            assert await held(world, event_ids=[event.id]) == CAPACITY
            final = await settled(world, event, CAPACITY)
            assert (final.remaining_capacity, final.total_capacity) == (0, CAPACITY)
            shown = await world.slot_availability(event.id)
            assert (shown.open_spots, shown.bookable, shown.refusal_reason) == (0, False, "CAPACITY_EXCEEDED")
    finally:
        await forget_proxy(platform, world.tenant)


@pytest.mark.timeout(240)
@PROXY
async def test_a_rush_for_the_last_place_in_a_strict_course_has_exactly_one_winner(world: World, platform: Platform, proxy: bool) -> None:
    await set_proxy(platform, world.tenant, proxy)
    try:
        for _ in range(ROUNDS):  # one round per course
            offering = await strict_course(world)
            await world.book(offering, participants=CAPACITY - 1)

            won, refused = await rush(world, booking_of(offering, None, 1, name="Racer"))

            assert (len(won), len(refused)) == (1, RACERS - 1)
            assert_capacity_refusals(refused)
            assert await held(world, schedule_ids=[offering.schedule_id]) == CAPACITY
            for session in offering.events:  # a course booking takes a spot on every session
                final = await settled(world, session, CAPACITY)
                assert final.remaining_capacity == 0
            shown = await world.schedule_availability(offering.schedule_id)
            assert (shown.open_spots, shown.bookable, shown.min_total_spots_ahead) == (0, False, CAPACITY)
    finally:
        await forget_proxy(platform, world.tenant)


async def test_a_course_is_limited_by_its_smallest_session_ahead(eventual: World) -> None:
    world = eventual
    offering = await strict_course(world, capacity=4)
    smaller = offering.events[1]
    current = (await world.events.GetEvent(events_pb2.GetEventRequest(event_id=smaller.id), metadata=world.md)).event
    changed = events_pb2.Event(id=smaller.id, revision=current.revision, total_capacity=2)
    request = events_pb2.UpdateEventRequest(event=changed, mask=field_mask_pb2.FieldMask(paths=["total_capacity"]))
    await world.events.UpdateEvent(request, metadata=world.md)
    for session in offering.events:  # availability never sees a booking: only the strict count can refuse
        await world.hold_participants(session, 0)

    await world.book(offering, participants=2)
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(offering, participants=1))

    assert error_reason(err) == "CAPACITY_EXCEEDED"
    assert await held(world, schedule_ids=[offering.schedule_id]) == 2


# --- party size, cancellation, switching the flag on ------------------------------------------------------


async def test_a_strict_increase_beyond_the_capacity_is_refused_and_a_decrease_is_always_allowed(eventual: World) -> None:
    world = eventual
    offering = await strict_class(world)
    event = offering.events[0]
    mine = await world.book(offering, event, participants=2)
    await world.book(offering, event, participants=2)  # 4 of 5 held

    grown = await resize(world, mine, 3)  # the last spot
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, resize(world, grown, 4))

    assert error_reason(err) == "CAPACITY_EXCEEDED"
    assert await world.get_booking(mine.id) == grown
    assert (await resize(world, grown, 1)).number_of_participants == 1
    assert await held(world, event_ids=[event.id]) == 3


async def test_a_cancellation_frees_its_spot_for_the_next_booking_at_once(eventual: World) -> None:
    world = eventual
    offering = await strict_class(world)
    event = offering.events[0]
    first = await world.book(offering, event, participants=CAPACITY)
    # The pipeline "has not caught up" with the cancel below, and never will: availability keeps
    # seeing the event full.
    await world.hold_participants(event, CAPACITY)
    await cancel(world, first)
    assert not (await world.slot_availability(event.id)).bookable

    again = await world.book(offering, event, participants=CAPACITY)

    assert again.status == bookings_pb2.CONFIRMED
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(offering, event, participants=1))
    assert error_reason(err) == "CAPACITY_EXCEEDED"


async def test_switching_strict_capacity_on_counts_the_bookings_made_before(eventual: World) -> None:
    world = eventual
    offering = await world.klass([now() + 2 * DAY], capacity=3, booking_policy=policy(max_per_booking=3))
    event = offering.events[0]
    # Availability "has not seen" any booking yet: without the flag, its answer lets a service
    # overbook (the eventual model, docs/pipeline.md "Where strict capacity differs").
    await world.hold_participants(event, 0)
    await world.book(offering, event, participants=3)
    await world.book(offering, event, participants=1)
    assert await held(world, event_ids=[event.id]) == 4

    updated = await world.update_service(offering, ["strict_capacity"], strict_capacity=True)
    assert updated.service.strict_capacity

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(offering, event, participants=1))
    assert error_reason(err) == "CAPACITY_EXCEEDED"
    assert await held(world, event_ids=[event.id]) == 4


# --- idempotency keys ------------------------------------------------------------------------------------


async def test_concurrent_replays_of_the_request_that_took_the_last_spot_are_answered_not_refused(eventual: World) -> None:
    world = eventual
    offering = await strict_class(world)
    event = offering.events[0]
    await world.book(offering, event, participants=CAPACITY - 1)

    answers = await asyncio.gather(*(world.book(offering, event, idempotency_key="checkout-7") for _ in range(10)))

    assert len({b.id for b in answers}) == 1
    assert await held(world, event_ids=[event.id]) == CAPACITY
    assert (await world.book(offering, event, idempotency_key="checkout-7")).id == answers[0].id  # later, from storage
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(offering, event, idempotency_key="checkout-8"))
    assert error_reason(err) == "CAPACITY_EXCEEDED"


# --- the flag in the catalog ------------------------------------------------------------------------------


async def test_classes_and_courses_may_be_strict_and_appointments_may_not(world: World) -> None:
    a_class, a_course = await strict_class(world), await strict_course(world)
    for offering in (a_class, a_course):
        stored = (await world.services.GetService(services_pb2.GetServiceRequest(service_id=offering.id), metadata=world.md)).service
        assert stored.strict_capacity

    appointment = services_pb2.Service(
        type=services_pb2.APPOINTMENT,
        name="Haircut",
        time_zone="UTC",
        strict_capacity=True,
        appointment=services_pb2.AppointmentSettings(duration_minutes=30),
    )
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, world.services.CreateService(services_pb2.CreateServiceRequest(service=appointment), metadata=world.md)
    )
    assert list(field_violations(err)) == ["service.strict_capacity"]

    appointment.strict_capacity = False
    created = (await world.services.CreateService(services_pb2.CreateServiceRequest(service=appointment), metadata=world.md)).service
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.update_service(Offering(created), ["strict_capacity"], strict_capacity=True))
    assert list(field_violations(err)) == ["service.strict_capacity"]


async def test_a_service_is_not_strict_unless_asked(world: World) -> None:
    offering = await world.klass([now() + 2 * DAY])
    assert not offering.service.strict_capacity
    assert (await world.update_service(offering, ["strict_capacity"], strict_capacity=True)).service.strict_capacity
    assert not (await world.update_service(offering, ["strict_capacity"], strict_capacity=False)).service.strict_capacity
