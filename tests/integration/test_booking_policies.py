"""bookings.policies.v1.BookingPolicyProvider (the default provider hosted by bookings) over real
gRPC: policies of the caller's services in request order, book_online_disabled, validation,
not found, tenant isolation, authentication and scopes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as pb
from services.api.bookings.policies.v1 import booking_policy_pb2_grpc as pb_grpc
from tests.support import auth, expect_error, expired_auth, field_violations, token

pytestmark = pytest.mark.integration

READ, WRITE = "catalog:read", "catalog:write"

STRICT = pb.BookingPolicy(
    limit_early_booking=pb.LimitEarlyBookingPolicy(enabled=True, earliest_booking_in_minutes=20_160),
    limit_late_booking=pb.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=120),
    book_after_start_policy=pb.BookAfterStartPolicy(enabled=True),
    participants_policy=pb.ParticipantsPolicy(max_participants_per_booking=2),
    cancellation_policy=pb.CancellationPolicy(enabled=True, latest_cancellation_in_minutes=1_440),
)
DEFAULT = pb.BookingPolicy(
    limit_early_booking=pb.LimitEarlyBookingPolicy(),
    limit_late_booking=pb.LimitLateBookingPolicy(),
    book_after_start_policy=pb.BookAfterStartPolicy(),
    participants_policy=pb.ParticipantsPolicy(max_participants_per_booking=1),
    cancellation_policy=pb.CancellationPolicy(),
)


@pytest.fixture
def catalog(channel: Callable[[str], grpc.aio.Channel]) -> services_pb2_grpc.ServicesStub:
    return services_pb2_grpc.ServicesStub(channel("bookings"))


@pytest.fixture
def provider(channel: Callable[[str], grpc.aio.Channel]) -> pb_grpc.BookingPolicyProviderStub:
    return pb_grpc.BookingPolicyProviderStub(channel("bookings"))


async def create(catalog: services_pb2_grpc.ServicesStub, tenant: str, **fields: Any) -> services_pb2.Service:
    values: dict[str, Any] = {"type": services_pb2.APPOINTMENT, "name": "Consultation", "time_zone": "Europe/Berlin", "online_booking_enabled": True}
    values.update(fields)
    if values["type"] == services_pb2.APPOINTMENT:
        values.setdefault("appointment", services_pb2.AppointmentSettings(duration_minutes=30))
    request = services_pb2.CreateServiceRequest(service=services_pb2.Service(**values))
    return (await catalog.CreateService(request, metadata=auth(tenant, WRITE))).service


def list_request(*service_ids: str) -> pb.ListBookingPoliciesRequest:
    return pb.ListBookingPoliciesRequest(service_ids=list(service_ids))


async def test_policies_come_back_in_request_order_with_online_booking_state(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    strict = await create(catalog, tenant, type=services_pb2.COURSE, default_capacity=10, booking_policy=STRICT)
    plain = await create(catalog, tenant)
    offline = await create(catalog, tenant, online_booking_enabled=False)

    response = await provider.ListBookingPolicies(list_request(offline.id, strict.id, plain.id), metadata=auth(tenant, READ))

    assert [p.service_id for p in response.booking_policies] == [offline.id, strict.id, plain.id]
    assert [p.book_online_disabled for p in response.booking_policies] == [True, False, False]
    assert [p.booking_policy for p in response.booking_policies] == [DEFAULT, STRICT, DEFAULT]


async def test_a_service_without_a_policy_reports_every_sub_policy_disabled_and_one_participant(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant)
    (listed,) = (await provider.ListBookingPolicies(list_request(created.id), metadata=auth(tenant, READ))).booking_policies
    assert listed.booking_policy == DEFAULT
    for name in ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy"):
        assert listed.booking_policy.HasField(name), name


async def test_a_policy_update_is_what_the_provider_returns_next(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant, type=services_pb2.CLASS, default_capacity=10)
    patch = services_pb2.Service(id=created.id, revision=created.revision, booking_policy=STRICT, online_booking_enabled=False)
    await catalog.UpdateService(
        services_pb2.UpdateServiceRequest(service=patch, mask=field_mask_pb2.FieldMask(paths=["booking_policy", "online_booking_enabled"])),
        metadata=auth(tenant, WRITE),
    )
    (listed,) = (await provider.ListBookingPolicies(list_request(created.id), metadata=auth(tenant, READ))).booking_policies
    assert listed.booking_policy == STRICT
    assert listed.book_online_disabled


async def test_availability_may_call_with_an_internal_token(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant)
    internal = [("authorization", f"Bearer {token(tenant, 'internal')}")]
    response = await provider.ListBookingPolicies(list_request(created.id), metadata=internal)
    assert [p.service_id for p in response.booking_policies] == [created.id]


@pytest.mark.parametrize(
    "service_ids, field",
    [
        pytest.param([], "service_ids", id="at-least-one-id"),
        pytest.param(["f6b1a4a2-2f57-4e5e-9c55-0d0f7d3f7c11", "not-a-uuid"], "service_ids[1]", id="ids-are-uuids"),
        pytest.param([""], "service_ids[0]", id="ids-are-not-empty"),
        pytest.param([str(uuid.uuid4()) for _ in range(101)], "service_ids", id="at-most-100-ids"),
        pytest.param(["f6b1a4a2-2f57-4e5e-9c55-0d0f7d3f7c11"] * 2, "service_ids", id="no-repeated-id"),
    ],
)
async def test_invalid_service_ids_are_named(provider: pb_grpc.BookingPolicyProviderStub, tenant: str, service_ids: list[str], field: str) -> None:
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, provider.ListBookingPolicies(list_request(*service_ids), metadata=auth(tenant, READ)))
    assert field in field_violations(err), field_violations(err)


async def test_one_hundred_ids_are_accepted(catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    # 99 unknown ids plus one known: valid request, so the answer is NOT_FOUND, not INVALID_ARGUMENT.
    ids = [created.id, *(str(uuid.uuid4()) for _ in range(99))]
    await expect_error(grpc.StatusCode.NOT_FOUND, provider.ListBookingPolicies(list_request(*ids), metadata=auth(tenant, READ)))


async def test_an_unknown_id_is_not_found(catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    missing = str(uuid.uuid4())
    err = await expect_error(grpc.StatusCode.NOT_FOUND, provider.ListBookingPolicies(list_request(created.id, missing), metadata=auth(tenant, READ)))
    assert missing in (err.details() or "")


async def test_another_tenants_service_is_not_found(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str, other_tenant: str
) -> None:
    theirs = await create(catalog, other_tenant, booking_policy=STRICT, type=services_pb2.COURSE, default_capacity=5)
    mine = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.NOT_FOUND, provider.ListBookingPolicies(list_request(theirs.id), metadata=auth(tenant, READ)))
    await expect_error(grpc.StatusCode.NOT_FOUND, provider.ListBookingPolicies(list_request(mine.id, theirs.id), metadata=auth(tenant, READ)))


async def test_a_deleted_service_is_not_found(catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str) -> None:
    created = await create(catalog, tenant)
    await catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=created.id), metadata=auth(tenant, WRITE))
    await expect_error(grpc.StatusCode.NOT_FOUND, provider.ListBookingPolicies(list_request(created.id), metadata=auth(tenant, READ)))


async def test_a_call_without_a_token_is_unauthenticated(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, provider.ListBookingPolicies(list_request(created.id)))


async def test_a_call_with_an_expired_token_is_unauthenticated(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant)
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, provider.ListBookingPolicies(list_request(created.id), metadata=expired_auth(tenant)))


async def test_a_call_without_catalog_read_is_permission_denied(
    catalog: services_pb2_grpc.ServicesStub, provider: pb_grpc.BookingPolicyProviderStub, tenant: str
) -> None:
    created = await create(catalog, tenant)
    no_read = auth(tenant, "catalog:write", "calendar:read", "bookings:read", "availability:read")
    err = await expect_error(grpc.StatusCode.PERMISSION_DENIED, provider.ListBookingPolicies(list_request(created.id), metadata=no_read))
    assert "catalog:read" in (err.details() or "")
