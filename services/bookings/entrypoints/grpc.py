"""gRPC entrypoints of the bookings service: proto -> domain, call the use case with the request's
tenant, domain -> proto.

Hosts bookings.catalog.v1.Services, bookings.staff.v1.StaffMembers, the default
bookings.policies.v1.BookingPolicyProvider and bookings.v2.Bookings. The proto <-> domain mapping is in services/bookings/mapping.py, shared with
the outbox's integration events.
"""

from __future__ import annotations

from typing import Any

import grpc

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.common.v1 import paging_pb2
from services.bookings.application.appointments import Appointments
from services.bookings.application.bookings import BookingPage, Bookings
from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.application.staff import StaffDirectory
from services.bookings.domain.services import UpdateServiceCommand
from services.bookings.domain.staff import UpdateStaffMemberCommand
from services.bookings.mapping import (  # noqa: F401 (policy_from_proto re-exported)
    booking_draft_from_proto,
    booking_to_proto,
    draft_from_proto,
    occupied_time_to_proto,
    policy_from_proto,
    policy_to_proto,
    service_to_proto,
    staff_member_draft_from_proto,
    staff_member_to_proto,
    wire_timestamp,
)
from services.common.auth import current_tenant
from services.common.server import RpcService

CATALOG_READ, CATALOG_WRITE = "catalog:read", "catalog:write"
BOOKINGS_READ, BOOKINGS_WRITE = "bookings:read", "bookings:write"
INTERNAL = "internal"


class ServicesServicer:
    """bookings.catalog.v1.Services"""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    async def CreateService(self, request: services_pb2.CreateServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        service = await self._catalog.create(current_tenant(), draft_from_proto(request.service))
        return services_pb2.CreateServiceResponse(service=service_to_proto(service))

    async def GetService(self, request: services_pb2.GetServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        service = await self._catalog.get(current_tenant(), request.service_id)
        return services_pb2.GetServiceResponse(service=service_to_proto(service))

    async def QueryServices(self, request: services_pb2.QueryServicesRequest, context: grpc.aio.ServicerContext) -> Any:
        page = await self._catalog.query(
            current_tenant(), list(request.service_ids), list(request.types), request.cursor_paging.limit, request.cursor_paging.cursor
        )
        return services_pb2.QueryServicesResponse(
            services=[service_to_proto(s) for s in page.services],
            paging_metadata=paging_pb2.PagingMetadata(count=len(page.services), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next),
        )

    async def UpdateService(self, request: services_pb2.UpdateServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        command = UpdateServiceCommand(
            service_id=request.service.id,
            revision=request.service.revision,
            paths=list(request.mask.paths),
            patch=draft_from_proto(request.service),
        )
        service = await self._catalog.update(current_tenant(), command)
        return services_pb2.UpdateServiceResponse(service=service_to_proto(service))

    async def DeleteService(self, request: services_pb2.DeleteServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        await self._catalog.delete(current_tenant(), request.service_id, request.revision)
        return services_pb2.DeleteServiceResponse()


class StaffMembersServicer:
    """bookings.staff.v1.StaffMembers"""

    def __init__(self, staff: StaffDirectory):
        self._staff = staff

    async def CreateStaffMember(self, request: staff_members_pb2.CreateStaffMemberRequest, context: grpc.aio.ServicerContext) -> Any:
        staff_member = await self._staff.create(current_tenant(), staff_member_draft_from_proto(request.staff_member))
        return staff_members_pb2.CreateStaffMemberResponse(staff_member=staff_member_to_proto(staff_member))

    async def GetStaffMember(self, request: staff_members_pb2.GetStaffMemberRequest, context: grpc.aio.ServicerContext) -> Any:
        staff_member = await self._staff.get(current_tenant(), request.staff_member_id)
        return staff_members_pb2.GetStaffMemberResponse(staff_member=staff_member_to_proto(staff_member))

    async def QueryStaffMembers(self, request: staff_members_pb2.QueryStaffMembersRequest, context: grpc.aio.ServicerContext) -> Any:
        page = await self._staff.query(
            current_tenant(), list(request.staff_member_ids), list(request.service_ids), request.cursor_paging.limit, request.cursor_paging.cursor
        )
        return staff_members_pb2.QueryStaffMembersResponse(
            staff_members=[staff_member_to_proto(m) for m in page.staff_members],
            paging_metadata=paging_pb2.PagingMetadata(count=len(page.staff_members), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next),
        )

    async def UpdateStaffMember(self, request: staff_members_pb2.UpdateStaffMemberRequest, context: grpc.aio.ServicerContext) -> Any:
        command = UpdateStaffMemberCommand(
            staff_member_id=request.staff_member.id,
            revision=request.staff_member.revision,
            paths=list(request.mask.paths),
            patch=staff_member_draft_from_proto(request.staff_member),
        )
        staff_member = await self._staff.update(current_tenant(), command)
        return staff_members_pb2.UpdateStaffMemberResponse(staff_member=staff_member_to_proto(staff_member))

    async def DeleteStaffMember(self, request: staff_members_pb2.DeleteStaffMemberRequest, context: grpc.aio.ServicerContext) -> Any:
        await self._staff.delete(current_tenant(), request.staff_member_id, request.revision)
        return staff_members_pb2.DeleteStaffMemberResponse()


class BookingPolicyProviderServicer:
    """bookings.policies.v1.BookingPolicyProvider, the default provider: policies stored on services."""

    def __init__(self, provider: PolicyProvider):
        self._provider = provider

    async def ListBookingPolicies(self, request: booking_policy_pb2.ListBookingPoliciesRequest, context: grpc.aio.ServicerContext) -> Any:
        services = await self._provider.list(current_tenant(), list(request.service_ids))
        return booking_policy_pb2.ListBookingPoliciesResponse(
            booking_policies=[
                booking_policy_pb2.ServiceBookingPolicy(
                    service_id=s.id,
                    booking_policy=policy_to_proto(s.booking_policy),
                    book_online_disabled=not s.online_booking_enabled,
                )
                for s in services
            ]
        )


class BookingsServicer:
    """bookings.v2.Bookings"""

    def __init__(self, bookings: Bookings):
        self._bookings = bookings

    async def CreateBooking(self, request: bookings_pb2.CreateBookingRequest, context: grpc.aio.ServicerContext) -> Any:
        booking = await self._bookings.create(current_tenant(), booking_draft_from_proto(request))
        return bookings_pb2.CreateBookingResponse(booking=booking_to_proto(booking))

    async def GetBooking(self, request: bookings_pb2.GetBookingRequest, context: grpc.aio.ServicerContext) -> Any:
        return bookings_pb2.GetBookingResponse(booking=booking_to_proto(await self._bookings.get(current_tenant(), request.booking_id)))

    async def QueryBookings(self, request: bookings_pb2.QueryBookingsRequest, context: grpc.aio.ServicerContext) -> Any:
        page: BookingPage = await self._bookings.query(
            current_tenant(),
            list(request.service_ids),
            list(request.schedule_ids),
            list(request.event_ids),
            [int(s) for s in request.statuses],
            request.cursor_paging.limit,
            request.cursor_paging.cursor,
            list(request.staff_member_ids),
        )
        return bookings_pb2.QueryBookingsResponse(
            bookings=[booking_to_proto(b) for b in page.bookings],
            paging_metadata=paging_pb2.PagingMetadata(count=len(page.bookings), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next),
        )

    async def ConfirmBooking(self, request: bookings_pb2.ConfirmBookingRequest, context: grpc.aio.ServicerContext) -> Any:
        return bookings_pb2.ConfirmBookingResponse(
            booking=booking_to_proto(await self._bookings.confirm(current_tenant(), request.booking_id, request.revision))
        )

    async def DeclineBooking(self, request: bookings_pb2.DeclineBookingRequest, context: grpc.aio.ServicerContext) -> Any:
        return bookings_pb2.DeclineBookingResponse(
            booking=booking_to_proto(await self._bookings.decline(current_tenant(), request.booking_id, request.revision))
        )

    async def CancelBooking(self, request: bookings_pb2.CancelBookingRequest, context: grpc.aio.ServicerContext) -> Any:
        return bookings_pb2.CancelBookingResponse(booking=booking_to_proto(await self._bookings.cancel(current_tenant(), request.booking_id, request.revision)))

    async def UpdateNumberOfParticipants(self, request: bookings_pb2.UpdateNumberOfParticipantsRequest, context: grpc.aio.ServicerContext) -> Any:
        booking = await self._bookings.update_number_of_participants(current_tenant(), request.booking_id, request.revision, request.number_of_participants)
        return bookings_pb2.UpdateNumberOfParticipantsResponse(booking=booking_to_proto(booking))


class StaffCalendarsServicer:
    """bookings.staff.v1.StaffCalendars (internal): the time appointments occupy, for availability."""

    def __init__(self, appointments: Appointments):
        self._appointments = appointments

    async def ListOccupiedTime(self, request: staff_members_pb2.ListOccupiedTimeRequest, context: grpc.aio.ServicerContext) -> Any:
        occupied = await self._appointments.occupied_time(
            current_tenant(),
            list(request.staff_member_ids),
            wire_timestamp(request, "from"),
            wire_timestamp(request, "to"),
        )
        return staff_members_pb2.ListOccupiedTimeResponse(occupied_time=[occupied_time_to_proto(o) for o in occupied])


def rpc_services(catalog: Catalog, provider: PolicyProvider, bookings: Bookings, staff: StaffDirectory, appointments: Appointments) -> list[RpcService]:
    bookings_rpcs = bookings_pb2.DESCRIPTOR.services_by_name["Bookings"]
    return [
        RpcService(
            ServicesServicer(catalog),
            services_pb2.DESCRIPTOR.services_by_name["Services"],
            {
                "CreateService": CATALOG_WRITE,
                "GetService": CATALOG_READ,
                "QueryServices": CATALOG_READ,
                "UpdateService": CATALOG_WRITE,
                "DeleteService": CATALOG_WRITE,
            },
        ),
        RpcService(
            StaffMembersServicer(staff),
            staff_members_pb2.DESCRIPTOR.services_by_name["StaffMembers"],
            # Staff members use the catalog's scopes (DESIGN).
            {
                "CreateStaffMember": CATALOG_WRITE,
                "GetStaffMember": CATALOG_READ,
                "QueryStaffMembers": CATALOG_READ,
                "UpdateStaffMember": CATALOG_WRITE,
                "DeleteStaffMember": CATALOG_WRITE,
            },
        ),
        RpcService(
            BookingPolicyProviderServicer(provider),
            booking_policy_pb2.DESCRIPTOR.services_by_name["BookingPolicyProvider"],
            # Availability calls it with an `internal` token, which satisfies any scope.
            {"ListBookingPolicies": CATALOG_READ},
        ),
        RpcService(
            BookingsServicer(bookings),
            bookings_rpcs,
            {m.name: BOOKINGS_READ if m.name in ("GetBooking", "QueryBookings") else BOOKINGS_WRITE for m in bookings_rpcs.methods},
        ),
        RpcService(StaffCalendarsServicer(appointments), staff_members_pb2.DESCRIPTOR.services_by_name["StaffCalendars"], {"ListOccupiedTime": INTERNAL}),
    ]
