"""gRPC entrypoint of bookings.availability.v1.AvailabilityCalendar (legacy validation API; the
calculation is services/availability/application/calendar_v1.py). Scope `internal`: bookings calls
it with its service token, for the tenant of the booking request."""

from __future__ import annotations

import grpc

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.availability.application.calendar_v1 import AvailabilityCalendar
from services.availability.mapping import given_service_from_proto, schedule_availability_proto, slot_availability_proto
from services.common.auth import INTERNAL_SCOPE, current_tenant
from services.common.server import RpcService


class AvailabilityCalendarServicer(availability_calendar_pb2_grpc.AvailabilityCalendarServicer):
    def __init__(self, calendar: AvailabilityCalendar):
        self._calendar = calendar

    async def GetScheduleAvailability(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        given = given_service_from_proto(request)
        answer = await self._calendar.schedule_availability(current_tenant(), request.schedule_id, request.number_of_participants, given)
        return availability_calendar_pb2.GetScheduleAvailabilityResponse(availability=schedule_availability_proto(answer))

    async def GetSlotAvailability(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        given = given_service_from_proto(request)
        answer = await self._calendar.slot_availability(current_tenant(), request.event_id, request.number_of_participants, given)
        return availability_calendar_pb2.GetSlotAvailabilityResponse(availability=slot_availability_proto(answer))


def calendar_rpc_service(calendar: AvailabilityCalendar) -> RpcService:
    return RpcService(
        AvailabilityCalendarServicer(calendar),
        availability_calendar_pb2.DESCRIPTOR.services_by_name["AvailabilityCalendar"],
        {"GetScheduleAvailability": INTERNAL_SCOPE, "GetSlotAvailability": INTERNAL_SCOPE},
    )
