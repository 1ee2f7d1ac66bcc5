"""How the appointment commands show what the services answered (the `show_*` functions of
services/cli/staff.py, hours.py, availability.py and bookings.py, and the words in slots.py):
built from protobuf messages and printed to a string, no server. The same output against the
real platform is in tests/integration/test_cli_appointments.py."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from google.protobuf import timestamp_pb2

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointment_pb2
from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.cli import slots
from services.cli.availability import show_appointment_dates, show_appointment_slots
from services.cli.bookings import AppointmentView, booked_entity, show_booking
from services.cli.hours import Calendar, show_exceptions, show_rules
from services.cli.render import Renderer, local_span
from services.cli.staff import show_staff_member

VIENNA = ZoneInfo("Europe/Vienna")
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # Tue 8 Dec 00:00 in Vienna
ANA, BEN = "0b6f3c1e-0000-4000-8000-00000000000a", "0b6f3c1e-0000-4000-8000-00000000000b"
STAFF = {ANA: "Dr. Ana Berger", BEN: "Dr. Ben Okafor"}


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(instant)
    return t


def render(show: object, *args: object, as_json: bool = False, **kwargs: object) -> str:
    out = io.StringIO()
    show(Renderer(as_json=as_json, out=out, err=io.StringIO()), *args, **kwargs)  # type: ignore[operator]
    return out.getvalue()


def slot(start: str, end: str, *, free: tuple[str, ...] = (), **reasons: bool) -> appointment_pb2.AvailabilityTimeSlot:
    return appointment_pb2.AvailabilityTimeSlot(
        service_id="svc",
        local_start_date=start,
        local_end_date=end,
        bookable=bool(free),
        total_capacity=1,
        remaining_capacity=1 if free else 0,
        available_staff_member_ids=list(free),
        non_bookable_reasons=appointment_pb2.AppointmentNonBookableReasons(**reasons),
    )


# --- the words ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        pytest.param(slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", free=(ANA,)), [], id="bookable: nothing to say"),
        pytest.param(slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", booked=True), ["booked"], id="booked"),
        pytest.param(
            slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", booked=True, time_off=True),
            ["booked", "time off"],
            id="nobody free: every staff member's reason together",
        ),
        pytest.param(slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", holiday=True), ["holiday"], id="holiday"),
        pytest.param(slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", calendar_conflict=True), ["calendar conflict"], id="calendar conflict"),
        pytest.param(slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", violates_booking_policy=True), ["a booking policy forbids it"], id="an unnamed policy"),
    ],
)
def test_why_an_appointment_slot_is_not_bookable(s: appointment_pb2.AvailabilityTimeSlot, expected: list[str]) -> None:
    assert slots.appointment_why_not(s, zone=VIENNA, now=NOW) == expected


def test_the_minimum_notice_comes_first_and_says_when_booking_closed() -> None:
    s = slot("2026-12-08T00:30:00", "2026-12-08T01:00:00", booked=True, violates_booking_policy=True)
    s.booking_policy_violations.CopyFrom(time_slots_pb2.BookingPolicyViolations(too_late_to_book=True, latest_booking_date=ts(NOW - timedelta(minutes=30))))

    assert slots.appointment_why_not(s, zone=VIENNA, now=NOW) == ["too late to book (closed Mon 7 Dec 23:30)", "booked"]


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        pytest.param(appointment_pb2.NO_SERVICE_HOURS, "no working hours", id="no hours"),
        pytest.param(appointment_pb2.FULLY_BOOKED, "fully booked", id="fully booked"),
        pytest.param(appointment_pb2.HOLIDAY, "holiday", id="holiday"),
        pytest.param(appointment_pb2.TIME_OFF, "time off", id="time off"),
        pytest.param(appointment_pb2.TOO_LATE, "too late to book", id="too late"),
        pytest.param(appointment_pb2.TOO_EARLY, "not open yet", id="too early"),
        pytest.param(appointment_pb2.BOOK_ONLINE_DISABLED, "online booking off", id="online booking off"),
        pytest.param(appointment_pb2.DATE_UNAVAILABLE_REASON_UNSPECIFIED, "not bookable", id="unspecified"),
    ],
)
def test_why_a_date_has_no_slot(reason: int, words: str) -> None:
    assert slots.date_reason(reason) == words


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        pytest.param(datetime(2026, 12, 8, 8, 0, tzinfo=UTC), datetime(2026, 12, 8, 8, 30, tzinfo=UTC), "Tue 2026-12-08 09:00–09:30 CET", id="one day"),
        pytest.param(
            datetime(2026, 12, 24, 22, 0, tzinfo=UTC), datetime(2026, 12, 27, 8, 0, tzinfo=UTC), "Thu 2026-12-24 23:00–Sun 2026-12-27 09:00 CET", id="days"
        ),
        pytest.param(
            datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "Sun 2027-03-28 01:30 CET–03:30 CEST", id="the clocks change"
        ),
    ],
)
def test_a_span_of_instants_in_local_time(start: datetime, end: datetime, text: str) -> None:
    assert local_span(start, end, VIENNA) == text


# --- tables ---------------------------------------------------------------------------------------------


def test_slots_show_local_times_free_staff_by_name_and_why_not_then_how_to_book() -> None:
    response = appointment_pb2.ListAvailabilityTimeSlotsResponse(
        time_zone="Europe/Vienna",
        time_slots=[
            slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", free=(ANA, BEN)),
            slot("2026-12-08T09:15:00", "2026-12-08T09:45:00", booked=True, time_off=True),
        ],
    )

    text = render(show_appointment_slots, response, name="Consultation", staff=STAFF, now=NOW, window="w", book="bookings book appointment --service svc")

    assert text.splitlines()[0] == "Consultation · appointment svc" and "times in Europe/Vienna" in text
    rows = [line for line in text.splitlines() if "2026-12-08" in line and "│" in line]
    assert "Tue 2026-12-08 09:00–09:30 CET" in rows[0] and "yes" in rows[0] and "Dr. Ana Berger, Dr. Ben Okafor" in rows[0]
    assert "Tue 2026-12-08 09:15–09:45 CET" in rows[1] and "no" in rows[1] and "booked; time off" in rows[1]
    assert "Book: bookings book appointment --service svc --start 2026-12-08T09:00 --name NAME --email EMAIL [--staff ID]" in text


def test_slots_without_a_name_show_the_staff_id_and_an_empty_window_says_so() -> None:
    one = slot("2026-12-08T09:00:00", "2026-12-08T09:30:00", free=(ANA,))
    response = appointment_pb2.ListAvailabilityTimeSlotsResponse(time_zone="Europe/Vienna", time_slots=[one])
    assert ANA in render(show_appointment_slots, response, name="", staff={}, now=NOW, window="w", book="b")

    empty = appointment_pb2.ListAvailabilityTimeSlotsResponse(time_zone="Europe/Vienna")
    text = render(show_appointment_slots, empty, name="", staff={}, now=NOW, window="from 2026-12-08 00:00 to 2026-12-09 00:00", book="b")
    assert text.strip() == "No slots from 2026-12-08 00:00 to 2026-12-09 00:00 (times in Europe/Vienna)"


def test_dates_show_each_date_with_its_count_or_why_none_and_the_next_available_date() -> None:
    response = appointment_pb2.ListAvailabilityDatesResponse(
        time_zone="Europe/Vienna",
        dates=[
            appointment_pb2.AvailabilityDate(local_date="2026-12-12", unavailable_reason=appointment_pb2.NO_SERVICE_HOURS),
            appointment_pb2.AvailabilityDate(local_date="2026-12-14", bookable_slots=28),
        ],
        next_available_date="2026-12-14",
    )

    text = render(show_appointment_dates, response, service_id="svc", name="Consultation")

    assert text.splitlines()[0] == "Consultation · appointment svc · dates" and "dates in Europe/Vienna" in text
    assert any("Sat 2026-12-12" in line and "0" in line and "no working hours" in line for line in text.splitlines())
    assert any("Mon 2026-12-14" in line and "28" in line for line in text.splitlines())
    assert "Next available date: Mon 2026-12-14" in text
    none_ahead = appointment_pb2.ListAvailabilityDatesResponse(time_zone="Europe/Vienna")
    assert "No available date ahead" in render(show_appointment_dates, none_ahead, service_id="svc", name="")


def test_weekly_rules_are_a_row_each_with_when_they_are_in_force() -> None:
    response = hours_pb2.ListWeeklyRulesResponse(
        rules=[
            hours_pb2.WeeklyRule(day_of_week=1, start_time="09:00", end_time="17:00", effective_to="2026-12-31"),
            hours_pb2.WeeklyRule(day_of_week=1, start_time="10:00", end_time="18:00", effective_from="2027-01-01"),
            hours_pb2.WeeklyRule(day_of_week=6, start_time="10:00", end_time="14:00"),
        ]
    )
    calendar = Calendar("sched", "Dr. Ana Berger (staff member a)")

    text = render(show_rules, response, calendar=calendar, zone=VIENNA, verb="Set")

    assert text.splitlines()[0] == "Set the weekly hours of Dr. Ana Berger (staff member a): 3 rules"
    assert "local wall-clock times in Europe/Vienna" in text
    assert render(show_rules, response, calendar=calendar, zone=VIENNA).splitlines()[0] == "Weekly hours of Dr. Ana Berger (staff member a): 3 rules"
    rows = [line for line in text.splitlines() if "│" in line]  # the header is drawn with ┃
    assert len(rows) == 3
    assert "Monday" in rows[0] and "09:00–17:00" in rows[0] and "until 2026-12-31" in rows[0]
    assert "Monday" in rows[1] and "10:00–18:00" in rows[1] and "from 2027-01-01" in rows[1]
    assert "Saturday" in rows[2] and "always" in rows[2]
    assert json.loads(render(show_rules, response, as_json=True, calendar=calendar, zone=None))["rules"][2] == {
        "day_of_week": 6,
        "start_time": "10:00",
        "end_time": "14:00",
        "effective_from": "",
        "effective_to": "",
    }


def test_exceptions_are_one_table_in_time_order() -> None:
    response = hours_pb2.ListExceptionsResponse(
        time_off=[
            hours_pb2.TimeOff(id="t1", start=ts(datetime(2026, 12, 24, 8, tzinfo=UTC)), end=ts(datetime(2026, 12, 24, 12, tzinfo=UTC)), reason="Dentist")
        ],
        extra_hours=[hours_pb2.ExtraHours(id="e1", start=ts(datetime(2026, 12, 27, 9, tzinfo=UTC)), end=ts(datetime(2026, 12, 27, 13, tzinfo=UTC)))],
        holidays=[hours_pb2.Holiday(id="h1", local_date="2026-12-25", reason="Christmas")],
    )

    text = render(show_exceptions, response, calendar=Calendar("s", "schedule s"), zone=VIENNA, window="from 2026-12-01 00:00 to 2027-01-01 00:00")

    assert text.splitlines()[0] == "Time off, extra hours and holidays of schedule s: 3"
    rows = [line for line in text.splitlines() if any(i in line for i in ("t1", "e1", "h1"))]
    assert len(rows) == 3 and "t1" in rows[0] and "h1" in rows[1] and "e1" in rows[2]
    assert "Thu 2026-12-24 09:00–13:00 CET" in rows[0] and "Dentist" in rows[0]
    assert "Fri 2026-12-25 (all day)" in rows[1] and "Christmas" in rows[1]
    assert "extra hours" in rows[2] and "Sun 2026-12-27 10:00–14:00 CET" in rows[2]


def test_a_created_staff_member_shows_its_ids_first_and_what_to_do_next() -> None:
    member = staff_members_pb2.StaffMember(id="m", name="Dr. Ana Berger", time_zone="Europe/Vienna", schedule_id="sched", service_ids=["s1", "s2"], revision=1)

    text = render(show_staff_member, staff_members_pb2.CreateStaffMemberResponse(staff_member=member), verb="Created")

    assert text.splitlines()[:3] == ["Created staff member 'Dr. Ana Berger'", "staff member id: m", "schedule id: sched"]
    assert "s1, s2" in text and 'Next: bookings hours set --staff m --rule "mon-fri 09:00-17:00"' in text


def appointment(start: datetime, minutes: int = 30) -> bookings_pb2.Booking:
    slot = bookings_pb2.Slot(start_date=ts(start), end_date=ts(start + timedelta(minutes=minutes)), staff_member_id=ANA)
    return bookings_pb2.Booking(
        id="b",
        service_id="svc",
        booked_entity=bookings_pb2.BookedEntity(slot=slot),
        number_of_participants=1,
        contact=bookings_pb2.ContactDetails(name="Ada", email="ada@example.com"),
        status=bookings_pb2.CONFIRMED,
        revision=1,
    )


def test_a_booked_appointment_says_when_and_with_whom() -> None:
    response = bookings_pb2.CreateBookingResponse(booking=appointment(datetime(2026, 12, 8, 8, 0, tzinfo=UTC)))

    text = render(show_booking, response, verb="Booked appointment", appointment=AppointmentView(VIENNA, "Dr. Ana Berger"))

    assert text.splitlines()[:2] == ["Booked appointment: Tue 2026-12-08 09:00–09:30 CET with Dr. Ana Berger, CONFIRMED", "booking id: b"]
    assert f"Dr. Ana Berger ({ANA})" in text and "class event" not in text


def test_an_appointment_without_its_zone_is_in_utc_and_listed_by_its_utc_time() -> None:
    booking = appointment(datetime(2026, 12, 8, 8, 0, tzinfo=UTC))

    assert "Tue 2026-12-08 08:00–08:30 UTC" in render(show_booking, bookings_pb2.GetBookingResponse(booking=booking))
    assert booked_entity(booking) == "appointment 2026-12-08 08:00–08:30 UTC"
    assert booked_entity(bookings_pb2.Booking(booked_entity=bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(event_id="e")))) == "class event e"
