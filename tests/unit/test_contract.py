"""The contract in protos/ holds every name the platform contract fixes (docs/platform.md "Names
fixed by the contract"), and every topic has its reviewed contract file naming real message
types: the ones services/common/topics.py declares."""

import importlib
import re
from pathlib import Path

import pytest

from services.common import topics
from services.devstack.stack import TOPICS

REPO = Path(__file__).resolve().parents[2]

# docs/platform.md "Names fixed by the contract": proto service -> RPCs it must have (module that generates it).
DESIGN_SERVICES = {
    "bookings.catalog.v1.Services": ("bookings.catalog.v1.services_pb2", {"CreateService", "GetService", "QueryServices", "UpdateService", "DeleteService"}),
    "bookings.policies.v1.BookingPolicyProvider": ("bookings.policies.v1.booking_policy_pb2", {"ListBookingPolicies"}),
    "calendar.schedules.v3.Schedules": ("calendar.schedules.v3.schedules_pb2", {"CreateSchedule", "GetSchedule"}),
    "calendar.events.v3.Events": (
        "calendar.events.v3.events_pb2",
        {"CreateEvent", "BulkCreateEvents", "UpdateEvent", "CancelEvent", "GetEvent", "QueryEvents", "UpdateEventParticipants"},
    ),
    "calendar.timeframes.v3.ScheduleTimeFrames": ("calendar.timeframes.v3.timeframes_pb2", {"ListScheduleTimeFrames"}),
    "calendar.working_hours.v1.WorkingHours": (
        "calendar.working_hours.v1.working_hours_pb2",
        {
            "SetWeeklyRules",
            "ListWeeklyRules",
            "CreateTimeOff",
            "DeleteTimeOff",
            "CreateExtraHours",
            "DeleteExtraHours",
            "ListExceptions",
            "CreateHoliday",
            "DeleteHoliday",
        },
    ),
    "bookings.v2.Bookings": (
        "bookings.v2.bookings_pb2",
        {"CreateBooking", "GetBooking", "QueryBookings", "ConfirmBooking", "DeclineBooking", "CancelBooking", "UpdateNumberOfParticipants"},
    ),
    "bookings.participations.v3.Participations": ("bookings.participations.v3.participations_pb2", {"GetParticipation", "QueryParticipations"}),
    "bookings.availability.v2.CourseEventTimeSlots": ("bookings.availability.v2.time_slots_pb2", {"ListCourseEventTimeSlots", "GetCourseEventTimeSlot"}),
    "bookings.availability.v2.EventTimeSlots": ("bookings.availability.v2.time_slots_pb2", {"ListEventTimeSlots", "GetEventTimeSlot"}),
    "bookings.availability.v1.AvailabilityCalendar": ("bookings.availability.v1.availability_calendar_pb2", {"GetScheduleAvailability", "GetSlotAvailability"}),
    "bookings.staff.v1.StaffMembers": (
        "bookings.staff.v1.staff_members_pb2",
        {"CreateStaffMember", "GetStaffMember", "QueryStaffMembers", "UpdateStaffMember", "DeleteStaffMember"},
    ),
    "bookings.availability.v2.AvailabilityTimeSlots": (
        "bookings.availability.v2.availability_time_slots_pb2",
        {"ListAvailabilityTimeSlots", "GetAvailabilityTimeSlot", "ListAvailabilityDates"},
    ),
}


@pytest.mark.parametrize("full_name", sorted(DESIGN_SERVICES))
def test_every_design_service_and_rpc_is_in_the_contract(full_name: str) -> None:
    module_name, rpcs = DESIGN_SERVICES[full_name]
    module = importlib.import_module(f"services.api.{module_name}")
    service = module.DESCRIPTOR.services_by_name[full_name.rsplit(".", 1)[1]]
    assert service.full_name == full_name
    assert rpcs <= {m.name for m in service.methods}


@pytest.mark.parametrize(
    "message, fields",
    [
        ("bookings.catalog.v1.services_pb2.Service", "id type name schedule_id default_capacity time_zone online_booking_enabled booking_policy revision"),
        ("calendar.events.v3.events_pb2.Event", "id schedule_id start end time_zone total_capacity participants_total remaining_capacity status revision"),
        (
            "bookings.availability.v2.time_slots_pb2.ListCourseEventTimeSlotsRequest",
            "service_ids from_local_date to_local_date time_zone include_non_bookable min_bookable_capacity cursor_paging",
        ),
        (
            "bookings.availability.v2.time_slots_pb2.CourseEventTimeSlot",
            "service_id schedule_id event_id local_start_date local_end_date bookable remaining_capacity total_capacity "
            "booking_policy_violations non_bookable_reasons past total_sessions remaining_sessions",
        ),
        ("bookings.v2.bookings_pb2.Booking", "id service_id booked_entity number_of_participants contact status revision created_date"),
        ("bookings.v2.bookings_pb2.Slot", "event_id start_date end_date staff_member_id"),
        ("bookings.staff.v1.staff_members_pb2.StaffMember", "id name email time_zone schedule_id service_ids revision"),
        ("bookings.catalog.v1.services_pb2.AppointmentSettings", "duration_minutes buffer_before_minutes buffer_after_minutes slot_interval_minutes"),
        (
            "bookings.availability.v2.availability_time_slots_pb2.ListAvailabilityTimeSlotsRequest",
            "service_id from_local_date to_local_date time_zone staff_member_ids include_non_bookable cursor_paging",
        ),
        (
            "bookings.availability.v2.availability_time_slots_pb2.AvailabilityTimeSlot",
            "service_id local_start_date local_end_date bookable total_capacity remaining_capacity available_staff_member_ids "
            "booking_policy_violations non_bookable_reasons",
        ),
        (
            "bookings.availability.v2.availability_time_slots_pb2.AppointmentNonBookableReasons",
            "booked time_off calendar_conflict holiday violates_booking_policy",
        ),
        (
            "bookings.availability.v2.availability_time_slots_pb2.ListAvailabilityDatesRequest",
            "service_id from_local_date to_local_date time_zone staff_member_ids",
        ),
        ("bookings.availability.v2.availability_time_slots_pb2.ListAvailabilityDatesResponse", "dates next_available_date"),
        ("bookings.availability.v2.availability_time_slots_pb2.AvailabilityDate", "local_date bookable_slots unavailable_reason"),
        (
            "bookings.policies.v1.booking_policy_pb2.BookingPolicy",
            "limit_early_booking limit_late_booking book_after_start_policy participants_policy cancellation_policy",
        ),
    ],
)
def test_design_field_names_are_kept(message: str, fields: str) -> None:
    module_name, cls = message.rsplit(".", 1)
    descriptor = getattr(importlib.import_module(f"services.api.{module_name}"), cls).DESCRIPTOR
    assert set(fields.split()) <= set(descriptor.fields_by_name)


TOPIC_NAMES = sorted(t for t in TOPICS if not t.endswith(".dlq"))


def test_the_design_topics_are_the_ones_created() -> None:
    design_topics = [
        "bookings.booking-events.v1",
        "bookings.participation-events.v1",
        "bookings.staff-events.v1",
        "calendar.event-events.v1",
        "calendar.working-hours-events.v1",
        "catalog.service-events.v1",
    ]
    assert sorted(design_topics) == TOPIC_NAMES
    assert all(f"{t}.dlq" in TOPICS for t in TOPIC_NAMES)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_every_topic_has_a_contract_naming_real_message_types(topic: str) -> None:
    contract = (REPO / "protos" / "topics" / f"{topic}.md").read_text()
    for heading in ("Producer", "Consumers", "Key", "Partitions", "Retention", "DLQ", "## Example"):
        assert heading in contract, f"{topic} contract lacks {heading}"
    # Package = topic with '-' -> '_'; every `ce_type` row names a message of that package.
    package = topic.replace("-", "_")
    proto = next((REPO / "protos").joinpath(*package.split(".")).glob("*.proto"))
    module = importlib.import_module(f"services.api.{package}.{proto.stem}_pb2")
    rows = re.findall(r"^\| `([a-z_.]+\.v\d+)` \| `(\w+)` \|", contract, re.MULTILINE)
    assert rows, f"{topic} contract lists no message types"
    for ce_type, message in rows:
        assert message in module.DESCRIPTOR.message_types_by_name, f"{ce_type} names unknown message {message}"


@pytest.mark.parametrize("topic", topics.ALL, ids=lambda t: t.name)
def test_the_declared_message_types_of_each_topic_are_those_of_its_contract(topic: topics.Topic) -> None:
    contract = (REPO / "protos" / "topics" / f"{topic.name}.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_.]+\.v\d+)` \| `(\w+)` \|", contract, re.MULTILINE))
    assert rows == {(t.ce_type, t.message.DESCRIPTOR.name) for t in topic.message_types}
