"""gRPC entrypoints of the availability service.

The foundation hosts the contract so it is visible through reflection; the calculations arrive
with the availability issue. Until then every RPC answers UNIMPLEMENTED (never made-up data).
"""

from services.api.bookings.availability.v1 import availability_calendar_pb2, availability_calendar_pb2_grpc
from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.common.server import RpcService


def rpc_services() -> list[RpcService]:
    v2 = time_slots_pb2.DESCRIPTOR.services_by_name
    v1 = availability_calendar_pb2.DESCRIPTOR.services_by_name
    read = "availability:read"
    return [
        RpcService(
            time_slots_pb2_grpc.CourseEventTimeSlotsServicer(),
            time_slots_pb2_grpc.add_CourseEventTimeSlotsServicer_to_server,
            v2["CourseEventTimeSlots"],
            {"ListCourseEventTimeSlots": read, "GetCourseEventTimeSlot": read},
        ),
        RpcService(
            time_slots_pb2_grpc.EventTimeSlotsServicer(),
            time_slots_pb2_grpc.add_EventTimeSlotsServicer_to_server,
            v2["EventTimeSlots"],
            {"ListEventTimeSlots": read, "GetEventTimeSlot": read},
        ),
        RpcService(
            availability_calendar_pb2_grpc.AvailabilityCalendarServicer(),
            availability_calendar_pb2_grpc.add_AvailabilityCalendarServicer_to_server,
            v1["AvailabilityCalendar"],
            {"GetScheduleAvailability": "internal", "GetSlotAvailability": "internal"},
        ),
    ]
