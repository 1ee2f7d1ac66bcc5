"""gRPC entrypoints of the availability service: request -> SlotQuery, domain -> response."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.application.calendar_v1 import AvailabilityCalendar
from services.availability.application.time_slots import CourseView, SlotPage, TimeSlots
from services.availability.domain.model import CourseAvailability, NonBookableReasons, PolicyViolations, TimeSlot
from services.availability.domain.requests import SlotQuery
from services.availability.domain.time_range import to_local_iso
from services.availability.entrypoints.calendar_v1 import calendar_rpc_service
from services.common.auth import current_tenant
from services.common.server import RpcService
from services.common.timestamps import to_timestamp

READ = "availability:read"


def _ts(instant: datetime | None) -> timestamp_pb2.Timestamp | None:
    if instant is None:
        return None
    return to_timestamp(instant)


def _violations(v: PolicyViolations) -> time_slots_pb2.BookingPolicyViolations:
    return time_slots_pb2.BookingPolicyViolations(
        too_early_to_book=v.too_early_to_book,
        too_late_to_book=v.too_late_to_book,
        book_online_disabled=v.book_online_disabled,
        earliest_booking_date=_ts(v.earliest_booking_date),
        latest_booking_date=_ts(v.latest_booking_date),
    )


def _reasons(r: NonBookableReasons) -> time_slots_pb2.NonBookableReasons:
    return time_slots_pb2.NonBookableReasons(
        no_remaining_capacity=r.no_remaining_capacity,
        violates_booking_policy=r.violates_booking_policy,
        event_cancelled=r.event_cancelled,
        event_started=r.event_started,
    )


def course_slot_proto(slot: TimeSlot, zone: ZoneInfo) -> time_slots_pb2.CourseEventTimeSlot:
    return time_slots_pb2.CourseEventTimeSlot(**_course_slot_fields(slot, zone, {}))


def add_course_slots(into: RepeatedCompositeFieldContainer[time_slots_pb2.CourseEventTimeSlot], slots: Iterable[TimeSlot], zone: ZoneInfo) -> None:
    """Append the slots to a response's repeated `time_slots` (`into`), each built in place by
    `add` rather than built apart and copied in, which costs less CPU (bench/README.md,
    "Measurements behind code choices")."""
    shared: dict[int, object] = {}
    for slot in slots:
        into.add(**_course_slot_fields(slot, zone, shared))


def _course_slot_fields(slot: TimeSlot, zone: ZoneInfo, shared: dict[int, object]) -> dict[str, object]:
    """`shared` memoises the violations and reasons messages within one answer: the sessions of a
    course share those objects (domain.policy.course_time_slots)."""
    violations = shared.get(id(slot.violations))
    if violations is None:
        violations = shared[id(slot.violations)] = _violations(slot.violations)
    reasons = shared.get(id(slot.reasons))
    if reasons is None:
        reasons = shared[id(slot.reasons)] = _reasons(slot.reasons)
    return {
        "service_id": slot.offering.service_id,
        "schedule_id": slot.offering.schedule_id,
        "event_id": slot.session.event_id,
        "local_start_date": to_local_iso(slot.session.start, zone),
        "local_end_date": to_local_iso(slot.session.end, zone),
        "bookable": slot.bookable,
        "remaining_capacity": slot.remaining_capacity,
        "total_capacity": slot.total_capacity,
        "booking_policy_violations": violations,
        "non_bookable_reasons": reasons,
        "past": slot.past,
        "total_sessions": slot.total_sessions,
        "remaining_sessions": slot.remaining_sessions,
    }


def event_slot_proto(slot: TimeSlot, zone: ZoneInfo) -> time_slots_pb2.EventTimeSlot:
    return time_slots_pb2.EventTimeSlot(
        service_id=slot.offering.service_id,
        schedule_id=slot.offering.schedule_id,
        event_id=slot.session.event_id,
        local_start_date=to_local_iso(slot.session.start, zone),
        local_end_date=to_local_iso(slot.session.end, zone),
        bookable=slot.bookable,
        remaining_capacity=slot.remaining_capacity,
        total_capacity=slot.total_capacity,
        booking_policy_violations=_violations(slot.violations),
        non_bookable_reasons=_reasons(slot.reasons),
    )


def course_proto(course: CourseAvailability) -> time_slots_pb2.CourseAvailability:
    return time_slots_pb2.CourseAvailability(
        service_id=course.service_id,
        schedule_id=course.schedule_id,
        bookable=course.bookable,
        booking_policy_violations=_violations(course.violations),
        non_bookable_reasons=_reasons(course.reasons),
        open_spots=course.open_spots,
        total_capacity=course.total_capacity,
        total_sessions=course.total_sessions,
        remaining_sessions=course.remaining_sessions,
        first_event_start_date=_ts(course.first_event_start),
        last_event_end_date=_ts(course.last_event_end),
    )


def _query(request: time_slots_pb2.ListCourseEventTimeSlotsRequest | time_slots_pb2.ListEventTimeSlotsRequest) -> SlotQuery:
    return SlotQuery(
        service_ids=tuple(request.service_ids),
        from_local_date=request.from_local_date,
        to_local_date=request.to_local_date,
        time_zone=request.time_zone,
        include_non_bookable=request.include_non_bookable if request.HasField("include_non_bookable") else True,
        min_bookable_capacity=request.min_bookable_capacity,
        limit=request.cursor_paging.limit,
        cursor=request.cursor_paging.cursor,
    )


def _paging(page: SlotPage) -> paging_pb2.PagingMetadata:
    return paging_pb2.PagingMetadata(count=len(page.slots), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next)


class CourseEventTimeSlotsServicer(time_slots_pb2_grpc.CourseEventTimeSlotsServicer):
    def __init__(self, slots: TimeSlots):
        self._slots = slots

    async def ListCourseEventTimeSlots(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        page = await self._slots.list_course_slots(current_tenant(), _query(request))
        response = time_slots_pb2.ListCourseEventTimeSlotsResponse(time_zone=page.zone.key, paging_metadata=_paging(page))
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
        page = await self._slots.list_class_slots(current_tenant(), _query(request))
        return time_slots_pb2.ListEventTimeSlotsResponse(
            time_slots=[event_slot_proto(s, page.zone) for s in page.slots], time_zone=page.zone.key, paging_metadata=_paging(page)
        )

    async def GetEventTimeSlot(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        slot, zone = await self._slots.get_class_slot(current_tenant(), request.event_id, request.time_zone, request.min_bookable_capacity)
        return time_slots_pb2.GetEventTimeSlotResponse(time_slot=event_slot_proto(slot, zone), time_zone=zone.key)


def rpc_services(slots: TimeSlots, calendar: AvailabilityCalendar) -> list[RpcService]:
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
        # The legacy validation API CreateBooking asks (entrypoints/calendar_v1.py).
        calendar_rpc_service(calendar),
    ]
