"""A tenant's clinic for the appointment tests, built through the public RPCs as a business would:
staff members (bookings.staff.v1), an APPOINTMENT service offered by them (bookings.catalog.v1),
their weekly hours (calendar.working_hours.v1), then bookings (bookings.v2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.common.timestamps import to_timestamp
from tests.support import auth

ZONE = "Europe/Vienna"
EVERY_DAY = range(1, 8)


def local(day: date, hour: int, minute: int = 0, zone: str = ZONE) -> datetime:
    """A local wall time as a UTC instant (the tests pick times away from DST changes)."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


def days_ahead(n: int, zone: str = ZONE) -> date:
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=n)


@dataclass
class Clinic:
    channel: Callable[[str], grpc.aio.Channel]
    tenant: str
    staff: list[staff_members_pb2.StaffMember] = field(default_factory=list)

    @property
    def md(self) -> list[tuple[str, str]]:
        return auth(self.tenant)

    def staff_stub(self) -> staff_members_pb2_grpc.StaffMembersStub:
        return staff_members_pb2_grpc.StaffMembersStub(self.channel("bookings"))

    def services_stub(self) -> services_pb2_grpc.ServicesStub:
        return services_pb2_grpc.ServicesStub(self.channel("bookings"))

    def bookings_stub(self) -> bookings_pb2_grpc.BookingsStub:
        return bookings_pb2_grpc.BookingsStub(self.channel("bookings"))

    def hours_stub(self) -> working_hours_pb2_grpc.WorkingHoursStub:
        return working_hours_pb2_grpc.WorkingHoursStub(self.channel("timeframes"))

    async def hire(self, name: str, *, zone: str = ZONE, hours: tuple[str, str] | None = ("09:00", "17:00")) -> staff_members_pb2.StaffMember:
        """A staff member working `hours` every day (none: no weekly hours)."""
        request = staff_members_pb2.CreateStaffMemberRequest(staff_member=staff_members_pb2.StaffMember(name=name, time_zone=zone))
        member = (await self.staff_stub().CreateStaffMember(request, metadata=self.md)).staff_member
        if hours is not None:
            rules = [working_hours_pb2.WeeklyRule(day_of_week=d, start_time=hours[0], end_time=hours[1]) for d in EVERY_DAY]
            await self.hours_stub().SetWeeklyRules(working_hours_pb2.SetWeeklyRulesRequest(schedule_id=member.schedule_id, rules=rules), metadata=self.md)
        self.staff.append(member)
        return member

    async def service(
        self,
        staff: Sequence[staff_members_pb2.StaffMember],
        *,
        minutes: int = 30,
        interval: int = 0,
        buffer_before: int = 0,
        buffer_after: int = 0,
        policy: booking_policy_pb2.BookingPolicy | None = None,
        manual: bool = False,
    ) -> services_pb2.Service:
        service = services_pb2.Service(
            type=services_pb2.APPOINTMENT,
            name=f"Consultation {minutes}'",
            time_zone=ZONE,
            online_booking_enabled=True,
            requires_manual_approval=manual,
            appointment=services_pb2.AppointmentSettings(
                duration_minutes=minutes, slot_interval_minutes=interval, buffer_before_minutes=buffer_before, buffer_after_minutes=buffer_after
            ),
            staff_member_ids=[s.id for s in staff],
        )
        if policy is not None:
            service.booking_policy.CopyFrom(policy)
        return (await self.services_stub().CreateService(services_pb2.CreateServiceRequest(service=service), metadata=self.md)).service

    def appointment(
        self, service: services_pb2.Service, start: datetime, minutes: int = 30, staff_member_id: str = "", name: str = "Ada"
    ) -> bookings_pb2.Booking:
        slot = bookings_pb2.Slot(start_date=to_timestamp(start), end_date=to_timestamp(start + timedelta(minutes=minutes)), staff_member_id=staff_member_id)
        return bookings_pb2.Booking(
            service_id=service.id,
            booked_entity=bookings_pb2.BookedEntity(slot=slot),
            number_of_participants=1,
            contact=bookings_pb2.ContactDetails(name=name, email="ada@example.com"),
        )

    async def book(self, booking: bookings_pb2.Booking, **kwargs: object) -> bookings_pb2.Booking:
        response = await self.bookings_stub().CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=self.md, **kwargs)  # type: ignore[arg-type]
        return response.booking

    async def appointments_of(self, staff_member_id: str) -> list[bookings_pb2.Booking]:
        request = bookings_pb2.QueryBookingsRequest(staff_member_ids=[staff_member_id], statuses=[bookings_pb2.PENDING, bookings_pb2.CONFIRMED])
        found: list[bookings_pb2.Booking] = []
        while True:
            response = await self.bookings_stub().QueryBookings(request, metadata=self.md)
            found += response.bookings
            if not response.paging_metadata.has_next:
                return found
            request.cursor_paging.cursor = response.paging_metadata.cursors.next
