"""gRPC entrypoints of the bookings service: proto -> domain, call the use case, domain -> proto.

Hosts bookings.catalog.v1.Services, the default bookings.policies.v1.BookingPolicyProvider and
the bookings.v2.Bookings contract (UNIMPLEMENTED until the bookings issue lands).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2, booking_policy_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.domain.policies import (
    BookAfterStart,
    BookingPolicy,
    CancellationPolicy,
    LimitEarlyBooking,
    LimitLateBooking,
    ParticipantsPolicy,
)
from services.bookings.domain.services import Service, ServiceDraft, UpdateServiceCommand
from services.common.server import RpcService

CATALOG_READ, CATALOG_WRITE = "catalog:read", "catalog:write"
BOOKINGS_READ, BOOKINGS_WRITE = "bookings:read", "bookings:write"


class ServicesServicer:
    """bookings.catalog.v1.Services"""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    async def CreateService(self, request: services_pb2.CreateServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        service = await self._catalog.create(draft_from_proto(request.service))
        return services_pb2.CreateServiceResponse(service=service_to_proto(service))

    async def GetService(self, request: services_pb2.GetServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        service = await self._catalog.get(request.service_id)
        return services_pb2.GetServiceResponse(service=service_to_proto(service))

    async def QueryServices(self, request: services_pb2.QueryServicesRequest, context: grpc.aio.ServicerContext) -> Any:
        page = await self._catalog.query(list(request.service_ids), list(request.types), request.cursor_paging.limit, request.cursor_paging.cursor)
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
        service = await self._catalog.update(command)
        return services_pb2.UpdateServiceResponse(service=service_to_proto(service))

    async def DeleteService(self, request: services_pb2.DeleteServiceRequest, context: grpc.aio.ServicerContext) -> Any:
        await self._catalog.delete(request.service_id, request.revision)
        return services_pb2.DeleteServiceResponse()


class BookingPolicyProviderServicer:
    """bookings.policies.v1.BookingPolicyProvider, the default provider: policies stored on services."""

    def __init__(self, provider: PolicyProvider):
        self._provider = provider

    async def ListBookingPolicies(self, request: booking_policy_pb2.ListBookingPoliciesRequest, context: grpc.aio.ServicerContext) -> Any:
        services = await self._provider.list(list(request.service_ids))
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


def rpc_services(catalog: Catalog, provider: PolicyProvider) -> list[RpcService]:
    bookings_rpcs = bookings_pb2.DESCRIPTOR.services_by_name["Bookings"]
    return [
        RpcService(
            ServicesServicer(catalog),
            services_pb2_grpc.add_ServicesServicer_to_server,
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
            BookingPolicyProviderServicer(provider),
            booking_policy_pb2_grpc.add_BookingPolicyProviderServicer_to_server,
            booking_policy_pb2.DESCRIPTOR.services_by_name["BookingPolicyProvider"],
            # Availability calls it with an `internal` token, which satisfies any scope.
            {"ListBookingPolicies": CATALOG_READ},
        ),
        RpcService(
            # The contract only, visible through reflection; the runtime answers UNIMPLEMENTED
            # (the generated base raises NotImplementedError) until bookings are built.
            bookings_pb2_grpc.BookingsServicer(),
            bookings_pb2_grpc.add_BookingsServicer_to_server,
            bookings_rpcs,
            {m.name: BOOKINGS_READ if m.name in ("GetBooking", "QueryBookings") else BOOKINGS_WRITE for m in bookings_rpcs.methods},
        ),
    ]


# --- mapping ---------------------------------------------------------------------------------------


def draft_from_proto(msg: services_pb2.Service) -> ServiceDraft:
    """The caller-settable fields; output-only ones (id, schedule_id, revision, dates) are dropped."""
    return ServiceDraft(
        type=int(msg.type),
        name=msg.name,
        default_capacity=msg.default_capacity,
        time_zone=msg.time_zone,
        online_booking_enabled=msg.online_booking_enabled,
        requires_manual_approval=msg.requires_manual_approval,
        booking_policy=policy_from_proto(msg.booking_policy),
    )


def policy_from_proto(msg: booking_policy_pb2.BookingPolicy) -> BookingPolicy:
    """An absent sub-policy reads as its zero value, which is exactly its meaning in the contract:
    disabled (and a max party size of 0, the default)."""
    early, late = msg.limit_early_booking, msg.limit_late_booking
    cancellation = msg.cancellation_policy
    return BookingPolicy(
        limit_early_booking=LimitEarlyBooking(early.enabled, early.earliest_booking_in_minutes),
        limit_late_booking=LimitLateBooking(late.enabled, late.latest_booking_in_minutes),
        book_after_start_policy=BookAfterStart(msg.book_after_start_policy.enabled),
        participants_policy=ParticipantsPolicy(msg.participants_policy.max_participants_per_booking),
        cancellation_policy=CancellationPolicy(cancellation.enabled, cancellation.latest_cancellation_in_minutes),
    )


def policy_to_proto(policy: BookingPolicy) -> booking_policy_pb2.BookingPolicy:
    """Every sub-policy is sent, disabled ones included, so a consumer never has to guess defaults."""
    return booking_policy_pb2.BookingPolicy(
        limit_early_booking=booking_policy_pb2.LimitEarlyBookingPolicy(
            enabled=policy.limit_early_booking.enabled,
            earliest_booking_in_minutes=policy.limit_early_booking.earliest_booking_in_minutes,
        ),
        limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(
            enabled=policy.limit_late_booking.enabled,
            latest_booking_in_minutes=policy.limit_late_booking.latest_booking_in_minutes,
        ),
        book_after_start_policy=booking_policy_pb2.BookAfterStartPolicy(enabled=policy.book_after_start_policy.enabled),
        participants_policy=booking_policy_pb2.ParticipantsPolicy(max_participants_per_booking=policy.max_participants_per_booking),
        cancellation_policy=booking_policy_pb2.CancellationPolicy(
            enabled=policy.cancellation_policy.enabled,
            latest_cancellation_in_minutes=policy.cancellation_policy.latest_cancellation_in_minutes,
        ),
    )


def service_to_proto(service: Service) -> services_pb2.Service:
    msg = services_pb2.Service(
        id=service.id,
        type=int(service.type),  # type: ignore[arg-type]
        name=service.name,
        schedule_id=service.schedule_id or "",
        default_capacity=service.default_capacity,
        time_zone=service.time_zone,
        online_booking_enabled=service.online_booking_enabled,
        booking_policy=policy_to_proto(service.booking_policy),
        revision=service.revision,
        requires_manual_approval=service.requires_manual_approval,
    )
    if service.created_at is not None:
        msg.created_date.CopyFrom(_timestamp(service.created_at))
    if service.updated_at is not None:
        msg.updated_date.CopyFrom(_timestamp(service.updated_at))
    return msg


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts
