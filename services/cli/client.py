"""Synchronous gRPC calls of the CLI and the demo loader: one place that knows the stubs, the
addresses, the bearer token and the deadline. Every failed call is raised as `CallError`, which
knows which service and address it was talking to, so callers can explain it in one line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2

from services.api.bookings.availability.v2 import availability_time_slots_pb2, availability_time_slots_pb2_grpc, time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2, booking_policy_pb2_grpc
from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE
from services.common.timestamps import to_instant, to_timestamp

DEFAULT_AVAILABILITY_ADDRESS = "127.0.0.1:50051"
DEFAULT_BOOKINGS_ADDRESS = "127.0.0.1:50052"
DEFAULT_TIMEFRAMES_ADDRESS = "127.0.0.1:50054"
MAX_PAGE = 1000  # the largest page any list RPC accepts
# What a person (the CLI, the demo loader) gets: everything but service-to-service `internal`.
DEFAULT_SCOPES = tuple(s for s in ALL_SCOPES if s != INTERNAL_SCOPE)


class CallError(Exception):
    """A failed RPC, with the service and address it went to."""

    def __init__(self, error: grpc.RpcError, service: str, address: str, method: str):
        super().__init__(f"{method}: {error.code().name}: {error.details()}")  # type: ignore[attr-defined]
        self.error = error
        self.service = service
        self.address = address
        self.method = method

    @property
    def code(self) -> grpc.StatusCode:
        return self.error.code()  # type: ignore[attr-defined,no-any-return]

    @property
    def details(self) -> str:
        return self.error.details() or ""  # type: ignore[attr-defined,no-any-return]


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """The protobuf Timestamp of an aware datetime."""
    return to_timestamp(value)


def instant(ts: timestamp_pb2.Timestamp) -> datetime:
    """The aware UTC datetime of a protobuf Timestamp."""
    return to_instant(ts)


class Client:
    """Stubs of the bookings (catalog, policies, staff, bookings), timeframes (schedules, events, time
    frames, working hours) and availability (time slots) services. Channels open on first use and close with the client (use
    it as a context manager)."""

    def __init__(
        self,
        *,
        bookings_address: str,
        timeframes_address: str,
        token: str,
        timeout: float,
        availability_address: str = DEFAULT_AVAILABILITY_ADDRESS,
    ):
        self._addresses = {"bookings": bookings_address, "timeframes": timeframes_address, "availability": availability_address}
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout
        self._channels: dict[str, grpc.Channel] = {}

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def address(self, service: str) -> str:
        return self._addresses[service]

    def _channel(self, service: str) -> grpc.Channel:
        if service not in self._channels:
            self._channels[service] = grpc.insecure_channel(self._addresses[service])
        return self._channels[service]

    def _call(self, service: str, stub_class: Any, method: str, request: Any) -> Any:
        stub = stub_class(self._channel(service))
        try:
            return getattr(stub, method)(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as err:
            raise CallError(err, service, self._addresses[service], method) from None

    # --- catalog (bookings service) --------------------------------------------------------------

    def create_service(self, service: services_pb2.Service) -> services_pb2.CreateServiceResponse:
        return self._call("bookings", services_pb2_grpc.ServicesStub, "CreateService", services_pb2.CreateServiceRequest(service=service))

    def get_service(self, service_id: str) -> services_pb2.GetServiceResponse:
        return self._call("bookings", services_pb2_grpc.ServicesStub, "GetService", services_pb2.GetServiceRequest(service_id=service_id))

    def query_services(self, *, types: Iterable[int] = (), limit: int = 0, cursor: str = "") -> services_pb2.QueryServicesResponse:
        request = services_pb2.QueryServicesRequest(types=list(types), cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor))
        return self._call("bookings", services_pb2_grpc.ServicesStub, "QueryServices", request)

    def iter_services(self, *, types: Iterable[int] = (), page_size: int = MAX_PAGE) -> Iterator[services_pb2.Service]:
        types = list(types)
        cursor = ""
        while True:
            response = self.query_services(types=types, limit=page_size, cursor=cursor)
            yield from response.services
            cursor = response.paging_metadata.cursors.next
            if not (response.paging_metadata.has_next and cursor):
                return

    def update_service(self, service: services_pb2.Service, paths: Iterable[str]) -> services_pb2.UpdateServiceResponse:
        request = services_pb2.UpdateServiceRequest(service=service, mask=field_mask_pb2.FieldMask(paths=list(paths)))
        return self._call("bookings", services_pb2_grpc.ServicesStub, "UpdateService", request)

    def delete_service(self, service_id: str, revision: int = 0) -> services_pb2.DeleteServiceResponse:
        request = services_pb2.DeleteServiceRequest(service_id=service_id, revision=revision)
        return self._call("bookings", services_pb2_grpc.ServicesStub, "DeleteService", request)

    def list_booking_policies(self, service_ids: Iterable[str]) -> booking_policy_pb2.ListBookingPoliciesResponse:
        request = booking_policy_pb2.ListBookingPoliciesRequest(service_ids=list(service_ids))
        return self._call("bookings", booking_policy_pb2_grpc.BookingPolicyProviderStub, "ListBookingPolicies", request)

    # --- staff members (bookings service) --------------------------------------------------------

    def create_staff_member(self, staff_member: staff_members_pb2.StaffMember) -> staff_members_pb2.CreateStaffMemberResponse:
        request = staff_members_pb2.CreateStaffMemberRequest(staff_member=staff_member)
        return self._call("bookings", staff_members_pb2_grpc.StaffMembersStub, "CreateStaffMember", request)

    def get_staff_member(self, staff_member_id: str) -> staff_members_pb2.GetStaffMemberResponse:
        request = staff_members_pb2.GetStaffMemberRequest(staff_member_id=staff_member_id)
        return self._call("bookings", staff_members_pb2_grpc.StaffMembersStub, "GetStaffMember", request)

    def query_staff_members(
        self, *, staff_member_ids: Iterable[str] = (), service_ids: Iterable[str] = (), limit: int = 0, cursor: str = ""
    ) -> staff_members_pb2.QueryStaffMembersResponse:
        request = staff_members_pb2.QueryStaffMembersRequest(
            staff_member_ids=list(staff_member_ids), service_ids=list(service_ids), cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor)
        )
        return self._call("bookings", staff_members_pb2_grpc.StaffMembersStub, "QueryStaffMembers", request)

    def iter_staff_members(self, *, page_size: int = MAX_PAGE, **filters: Any) -> Iterator[staff_members_pb2.StaffMember]:
        cursor = ""
        while True:
            response = self.query_staff_members(limit=page_size, cursor=cursor, **filters)
            yield from response.staff_members
            cursor = response.paging_metadata.cursors.next
            if not (response.paging_metadata.has_next and cursor):
                return

    def update_staff_member(self, staff_member: staff_members_pb2.StaffMember, paths: Iterable[str]) -> staff_members_pb2.UpdateStaffMemberResponse:
        request = staff_members_pb2.UpdateStaffMemberRequest(staff_member=staff_member, mask=field_mask_pb2.FieldMask(paths=list(paths)))
        return self._call("bookings", staff_members_pb2_grpc.StaffMembersStub, "UpdateStaffMember", request)

    def delete_staff_member(self, staff_member_id: str, revision: int = 0) -> staff_members_pb2.DeleteStaffMemberResponse:
        request = staff_members_pb2.DeleteStaffMemberRequest(staff_member_id=staff_member_id, revision=revision)
        return self._call("bookings", staff_members_pb2_grpc.StaffMembersStub, "DeleteStaffMember", request)

    # --- bookings (bookings service) -------------------------------------------------------------

    def create_booking(self, booking: bookings_pb2.Booking, idempotency_key: str = "") -> bookings_pb2.CreateBookingResponse:
        request = bookings_pb2.CreateBookingRequest(booking=booking, idempotency_key=idempotency_key)
        return self._call("bookings", bookings_pb2_grpc.BookingsStub, "CreateBooking", request)

    def get_booking(self, booking_id: str) -> bookings_pb2.GetBookingResponse:
        return self._call("bookings", bookings_pb2_grpc.BookingsStub, "GetBooking", bookings_pb2.GetBookingRequest(booking_id=booking_id))

    def query_bookings(
        self,
        *,
        service_ids: Iterable[str] = (),
        schedule_ids: Iterable[str] = (),
        event_ids: Iterable[str] = (),
        staff_member_ids: Iterable[str] = (),
        statuses: Iterable[int] = (),
        limit: int = 0,
        cursor: str = "",
    ) -> bookings_pb2.QueryBookingsResponse:
        request = bookings_pb2.QueryBookingsRequest(
            service_ids=list(service_ids),
            schedule_ids=list(schedule_ids),
            event_ids=list(event_ids),
            staff_member_ids=list(staff_member_ids),
            statuses=list(statuses),  # type: ignore[arg-type]
            cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor),
        )
        return self._call("bookings", bookings_pb2_grpc.BookingsStub, "QueryBookings", request)

    def iter_bookings(self, *, page_size: int = MAX_PAGE, **filters: Any) -> Iterator[bookings_pb2.Booking]:
        cursor = ""
        while True:
            response = self.query_bookings(limit=page_size, cursor=cursor, **filters)
            yield from response.bookings
            cursor = response.paging_metadata.cursors.next
            if not (response.paging_metadata.has_next and cursor):
                return

    def change_booking(self, method: str, booking_id: str, revision: int, **fields: Any) -> Any:
        """ConfirmBooking, DeclineBooking, CancelBooking or UpdateNumberOfParticipants."""
        request = getattr(bookings_pb2, f"{method}Request")(booking_id=booking_id, revision=revision, **fields)
        return self._call("bookings", bookings_pb2_grpc.BookingsStub, method, request)

    # --- calendar (timeframes service) -----------------------------------------------------------

    def get_schedule(self, schedule_id: str) -> schedules_pb2.GetScheduleResponse:
        request = schedules_pb2.GetScheduleRequest(schedule_id=schedule_id)
        return self._call("timeframes", schedules_pb2_grpc.SchedulesStub, "GetSchedule", request)

    def create_event(self, event: events_pb2.Event) -> events_pb2.CreateEventResponse:
        return self._call("timeframes", events_pb2_grpc.EventsStub, "CreateEvent", events_pb2.CreateEventRequest(event=event))

    def bulk_create_events(self, events: Iterable[events_pb2.Event]) -> events_pb2.BulkCreateEventsResponse:
        request = events_pb2.BulkCreateEventsRequest(events=list(events))
        return self._call("timeframes", events_pb2_grpc.EventsStub, "BulkCreateEvents", request)

    def get_event(self, event_id: str) -> events_pb2.GetEventResponse:
        return self._call("timeframes", events_pb2_grpc.EventsStub, "GetEvent", events_pb2.GetEventRequest(event_id=event_id))

    def update_event(self, event: events_pb2.Event, paths: Iterable[str]) -> events_pb2.UpdateEventResponse:
        request = events_pb2.UpdateEventRequest(event=event, mask=field_mask_pb2.FieldMask(paths=list(paths)))
        return self._call("timeframes", events_pb2_grpc.EventsStub, "UpdateEvent", request)

    def cancel_event(self, event_id: str, revision: int) -> events_pb2.CancelEventResponse:
        request = events_pb2.CancelEventRequest(event_id=event_id, revision=revision)
        return self._call("timeframes", events_pb2_grpc.EventsStub, "CancelEvent", request)

    def query_events(
        self,
        *,
        schedule_ids: Iterable[str] = (),
        from_date: timestamp_pb2.Timestamp | None = None,
        to_date: timestamp_pb2.Timestamp | None = None,
        include_cancelled: bool = False,
        limit: int = 0,
        cursor: str = "",
    ) -> events_pb2.QueryEventsResponse:
        request = events_pb2.QueryEventsRequest(
            schedule_ids=list(schedule_ids),
            from_date=from_date,
            to_date=to_date,
            include_cancelled=include_cancelled,
            cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor),
        )
        return self._call("timeframes", events_pb2_grpc.EventsStub, "QueryEvents", request)

    def iter_events(self, *, page_size: int = MAX_PAGE, **filters: Any) -> Iterator[events_pb2.Event]:
        cursor = ""
        while True:
            response = self.query_events(limit=page_size, cursor=cursor, **filters)
            yield from response.events
            cursor = response.paging_metadata.cursors.next
            if not (response.paging_metadata.has_next and cursor):
                return

    def list_time_frames(self, schedule_ids: Iterable[str]) -> timeframes_pb2.ListScheduleTimeFramesResponse:
        request = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=list(schedule_ids))
        return self._call("timeframes", timeframes_pb2_grpc.ScheduleTimeFramesStub, "ListScheduleTimeFrames", request)

    # --- working hours (timeframes service) ------------------------------------------------------

    def set_weekly_rules(self, schedule_id: str, rules: Iterable[working_hours_pb2.WeeklyRule]) -> working_hours_pb2.SetWeeklyRulesResponse:
        request = working_hours_pb2.SetWeeklyRulesRequest(schedule_id=schedule_id, rules=list(rules))
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "SetWeeklyRules", request)

    def list_weekly_rules(self, schedule_id: str) -> working_hours_pb2.ListWeeklyRulesResponse:
        request = working_hours_pb2.ListWeeklyRulesRequest(schedule_id=schedule_id)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "ListWeeklyRules", request)

    def create_time_off(self, schedule_id: str, time_off: working_hours_pb2.TimeOff) -> working_hours_pb2.CreateTimeOffResponse:
        request = working_hours_pb2.CreateTimeOffRequest(schedule_id=schedule_id, time_off=time_off)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "CreateTimeOff", request)

    def delete_time_off(self, schedule_id: str, time_off_id: str) -> working_hours_pb2.DeleteTimeOffResponse:
        request = working_hours_pb2.DeleteTimeOffRequest(schedule_id=schedule_id, time_off_id=time_off_id)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "DeleteTimeOff", request)

    def create_extra_hours(self, schedule_id: str, extra_hours: working_hours_pb2.ExtraHours) -> working_hours_pb2.CreateExtraHoursResponse:
        request = working_hours_pb2.CreateExtraHoursRequest(schedule_id=schedule_id, extra_hours=extra_hours)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "CreateExtraHours", request)

    def delete_extra_hours(self, schedule_id: str, extra_hours_id: str) -> working_hours_pb2.DeleteExtraHoursResponse:
        request = working_hours_pb2.DeleteExtraHoursRequest(schedule_id=schedule_id, extra_hours_id=extra_hours_id)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "DeleteExtraHours", request)

    def create_holiday(self, schedule_id: str, holiday: working_hours_pb2.Holiday) -> working_hours_pb2.CreateHolidayResponse:
        request = working_hours_pb2.CreateHolidayRequest(schedule_id=schedule_id, holiday=holiday)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "CreateHoliday", request)

    def delete_holiday(self, schedule_id: str, holiday_id: str) -> working_hours_pb2.DeleteHolidayResponse:
        request = working_hours_pb2.DeleteHolidayRequest(schedule_id=schedule_id, holiday_id=holiday_id)
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "DeleteHoliday", request)

    def list_exceptions(self, schedule_id: str, start: datetime, end: datetime) -> working_hours_pb2.ListExceptionsResponse:
        """Time off, extra hours and holidays of the schedule touching the instants [start, end)."""
        request = working_hours_pb2.ListExceptionsRequest(schedule_id=schedule_id, to=timestamp(end))
        getattr(request, "from").CopyFrom(timestamp(start))  # `from` is a Python keyword
        return self._call("timeframes", working_hours_pb2_grpc.WorkingHoursStub, "ListExceptions", request)

    # --- availability ----------------------------------------------------------------------------

    def list_course_time_slots(self, request: time_slots_pb2.ListCourseEventTimeSlotsRequest) -> time_slots_pb2.ListCourseEventTimeSlotsResponse:
        return self._call("availability", time_slots_pb2_grpc.CourseEventTimeSlotsStub, "ListCourseEventTimeSlots", request)

    def get_course_time_slot(self, request: time_slots_pb2.GetCourseEventTimeSlotRequest) -> time_slots_pb2.GetCourseEventTimeSlotResponse:
        return self._call("availability", time_slots_pb2_grpc.CourseEventTimeSlotsStub, "GetCourseEventTimeSlot", request)

    def list_event_time_slots(self, request: time_slots_pb2.ListEventTimeSlotsRequest) -> time_slots_pb2.ListEventTimeSlotsResponse:
        return self._call("availability", time_slots_pb2_grpc.EventTimeSlotsStub, "ListEventTimeSlots", request)

    def list_availability_time_slots(
        self, request: availability_time_slots_pb2.ListAvailabilityTimeSlotsRequest
    ) -> availability_time_slots_pb2.ListAvailabilityTimeSlotsResponse:
        return self._call("availability", availability_time_slots_pb2_grpc.AvailabilityTimeSlotsStub, "ListAvailabilityTimeSlots", request)

    def list_availability_dates(
        self, request: availability_time_slots_pb2.ListAvailabilityDatesRequest
    ) -> availability_time_slots_pb2.ListAvailabilityDatesResponse:
        return self._call("availability", availability_time_slots_pb2_grpc.AvailabilityTimeSlotsStub, "ListAvailabilityDates", request)
