"""Proto <-> domain mapping of the catalog: output-only fields never reach the domain, and every
RPC of the hosted contracts has its scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.bookings.catalog.v1 import services_pb2
from services.bookings.domain.policies import BookingPolicy, ParticipantsPolicy
from services.bookings.domain.services import Service, ServiceDraft, ServiceType
from services.bookings.entrypoints.grpc import draft_from_proto, rpc_services, service_to_proto


def test_output_only_fields_of_a_request_are_dropped() -> None:
    msg = services_pb2.Service(
        id="chosen-by-caller",
        schedule_id="also-chosen",
        revision=9,
        type=services_pb2.CLASS,
        name="Spin",
        default_capacity=20,
        time_zone="Europe/Paris",
        online_booking_enabled=True,
        requires_manual_approval=True,
    )
    msg.created_date.FromDatetime(datetime(2020, 1, 1))
    assert draft_from_proto(msg) == ServiceDraft(
        type=ServiceType.CLASS,
        name="Spin",
        default_capacity=20,
        time_zone="Europe/Paris",
        online_booking_enabled=True,
        requires_manual_approval=True,
        booking_policy=BookingPolicy(participants_policy=ParticipantsPolicy(0)),
    )


def test_a_service_maps_to_its_proto_with_dates_and_revision() -> None:
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    service = Service(
        id="3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
        type=ServiceType.APPOINTMENT,
        name="Haircut",
        default_capacity=0,
        time_zone="Europe/Rome",
        online_booking_enabled=False,
        requires_manual_approval=True,
        booking_policy=BookingPolicy(),
        revision=4,
        created_at=when,
        updated_at=when,
    )
    msg = service_to_proto(service)
    assert (msg.id, msg.type, msg.schedule_id, msg.revision) == (service.id, services_pb2.APPOINTMENT, "", 4)
    assert msg.created_date.ToDatetime(tzinfo=UTC) == when
    assert msg.booking_policy.participants_policy.max_participants_per_booking == 1


@pytest.mark.parametrize("strict", [True, False], ids=["strict capacity set", "strict capacity off (the default)"])
def test_strict_capacity_makes_the_round_trip_through_the_proto(strict: bool) -> None:
    service = Service(
        id="3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
        type=ServiceType.CLASS,
        name="Spin",
        default_capacity=20,
        time_zone="Europe/Paris",
        online_booking_enabled=True,
        requires_manual_approval=False,
        booking_policy=BookingPolicy().normalized(),
        strict_capacity=strict,
        schedule_id="sched-1",
    )
    msg = service_to_proto(service)
    assert msg.strict_capacity is strict
    assert draft_from_proto(msg) == service.draft()


def test_every_hosted_rpc_declares_its_scope() -> None:
    scopes = {svc.descriptor.full_name: svc.scopes for svc in rpc_services(catalog=None, provider=None, bookings=None, staff=None, appointments=None)}  # type: ignore[arg-type]
    assert scopes["bookings.catalog.v1.Services"] == {
        "CreateService": "catalog:write",
        "GetService": "catalog:read",
        "QueryServices": "catalog:read",
        "UpdateService": "catalog:write",
        "DeleteService": "catalog:write",
    }
    assert scopes["bookings.staff.v1.StaffCalendars"] == {"ListOccupiedTime": "internal"}
    assert scopes["bookings.staff.v1.StaffMembers"] == {
        "CreateStaffMember": "catalog:write",
        "GetStaffMember": "catalog:read",
        "QueryStaffMembers": "catalog:read",
        "UpdateStaffMember": "catalog:write",
        "DeleteStaffMember": "catalog:write",
    }
    assert scopes["bookings.policies.v1.BookingPolicyProvider"] == {"ListBookingPolicies": "catalog:read"}
    assert scopes["bookings.v2.Bookings"] == {
        "CreateBooking": "bookings:write",
        "GetBooking": "bookings:read",
        "QueryBookings": "bookings:read",
        "ConfirmBooking": "bookings:write",
        "DeclineBooking": "bookings:write",
        "CancelBooking": "bookings:write",
        "UpdateNumberOfParticipants": "bookings:write",
    }
