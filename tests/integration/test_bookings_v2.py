"""bookings.v2.Bookings over real gRPC against the running platform: every RPC's happy path, each
invalid field, not found, tenant isolation, authentication and scopes, the status transitions,
revisions and optimistic concurrency, party size changes, the cancellation policy, and cursor
paging of QueryBookings.

Refusals by availability, idempotency keys and the published events are in
test_bookings_v2_validation.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.common.v1 import paging_pb2
from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, HOUR, MINUTE, Offering, World, booking_of, forget_proxy, now, policy, set_proxy
from tests.support import auth, error_reason, expect_error, expired_auth, field_violations

pytestmark = pytest.mark.integration

UNKNOWN_ID = "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
READ, WRITE = "bookings:read", "bookings:write"


@pytest.fixture
async def world(channel: Callable[[str], grpc.aio.Channel], tenant: str, platform: Platform) -> AsyncIterator[World]:
    # Capacity from the bookings themselves (the legacy consistent calculation): the default,
    # made sure of (free when the tenant is off already).
    await set_proxy(platform, tenant, False)
    yield World.of(channel, tenant)
    await forget_proxy(platform, tenant)


@pytest.fixture
def elsewhere(channel: Callable[[str], grpc.aio.Channel], other_tenant: str) -> World:
    return World.of(channel, other_tenant)


def cancellable_until(minutes: int, **limits: Any) -> policy_pb2.BookingPolicy:
    p = policy(**limits)
    p.cancellation_policy.CopyFrom(policy_pb2.CancellationPolicy(enabled=True, latest_cancellation_in_minutes=minutes))
    return p


async def course(world: World, *, first_in: Any = 3 * DAY, sessions: int = 3, **kwargs: Any) -> Offering:
    start = now() + first_in
    return await world.course([start + i * 7 * DAY for i in range(sessions)], **kwargs)


async def klass(world: World, *, first_in: Any = 2 * DAY, sessions: int = 2, **kwargs: Any) -> Offering:
    start = now() + first_in
    return await world.klass([start + i * DAY for i in range(sessions)], **kwargs)


async def create(world: World, booking: bookings_pb2.Booking, md: list[tuple[str, str]] | None = None, key: str = "") -> bookings_pb2.Booking:
    request = bookings_pb2.CreateBookingRequest(booking=booking, idempotency_key=key)
    return (await world._bookings().CreateBooking(request, metadata=md or world.md)).booking


async def query(world: World, md: list[tuple[str, str]] | None = None, **fields: Any) -> bookings_pb2.QueryBookingsResponse:
    return await world._bookings().QueryBookings(bookings_pb2.QueryBookingsRequest(**fields), metadata=md or world.md)


async def all_ids(world: World) -> list[str]:
    return [b.id for b in (await query(world, cursor_paging=paging_pb2.CursorPaging(limit=1000))).bookings]


async def change(world: World, rpc: str, booking: bookings_pb2.Booking, revision: int | None = None, **fields: Any) -> bookings_pb2.Booking:
    request_type = getattr(bookings_pb2, f"{rpc}Request")
    request = request_type(booking_id=booking.id, revision=booking.revision if revision is None else revision, **fields)
    return (await getattr(world._bookings(), rpc)(request, metadata=world.md)).booking


# --- create and get --------------------------------------------------------------------------------


async def test_a_course_is_booked_whole_and_confirmed_at_revision_1(world: World) -> None:
    offering = await course(world)
    before = now()

    booking = await world.book(offering, participants=1, name="Grace Hopper", email="grace@example.com")

    assert uuid.UUID(booking.id).version == 4
    assert booking.service_id == offering.id
    assert booking.booked_entity.WhichOneof("item") == "schedule" and booking.booked_entity.schedule.schedule_id == offering.schedule_id
    assert (booking.number_of_participants, booking.contact.name, booking.contact.email) == (1, "Grace Hopper", "grace@example.com")
    assert (booking.status, booking.revision) == (bookings_pb2.CONFIRMED, 1)
    assert booking.created_date.ToDatetime().timestamp() >= before.timestamp() - 1
    assert await world.get_booking(booking.id) == booking


async def test_a_class_is_booked_by_one_event(world: World) -> None:
    offering = await klass(world, booking_policy=policy(max_per_booking=3))

    booking = await world.book(offering, offering.events[1], participants=3)

    assert booking.booked_entity.WhichOneof("item") == "slot" and booking.booked_entity.slot.event_id == offering.events[1].id
    assert (booking.status, booking.number_of_participants) == (bookings_pb2.CONFIRMED, 3)
    assert await world.get_booking(booking.id) == booking


async def test_output_only_fields_of_the_request_are_ignored(world: World) -> None:
    offering = await course(world)
    sent = booking_of(offering)
    sent.id, sent.status, sent.revision = UNKNOWN_ID, bookings_pb2.CANCELED, 7

    booking = await create(world, sent)

    assert (booking.id != UNKNOWN_ID, booking.status, booking.revision) == (True, bookings_pb2.CONFIRMED, 1)


# --- invalid fields: each named, nothing written ------------------------------------------------------


def _bad(**changes: Any) -> Callable[[bookings_pb2.Booking], None]:
    def apply(booking: bookings_pb2.Booking) -> None:
        for path, value in changes.items():
            target: Any = booking
            *parents, leaf = path.split(".")
            for parent in parents:
                target = getattr(target, parent)
            setattr(target, leaf, value)

    return apply


@pytest.mark.parametrize(
    "mutate, field",
    [
        pytest.param(_bad(service_id=""), "booking.service_id", id="service_id required"),
        pytest.param(_bad(service_id="not-a-uuid"), "booking.service_id", id="service_id a UUID"),
        pytest.param(lambda b: b.ClearField("booked_entity"), "booking.booked_entity", id="booked_entity required"),
        pytest.param(_bad(**{"booked_entity.schedule.schedule_id": ""}), "booking.booked_entity.schedule.schedule_id", id="schedule_id required"),
        pytest.param(_bad(**{"booked_entity.schedule.schedule_id": "x"}), "booking.booked_entity.schedule.schedule_id", id="schedule_id a UUID"),
        pytest.param(_bad(**{"booked_entity.slot.event_id": "42"}), "booking.booked_entity.slot.event_id", id="event_id a UUID"),
        pytest.param(_bad(number_of_participants=0), "booking.number_of_participants", id="participants at least 1"),
        pytest.param(_bad(number_of_participants=-2), "booking.number_of_participants", id="participants not negative"),
        pytest.param(_bad(number_of_participants=1001), "booking.number_of_participants", id="participants at most 1000"),
        pytest.param(_bad(**{"contact.name": ""}), "booking.contact.name", id="name required"),
        pytest.param(_bad(**{"contact.name": "   "}), "booking.contact.name", id="name not blank"),
        pytest.param(_bad(**{"contact.name": "n" * 201}), "booking.contact.name", id="name at most 200"),
        pytest.param(_bad(**{"contact.email": ""}), "booking.contact.email", id="email required"),
        pytest.param(_bad(**{"contact.email": "ada at example"}), "booking.contact.email", id="email an address"),
        pytest.param(_bad(**{"contact.email": "a@" + "b" * 320 + ".com"}), "booking.contact.email", id="email at most 320"),
    ],
)
async def test_each_invalid_field_is_named_and_nothing_is_written(world: World, mutate: Callable[[bookings_pb2.Booking], None], field: str) -> None:
    offering = await course(world, sessions=1)
    booking = booking_of(offering)
    mutate(booking)

    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, booking))

    assert field in field_violations(err), field_violations(err)
    assert await all_ids(world) == []


async def test_every_bad_field_is_reported_at_once(world: World) -> None:
    booking = bookings_pb2.Booking(number_of_participants=0, contact=bookings_pb2.ContactDetails(name="", email="nope"))

    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, booking, key="k" * 101))

    assert set(field_violations(err)) == {
        "booking.service_id",
        "booking.booked_entity",
        "booking.number_of_participants",
        "booking.contact.name",
        "booking.contact.email",
        "idempotency_key",
    }


async def test_the_booked_entity_must_fit_the_service(world: World) -> None:
    a_course, a_class, other_class = await course(world, sessions=1), await klass(world, sessions=1), await klass(world, sessions=1)

    slot_of_course = booking_of(a_course)
    slot_of_course.booked_entity.slot.event_id = a_course.events[0].id
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, slot_of_course))
    assert "booking.booked_entity" in field_violations(err)

    schedule_of_class = booking_of(a_class)
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, schedule_of_class))
    assert "booking.booked_entity" in field_violations(err)

    other_schedule = booking_of(a_course)
    other_schedule.booked_entity.schedule.schedule_id = a_class.schedule_id
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, other_schedule))
    assert "booking.booked_entity.schedule.schedule_id" in field_violations(err)

    event_of_another_service = booking_of(a_class, other_class.events[0])
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, event_of_another_service))
    assert "booking.booked_entity.slot.event_id" in field_violations(err)

    course_event_for_a_class = booking_of(a_class, a_course.events[0])
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, course_event_for_a_class))
    assert "booking.booked_entity.slot.event_id" in field_violations(err)
    assert await all_ids(world) == []


async def test_an_appointment_is_booked_by_its_time_not_by_an_event(world: World) -> None:
    service = services_pb2.Service(
        type=services_pb2.APPOINTMENT,
        name="Haircut",
        time_zone="Europe/Vienna",
        online_booking_enabled=True,
        appointment=services_pb2.AppointmentSettings(duration_minutes=30),
    )
    created = (await world.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=world.md)).service
    booking = bookings_pb2.Booking(service_id=created.id, number_of_participants=1, contact=bookings_pb2.ContactDetails(name="Ada", email="ada@example.com"))
    booking.booked_entity.slot.event_id = UNKNOWN_ID

    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, create(world, booking))

    assert "booking.booked_entity" in field_violations(err)
    assert await all_ids(world) == []


# --- not found, tenants, auth ---------------------------------------------------------------------


async def test_unknown_service_event_and_booking_are_not_found(world: World) -> None:
    a_class = await klass(world, sessions=1)
    unknown_service = booking_of(a_class, a_class.events[0])
    unknown_service.service_id = UNKNOWN_ID
    await expect_error(grpc.StatusCode.NOT_FOUND, create(world, unknown_service))

    unknown_event = booking_of(a_class)
    unknown_event.booked_entity.slot.event_id = UNKNOWN_ID
    await expect_error(grpc.StatusCode.NOT_FOUND, create(world, unknown_event))

    ghost = bookings_pb2.Booking(id=UNKNOWN_ID, revision=1)
    await expect_error(grpc.StatusCode.NOT_FOUND, world.get_booking(UNKNOWN_ID))
    for rpc in ("ConfirmBooking", "DeclineBooking", "CancelBooking"):
        await expect_error(grpc.StatusCode.NOT_FOUND, change(world, rpc, ghost))
    await expect_error(grpc.StatusCode.NOT_FOUND, change(world, "UpdateNumberOfParticipants", ghost, number_of_participants=2))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.get_booking("nope"))
    assert "booking_id" in field_violations(err)


async def test_another_tenants_bookings_and_services_do_not_exist_for_a_tenant(world: World, elsewhere: World) -> None:
    offering = await course(world, manual_approval=True)
    booking = await world.book(offering)

    await expect_error(grpc.StatusCode.NOT_FOUND, elsewhere.get_booking(booking.id))
    for rpc in ("ConfirmBooking", "DeclineBooking", "CancelBooking"):
        await expect_error(grpc.StatusCode.NOT_FOUND, change(elsewhere, rpc, booking))
    await expect_error(grpc.StatusCode.NOT_FOUND, change(elsewhere, "UpdateNumberOfParticipants", booking, number_of_participants=1))
    assert list((await query(elsewhere, service_ids=[offering.id])).bookings) == []
    await expect_error(grpc.StatusCode.NOT_FOUND, create(elsewhere, booking_of(offering)))
    assert await world.get_booking(booking.id) == booking  # untouched


async def test_reads_need_bookings_read_and_writes_bookings_write(world: World, tenant: str) -> None:
    offering = await course(world)
    booking = await world.book(offering)
    get = bookings_pb2.GetBookingRequest(booking_id=booking.id)
    stub = world._bookings()

    await expect_error(grpc.StatusCode.UNAUTHENTICATED, stub.GetBooking(get))
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, stub.GetBooking(get, metadata=expired_auth(tenant)))
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, stub.GetBooking(get, metadata=auth(tenant, "catalog:read", "availability:read")))
    assert (await stub.GetBooking(get, metadata=auth(tenant, READ))).booking == booking
    assert [b.id for b in (await stub.QueryBookings(bookings_pb2.QueryBookingsRequest(), metadata=auth(tenant, READ))).bookings] == [booking.id]

    await expect_error(grpc.StatusCode.PERMISSION_DENIED, create(world, booking_of(offering), md=auth(tenant, READ)))
    cancel = bookings_pb2.CancelBookingRequest(booking_id=booking.id, revision=1)
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, stub.CancelBooking(cancel, metadata=auth(tenant, READ)))
    assert (await create(world, booking_of(offering), md=auth(tenant, WRITE))).status == bookings_pb2.CONFIRMED
    assert (await world.get_booking(booking.id)).status == bookings_pb2.CONFIRMED


# --- status transitions and revisions -----------------------------------------------------------------


async def test_manual_approval_creates_pending_bookings_the_business_confirms_or_declines(world: World) -> None:
    offering = await course(world, manual_approval=True)
    first, second = await world.book(offering), await world.book(offering)
    assert (first.status, second.status) == (bookings_pb2.PENDING, bookings_pb2.PENDING)

    confirmed = await change(world, "ConfirmBooking", first)
    declined = await change(world, "DeclineBooking", second)

    assert (confirmed.status, confirmed.revision) == (bookings_pb2.CONFIRMED, 2)
    assert (declined.status, declined.revision) == (bookings_pb2.DECLINED, 2)
    assert confirmed.updated_date.ToDatetime() >= first.created_date.ToDatetime()
    assert await world.get_booking(first.id) == confirmed


@pytest.mark.parametrize(
    "start, rpc, reason",
    [
        pytest.param([], "ConfirmBooking", "BOOKING_NOT_PENDING", id="confirm a confirmed booking"),
        pytest.param([], "DeclineBooking", "BOOKING_NOT_PENDING", id="decline a confirmed booking"),
        pytest.param(["DeclineBooking"], "ConfirmBooking", "BOOKING_NOT_PENDING", id="confirm a declined booking"),
        pytest.param(["CancelBooking"], "DeclineBooking", "BOOKING_NOT_PENDING", id="decline a canceled booking"),
        pytest.param(["DeclineBooking"], "CancelBooking", "BOOKING_NOT_ACTIVE", id="cancel a declined booking"),
        pytest.param(["CancelBooking"], "CancelBooking", "BOOKING_NOT_ACTIVE", id="cancel a canceled booking"),
        pytest.param(["CancelBooking"], "UpdateNumberOfParticipants", "BOOKING_NOT_ACTIVE", id="resize a canceled booking"),
        pytest.param(["DeclineBooking"], "UpdateNumberOfParticipants", "BOOKING_NOT_ACTIVE", id="resize a declined booking"),
    ],
)
async def test_a_transition_from_the_wrong_status_is_refused_and_changes_nothing(world: World, start: list[str], rpc: str, reason: str) -> None:
    offering = await course(world, manual_approval=bool(start), booking_policy=policy(max_per_booking=3))
    booking = await world.book(offering)
    for step in start:
        booking = await change(world, step, booking)
    extra = {"number_of_participants": 2} if rpc == "UpdateNumberOfParticipants" else {}

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, rpc, booking, **extra))

    assert error_reason(err) == reason
    assert await world.get_booking(booking.id) == booking


async def test_a_pending_booking_can_be_canceled(world: World) -> None:
    booking = await world.book(await course(world, manual_approval=True))

    canceled = await change(world, "CancelBooking", booking)

    assert (canceled.status, canceled.revision) == (bookings_pb2.CANCELED, 2)


async def test_every_change_bumps_the_revision_and_a_stale_one_is_aborted(world: World) -> None:
    offering = await course(world, manual_approval=True, booking_policy=policy(max_per_booking=4))
    booking = await world.book(offering)

    confirmed = await change(world, "ConfirmBooking", booking)
    bigger = await change(world, "UpdateNumberOfParticipants", confirmed, number_of_participants=3)
    smaller = await change(world, "UpdateNumberOfParticipants", bigger, number_of_participants=2)
    assert [b.revision for b in (booking, confirmed, bigger, smaller)] == [1, 2, 3, 4]

    for rpc, extra in (("CancelBooking", {}), ("ConfirmBooking", {}), ("UpdateNumberOfParticipants", {"number_of_participants": 1})):
        err = await expect_error(grpc.StatusCode.ABORTED, change(world, rpc, booking, revision=3, **extra))
        assert error_reason(err) == "REVISION_MISMATCH"
    assert await world.get_booking(booking.id) == smaller

    for revision in (0, -1):
        err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, change(world, "CancelBooking", booking, revision=revision))
        assert "revision" in field_violations(err)


# --- party size ------------------------------------------------------------------------------------


async def test_the_party_size_changes_within_the_limit_and_the_capacity(world: World) -> None:
    offering = await klass(world, capacity=4, booking_policy=policy(max_per_booking=3))
    event = offering.events[0]
    booking = await world.book(offering, event, participants=1)
    neighbour = await world.book(offering, event, participants=1)  # 2 of 4 spots left

    same = await change(world, "UpdateNumberOfParticipants", booking, number_of_participants=1)
    assert same == booking  # nothing changed: no new revision

    grown = await change(world, "UpdateNumberOfParticipants", booking, number_of_participants=3)  # +2 of the 2 left
    assert (grown.number_of_participants, grown.revision) == (3, 2)

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "UpdateNumberOfParticipants", neighbour, number_of_participants=2))
    assert error_reason(err) == "CAPACITY_EXCEEDED"  # +1, no spot left
    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "UpdateNumberOfParticipants", grown, number_of_participants=4))
    assert error_reason(err) == "MAX_PARTICIPANTS_EXCEEDED"
    for bad in (0, -1, 1001):
        err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, change(world, "UpdateNumberOfParticipants", grown, number_of_participants=bad))
        assert "number_of_participants" in field_violations(err)

    shrunk = await change(world, "UpdateNumberOfParticipants", grown, number_of_participants=1)
    assert (shrunk.number_of_participants, shrunk.revision) == (1, 3)
    assert (await world.get_booking(neighbour.id)).revision == 1


async def test_an_increase_follows_the_booking_policy_like_a_new_booking(world: World) -> None:
    # Booking closes 60 minutes before the class: a party cannot grow after that, but may shrink.
    offering = await world.klass([now() + 30 * MINUTE], booking_policy=policy(max_per_booking=3))
    booking = await world.book(offering, offering.events[0], participants=2)
    await world.update_service(offering, ["booking_policy"], booking_policy=policy(max_per_booking=3, late=60))

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "UpdateNumberOfParticipants", booking, number_of_participants=3))
    assert error_reason(err) == "TOO_LATE_TO_BOOK"
    assert (await change(world, "UpdateNumberOfParticipants", booking, number_of_participants=1)).number_of_participants == 1


# --- cancellation policy ----------------------------------------------------------------------------


async def test_a_course_can_be_canceled_until_the_window_before_its_first_session(world: World) -> None:
    early = await course(world, first_in=30 * MINUTE, booking_policy=cancellable_until(60))
    late = await course(world, first_in=3 * HOUR, booking_policy=cancellable_until(60))
    too_late, in_time = await world.book(early), await world.book(late)

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "CancelBooking", too_late))
    assert error_reason(err) == "TOO_LATE_TO_CANCEL"
    assert "60 minutes before the start" in (err.details() or "")
    assert (await world.get_booking(too_late.id)).status == bookings_pb2.CONFIRMED

    assert (await change(world, "CancelBooking", in_time)).status == bookings_pb2.CANCELED


async def test_a_course_window_is_measured_from_its_first_session_not_later_ones(world: World) -> None:
    # Sessions at +30 min and +8 days: the first one decides, though most of the course is ahead.
    offering = await world.course([now() + 30 * MINUTE, now() + 8 * DAY], booking_policy=cancellable_until(60))
    booking = await world.book(offering)

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "CancelBooking", booking))
    assert error_reason(err) == "TOO_LATE_TO_CANCEL"


async def test_a_class_window_is_measured_from_its_event_and_a_cancelled_event_frees_the_booking(world: World) -> None:
    offering = await world.klass([now() + 30 * MINUTE, now() + 2 * DAY], booking_policy=cancellable_until(60))
    soon, later = offering.events
    too_late, in_time = await world.book(offering, soon), await world.book(offering, later)

    err = await expect_error(grpc.StatusCode.FAILED_PRECONDITION, change(world, "CancelBooking", too_late))
    assert error_reason(err) == "TOO_LATE_TO_CANCEL"
    assert (await change(world, "CancelBooking", in_time)).status == bookings_pb2.CANCELED

    await world.cancel(soon)  # the business cancelled the session: nothing left to protect
    assert (await change(world, "CancelBooking", too_late)).status == bookings_pb2.CANCELED


async def test_without_a_cancellation_policy_a_booking_can_be_canceled_until_the_end(world: World) -> None:
    offering = await world.klass([now() + 5 * MINUTE])
    booking = await world.book(offering, offering.events[0])

    assert (await change(world, "CancelBooking", booking)).status == bookings_pb2.CANCELED


# --- QueryBookings ---------------------------------------------------------------------------------


async def test_query_filters_by_service_schedule_event_and_status(world: World) -> None:
    a_course = await course(world, booking_policy=policy(max_per_booking=2))
    a_class = await klass(world)
    c1, c2 = await world.book(a_course), await world.book(a_course, participants=2)
    k1, k2 = await world.book(a_class, a_class.events[0]), await world.book(a_class, a_class.events[1])
    c2 = await change(world, "CancelBooking", c2)

    async def ids(**filters: Any) -> list[str]:
        return [b.id for b in (await query(world, **filters)).bookings]

    assert await ids() == [c1.id, c2.id, k1.id, k2.id]  # oldest first
    assert await ids(service_ids=[a_course.id]) == [c1.id, c2.id]
    assert await ids(schedule_ids=[a_course.schedule_id]) == [c1.id, c2.id]
    assert await ids(schedule_ids=[a_class.schedule_id]) == []  # class bookings are by event
    assert await ids(event_ids=[a_class.events[1].id]) == [k2.id]
    assert await ids(event_ids=[e.id for e in a_class.events]) == [k1.id, k2.id]
    assert await ids(statuses=[bookings_pb2.CANCELED]) == [c2.id]
    assert await ids(statuses=[bookings_pb2.PENDING, bookings_pb2.CONFIRMED], service_ids=[a_course.id]) == [c1.id]
    assert (await query(world, service_ids=[a_course.id])).bookings[1] == c2


async def test_query_pages_with_a_cursor_bound_to_its_filters(world: World) -> None:
    offering = await course(world)
    made = [(await world.book(offering)).id for _ in range(5)]

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = await query(world, service_ids=[offering.id], cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=cursor))
        seen += [b.id for b in page.bookings]
        pages += 1
        assert page.paging_metadata.count == len(page.bookings)
        if not page.paging_metadata.has_next:
            break
        cursor = page.paging_metadata.cursors.next
    assert (seen, pages) == (made, 3)

    first = await query(world, service_ids=[offering.id], cursor_paging=paging_pb2.CursorPaging(limit=2))
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        query(world, schedule_ids=[offering.schedule_id], cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=first.paging_metadata.cursors.next)),
    )
    assert "cursor_paging.cursor" in field_violations(err)


@pytest.mark.parametrize(
    "fields, field",
    [
        pytest.param({"service_ids": ["nope"]}, "service_ids[0]", id="service id a UUID"),
        pytest.param({"schedule_ids": [UNKNOWN_ID, UNKNOWN_ID]}, "schedule_ids", id="no repeated ids"),
        pytest.param({"event_ids": [UNKNOWN_ID] * 101}, "event_ids", id="at most 100 ids"),
        pytest.param({"statuses": [0]}, "statuses[0]", id="status unspecified"),
        pytest.param({"statuses": [9]}, "statuses[0]", id="unknown status"),
        pytest.param({"statuses": [1, 1]}, "statuses", id="no repeated statuses"),
        pytest.param({"cursor_paging": paging_pb2.CursorPaging(limit=1001)}, "cursor_paging.limit", id="page at most 1000"),
        pytest.param({"cursor_paging": paging_pb2.CursorPaging(cursor="forged.cursor")}, "cursor_paging.cursor", id="a forged cursor"),
    ],
)
async def test_query_names_each_invalid_filter(world: World, fields: dict[str, Any], field: str) -> None:
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, query(world, **fields))
    assert field in field_violations(err), field_violations(err)
