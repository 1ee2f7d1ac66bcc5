"""One tenant's appointment business built through the public RPCs, as a business would: staff
members (bookings.staff.v1), APPOINTMENT services they offer (bookings.catalog.v1), their working
hours, time off and holidays (calendar.working_hours.v1), appointment bookings (bookings.v2) and the
availability of its slots (bookings.availability.v2.AvailabilityTimeSlots)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
from google.protobuf import timestamp_pb2

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as pb
from services.api.bookings.availability.v2 import availability_time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2_grpc
from tests import support

VIENNA, KOLKATA = "Europe/Vienna", "Asia/Kolkata"
# The Monday the slot listings show by default: years ahead of the real clock availability reads,
# so no answer depends on it.
MONDAY = "2031-03-03"


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(instant)
    return t


def at(wall_time: str, zone: str = VIENNA) -> datetime:
    """The instant of a local wall time such as "2031-03-03 09:00"."""
    return datetime.fromisoformat(wall_time).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def weekdays(start: str, end: str) -> list[hours_pb2.WeeklyRule]:
    return [hours_pb2.WeeklyRule(day_of_week=day, start_time=start, end_time=end) for day in range(1, 6)]


def every_day(start: str, end: str) -> list[hours_pb2.WeeklyRule]:
    return [hours_pb2.WeeklyRule(day_of_week=day, start_time=start, end_time=end) for day in range(1, 8)]


def days_ahead(n: int, zone: str = VIENNA) -> date:
    """A local date `n` days after today's (for what the real clock decides: notice, horizon)."""
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=n)


def local(day: date, hour: int, minute: int = 0, zone: str = VIENNA) -> datetime:
    """A local wall time of `day` as a UTC instant."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


@dataclass
class Shop:
    """One tenant's appointment service, staff and their working hours, and its availability."""

    tenant: str
    services: services_pb2_grpc.ServicesStub
    staff_members: staff_members_pb2_grpc.StaffMembersStub
    hours: working_hours_pb2_grpc.WorkingHoursStub
    slots: availability_time_slots_pb2_grpc.AvailabilityTimeSlotsStub
    bookings: bookings_pb2_grpc.BookingsStub

    @classmethod
    def of(cls, channel: Callable[[str], grpc.aio.Channel], tenant: str) -> Shop:
        return cls(
            tenant,
            services_pb2_grpc.ServicesStub(channel("bookings")),
            staff_members_pb2_grpc.StaffMembersStub(channel("bookings")),
            working_hours_pb2_grpc.WorkingHoursStub(channel("timeframes")),
            availability_time_slots_pb2_grpc.AvailabilityTimeSlotsStub(channel("availability")),
            bookings_pb2_grpc.BookingsStub(channel("bookings")),
        )

    @property
    def md(self) -> list[tuple[str, str]]:
        return support.auth(self.tenant)

    async def appointment(
        self,
        duration: int = 30,
        *,
        time_zone: str = VIENNA,
        interval: int = 0,
        buffer_before: int = 0,
        buffer_after: int = 0,
        staff: Sequence[staff_members_pb2.StaffMember] = (),
        policy: booking_policy_pb2.BookingPolicy | None = None,
        manual: bool = False,
    ) -> services_pb2.Service:
        """An APPOINTMENT service offered by `staff`."""
        service = services_pb2.Service(
            type=services_pb2.APPOINTMENT,
            name="Haircut",
            time_zone=time_zone,
            online_booking_enabled=True,
            requires_manual_approval=manual,
            appointment=services_pb2.AppointmentSettings(
                duration_minutes=duration, slot_interval_minutes=interval, buffer_before_minutes=buffer_before, buffer_after_minutes=buffer_after
            ),
            staff_member_ids=[s.id for s in staff],
            booking_policy=policy,
        )
        return (await self.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=self.md)).service

    async def klass(self) -> services_pb2.Service:
        service = services_pb2.Service(type=services_pb2.CLASS, name="Yoga", time_zone=VIENNA, default_capacity=10, online_booking_enabled=True)
        return (await self.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=self.md)).service

    async def staff(
        self, name: str, *service_ids: str, time_zone: str = VIENNA, rules: list[hours_pb2.WeeklyRule] | None = None
    ) -> staff_members_pb2.StaffMember:
        """A staff member offering the services, working `rules` (weekdays 09:00–12:00 by default)."""
        member = staff_members_pb2.StaffMember(name=name, time_zone=time_zone, service_ids=list(service_ids))
        created = (await self.staff_members.CreateStaffMember(staff_members_pb2.CreateStaffMemberRequest(staff_member=member), metadata=self.md)).staff_member
        request = hours_pb2.SetWeeklyRulesRequest(schedule_id=created.schedule_id, rules=weekdays("09:00", "12:00") if rules is None else rules)
        await self.hours.SetWeeklyRules(request, metadata=self.md)
        return created

    async def hire(self, name: str, *, time_zone: str = VIENNA, hours: tuple[str, str] = ("09:00", "17:00")) -> staff_members_pb2.StaffMember:
        """A staff member offering nothing yet (the service names them), working `hours` every day."""
        return await self.staff(name, time_zone=time_zone, rules=every_day(*hours))

    async def time_off(self, member: staff_members_pb2.StaffMember, start: str, end: str) -> None:
        time_off = hours_pb2.TimeOff(start=ts(at(start)), end=ts(at(end)))
        await self.hours.CreateTimeOff(hours_pb2.CreateTimeOffRequest(schedule_id=member.schedule_id, time_off=time_off), metadata=self.md)

    async def holiday(self, member: staff_members_pb2.StaffMember, local_date: str) -> None:
        holiday = hours_pb2.Holiday(local_date=local_date)
        await self.hours.CreateHoliday(hours_pb2.CreateHolidayRequest(schedule_id=member.schedule_id, holiday=holiday), metadata=self.md)

    async def book(self, service_id: str, start: str, end: str, staff_member_id: str) -> bookings_pb2.Booking:
        slot = bookings_pb2.Slot(start_date=ts(at(start)), end_date=ts(at(end)), staff_member_id=staff_member_id)
        booking = bookings_pb2.Booking(
            service_id=service_id,
            booked_entity=bookings_pb2.BookedEntity(slot=slot),
            number_of_participants=1,
            contact=bookings_pb2.ContactDetails(name="Ada", email="ada@example.com"),
        )
        return (await self.bookings.CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=self.md)).booking

    async def list_slots(
        self, service_id: str, first: str = MONDAY, days: int = 1, *, time_zone: str = VIENNA, **fields: Any
    ) -> pb.ListAvailabilityTimeSlotsResponse:
        last = (date.fromisoformat(first) + timedelta(days=days)).isoformat()
        request = pb.ListAvailabilityTimeSlotsRequest(
            service_id=service_id, from_local_date=f"{first}T00:00:00", to_local_date=f"{last}T00:00:00", time_zone=time_zone, **fields
        )
        return await self.slots.ListAvailabilityTimeSlots(request, metadata=self.md)

    async def get_slot(self, service_id: str, start: str, end: str, **fields: Any) -> pb.GetAvailabilityTimeSlotResponse:
        request = pb.GetAvailabilityTimeSlotRequest(service_id=service_id, start_date=ts(at(start)), end_date=ts(at(end)), **fields)
        return await self.slots.GetAvailabilityTimeSlot(request, metadata=self.md)

    async def list_dates(self, service_id: str, first: str, last: str, *, time_zone: str = VIENNA, **fields: Any) -> pb.ListAvailabilityDatesResponse:
        request = pb.ListAvailabilityDatesRequest(service_id=service_id, from_local_date=first, to_local_date=last, time_zone=time_zone, **fields)
        return await self.slots.ListAvailabilityDates(request, metadata=self.md)

    def booking_of(
        self, service: services_pb2.Service, start: datetime, minutes: int = 30, staff_member_id: str = "", name: str = "Ada"
    ) -> bookings_pb2.Booking:
        """CreateBooking's booking of the appointment [start, start + minutes) (empty staff: any)."""
        slot = bookings_pb2.Slot(start_date=ts(start), end_date=ts(start + timedelta(minutes=minutes)), staff_member_id=staff_member_id)
        return bookings_pb2.Booking(
            service_id=service.id,
            booked_entity=bookings_pb2.BookedEntity(slot=slot),
            number_of_participants=1,
            contact=bookings_pb2.ContactDetails(name=name, email="ada@example.com"),
        )

    async def create(self, booking: bookings_pb2.Booking, timeout: float | None = None) -> bookings_pb2.Booking:
        return (await self.bookings.CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=self.md, timeout=timeout)).booking

    async def appointments_of(self, staff_member_id: str) -> list[bookings_pb2.Booking]:
        """The staff member's PENDING and CONFIRMED appointments, every page."""
        request = bookings_pb2.QueryBookingsRequest(staff_member_ids=[staff_member_id], statuses=[bookings_pb2.PENDING, bookings_pb2.CONFIRMED])
        found: list[bookings_pb2.Booking] = []
        while True:
            response = await self.bookings.QueryBookings(request, metadata=self.md)
            found += response.bookings
            if not response.paging_metadata.has_next:
                return found
            request.cursor_paging.cursor = response.paging_metadata.cursors.next
