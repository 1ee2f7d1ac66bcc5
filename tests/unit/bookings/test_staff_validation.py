"""Staff members: every field's rule on create, the update mask, and validation of the merged
result, each named by its proto path (staff_members.proto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.bookings.domain.staff import (
    UPDATABLE_PATHS,
    StaffMember,
    StaffMemberDraft,
    UpdateStaffMemberCommand,
    apply_update,
    check_update_request,
    new_staff_member,
)
from services.common.errors import InvalidArgument

STAFF_ID = "5be1c2a9-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
SERVICE_A, SERVICE_B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
CURRENT = StaffMember(
    id=STAFF_ID,
    name="Ada",
    email="ada@example.com",
    time_zone="Europe/Vienna",
    service_ids=(SERVICE_A,),
    schedule_id="sched-1",
    revision=3,
    created_at=CREATED,
    updated_at=CREATED,
)


def draft(**changes: Any) -> StaffMemberDraft:
    return replace(StaffMemberDraft(name="Ada Lovelace", email="ada@example.com", time_zone="Europe/Vienna"), **changes)


def violations(d: StaffMemberDraft) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as info:
        new_staff_member(d, STAFF_ID)
    return {v.field: v.description for v in info.value.violations}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="name-email-and-zone"),
        pytest.param({"email": ""}, id="the-email-is-optional"),
        pytest.param({"name": "x" * 200}, id="a-200-character-name"),
        pytest.param({"email": "a" * 308 + "@example.com"}, id="a-320-character-email"),
        pytest.param({"time_zone": "America/Argentina/Buenos_Aires"}, id="a-nested-iana-zone"),
        pytest.param({"service_ids": ()}, id="no-services"),
        pytest.param({"service_ids": tuple(f"00000000-0000-4000-8000-{i:012d}" for i in range(100))}, id="100-services"),
    ],
)
def test_a_valid_staff_member_is_accepted(changes: dict[str, Any]) -> None:
    member = new_staff_member(draft(**changes), STAFF_ID)
    assert (member.id, member.revision, member.schedule_id) == (STAFF_ID, 1, "")  # the schedule comes from timeframes


@pytest.mark.parametrize(
    "changes, field, description",
    [
        pytest.param({"name": ""}, "staff_member.name", "is required", id="name-is-required"),
        pytest.param({"name": " \t"}, "staff_member.name", "is required", id="name-must-not-be-blank"),
        pytest.param({"name": "x" * 201}, "staff_member.name", "at most 200", id="name-has-at-most-200-characters"),
        pytest.param({"email": "ada"}, "staff_member.email", "email address", id="an-email-has-an-at-and-a-domain"),
        pytest.param({"email": "ada @example.com"}, "staff_member.email", "email address", id="an-email-has-no-spaces"),
        pytest.param({"email": "a" * 309 + "@example.com"}, "staff_member.email", "email address", id="an-email-has-at-most-320-characters"),
        pytest.param({"time_zone": ""}, "staff_member.time_zone", "is required", id="time-zone-is-required"),
        pytest.param({"time_zone": "+02:00"}, "staff_member.time_zone", "not an IANA time zone", id="time-zone-is-not-an-offset"),
        pytest.param({"service_ids": ("nope",)}, "staff_member.service_ids[0]", "UUID", id="service-ids-are-uuids"),
        pytest.param({"service_ids": (SERVICE_A, SERVICE_A)}, "staff_member.service_ids", "must not repeat", id="service-ids-do-not-repeat"),
        pytest.param(
            {"service_ids": tuple(f"00000000-0000-4000-8000-{i:012d}" for i in range(101))},
            "staff_member.service_ids",
            "at most 100",
            id="at-most-100-services",
        ),
    ],
)
def test_an_invalid_field_is_named_by_its_proto_path(changes: dict[str, Any], field: str, description: str) -> None:
    found = violations(draft(**changes))
    assert field in found, found
    assert description in found[field]
    assert len(found) == 1, f"only {field} is wrong, got {found}"


def test_every_invalid_field_is_reported_at_once() -> None:
    found = violations(StaffMemberDraft(name="", email="@", time_zone="nowhere", service_ids=("x",)))
    assert set(found) == {"staff_member.name", "staff_member.email", "staff_member.time_zone", "staff_member.service_ids[0]"}


def test_services_are_kept_sorted() -> None:
    assert new_staff_member(draft(service_ids=(SERVICE_B, SERVICE_A)), STAFF_ID).service_ids == (SERVICE_A, SERVICE_B)


# --- updates -----------------------------------------------------------------------------------------


def command(paths: list[str], revision: int = 3, staff_member_id: str = STAFF_ID, **patch: Any) -> UpdateStaffMemberCommand:
    return UpdateStaffMemberCommand(staff_member_id=staff_member_id, revision=revision, paths=paths, patch=StaffMemberDraft(**patch))


@pytest.mark.parametrize("path", UPDATABLE_PATHS)
def test_each_documented_path_may_be_updated(path: str) -> None:
    check_update_request(command([path]))


@pytest.mark.parametrize(
    "cmd, field, description",
    [
        pytest.param(command(["name"], staff_member_id=""), "staff_member.id", "is required", id="id-is-required"),
        pytest.param(command(["name"], staff_member_id="42"), "staff_member.id", "UUID", id="id-must-be-a-uuid"),
        pytest.param(command(["name"], revision=0), "staff_member.revision", "is required", id="revision-is-required"),
        pytest.param(command([]), "mask", "is required", id="mask-must-name-a-field"),
        pytest.param(command(["schedule_id"]), "mask.paths[0]", "output only", id="schedule-id-is-output-only"),
        pytest.param(command(["name", "revision"]), "mask.paths[1]", "output only", id="revision-is-output-only"),
        pytest.param(command(["created_date"]), "mask.paths[0]", "output only", id="created-date-is-output-only"),
        pytest.param(command(["phone"]), "mask.paths[0]", "not an updatable field", id="unknown-path-is-named-by-index"),
    ],
)
def test_a_bad_update_request_names_the_field(cmd: UpdateStaffMemberCommand, field: str, description: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_update_request(cmd)
    found = {v.field: v.description for v in info.value.violations}
    assert field in found, found
    assert description in found[field]


def test_only_the_masked_fields_change() -> None:
    updated = apply_update(CURRENT, command(["name"], name="Ada King", email="", time_zone="UTC", service_ids=(SERVICE_B,)))
    assert updated == replace(CURRENT, name="Ada King")


def test_masked_services_replace_the_whole_list_sorted() -> None:
    updated = apply_update(CURRENT, command(["service_ids"], service_ids=(SERVICE_B, SERVICE_A)))
    assert updated.service_ids == (SERVICE_A, SERVICE_B)
    assert apply_update(CURRENT, command(["service_ids"])).service_ids == ()


def test_an_unchanged_value_gives_an_equal_staff_member() -> None:
    assert apply_update(CURRENT, command(["name", "service_ids"], name="Ada", service_ids=(SERVICE_A,))) == CURRENT


def test_a_masked_email_left_empty_removes_it() -> None:
    assert apply_update(CURRENT, command(["email"])).email == ""


@pytest.mark.parametrize(
    "cmd, field",
    [
        pytest.param(command(["name"]), "staff_member.name", id="a-masked-name-left-empty"),
        pytest.param(command(["time_zone"], time_zone="Europe/Atlantis"), "staff_member.time_zone", id="a-bad-time-zone"),
        pytest.param(command(["email"], email="not-an-address"), "staff_member.email", id="a-bad-email"),
        pytest.param(command(["service_ids"], service_ids=(SERVICE_A, SERVICE_A)), "staff_member.service_ids", id="a-repeated-service"),
    ],
)
def test_the_merged_staff_member_is_validated(cmd: UpdateStaffMemberCommand, field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        apply_update(CURRENT, cmd)
    assert [v.field for v in info.value.violations] == [field]
