"""gRPC clients of the four reads (docs/booking-policies.md "The four reads"): Services and the
BookingPolicyProvider SPI (bookings), Events and ScheduleTimeFrames (timeframes). Each call has
a deadline; all four are reads, so UNAVAILABLE is retried with backoff by the channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2, booking_policy_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.calendar.timeframes.v3 import timeframes_pb2, timeframes_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.domain.model import ServiceType
from services.availability.mapping import PROTO_SERVICE_TYPES
from services.common.clients import Channel, call_dependency
from services.common.errors import NotFound
from services.common.timestamps import set_timestamp
from services.common.validation import is_uuid

SERVICES = services_pb2.DESCRIPTOR.services_by_name["Services"].full_name
POLICIES = booking_policy_pb2.DESCRIPTOR.services_by_name["BookingPolicyProvider"].full_name
EVENTS = events_pb2.DESCRIPTOR.services_by_name["Events"].full_name
SCHEDULES = schedules_pb2.DESCRIPTOR.services_by_name["Schedules"].full_name
TIME_FRAMES = timeframes_pb2.DESCRIPTOR.services_by_name["ScheduleTimeFrames"].full_name
RETRYABLE = {
    "services": [(SERVICES, "QueryServices"), (SERVICES, "GetService")],
    "policies": [(POLICIES, "ListBookingPolicies")],
    "events": [(EVENTS, "QueryEvents"), (EVENTS, "GetEvent"), (SCHEDULES, "GetSchedule")],
    "time_frames": [(TIME_FRAMES, "ListScheduleTimeFrames")],
}
_PAGE = 1000


class Dependencies:
    """The four reads, as the dependencies answer them (adapters/inputs.py maps them to the
    domain).

    `policies_from_catalog`: the policy provider is the catalog's own default provider (no
    external one is configured). It answers from the very service rows QueryServices returns, so
    the policy is taken from the service read alongside (`offering_from_proto` with no SPI
    answer) and ListBookingPolicies is not called: one RPC less on every booking validation."""

    def __init__(self, channels: dict[str, Channel], *, policies_from_catalog: bool = False):
        self.policies_from_catalog = policies_from_catalog
        self._services = services_pb2_grpc.ServicesStub(channels["services"])
        self._policies = booking_policy_pb2_grpc.BookingPolicyProviderStub(channels["policies"])
        self._events = events_pb2_grpc.EventsStub(channels["events"])
        self._schedules = schedules_pb2_grpc.SchedulesStub(channels["events"])
        self._time_frames = timeframes_pb2_grpc.ScheduleTimeFramesStub(channels["time_frames"])

    async def services(self, service_ids: Sequence[str], types: Sequence[ServiceType]) -> list[services_pb2.Service]:
        """Live services of the tenant (all of the given types when no ids are given)."""
        found: list[services_pb2.Service] = []
        cursor = ""
        while True:
            request = services_pb2.QueryServicesRequest(
                service_ids=list(service_ids),
                types=[PROTO_SERVICE_TYPES[t] for t in types],
                cursor_paging=paging_pb2.CursorPaging(limit=_PAGE, cursor=cursor),
            )
            response = await call_dependency("services", self._services.QueryServices(request))
            found.extend(response.services)
            if not response.paging_metadata.has_next:
                return found
            cursor = response.paging_metadata.cursors.next

    async def policies(self, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        """The SPI's answer per service; empty when the policies come with the services."""
        if not service_ids or self.policies_from_catalog:
            return {}
        request = booking_policy_pb2.ListBookingPoliciesRequest(service_ids=list(service_ids))
        response = await call_dependency("policies", self._policies.ListBookingPolicies(request))
        return {p.service_id: p for p in response.booking_policies}

    async def events(self, schedule_ids: Sequence[str], *, start: datetime | None = None, end: datetime | None = None) -> list[events_pb2.Event]:
        """Events (cancelled included) of the schedules, optionally only those starting in [start, end)."""
        found: list[events_pb2.Event] = []
        for offset in range(0, len(schedule_ids), 100):  # the RPC takes at most 100 ids
            cursor = ""
            while True:
                request = events_pb2.QueryEventsRequest(
                    schedule_ids=list(schedule_ids[offset : offset + 100]),
                    include_cancelled=True,
                    cursor_paging=paging_pb2.CursorPaging(limit=_PAGE, cursor=cursor),
                )
                if start is not None:
                    set_timestamp(request.from_date, start)
                if end is not None:
                    set_timestamp(request.to_date, end)
                response = await call_dependency("events", self._events.QueryEvents(request))
                found.extend(response.events)
                if not response.paging_metadata.has_next:
                    break
                cursor = response.paging_metadata.cursors.next
        return found

    async def event(self, event_id: str) -> events_pb2.Event:
        response = await call_dependency("events", self._events.GetEvent(events_pb2.GetEventRequest(event_id=event_id)), not_found=("event", event_id))
        return response.event

    async def schedule_owner(self, schedule_id: str) -> str:
        """The catalog service that owns a schedule (bookings creates schedules with
        external_id = service id)."""
        request = schedules_pb2.GetScheduleRequest(schedule_id=schedule_id)
        response = await call_dependency("events", self._schedules.GetSchedule(request), not_found=("schedule", schedule_id))
        if not is_uuid(response.schedule.external_id):  # a schedule no catalog service owns
            raise NotFound("schedule", schedule_id)
        return response.schedule.external_id

    async def time_frames(self, schedule_ids: Sequence[str]) -> dict[str, timeframes_pb2.ScheduleTimeFrame]:
        frames: dict[str, timeframes_pb2.ScheduleTimeFrame] = {}
        for offset in range(0, len(schedule_ids), 100):
            request = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=list(schedule_ids[offset : offset + 100]))
            response = await call_dependency("time_frames", self._time_frames.ListScheduleTimeFrames(request))
            frames.update({f.schedule_id: f for f in response.time_frames})
        return frames
