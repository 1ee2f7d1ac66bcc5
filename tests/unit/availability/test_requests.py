"""Availability's request rules (domain/requests.py): every bad field of a request is named in one
answer, before anything is read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.availability.domain.model import AppointmentShape, Offering, ServiceType
from services.availability.domain.requests import (
    MAX_PARTY,
    AppointmentDatesQuery,
    AppointmentSlotLookup,
    AppointmentSlotQuery,
    SlotQuery,
    appointment_slot_query_violations,
    check_appointment_offering,
    check_staff_filter,
    slot_query_violations,
    validate_appointment_dates_query,
    validate_appointment_slot_lookup,
    validate_calendar_request,
    validate_class_lookup,
    validate_course_lookup,
)
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from tests.unit.availability.helpers import slot_query

SERVICE = "0b4a6c8e-0000-4000-8000-000000000001"
SCHEDULE = "0b4a6c8e-0000-4000-8000-000000000002"
OTHER_SCHEDULE = "0b4a6c8e-0000-4000-8000-000000000003"


def query(**fields: object) -> SlotQuery:
    december = {"service_ids": (SERVICE,), "from_local_date": "2026-12-01T00:00:00", "to_local_date": "2026-12-31T00:00:00"}
    return slot_query(**{**december, **fields})


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({}, set(), id="a-valid-query"),
        pytest.param({"service_ids": ("nope",)}, {"service_ids[0]"}, id="a-malformed-service-id"),
        pytest.param({"min_bookable_capacity": MAX_PARTY + 1}, {"min_bookable_capacity"}, id="a-party-too-large"),
        pytest.param({"min_bookable_capacity": -1}, {"min_bookable_capacity"}, id="a-negative-party"),
        pytest.param({"from_local_date": ""}, {"from_local_date"}, id="a-missing-start"),
        pytest.param({"to_local_date": "2026-11-01T00:00:00"}, {"to_local_date"}, id="a-reversed-range"),
        pytest.param({"time_zone": "Mars/Olympus"}, {"time_zone"}, id="an-unknown-zone"),
        pytest.param({"time_zone": ""}, set(), id="no-zone-means-the-business-zone"),
        pytest.param(
            {"service_ids": ("nope",), "min_bookable_capacity": -1, "from_local_date": ""},
            {"service_ids[0]", "min_bookable_capacity", "from_local_date"},
            id="all-named-at-once",
        ),
    ],
)
def test_a_slot_query_names_every_bad_field(fields: dict[str, object], named: set[str]) -> None:
    assert _named(slot_query_violations(query(**fields)).raise_if_any) == named


@pytest.mark.parametrize(
    "event_id, schedule_id, time_zone, party, named",
    [
        pytest.param(SERVICE, "", "", 1, set(), id="by-event"),
        pytest.param("", SCHEDULE, "Europe/Vienna", 0, set(), id="by-schedule"),
        pytest.param("", "", "", 1, {"by"}, id="neither"),
        pytest.param(SERVICE, SCHEDULE, "", 1, {"by"}, id="both"),
        pytest.param("nope", "", "Mars/Olympus", MAX_PARTY + 1, {"event_id", "time_zone", "min_bookable_capacity"}, id="all-named-at-once"),
    ],
)
def test_a_course_lookup_takes_exactly_one_of_event_or_schedule(event_id: str, schedule_id: str, time_zone: str, party: int, named: set[str]) -> None:
    check = lambda: validate_course_lookup(event_id=event_id, schedule_id=schedule_id, time_zone=time_zone, min_bookable_capacity=party)  # noqa: E731
    assert named == _named(check)


def test_a_class_lookup_names_every_bad_field() -> None:
    everything_wrong = _named(lambda: validate_class_lookup(event_id="nope", time_zone="Mars/Olympus", min_bookable_capacity=-1))
    assert everything_wrong == {"event_id", "time_zone", "min_bookable_capacity"}
    assert _named(lambda: validate_class_lookup(event_id=SERVICE, time_zone="", min_bookable_capacity=0)) == set()


@pytest.mark.parametrize(
    "given, given_schedule, owned, named",
    [
        pytest.param(None, "", SCHEDULE, set(), id="no-service-passed"),
        pytest.param(SERVICE, SCHEDULE, SCHEDULE, set(), id="the-service-owns-the-schedule"),
        pytest.param(SERVICE, OTHER_SCHEDULE, SCHEDULE, {"service.schedule_id"}, id="a-service-of-another-schedule"),
        pytest.param("nope", SCHEDULE, None, {"service.id"}, id="a-malformed-service-id"),
        pytest.param(SERVICE, OTHER_SCHEDULE, None, set(), id="an-events-schedule-is-checked-once-read"),
    ],
)
def test_a_calendar_request_checks_a_passed_service_owns_what_is_asked(given: str | None, given_schedule: str, owned: str | None, named: set[str]) -> None:
    assert _named(lambda: validate_calendar_request("schedule_id", SCHEDULE, 1, given, given_schedule, owned)) == named


def _named(check: object) -> set[str]:
    try:
        check()  # type: ignore[operator]
    except InvalidArgument as exc:
        return {v.field for v in exc.violations}
    return set()


# --- appointments ----------------------------------------------------------------------------------

STAFF = [f"0b4a6c8e-0000-4000-8000-0000000001{i:02d}" for i in range(101)]


def appointment_query(**fields: object) -> AppointmentSlotQuery:
    values: dict[str, object] = {
        "service_id": SERVICE,
        "from_local_date": "2026-12-01T00:00:00",
        "to_local_date": "2027-01-01T00:00:00",  # 31 days: the longest range
        "time_zone": "Europe/Vienna",
        "staff_member_ids": (),
        "include_non_bookable": False,
        "limit": 0,
        "cursor": "",
    }
    values.update(fields)
    return AppointmentSlotQuery(**values)  # type: ignore[arg-type]


STAFF_FILTERS = [
    pytest.param({"staff_member_ids": tuple(STAFF[:100])}, set(), id="100-staff-members"),
    pytest.param({"staff_member_ids": tuple(STAFF)}, {"staff_member_ids"}, id="over-100-staff-members"),
    pytest.param({"staff_member_ids": (STAFF[0], "nope")}, {"staff_member_ids[1]"}, id="a-malformed-staff-id"),
    pytest.param({"staff_member_ids": (STAFF[0], STAFF[0])}, {"staff_member_ids"}, id="a-repeated-staff-id"),
    pytest.param({"service_id": ""}, {"service_id"}, id="no-service"),
    pytest.param({"service_id": SERVICE.upper()}, {"service_id"}, id="a-service-id-not-in-canonical-form"),
    pytest.param({"time_zone": "Mars/Olympus"}, {"time_zone"}, id="an-unknown-zone"),
    pytest.param({"time_zone": ""}, set(), id="no-zone-means-the-services"),
]


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({}, set(), id="a-valid-query-of-31-days"),
        *STAFF_FILTERS,
        pytest.param({"to_local_date": "2027-01-01T00:00:01"}, {"to_local_date"}, id="a-second-over-31-days"),
        pytest.param({"to_local_date": "2026-12-01T00:00:00"}, {"to_local_date"}, id="an-empty-range"),
        pytest.param({"to_local_date": "2026-11-30T00:00:00"}, {"to_local_date"}, id="a-reversed-range"),
        pytest.param({"from_local_date": "2026-12-01T00:00:00Z"}, {"from_local_date"}, id="an-instant-instead-of-a-local-time"),
        pytest.param({"from_local_date": "1899-12-31T00:00:00"}, {"from_local_date"}, id="before-the-instant-range"),
        pytest.param({"from_local_date": "", "service_id": "nope", "time_zone": "x"}, {"from_local_date", "service_id", "time_zone"}, id="all-named-at-once"),
    ],
)
def test_an_appointment_slot_query_names_every_bad_field(fields: dict[str, object], named: set[str]) -> None:
    assert _named(appointment_slot_query_violations(appointment_query(**fields)).raise_if_any) == named


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({}, set(), id="a-valid-query-of-62-dates"),
        *STAFF_FILTERS,
        pytest.param({"to_local_date": "2026-12-01"}, set(), id="one-date"),
        pytest.param({"to_local_date": "2027-02-01"}, {"to_local_date"}, id="63-dates"),
        pytest.param({"to_local_date": "2026-11-30"}, {"to_local_date"}, id="a-reversed-range"),
        pytest.param({"from_local_date": "2026-12-01T00:00:00"}, {"from_local_date"}, id="a-date-time-instead-of-a-date"),
        pytest.param({"from_local_date": "20261201"}, {"from_local_date"}, id="a-date-without-dashes"),
        pytest.param({"from_local_date": "2026-02-30"}, {"from_local_date"}, id="a-date-the-calendar-lacks"),
        pytest.param({"from_local_date": "١٢٣٤-٠١-٠١"}, {"from_local_date"}, id="other-scripts-digits"),
        pytest.param({"from_local_date": "1899-12-31", "to_local_date": "3000-01-01"}, {"from_local_date", "to_local_date"}, id="outside-the-range"),
        pytest.param({"from_local_date": "", "to_local_date": ""}, {"from_local_date", "to_local_date"}, id="both-required"),
    ],
)
def test_an_appointment_dates_query_names_every_bad_field(fields: dict[str, object], named: set[str]) -> None:
    values: dict[str, object] = {"service_id": SERVICE, "from_local_date": "2026-12-01", "to_local_date": "2027-01-31", "time_zone": "Europe/Vienna"}
    values.update({k: v for k, v in fields.items() if k in ("service_id", "from_local_date", "to_local_date", "time_zone")})
    query = AppointmentDatesQuery(staff_member_ids=fields.get("staff_member_ids", ()), **values)  # type: ignore[arg-type]
    assert _named(lambda: validate_appointment_dates_query(query)) == named


def test_an_appointment_dates_query_gives_its_dates() -> None:
    query = AppointmentDatesQuery(SERVICE, "2026-12-01", "2027-01-31", "", ())
    assert validate_appointment_dates_query(query) == (date(2026, 12, 1), date(2027, 1, 31))


START = (1_781_000_000, 0)  # 2026-06-09 10:13:20 UTC


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({}, set(), id="a-valid-lookup"),
        *STAFF_FILTERS,
        pytest.param({"start": None, "end": None}, {"start_date", "end_date"}, id="both-instants-required"),
        pytest.param({"end": START}, {"end_date"}, id="an-empty-slot"),
        pytest.param({"end": (START[0] - 1, 0)}, {"end_date"}, id="end-before-start"),
        pytest.param({"start": (START[0], 1_000_000_000)}, {"start_date"}, id="nanos-out-of-range"),
        pytest.param({"start": (-2_300_000_000, 0)}, {"start_date"}, id="before-the-instant-range"),
    ],
)
def test_an_appointment_slot_lookup_names_every_bad_field(fields: dict[str, object], named: set[str]) -> None:
    values: dict[str, object] = {"service_id": SERVICE, "start": START, "end": (START[0] + 1800, 0), "time_zone": "", "staff_member_ids": ()}
    values.update(fields)
    lookup = AppointmentSlotLookup(**values)  # type: ignore[arg-type]
    assert _named(lambda: validate_appointment_slot_lookup(lookup)) == named


def test_an_appointment_slot_lookup_gives_its_instants() -> None:
    start, end = validate_appointment_slot_lookup(AppointmentSlotLookup(SERVICE, START, (START[0] + 1800, 500_999), "", ()))
    assert (start, end - start) == (datetime(2026, 6, 9, 10, 13, 20, tzinfo=UTC), timedelta(minutes=30, microseconds=500))


APPOINTMENT = Offering(SERVICE, ServiceType.APPOINTMENT, "", "Europe/Vienna", True, appointment=AppointmentShape(timedelta(minutes=30)))


@pytest.mark.parametrize(
    "offering, error, detail",
    [
        pytest.param(APPOINTMENT, None, None, id="an-appointment"),
        pytest.param(None, NotFound, "service", id="none-not-found"),
        pytest.param(replace(APPOINTMENT, type=ServiceType.COURSE), InvalidArgument, "use ListCourseEventTimeSlots", id="a-course"),
        pytest.param(replace(APPOINTMENT, type=ServiceType.CLASS), InvalidArgument, "use ListEventTimeSlots", id="a-class"),
        pytest.param(replace(APPOINTMENT, type=ServiceType.UNSPECIFIED), InvalidArgument, "not an APPOINTMENT", id="a-type-unknown-here"),
        pytest.param(replace(APPOINTMENT, appointment=None), FailedPrecondition, "APPOINTMENT_NOT_SET_UP", id="without-settings"),
    ],
)
def test_the_service_asked_must_be_an_appointment(offering: Offering | None, error: type[Exception] | None, detail: str | None) -> None:
    if error is None:
        assert check_appointment_offering(offering, SERVICE) == (APPOINTMENT, APPOINTMENT.appointment)
        return
    with pytest.raises(error) as exc:
        check_appointment_offering(offering, SERVICE)
    raised = exc.value
    said = raised.violations[0].description if isinstance(raised, InvalidArgument) else f"{raised} {getattr(raised, 'reason', '')}"
    assert detail is not None and detail in said


def test_each_asked_staff_member_is_named_when_not_offering_the_service() -> None:
    assert _named(lambda: check_staff_filter([STAFF[0], STAFF[1], STAFF[2]], {STAFF[1]})) == {"staff_member_ids[0]", "staff_member_ids[2]"}
    assert _named(lambda: check_staff_filter([], set())) == set()
