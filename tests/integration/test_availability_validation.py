"""Request validation, tenancy and authentication of bookings.availability.v2 (docs/platform.md
"Tenancy", docs/errors.md): bad input is INVALID_ARGUMENT naming the field, unknown ids
NOT_FOUND, never UNKNOWN or INTERNAL; no tenant sees another's courses; no token, no answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2
from services.api.common.v1 import paging_pb2
from tests import support
from tests.integration.availability_support import DAY, World, enable_course_availability_for_everyone, now, wide_window

OK_RANGE = {"from_local_date": "2027-01-01T00:00:00", "to_local_date": "2027-02-01T00:00:00", "time_zone": "Europe/Vienna"}


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform) -> None:  # type: ignore[no-untyped-def]
    await enable_course_availability_for_everyone(platform)


@dataclass
class Catalog:
    """A read-only tenant shared by this module: a course and a class of 12 weekly sessions each."""

    world: World
    course_id: str
    course_schedule_id: str
    course_event_id: str
    class_id: str
    class_event_id: str
    class_schedule_id: str
    appointment_id: str


@pytest.fixture(scope="module")
async def catalog(_channels) -> Catalog:  # type: ignore[no-untyped-def]
    world = World.of(_channels.__getitem__, f"tenant-{uuid.uuid4()}")
    first = now() + 2 * DAY
    course = await world.course([first + i * 7 * DAY for i in range(12)])
    klass = await world.klass([first + i * 7 * DAY for i in range(12)])
    appointment = await world.offering(services_pb2.APPOINTMENT, [], capacity=1)
    return Catalog(world, course.id, course.schedule_id, course.events[0].id, klass.id, klass.events[0].id, klass.schedule_id, appointment.id)


def _course_request(catalog: Catalog, **changes: Any) -> time_slots_pb2.ListCourseEventTimeSlotsRequest:
    fields = {"service_ids": [catalog.course_id], **OK_RANGE, **changes}
    return time_slots_pb2.ListCourseEventTimeSlotsRequest(**{k: v for k, v in fields.items() if v is not None})


def _class_request(catalog: Catalog, **changes: Any) -> time_slots_pb2.ListEventTimeSlotsRequest:
    fields = {"service_ids": [catalog.class_id], **OK_RANGE, **changes}
    return time_slots_pb2.ListEventTimeSlotsRequest(**{k: v for k, v in fields.items() if v is not None})


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


# (id, request changes, the field named in BadRequest). `None` removes a field; a callable gets
# the module catalog (for ids that must exist).
INVALID: list[tuple[str, dict[str, Any] | Callable[[Catalog], dict[str, Any]], str]] = [
    ("from-local-date-is-required", {"from_local_date": None}, "from_local_date"),
    ("to-local-date-is-required", {"to_local_date": None}, "to_local_date"),
    ("from-local-date-must-be-iso-8601", {"from_local_date": "next tuesday"}, "from_local_date"),
    ("from-local-date-must-be-a-real-date", {"from_local_date": "2027-02-30T10:00:00"}, "from_local_date"),
    ("to-local-date-must-be-iso-8601", {"to_local_date": "01/02/2027"}, "to_local_date"),
    ("from-local-date-must-not-carry-an-offset", {"from_local_date": "2027-01-01T00:00:00+01:00"}, "from_local_date"),
    ("to-local-date-must-not-carry-z", {"to_local_date": "2027-02-01T00:00:00Z"}, "to_local_date"),
    ("to-local-date-must-be-after-from", {"from_local_date": "2027-02-01T00:00:00", "to_local_date": "2027-01-01T00:00:00"}, "to_local_date"),
    ("an-empty-range-is-rejected", {"to_local_date": OK_RANGE["from_local_date"]}, "to_local_date"),
    ("a-range-of-366-days-is-rejected", {"from_local_date": "2027-01-01", "to_local_date": "2028-01-02"}, "to_local_date"),
    ("time-zone-must-be-iana", {"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ("time-zone-must-not-be-an-offset", {"time_zone": "+01:00"}, "time_zone"),
    ("service-ids-at-most-100", {"service_ids": _ids(101)}, "service_ids"),
    ("service-ids-must-be-uuids", {"service_ids": ["not-a-uuid"]}, "service_ids[0]"),
    ("service-ids-must-not-repeat", lambda c: {"service_ids": [c.course_id, c.course_id]}, "service_ids"),
    ("min-bookable-capacity-must-not-be-negative", {"min_bookable_capacity": -1}, "min_bookable_capacity"),
    ("min-bookable-capacity-at-most-10000", {"min_bookable_capacity": 10_001}, "min_bookable_capacity"),
    ("an-appointment-service-has-no-event-time-slots", lambda c: {"service_ids": [c.appointment_id]}, "service_ids[0]"),
    ("page-limit-at-most-1000", {"cursor_paging": paging_pb2.CursorPaging(limit=1001)}, "cursor_paging.limit"),
    ("page-limit-must-not-be-negative", {"cursor_paging": paging_pb2.CursorPaging(limit=-1)}, "cursor_paging.limit"),
    ("cursor-must-be-one-this-rpc-returned", {"cursor_paging": paging_pb2.CursorPaging(cursor="eyJrIjpbXX0.AAAA")}, "cursor_paging.cursor"),
]


def _changes(spec: dict[str, Any] | Callable[[Catalog], dict[str, Any]], catalog: Catalog) -> dict[str, Any]:
    return spec(catalog) if callable(spec) else spec


@pytest.mark.parametrize(("spec", "field"), [pytest.param(spec, field, id=name) for name, spec, field in INVALID])
async def test_list_course_event_time_slots_rejects(spec, field: str, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    request = _course_request(catalog, **_changes(spec, catalog))
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(request, metadata=catalog.world.md))
    assert field in support.field_violations(err), support.field_violations(err)


@pytest.mark.parametrize(("spec", "field"), [pytest.param(spec, field, id=name) for name, spec, field in INVALID])
async def test_list_event_time_slots_rejects(spec, field: str, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    changes = _changes(spec, catalog)
    if "service_ids" in changes and catalog.course_id in changes["service_ids"]:
        changes["service_ids"] = [catalog.class_id, catalog.class_id]
    request = _class_request(catalog, **changes)
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.classes.ListEventTimeSlots(request, metadata=catalog.world.md))
    assert field in support.field_violations(err), support.field_violations(err)


async def test_every_bad_field_is_reported_in_one_answer(catalog: Catalog) -> None:
    request = _course_request(catalog, service_ids=["nope"], from_local_date="soon", time_zone="Nowhere/Land", min_bookable_capacity=-2)
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(request, metadata=catalog.world.md))
    assert {"service_ids[0]", "from_local_date", "time_zone", "min_bookable_capacity"} <= support.field_violations(err).keys()


async def test_a_range_of_exactly_365_days_is_accepted(catalog: Catalog) -> None:
    for make, call in (
        (_course_request, catalog.world.courses.ListCourseEventTimeSlots),
        (_class_request, catalog.world.classes.ListEventTimeSlots),
    ):
        response = await call(make(catalog, from_local_date="2027-01-01", to_local_date="2028-01-01"), metadata=catalog.world.md)  # type: ignore[operator]
        assert len(response.time_slots) >= 1


async def test_a_class_service_in_the_course_endpoint_is_invalid_argument(catalog: Catalog) -> None:
    request = _course_request(catalog, service_ids=[catalog.course_id, catalog.class_id])
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(request, metadata=catalog.world.md))
    assert "service_ids[1]" in support.field_violations(err)


async def test_a_course_service_in_the_class_endpoint_is_invalid_argument(catalog: Catalog) -> None:
    request = _class_request(catalog, service_ids=[catalog.course_id])
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.classes.ListEventTimeSlots(request, metadata=catalog.world.md))
    assert "service_ids[0]" in support.field_violations(err)


async def test_a_cursor_reused_with_other_filters_is_invalid_argument(catalog: Catalog) -> None:
    span = wide_window()
    first = await catalog.world.courses.ListCourseEventTimeSlots(
        _course_request(catalog, **span, cursor_paging=paging_pb2.CursorPaging(limit=2)),
        metadata=catalog.world.md,
    )
    cursor = first.paging_metadata.cursors.next
    assert first.paging_metadata.has_next and cursor
    for changes in ({"min_bookable_capacity": 2}, {"include_non_bookable": False}, {"time_zone": "UTC"}):
        request = _course_request(catalog, **{**span, **changes}, cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=cursor))
        err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(request, metadata=catalog.world.md))
        assert "cursor_paging.cursor" in support.field_violations(err), changes
    # The same filters with the cursor go on; the cursor of one tenant is refused for another.
    same = _course_request(catalog, **span, cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=cursor))
    second = await catalog.world.courses.ListCourseEventTimeSlots(same, metadata=catalog.world.md)
    assert second.time_slots[0].event_id not in {s.event_id for s in first.time_slots}
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(same, metadata=support.auth(f"tenant-{uuid.uuid4()}"))
    )
    assert "cursor_paging.cursor" in support.field_violations(err)


async def test_a_tampered_cursor_is_invalid_argument(catalog: Catalog) -> None:
    span = wide_window()
    page = await catalog.world.courses.ListCourseEventTimeSlots(
        _course_request(catalog, **span, cursor_paging=paging_pb2.CursorPaging(limit=2)), metadata=catalog.world.md
    )
    body, signature = page.paging_metadata.cursors.next.split(".")
    for tampered in (body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature, body + "." + signature[::-1], "garbage"):
        request = _course_request(catalog, **span, cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=tampered))
        err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.courses.ListCourseEventTimeSlots(request, metadata=catalog.world.md))
        assert "cursor_paging.cursor" in support.field_violations(err)


# --- GetCourseEventTimeSlot / GetEventTimeSlot ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({}, "by", id="neither-event-id-nor-schedule-id"),
        pytest.param({"event_id": ""}, "by", id="an-empty-event-id"),
        pytest.param({"event_id": "not-a-uuid"}, "event_id", id="event-id-must-be-a-uuid"),
        pytest.param({"schedule_id": "not-a-uuid"}, "schedule_id", id="schedule-id-must-be-a-uuid"),
        pytest.param({"schedule_id": str(uuid.uuid4()), "time_zone": "Mars/Olympus_Mons"}, "time_zone", id="time-zone-must-be-iana"),
        pytest.param({"schedule_id": str(uuid.uuid4()), "min_bookable_capacity": -1}, "min_bookable_capacity", id="min-bookable-capacity-not-negative"),
    ],
)
async def test_get_course_event_time_slot_rejects(fields: dict[str, Any], field: str, catalog: Catalog) -> None:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.get_course(**fields))
    assert field in support.field_violations(err), support.field_violations(err)


async def test_get_course_event_time_slot_of_a_class_event_is_invalid_argument(catalog: Catalog) -> None:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.get_course(event_id=catalog.class_event_id))
    assert "event_id" in support.field_violations(err)


async def test_get_course_event_time_slot_of_a_class_schedule_is_invalid_argument(catalog: Catalog) -> None:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.get_course(schedule_id=catalog.class_schedule_id))
    assert "schedule_id" in support.field_violations(err)


async def test_get_event_time_slot_of_a_course_session_is_invalid_argument(catalog: Catalog) -> None:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.get_class(event_id=catalog.course_event_id))
    assert "event_id" in support.field_violations(err)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({}, "event_id", id="event-id-is-required"),
        pytest.param({"event_id": "not-a-uuid"}, "event_id", id="event-id-must-be-a-uuid"),
        pytest.param({"event_id": str(uuid.uuid4()), "time_zone": "Europe/Nowhere"}, "time_zone", id="time-zone-must-be-iana"),
        pytest.param({"event_id": str(uuid.uuid4()), "min_bookable_capacity": -1}, "min_bookable_capacity", id="min-bookable-capacity-not-negative"),
    ],
)
async def test_get_event_time_slot_rejects(fields: dict[str, Any], field: str, catalog: Catalog) -> None:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.world.get_class(**fields))
    assert field in support.field_violations(err), support.field_violations(err)


# --- NOT_FOUND and tenancy ----------------------------------------------------------------------


async def test_an_unknown_service_id_is_not_found(catalog: Catalog) -> None:
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.list_courses(service_ids=[str(uuid.uuid4())], **OK_RANGE))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.list_courses(service_ids=[catalog.course_id, str(uuid.uuid4())], **OK_RANGE))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.list_classes(service_ids=[str(uuid.uuid4())], **OK_RANGE))


async def test_unknown_event_and_schedule_ids_are_not_found(catalog: Catalog) -> None:
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.get_course(event_id=str(uuid.uuid4())))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.get_course(schedule_id=str(uuid.uuid4())))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, catalog.world.get_class(event_id=str(uuid.uuid4())))


async def test_another_tenants_ids_are_not_found_and_its_courses_never_listed(catalog: Catalog, channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    mine = World.of(channel, tenant)
    own = await mine.course([now() + 3 * DAY])
    theirs = catalog.world

    await support.expect_error(grpc.StatusCode.NOT_FOUND, mine.list_courses(service_ids=[catalog.course_id], **wide_window()))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, mine.list_classes(service_ids=[catalog.class_id], **wide_window()))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, mine.get_course(event_id=catalog.course_event_id))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, mine.get_course(schedule_id=catalog.course_schedule_id))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, mine.get_class(event_id=catalog.class_event_id))

    everything = await mine.list_courses(**wide_window())
    assert {s.service_id for s in everything.time_slots} == {own.id}
    assert {s.service_id for s in (await mine.list_classes(**wide_window())).time_slots} == set()
    # ...and the other way round, after this tenant's listing warmed every cache.
    theirs_listing = await theirs.list_courses(**wide_window())
    assert own.id not in {s.service_id for s in theirs_listing.time_slots}
    await support.expect_error(grpc.StatusCode.NOT_FOUND, theirs.list_courses(service_ids=[own.id], **wide_window()))


# --- authentication and authorization -------------------------------------------------------------


def _calls(catalog: Catalog) -> dict[str, Callable[[list[tuple[str, str]] | None], Any]]:
    channel_courses: time_slots_pb2_grpc.CourseEventTimeSlotsStub = catalog.world.courses
    channel_classes: time_slots_pb2_grpc.EventTimeSlotsStub = catalog.world.classes
    return {
        "ListCourseEventTimeSlots": lambda md: channel_courses.ListCourseEventTimeSlots(_course_request(catalog), metadata=md),
        "GetCourseEventTimeSlot": lambda md: channel_courses.GetCourseEventTimeSlot(
            time_slots_pb2.GetCourseEventTimeSlotRequest(schedule_id=catalog.course_schedule_id), metadata=md
        ),
        "ListEventTimeSlots": lambda md: channel_classes.ListEventTimeSlots(_class_request(catalog), metadata=md),
        "GetEventTimeSlot": lambda md: channel_classes.GetEventTimeSlot(time_slots_pb2.GetEventTimeSlotRequest(event_id=catalog.class_event_id), metadata=md),
    }


RPCS = ["ListCourseEventTimeSlots", "GetCourseEventTimeSlot", "ListEventTimeSlots", "GetEventTimeSlot"]


@pytest.mark.parametrize("rpc", RPCS)
@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        pytest.param("none", grpc.StatusCode.UNAUTHENTICATED, id="without-a-token-is-unauthenticated"),
        pytest.param("expired", grpc.StatusCode.UNAUTHENTICATED, id="with-an-expired-token-is-unauthenticated"),
        pytest.param("forged", grpc.StatusCode.UNAUTHENTICATED, id="with-a-token-signed-by-another-key-is-unauthenticated"),
        pytest.param("no-availability-read", grpc.StatusCode.PERMISSION_DENIED, id="without-availability-read-is-permission-denied"),
    ],
)
async def test_availability_rpc_called(rpc: str, credentials: str, code: grpc.StatusCode, catalog: Catalog) -> None:
    tenant = catalog.world.tenant
    metadata = {
        "none": None,
        "expired": support.expired_auth(tenant),
        "forged": [("authorization", f"Bearer {support.token(tenant, 'availability:read', secret='not-the-platform-secret-' + 'x' * 32)}")],
        "no-availability-read": support.auth(tenant, "catalog:read", "calendar:read", "bookings:read"),
    }[credentials]
    await support.expect_error(code, _calls(catalog)[rpc](metadata))


@pytest.mark.parametrize("rpc", RPCS)
async def test_availability_rpc_answers_with_only_availability_read(rpc: str, catalog: Catalog) -> None:
    await _calls(catalog)[rpc](support.auth(catalog.world.tenant, "availability:read"))
