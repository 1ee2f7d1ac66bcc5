"""gRPC clients of the timeframes service: calendar.schedules.v3.Schedules (the catalog creates
a schedule per CLASS or COURSE) and the calendar reads bookings need (an event, a course's first
session) from calendar.events.v3.Events and calendar.timeframes.v3.ScheduleTimeFrames."""

from __future__ import annotations

from datetime import datetime

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.bookings.application.ports import CalendarEvent
from services.common.auth import ServiceTokens
from services.common.clients import Channel, call_dependency, open_channel
from services.common.config import ServiceSettings
from services.common.errors import DependencyUnavailable, NotFound
from services.common.timestamps import to_instant, to_timestamp

SCHEDULES = schedules_pb2.DESCRIPTOR.services_by_name["Schedules"].full_name
EVENTS = events_pb2.DESCRIPTOR.services_by_name["Events"].full_name
TIME_FRAMES = timeframes_pb2.DESCRIPTOR.services_by_name["ScheduleTimeFrames"].full_name
# Safe to repeat: GetSchedule reads, and CreateSchedule is idempotent by external_id (a second
# call with the same external_id returns the schedule the first one created).
RETRYABLE = [(SCHEDULES, "CreateSchedule"), (SCHEDULES, "GetSchedule")]
# The calendar reads of bookings (cancellation policy, class event check): reads, safe to repeat.
CALENDAR_READS = [(EVENTS, "GetEvent"), (EVENTS, "QueryEvents"), (TIME_FRAMES, "ListScheduleTimeFrames")]
# Appointment holds: a repeated hold of the same booking answers the existing one, a repeated
# release finds nothing to free; both safe to repeat.
HOLDS = working_hours_pb2.DESCRIPTOR.services_by_name["AppointmentHolds"].full_name
HOLD_CALLS = [(HOLDS, "HoldAppointmentTime"), (HOLDS, "ReleaseAppointmentTime")]


def open_timeframes_channel(settings: ServiceSettings, address: str) -> Channel:
    return open_channel(address, ServiceTokens(settings), settings.outbound_timeout_seconds, retryable=[*RETRYABLE, *CALENDAR_READS, *HOLD_CALLS])


class TimeframesSchedules:
    def __init__(self, stub: schedules_pb2_grpc.SchedulesStub):
        self._stub = stub

    async def create_schedule(self, *, external_id: str, name: str, time_zone: str, default_capacity: int) -> str:
        request = schedules_pb2.CreateScheduleRequest(
            schedule=schedules_pb2.Schedule(external_id=external_id, name=name, time_zone=time_zone, default_capacity=default_capacity)
        )
        response = await call_dependency("timeframes", self._stub.CreateSchedule(request))
        if not response.schedule.id:
            raise RuntimeError("timeframes answered CreateSchedule without a schedule id")
        return response.schedule.id


class TimeframesCalendar:
    """The `Calendar` port: an event, and the first session start of a course."""

    def __init__(self, channel: Channel):
        self._events = events_pb2_grpc.EventsStub(channel)
        self._time_frames = timeframes_pb2_grpc.ScheduleTimeFramesStub(channel)

    async def event(self, event_id: str) -> CalendarEvent | None:
        try:
            response = await call_dependency("timeframes", self._events.GetEvent(events_pb2.GetEventRequest(event_id=event_id)), not_found=("event", event_id))
        except NotFound:
            return None
        e = response.event
        return CalendarEvent(id=e.id, schedule_id=e.schedule_id, start=to_instant(e.start), cancelled=e.status == events_pb2.CANCELLED)

    async def first_session_start(self, schedule_id: str) -> datetime | None:
        request = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=[schedule_id])
        try:
            response = await call_dependency("timeframes", self._time_frames.ListScheduleTimeFrames(request), not_found=("schedule", schedule_id))
        except NotFound:
            return None
        except DependencyUnavailable:
            # As availability degrades (docs/booking-policies.md "Time frames unavailable"): the
            # first non-cancelled event, which QueryEvents returns first (ordered by start).
            return await self._first_event_start(schedule_id)
        for frame in response.time_frames:
            if frame.schedule_id == schedule_id and frame.HasField("first_event_start_date"):
                return to_instant(frame.first_event_start_date)
        return None

    async def _first_event_start(self, schedule_id: str) -> datetime | None:
        request = events_pb2.QueryEventsRequest(schedule_ids=[schedule_id], cursor_paging=paging_pb2.CursorPaging(limit=1))
        response = await call_dependency("timeframes", self._events.QueryEvents(request))
        return to_instant(response.events[0].start) if response.events else None


class TimeframesHolds:
    """The `AppointmentHolds` port over calendar.working_hours.v1.AppointmentHolds."""

    def __init__(self, channel: Channel):
        self._stub = working_hours_pb2_grpc.AppointmentHoldsStub(channel)

    async def hold(self, booking_id: str, schedule_id: str, start: datetime, end: datetime) -> None:
        hold = working_hours_pb2.AppointmentHold(booking_id=booking_id, schedule_id=schedule_id, start=to_timestamp(start), end=to_timestamp(end))
        # ALREADY_EXISTS SLOT_UNAVAILABLE is passed on as timeframes said it, with what holds the time.
        await call_dependency("timeframes", self._stub.HoldAppointmentTime(working_hours_pb2.HoldAppointmentTimeRequest(hold=hold)))

    async def release(self, booking_id: str) -> bool:
        request = working_hours_pb2.ReleaseAppointmentTimeRequest(booking_id=booking_id)
        response = await call_dependency("timeframes", self._stub.ReleaseAppointmentTime(request))
        return response.released
