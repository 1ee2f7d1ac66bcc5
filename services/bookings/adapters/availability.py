"""gRPC clients of availability, the one rule set that decides whether a booking may be made:
bookings.availability.v1.AvailabilityCalendar for classes and courses (docs/rollout.md "How
bookings validates") and bookings.availability.v2.AvailabilityTimeSlots.GetAvailabilityTimeSlot for
appointments (docs/appointments.md "Booking an appointment"). All are reads, so the channel retries
them on UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.api.bookings.availability.v2 import availability_time_slots_pb2, availability_time_slots_pb2_grpc
from services.bookings.application.ports import AvailabilityAnswer, NotAClassSession
from services.bookings.domain.bookings import AppointmentSlotAnswer
from services.bookings.domain.services import Service
from services.bookings.mapping import service_to_proto
from services.common.auth import ServiceTokens
from services.common.clients import Channel, call_dependency, open_channel
from services.common.config import ServiceSettings
from services.common.errors import DependencyFailed, InvalidArgument, NotFound
from services.common.timestamps import to_timestamp

CALENDAR = availability_calendar_pb2.DESCRIPTOR.services_by_name["AvailabilityCalendar"].full_name
APPOINTMENT_SLOTS = availability_time_slots_pb2.DESCRIPTOR.services_by_name["AvailabilityTimeSlots"].full_name
RETRYABLE = [(CALENDAR, "GetScheduleAvailability"), (CALENDAR, "GetSlotAvailability"), (APPOINTMENT_SLOTS, "GetAvailabilityTimeSlot")]
_SLOT_FIELD = "booking.booked_entity.slot"


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


class AppointmentSlotsClient:
    """The `AppointmentSlots` port: availability's answer for one appointment slot."""

    def __init__(self, stub: availability_time_slots_pb2_grpc.AvailabilityTimeSlotsStub):
        self._stub = stub

    async def slot(self, service: Service, start: datetime, end: datetime, staff_member_ids: Sequence[str]) -> AppointmentSlotAnswer:
        request = availability_time_slots_pb2.GetAvailabilityTimeSlotRequest(
            service_id=service.id, start_date=to_timestamp(start), end_date=to_timestamp(end), staff_member_ids=list(staff_member_ids)
        )
        try:
            response = await call_dependency("availability", self._stub.GetAvailabilityTimeSlot(request), refused=_refused)
        except NotFound as err:
            if err.resource == "service":
                raise
            raise InvalidArgument.single(f"{_SLOT_FIELD}.start_date", f"is not the start of a slot of service {service.id} ending at end_date") from None
        slot = response.time_slot
        violations, reasons = slot.booking_policy_violations, slot.non_bookable_reasons
        return AppointmentSlotAnswer(
            available_staff_member_ids=tuple(slot.available_staff_member_ids),
            too_early=violations.too_early_to_book,
            too_late=violations.too_late_to_book,
            online_disabled=violations.book_online_disabled,
            booked=reasons.booked,
            time_off=reasons.time_off,
            holiday=reasons.holiday,
            calendar_conflict=reasons.calendar_conflict,
        )


def _refused(details: str) -> Exception:
    """Availability refuses the staff member asked about (one that does not offer the service):
    the caller's field. Anything else it refuses was ours to get right."""
    if "staff_member_ids" in details:
        return InvalidArgument.single(f"{_SLOT_FIELD}.staff_member_id", "is not a staff member offering the service")
    return DependencyFailed("availability", "INVALID_ARGUMENT")
