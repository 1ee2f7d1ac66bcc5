"""bookings.staff.v1.StaffMembers over real gRPC against the running platform: staff members with
their schedule in timeframes, every field's validation, revisions, soft delete, tenant isolation,
scopes, paging, the relation to APPOINTMENT services written from either side (docs/appointments.md
"Staff members"), and what bookings.staff-events.v1 and catalog.service-events.v1 carry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from aiokafka import ConsumerRecord
from google.protobuf import field_mask_pb2

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.staff.v1 import staff_members_pb2 as staff_pb2
from services.api.bookings.staff.v1 import staff_members_pb2_grpc as staff_grpc
from services.api.bookings.staff_events.v1 import staff_events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.catalog.service_events.v1 import service_events_pb2
from services.api.common.v1 import paging_pb2
from services.common import topics
from services.devstack.stack import Platform
from tests.integration.test_bookings_catalog_timeframes import schedule_count
from tests.integration.topic_reader import TopicReader, headers, of_tenant
from tests.support import auth, error_reason, expect_error, field_violations

pytestmark = pytest.mark.integration

READ, WRITE = "catalog:read", "catalog:write"


# --- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def staff(channel: Callable[[str], grpc.aio.Channel]) -> staff_grpc.StaffMembersStub:
    return staff_grpc.StaffMembersStub(channel("bookings"))


@pytest.fixture
def catalog(channel: Callable[[str], grpc.aio.Channel]) -> services_pb2_grpc.ServicesStub:
    return services_pb2_grpc.ServicesStub(channel("bookings"))


@pytest.fixture
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


def member(**fields: Any) -> staff_pb2.StaffMember:
    """A valid staff member unless fields say otherwise."""
    values: dict[str, Any] = {"name": "Ada Lovelace", "email": "ada@example.com", "time_zone": "Europe/Vienna"}
    values.update(fields)
    return staff_pb2.StaffMember(**values)


async def create(staff: staff_grpc.StaffMembersStub, tenant: str, **fields: Any) -> staff_pb2.StaffMember:
    response = await staff.CreateStaffMember(staff_pb2.CreateStaffMemberRequest(staff_member=member(**fields)), metadata=auth(tenant, WRITE))
    return response.staff_member


async def get(staff: staff_grpc.StaffMembersStub, tenant: str, staff_member_id: str) -> staff_pb2.StaffMember:
    return (await staff.GetStaffMember(staff_pb2.GetStaffMemberRequest(staff_member_id=staff_member_id), metadata=auth(tenant, READ))).staff_member


async def update(staff: staff_grpc.StaffMembersStub, tenant: str, current: staff_pb2.StaffMember, paths: list[str], **fields: Any) -> staff_pb2.StaffMember:
    return (await staff.UpdateStaffMember(update_request(current, paths, **fields), metadata=auth(tenant, WRITE))).staff_member


def update_request(current: staff_pb2.StaffMember, paths: list[str], **fields: Any) -> staff_pb2.UpdateStaffMemberRequest:
    patch = staff_pb2.StaffMember(id=current.id, revision=current.revision, **fields)
    return staff_pb2.UpdateStaffMemberRequest(staff_member=patch, mask=field_mask_pb2.FieldMask(paths=paths))


async def query_all(staff: staff_grpc.StaffMembersStub, tenant: str, **filters: Any) -> list[staff_pb2.StaffMember]:
    found: list[staff_pb2.StaffMember] = []
    cursor = ""
    while True:
        request = staff_pb2.QueryStaffMembersRequest(cursor_paging=paging_pb2.CursorPaging(limit=1000, cursor=cursor), **filters)
        response = await staff.QueryStaffMembers(request, metadata=auth(tenant, READ))
        found += response.staff_members
        if not response.paging_metadata.has_next:
            return found
        cursor = response.paging_metadata.cursors.next


async def appointment_service(catalog: services_pb2_grpc.ServicesStub, tenant: str, **fields: Any) -> services_pb2.Service:
    values: dict[str, Any] = {
        "type": services_pb2.APPOINTMENT,
        "name": "Haircut",
        "time_zone": "Europe/Vienna",
        "online_booking_enabled": True,
        "appointment": services_pb2.AppointmentSettings(duration_minutes=30, buffer_after_minutes=10),
    }
    values.update(fields)
    request = services_pb2.CreateServiceRequest(service=services_pb2.Service(**values))
    return (await catalog.CreateService(request, metadata=auth(tenant, WRITE))).service


async def get_service(catalog: services_pb2_grpc.ServicesStub, tenant: str, service_id: str) -> services_pb2.Service:
    return (await catalog.GetService(services_pb2.GetServiceRequest(service_id=service_id), metadata=auth(tenant, READ))).service


def unknown_id() -> str:
    return str(uuid.uuid4())


# --- CreateStaffMember -----------------------------------------------------------------------------


async def test_a_new_staff_member_has_every_field_and_a_schedule_in_its_time_zone(
    staff: staff_grpc.StaffMembersStub, channel: Callable[[str], grpc.aio.Channel], tenant: str
) -> None:
    created = await create(staff, tenant, time_zone="America/New_York")

    assert uuid.UUID(created.id)
    assert (created.name, created.email, created.time_zone) == ("Ada Lovelace", "ada@example.com", "America/New_York")
    assert created.revision == 1 and list(created.service_ids) == []
    assert created.created_date.seconds > 0 and created.updated_date == created.created_date
    assert await get(staff, tenant, created.id) == created

    schedules = schedules_pb2_grpc.SchedulesStub(channel("timeframes"))
    schedule = (await schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=created.schedule_id), metadata=auth(tenant))).schedule
    assert (schedule.external_id, schedule.time_zone, schedule.name) == (created.id, "America/New_York", "Ada Lovelace")


async def test_the_email_is_optional_and_output_only_fields_are_ignored(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    chosen = unknown_id()
    created = await create(staff, tenant, email="", id=chosen, schedule_id="mine", revision=7)
    assert created.email == ""
    assert created.id != chosen and created.schedule_id != "mine" and created.revision == 1


INVALID_CREATES = [
    pytest.param({"name": ""}, "staff_member.name", id="name-is-required"),
    pytest.param({"name": "   "}, "staff_member.name", id="name-must-not-be-blank"),
    pytest.param({"name": "n" * 201}, "staff_member.name", id="name-at-most-200-characters"),
    pytest.param({"email": "not an address"}, "staff_member.email", id="email-must-be-an-address"),
    pytest.param({"email": "a" * 310 + "@example.com"}, "staff_member.email", id="email-at-most-320-characters"),
    pytest.param({"time_zone": ""}, "staff_member.time_zone", id="time-zone-is-required"),
    pytest.param({"time_zone": "Europe/Gotham"}, "staff_member.time_zone", id="time-zone-must-be-iana"),
    pytest.param({"service_ids": ["not-a-uuid"]}, "staff_member.service_ids[0]", id="service-ids-are-uuids"),
    pytest.param({"service_ids": [str(uuid.UUID(int=1))] * 2}, "staff_member.service_ids", id="service-ids-do-not-repeat"),
    pytest.param({"service_ids": [str(uuid.UUID(int=i)) for i in range(101)]}, "staff_member.service_ids", id="at-most-100-services"),
    pytest.param({"service_ids": [str(uuid.UUID(int=1))]}, "staff_member.service_ids[0]", id="an-unknown-service"),
]


@pytest.mark.parametrize("fields, field", INVALID_CREATES)
async def test_an_invalid_create_names_the_field_and_leaves_nothing_behind(
    staff: staff_grpc.StaffMembersStub, platform: Platform, tenant: str, fields: dict[str, Any], field: str
) -> None:
    request = staff_pb2.CreateStaffMemberRequest(staff_member=member(**fields))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.CreateStaffMember(request, metadata=auth(tenant, WRITE)))
    assert field in field_violations(err), field_violations(err)
    assert await query_all(staff, tenant) == []
    assert await schedule_count(platform, tenant) == 0


async def test_every_bad_field_is_reported_at_once(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    sent = staff_pb2.StaffMember(name=" ", email="@", time_zone="Mars/Base", service_ids=["x", unknown_id()])
    request = staff_pb2.CreateStaffMemberRequest(staff_member=sent)
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.CreateStaffMember(request, metadata=auth(tenant, WRITE)))
    expected = {"staff_member.name", "staff_member.email", "staff_member.time_zone", "staff_member.service_ids[0]", "staff_member.service_ids[1]"}
    assert set(field_violations(err)) == expected  # an unknown service is named with the other bad fields


async def test_only_live_appointment_services_of_the_tenant_can_be_offered(
    staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, platform: Platform, tenant: str, other_tenant: str
) -> None:
    mine = await appointment_service(catalog, tenant)
    theirs = await appointment_service(catalog, other_tenant)
    course = services_pb2.Service(type=services_pb2.COURSE, name="Course", default_capacity=5, time_zone="UTC")
    course = (await catalog.CreateService(services_pb2.CreateServiceRequest(service=course), metadata=auth(tenant, WRITE))).service
    gone = await appointment_service(catalog, tenant, name="Gone")
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=gone.id), metadata=auth(tenant, WRITE))
    schedules_before = await schedule_count(platform, tenant)

    request = staff_pb2.CreateStaffMemberRequest(staff_member=member(service_ids=[mine.id, theirs.id, course.id, gone.id]))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.CreateStaffMember(request, metadata=auth(tenant, WRITE)))
    violations = field_violations(err)
    assert set(violations) == {"staff_member.service_ids[1]", "staff_member.service_ids[2]", "staff_member.service_ids[3]"}
    assert "is not an APPOINTMENT service of this tenant" in violations["staff_member.service_ids[1]"]
    assert await query_all(staff, tenant) == []
    assert await schedule_count(platform, tenant) == schedules_before  # no schedule for a refused staff member
    assert list((await get_service(catalog, tenant, mine.id)).staff_member_ids) == []


# --- Get, Update, Delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("staff_member_id", ["", "42", str(uuid.uuid4()).upper()], ids=["missing", "not-a-uuid", "not-canonical"])
async def test_a_malformed_id_is_invalid(staff: staff_grpc.StaffMembersStub, tenant: str, staff_member_id: str) -> None:
    get_call = staff.GetStaffMember(staff_pb2.GetStaffMemberRequest(staff_member_id=staff_member_id), metadata=auth(tenant, READ))
    assert "staff_member_id" in field_violations(await expect_error(grpc.StatusCode.INVALID_ARGUMENT, get_call))
    delete_call = staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=staff_member_id), metadata=auth(tenant, WRITE))
    assert "staff_member_id" in field_violations(await expect_error(grpc.StatusCode.INVALID_ARGUMENT, delete_call))


async def test_an_unknown_or_another_tenants_staff_member_is_not_found(staff: staff_grpc.StaffMembersStub, tenant: str, other_tenant: str) -> None:
    theirs = await create(staff, other_tenant)
    for staff_member_id in (unknown_id(), theirs.id):
        await expect_error(
            grpc.StatusCode.NOT_FOUND, staff.GetStaffMember(staff_pb2.GetStaffMemberRequest(staff_member_id=staff_member_id), metadata=auth(tenant, READ))
        )
        stolen = staff_pb2.StaffMember(id=staff_member_id, revision=1, name="Mine now")
        request = staff_pb2.UpdateStaffMemberRequest(staff_member=stolen, mask=field_mask_pb2.FieldMask(paths=["name"]))
        await expect_error(grpc.StatusCode.NOT_FOUND, staff.UpdateStaffMember(request, metadata=auth(tenant, WRITE)))
        delete = staff_pb2.DeleteStaffMemberRequest(staff_member_id=staff_member_id)
        await expect_error(grpc.StatusCode.NOT_FOUND, staff.DeleteStaffMember(delete, metadata=auth(tenant, WRITE)))
    assert await get(staff, other_tenant, theirs.id) == theirs


async def test_an_update_changes_the_masked_fields_and_bumps_the_revision(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    updated = await update(staff, tenant, created, ["name", "email", "time_zone"], name="Ada King", email="", time_zone="Asia/Tokyo")
    assert (updated.name, updated.email, updated.time_zone, updated.revision) == ("Ada King", "", "Asia/Tokyo", 2)
    assert (updated.id, updated.schedule_id, updated.created_date) == (created.id, created.schedule_id, created.created_date)
    assert updated.updated_date.ToDatetime() > created.updated_date.ToDatetime()
    assert await get(staff, tenant, created.id) == updated

    ignored = await update(staff, tenant, updated, ["name"], name="Countess", time_zone="UTC", email="x@example.com")
    assert (ignored.name, ignored.time_zone, ignored.email) == ("Countess", "Asia/Tokyo", "")


async def test_an_update_that_changes_nothing_keeps_the_revision(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    assert await update(staff, tenant, created, ["name", "service_ids"], name=created.name) == created


async def test_a_stale_revision_is_aborted_and_changes_nothing(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    updated = await update(staff, tenant, created, ["name"], name="Second")
    err = await expect_error(grpc.StatusCode.ABORTED, staff.UpdateStaffMember(update_request(created, ["name"], name="Third"), metadata=auth(tenant, WRITE)))
    assert error_reason(err) == "REVISION_MISMATCH"
    stale_delete = staff_pb2.DeleteStaffMemberRequest(staff_member_id=created.id, revision=created.revision)
    await expect_error(grpc.StatusCode.ABORTED, staff.DeleteStaffMember(stale_delete, metadata=auth(tenant, WRITE)))
    assert await get(staff, tenant, created.id) == updated


@pytest.mark.parametrize(
    "paths, field",
    [
        pytest.param([], "mask", id="mask-is-required"),
        pytest.param(["schedule_id"], "mask.paths[0]", id="schedule-id-is-output-only"),
        pytest.param(["name", "revision"], "mask.paths[1]", id="revision-is-output-only"),
        pytest.param(["colour"], "mask.paths[0]", id="unknown-path"),
    ],
)
async def test_a_bad_mask_is_named(staff: staff_grpc.StaffMembersStub, tenant: str, paths: list[str], field: str) -> None:
    created = await create(staff, tenant)
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.UpdateStaffMember(update_request(created, paths, name="x"), metadata=auth(tenant, WRITE)))
    assert field in field_violations(err)


async def test_an_update_to_a_bad_value_names_the_field(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    request = update_request(created, ["time_zone", "service_ids"], time_zone="Nowhere/Land", service_ids=[unknown_id(), "x"])
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.UpdateStaffMember(request, metadata=auth(tenant, WRITE)))
    assert set(field_violations(err)) == {"staff_member.time_zone", "staff_member.service_ids[0]", "staff_member.service_ids[1]"}
    request = update_request(created, ["service_ids"], service_ids=[unknown_id()])
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.UpdateStaffMember(request, metadata=auth(tenant, WRITE)))
    assert set(field_violations(err)) == {"staff_member.service_ids[0]"}
    assert await get(staff, tenant, created.id) == created


async def test_a_deleted_staff_member_is_gone_but_its_schedule_stays(
    staff: staff_grpc.StaffMembersStub, channel: Callable[[str], grpc.aio.Channel], tenant: str
) -> None:
    kept = await create(staff, tenant, name="Kept")
    deleted = await create(staff, tenant, name="Leaving")
    # No appointment of theirs is PENDING or CONFIRMED ahead (nothing books appointments yet), so
    # the delete is allowed; revision 0 deletes at any revision.
    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=deleted.id), metadata=auth(tenant, WRITE))

    get_call = staff.GetStaffMember(staff_pb2.GetStaffMemberRequest(staff_member_id=deleted.id), metadata=auth(tenant, READ))
    await expect_error(grpc.StatusCode.NOT_FOUND, get_call)
    assert [m.id for m in await query_all(staff, tenant)] == [kept.id]
    assert await query_all(staff, tenant, staff_member_ids=[deleted.id]) == []
    again = staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=deleted.id), metadata=auth(tenant, WRITE))
    await expect_error(grpc.StatusCode.NOT_FOUND, again)
    schedules = schedules_pb2_grpc.SchedulesStub(channel("timeframes"))
    await schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=deleted.schedule_id), metadata=auth(tenant))


async def test_a_delete_at_the_current_revision_succeeds(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=created.id, revision=1), metadata=auth(tenant, WRITE))
    assert await query_all(staff, tenant) == []


# --- the relation to services, written from either side -------------------------------------------------


async def test_services_set_on_the_staff_member_appear_on_the_services_with_a_new_revision(
    staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, tenant: str
) -> None:
    cut, colour = await appointment_service(catalog, tenant, name="Cut"), await appointment_service(catalog, tenant, name="Colour")
    ada = await create(staff, tenant, service_ids=[colour.id, cut.id])
    assert list(ada.service_ids) == sorted([cut.id, colour.id])
    for service in (cut, colour):
        now = await get_service(catalog, tenant, service.id)
        assert (list(now.staff_member_ids), now.revision) == ([ada.id], service.revision + 1)

    # Replacing the list: `cut` loses Ada and gets a new revision; `colour` keeps her and its revision.
    ada = await update(staff, tenant, ada, ["service_ids"], service_ids=[colour.id])
    assert (list(ada.service_ids), ada.revision) == ([colour.id], 2)
    cut_now, colour_now = await get_service(catalog, tenant, cut.id), await get_service(catalog, tenant, colour.id)
    assert (list(cut_now.staff_member_ids), cut_now.revision) == ([], cut.revision + 2)
    assert (list(colour_now.staff_member_ids), colour_now.revision) == ([ada.id], colour.revision + 1)
    assert [m.id for m in await query_all(staff, tenant, service_ids=[colour.id])] == [ada.id]
    assert await query_all(staff, tenant, service_ids=[cut.id]) == []


async def test_staff_set_on_the_service_appear_on_the_staff_members_with_a_new_revision(
    staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, tenant: str
) -> None:
    ada, grace = await create(staff, tenant, name="Ada"), await create(staff, tenant, name="Grace")
    service = await appointment_service(catalog, tenant, staff_member_ids=[grace.id, ada.id])
    assert list(service.staff_member_ids) == sorted([ada.id, grace.id])
    assert await get_service(catalog, tenant, service.id) == service
    for one in (ada, grace):
        now = await get(staff, tenant, one.id)
        assert (list(now.service_ids), now.revision) == ([service.id], 2)

    patch = services_pb2.Service(id=service.id, revision=service.revision, staff_member_ids=[ada.id])
    request = services_pb2.UpdateServiceRequest(service=patch, mask=field_mask_pb2.FieldMask(paths=["staff_member_ids"]))
    updated = (await catalog.UpdateService(request, metadata=auth(tenant, WRITE))).service
    assert (list(updated.staff_member_ids), updated.revision) == ([ada.id], service.revision + 1)
    ada_now, grace_now = await get(staff, tenant, ada.id), await get(staff, tenant, grace.id)
    assert (list(ada_now.service_ids), ada_now.revision) == ([service.id], 2)
    assert (list(grace_now.service_ids), grace_now.revision) == ([], 3)


async def test_deleting_either_side_removes_its_links(staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    cut, colour = await appointment_service(catalog, tenant, name="Cut"), await appointment_service(catalog, tenant, name="Colour")
    ada = await create(staff, tenant, name="Ada", service_ids=[cut.id, colour.id])
    grace = await create(staff, tenant, name="Grace", service_ids=[cut.id])

    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=ada.id), metadata=auth(tenant, WRITE))
    cut_now, colour_now = await get_service(catalog, tenant, cut.id), await get_service(catalog, tenant, colour.id)
    assert list(cut_now.staff_member_ids) == [grace.id] and list(colour_now.staff_member_ids) == []
    assert colour_now.revision == colour.revision + 2  # Ada came, then went

    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=cut.id), metadata=auth(tenant, WRITE))
    grace_now = await get(staff, tenant, grace.id)
    assert (list(grace_now.service_ids), grace_now.revision) == ([], grace.revision + 1)


async def test_a_service_names_only_live_staff_members_of_the_tenant(
    staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str
) -> None:
    mine = await create(staff, tenant)
    theirs = await create(staff, other_tenant)
    gone = await create(staff, tenant, name="Gone")
    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=gone.id), metadata=auth(tenant, WRITE))

    values = {
        "type": services_pb2.APPOINTMENT,
        "name": "Haircut",
        "time_zone": "UTC",
        "appointment": services_pb2.AppointmentSettings(duration_minutes=30),
        "staff_member_ids": [mine.id, theirs.id, unknown_id(), gone.id],
    }
    request = services_pb2.CreateServiceRequest(service=services_pb2.Service(**values))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.CreateService(request, metadata=auth(tenant, WRITE)))
    assert set(field_violations(err)) == {"service.staff_member_ids[1]", "service.staff_member_ids[2]", "service.staff_member_ids[3]"}
    assert (await get(staff, tenant, mine.id)).revision == 1
    assert (await get(staff, other_tenant, theirs.id)).revision == 1


# --- QueryStaffMembers -----------------------------------------------------------------------------


async def test_paging_returns_each_staff_member_once_in_creation_order(staff: staff_grpc.StaffMembersStub, tenant: str, other_tenant: str) -> None:
    created = [await create(staff, tenant, name=f"member {i}") for i in range(5)]
    await create(staff, other_tenant)
    seen, sizes, cursor = [], [], ""
    while True:
        request = staff_pb2.QueryStaffMembersRequest(cursor_paging=paging_pb2.CursorPaging(limit=2, cursor=cursor))
        response = await staff.QueryStaffMembers(request, metadata=auth(tenant, READ))
        seen += [m.id for m in response.staff_members]
        sizes.append(response.paging_metadata.count)
        if not response.paging_metadata.has_next:
            break
        cursor = response.paging_metadata.cursors.next
    assert sizes == [2, 2, 1]
    assert seen == [m.id for m in created]
    assert [m.id for m in await query_all(staff, tenant, staff_member_ids=[created[3].id, created[1].id])] == [created[1].id, created[3].id]


async def test_a_cursor_is_bound_to_its_tenant_and_filters(staff: staff_grpc.StaffMembersStub, tenant: str, other_tenant: str) -> None:
    for i in range(2):
        await create(staff, tenant, name=f"member {i}")
    request = staff_pb2.QueryStaffMembersRequest(cursor_paging=paging_pb2.CursorPaging(limit=1))
    cursor = (await staff.QueryStaffMembers(request, metadata=auth(tenant, READ))).paging_metadata.cursors.next
    assert cursor
    for md, filters in ((auth(other_tenant, READ), {}), (auth(tenant, READ), {"service_ids": [unknown_id()]})):
        replayed = staff_pb2.QueryStaffMembersRequest(cursor_paging=paging_pb2.CursorPaging(limit=1, cursor=cursor), **filters)
        err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.QueryStaffMembers(replayed, metadata=md))
        assert "cursor_paging.cursor" in field_violations(err)


async def test_query_filters_are_validated_together(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    request = staff_pb2.QueryStaffMembersRequest(
        staff_member_ids=["nope"], service_ids=[str(uuid.UUID(int=i)) for i in range(101)], cursor_paging=paging_pb2.CursorPaging(limit=1001)
    )
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, staff.QueryStaffMembers(request, metadata=auth(tenant, READ)))
    assert set(field_violations(err)) == {"staff_member_ids[0]", "service_ids", "cursor_paging.limit"}


# --- scopes ----------------------------------------------------------------------------------------


async def test_staff_members_use_the_catalog_scopes(staff: staff_grpc.StaffMembersStub, tenant: str) -> None:
    created = await create(staff, tenant)
    read = staff_pb2.GetStaffMemberRequest(staff_member_id=created.id)
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, staff.GetStaffMember(read, metadata=auth(tenant, "calendar:read")))
    write = staff_pb2.CreateStaffMemberRequest(staff_member=member())
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, staff.CreateStaffMember(write, metadata=auth(tenant, READ)))
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, staff.GetStaffMember(read))
    assert (await staff.GetStaffMember(read, metadata=auth(tenant, READ))).staff_member == created


# --- events ----------------------------------------------------------------------------------------


def ce_types(records: list[ConsumerRecord[Any, Any]]) -> list[str]:
    return [headers(r)["ce_type"] for r in records]


async def test_every_change_publishes_the_whole_staff_member_in_order(staff: staff_grpc.StaffMembersStub, tenant: str, bootstrap: str) -> None:
    created = await create(staff, tenant)
    updated = await update(staff, tenant, created, ["name"], name="Ada King")
    with pytest.raises(grpc.aio.AioRpcError):  # stale: rolled back with its message
        await update(staff, tenant, created, ["name"], name="Never")
    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=created.id), metadata=auth(tenant, WRITE))

    async with TopicReader(bootstrap, topics.STAFF_EVENTS.name, of_tenant(tenant)) as reader:
        await reader.until(lambda records: len(records) >= 3)
        messages = await reader.drain()

    assert ce_types(messages) == ["bookings.staff_member.created.v1", "bookings.staff_member.updated.v1", "bookings.staff_member.deleted.v1"]
    assert {m.key for m in messages} == {created.id.encode()} and len({m.partition for m in messages}) == 1
    assert {headers(m)["ce_subject"] for m in messages} == {created.id}
    assert staff_events_pb2.StaffMemberCreated.FromString(messages[0].value).staff_member == created
    assert staff_events_pb2.StaffMemberUpdated.FromString(messages[1].value).staff_member == updated
    deleted = staff_events_pb2.StaffMemberDeleted.FromString(messages[2].value).staff_member
    assert (deleted.id, deleted.revision) == (created.id, updated.revision + 1)


async def test_a_change_of_the_relation_announces_the_other_side(
    staff: staff_grpc.StaffMembersStub, catalog: services_pb2_grpc.ServicesStub, tenant: str, bootstrap: str
) -> None:
    ada = await create(staff, tenant)
    service = await appointment_service(catalog, tenant, staff_member_ids=[ada.id])
    ada_now = await get(staff, tenant, ada.id)
    await staff.DeleteStaffMember(staff_pb2.DeleteStaffMemberRequest(staff_member_id=ada.id), metadata=auth(tenant, WRITE))
    service_now = await get_service(catalog, tenant, service.id)

    async with TopicReader(bootstrap, topics.STAFF_EVENTS.name, of_tenant(tenant)) as reader:
        staff_messages = await reader.until(lambda records: len(records) >= 3)
    assert ce_types(staff_messages) == ["bookings.staff_member.created.v1", "bookings.staff_member.updated.v1", "bookings.staff_member.deleted.v1"]
    assert staff_events_pb2.StaffMemberUpdated.FromString(staff_messages[1].value).staff_member == ada_now

    async with TopicReader(bootstrap, topics.SERVICE_EVENTS.name, of_tenant(tenant)) as reader:
        service_messages = await reader.until(lambda records: len(records) >= 2)
    assert ce_types(service_messages) == ["catalog.service.created.v1", "catalog.service.updated.v1"]
    assert service_events_pb2.ServiceCreated.FromString(service_messages[0].value).service == service
    assert service_events_pb2.ServiceUpdated.FromString(service_messages[1].value).service == service_now
    assert list(service_now.staff_member_ids) == []
