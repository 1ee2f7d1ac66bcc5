"""AppointmentInputs (application/ports.py): the service through the offerings' readers
(adapters/inputs.py: cached for the listings, fresh for validation), the staff members, their
working hours and their appointments' occupied time over gRPC (adapters/staff_calendars.py),
always fresh."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.api.bookings.staff.v1 import staff_members_pb2
from services.availability.adapters.staff_calendars import StaffDependencies
from services.availability.application.ports import AvailabilityInputs, Wanted
from services.availability.domain.appointments import StaffCalendar, StaffMember
from services.availability.domain.model import Interval, Offering
from services.availability.mapping import staff_calendar_from_proto, staff_member_from_proto


class AppointmentReader:
    """`cached` and `fresh` read the same offerings, through availability's cache or around it."""

    def __init__(self, cached: AvailabilityInputs, fresh: AvailabilityInputs, staff: StaffDependencies):
        self._cached = cached
        self._fresh = fresh
        self._staff = staff

    async def offering(self, tenant: str, service_id: str, *, fresh: bool) -> Offering | None:
        found = await (self._fresh if fresh else self._cached).read(tenant, Wanted(service_ids=(service_id,)))
        return found.offerings[0] if found.offerings else None

    async def staff_members(self, tenant: str, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        return [staff_member_from_proto(m) for m in await self._staff.staff_members(staff_member_ids)]

    async def calendars(self, tenant: str, staff: Sequence[StaffMember], window: Interval) -> list[StaffCalendar]:
        hours, occupied = await asyncio.gather(
            self._staff.working_hours([m.schedule_id for m in staff], window.start, window.end),
            self._staff.occupied_time([m.staff_member_id for m in staff], window.start, window.end),
        )
        by_schedule = {h.schedule_id: h for h in hours}
        by_staff: dict[str, list[staff_members_pb2.OccupiedTime]] = {}
        for o in occupied:
            by_staff.setdefault(o.staff_member_id, []).append(o)
        return [staff_calendar_from_proto(m, by_schedule[m.schedule_id], by_staff.get(m.staff_member_id, ())) for m in staff]
