"""gRPC entrypoints of the availability service: the request mapped to the use case's query, its answer to the response (mapping.py)."""

from __future__ import annotations

import grpc

from services.api.bookings.availability.v2 import availability_time_slots_pb2, availability_time_slots_pb2_grpc, time_slots_pb2, time_slots_pb2_grpc
from services.availability.application.appointment_slots import AppointmentSlots
from services.availability.application.calendar_v1 import AvailabilityCalendar
from services.availability.application.time_slots import CourseView, TimeSlots
from services.availability.entrypoints.calendar_v1 import calendar_rpc_service
from services.availability.mapping import (
    add_course_slots,
    appointment_dates_proto,
    appointment_dates_query_from_proto,
    appointment_lookup_from_proto,
    appointment_query_from_proto,
    appointment_slot_proto,
    appointment_slots_proto,
    course_proto,
    course_slot_proto,
    event_slot_proto,
    paging_proto,
    query_from_proto,
)
from services.common.auth import current_tenant
from services.common.server import RpcService

READ = "availability:read"


class CourseEventTimeSlotsServicer(time_slots_pb2_grpc.CourseEventTimeSlotsServicer):
    def __init__(self, slots: TimeSlots):
        self._slots = slots

    async def ListCourseEventTimeSlots(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        page = await self._slots.list_course_slots(current_tenant(), query_from_proto(request))
        response = time_slots_pb2.ListCourseEventTimeSlotsResponse(time_zone=page.zone.key, paging_metadata=paging_proto(page))
        add_course_slots(response.time_slots, page.slots, page.zone)
        return response

    async def GetCourseEventTimeSlot(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        which = request.WhichOneof("by")
        view: CourseView = await self._slots.get_course(
            current_tenant(),
            event_id=request.event_id if which == "event_id" else "",
            schedule_id=request.schedule_id if which == "schedule_id" else "",
            time_zone=request.time_zone,
            min_bookable_capacity=request.min_bookable_capacity,
        )
        response = time_slots_pb2.GetCourseEventTimeSlotResponse(course=course_proto(view.course), time_zone=view.zone.key)
        if view.slot is not None:
            response.time_slot.CopyFrom(course_slot_proto(view.slot, view.zone))
        return response


class EventTimeSlotsServicer(time_slots_pb2_grpc.EventTimeSlotsServicer):
    def __init__(self, slots: TimeSlots):
        self._slots = slots

    async def ListEventTimeSlots(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        page = await self._slots.list_class_slots(current_tenant(), query_from_proto(request))
        return time_slots_pb2.ListEventTimeSlotsResponse(
            time_slots=[event_slot_proto(s, page.zone) for s in page.slots], time_zone=page.zone.key, paging_metadata=paging_proto(page)
        )

    async def GetEventTimeSlot(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        slot, zone = await self._slots.get_class_slot(current_tenant(), request.event_id, request.time_zone, request.min_bookable_capacity)
        return time_slots_pb2.GetEventTimeSlotResponse(time_slot=event_slot_proto(slot, zone), time_zone=zone.key)


class AvailabilityTimeSlotsServicer(availability_time_slots_pb2_grpc.AvailabilityTimeSlotsServicer):
    """Appointment slots (application/appointment_slots.py)."""

    def __init__(self, appointments: AppointmentSlots):
        self._appointments = appointments

    async def ListAvailabilityTimeSlots(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        return appointment_slots_proto(await self._appointments.list_slots(current_tenant(), appointment_query_from_proto(request)))

    async def GetAvailabilityTimeSlot(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        view = await self._appointments.get_slot(current_tenant(), appointment_lookup_from_proto(request))
        return availability_time_slots_pb2.GetAvailabilityTimeSlotResponse(
            time_slot=appointment_slot_proto(view.slot, view.offering, view.zone), time_zone=view.zone.key
        )

    async def ListAvailabilityDates(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        return appointment_dates_proto(await self._appointments.list_dates(current_tenant(), appointment_dates_query_from_proto(request)))


def rpc_services(slots: TimeSlots, calendar: AvailabilityCalendar, appointments: AppointmentSlots) -> list[RpcService]:
    v2 = time_slots_pb2.DESCRIPTOR.services_by_name
    return [
        RpcService(
            CourseEventTimeSlotsServicer(slots),
            v2["CourseEventTimeSlots"],
            {"ListCourseEventTimeSlots": READ, "GetCourseEventTimeSlot": READ},
        ),
        RpcService(
            EventTimeSlotsServicer(slots),
            v2["EventTimeSlots"],
            {"ListEventTimeSlots": READ, "GetEventTimeSlot": READ},
        ),
        RpcService(
            AvailabilityTimeSlotsServicer(appointments),
            availability_time_slots_pb2.DESCRIPTOR.services_by_name["AvailabilityTimeSlots"],
            {"ListAvailabilityTimeSlots": READ, "GetAvailabilityTimeSlot": READ, "ListAvailabilityDates": READ},
        ),
        # The legacy validation API CreateBooking asks (entrypoints/calendar_v1.py).
        calendar_rpc_service(calendar),
    ]
