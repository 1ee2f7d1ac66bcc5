"""Helpers of the timeframes integration tests (this module holds no tests): stubs of the three
calendar services, call metadata per scope, and builders of schedules and events through the
public API only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from tests import support

READ = "calendar:read"
WRITE = "calendar:write"
INTERNAL = "internal"
# Far enough ahead that no test depends on the clock.
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(instant)
    return t


def instant(t: timestamp_pb2.Timestamp) -> datetime:
    return t.ToDatetime(tzinfo=UTC)


def writer(tenant: str) -> list[tuple[str, str]]:
    return support.auth(tenant, READ, WRITE)


def reader(tenant: str) -> list[tuple[str, str]]:
    return support.auth(tenant, READ)


def internal(tenant: str) -> list[tuple[str, str]]:
    return support.auth(tenant, INTERNAL)


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


@dataclass
class Calendar:
    """The three services of the timeframes process, called as one tenant."""

    schedules: schedules_pb2_grpc.SchedulesStub
    events: events_pb2_grpc.EventsStub
    time_frames: timeframes_pb2_grpc.ScheduleTimeFramesStub
    tenant: str

    @classmethod
    def of(cls, channel: grpc.aio.Channel, tenant: str) -> Calendar:
        return cls(
            schedules_pb2_grpc.SchedulesStub(channel),
            events_pb2_grpc.EventsStub(channel),
            timeframes_pb2_grpc.ScheduleTimeFramesStub(channel),
            tenant,
        )

    async def schedule(self, *, time_zone: str = "Europe/Vienna", default_capacity: int = 10, **fields: object) -> schedules_pb2.Schedule:
        message = schedules_pb2.Schedule(time_zone=time_zone, default_capacity=default_capacity, **fields)  # type: ignore[arg-type]
        response = await self.schedules.CreateSchedule(schedules_pb2.CreateScheduleRequest(schedule=message), metadata=writer(self.tenant))
        return response.schedule

    async def event(self, schedule_id: str, start: datetime = T0, end: datetime | None = None, **fields: object) -> events_pb2.Event:
        message = event_message(schedule_id, start, end, **fields)
        response = await self.events.CreateEvent(events_pb2.CreateEventRequest(event=message), metadata=writer(self.tenant))
        return response.event

    async def get_event(self, event_id: str) -> events_pb2.Event:
        return (await self.events.GetEvent(events_pb2.GetEventRequest(event_id=event_id), metadata=reader(self.tenant))).event

    async def query(self, **fields: object) -> events_pb2.QueryEventsResponse:
        return await self.events.QueryEvents(events_pb2.QueryEventsRequest(**fields), metadata=reader(self.tenant))  # type: ignore[arg-type]

    async def events_of(self, *schedule_ids: str, include_cancelled: bool = True) -> list[events_pb2.Event]:
        response = await self.query(schedule_ids=list(schedule_ids), include_cancelled=include_cancelled, cursor_paging={"limit": 1000})
        return list(response.events)

    async def move(self, event: events_pb2.Event, start: datetime, end: datetime) -> events_pb2.Event:
        request = events_pb2.UpdateEventRequest(
            event=events_pb2.Event(id=event.id, revision=event.revision, start=ts(start), end=ts(end)), mask=mask("start", "end")
        )
        return (await self.events.UpdateEvent(request, metadata=writer(self.tenant))).event

    async def cancel(self, event: events_pb2.Event) -> events_pb2.Event:
        request = events_pb2.CancelEventRequest(event_id=event.id, revision=event.revision)
        return (await self.events.CancelEvent(request, metadata=writer(self.tenant))).event

    async def settle(self, event_id: str, participants_total: int, version: int) -> events_pb2.UpdateEventParticipantsResponse:
        request = events_pb2.UpdateEventParticipantsRequest(event_id=event_id, participants_total=participants_total, version=version)
        return await self.events.UpdateEventParticipants(request, metadata=internal(self.tenant))

    async def settle_totals(
        self, *, events: dict[str, tuple[int, int]] | None = None, schedules: dict[str, tuple[int, int]] | None = None
    ) -> events_pb2.UpdateParticipantTotalsResponse:
        """UpdateParticipantTotals with {id: (participants, version)} per events and schedules."""
        request = events_pb2.UpdateParticipantTotalsRequest(
            events=[events_pb2.ParticipantTotal(id=i, participants_total=n, version=v) for i, (n, v) in (events or {}).items()],
            schedules=[events_pb2.ParticipantTotal(id=i, participants_total=n, version=v) for i, (n, v) in (schedules or {}).items()],
        )
        return await self.events.UpdateParticipantTotals(request, metadata=internal(self.tenant))

    async def frames(self, *schedule_ids: str) -> list[timeframes_pb2.ScheduleTimeFrame]:
        request = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=list(schedule_ids))
        return list((await self.time_frames.ListScheduleTimeFrames(request, metadata=reader(self.tenant))).time_frames)


def event_message(schedule_id: str, start: datetime = T0, end: datetime | None = None, **fields: object) -> events_pb2.Event:
    return events_pb2.Event(schedule_id=schedule_id, start=ts(start), end=ts(end or start + HOUR), **fields)  # type: ignore[arg-type]
