"""Staff members: the people whose time APPOINTMENT services book, and the rules for creating and
changing them. Pure: no I/O.

As for services (domain/services.py), validation names every bad field by its proto path
(`staff_member.name`, `staff_member.service_ids[2]`, `mask.paths[0]`) and collects all of them
before failing. Whether each service id names an APPOINTMENT service of the tenant is the use
case's check: it needs the store.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.common.validation import Violations

RESOURCE = "staff member"
MAX_NAME_LENGTH = 200
MAX_SERVICES = 100

# Paths UpdateStaffMember accepts in its mask (staff_members.proto). Each replaces the whole
# field: `service_ids` replaces the staff member's whole list of services.
UPDATABLE_PATHS = ("name", "email", "time_zone", "service_ids")
_OUTPUT_ONLY_PATHS = frozenset({"id", "schedule_id", "revision", "created_date", "updated_date"})


class StaffMemberChange(enum.StrEnum):
    """What a write did to a staff member: names the `bookings.staff-events.v1` message it publishes."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class StaffMemberDraft:
    """The caller-settable fields of a staff member as received, not yet validated."""

    name: str = ""
    email: str = ""  # optional: "" is none
    time_zone: str = ""
    service_ids: tuple[str, ...] = ()  # as sent, repeats included (the validation reports them)


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    email: str  # "" when none was given
    # The zone the staff member's working hours are read in. The schedule in timeframes is created
    # with it and keeps it (timeframes has no UpdateSchedule), as a service's schedule does.
    time_zone: str
    # The APPOINTMENT services the staff member offers, sorted. The relation is stored once (table
    # service_staff) and is also each service's `staff_member_ids`.
    service_ids: tuple[str, ...] = ()
    schedule_id: str = ""  # the calendar schedule holding the working hours; set once timeframes created it
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def draft(self) -> StaffMemberDraft:
        return StaffMemberDraft(name=self.name, email=self.email, time_zone=self.time_zone, service_ids=self.service_ids)


@dataclass(frozen=True)
class UpdateStaffMemberCommand:
    staff_member_id: str
    revision: int  # the revision the caller read; the change applies only at that revision
    paths: Sequence[str]  # the field mask
    patch: StaffMemberDraft  # values of the fields named in `paths`; the others are ignored


def new_staff_member(draft: StaffMemberDraft, staff_member_id: str) -> StaffMember:
    """A new staff member at revision 1 without a schedule yet, or InvalidArgument naming every
    bad field. Output-only fields a caller sets on create never reach the draft."""
    v = Violations()
    _validate(draft, v)
    v.raise_if_any()
    return StaffMember(
        id=staff_member_id,
        name=draft.name,
        email=draft.email,
        time_zone=draft.time_zone,
        service_ids=tuple(sorted(draft.service_ids)),
    )


def check_update_request(command: UpdateStaffMemberCommand) -> None:
    """What can be checked without the current staff member: id, revision and mask."""
    v = Violations()
    v.id("staff_member.id", command.staff_member_id)
    v.check(command.revision > 0, "staff_member.revision", "is required: the revision of the staff member the change is based on")
    if not command.paths:
        v.add("mask", f"is required: name the fields to change, among {', '.join(UPDATABLE_PATHS)}")
    for i, path in enumerate(command.paths):
        if path in _OUTPUT_ONLY_PATHS:
            v.add(f"mask.paths[{i}]", f"{path} is output only and cannot be changed")
        elif path not in UPDATABLE_PATHS:
            v.add(f"mask.paths[{i}]", f"{path[:64]!r} is not an updatable field; allowed: {', '.join(UPDATABLE_PATHS)}")
    v.raise_if_any()


def apply_update(current: StaffMember, command: UpdateStaffMemberCommand) -> StaffMember:
    """`current` with the masked fields of the patch applied and validated. The revision is left
    to the repository, which bumps it only if `current.revision` is still the stored one."""
    paths = set(command.paths)
    values = {name: getattr(command.patch, name) for name in UPDATABLE_PATHS if name in paths}
    merged = replace(current.draft(), **values)
    v = Violations()
    _validate(merged, v)
    v.raise_if_any()
    return replace(current, name=merged.name, email=merged.email, time_zone=merged.time_zone, service_ids=tuple(sorted(merged.service_ids)))


def _validate(draft: StaffMemberDraft, v: Violations) -> None:
    v.text("staff_member.name", draft.name, max_len=MAX_NAME_LENGTH)
    if draft.email:
        v.email("staff_member.email", draft.email)
    v.time_zone("staff_member.time_zone", draft.time_zone)
    v.ids("staff_member.service_ids", list(draft.service_ids), max_items=MAX_SERVICES)
