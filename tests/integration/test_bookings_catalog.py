"""bookings.catalog.v1.Services over real gRPC against the running platform: every RPC's happy
path, field validation, not found, tenant isolation, authentication and scopes, that a rejected
write changes nothing, optimistic concurrency and cursor paging."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.common.v1 import paging_pb2
from tests.support import auth, error_reason, expect_error, expired_auth, field_violations

pytestmark = pytest.mark.integration

READ, WRITE = "catalog:read", "catalog:write"
EARLY = "service.booking_policy.limit_early_booking.earliest_booking_in_minutes"
LATE = "service.booking_policy.limit_late_booking.latest_booking_in_minutes"
CANCEL = "service.booking_policy.cancellation_policy.latest_cancellation_in_minutes"
MAX_PARTY = "service.booking_policy.participants_policy.max_participants_per_booking"
SETTINGS = "service.appointment"


def settings(**fields: int) -> services_pb2.AppointmentSettings:
    """Valid appointment settings unless fields say otherwise."""
    return services_pb2.AppointmentSettings(**{"duration_minutes": 30, **fields})


# An APPOINTMENT with the settings it requires.
APPOINTMENT: dict[str, Any] = {"type": services_pb2.APPOINTMENT, "appointment": settings()}


# --- helpers ---------------------------------------------------------------------------------------


def service(**fields: Any) -> services_pb2.Service:
    """A valid COURSE unless fields say otherwise."""
    values: dict[str, Any] = {
        "type": services_pb2.COURSE,
        "name": "Pottery for beginners",
        "default_capacity": 12,
        "time_zone": "Europe/Vienna",
        "online_booking_enabled": True,
    }
    values.update(fields)
    return services_pb2.Service(**values)


def policy(
    early: tuple[bool, int] | None = None,
    late: tuple[bool, int] | None = None,
    after_start: bool | None = None,
    max_party: int | None = None,
    cancel: tuple[bool, int] | None = None,
) -> policy_pb2.BookingPolicy:
    msg = policy_pb2.BookingPolicy()
    if early is not None:
        msg.limit_early_booking.CopyFrom(policy_pb2.LimitEarlyBookingPolicy(enabled=early[0], earliest_booking_in_minutes=early[1]))
    if late is not None:
        msg.limit_late_booking.CopyFrom(policy_pb2.LimitLateBookingPolicy(enabled=late[0], latest_booking_in_minutes=late[1]))
    if after_start is not None:
        msg.book_after_start_policy.CopyFrom(policy_pb2.BookAfterStartPolicy(enabled=after_start))
    if max_party is not None:
        msg.participants_policy.CopyFrom(policy_pb2.ParticipantsPolicy(max_participants_per_booking=max_party))
    if cancel is not None:
        msg.cancellation_policy.CopyFrom(policy_pb2.CancellationPolicy(enabled=cancel[0], latest_cancellation_in_minutes=cancel[1]))
    return msg


@pytest.fixture
def catalog(channel: Callable[[str], grpc.aio.Channel]) -> services_pb2_grpc.ServicesStub:
    return services_pb2_grpc.ServicesStub(channel("bookings"))


async def create(catalog: services_pb2_grpc.ServicesStub, tenant: str, **fields: Any) -> services_pb2.Service:
    response = await catalog.CreateService(services_pb2.CreateServiceRequest(service=service(**fields)), metadata=auth(tenant, WRITE))
    return response.service


async def get(catalog: services_pb2_grpc.ServicesStub, tenant: str, service_id: str) -> services_pb2.Service:
    return (await catalog.GetService(services_pb2.GetServiceRequest(service_id=service_id), metadata=auth(tenant, READ))).service


async def query_all(catalog: services_pb2_grpc.ServicesStub, tenant: str, **filters: Any) -> list[services_pb2.Service]:
    found: list[services_pb2.Service] = []
    cursor = ""
    while True:
        request = services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=1000, cursor=cursor), **filters)
        response = await catalog.QueryServices(request, metadata=auth(tenant, READ))
        found += response.services
        if not response.paging_metadata.has_next:
            return found
        cursor = response.paging_metadata.cursors.next


def update_request(current: services_pb2.Service, paths: list[str], **fields: Any) -> services_pb2.UpdateServiceRequest:
    patch = services_pb2.Service(id=current.id, revision=current.revision, **fields)
    return services_pb2.UpdateServiceRequest(service=patch, mask=field_mask_pb2.FieldMask(paths=paths))


def unknown_id() -> str:
    return str(uuid.uuid4())


# --- CreateService ---------------------------------------------------------------------------------


async def test_create_service_stores_every_field_at_revision_1(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    booking_policy = policy(early=(True, 10_080), late=(True, 60), after_start=True, max_party=3, cancel=(True, 1_440))
    created = await create(catalog, tenant, booking_policy=booking_policy, requires_manual_approval=True)

    assert uuid.UUID(created.id)
    assert created.type == services_pb2.COURSE
    assert (created.name, created.default_capacity, created.time_zone) == ("Pottery for beginners", 12, "Europe/Vienna")
    assert created.online_booking_enabled and created.requires_manual_approval
    assert created.booking_policy == booking_policy
    assert created.revision == 1
    assert created.schedule_id, "a COURSE gets its schedule on create"
    assert created.created_date.seconds > 0 and created.updated_date == created.created_date
    assert await get(catalog, tenant, created.id) == created


async def test_create_service_ignores_output_only_fields(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    chosen_id = unknown_id()
    created = await create(catalog, tenant, id=chosen_id, schedule_id="my-schedule", revision=42, **APPOINTMENT)
    assert created.id != chosen_id
    assert created.schedule_id == ""
    assert created.revision == 1
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.GetService(services_pb2.GetServiceRequest(service_id=chosen_id), metadata=auth(tenant, READ)))


async def test_an_appointment_has_no_schedule_and_needs_no_capacity(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant, **APPOINTMENT, default_capacity=0)
    assert created.schedule_id == ""
    assert created.default_capacity == 0


async def test_a_service_created_without_a_policy_gets_the_default_policy(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    assert created.booking_policy == policy(early=(False, 0), late=(False, 0), after_start=False, max_party=1, cancel=(False, 0))


async def test_a_party_size_of_zero_is_stored_as_the_default_of_one(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant, booking_policy=policy(max_party=0))
    assert created.booking_policy.participants_policy.max_participants_per_booking == 1


INVALID_CREATES = [
    pytest.param({"type": services_pb2.SERVICE_TYPE_UNSPECIFIED}, "service.type", id="type-is-required"),
    pytest.param({"type": 17}, "service.type", id="type-must-be-known"),
    pytest.param({"name": ""}, "service.name", id="name-is-required"),
    pytest.param({"name": "    "}, "service.name", id="name-must-not-be-blank"),
    pytest.param({"name": "n" * 201}, "service.name", id="name-at-most-200-characters"),
    pytest.param({"default_capacity": 0}, "service.default_capacity", id="course-capacity-is-required"),
    pytest.param({"type": services_pb2.CLASS, "default_capacity": 0}, "service.default_capacity", id="class-capacity-is-required"),
    pytest.param({"default_capacity": 10_001}, "service.default_capacity", id="capacity-at-most-10000"),
    pytest.param({"default_capacity": -1}, "service.default_capacity", id="capacity-not-negative"),
    pytest.param({"time_zone": ""}, "service.time_zone", id="time-zone-is-required"),
    pytest.param({"time_zone": "Europe/Gotham"}, "service.time_zone", id="time-zone-must-be-iana"),
    pytest.param({"booking_policy": policy(early=(True, -1))}, EARLY, id="earliest-minutes-not-negative"),
    pytest.param({"booking_policy": policy(early=(True, 525_601))}, EARLY, id="earliest-minutes-at-most-a-year"),
    pytest.param({"booking_policy": policy(late=(True, -1))}, LATE, id="latest-minutes-not-negative"),
    pytest.param({"booking_policy": policy(late=(True, 525_601))}, LATE, id="latest-minutes-at-most-a-year"),
    pytest.param({"booking_policy": policy(cancel=(True, -1))}, CANCEL, id="cancellation-minutes-not-negative"),
    pytest.param({"booking_policy": policy(cancel=(True, 525_601))}, CANCEL, id="cancellation-minutes-at-most-a-year"),
    pytest.param({"booking_policy": policy(early=(True, 60), late=(True, 120))}, EARLY, id="early-limit-above-late-limit"),
    pytest.param({"booking_policy": policy(early=(True, 60), late=(True, 60))}, EARLY, id="early-limit-equal-to-late-limit-never-opens"),
    pytest.param({"booking_policy": policy(max_party=-1)}, MAX_PARTY, id="party-size-not-negative"),
    pytest.param({"booking_policy": policy(max_party=1_001), "default_capacity": 5_000}, MAX_PARTY, id="party-size-at-most-1000"),
    pytest.param({"booking_policy": policy(max_party=13)}, MAX_PARTY, id="party-size-not-above-capacity"),
    pytest.param({"type": services_pb2.APPOINTMENT}, "service.appointment", id="an-appointment-needs-its-settings"),
    pytest.param({**APPOINTMENT, "appointment": settings(duration_minutes=4)}, f"{SETTINGS}.duration_minutes", id="duration-at-least-5"),
    pytest.param({**APPOINTMENT, "appointment": settings(duration_minutes=1441)}, f"{SETTINGS}.duration_minutes", id="duration-at-most-a-day"),
    pytest.param({**APPOINTMENT, "appointment": settings(buffer_before_minutes=-1)}, f"{SETTINGS}.buffer_before_minutes", id="buffer-before-not-negative"),
    pytest.param({**APPOINTMENT, "appointment": settings(buffer_after_minutes=1441)}, f"{SETTINGS}.buffer_after_minutes", id="buffer-after-at-most-a-day"),
    pytest.param({**APPOINTMENT, "appointment": settings(slot_interval_minutes=4)}, f"{SETTINGS}.slot_interval_minutes", id="interval-0-or-at-least-5"),
    pytest.param({**APPOINTMENT, "appointment": settings(slot_interval_minutes=1441)}, f"{SETTINGS}.slot_interval_minutes", id="interval-at-most-a-day"),
    pytest.param({**APPOINTMENT, "staff_member_ids": ["x"]}, "service.staff_member_ids[0]", id="staff-ids-are-uuids"),
    pytest.param({**APPOINTMENT, "staff_member_ids": [str(uuid.UUID(int=1))]}, "service.staff_member_ids[0]", id="staff-must-exist"),
    pytest.param({"appointment": settings()}, "service.appointment", id="a-course-has-no-appointment-settings"),
    pytest.param({"staff_member_ids": [str(uuid.UUID(int=1))]}, "service.staff_member_ids", id="a-course-has-no-staff"),
]


@pytest.mark.parametrize("fields, field", INVALID_CREATES)
async def test_an_invalid_create_names_the_field_and_stores_nothing(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, fields: dict[str, Any], field: str
) -> None:
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        catalog.CreateService(services_pb2.CreateServiceRequest(service=service(**fields)), metadata=auth(tenant, WRITE)),
    )
    assert field in field_violations(err), field_violations(err)
    assert await query_all(catalog, tenant) == []


async def test_an_invalid_create_reports_every_bad_field_at_once(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    request = services_pb2.CreateServiceRequest(service=services_pb2.Service(name=" ", booking_policy=policy(early=(True, -1))))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.CreateService(request, metadata=auth(tenant, WRITE)))
    assert {"service.type", "service.name", "service.time_zone", EARLY} <= set(field_violations(err))


async def test_appointment_settings_are_stored_and_replaced_through_the_mask(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    cut = settings(duration_minutes=45, buffer_before_minutes=5, buffer_after_minutes=15, slot_interval_minutes=15)
    created = await create(catalog, tenant, type=services_pb2.APPOINTMENT, appointment=cut)
    assert created.appointment == cut and list(created.staff_member_ids) == []
    assert (await get(catalog, tenant, created.id)).appointment == cut

    request = update_request(created, ["appointment"], appointment=settings(duration_minutes=90))
    updated = (await catalog.UpdateService(request, metadata=auth(tenant, WRITE))).service
    assert updated.appointment == settings(duration_minutes=90) and updated.revision == 2
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.UpdateService(update_request(updated, ["appointment"]), metadata=auth(tenant, WRITE)))
    assert list(field_violations(err)) == ["service.appointment"]  # required for an APPOINTMENT: it cannot be cleared


async def test_a_course_carries_no_appointment_settings(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    assert not created.HasField("appointment") and list(created.staff_member_ids) == []
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, catalog.UpdateService(update_request(created, ["appointment"], appointment=settings()), metadata=auth(tenant, WRITE))
    )
    assert list(field_violations(err)) == ["service.appointment"]


# --- GetService ------------------------------------------------------------------------------------


@pytest.mark.parametrize("service_id", ["", "42", "3f1c2a9e5b7d4e8f9a0b1c2d3e4f5a6bzz"], ids=["missing-id", "not-a-uuid", "garbage"])
async def test_get_service_with_a_malformed_id_is_invalid(catalog: services_pb2_grpc.ServicesStub, tenant: str, service_id: str) -> None:
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, catalog.GetService(services_pb2.GetServiceRequest(service_id=service_id), metadata=auth(tenant, READ))
    )
    assert "service_id" in field_violations(err)


async def test_get_service_of_an_unknown_id_is_not_found(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.GetService(services_pb2.GetServiceRequest(service_id=unknown_id()), metadata=auth(tenant, READ)))


async def test_another_tenants_service_is_not_found(catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.GetService(services_pb2.GetServiceRequest(service_id=created.id), metadata=auth(other_tenant, READ)))


# --- UpdateService ---------------------------------------------------------------------------------


async def test_update_service_changes_the_masked_fields_and_bumps_the_revision(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant, booking_policy=policy(early=(True, 1_440)))
    new_policy = policy(late=(True, 30), max_party=2)
    request = update_request(
        created,
        ["name", "booking_policy", "online_booking_enabled", "default_capacity", "time_zone", "requires_manual_approval"],
        name="Wheel throwing",
        booking_policy=new_policy,
        online_booking_enabled=False,
        default_capacity=20,
        time_zone="Asia/Tokyo",
        requires_manual_approval=True,
    )
    updated = (await catalog.UpdateService(request, metadata=auth(tenant, WRITE))).service

    assert updated.revision == 2
    assert (updated.name, updated.default_capacity, updated.time_zone) == ("Wheel throwing", 20, "Asia/Tokyo")
    assert not updated.online_booking_enabled and updated.requires_manual_approval
    assert updated.booking_policy == policy(early=(False, 0), late=(True, 30), after_start=False, max_party=2, cancel=(False, 0))
    assert (updated.id, updated.type, updated.schedule_id, updated.created_date) == (
        created.id,
        created.type,
        created.schedule_id,
        created.created_date,
    )
    assert updated.updated_date.ToDatetime() > created.updated_date.ToDatetime()
    assert await get(catalog, tenant, created.id) == updated


async def test_update_service_ignores_fields_outside_the_mask(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    request = update_request(created, ["name"], name="Renamed", time_zone="Asia/Tokyo", default_capacity=3, type=services_pb2.CLASS)
    updated = (await catalog.UpdateService(request, metadata=auth(tenant, WRITE))).service
    assert (updated.name, updated.time_zone, updated.default_capacity, updated.type) == ("Renamed", "Europe/Vienna", 12, services_pb2.COURSE)


async def test_each_change_adds_one_to_the_revision(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    current = await create(catalog, tenant)
    for name in ("one", "two", "three"):
        current = (await catalog.UpdateService(update_request(current, ["name"], name=name), metadata=auth(tenant, WRITE))).service
    assert current.revision == 4


INVALID_UPDATES = [
    pytest.param(
        lambda s: services_pb2.UpdateServiceRequest(service=services_pb2.Service(revision=s.revision, name="x"), mask=field_mask_pb2.FieldMask(paths=["name"])),
        "service.id",
        id="id-is-required",
    ),
    pytest.param(
        lambda s: services_pb2.UpdateServiceRequest(
            service=services_pb2.Service(id="nope", revision=s.revision, name="x"), mask=field_mask_pb2.FieldMask(paths=["name"])
        ),
        "service.id",
        id="id-must-be-a-uuid",
    ),
    pytest.param(
        lambda s: services_pb2.UpdateServiceRequest(service=services_pb2.Service(id=s.id, name="x"), mask=field_mask_pb2.FieldMask(paths=["name"])),
        "service.revision",
        id="revision-is-required",
    ),
    pytest.param(lambda s: update_request(s, [], name="x"), "mask", id="mask-is-required"),
    pytest.param(lambda s: update_request(s, ["type"], type=services_pb2.CLASS), "mask.paths[0]", id="type-cannot-be-changed"),
    pytest.param(lambda s: update_request(s, ["name", "color"], name="x"), "mask.paths[1]", id="unknown-path"),
    pytest.param(lambda s: update_request(s, ["schedule_id"], schedule_id="x"), "mask.paths[0]", id="schedule-id-is-output-only"),
    pytest.param(lambda s: update_request(s, ["name"], name=""), "service.name", id="name-is-required"),
    pytest.param(lambda s: update_request(s, ["name"], name="n" * 201), "service.name", id="name-at-most-200-characters"),
    pytest.param(lambda s: update_request(s, ["default_capacity"]), "service.default_capacity", id="course-capacity-cannot-be-removed"),
    pytest.param(lambda s: update_request(s, ["default_capacity"], default_capacity=10_001), "service.default_capacity", id="capacity-at-most-10000"),
    pytest.param(lambda s: update_request(s, ["default_capacity"], default_capacity=2), "service.default_capacity", id="capacity-below-the-stored-party-size"),
    pytest.param(lambda s: update_request(s, ["time_zone"]), "service.time_zone", id="time-zone-is-required"),
    pytest.param(lambda s: update_request(s, ["time_zone"], time_zone="Moon/Base"), "service.time_zone", id="time-zone-must-be-iana"),
    pytest.param(lambda s: update_request(s, ["booking_policy"], booking_policy=policy(early=(True, 525_601))), EARLY, id="earliest-minutes-at-most-a-year"),
    pytest.param(lambda s: update_request(s, ["booking_policy"], booking_policy=policy(late=(True, -1))), LATE, id="latest-minutes-not-negative"),
    pytest.param(lambda s: update_request(s, ["booking_policy"], booking_policy=policy(cancel=(True, -1))), CANCEL, id="cancellation-minutes-not-negative"),
    pytest.param(
        lambda s: update_request(s, ["booking_policy"], booking_policy=policy(early=(True, 10), late=(True, 10))),
        EARLY,
        id="a-window-that-never-opens",
    ),
    pytest.param(lambda s: update_request(s, ["booking_policy"], booking_policy=policy(max_party=13)), MAX_PARTY, id="party-size-above-the-stored-capacity"),
]


@pytest.mark.parametrize("make_request, field", INVALID_UPDATES)
async def test_an_invalid_update_names_the_field_and_changes_nothing(
    catalog: services_pb2_grpc.ServicesStub,
    tenant: str,
    make_request: Callable[[services_pb2.Service], services_pb2.UpdateServiceRequest],
    field: str,
) -> None:
    created = await create(catalog, tenant, booking_policy=policy(max_party=3))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.UpdateService(make_request(created), metadata=auth(tenant, WRITE)))
    assert field in field_violations(err), field_violations(err)
    assert await get(catalog, tenant, created.id) == created


async def test_update_of_an_unknown_service_is_not_found(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    ghost = services_pb2.Service(id=unknown_id(), revision=1)
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.UpdateService(update_request(ghost, ["name"], name="x"), metadata=auth(tenant, WRITE)))


async def test_another_tenant_cannot_update_a_service(catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.UpdateService(update_request(created, ["name"], name="Hijacked"), metadata=auth(other_tenant, WRITE)))
    assert await get(catalog, tenant, created.id) == created


async def test_an_update_at_a_stale_revision_is_aborted_and_changes_nothing(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    current = (await catalog.UpdateService(update_request(created, ["name"], name="First"), metadata=auth(tenant, WRITE))).service
    err = await expect_error(grpc.StatusCode.ABORTED, catalog.UpdateService(update_request(created, ["name"], name="Stale"), metadata=auth(tenant, WRITE)))
    assert error_reason(err) == "REVISION_MISMATCH"
    assert await get(catalog, tenant, created.id) == current


async def test_of_concurrent_updates_at_the_same_revision_exactly_one_wins(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    names = [f"writer-{i}" for i in range(8)]
    results = await asyncio.gather(
        *(catalog.UpdateService(update_request(created, ["name"], name=n), metadata=auth(tenant, WRITE)) for n in names),
        return_exceptions=True,
    )
    winners = [r.service for r in results if isinstance(r, services_pb2.UpdateServiceResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1, results
    assert len(losers) == len(names) - 1 and all(e.code() == grpc.StatusCode.ABORTED for e in losers)
    final = await get(catalog, tenant, created.id)
    assert final.revision == 2 and final.name == winners[0].name


async def test_an_update_that_changes_nothing_keeps_the_revision(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    same = (await catalog.UpdateService(update_request(created, ["name"], name=created.name), metadata=auth(tenant, WRITE))).service
    assert same == created


# --- DeleteService ---------------------------------------------------------------------------------


async def test_a_deleted_service_is_not_found_and_absent_from_queries(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    kept = await create(catalog, tenant, name="kept")
    deleted = await create(catalog, tenant, name="deleted")
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=deleted.id), metadata=auth(tenant, WRITE))

    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.GetService(services_pb2.GetServiceRequest(service_id=deleted.id), metadata=auth(tenant, READ)))
    assert [s.id for s in await query_all(catalog, tenant)] == [kept.id]
    assert await query_all(catalog, tenant, service_ids=[deleted.id]) == []


async def test_a_deleted_service_cannot_be_updated_or_deleted_again(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id), metadata=auth(tenant, WRITE))
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.UpdateService(update_request(created, ["name"], name="x"), metadata=auth(tenant, WRITE)))
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id), metadata=auth(tenant, WRITE)))


async def test_delete_at_the_current_revision_deletes(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id, revision=1), metadata=auth(tenant, WRITE))
    await expect_error(grpc.StatusCode.NOT_FOUND, catalog.GetService(services_pb2.GetServiceRequest(service_id=created.id), metadata=auth(tenant, READ)))


async def test_delete_at_a_stale_revision_is_aborted_and_keeps_the_service(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    current = (await catalog.UpdateService(update_request(created, ["name"], name="Renamed"), metadata=auth(tenant, WRITE))).service
    err = await expect_error(
        grpc.StatusCode.ABORTED,
        catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id, revision=1), metadata=auth(tenant, WRITE)),
    )
    assert error_reason(err) == "REVISION_MISMATCH"
    assert await get(catalog, tenant, created.id) == current


@pytest.mark.parametrize(
    "request_fields, field",
    [
        pytest.param({"service_id": ""}, "service_id", id="id-is-required"),
        pytest.param({"service_id": "abc"}, "service_id", id="id-must-be-a-uuid"),
        pytest.param({"service_id": "00000000-0000-4000-8000-000000000000", "revision": -1}, "revision", id="revision-not-negative"),
    ],
)
async def test_an_invalid_delete_names_the_field(catalog: services_pb2_grpc.ServicesStub, tenant: str, request_fields: dict[str, Any], field: str) -> None:
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, catalog.DeleteService(services_pb2.DeleteServiceRequest(**request_fields), metadata=auth(tenant, WRITE))
    )
    assert field in field_violations(err)


async def test_delete_of_an_unknown_service_is_not_found(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    await expect_error(
        grpc.StatusCode.NOT_FOUND, catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=unknown_id()), metadata=auth(tenant, WRITE))
    )


async def test_another_tenant_cannot_delete_a_service(catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str) -> None:
    created = await create(catalog, tenant)
    await expect_error(
        grpc.StatusCode.NOT_FOUND, catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id), metadata=auth(other_tenant, WRITE))
    )
    assert await get(catalog, tenant, created.id) == created


# --- QueryServices ---------------------------------------------------------------------------------


async def test_query_services_filters_by_ids_and_types_in_creation_order(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    course = await create(catalog, tenant, name="course")
    klass = await create(catalog, tenant, name="class", type=services_pb2.CLASS)
    appointment = await create(catalog, tenant, name="appointment", **APPOINTMENT)

    assert [s.id for s in await query_all(catalog, tenant)] == [course.id, klass.id, appointment.id]
    assert [s.id for s in await query_all(catalog, tenant, types=[services_pb2.CLASS, services_pb2.APPOINTMENT])] == [klass.id, appointment.id]
    assert [s.id for s in await query_all(catalog, tenant, service_ids=[appointment.id, course.id])] == [course.id, appointment.id]
    assert [s.id for s in await query_all(catalog, tenant, service_ids=[appointment.id, course.id], types=[services_pb2.COURSE])] == [course.id]
    assert await query_all(catalog, tenant, service_ids=[unknown_id()]) == []


async def test_query_services_sees_only_the_callers_tenant(catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str) -> None:
    mine = await create(catalog, tenant)
    await create(catalog, other_tenant)
    assert [s.id for s in await query_all(catalog, tenant)] == [mine.id]
    assert await query_all(catalog, other_tenant, service_ids=[mine.id]) == []


async def test_paging_120_services_by_50_returns_each_once_in_order(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    gate = asyncio.Semaphore(16)

    async def one(i: int) -> services_pb2.Service:
        async with gate:
            return await create(catalog, tenant, name=f"service {i:03}", **APPOINTMENT)

    created = await asyncio.gather(*(one(i) for i in range(120)))
    expected = [s.id for s in sorted(created, key=lambda s: (s.created_date.ToNanoseconds(), s.id))]

    seen: list[str] = []
    sizes: list[int] = []
    cursor = ""
    for _ in range(4):
        response = await catalog.QueryServices(
            services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=50, cursor=cursor)), metadata=auth(tenant, READ)
        )
        meta = response.paging_metadata
        sizes.append(meta.count)
        seen += [s.id for s in response.services]
        assert meta.has_next == bool(meta.cursors.next)
        if not meta.has_next:
            break
        cursor = meta.cursors.next
    assert sizes == [50, 50, 20]
    assert seen == expected


async def test_a_limit_of_zero_means_pages_of_50(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    gate = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        async with gate:
            await create(catalog, tenant, name=f"s{i}", **APPOINTMENT)

    await asyncio.gather(*(one(i) for i in range(51)))
    response = await catalog.QueryServices(services_pb2.QueryServicesRequest(), metadata=auth(tenant, READ))
    assert response.paging_metadata.count == 50 and response.paging_metadata.has_next


async def _cursor_of(catalog: services_pb2_grpc.ServicesStub, tenant: str, **filters: Any) -> str:
    for i in range(2):
        await create(catalog, tenant, name=f"s{i}", **APPOINTMENT)
    request = services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=1), **filters)
    return (await catalog.QueryServices(request, metadata=auth(tenant, READ))).paging_metadata.cursors.next


@pytest.mark.parametrize(
    "make_request, field",
    [
        pytest.param(lambda c: services_pb2.QueryServicesRequest(service_ids=["not-a-uuid"]), "service_ids[0]", id="ids-must-be-uuids"),
        pytest.param(lambda c: services_pb2.QueryServicesRequest(service_ids=[str(uuid.uuid4()) for _ in range(101)]), "service_ids", id="at-most-100-ids"),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(types=[services_pb2.COURSE, services_pb2.SERVICE_TYPE_UNSPECIFIED]),
            "types[1]",
            id="types-are-specified",
        ),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=1001)),
            "cursor_paging.limit",
            id="limit-at-most-1000",
        ),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=-1)),
            "cursor_paging.limit",
            id="limit-not-negative",
        ),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(cursor=("B" if c[0] == "A" else "A") + c[1:])),
            "cursor_paging.cursor",
            id="tampered-cursor",
        ),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(cursor="garbage")),
            "cursor_paging.cursor",
            id="made-up-cursor",
        ),
        pytest.param(
            lambda c: services_pb2.QueryServicesRequest(types=[services_pb2.CLASS], cursor_paging=paging_pb2.CursorPaging(cursor=c)),
            "cursor_paging.cursor",
            id="cursor-reused-with-other-filters",
        ),
    ],
)
async def test_an_invalid_query_names_the_field(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, make_request: Callable[[str], services_pb2.QueryServicesRequest], field: str
) -> None:
    cursor = await _cursor_of(catalog, tenant)
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.QueryServices(make_request(cursor), metadata=auth(tenant, READ)))
    assert field in field_violations(err), field_violations(err)


async def test_a_cursor_from_another_tenant_is_invalid(catalog: services_pb2_grpc.ServicesStub, tenant: str, other_tenant: str) -> None:
    cursor = await _cursor_of(catalog, tenant)
    request = services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(cursor=cursor))
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, catalog.QueryServices(request, metadata=auth(other_tenant, READ)))
    assert "cursor_paging.cursor" in field_violations(err)


# --- authentication and scopes -----------------------------------------------------------------


RPCS = [
    pytest.param("CreateService", lambda s: services_pb2.CreateServiceRequest(service=service()), WRITE, id="CreateService"),
    pytest.param("GetService", lambda s: services_pb2.GetServiceRequest(service_id=s.id), READ, id="GetService"),
    pytest.param("QueryServices", lambda s: services_pb2.QueryServicesRequest(), READ, id="QueryServices"),
    pytest.param("UpdateService", lambda s: update_request(s, ["name"], name="x"), WRITE, id="UpdateService"),
    pytest.param("DeleteService", lambda s: services_pb2.DeleteServiceRequest(service_id=s.id), WRITE, id="DeleteService"),
]
ALL_BUT = {
    READ: ("catalog:write", "calendar:read", "bookings:read", "availability:read"),
    WRITE: ("catalog:read", "calendar:write", "bookings:write"),
}


@pytest.mark.parametrize("rpc, make_request, scope", RPCS)
async def test_a_call_without_a_token_is_unauthenticated(catalog: services_pb2_grpc.ServicesStub, tenant: str, rpc: str, make_request: Any, scope: str) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, getattr(catalog, rpc)(make_request(created)))
    assert await get(catalog, tenant, created.id) == created


@pytest.mark.parametrize("rpc, make_request, scope", RPCS)
async def test_a_call_with_an_expired_token_is_unauthenticated(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, rpc: str, make_request: Any, scope: str
) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, getattr(catalog, rpc)(make_request(created), metadata=expired_auth(tenant)))
    assert await get(catalog, tenant, created.id) == created


@pytest.mark.parametrize("rpc, make_request, scope", RPCS)
async def test_a_call_without_its_scope_is_permission_denied(
    catalog: services_pb2_grpc.ServicesStub, tenant: str, rpc: str, make_request: Any, scope: str
) -> None:
    created = await create(catalog, tenant)
    err = await expect_error(grpc.StatusCode.PERMISSION_DENIED, getattr(catalog, rpc)(make_request(created), metadata=auth(tenant, *ALL_BUT[scope])))
    assert scope in (err.details() or "")
    assert [s.id for s in await query_all(catalog, tenant)] == [created.id]
    assert await get(catalog, tenant, created.id) == created


@pytest.mark.parametrize("rpc, make_request, scope", RPCS)
async def test_a_call_with_its_scope_is_allowed(catalog: services_pb2_grpc.ServicesStub, tenant: str, rpc: str, make_request: Any, scope: str) -> None:
    created = await create(catalog, tenant)
    await getattr(catalog, rpc)(make_request(created), metadata=auth(tenant, scope))


# --- what the bookings service hosts ---------------------------------------------------------------


async def test_reflection_lists_the_catalog_policy_provider_and_bookings_contracts(channel: Callable[[str], grpc.aio.Channel]) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel("bookings"))
    responses = [r async for r in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))]
    names = {s.name for s in responses[0].list_services_response.service}
    assert {"bookings.catalog.v1.Services", "bookings.policies.v1.BookingPolicyProvider", "bookings.v2.Bookings"} <= names


@pytest.mark.parametrize(
    "rpc, request_message, scope",
    [
        pytest.param("GetBooking", bookings_pb2.GetBookingRequest(), "bookings:read", id="reads"),
        pytest.param("CreateBooking", bookings_pb2.CreateBookingRequest(), "bookings:write", id="writes"),
    ],
)
async def test_the_bookings_contract_is_guarded_by_the_bookings_scopes(
    channel: Callable[[str], grpc.aio.Channel], tenant: str, rpc: str, request_message: Any, scope: str
) -> None:
    stub = bookings_pb2_grpc.BookingsStub(channel("bookings"))
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, getattr(stub, rpc)(request_message))
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, getattr(stub, rpc)(request_message, metadata=auth(tenant, "catalog:read", "catalog:write")))
    # With the scope the request reaches the RPC (tests/integration/test_bookings_v2*.py), which
    # finds this empty one invalid.
    await expect_error(grpc.StatusCode.INVALID_ARGUMENT, getattr(stub, rpc)(request_message, metadata=auth(tenant, scope)))
