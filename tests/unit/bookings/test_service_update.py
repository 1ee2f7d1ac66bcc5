"""UpdateService: id, revision and field mask rules, and validation of the merged result."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.bookings.domain.policies import BookingPolicy, LimitEarlyBooking, LimitLateBooking, ParticipantsPolicy
from services.bookings.domain.services import (
    UPDATABLE_PATHS,
    AppointmentSettings,
    Service,
    ServiceDraft,
    ServiceType,
    UpdateServiceCommand,
    apply_update,
    check_update_request,
)
from services.common.errors import InvalidArgument

SERVICE_ID = "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
MAX_PARTY = "service.booking_policy.participants_policy.max_participants_per_booking"

CURRENT = Service(
    id=SERVICE_ID,
    type=ServiceType.COURSE,
    name="Pottery",
    default_capacity=10,
    time_zone="Europe/Vienna",
    online_booking_enabled=True,
    requires_manual_approval=False,
    booking_policy=BookingPolicy(
        limit_early_booking=LimitEarlyBooking(True, 1440),
        limit_late_booking=LimitLateBooking(True, 60),
        participants_policy=ParticipantsPolicy(4),
    ),
    schedule_id="sched-1",
    revision=3,
    created_at=CREATED,
    updated_at=CREATED,
)


def command(paths: list[str], revision: int = 3, service_id: str = SERVICE_ID, **patch: Any) -> UpdateServiceCommand:
    return UpdateServiceCommand(service_id=service_id, revision=revision, paths=paths, patch=ServiceDraft(**patch))


def request_violations(cmd: UpdateServiceCommand) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as info:
        check_update_request(cmd)
    return {v.field: v.description for v in info.value.violations}


def merge_violations(cmd: UpdateServiceCommand) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as info:
        apply_update(CURRENT, cmd)
    return {v.field: v.description for v in info.value.violations}


@pytest.mark.parametrize("path", UPDATABLE_PATHS)
def test_each_documented_path_may_be_updated(path: str) -> None:
    check_update_request(command([path]))


def test_several_paths_may_be_updated_together() -> None:
    check_update_request(command(list(UPDATABLE_PATHS)))


@pytest.mark.parametrize(
    "cmd, field, description",
    [
        pytest.param(command(["name"], service_id=""), "service.id", "is required", id="id-is-required"),
        pytest.param(command(["name"], service_id="42"), "service.id", "UUID", id="id-must-be-a-uuid"),
        pytest.param(command(["name"], revision=0), "service.revision", "is required", id="revision-is-required"),
        pytest.param(command(["name"], revision=-1), "service.revision", "is required", id="revision-is-positive"),
        pytest.param(command([]), "mask", "is required", id="mask-must-name-a-field"),
        pytest.param(command(["type"]), "mask.paths[0]", "type cannot be changed", id="type-is-immutable"),
        pytest.param(command(["name", "colour"]), "mask.paths[1]", "not an updatable field", id="unknown-path-is-named-by-index"),
        pytest.param(command(["booking_policy.limit_early_booking"]), "mask.paths[0]", "not an updatable field", id="sub-paths-are-not-supported"),
        pytest.param(command([""]), "mask.paths[0]", "not an updatable field", id="empty-path"),
        pytest.param(command(["id"]), "mask.paths[0]", "output only", id="id-is-output-only"),
        pytest.param(command(["schedule_id"]), "mask.paths[0]", "output only", id="schedule-id-is-output-only"),
        pytest.param(command(["revision"]), "mask.paths[0]", "output only", id="revision-is-output-only"),
        pytest.param(command(["created_date"]), "mask.paths[0]", "output only", id="created-date-is-output-only"),
        pytest.param(command(["updated_date"]), "mask.paths[0]", "output only", id="updated-date-is-output-only"),
    ],
)
def test_a_bad_update_request_names_the_field(cmd: UpdateServiceCommand, field: str, description: str) -> None:
    found = request_violations(cmd)
    assert field in found, found
    assert description in found[field]


def test_every_problem_of_an_update_request_is_reported_at_once() -> None:
    found = request_violations(command(["type", "name", "nope"], revision=0, service_id="x"))
    assert set(found) == {"service.id", "service.revision", "mask.paths[0]", "mask.paths[2]"}


def test_only_the_masked_fields_change() -> None:
    updated = apply_update(CURRENT, command(["name"], name="Wheel throwing", time_zone="Asia/Tokyo", default_capacity=99, type=ServiceType.CLASS))
    assert updated == replace(CURRENT, name="Wheel throwing")


def test_the_revision_and_identity_are_left_to_the_repository() -> None:
    updated = apply_update(CURRENT, command(["default_capacity"], default_capacity=12))
    assert (updated.id, updated.revision, updated.schedule_id, updated.type) == (CURRENT.id, 3, "sched-1", ServiceType.COURSE)


def test_an_unchanged_value_gives_an_equal_service() -> None:
    assert apply_update(CURRENT, command(["name"], name=CURRENT.name)) == CURRENT


def test_a_masked_policy_replaces_the_whole_policy_and_omitted_sub_policies_are_disabled() -> None:
    new_policy = BookingPolicy(limit_late_booking=LimitLateBooking(True, 30))
    updated = apply_update(CURRENT, command(["booking_policy"], booking_policy=new_policy))
    assert updated.booking_policy == BookingPolicy(limit_late_booking=LimitLateBooking(True, 30))


def test_a_masked_policy_left_empty_resets_it_to_the_defaults() -> None:
    updated = apply_update(CURRENT, command(["booking_policy"]))
    assert updated.booking_policy == BookingPolicy()


def test_a_masked_party_size_of_zero_becomes_the_default() -> None:
    updated = apply_update(CURRENT, command(["booking_policy"], booking_policy=BookingPolicy(participants_policy=ParticipantsPolicy(0))))
    assert updated.booking_policy.participants_policy.max_participants_per_booking == 1


@pytest.mark.parametrize(
    "cmd, field, description",
    [
        pytest.param(command(["name"], name=" "), "service.name", "is required", id="a-blank-name"),
        pytest.param(command(["time_zone"], time_zone="Europe/Atlantis"), "service.time_zone", "IANA", id="a-bad-time-zone"),
        pytest.param(command(["default_capacity"], default_capacity=0), "service.default_capacity", "is required for COURSE", id="removing-a-course-capacity"),
        pytest.param(
            command(["default_capacity"], default_capacity=3),
            "service.default_capacity",
            "at least booking_policy.participants_policy.max_participants_per_booking (4)",
            id="capacity-below-the-stored-party-size-names-the-capacity",
        ),
        pytest.param(
            command(["booking_policy"], booking_policy=BookingPolicy(participants_policy=ParticipantsPolicy(11))),
            MAX_PARTY,
            "must not exceed default_capacity (10)",
            id="party-size-above-the-stored-capacity-names-the-party-size",
        ),
        pytest.param(
            command(["default_capacity", "booking_policy"], default_capacity=2, booking_policy=BookingPolicy(participants_policy=ParticipantsPolicy(3))),
            MAX_PARTY,
            "must not exceed default_capacity (2)",
            id="both-changed-names-the-party-size",
        ),
        pytest.param(
            command(
                ["booking_policy"],
                booking_policy=BookingPolicy(limit_early_booking=LimitEarlyBooking(True, 5), limit_late_booking=LimitLateBooking(True, 10)),
            ),
            "service.booking_policy.limit_early_booking.earliest_booking_in_minutes",
            "must be greater than",
            id="a-window-that-never-opens",
        ),
    ],
)
def test_the_merged_service_is_validated_as_a_whole(cmd: UpdateServiceCommand, field: str, description: str) -> None:
    found = merge_violations(cmd)
    assert field in found, found
    assert description in found[field]


def test_strict_capacity_is_switched_on_and_off_through_the_mask() -> None:
    strict = apply_update(CURRENT, command(["strict_capacity"], strict_capacity=True))
    assert strict == replace(CURRENT, strict_capacity=True)
    assert apply_update(strict, command(["name"], name="Clay")).strict_capacity is True  # not in the mask: kept
    assert apply_update(strict, command(["strict_capacity"])) == CURRENT


def test_an_appointment_cannot_be_switched_to_strict_capacity() -> None:
    appointment = replace(CURRENT, type=ServiceType.APPOINTMENT, schedule_id=None, booking_policy=BookingPolicy(), appointment=AppointmentSettings(30))
    with pytest.raises(InvalidArgument) as info:
        apply_update(appointment, command(["strict_capacity"], strict_capacity=True))
    assert [v.field for v in info.value.violations] == ["service.strict_capacity"]


def test_an_appointment_capacity_may_be_cleared() -> None:
    appointment = replace(CURRENT, type=ServiceType.APPOINTMENT, schedule_id=None, booking_policy=BookingPolicy(), appointment=AppointmentSettings(30))
    assert apply_update(appointment, command(["default_capacity"], default_capacity=0)).default_capacity == 0


APPOINTMENT_SERVICE = replace(
    CURRENT,
    type=ServiceType.APPOINTMENT,
    schedule_id=None,
    booking_policy=BookingPolicy(),
    appointment=AppointmentSettings(30),
    staff_member_ids=("00000000-0000-4000-8000-00000000000a",),
)


def test_appointment_settings_are_replaced_as_a_whole_through_the_mask() -> None:
    updated = apply_update(APPOINTMENT_SERVICE, command(["appointment"], appointment=AppointmentSettings(45, buffer_after_minutes=10)))
    assert updated == replace(APPOINTMENT_SERVICE, appointment=AppointmentSettings(45, buffer_after_minutes=10))


def test_an_appointments_settings_cannot_be_cleared() -> None:
    with pytest.raises(InvalidArgument) as info:
        apply_update(APPOINTMENT_SERVICE, command(["appointment"]))
    assert [v.field for v in info.value.violations] == ["service.appointment"]


def test_masked_staff_replace_the_whole_list_sorted() -> None:
    a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    assert apply_update(APPOINTMENT_SERVICE, command(["staff_member_ids"], staff_member_ids=(b, a))).staff_member_ids == (a, b)
    assert apply_update(APPOINTMENT_SERVICE, command(["staff_member_ids"])).staff_member_ids == ()
    assert apply_update(APPOINTMENT_SERVICE, command(["name"], name="Cut", staff_member_ids=(b,))).staff_member_ids == (a,)


def test_a_course_cannot_be_given_appointment_fields() -> None:
    with pytest.raises(InvalidArgument) as info:
        apply_update(CURRENT, command(["appointment", "staff_member_ids"], appointment=AppointmentSettings(30), staff_member_ids=("x",)))
    assert {v.field for v in info.value.violations} == {"service.appointment", "service.staff_member_ids"}
