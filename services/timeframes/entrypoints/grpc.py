"""gRPC entrypoints of the timeframes (calendar) service: proto -> command, call the use case
(handlers.py), domain -> proto. Authentication, the tenant and error mapping are the runtime's
(services/common/server.py); the scope of every method is declared in `rpc_services`."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import INTERNAL_SCOPE, current_tenant
from services.common.server import RpcService
from services.timeframes.domain import commands
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.model import Schedule, ScheduleStatus, TimeFrame
from services.timeframes.handlers import Calendar
from services.timeframes.mapping import event_to_proto, set_event_proto, timestamp

READ = "calendar:read"
WRITE = "calendar:write"


def rpc_services(calendar: Calendar) -> list[RpcService]:
    return [
        RpcService(
            SchedulesServicer(calendar),
            schedules_pb2_grpc.add_SchedulesServicer_to_server,
            schedules_pb2.DESCRIPTOR.services_by_name["Schedules"],
            {"CreateSchedule": WRITE, "GetSchedule": READ},
        ),
        RpcService(
            EventsServicer(calendar),
            events_pb2_grpc.add_EventsServicer_to_server,
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
            },
        ),
        RpcService(
            ScheduleTimeFramesServicer(calendar),
            timeframes_pb2_grpc.add_ScheduleTimeFramesServicer_to_server,
            timeframes_pb2.DESCRIPTOR.services_by_name["ScheduleTimeFrames"],
            {"ListScheduleTimeFrames": READ},
        ),
    ]


class SchedulesServicer(schedules_pb2_grpc.SchedulesServicer):
    def __init__(self, calendar: Calendar):
        self._calendar = calendar

    async def CreateSchedule(self, request: schedules_pb2.CreateScheduleRequest, context: grpc.aio.ServicerContext) -> schedules_pb2.CreateScheduleResponse:
        s = request.schedule
        command = commands.ScheduleInput(name=s.name, external_id=s.external_id, time_zone=s.time_zone, default_capacity=s.default_capacity)
        schedule = await self._calendar.create_schedule(current_tenant(), command)
        return schedules_pb2.CreateScheduleResponse(schedule=_schedule(schedule))

    async def GetSchedule(self, request: schedules_pb2.GetScheduleRequest, context: grpc.aio.ServicerContext) -> schedules_pb2.GetScheduleResponse:
        schedule = await self._calendar.get_schedule(current_tenant(), request.schedule_id)
        return schedules_pb2.GetScheduleResponse(schedule=_schedule(schedule))


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


class ScheduleTimeFramesServicer(timeframes_pb2_grpc.ScheduleTimeFramesServicer):
    def __init__(self, calendar: Calendar):
        self._calendar = calendar

    async def ListScheduleTimeFrames(
        self, request: timeframes_pb2.ListScheduleTimeFramesRequest, context: grpc.aio.ServicerContext
    ) -> timeframes_pb2.ListScheduleTimeFramesResponse:
        frames = await self._calendar.list_time_frames(current_tenant(), list(request.schedule_ids))
        return timeframes_pb2.ListScheduleTimeFramesResponse(time_frames=[_time_frame(f) for f in frames])


# --- mapping -------------------------------------------------------------------------------------


def _wire(message: Message, field: str) -> WireTimestamp | None:
    if not message.HasField(field):
        return None
    ts = getattr(message, field)
    return WireTimestamp(ts.seconds, ts.nanos)


def _event_input(event: events_pb2.Event) -> commands.EventInput:
    return commands.EventInput(
        schedule_id=event.schedule_id,
        start=_wire(event, "start"),
        end=_wire(event, "end"),
        time_zone=event.time_zone,
        total_capacity=event.total_capacity,
        title=event.title,
    )


_SCHEDULE_STATUS = {ScheduleStatus.ACTIVE: schedules_pb2.ACTIVE, ScheduleStatus.CANCELLED: schedules_pb2.CANCELLED}


def _schedule(schedule: Schedule) -> schedules_pb2.Schedule:
    return schedules_pb2.Schedule(
        id=schedule.id,
        name=schedule.name,
        external_id=schedule.external_id,
        time_zone=schedule.time_zone,
        default_capacity=schedule.default_capacity,
        status=_SCHEDULE_STATUS[schedule.status],
        revision=schedule.revision,
        created_date=timestamp(schedule.created_date),
    )


def _time_frame(frame: TimeFrame) -> timeframes_pb2.ScheduleTimeFrame:
    message = timeframes_pb2.ScheduleTimeFrame(schedule_id=frame.schedule_id, event_count=frame.event_count)
    if frame.first_event_start_date is not None:
        message.first_event_start_date.CopyFrom(timestamp(frame.first_event_start_date))
    if frame.last_event_end_date is not None:
        message.last_event_end_date.CopyFrom(timestamp(frame.last_event_end_date))
    return message
