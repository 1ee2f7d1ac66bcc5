"""The relation between APPOINTMENT services and the staff members who offer them. It is stored
once and read from both sides (`Service.staff_member_ids`, `StaffMember.service_ids`), and written
from either: replacing one side's list also bumps the revision of every entity on the other side
whose list changed and announces it, in the same transaction, so that no consumer or cache keeps a
stale list. The use cases call these inside `store.write(tenant)` after `lock_service_staff()`."""

from __future__ import annotations

from collections.abc import Sequence

from services.bookings.application.ports import BookingsSession
from services.bookings.domain.services import MAX_STAFF_MEMBERS, ServiceChange, ServiceType
from services.bookings.domain.staff import MAX_SERVICES, StaffMemberChange
from services.common.errors import FieldViolation, InvalidArgument
from services.common.validation import is_uuid


async def check_services(session: BookingsSession, field: str, service_ids: Sequence[str], invalid: InvalidArgument | None = None) -> None:
    """InvalidArgument naming `field[i]` for each id that is not a live APPOINTMENT service of the
    session's tenant (unknown, another tenant's, deleted, a CLASS or a COURSE alike), together with
    the violations of `invalid` (the request's other bad fields, so that all come back at once)."""
    well_formed = [i for i in service_ids if is_uuid(i)] if len(service_ids) <= MAX_SERVICES else []
    found = await session.services(well_formed) if well_formed else {}
    unknown = [
        FieldViolation(f"{field}[{i}]", "is not an APPOINTMENT service of this tenant")
        for i, service_id in enumerate(service_ids)
        if service_id in well_formed and (service_id not in found or found[service_id].type is not ServiceType.APPOINTMENT)
    ]
    _raise_if_any([*(invalid.violations if invalid else []), *unknown])


async def check_staff_members(session: BookingsSession, field: str, staff_member_ids: Sequence[str], invalid: InvalidArgument | None = None) -> None:
    """InvalidArgument naming `field[i]` for each id that is not a live staff member of the tenant,
    together with the violations of `invalid`."""
    well_formed = [i for i in staff_member_ids if is_uuid(i)] if len(staff_member_ids) <= MAX_STAFF_MEMBERS else []
    found = await session.staff_members(well_formed) if well_formed else {}
    unknown = [
        FieldViolation(f"{field}[{i}]", "is not a staff member of this tenant")
        for i, staff_member_id in enumerate(staff_member_ids)
        if staff_member_id in well_formed and staff_member_id not in found
    ]
    _raise_if_any([*(invalid.violations if invalid else []), *unknown])


def _raise_if_any(violations: list[FieldViolation]) -> None:
    if violations:
        raise InvalidArgument(violations)


async def set_services_of_staff_member(session: BookingsSession, staff_member_id: str, service_ids: Sequence[str]) -> None:
    """The staff member now offers exactly `service_ids`; each service gaining or losing it gets a
    new revision and its catalog.service-events.v1 update."""
    changed = await session.link_services_to_staff_member(staff_member_id, service_ids)
    for service in await session.touch_services(changed):
        await session.announce_service(ServiceChange.UPDATED, service)


async def set_staff_of_service(session: BookingsSession, service_id: str, staff_member_ids: Sequence[str]) -> None:
    """The service is now offered by exactly `staff_member_ids`; each staff member gaining or losing
    it gets a new revision and its bookings.staff-events.v1 update."""
    changed = await session.link_staff_to_service(service_id, staff_member_ids)
    for staff_member in await session.touch_staff_members(changed):
        await session.announce_staff_member(StaffMemberChange.UPDATED, staff_member)
