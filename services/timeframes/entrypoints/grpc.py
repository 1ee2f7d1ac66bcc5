"""gRPC entrypoints of the timeframes (calendar) service: proto -> command, call the use case
(application/calendar.py), domain -> proto. Authentication, the tenant and error mapping are the runtime's
(services/common/server.py); the scope of every method is declared in `rpc_services`."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf.message import Message

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2_grpc as hours_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import INTERNAL_SCOPE, current_tenant
from services.common.server import RpcService
from services.common.timestamps import set_timestamp
from services.timeframes.application.calendar import Calendar
from services.timeframes.application.holds import AppointmentHolds
from services.timeframes.application.working_hours import EXTRA_HOURS, TIME_OFF, WorkingHours
from services.timeframes.domain import commands
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.model import SettlementOutcome, TimeFrame
from services.timeframes.mapping import (
    event_to_proto,
    exceptions_range,
    extra_hours_to_proto,
    hold_input,
    hold_to_proto,
    holiday_to_proto,
    schedule_to_proto,
    set_event_proto,
    set_schedule_working_hours,
    span_input,
    time_off_to_proto,
    weekly_rule_input,
    weekly_rule_to_proto,
)

READ = "calendar:read"
WRITE = "calendar:write"


def rpc_services(calendar: Calendar, working_hours: WorkingHours, appointment_holds: AppointmentHolds) -> list[RpcService]:
    return [
        RpcService(
            SchedulesServicer(calendar),
            schedules_pb2.DESCRIPTOR.services_by_name["Schedules"],
            {"CreateSchedule": WRITE, "GetSchedule": READ},
        ),
        RpcService(
            EventsServicer(calendar),
            events_pb2.DESCRIPTOR.services_by_name["Events"],
            {
                "CreateEvent": WRITE,
                "BulkCreateEvents": WRITE,
                "UpdateEvent": WRITE,
                "CancelEvent": WRITE,
                "GetEvent": READ,
                "QueryEvents": READ,
                # Only the participations pipeline sets participant totals.
                "UpdateEventParticipants": INTERNAL_SCOPE,
                "UpdateParticipantTotals": INTERNAL_SCOPE,
            },
        ),
        RpcService(
            ScheduleTimeFramesServicer(calendar),
            timeframes_pb2.DESCRIPTOR.services_by_name["ScheduleTimeFrames"],
            {"ListScheduleTimeFrames": READ},
        ),
        RpcService(
            WorkingHoursServicer(working_hours),
            hours_pb2.DESCRIPTOR.services_by_name["WorkingHours"],
            {
                "SetWeeklyRules": WRITE,
                "ListWeeklyRules": READ,
                "CreateTimeOff": WRITE,
                "DeleteTimeOff": WRITE,
                "CreateExtraHours": WRITE,
                "DeleteExtraHours": WRITE,
                "ListExceptions": READ,
                "CreateHoliday": WRITE,
                "DeleteHoliday": WRITE,
                "ListWorkingHours": READ,
            },
        ),
        RpcService(
            AppointmentHoldsServicer(appointment_holds),
            hours_pb2.DESCRIPTOR.services_by_name["AppointmentHolds"],
            # Only bookings holds and releases time, for the bookings it writes.
            {"HoldAppointmentTime": INTERNAL_SCOPE, "ReleaseAppointmentTime": INTERNAL_SCOPE},
        ),
    ]


class SchedulesServicer(schedules_pb2_grpc.SchedulesServicer):
    def __init__(self, calendar: Calendar):
        self._calendar = calendar

    async def CreateSchedule(self, request: schedules_pb2.CreateScheduleRequest, context: grpc.aio.ServicerContext) -> schedules_pb2.CreateScheduleResponse:
        s = request.schedule
        command = commands.ScheduleInput(name=s.name, external_id=s.external_id, time_zone=s.time_zone, default_capacity=s.default_capacity)
        schedule = await self._calendar.create_schedule(current_tenant(), command)
        return schedules_pb2.CreateScheduleResponse(schedule=schedule_to_proto(schedule))

    async def GetSchedule(self, request: schedules_pb2.GetScheduleRequest, context: grpc.aio.ServicerContext) -> schedules_pb2.GetScheduleResponse:
        schedule = await self._calendar.get_schedule(current_tenant(), request.schedule_id)
        return schedules_pb2.GetScheduleResponse(schedule=schedule_to_proto(schedule))


class EventsServicer(events_pb2_grpc.EventsServicer):
    def __init__(self, calendar: Calendar):
        self._calendar = calendar

    async def CreateEvent(self, request: events_pb2.CreateEventRequest, context: grpc.aio.ServicerContext) -> events_pb2.CreateEventResponse:
        event = await self._calendar.create_event(current_tenant(), _event_input(request.event))
        return events_pb2.CreateEventResponse(event=event_to_proto(event))

    async def BulkCreateEvents(self, request: events_pb2.BulkCreateEventsRequest, context: grpc.aio.ServicerContext) -> events_pb2.BulkCreateEventsResponse:
        events = await self._calendar.bulk_create_events(current_tenant(), [_event_input(e) for e in request.events])
        return events_pb2.BulkCreateEventsResponse(events=[event_to_proto(e) for e in events])

    async def UpdateEvent(self, request: events_pb2.UpdateEventRequest, context: grpc.aio.ServicerContext) -> events_pb2.UpdateEventResponse:
        command = commands.UpdateEventInput(
            event_id=request.event.id,
            revision=request.event.revision,
            paths=list(request.mask.paths),
            values=_event_input(request.event),
        )
        event = await self._calendar.update_event(current_tenant(), command)
        return events_pb2.UpdateEventResponse(event=event_to_proto(event))

    async def CancelEvent(self, request: events_pb2.CancelEventRequest, context: grpc.aio.ServicerContext) -> events_pb2.CancelEventResponse:
        command = commands.CancelEventInput(event_id=request.event_id, revision=request.revision)
        event = await self._calendar.cancel_event(current_tenant(), command)
        return events_pb2.CancelEventResponse(event=event_to_proto(event))

    async def GetEvent(self, request: events_pb2.GetEventRequest, context: grpc.aio.ServicerContext) -> events_pb2.GetEventResponse:
        event = await self._calendar.get_event(current_tenant(), request.event_id)
        return events_pb2.GetEventResponse(event=event_to_proto(event))

    async def QueryEvents(self, request: events_pb2.QueryEventsRequest, context: grpc.aio.ServicerContext) -> events_pb2.QueryEventsResponse:
        command = commands.EventQueryInput(
            schedule_ids=list(request.schedule_ids),
            event_ids=list(request.event_ids),
            from_date=_wire(request, "from_date"),
            to_date=_wire(request, "to_date"),
            include_cancelled=request.include_cancelled,
        )
        page = await self._calendar.query_events(current_tenant(), command, limit=request.cursor_paging.limit, cursor=request.cursor_paging.cursor)
        paging = paging_pb2.PagingMetadata(count=len(page.events), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=bool(page.next_cursor))
        response = events_pb2.QueryEventsResponse(paging_metadata=paging)
        for event in page.events:
            set_event_proto(response.events.add(), event)
        return response

    async def UpdateEventParticipants(
        self, request: events_pb2.UpdateEventParticipantsRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.UpdateEventParticipantsResponse:
        command = commands.UpdateParticipantsInput(event_id=request.event_id, participants_total=request.participants_total, version=request.version)
        result = await self._calendar.update_participants(current_tenant(), command)
        return events_pb2.UpdateEventParticipantsResponse(event=event_to_proto(result.event), applied=result.applied)

    async def UpdateParticipantTotals(
        self, request: events_pb2.UpdateParticipantTotalsRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.UpdateParticipantTotalsResponse:
        command = commands.UpdateTotalsInput(events=_totals(request.events), schedules=_totals(request.schedules))
        result = await self._calendar.update_participant_totals(current_tenant(), command)
        return events_pb2.UpdateParticipantTotalsResponse(events=_outcomes(result.events), schedules=_outcomes(result.schedules))


class ScheduleTimeFramesServicer(timeframes_pb2_grpc.ScheduleTimeFramesServicer):
    def __init__(self, calendar: Calendar):
        self._calendar = calendar

    async def ListScheduleTimeFrames(
        self, request: timeframes_pb2.ListScheduleTimeFramesRequest, context: grpc.aio.ServicerContext
    ) -> timeframes_pb2.ListScheduleTimeFramesResponse:
        frames = await self._calendar.list_time_frames(current_tenant(), list(request.schedule_ids))
        return timeframes_pb2.ListScheduleTimeFramesResponse(time_frames=[_time_frame(f) for f in frames])


class WorkingHoursServicer(hours_pb2_grpc.WorkingHoursServicer):
    def __init__(self, working_hours: WorkingHours):
        self._hours = working_hours

    async def SetWeeklyRules(self, request: hours_pb2.SetWeeklyRulesRequest, context: grpc.aio.ServicerContext) -> hours_pb2.SetWeeklyRulesResponse:
        rules = await self._hours.set_weekly_rules(current_tenant(), request.schedule_id, [weekly_rule_input(r) for r in request.rules])
        return hours_pb2.SetWeeklyRulesResponse(rules=[weekly_rule_to_proto(r) for r in rules])

    async def ListWeeklyRules(self, request: hours_pb2.ListWeeklyRulesRequest, context: grpc.aio.ServicerContext) -> hours_pb2.ListWeeklyRulesResponse:
        rules = await self._hours.list_weekly_rules(current_tenant(), request.schedule_id)
        return hours_pb2.ListWeeklyRulesResponse(rules=[weekly_rule_to_proto(r) for r in rules])

    async def CreateTimeOff(self, request: hours_pb2.CreateTimeOffRequest, context: grpc.aio.ServicerContext) -> hours_pb2.CreateTimeOffResponse:
        span = await self._hours.create_span(current_tenant(), TIME_OFF, request.schedule_id, span_input(request.time_off))
        return hours_pb2.CreateTimeOffResponse(time_off=time_off_to_proto(span))

    async def DeleteTimeOff(self, request: hours_pb2.DeleteTimeOffRequest, context: grpc.aio.ServicerContext) -> hours_pb2.DeleteTimeOffResponse:
        await self._hours.delete_span(current_tenant(), TIME_OFF, request.schedule_id, request.time_off_id)
        return hours_pb2.DeleteTimeOffResponse()

    async def CreateExtraHours(self, request: hours_pb2.CreateExtraHoursRequest, context: grpc.aio.ServicerContext) -> hours_pb2.CreateExtraHoursResponse:
        span = await self._hours.create_span(current_tenant(), EXTRA_HOURS, request.schedule_id, span_input(request.extra_hours))
        return hours_pb2.CreateExtraHoursResponse(extra_hours=extra_hours_to_proto(span))

    async def DeleteExtraHours(self, request: hours_pb2.DeleteExtraHoursRequest, context: grpc.aio.ServicerContext) -> hours_pb2.DeleteExtraHoursResponse:
        await self._hours.delete_span(current_tenant(), EXTRA_HOURS, request.schedule_id, request.extra_hours_id)
        return hours_pb2.DeleteExtraHoursResponse()

    async def ListExceptions(self, request: hours_pb2.ListExceptionsRequest, context: grpc.aio.ServicerContext) -> hours_pb2.ListExceptionsResponse:
        start, end = exceptions_range(request)
        found = await self._hours.list_exceptions(current_tenant(), request.schedule_id, start, end)
        return hours_pb2.ListExceptionsResponse(
            time_off=[time_off_to_proto(s) for s in found.time_off],
            extra_hours=[extra_hours_to_proto(s) for s in found.extra_hours],
            holidays=[holiday_to_proto(h) for h in found.holidays],
        )

    async def CreateHoliday(self, request: hours_pb2.CreateHolidayRequest, context: grpc.aio.ServicerContext) -> hours_pb2.CreateHolidayResponse:
        holiday = await self._hours.create_holiday(current_tenant(), request.schedule_id, request.holiday.local_date, request.holiday.reason)
        return hours_pb2.CreateHolidayResponse(holiday=holiday_to_proto(holiday))

    async def DeleteHoliday(self, request: hours_pb2.DeleteHolidayRequest, context: grpc.aio.ServicerContext) -> hours_pb2.DeleteHolidayResponse:
        await self._hours.delete_holiday(current_tenant(), request.schedule_id, request.holiday_id)
        return hours_pb2.DeleteHolidayResponse()

    async def ListWorkingHours(self, request: hours_pb2.ListWorkingHoursRequest, context: grpc.aio.ServicerContext) -> hours_pb2.ListWorkingHoursResponse:
        start, end = exceptions_range(request)
        found = await self._hours.list_working_hours(current_tenant(), list(request.schedule_ids), start, end)
        response = hours_pb2.ListWorkingHoursResponse()
        for hours in found:
            set_schedule_working_hours(response.schedules.add(), hours)
        return response


class AppointmentHoldsServicer(hours_pb2_grpc.AppointmentHoldsServicer):
    def __init__(self, appointment_holds: AppointmentHolds):
        self._holds = appointment_holds

    async def HoldAppointmentTime(
        self, request: hours_pb2.HoldAppointmentTimeRequest, context: grpc.aio.ServicerContext
    ) -> hours_pb2.HoldAppointmentTimeResponse:
        hold = await self._holds.hold(current_tenant(), hold_input(request.hold))
        return hours_pb2.HoldAppointmentTimeResponse(hold=hold_to_proto(hold))

    async def ReleaseAppointmentTime(
        self, request: hours_pb2.ReleaseAppointmentTimeRequest, context: grpc.aio.ServicerContext
    ) -> hours_pb2.ReleaseAppointmentTimeResponse:
        released = await self._holds.release(current_tenant(), request.booking_id)
        return hours_pb2.ReleaseAppointmentTimeResponse(released=released)


# --- mapping -------------------------------------------------------------------------------------


def _wire(message: Message, field: str) -> WireTimestamp | None:
    if not message.HasField(field):
        return None
    ts = getattr(message, field)
    return WireTimestamp(ts.seconds, ts.nanos)


def _totals(totals: Iterable[events_pb2.ParticipantTotal]) -> tuple[commands.ParticipantTotalInput, ...]:
    return tuple(commands.ParticipantTotalInput(t.id, t.participants_total, t.version) for t in totals)


_OUTCOMES = {
    SettlementOutcome.APPLIED: events_pb2.APPLIED,
    SettlementOutcome.STALE: events_pb2.STALE,
    SettlementOutcome.NOT_FOUND: events_pb2.NOT_FOUND,
}


def _outcomes(outcomes: Iterable[tuple[str, SettlementOutcome]]) -> list[events_pb2.ParticipantTotalResult]:
    return [events_pb2.ParticipantTotalResult(id=total_id, outcome=_OUTCOMES[outcome]) for total_id, outcome in outcomes]


def _event_input(event: events_pb2.Event) -> commands.EventInput:
    return commands.EventInput(
        schedule_id=event.schedule_id,
        start=_wire(event, "start"),
        end=_wire(event, "end"),
        time_zone=event.time_zone,
        total_capacity=event.total_capacity,
        title=event.title,
    )


def _time_frame(frame: TimeFrame) -> timeframes_pb2.ScheduleTimeFrame:
    message = timeframes_pb2.ScheduleTimeFrame(schedule_id=frame.schedule_id, event_count=frame.event_count)
    if frame.first_event_start_date is not None:
        set_timestamp(message.first_event_start_date, frame.first_event_start_date)
    if frame.last_event_end_date is not None:
        set_timestamp(message.last_event_end_date, frame.last_event_end_date)
    return message
