"""gRPC clients of what appointment slots are cut from (docs/appointments.md): the staff members and
the occupied time of their appointments (bookings.staff.v1, served by bookings), and their
schedules' working hours (calendar.working_hours.v1, served by timeframes). They reuse the
channels of the four reads (adapters/dependencies.py); all are reads, so UNAVAILABLE is retried
with backoff by the channel (`RETRYABLE`, by channel)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.clients import Channel, call_dependency
from services.common.timestamps import set_timestamp

STAFF_MEMBERS = staff_members_pb2.DESCRIPTOR.services_by_name["StaffMembers"].full_name
STAFF_CALENDARS = staff_members_pb2.DESCRIPTOR.services_by_name["StaffCalendars"].full_name
WORKING_HOURS = working_hours_pb2.DESCRIPTOR.services_by_name["WorkingHours"].full_name
# By the channel of adapters/dependencies.py each call goes over: the staff with the catalog
# (bookings), the working hours with the schedules and events (timeframes).
RETRYABLE = {
    "services": [(STAFF_MEMBERS, "QueryStaffMembers"), (STAFF_CALENDARS, "ListOccupiedTime")],
    "events": [(WORKING_HOURS, "ListWorkingHours")],
}
_PER_CALL = 50  # ListWorkingHours and ListOccupiedTime take at most 50 schedules / staff members
_STAFF_PAGE = 100  # a service has at most 100 staff members: one page


class StaffDependencies:
    def __init__(self, channels: dict[str, Channel]):
        self._staff = staff_members_pb2_grpc.StaffMembersStub(channels["services"])
        self._calendars = staff_members_pb2_grpc.StaffCalendarsStub(channels["services"])
        self._hours = working_hours_pb2_grpc.WorkingHoursStub(channels["events"])

    async def staff_members(self, staff_member_ids: Sequence[str]) -> list[staff_members_pb2.StaffMember]:
        """Those of the ids (at most 100) that are staff members of the tenant."""
        found: list[staff_members_pb2.StaffMember] = []
        cursor = ""
        while True:
            request = staff_members_pb2.QueryStaffMembersRequest(
                staff_member_ids=list(staff_member_ids), cursor_paging=paging_pb2.CursorPaging(limit=_STAFF_PAGE, cursor=cursor)
            )
            response = await call_dependency("staff", self._staff.QueryStaffMembers(request))
            found.extend(response.staff_members)
            if not response.paging_metadata.has_next:
                return found
            cursor = response.paging_metadata.cursors.next

    async def working_hours(self, schedule_ids: Sequence[str], start: datetime, end: datetime) -> list[working_hours_pb2.ScheduleWorkingHours]:
        """Each schedule's zone, weekly rules, and time off, extra hours and holidays touching
        [start, end): one call per 50 schedules, concurrently."""

        async def call(batch: Sequence[str]) -> working_hours_pb2.ListWorkingHoursResponse:
            request = working_hours_pb2.ListWorkingHoursRequest(schedule_ids=list(batch))
            set_timestamp(getattr(request, "from"), start)
            set_timestamp(request.to, end)
            return await call_dependency("working_hours", self._hours.ListWorkingHours(request))

        responses = await asyncio.gather(*(call(batch) for batch in _batches(schedule_ids)))
        return [schedule for response in responses for schedule in response.schedules]

    async def occupied_time(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> list[staff_members_pb2.OccupiedTime]:
        """The occupied time of the staff members' PENDING and CONFIRMED appointments overlapping
        [start, end): one call per 50 staff members, concurrently."""

        async def call(batch: Sequence[str]) -> staff_members_pb2.ListOccupiedTimeResponse:
            request = staff_members_pb2.ListOccupiedTimeRequest(staff_member_ids=list(batch))
            set_timestamp(getattr(request, "from"), start)
            set_timestamp(request.to, end)
            return await call_dependency("staff", self._calendars.ListOccupiedTime(request))

        responses = await asyncio.gather(*(call(batch) for batch in _batches(staff_member_ids)))
        return [occupied for response in responses for occupied in response.occupied_time]


def _batches(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _PER_CALL] for i in range(0, len(ids), _PER_CALL)]
