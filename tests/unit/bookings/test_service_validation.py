"""Creating a catalog service: every field's rule, named by its proto path (services.proto)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.bookings.domain.policies import (
    BookAfterStart,
    BookingPolicy,
    CancellationPolicy,
    LimitEarlyBooking,
    LimitLateBooking,
    ParticipantsPolicy,
)
from services.bookings.domain.services import AppointmentSettings, Service, ServiceDraft, ServiceType, new_service
from services.common.errors import InvalidArgument

SERVICE_ID = "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
EARLY = "service.booking_policy.limit_early_booking.earliest_booking_in_minutes"
LATE = "service.booking_policy.limit_late_booking.latest_booking_in_minutes"
CANCEL = "service.booking_policy.cancellation_policy.latest_cancellation_in_minutes"
MAX_PARTY = "service.booking_policy.participants_policy.max_participants_per_booking"
# An APPOINTMENT with its required settings.
APPOINTMENT: dict[str, Any] = {"type": ServiceType.APPOINTMENT, "appointment": AppointmentSettings(duration_minutes=30)}


def draft(**changes: Any) -> ServiceDraft:
    base = ServiceDraft(type=ServiceType.COURSE, name="Pottery for beginners", default_capacity=10, time_zone="Europe/Vienna", online_booking_enabled=True)
    return replace(base, **changes)


def policy(
    early: tuple[bool, int] = (False, 0),
    late: tuple[bool, int] = (False, 0),
    max_party: int = 0,
    cancel: tuple[bool, int] = (False, 0),
) -> BookingPolicy:
    return BookingPolicy(
        limit_early_booking=LimitEarlyBooking(*early),
        limit_late_booking=LimitLateBooking(*late),
        participants_policy=ParticipantsPolicy(max_party),
        cancellation_policy=CancellationPolicy(*cancel),
    )


def violations(d: ServiceDraft) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as info:
        new_service(d, SERVICE_ID)
    return {v.field: v.description for v in info.value.violations}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="a-course-with-capacity-and-time-zone"),
        pytest.param({"type": ServiceType.CLASS}, id="a-class-with-capacity-and-time-zone"),
        pytest.param({**APPOINTMENT, "default_capacity": 0}, id="an-appointment-needs-no-capacity"),
        pytest.param({**APPOINTMENT, "default_capacity": 1}, id="an-appointment-may-state-a-capacity"),
        pytest.param({"name": "x"}, id="a-one-character-name"),
        pytest.param({"name": "x" * 200}, id="a-200-character-name"),
        pytest.param({"default_capacity": 1}, id="capacity-1"),
        pytest.param({"default_capacity": 10_000}, id="capacity-10000"),
        pytest.param({"time_zone": "America/Argentina/Buenos_Aires"}, id="a-nested-iana-zone"),
        pytest.param({"time_zone": "UTC"}, id="utc"),
        pytest.param({"booking_policy": policy(early=(True, 525_600), late=(True, 0))}, id="minutes-at-both-bounds"),
        pytest.param({"booking_policy": policy(early=(True, 61), late=(True, 60))}, id="early-limit-one-minute-above-late-limit"),
        pytest.param({"booking_policy": policy(early=(False, 10), late=(True, 60))}, id="early-below-late-when-early-is-disabled"),
        pytest.param({"booking_policy": policy(early=(True, 10), late=(False, 60))}, id="early-below-late-when-late-is-disabled"),
        pytest.param({"booking_policy": policy(max_party=10)}, id="party-size-equal-to-capacity"),
        pytest.param({"booking_policy": policy(cancel=(True, 525_600))}, id="cancellation-a-year-ahead"),
        pytest.param({"strict_capacity": True}, id="a-course-may-have-strict-capacity"),
        pytest.param({"type": ServiceType.CLASS, "strict_capacity": True}, id="a-class-may-have-strict-capacity"),
    ],
)
def test_a_valid_service_is_accepted(changes: dict[str, Any]) -> None:
    service = new_service(draft(**changes), SERVICE_ID)
    assert service.id == SERVICE_ID
    assert service.revision == 1
    assert service.schedule_id is None  # assigned once timeframes created the schedule


@pytest.mark.parametrize(
    "changes, field, description",
    [
        pytest.param({"type": 0}, "service.type", "is required", id="type-is-required-not-unspecified"),
        pytest.param({"type": 42}, "service.type", "not a service type", id="type-must-be-a-known-type"),
        pytest.param({"name": ""}, "service.name", "is required", id="name-is-required"),
        pytest.param({"name": "   \t"}, "service.name", "is required", id="name-must-not-be-blank"),
        pytest.param({"name": "x" * 201}, "service.name", "at most 200", id="name-has-at-most-200-characters"),
        pytest.param({"default_capacity": 0}, "service.default_capacity", "is required for COURSE", id="a-course-needs-a-capacity"),
        pytest.param({"type": ServiceType.CLASS, "default_capacity": 0}, "service.default_capacity", "is required for CLASS", id="a-class-needs-a-capacity"),
        pytest.param({"default_capacity": -1}, "service.default_capacity", "between 1 and 10000", id="capacity-is-not-negative"),
        pytest.param({"default_capacity": 10_001}, "service.default_capacity", "between 1 and 10000", id="capacity-is-at-most-10000"),
        pytest.param(
            {**APPOINTMENT, "default_capacity": -1},
            "service.default_capacity",
            "between 1 and 10000",
            id="an-appointment-capacity-is-not-negative",
        ),
        pytest.param(
            {**APPOINTMENT, "default_capacity": 10_001},
            "service.default_capacity",
            "between 1 and 10000",
            id="an-appointment-capacity-is-at-most-10000",
        ),
        pytest.param({"time_zone": ""}, "service.time_zone", "is required", id="time-zone-is-required"),
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, "service.time_zone", "not an IANA time zone", id="time-zone-must-be-iana"),
        pytest.param({"time_zone": "+02:00"}, "service.time_zone", "not an IANA time zone", id="time-zone-is-not-an-offset"),
        pytest.param({"booking_policy": policy(early=(True, -1))}, EARLY, "between 0 and 525600", id="earliest-booking-minutes-not-negative"),
        pytest.param({"booking_policy": policy(early=(True, 525_601))}, EARLY, "between 0 and 525600", id="earliest-booking-minutes-at-most-a-year"),
        pytest.param({"booking_policy": policy(early=(False, -5))}, EARLY, "between 0 and 525600", id="earliest-booking-minutes-checked-even-when-disabled"),
        pytest.param({"booking_policy": policy(late=(True, -1))}, LATE, "between 0 and 525600", id="latest-booking-minutes-not-negative"),
        pytest.param({"booking_policy": policy(late=(True, 525_601))}, LATE, "between 0 and 525600", id="latest-booking-minutes-at-most-a-year"),
        pytest.param({"booking_policy": policy(cancel=(True, -1))}, CANCEL, "between 0 and 525600", id="cancellation-minutes-not-negative"),
        pytest.param({"booking_policy": policy(cancel=(True, 525_601))}, CANCEL, "between 0 and 525600", id="cancellation-minutes-at-most-a-year"),
        pytest.param(
            {"booking_policy": policy(early=(True, 60), late=(True, 60))},
            EARLY,
            "must be greater than",
            id="an-equal-early-and-late-limit-never-opens",
        ),
        pytest.param(
            {"booking_policy": policy(early=(True, 30), late=(True, 60))},
            EARLY,
            "must be greater than",
            id="an-early-limit-below-the-late-limit-never-opens",
        ),
        pytest.param({"booking_policy": policy(max_party=-1)}, MAX_PARTY, "between 1 and 1000", id="party-size-not-negative"),
        pytest.param({"booking_policy": policy(max_party=1001), "default_capacity": 10_000}, MAX_PARTY, "between 1 and 1000", id="party-size-at-most-1000"),
        pytest.param({"booking_policy": policy(max_party=11)}, MAX_PARTY, "must not exceed default_capacity (10)", id="party-size-not-above-capacity"),
        pytest.param(
            {**APPOINTMENT, "default_capacity": 2, "booking_policy": policy(max_party=3)},
            MAX_PARTY,
            "must not exceed default_capacity (2)",
            id="party-size-not-above-a-stated-appointment-capacity",
        ),
        pytest.param(
            {**APPOINTMENT, "default_capacity": 0, "strict_capacity": True},
            "service.strict_capacity",
            "CLASS and COURSE services only",
            id="an-appointment-has-no-shared-capacity-to-keep-strict",
        ),
    ],
)
def test_an_invalid_field_is_named_by_its_proto_path(changes: dict[str, Any], field: str, description: str) -> None:
    found = violations(draft(**changes))
    assert field in found, found
    assert description in found[field]
    assert len(found) == 1, f"only {field} is wrong, got {found}"


def test_every_invalid_field_is_reported_at_once() -> None:
    bad = ServiceDraft(
        type=0,
        name="",
        default_capacity=-3,
        time_zone="nowhere",
        booking_policy=policy(early=(True, -1), late=(True, 600_000), max_party=5000, cancel=(True, -2)),
    )
    assert set(violations(bad)) == {"service.type", "service.name", "service.default_capacity", "service.time_zone", EARLY, LATE, CANCEL, MAX_PARTY}


def test_strict_capacity_on_an_appointment_is_reported_with_the_other_bad_fields() -> None:
    bad = draft(**APPOINTMENT, default_capacity=0, name="", strict_capacity=True)
    assert set(violations(bad)) == {"service.name", "service.strict_capacity"}


def test_strict_capacity_is_off_unless_asked_for() -> None:
    assert new_service(draft(), SERVICE_ID).strict_capacity is False
    assert new_service(draft(strict_capacity=True), SERVICE_ID).strict_capacity is True


def test_an_early_limit_out_of_range_is_not_also_reported_as_below_the_late_limit() -> None:
    found = violations(draft(booking_policy=policy(early=(True, -1), late=(True, 60))))
    assert list(found) == [EARLY]
    assert "between 0 and 525600" in found[EARLY]


def test_a_party_size_is_not_compared_with_a_capacity_that_is_itself_invalid() -> None:
    assert set(violations(draft(default_capacity=-1, booking_policy=policy(max_party=5)))) == {"service.default_capacity"}


def test_book_after_start_is_kept_as_given_for_any_type() -> None:
    # It only changes anything for a COURSE; for a CLASS the only session is the reference time.
    service = new_service(draft(type=ServiceType.CLASS, booking_policy=BookingPolicy(book_after_start_policy=BookAfterStart(True))), SERVICE_ID)
    assert service.booking_policy.book_after_start_policy.enabled


def test_a_new_service_carries_the_fields_as_given() -> None:
    d = draft(requires_manual_approval=True, online_booking_enabled=False)
    service = new_service(d, SERVICE_ID)
    assert service == Service(
        id=SERVICE_ID,
        type=ServiceType.COURSE,
        name=d.name,
        default_capacity=10,
        time_zone="Europe/Vienna",
        online_booking_enabled=False,
        requires_manual_approval=True,
        booking_policy=BookingPolicy(),
    )


@pytest.mark.parametrize(
    "service_type, has_schedule",
    [(ServiceType.APPOINTMENT, False), (ServiceType.CLASS, True), (ServiceType.COURSE, True)],
    ids=["appointments-have-no-schedule", "classes-have-a-schedule", "courses-have-a-schedule"],
)
def test_only_classes_and_courses_live_on_a_calendar_schedule(service_type: ServiceType, has_schedule: bool) -> None:
    assert service_type.has_schedule is has_schedule


# --- appointment settings and staff ---------------------------------------------------------------------

SETTINGS = "service.appointment"
DURATION, INTERVAL = f"{SETTINGS}.duration_minutes", f"{SETTINGS}.slot_interval_minutes"
BEFORE, AFTER = f"{SETTINGS}.buffer_before_minutes", f"{SETTINGS}.buffer_after_minutes"
STAFF_A, STAFF_B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def settings(**fields: int) -> AppointmentSettings:
    return AppointmentSettings(**{"duration_minutes": 30, **fields})


@pytest.mark.parametrize(
    "appointment",
    [
        pytest.param(settings(duration_minutes=5), id="the-shortest-duration"),
        pytest.param(settings(duration_minutes=1440), id="a-day-long-appointment"),
        pytest.param(settings(buffer_before_minutes=1440, buffer_after_minutes=1440), id="buffers-of-a-day"),
        pytest.param(settings(slot_interval_minutes=0), id="interval-0-is-the-duration"),
        pytest.param(settings(slot_interval_minutes=5), id="the-shortest-interval"),
        pytest.param(settings(slot_interval_minutes=1440), id="an-interval-of-a-day"),
    ],
)
def test_valid_appointment_settings_are_kept_as_given(appointment: AppointmentSettings) -> None:
    assert new_service(draft(**{**APPOINTMENT, "appointment": appointment}), SERVICE_ID).appointment == appointment


@pytest.mark.parametrize(
    "changes, field, description",
    [
        pytest.param({"appointment": None}, SETTINGS, "is required for type APPOINTMENT", id="an-appointment-needs-its-settings"),
        pytest.param({"appointment": settings(duration_minutes=0)}, DURATION, "between 5 and 1440", id="duration-is-required"),
        pytest.param({"appointment": settings(duration_minutes=4)}, DURATION, "between 5 and 1440", id="duration-at-least-5"),
        pytest.param({"appointment": settings(duration_minutes=1441)}, DURATION, "between 5 and 1440", id="duration-at-most-a-day"),
        pytest.param({"appointment": settings(buffer_before_minutes=-1)}, BEFORE, "between 0 and 1440", id="buffer-before-not-negative"),
        pytest.param({"appointment": settings(buffer_before_minutes=1441)}, BEFORE, "between 0 and 1440", id="buffer-before-at-most-a-day"),
        pytest.param({"appointment": settings(buffer_after_minutes=-1)}, AFTER, "between 0 and 1440", id="buffer-after-not-negative"),
        pytest.param({"appointment": settings(buffer_after_minutes=1441)}, AFTER, "between 0 and 1440", id="buffer-after-at-most-a-day"),
        pytest.param({"appointment": settings(slot_interval_minutes=4)}, INTERVAL, "0 (the duration)", id="interval-0-or-at-least-5"),
        pytest.param({"appointment": settings(slot_interval_minutes=-5)}, INTERVAL, "0 (the duration)", id="interval-not-negative"),
        pytest.param({"appointment": settings(slot_interval_minutes=1441)}, INTERVAL, "0 (the duration)", id="interval-at-most-a-day"),
        pytest.param({"staff_member_ids": ("nope",)}, "service.staff_member_ids[0]", "UUID", id="staff-ids-are-uuids"),
        pytest.param({"staff_member_ids": (STAFF_A, STAFF_A)}, "service.staff_member_ids", "must not repeat", id="staff-ids-do-not-repeat"),
        pytest.param(
            {"staff_member_ids": tuple(f"00000000-0000-4000-8000-{i:012d}" for i in range(101))},
            "service.staff_member_ids",
            "at most 100",
            id="at-most-100-staff-members",
        ),
    ],
)
def test_an_appointment_with_a_bad_setting_names_it(changes: dict[str, Any], field: str, description: str) -> None:
    found = violations(draft(**{**APPOINTMENT, "default_capacity": 0, **changes}))
    assert field in found, found
    assert description in found[field]
    assert len(found) == 1, f"only {field} is wrong, got {found}"


@pytest.mark.parametrize("service_type", [ServiceType.CLASS, ServiceType.COURSE], ids=["class", "course"])
@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"appointment": settings()}, SETTINGS, id="no-appointment-settings"),
        pytest.param({"appointment": settings(duration_minutes=0)}, SETTINGS, id="no-appointment-settings-even-empty-ones"),
        pytest.param({"staff_member_ids": (STAFF_A,)}, "service.staff_member_ids", id="no-staff"),
    ],
)
def test_classes_and_courses_take_no_appointment_fields(service_type: ServiceType, changes: dict[str, Any], field: str) -> None:
    found = violations(draft(type=service_type, **changes))
    assert list(found) == [field]
    assert "type APPOINTMENT only" in found[field]  # names the type, the field it depends on


def test_without_a_valid_type_bad_appointment_fields_are_named_at_once() -> None:
    found = violations(draft(type=0, appointment=settings(duration_minutes=1), staff_member_ids=("x",)))
    assert set(found) == {"service.type", DURATION, "service.staff_member_ids[0]"}


def test_staff_of_an_appointment_are_kept_sorted() -> None:
    service = new_service(draft(**APPOINTMENT, staff_member_ids=(STAFF_B, STAFF_A)), SERVICE_ID)
    assert service.staff_member_ids == (STAFF_A, STAFF_B)
