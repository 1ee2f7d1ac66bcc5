"""Appointments at availability's edges (mapping.py): what the catalog, the staff and the working
hours send as domain objects, and the AvailabilityTimeSlots answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as pb
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2
from services.availability.application.appointment_slots import AppointmentDates, AppointmentSlotPage
from services.availability.domain.appointments import AppointmentSlot, DateSummary, DatesView, SlotReasons, StaffMember, UnavailableReason, staff_calendar
from services.availability.domain.model import AppointmentShape, Interval, Offering, ServiceType
from services.availability.entrypoints.grpc import rpc_services
from services.availability.mapping import (
    appointment_dates_proto,
    appointment_slots_proto,
    occupied_time_from_proto,
    offering_from_proto,
    schedule_hours_from_proto,
)
from services.common.timestamps import to_timestamp
from services.common.weekly_rules import WeeklyRule
from tests.unit.availability.helpers import policy

SERVICE, ANNA, BEN = "5e5e5e5e-0000-4000-8000-000000000001", "0a0a0a0a-0000-4000-8000-000000000001", "0b0a0a0a-0000-4000-8000-000000000001"
MINUTE = timedelta(minutes=1)
T = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)  # 09:00 in Vienna


def test_an_appointment_service_carries_its_settings_and_staff() -> None:
    service = services_pb2.Service(
        id=SERVICE,
        type=services_pb2.APPOINTMENT,
        time_zone="Europe/Vienna",
        online_booking_enabled=True,
        appointment=services_pb2.AppointmentSettings(duration_minutes=45, buffer_before_minutes=5, buffer_after_minutes=10),
        staff_member_ids=[BEN, ANNA],
    )
    offering = offering_from_proto(service)
    assert offering.appointment == AppointmentShape(45 * MINUTE, 5 * MINUTE, 10 * MINUTE, None)  # interval 0: the duration
    assert offering.staff_member_ids == (BEN, ANNA)
    service.appointment.slot_interval_minutes = 15
    assert offering_from_proto(service).appointment == AppointmentShape(45 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE)
    service.ClearField("appointment")
    assert offering_from_proto(service).appointment is None


def test_other_services_carry_no_appointment() -> None:
    course = services_pb2.Service(id=SERVICE, type=services_pb2.COURSE, schedule_id="s", time_zone="UTC", default_capacity=5)
    offering = offering_from_proto(course)
    assert (offering.appointment, offering.staff_member_ids) == (None, ())


def test_a_staff_calendar_from_the_working_hours_and_the_occupied_time() -> None:
    def span(message_type: type, hours: int) -> object:
        return message_type(start=to_timestamp(T + timedelta(hours=hours)), end=to_timestamp(T + timedelta(hours=hours + 1)))

    hours = working_hours_pb2.ScheduleWorkingHours(
        schedule_id="sched",
        time_zone="Europe/Vienna",  # the zone the staff member was created with
        rules=[working_hours_pb2.WeeklyRule(day_of_week=1, start_time="09:00", end_time="23:59", effective_from="2026-06-01")],
        time_off=[span(working_hours_pb2.TimeOff, 1)],
        extra_hours=[span(working_hours_pb2.ExtraHours, 20)],
        holidays=[working_hours_pb2.Holiday(local_date="2026-12-25")],
    )
    occupied = staff_members_pb2.OccupiedTime(
        staff_member_id=ANNA,
        start=to_timestamp(T + timedelta(hours=3)),
        end=to_timestamp(T + timedelta(hours=4)),
        occupied_start=to_timestamp(T + timedelta(hours=3) - 5 * MINUTE),
        occupied_end=to_timestamp(T + timedelta(hours=4) + 10 * MINUTE),
    )
    calendar = staff_calendar(
        StaffMember(ANNA, "sched", "Asia/Kolkata", frozenset({SERVICE})), [schedule_hours_from_proto(hours)], [occupied_time_from_proto(occupied)]
    )
    assert calendar.time_zone == "Asia/Kolkata"  # the staff member's zone reads the rules and holidays, also once changed
    assert calendar.rules == (WeeklyRule(1, time(9), time(23, 59), date(2026, 6, 1), None),)
    assert calendar.time_off == (Interval(T + timedelta(hours=1), T + timedelta(hours=2)),)
    assert calendar.extra_hours == (Interval(T + timedelta(hours=20), T + timedelta(hours=21)),)
    assert calendar.holidays == frozenset({date(2026, 12, 25)})
    assert calendar.appointments == (Interval(T + timedelta(hours=3) - 5 * MINUTE, T + timedelta(hours=4) + 10 * MINUTE),)  # buffers included


def test_a_page_of_slots_in_the_response_zone() -> None:
    offering = Offering(SERVICE, ServiceType.APPOINTMENT, "", "Europe/Vienna", True, policy(late=60), appointment=AppointmentShape(30 * MINUTE))
    free = AppointmentSlot(Interval(T, T + 30 * MINUTE), (ANNA, BEN), SlotReasons())
    taken = AppointmentSlot(Interval(T + 30 * MINUTE, T + 60 * MINUTE), (), SlotReasons(booked=True, too_late=True))
    response = appointment_slots_proto(AppointmentSlotPage([free, taken], offering, ZoneInfo("America/New_York"), "next", True))
    first, second = response.time_slots
    assert (first.local_start_date, first.local_end_date, first.bookable, first.remaining_capacity, first.total_capacity) == (
        "2026-06-15T03:00:00",
        "2026-06-15T03:30:00",
        True,
        1,
        1,
    )
    assert (list(first.available_staff_member_ids), first.start_date, first.end_date) == ([ANNA, BEN], to_timestamp(T), to_timestamp(T + 30 * MINUTE))
    assert first.booking_policy_violations.latest_booking_date == to_timestamp(T - 60 * MINUTE)
    assert not first.booking_policy_violations.HasField("earliest_booking_date")
    assert (second.bookable, second.remaining_capacity, list(second.available_staff_member_ids)) == (False, 0, [])
    assert second.non_bookable_reasons == pb.AppointmentNonBookableReasons(booked=True, violates_booking_policy=True)
    assert second.booking_policy_violations.too_late_to_book
    assert (response.time_zone, response.paging_metadata.count, response.paging_metadata.cursors.next, response.paging_metadata.has_next) == (
        "America/New_York",
        2,
        "next",
        True,
    )


def test_the_month_view_names_each_dates_reason() -> None:
    view = DatesView([DateSummary(date(2026, 6, 15), 3, None), DateSummary(date(2026, 6, 16), 0, UnavailableReason.TIME_OFF)], next_available=date(2026, 6, 15))
    response = appointment_dates_proto(AppointmentDates(view, ZoneInfo("Europe/Vienna")))
    assert [(d.local_date, d.bookable_slots, d.unavailable_reason) for d in response.dates] == [
        ("2026-06-15", 3, pb.DATE_UNAVAILABLE_REASON_UNSPECIFIED),
        ("2026-06-16", 0, pb.TIME_OFF),
    ]
    assert (response.next_available_date, response.time_zone) == ("2026-06-15", "Europe/Vienna")
    none_left = appointment_dates_proto(AppointmentDates(DatesView([], None), ZoneInfo("UTC")))
    assert none_left.next_available_date == ""


def test_every_appointment_method_is_served_with_availability_read() -> None:
    scopes = {s.descriptor.full_name: s.scopes for s in rpc_services(None, None, None)}  # type: ignore[arg-type]
    assert scopes["bookings.availability.v2.AvailabilityTimeSlots"] == dict.fromkeys(
        ["ListAvailabilityTimeSlots", "GetAvailabilityTimeSlot", "ListAvailabilityDates"], "availability:read"
    )
