"""The demo tenant `make run` loads, through the public gRPC API only (the same calls as the
`bookings` CLI), so it also shows that the stack works end to end: a course, a class, and a clinic
whose three doctors are booked by appointment.

Idempotent across runs: services and staff members are found by name and reused; the course gets
its sessions only when its schedule has none yet (it is anchored to the day of the first run, so a
later run must not add a second, shifted series); the class gets only the daily sessions of the
next 14 days that it does not have yet (cancelled ones count as present, so a cancellation sticks).
The clinic's doctors get their weekly hours when they have none, a holiday (and one of them a time
off) when they have none ahead, and the consultation gets two appointments when it has none ahead
(cancelled ones count), each on the first slot availability offers from a wall time on: once those
dates have passed, a later run plans new ones ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointment_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.common.v1 import paging_pb2
from services.cli import timeseries
from services.cli.client import DEFAULT_AVAILABILITY_ADDRESS, DEFAULT_SCOPES, MAX_PAGE, Client, instant, timestamp
from services.common.auth import mint_token

DEMO_TENANT = "demo"
TIME_ZONE = "Europe/Vienna"
COURSE_NAME = "Demo course: Pottery basics"
CLASS_NAME = "Demo class: Morning yoga"
COURSE_SESSIONS, COURSE_PAST_SESSIONS, COURSE_AT, COURSE_MINUTES = 10, 2, time(18, 0), 90
CLASS_DAYS, CLASS_AT, CLASS_MINUTES = 14, time(7, 30), 60

CLINIC_NAME = "Demo appointment: Consultation"
CONSULTATION_MINUTES, CONSULTATION_BUFFER_AFTER, CONSULTATION_INTERVAL, CONSULTATION_NOTICE = 30, 10, 15, 60
WEEKDAYS, TUESDAY_TO_FRIDAY, TUESDAY_TO_SATURDAY = range(1, 6), range(2, 6), range(2, 7)  # day_of_week: 1 = Monday .. 7 = Sunday


@dataclass(frozen=True)
class Doctor:
    name: str
    email: str
    days: range
    hours: tuple[str, str]


DOCTORS = (
    Doctor("Dr. Ana Berger", "ana.berger@clinic.example", WEEKDAYS, ("08:00", "16:00")),
    Doctor("Dr. Ben Okafor", "ben.okafor@clinic.example", WEEKDAYS, ("08:00", "16:00")),
    Doctor("Dr. Chiara Russo", "chiara.russo@clinic.example", TUESDAY_TO_SATURDAY, ("10:00", "18:00")),
)
# The clinic closes for a day at least HOLIDAY_AHEAD days ahead, on a Tuesday to Friday (a day all
# three work); Dr. Okafor is away an afternoon at least TIME_OFF_AHEAD days ahead, a weekday.
HOLIDAY_AHEAD, TIME_OFF_AHEAD, TIME_OFF_HOURS = 14, 7, (time(12, 0), time(16, 0))
# Two appointments: (doctor, the first slot from this wall time on, client name, client email).
APPOINTMENTS = (
    ("Dr. Ana Berger", time(9, 0), "Maria Huber", "maria.huber@example.com"),
    ("Dr. Ben Okafor", time(10, 30), "Jonas Weber", "jonas.weber@example.com"),
)
APPOINTMENT_SEARCH_DAYS = 14


@dataclass(frozen=True)
class DemoSummary:
    tenant: str
    course_service_id: str
    course_schedule_id: str
    class_service_id: str
    class_schedule_id: str
    course_events_created: int
    course_event_count: int  # non-cancelled sessions on the course's schedule
    class_events_created: int
    class_event_count: int
    clinic_service_id: str
    clinic_staff_ids: tuple[str, ...]  # in the order of DOCTORS
    appointments_created: int

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        return [
            self.tenant,
            f"  {COURSE_NAME}: service {self.course_service_id}, schedule {self.course_schedule_id} "
            f"({self.course_event_count} sessions, {self.course_events_created} created now)",
            f"  {CLASS_NAME}: service {self.class_service_id}, schedule {self.class_schedule_id} "
            f"({self.class_event_count} sessions, {self.class_events_created} created now)",
            f"  {CLINIC_NAME}: service {self.clinic_service_id} ({self.appointments_created} appointments booked now), staff "
            + ", ".join(f"{d.name} {staff_id}" for d, staff_id in zip(DOCTORS, self.clinic_staff_ids, strict=True)),
        ]


def _course() -> services_pb2.Service:
    return services_pb2.Service(
        type=services_pb2.COURSE,
        name=COURSE_NAME,
        default_capacity=12,
        time_zone=TIME_ZONE,
        online_booking_enabled=True,
        booking_policy=policy_pb2.BookingPolicy(
            limit_late_booking=policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=60),
            book_after_start_policy=policy_pb2.BookAfterStartPolicy(enabled=True),
            participants_policy=policy_pb2.ParticipantsPolicy(max_participants_per_booking=2),
            cancellation_policy=policy_pb2.CancellationPolicy(enabled=True, latest_cancellation_in_minutes=24 * 60),
        ),
    )


def _class() -> services_pb2.Service:
    return services_pb2.Service(type=services_pb2.CLASS, name=CLASS_NAME, default_capacity=15, time_zone=TIME_ZONE, online_booking_enabled=True)


def _ensure_service(client: Client, wanted: services_pb2.Service) -> services_pb2.Service:
    for service in client.iter_services(types=[wanted.type]):
        if service.name == wanted.name:
            return service
    return client.create_service(wanted).service


def _events(schedule_id: str, series: list[timeseries.Occurrence]) -> list[events_pb2.Event]:
    return [events_pb2.Event(schedule_id=schedule_id, start=timestamp(o.start), end=timestamp(o.end)) for o in series]


def course_series(now: datetime) -> list[timeseries.Occurrence]:
    """10 weekly 90-minute sessions at 18:00 Vienna time, exactly 2 of them started before `now`:
    the first is 14 days before the next 18:00 (today's, or tomorrow's once today's has begun)."""
    tz = timeseries.zone(TIME_ZONE)
    next_session = timeseries.next_wall_time(now, tz, COURSE_AT)
    first = next_session - timedelta(weeks=COURSE_PAST_SESSIONS)
    return timeseries.series(first, tz, timedelta(minutes=COURSE_MINUTES), COURSE_SESSIONS, timeseries.Interval(7, "d"))


def class_series(now: datetime) -> list[timeseries.Occurrence]:
    """Daily 60-minute sessions at 07:30 Vienna time for 14 days, starting today (local)."""
    tz = timeseries.zone(TIME_ZONE)
    first = datetime.combine(timeseries.to_local(now, tz).date(), CLASS_AT)
    return timeseries.series(first, tz, timedelta(minutes=CLASS_MINUTES), CLASS_DAYS, timeseries.Interval(1, "d"))


# --- the clinic ---------------------------------------------------------------------------------------


def _consultation(staff_ids: list[str]) -> services_pb2.Service:
    return services_pb2.Service(
        type=services_pb2.APPOINTMENT,
        name=CLINIC_NAME,
        time_zone=TIME_ZONE,
        online_booking_enabled=True,
        appointment=services_pb2.AppointmentSettings(
            duration_minutes=CONSULTATION_MINUTES, buffer_after_minutes=CONSULTATION_BUFFER_AFTER, slot_interval_minutes=CONSULTATION_INTERVAL
        ),
        staff_member_ids=staff_ids,
        booking_policy=policy_pb2.BookingPolicy(
            limit_late_booking=policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=CONSULTATION_NOTICE),
        ),
    )


def _ensure_staff_member(client: Client, doctor: Doctor) -> staff_members_pb2.StaffMember:
    for member in client.iter_staff_members():
        if member.name == doctor.name:
            return member
    return client.create_staff_member(staff_members_pb2.StaffMember(name=doctor.name, email=doctor.email, time_zone=TIME_ZONE)).staff_member


def weekly_rules(doctor: Doctor) -> list[hours_pb2.WeeklyRule]:
    return [hours_pb2.WeeklyRule(day_of_week=day, start_time=doctor.hours[0], end_time=doctor.hours[1]) for day in doctor.days]


def _first_day_from(first: date, days: range) -> date:
    """The first date on or after `first` whose day of the week (1 = Monday) is in `days`."""
    return next(first + timedelta(days=i) for i in range(7) if (first + timedelta(days=i)).isoweekday() in days)


def holiday_date(now: datetime) -> date:
    """The clinic's holiday: the first Tuesday to Friday at least HOLIDAY_AHEAD days after today (Vienna)."""
    today = timeseries.to_local(now, timeseries.zone(TIME_ZONE)).date()
    return _first_day_from(today + timedelta(days=HOLIDAY_AHEAD), TUESDAY_TO_FRIDAY)


def time_off_span(now: datetime) -> tuple[datetime, datetime]:
    """Dr. Okafor's afternoon off: 12:00-16:00 Vienna on the first weekday at least TIME_OFF_AHEAD
    days after today, well before the holiday."""
    tz = timeseries.zone(TIME_ZONE)
    day = _first_day_from(timeseries.to_local(now, tz).date() + timedelta(days=TIME_OFF_AHEAD), WEEKDAYS)
    start, end = (timeseries.resolve(datetime.combine(day, t), tz) for t in TIME_OFF_HOURS)
    return start, end


def _exceptions_ahead(client: Client, schedule_id: str, now: datetime) -> hours_pb2.ListExceptionsResponse:
    return client.list_exceptions(schedule_id, now, now + timedelta(days=365))  # ListExceptions reads at most 366 days


def _first_slot(client: Client, service_id: str, staff_id: str, now: datetime, at: time) -> appointment_pb2.AvailabilityTimeSlot | None:
    """The first slot of the staff member that availability offers as bookable from tomorrow
    (Vienna) on, starting at `at` or later in its day; None when the next days have none."""
    tomorrow = timeseries.to_local(now, timeseries.zone(TIME_ZONE)).date() + timedelta(days=1)
    request = appointment_pb2.ListAvailabilityTimeSlotsRequest(
        service_id=service_id,
        from_local_date=f"{tomorrow}T00:00:00",
        to_local_date=f"{tomorrow + timedelta(days=APPOINTMENT_SEARCH_DAYS)}T00:00:00",
        staff_member_ids=[staff_id],
        cursor_paging=paging_pb2.CursorPaging(limit=MAX_PAGE),
    )
    while True:
        response = client.list_availability_time_slots(request)
        for slot in response.time_slots:
            if datetime.fromisoformat(slot.local_start_date).time() >= at:
                return slot
        if not (response.paging_metadata.has_next and response.paging_metadata.cursors.next):
            return None
        request.cursor_paging.cursor = response.paging_metadata.cursors.next


def _has_appointments_ahead(client: Client, service_id: str, now: datetime) -> bool:
    return any(instant(b.booked_entity.slot.start_date) >= now for b in client.iter_bookings(service_ids=[service_id]))


def _load_clinic(client: Client, now: datetime) -> tuple[services_pb2.Service, list[staff_members_pb2.StaffMember], int]:
    """The doctors with their hours, holiday and time off, the consultation they offer, and its
    two appointments; returns the service, the doctors and how many appointments were booked now."""
    doctors = [_ensure_staff_member(client, d) for d in DOCTORS]
    ids = [m.id for m in doctors]
    consultation = _ensure_service(client, _consultation(ids))
    if not set(ids) <= set(consultation.staff_member_ids):
        # A doctor re-created since (a demo user deleted one) offers the consultation again.
        wanted = services_pb2.Service(id=consultation.id, revision=consultation.revision, staff_member_ids=sorted({*consultation.staff_member_ids, *ids}))
        consultation = client.update_service(wanted, ["staff_member_ids"]).service
    for doctor, member in zip(DOCTORS, doctors, strict=True):
        if not client.list_weekly_rules(member.schedule_id).rules:
            client.set_weekly_rules(member.schedule_id, weekly_rules(doctor))
        ahead = _exceptions_ahead(client, member.schedule_id, now)
        if not ahead.holidays:
            client.create_holiday(member.schedule_id, hours_pb2.Holiday(local_date=holiday_date(now).isoformat(), reason="Clinic closed: team training"))
        if doctor.name == "Dr. Ben Okafor" and not ahead.time_off:
            start, end = time_off_span(now)
            client.create_time_off(member.schedule_id, hours_pb2.TimeOff(start=timestamp(start), end=timestamp(end), reason="Medical conference"))
    booked = 0
    if not _has_appointments_ahead(client, consultation.id, now):
        by_name = {d.name: m for d, m in zip(DOCTORS, doctors, strict=True)}
        for doctor_name, at, client_name, email in APPOINTMENTS:
            slot = _first_slot(client, consultation.id, by_name[doctor_name].id, now, at)
            if slot is None:  # nothing bookable in the next days (a `now` long past): no appointment
                continue
            booking = bookings_pb2.Booking(
                service_id=consultation.id,
                booked_entity=bookings_pb2.BookedEntity(
                    slot=bookings_pb2.Slot(start_date=slot.start_date, end_date=slot.end_date, staff_member_id=by_name[doctor_name].id)
                ),
                number_of_participants=1,
                contact=bookings_pb2.ContactDetails(name=client_name, email=email),
            )
            client.create_booking(booking)
            booked += 1
    return consultation, doctors, booked


def load_demo(
    bookings_address: str,
    timeframes_address: str,
    jwt_secret: str,
    now: datetime | None = None,
    tenant: str = DEMO_TENANT,
    timeout: float = 10.0,
    availability_address: str = DEFAULT_AVAILABILITY_ADDRESS,
) -> DemoSummary:
    """Creates (or finds) the demo course and class of `tenant` and their sessions, and the clinic.
    Raises services.cli.client.CallError when a call fails."""
    now = now or datetime.now(UTC)
    token = mint_token(jwt_secret, tenant_id=tenant, scopes=DEFAULT_SCOPES, subject="devstack:demo", ttl_seconds=600)
    with Client(
        bookings_address=bookings_address, timeframes_address=timeframes_address, availability_address=availability_address, token=token, timeout=timeout
    ) as client:
        course = _ensure_service(client, _course())
        course_created = 0
        if not client.query_events(schedule_ids=[course.schedule_id], include_cancelled=True, limit=1).events:
            course_created = len(client.bulk_create_events(_events(course.schedule_id, course_series(now))).events)

        yoga = _ensure_service(client, _class())
        wanted = class_series(now)
        existing = {
            instant(e.start)
            for e in client.iter_events(
                schedule_ids=[yoga.schedule_id],
                from_date=timestamp(wanted[0].start),
                to_date=timestamp(wanted[-1].start + timedelta(seconds=1)),
                include_cancelled=True,
            )
        }
        missing = [o for o in wanted if o.start not in existing]
        class_created = len(client.bulk_create_events(_events(yoga.schedule_id, missing)).events) if missing else 0

        frames = {f.schedule_id: f for f in client.list_time_frames([course.schedule_id, yoga.schedule_id]).time_frames}
        consultation, doctors, appointments_created = _load_clinic(client, now)
    return DemoSummary(
        tenant=tenant,
        course_service_id=course.id,
        course_schedule_id=course.schedule_id,
        class_service_id=yoga.id,
        class_schedule_id=yoga.schedule_id,
        course_events_created=course_created,
        course_event_count=frames[course.schedule_id].event_count,
        class_events_created=class_created,
        class_event_count=frames[yoga.schedule_id].event_count,
        clinic_service_id=consultation.id,
        clinic_staff_ids=tuple(m.id for m in doctors),
        appointments_created=appointments_created,
    )
