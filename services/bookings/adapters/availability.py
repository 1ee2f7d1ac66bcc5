"""gRPC client of bookings.availability.v1.AvailabilityCalendar (hosted by availability): the one
rule set that decides whether a booking may be made (docs/rollout.md "How bookings validates").
Both RPCs are reads, so the channel retries them on UNAVAILABLE."""

from __future__ import annotations

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.bookings.application.ports import AvailabilityAnswer, NotAClassSession
from services.bookings.domain.services import Service
from services.bookings.mapping import service_to_proto
from services.common.auth import ServiceTokens
from services.common.clients import Channel, call_dependency, open_channel
from services.common.config import ServiceSettings

CALENDAR = availability_calendar_pb2.DESCRIPTOR.services_by_name["AvailabilityCalendar"].full_name
RETRYABLE = [(CALENDAR, "GetScheduleAvailability"), (CALENDAR, "GetSlotAvailability")]


def open_availability_channel(settings: ServiceSettings, address: str) -> Channel:
    return open_channel(address, ServiceTokens(settings), settings.outbound_timeout_seconds, retryable=RETRYABLE)


def _answer(
    availability: availability_calendar_pb2.ScheduleAvailability | availability_calendar_pb2.SlotAvailability, capacity: int, schedule_id: str = ""
) -> AvailabilityAnswer:
    return AvailabilityAnswer(
        bookable=availability.bookable,
        open_spots=availability.open_spots,
        total_spots=availability.total_spots,
        refusal_reason=availability.refusal_reason,
        capacity=capacity,
        schedule_id=schedule_id,
    )


class AvailabilityCalendarClient:
    def __init__(self, stub: availability_calendar_pb2_grpc.AvailabilityCalendarStub):
        self._stub = stub

    async def schedule(self, schedule_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer:
        request = availability_calendar_pb2.GetScheduleAvailabilityRequest(
            schedule_id=schedule_id, number_of_participants=number_of_participants, service=service_to_proto(service)
        )
        response = await call_dependency("availability", self._stub.GetScheduleAvailability(request), not_found=("schedule", schedule_id))
        # A course booking takes a spot on every session ahead: the smallest of them limits it.
        return _answer(response.availability, response.availability.min_total_spots_ahead)

    async def slot(self, event_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer:
        request = availability_calendar_pb2.GetSlotAvailabilityRequest(
            event_id=event_id, number_of_participants=number_of_participants, service=service_to_proto(service)
        )
        call = self._stub.GetSlotAvailability(request)
        response = await call_dependency("availability", call, not_found=("event", event_id), refused=lambda _: NotAClassSession(event_id))
        return _answer(response.availability, response.availability.total_spots, response.availability.schedule_id)
