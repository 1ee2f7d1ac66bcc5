"""Protobuf <-> availability's domain objects, at the edges only: the other services' messages as
what availability reads (the catalog's services and policies, the calendar's events and time
frames, the staff members, their working hours and occupied time: the adapters map what they
read), and its own API's requests and answers (the entrypoints map what a caller sends and what
they return)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from services.api.bookings.availability.v1 import availability_calendar_pb2
from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointments_pb2
from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2
from services.api.common.v1 import paging_pb2
from services.availability.application.appointment_slots import AppointmentDates, AppointmentSlotPage
from services.availability.application.calendar_v1 import CalendarAnswer
from services.availability.application.time_slots import SlotPage
from services.availability.domain.appointments import AppointmentSlot, DateSummary, ScheduleHours, StaffMember, UnavailableReason, slot_violations
from services.availability.domain.model import (
    AppointmentShape,
    BookingPolicy,
    CourseAvailability,
    Interval,
    NonBookableReasons,
    Offering,
    ParticipantCount,
    ParticipantParts,
    PolicyViolations,
    ProvidedPolicy,
    ServiceType,
    Session,
    TimeFrame,
    TimeSlot,
)
from services.availability.domain.requests import AppointmentDatesQuery, AppointmentSlotLookup, AppointmentSlotQuery, SlotQuery
from services.availability.domain.time_range import to_local_iso
from services.common.timestamps import to_instant, to_timestamp
from services.common.weekly_rules import WeeklyRule

SERVICE_TYPES = {
    services_pb2.SERVICE_TYPE_UNSPECIFIED: ServiceType.UNSPECIFIED,
    services_pb2.APPOINTMENT: ServiceType.APPOINTMENT,
    services_pb2.COURSE: ServiceType.COURSE,
    services_pb2.CLASS: ServiceType.CLASS,
}
PROTO_SERVICE_TYPES = {v: k for k, v in SERVICE_TYPES.items()}


def policy_from_proto(policy: booking_policy_pb2.BookingPolicy) -> BookingPolicy:
    # An absent sub-policy is disabled (proto3 defaults); in particular a provider that omits
    # book_after_start_policy disables booking after start (docs/booking-policies.md "Missing
    # sub-policies").
    return BookingPolicy(
        limit_early_booking_enabled=policy.limit_early_booking.enabled,
        earliest_booking_in_minutes=policy.limit_early_booking.earliest_booking_in_minutes,
        limit_late_booking_enabled=policy.limit_late_booking.enabled,
        latest_booking_in_minutes=policy.limit_late_booking.latest_booking_in_minutes,
        book_after_start_enabled=policy.HasField("book_after_start_policy") and policy.book_after_start_policy.enabled,
        max_participants_per_booking=policy.participants_policy.max_participants_per_booking or 1,
        cancellation_enabled=policy.cancellation_policy.enabled,
        latest_cancellation_in_minutes=policy.cancellation_policy.latest_cancellation_in_minutes,
    )


def offering_from_proto(service: services_pb2.Service, provided: booking_policy_pb2.ServiceBookingPolicy | None = None) -> Offering:
    """The service as availability sees it, with the policy provider's answer when it gave one.
    An APPOINTMENT's settings and staff are part of it, so that they are cached and dropped with
    the service (adapters/inputs.py)."""
    kind = SERVICE_TYPES.get(service.type, ServiceType.UNSPECIFIED)  # a value newer than this code: no type it knows
    appointment = kind is ServiceType.APPOINTMENT
    offering = Offering(
        service_id=service.id,
        type=kind,
        schedule_id=service.schedule_id,
        time_zone=service.time_zone,
        online_booking_enabled=service.online_booking_enabled,
        policy=policy_from_proto(service.booking_policy),
        appointment=appointment_shape_from_proto(service.appointment) if appointment and service.HasField("appointment") else None,
        staff_member_ids=tuple(service.staff_member_ids) if appointment else (),
    )
    return provided_policy_from_proto(provided).applied_to(offering) if provided is not None else offering


def appointment_shape_from_proto(settings: services_pb2.AppointmentSettings) -> AppointmentShape | None:
    """None for settings without a duration (the catalog requires one: 5 to 1440 minutes)."""
    if settings.duration_minutes <= 0:
        return None
    return AppointmentShape(
        duration=timedelta(minutes=settings.duration_minutes),
        buffer_before=timedelta(minutes=settings.buffer_before_minutes),
        buffer_after=timedelta(minutes=settings.buffer_after_minutes),
        slot_interval=timedelta(minutes=settings.slot_interval_minutes) if settings.slot_interval_minutes > 0 else None,  # 0: the duration
    )


def provided_policy_from_proto(provided: booking_policy_pb2.ServiceBookingPolicy) -> ProvidedPolicy:
    return ProvidedPolicy(online_booking_enabled=not provided.book_online_disabled, policy=policy_from_proto(provided.booking_policy))


def session_from_proto(event: events_pb2.Event) -> Session:
    return Session(
        event_id=event.id,
        schedule_id=event.schedule_id,
        start=to_instant(event.start),
        end=to_instant(event.end),
        total_capacity=event.total_capacity,
        remaining_capacity=event.remaining_capacity,
        cancelled=event.status == events_pb2.CANCELLED,
        participants=_parts_from_proto(event.participant_parts) if event.HasField("participant_parts") else None,
    )


def _parts_from_proto(parts: events_pb2.ParticipantParts) -> ParticipantParts:
    return ParticipantParts(
        event=ParticipantCount(parts.event.total, parts.event.version),
        schedule=ParticipantCount(parts.schedule.total, parts.schedule.version),
        legacy=ParticipantCount(parts.legacy.total, parts.legacy.version),
    )


def time_frame_from_proto(frame: timeframes_pb2.ScheduleTimeFrame) -> TimeFrame:
    return TimeFrame(
        schedule_id=frame.schedule_id,
        first_event_start=to_instant(frame.first_event_start_date) if frame.HasField("first_event_start_date") else None,
        last_event_end=to_instant(frame.last_event_end_date) if frame.HasField("last_event_end_date") else None,
        event_count=frame.event_count,
    )


# --- staff members and their calendars ------------------------------------------------------------


def staff_member_from_proto(member: staff_members_pb2.StaffMember) -> StaffMember:
    return StaffMember(member.id, member.schedule_id, member.time_zone, frozenset(member.service_ids))


def _local_time(text: str) -> time:
    return time(int(text[:2]), int(text[3:5]))  # "HH:MM", as timeframes stores and answers it


def weekly_rule_from_proto(rule: working_hours_pb2.WeeklyRule) -> WeeklyRule:
    return WeeklyRule(
        day_of_week=rule.day_of_week,
        start=_local_time(rule.start_time),
        end=_local_time(rule.end_time),
        effective_from=date.fromisoformat(rule.effective_from) if rule.effective_from else None,
        effective_to=date.fromisoformat(rule.effective_to) if rule.effective_to else None,
    )


def schedule_hours_from_proto(hours: working_hours_pb2.ScheduleWorkingHours) -> ScheduleHours:
    """A schedule's working hours as ListWorkingHours answers them for a span (a staff member's
    calendar is made of these and their appointments: `staff_calendar`)."""
    return ScheduleHours(
        time_zone=hours.time_zone,
        rules=tuple(weekly_rule_from_proto(r) for r in hours.rules),
        extra_hours=tuple(Interval(to_instant(e.start), to_instant(e.end)) for e in hours.extra_hours),
        time_off=tuple(Interval(to_instant(t.start), to_instant(t.end)) for t in hours.time_off),
        holidays=frozenset(date.fromisoformat(h.local_date) for h in hours.holidays),
    )


def occupied_time_from_proto(occupied: staff_members_pb2.OccupiedTime) -> Interval:
    """An appointment's occupied time (ListOccupiedTime: buffers included, as it was booked)."""
    return Interval(to_instant(occupied.occupied_start), to_instant(occupied.occupied_end))


# --- bookings.availability.v2 (time slots) ---------------------------------------------------------


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


def query_from_proto(request: time_slots_pb2.ListCourseEventTimeSlotsRequest | time_slots_pb2.ListEventTimeSlotsRequest) -> SlotQuery:
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


def paging_proto(page: SlotPage) -> paging_pb2.PagingMetadata:
    return paging_pb2.PagingMetadata(count=len(page.slots), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next)


# --- bookings.availability.v2 (appointment slots) -----------------------------------------------------

DATE_UNAVAILABLE_REASONS = {reason: appointments_pb2.DateUnavailableReason.Value(reason.value) for reason in UnavailableReason}


def appointment_query_from_proto(request: appointments_pb2.ListAvailabilityTimeSlotsRequest) -> AppointmentSlotQuery:
    return AppointmentSlotQuery(
        service_id=request.service_id,
        from_local_date=request.from_local_date,
        to_local_date=request.to_local_date,
        time_zone=request.time_zone,
        staff_member_ids=tuple(request.staff_member_ids),
        include_non_bookable=request.include_non_bookable,
        limit=request.cursor_paging.limit,
        cursor=request.cursor_paging.cursor,
    )


def appointment_lookup_from_proto(request: appointments_pb2.GetAvailabilityTimeSlotRequest) -> AppointmentSlotLookup:
    return AppointmentSlotLookup(
        service_id=request.service_id,
        start=(request.start_date.seconds, request.start_date.nanos) if request.HasField("start_date") else None,
        end=(request.end_date.seconds, request.end_date.nanos) if request.HasField("end_date") else None,
        time_zone=request.time_zone,
        staff_member_ids=tuple(request.staff_member_ids),
    )


def appointment_dates_query_from_proto(request: appointments_pb2.ListAvailabilityDatesRequest) -> AppointmentDatesQuery:
    return AppointmentDatesQuery(
        service_id=request.service_id,
        from_local_date=request.from_local_date,
        to_local_date=request.to_local_date,
        time_zone=request.time_zone,
        staff_member_ids=tuple(request.staff_member_ids),
    )


def _appointment_slot_fields(slot: AppointmentSlot, offering: Offering, zone: ZoneInfo) -> dict[str, object]:
    reasons = slot.reasons
    return {
        "service_id": offering.service_id,
        "local_start_date": to_local_iso(slot.slot.start, zone),
        "local_end_date": to_local_iso(slot.slot.end, zone),
        "bookable": slot.bookable,
        "total_capacity": 1,
        "remaining_capacity": 1 if slot.bookable else 0,
        "available_staff_member_ids": slot.available_staff_member_ids,
        "booking_policy_violations": _violations(slot_violations(offering, slot)),
        "non_bookable_reasons": appointments_pb2.AppointmentNonBookableReasons(
            booked=reasons.booked, time_off=reasons.time_off, holiday=reasons.holiday, violates_booking_policy=reasons.policy
        ),
        "start_date": to_timestamp(slot.slot.start),
        "end_date": to_timestamp(slot.slot.end),
    }


def appointment_slots_proto(page: AppointmentSlotPage) -> appointments_pb2.ListAvailabilityTimeSlotsResponse:
    response = appointments_pb2.ListAvailabilityTimeSlotsResponse(
        time_zone=page.zone.key,
        paging_metadata=paging_pb2.PagingMetadata(count=len(page.slots), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=page.has_next),
    )
    for slot in page.slots:  # built in place (see add_course_slots)
        response.time_slots.add(**_appointment_slot_fields(slot, page.offering, page.zone))
    return response


def appointment_slot_proto(slot: AppointmentSlot, offering: Offering, zone: ZoneInfo) -> appointments_pb2.AvailabilityTimeSlot:
    return appointments_pb2.AvailabilityTimeSlot(**_appointment_slot_fields(slot, offering, zone))


def _date_proto(summary: DateSummary) -> appointments_pb2.AvailabilityDate:
    reason = summary.unavailable_reason
    return appointments_pb2.AvailabilityDate(
        local_date=summary.local_date.isoformat(),
        bookable_slots=summary.bookable_slots,
        unavailable_reason=DATE_UNAVAILABLE_REASONS[reason] if reason is not None else appointments_pb2.DATE_UNAVAILABLE_REASON_UNSPECIFIED,
    )


def appointment_dates_proto(answer: AppointmentDates) -> appointments_pb2.ListAvailabilityDatesResponse:
    next_date = answer.view.next_available
    return appointments_pb2.ListAvailabilityDatesResponse(
        dates=[_date_proto(d) for d in answer.view.dates],
        next_available_date=next_date.isoformat() if next_date is not None else "",
        time_zone=answer.zone.key,
    )


# --- bookings.availability.v1 (the legacy validation API) -------------------------------------------


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


def given_service_from_proto(
    request: availability_calendar_pb2.GetScheduleAvailabilityRequest | availability_calendar_pb2.GetSlotAvailabilityRequest,
) -> Offering | None:
    """The service as the caller read it (optional, so it is not read again)."""
    return offering_from_proto(request.service) if request.HasField("service") else None
