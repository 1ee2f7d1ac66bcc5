"""gRPC entrypoint of bookings.availability.v1.AvailabilityCalendar (legacy validation API; the
calculation is services/availability/application/calendar_v1.py). Scope `internal`: bookings calls
it with its service token, for the tenant of the booking request."""

from __future__ import annotations

import grpc

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.availability.application.calendar_v1 import AvailabilityCalendar, CalendarAnswer
from services.availability.domain.model import Offering
from services.availability.mapping import offering_from_proto
from services.common.auth import INTERNAL_SCOPE, current_tenant
from services.common.server import RpcService


def violations_proto(answer: CalendarAnswer) -> availability_calendar_pb2.BookingPolicyViolations:
    return availability_calendar_pb2.BookingPolicyViolations(
        too_early_to_book=answer.too_early_to_book,
        too_late_to_book=answer.too_late_to_book,
        book_online_disabled=answer.book_online_disabled,
    )


def _availability_fields(answer: CalendarAnswer) -> dict[str, object]:
    """ScheduleAvailability and SlotAvailability carry the same fields."""
    return {
        "total_spots": answer.total_spots,
        "open_spots": answer.open_spots,
        "booking_policy_violations": violations_proto(answer),
        "bookable": answer.bookable,
        "refusal_reason": answer.refusal_reason,
    }


def schedule_availability_proto(answer: CalendarAnswer) -> availability_calendar_pb2.ScheduleAvailability:
    return availability_calendar_pb2.ScheduleAvailability(**_availability_fields(answer), min_total_spots_ahead=answer.min_total_spots_ahead)


def slot_availability_proto(answer: CalendarAnswer) -> availability_calendar_pb2.SlotAvailability:
    return availability_calendar_pb2.SlotAvailability(**_availability_fields(answer), schedule_id=answer.schedule_id)


def _given_service(request: availability_calendar_pb2.GetScheduleAvailabilityRequest | availability_calendar_pb2.GetSlotAvailabilityRequest) -> Offering | None:
    """The service as the caller read it (optional, so it is not read again)."""
    return offering_from_proto(request.service) if request.HasField("service") else None


class AvailabilityCalendarServicer(availability_calendar_pb2_grpc.AvailabilityCalendarServicer):
    def __init__(self, calendar: AvailabilityCalendar):
        self._calendar = calendar

    async def GetScheduleAvailability(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        answer = await self._calendar.schedule_availability(current_tenant(), request.schedule_id, request.number_of_participants, _given_service(request))
        return availability_calendar_pb2.GetScheduleAvailabilityResponse(availability=schedule_availability_proto(answer))

    async def GetSlotAvailability(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        answer = await self._calendar.slot_availability(current_tenant(), request.event_id, request.number_of_participants, _given_service(request))
        return availability_calendar_pb2.GetSlotAvailabilityResponse(availability=slot_availability_proto(answer))


def calendar_rpc_service(calendar: AvailabilityCalendar) -> RpcService:
    return RpcService(
        AvailabilityCalendarServicer(calendar),
        availability_calendar_pb2.DESCRIPTOR.services_by_name["AvailabilityCalendar"],
        {"GetScheduleAvailability": INTERNAL_SCOPE, "GetSlotAvailability": INTERNAL_SCOPE},
    )
