"""The demo tenant loader (services/devstack/demo.py) against the real platform: what it creates,
that a second run creates nothing, that a later run adds only the missing class days and keeps a
cancellation, that everything lands in the tenant it is given, and that the clinic's consultation
has its doctors, hours, holiday, time off, two appointments and bookable slots. Each test loads
into its own tenant; the date arithmetic itself is in tests/unit/cli/test_demo_series.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointment_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.cli.client import Client, instant
from services.devstack import demo
from services.devstack.stack import Platform
from tests.support import token

pytestmark = pytest.mark.integration

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VIENNA = ZoneInfo("Europe/Vienna")


@pytest.fixture
def load(platform: Platform, tenant: str):  # type: ignore[no-untyped-def]
    """load(now=None, tenant=<the test's>) -> DemoSummary, against the real services."""

    def run(now: datetime | None = None, tenant: str = tenant) -> demo.DemoSummary:
        return demo.load_demo(
            platform.address("bookings"),
            platform.address("timeframes"),
            platform.jwt_secret,
            now=now,
            tenant=tenant,
            availability_address=platform.address("availability"),
        )

    return run


@pytest.fixture
def client_of(platform: Platform) -> Iterator[Any]:
    """client_of(tenant) -> a Client of the services with a test-minted token for `tenant`."""
    clients: list[Client] = []

    def make(tenant: str) -> Client:
        client = Client(
            bookings_address=platform.address("bookings"),
            timeframes_address=platform.address("timeframes"),
            availability_address=platform.address("availability"),
            token=token(tenant),
            timeout=15,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def events_of(client: Client, schedule_id: str) -> list[events_pb2.Event]:
    return sorted(client.iter_events(schedule_ids=[schedule_id], include_cancelled=True), key=lambda e: instant(e.start))


def test_loading_twice_creates_everything_once(load: Any, client_of: Any, tenant: str) -> None:
    first = load(MORNING)
    second = load(MORNING + timedelta(hours=1))

    assert (first.course_events_created, first.class_events_created) == (10, 14)
    assert (second.course_events_created, second.class_events_created) == (0, 0)
    assert (second.course_event_count, second.class_event_count) == (10, 14)
    assert (first.course_service_id, first.course_schedule_id, first.class_service_id, first.class_schedule_id) == (
        second.course_service_id,
        second.course_schedule_id,
        second.class_service_id,
        second.class_schedule_id,
    )

    assert (first.clinic_service_id, first.clinic_staff_ids) == (second.clinic_service_id, second.clinic_staff_ids)
    assert second.appointments_created == 0

    client = client_of(tenant)
    services = {s.id: s for s in client.iter_services()}
    assert set(services) == {first.course_service_id, first.class_service_id, first.clinic_service_id}
    assert len(list(client.iter_staff_members())) == 3
    course, yoga = services[first.course_service_id], services[first.class_service_id]
    assert (course.type, course.name, course.default_capacity, course.time_zone) == (services_pb2.COURSE, "Demo course: Pottery basics", 12, "Europe/Vienna")
    policy = course.booking_policy
    assert (policy.limit_late_booking.enabled, policy.limit_late_booking.latest_booking_in_minutes) == (True, 60)
    assert policy.book_after_start_policy.enabled and policy.participants_policy.max_participants_per_booking == 2
    assert (policy.cancellation_policy.enabled, policy.cancellation_policy.latest_cancellation_in_minutes) == (True, 1440)
    assert not policy.limit_early_booking.enabled
    assert (yoga.type, yoga.name, yoga.default_capacity, yoga.time_zone) == (services_pb2.CLASS, "Demo class: Morning yoga", 15, "Europe/Vienna")
    assert (first.course_schedule_id, first.class_schedule_id) == (course.schedule_id, yoga.schedule_id)

    course_events, class_events = events_of(client, course.schedule_id), events_of(client, yoga.schedule_id)
    assert [instant(e.start) for e in course_events] == [o.start for o in demo.course_series(MORNING)]
    assert [instant(e.start) for e in class_events] == [o.start for o in demo.class_series(MORNING)]
    assert any(first.course_service_id in line for line in first.lines())


def test_a_later_run_adds_only_the_missing_class_days_and_keeps_cancellations(load: Any, client_of: Any, tenant: str) -> None:
    first = load(MORNING)
    client = client_of(tenant)
    fourth = events_of(client, first.class_schedule_id)[3]  # 4 December
    client.cancel_event(fourth.id, fourth.revision)

    later = load(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))

    assert later.course_events_created == 0  # the course is anchored to the first run
    assert later.class_events_created == 2  # 15 and 16 December; the cancelled 4 December stays cancelled
    assert later.class_event_count == 14 + 2 - 1
    class_events = events_of(client, first.class_schedule_id)
    assert len(class_events) == 16
    assert [e.id for e in class_events if e.status == events_pb2.CANCELLED] == [fourth.id]
    assert len(events_of(client, first.course_schedule_id)) == 10


def test_everything_lands_in_the_tenant_given(load: Any, client_of: Any, tenant: str, other_tenant: str) -> None:
    summary = load(MORNING, tenant=tenant)

    assert summary.tenant == tenant
    mine, other = client_of(tenant), client_of(other_tenant)
    assert {s.id for s in mine.iter_services()} == {summary.course_service_id, summary.class_service_id, summary.clinic_service_id}
    assert list(other.iter_services()) == [] and list(other.iter_staff_members()) == [] and list(other.iter_bookings()) == []
    assert list(other.iter_events(schedule_ids=[summary.course_schedule_id, summary.class_schedule_id], include_cancelled=True)) == []
    frames = {f.schedule_id: f.event_count for f in mine.list_time_frames([summary.course_schedule_id, summary.class_schedule_id]).time_frames}
    assert frames == {summary.course_schedule_id: 10, summary.class_schedule_id: 14}


def test_loading_now_puts_two_course_sessions_in_the_past(load: Any, client_of: Any, tenant: str) -> None:
    summary = load()

    now = datetime.now(UTC)
    course_events = events_of(client_of(tenant), summary.course_schedule_id)
    assert len(course_events) == 10
    assert sum(instant(e.start) < now for e in course_events) == 2


def test_the_clinic_has_its_doctors_hours_exceptions_two_appointments_and_bookable_slots(load: Any, client_of: Any, tenant: str) -> None:
    summary = load()
    again = load()

    assert (summary.appointments_created, again.appointments_created) == (2, 0)
    assert (again.clinic_service_id, again.clinic_staff_ids) == (summary.clinic_service_id, summary.clinic_staff_ids)
    client = client_of(tenant)
    consultation = client.get_service(summary.clinic_service_id).service
    settings = consultation.appointment
    assert (consultation.type, consultation.name, consultation.time_zone) == (services_pb2.APPOINTMENT, "Demo appointment: Consultation", "Europe/Vienna")
    assert (settings.duration_minutes, settings.buffer_before_minutes, settings.buffer_after_minutes, settings.slot_interval_minutes) == (30, 0, 10, 15)
    late = consultation.booking_policy.limit_late_booking
    assert (late.enabled, late.latest_booking_in_minutes) == (True, 60)
    assert sorted(consultation.staff_member_ids) == sorted(summary.clinic_staff_ids)

    doctors = {m.id: m for m in client.iter_staff_members()}
    assert [doctors[i].name for i in summary.clinic_staff_ids] == ["Dr. Ana Berger", "Dr. Ben Okafor", "Dr. Chiara Russo"]
    now = datetime.now(UTC)
    holidays = set()
    for doctor, staff_id in zip(demo.DOCTORS, summary.clinic_staff_ids, strict=True):
        schedule_id = doctors[staff_id].schedule_id
        rules = client.list_weekly_rules(schedule_id).rules
        assert [(r.day_of_week, r.start_time, r.end_time) for r in rules] == [(d, *doctor.hours) for d in doctor.days]
        ahead = client.list_exceptions(schedule_id, now, now + timedelta(days=365))
        holidays |= {h.local_date for h in ahead.holidays}
        assert len(ahead.holidays) == 1
        assert len(ahead.time_off) == (1 if doctor.name == "Dr. Ben Okafor" else 0)
    assert len(holidays) == 1  # the clinic's day: every doctor's

    appointments = list(client.iter_bookings(service_ids=[consultation.id]))
    assert sorted(b.booked_entity.slot.staff_member_id for b in appointments) == sorted(summary.clinic_staff_ids[:2])
    assert all(b.status == bookings_pb2.CONFIRMED and instant(b.booked_entity.slot.start_date) > now for b in appointments)

    tomorrow = datetime.now(VIENNA).date() + timedelta(days=1)
    dates = client.list_availability_dates(
        appointment_pb2.ListAvailabilityDatesRequest(service_id=consultation.id, from_local_date=str(tomorrow), to_local_date=str(tomorrow + timedelta(days=6)))
    )
    assert sum(d.bookable_slots for d in dates.dates) > 0 and dates.next_available_date
    (holiday,) = holidays
    on_the_holiday = appointment_pb2.ListAvailabilityDatesRequest(service_id=consultation.id, from_local_date=holiday, to_local_date=holiday)
    closed = client.list_availability_dates(on_the_holiday)
    assert [(d.bookable_slots, d.unavailable_reason) for d in closed.dates] == [(0, appointment_pb2.HOLIDAY)]
    slots = client.list_availability_time_slots(
        appointment_pb2.ListAvailabilityTimeSlotsRequest(
            service_id=consultation.id, from_local_date=f"{tomorrow}T00:00:00", to_local_date=f"{tomorrow + timedelta(days=7)}T00:00:00"
        )
    )
    assert slots.time_slots and all(s.bookable for s in slots.time_slots)
