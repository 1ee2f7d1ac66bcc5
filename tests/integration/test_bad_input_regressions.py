"""The seven ways bad input got UNKNOWN, INTERNAL or an outage's UNAVAILABLE (issue 13), each as a
scenario against the real stack: every one now gets a precise status naming the field, and
changes nothing (docs/errors.md). The property-based fuzz (test_rpc_fuzz.py) keeps looking for more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import timestamp_pb2

from services.api.bookings.availability.v1 import availability_calendar_pb2
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import mint_token
from services.devstack.stack import Platform
from tests import support
from tests.integration.availability_support import DAY, HOUR, World, booking_of, enable_course_availability_for_everyone, now, policy, ts
from tests.integration.instances import extra_instance

CREATE_EVENT = "/calendar.events.v3.Events/CreateEvent"


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform) -> None:  # type: ignore[no-untyped-def]
    await enable_course_availability_for_everyone(platform)


@pytest.fixture
def world(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> World:
    return World.of(channel, tenant)


async def services_of(world: World) -> list[services_pb2.Service]:
    return list((await world.services.QueryServices(services_pb2.QueryServicesRequest(), metadata=world.md)).services)


async def events_of(world: World, schedule_id: str) -> list[events_pb2.Event]:
    request = events_pb2.QueryEventsRequest(schedule_ids=[schedule_id], include_cancelled=True)
    return list((await world.events.QueryEvents(request, metadata=world.md)).events)


def raw_call(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
    """A method sent as bytes, as a buggy or hostile client would."""
    return channel.unary_unary(method, request_serializer=None, response_deserializer=None)


# --- 1. an undecodable body ------------------------------------------------------------------------


async def test_an_undecodable_body_is_the_callers_invalid_argument_naming_the_field(world: World, channel: Callable[[str], grpc.aio.Channel]) -> None:
    schedule = (await world.klass([])).schedule_id
    good = events_pb2.CreateEventRequest(event=events_pb2.Event(schedule_id=schedule, start=ts(now() + DAY), end=ts(now() + DAY + HOUR), title="AAAA"))
    body = good.SerializeToString()
    call = raw_call(channel("timeframes"), CREATE_EVENT)

    not_utf8 = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, call(body.replace(b"AAAA", b"\xff\xfe\xfd\xfc"), metadata=world.md))
    assert list(support.field_violations(not_utf8)) == ["event.title"]
    cut_short = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, call(body[:-2], metadata=world.md))
    assert list(support.field_violations(cut_short)) == ["event.title"]
    assert "Error parsing" not in (cut_short.details() or "")
    assert await events_of(world, schedule) == []


async def test_an_undecodable_body_without_a_token_is_unauthenticated_first(channel: Callable[[str], grpc.aio.Channel]) -> None:
    for service, method in [("timeframes", CREATE_EVENT), ("bookings", "/bookings.v2.Bookings/CreateBooking")]:
        await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, raw_call(channel(service), method)(b"\x0a\x05\xff"))


# --- 2. NUL in text ----------------------------------------------------------------------------------


async def test_nul_in_a_service_name_is_refused_and_creates_nothing(world: World) -> None:
    service = services_pb2.Service(type=services_pb2.CLASS, name="Yoga\x00", default_capacity=5, time_zone="Europe/Vienna")
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, world.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=world.md)
    )
    assert support.field_violations(err) == {"service.name": "must not contain NUL (U+0000) characters"}
    assert await services_of(world) == []


async def test_nul_in_an_event_title_and_a_contact_is_refused_naming_each_field(world: World) -> None:
    klass = await world.klass([now() + 2 * DAY])
    event = events_pb2.Event(schedule_id=klass.schedule_id, start=ts(now() + 3 * DAY), end=ts(now() + 3 * DAY + HOUR), title="a\x00b")
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.events.CreateEvent(events_pb2.CreateEventRequest(event=event), metadata=world.md))
    assert list(support.field_violations(err)) == ["event.title"]

    booking = booking_of(klass, klass.events[0], name="Ada\x00", email="ada@example.com\x00")
    request = bookings_pb2.CreateBookingRequest(booking=booking, idempotency_key="key\x00")
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.bookings.CreateBooking(request, metadata=world.md))  # type: ignore[union-attr]
    assert set(support.field_violations(err)) == {"booking.contact.name", "booking.contact.email", "idempotency_key"}
    assert len(await events_of(world, klass.schedule_id)) == 1


# --- 3. timestamps at the ends of Timestamp's range ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (timestamp_pb2.Timestamp(seconds=-62_135_596_800), timestamp_pb2.Timestamp(seconds=-62_135_596_800 + 3600), "event.start"),
        (timestamp_pb2.Timestamp(seconds=253_402_300_799 - 3600), timestamp_pb2.Timestamp(seconds=253_402_300_799, nanos=999_999_999), "event.start"),
    ],
    ids=["0001-01-01", "9999-12-31T23-59-59.999999999"],
)
async def test_timestamps_outside_the_instant_range_are_refused(world: World, start: timestamp_pb2.Timestamp, end: timestamp_pb2.Timestamp, field: str) -> None:
    schedule = (await world.klass([])).schedule_id
    event = events_pb2.Event(schedule_id=schedule, start=start, end=end)
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.events.CreateEvent(events_pb2.CreateEventRequest(event=event), metadata=world.md))
    assert field in support.field_violations(err)
    assert "from 1900-01-01T00:00:00Z through 3000-01-01T00:00:00Z" in support.field_violations(err)[field]
    bulk = events_pb2.BulkCreateEventsRequest(events=[event])
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.events.BulkCreateEvents(bulk, metadata=world.md))
    assert "events[0].start" in support.field_violations(err)
    assert await events_of(world, schedule) == []


# --- 4. local dates near the ends, in zones east and west of UTC --------------------------------------


async def test_listings_at_the_ends_of_the_range_answer_in_any_zone(world: World) -> None:
    klass = await world.klass([])
    for from_date, to_date, zone in [("0001-01-01", "0001-01-03", "Asia/Tokyo"), ("9999-12-30", "9999-12-31", "America/Los_Angeles")]:
        request = time_slots_pb2.ListEventTimeSlotsRequest(service_ids=[klass.id], from_local_date=from_date, to_local_date=to_date, time_zone=zone)
        err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.classes.ListEventTimeSlots(request, metadata=world.md))
        assert set(support.field_violations(err)) == {"from_local_date", "to_local_date"}
    for from_date, to_date, zone in [("1900-01-01", "1900-01-03", "Asia/Tokyo"), ("2999-12-30", "2999-12-31T23:59", "Pacific/Pago_Pago")]:
        request = time_slots_pb2.ListEventTimeSlotsRequest(service_ids=[klass.id], from_local_date=from_date, to_local_date=to_date, time_zone=zone)
        assert list((await world.classes.ListEventTimeSlots(request, metadata=world.md)).time_slots) == []


async def test_a_class_at_the_start_of_the_range_with_an_early_booking_limit_is_shown_and_refused_as_past(world: World) -> None:
    start = datetime(1900, 1, 1, 0, 30, tzinfo=UTC)
    klass = await world.klass([start], booking_policy=policy(early=60 * 24 * 7), time_zone="Asia/Tokyo")
    request = time_slots_pb2.ListEventTimeSlotsRequest(
        service_ids=[klass.id], from_local_date="1900-01-01", to_local_date="1900-01-03", time_zone="Asia/Tokyo", include_non_bookable=True
    )
    (slot,) = (await world.classes.ListEventTimeSlots(request, metadata=world.md)).time_slots
    assert not slot.bookable
    err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.book(klass, klass.events[0]))
    assert support.error_reason(err) == "TOO_LATE_TO_BOOK"


# --- 5. a deleted service read through availability ---------------------------------------------------


async def test_a_deleted_service_is_not_found_through_every_availability_read(world: World) -> None:
    first = now() + 2 * DAY
    course = await world.course([first, first + 7 * DAY])
    klass = await world.klass([first])
    for offering in (course, klass):
        await world.services.DeleteService(services_pb2.DeleteServiceRequest(service_id=offering.id), metadata=world.md)
    window = {"from_local_date": (now() - DAY).strftime("%Y-%m-%d"), "to_local_date": (now() + 30 * DAY).strftime("%Y-%m-%d"), "time_zone": "Europe/Vienna"}

    reads = [
        world.courses.ListCourseEventTimeSlots(time_slots_pb2.ListCourseEventTimeSlotsRequest(service_ids=[course.id], **window), metadata=world.md),
        world.courses.GetCourseEventTimeSlot(time_slots_pb2.GetCourseEventTimeSlotRequest(event_id=course.events[0].id), metadata=world.md),
        world.classes.ListEventTimeSlots(time_slots_pb2.ListEventTimeSlotsRequest(service_ids=[klass.id], **window), metadata=world.md),
        world.classes.GetEventTimeSlot(time_slots_pb2.GetEventTimeSlotRequest(event_id=klass.events[0].id), metadata=world.md),
    ]
    for read in reads:
        await support.expect_error(grpc.StatusCode.NOT_FOUND, read)
    internal = support.auth(world.tenant, "internal")
    legacy = [
        world.calendar.GetScheduleAvailability(availability_calendar_pb2.GetScheduleAvailabilityRequest(schedule_id=course.schedule_id), metadata=internal),  # type: ignore[union-attr]
        world.calendar.GetSlotAvailability(availability_calendar_pb2.GetSlotAvailabilityRequest(event_id=klass.events[0].id), metadata=internal),  # type: ignore[union-attr]
    ]
    for read in legacy:
        await support.expect_error(grpc.StatusCode.NOT_FOUND, read)


async def test_a_deleted_service_is_not_found_when_an_external_policy_provider_says_so(platform: Platform, world: World) -> None:
    """With a policy provider other than the catalog (here the catalog's own provider, reached
    under another address so that availability calls it), the provider's NOT_FOUND for a deleted
    service is the caller's NOT_FOUND, not INTERNAL."""
    course = await world.course([now() + 2 * DAY])
    provider = f"localhost:{platform.service_ports['bookings']}"
    async with (
        extra_instance(platform, "availability", "av-provider-not-found", policy_provider_address=provider, availability_cache_enabled="false") as av,
        grpc.aio.insecure_channel(av.address) as ch,
    ):
        courses = time_slots_pb2_grpc.CourseEventTimeSlotsStub(ch)
        request = time_slots_pb2.ListCourseEventTimeSlotsRequest(
            service_ids=[course.id], from_local_date=(now() - DAY).strftime("%Y-%m-%d"), to_local_date=(now() + 30 * DAY).strftime("%Y-%m-%d")
        )
        assert len((await courses.ListCourseEventTimeSlots(request, metadata=world.md)).time_slots) == 1  # remembers the course's schedule
        await world.services.DeleteService(services_pb2.DeleteServiceRequest(service_id=course.id), metadata=world.md)
        await support.expect_error(grpc.StatusCode.NOT_FOUND, courses.ListCourseEventTimeSlots(request, metadata=world.md))
        by_event = time_slots_pb2.GetCourseEventTimeSlotRequest(event_id=course.events[0].id)
        await support.expect_error(grpc.StatusCode.NOT_FOUND, courses.GetCourseEventTimeSlot(by_event, metadata=world.md))


# --- 6. a signed token whose tenant id cannot be stored ----------------------------------------------


@pytest.mark.parametrize("tenant_id", ["tenant\x00", "tenant\nnext"], ids=["nul", "newline"])
async def test_a_signed_token_with_an_unusable_tenant_id_is_unauthenticated_everywhere(tenant_id: str, channel: Callable[[str], grpc.aio.Channel]) -> None:
    md = [("authorization", f"Bearer {mint_token(support.JWT_SECRET, tenant_id=tenant_id, scopes=['catalog:read', 'calendar:read', 'bookings:read'])}")]
    world = World.of(channel, "unused")
    calls = [
        world.services.QueryServices(services_pb2.QueryServicesRequest(), metadata=md),
        world.events.QueryEvents(events_pb2.QueryEventsRequest(), metadata=md),
        world.bookings.QueryBookings(bookings_pb2.QueryBookingsRequest(), metadata=md),  # type: ignore[union-attr]
    ]
    for call in calls:
        err = await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, call)
        assert "tenant_id" in (err.details() or "")


# --- 7. every bad field of a listing at once ------------------------------------------------------------


async def test_a_listing_names_a_bad_page_limit_with_its_other_bad_fields(world: World) -> None:
    request = time_slots_pb2.ListCourseEventTimeSlotsRequest(
        service_ids=["not-a-uuid"],
        from_local_date="2027-02-01",
        to_local_date="2027-01-01",
        time_zone="Europe/Vienna",
        cursor_paging=paging_pb2.CursorPaging(limit=5000),
    )
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.courses.ListCourseEventTimeSlots(request, metadata=world.md))
    assert set(support.field_violations(err)) == {"service_ids[0]", "to_local_date", "cursor_paging.limit"}
    classes = time_slots_pb2.ListEventTimeSlotsRequest(
        min_bookable_capacity=-1, from_local_date="2027-01-01", to_local_date="2027-01-02", cursor_paging=paging_pb2.CursorPaging(limit=-1)
    )
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.classes.ListEventTimeSlots(classes, metadata=world.md))
    assert set(support.field_violations(err)) == {"min_bookable_capacity", "cursor_paging.limit"}


# --- found by the fuzz (test_rpc_fuzz.py) ------------------------------------------------------------


async def test_an_event_of_a_schedule_no_service_owns_is_not_found_through_availability(world: World, channel: Callable[[str], grpc.aio.Channel]) -> None:
    schedules = schedules_pb2_grpc.SchedulesStub(channel("timeframes"))
    standalone = schedules_pb2.Schedule(name="room plan", external_id="not-a-service", time_zone="Europe/Vienna", default_capacity=3)
    schedule = (await schedules.CreateSchedule(schedules_pb2.CreateScheduleRequest(schedule=standalone), metadata=world.md)).schedule
    start = now() + 2 * DAY
    event = events_pb2.Event(schedule_id=schedule.id, start=ts(start), end=ts(start + HOUR))
    event = (await world.events.CreateEvent(events_pb2.CreateEventRequest(event=event), metadata=world.md)).event
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND, world.classes.GetEventTimeSlot(time_slots_pb2.GetEventTimeSlotRequest(event_id=event.id), metadata=world.md)
    )
    by_schedule = time_slots_pb2.GetCourseEventTimeSlotRequest(schedule_id=schedule.id)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, world.courses.GetCourseEventTimeSlot(by_schedule, metadata=world.md))
    internal = support.auth(world.tenant, "internal")
    request = availability_calendar_pb2.GetSlotAvailabilityRequest(event_id=event.id)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, world.calendar.GetSlotAvailability(request, metadata=internal))  # type: ignore[union-attr]


async def test_a_service_a_caller_passes_is_never_remembered_as_the_owner_of_a_schedule(world: World) -> None:
    """GetSlotAvailability may be given the service (bookings passes the one it has just read);
    a wrong one answers that call only, and later calls still ask the catalog who owns the event."""
    klass = await world.klass([now() + 2 * DAY])
    other = await world.klass([], name="Approval", manual_approval=True)
    internal = support.auth(world.tenant, "internal")
    impostor = services_pb2.Service()
    impostor.CopyFrom(other.service)
    impostor.schedule_id = klass.schedule_id
    given = availability_calendar_pb2.GetSlotAvailabilityRequest(event_id=klass.events[0].id, number_of_participants=1, service=impostor)
    await world.calendar.GetSlotAvailability(given, metadata=internal)  # type: ignore[union-attr]
    plain = availability_calendar_pb2.GetSlotAvailabilityRequest(event_id=klass.events[0].id, number_of_participants=1)
    assert (await world.calendar.GetSlotAvailability(plain, metadata=internal)).availability.bookable  # type: ignore[union-attr]


async def test_a_given_service_that_owns_another_schedule_is_named_with_the_other_bad_fields(world: World) -> None:
    course = await world.course([now() + 2 * DAY])
    request = availability_calendar_pb2.GetScheduleAvailabilityRequest(
        schedule_id=course.schedule_id, number_of_participants=-1, service=services_pb2.Service(id=course.id)
    )
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, world.calendar.GetScheduleAvailability(request, metadata=support.auth(world.tenant, "internal"))
    )  # type: ignore[union-attr]
    assert set(support.field_violations(err)) == {"number_of_participants", "service.schedule_id"}


async def test_a_bulk_create_with_hundreds_of_bad_events_reaches_a_default_client(world: World) -> None:
    bulk = events_pb2.BulkCreateEventsRequest(events=[events_pb2.Event() for _ in range(500)])
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, world.events.BulkCreateEvents(bulk, metadata=world.md))
    assert "events[0].schedule_id" in support.field_violations(err)
    assert "not listed in the details" in (err.details() or "")
