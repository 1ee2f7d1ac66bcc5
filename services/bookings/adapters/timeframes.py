"""gRPC client of calendar.schedules.v3.Schedules (hosted by the timeframes service)."""

from __future__ import annotations

import grpc

from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.common.auth import ServiceTokens
from services.common.clients import open_channel, unavailable
from services.common.config import ServiceSettings

SCHEDULES = schedules_pb2.DESCRIPTOR.services_by_name["Schedules"].full_name
# Safe to repeat: GetSchedule reads, and CreateSchedule is idempotent by external_id (a second
# call with the same external_id returns the schedule the first one created).
RETRYABLE = [(SCHEDULES, "CreateSchedule"), (SCHEDULES, "GetSchedule")]

# Codes after which timeframes may well answer a moment later: the caller gets UNAVAILABLE and
# may retry. Any other code means the two services disagree on the contract (a bug), which the
# runtime reports as INTERNAL and logs.
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNIMPLEMENTED,  # timeframes not yet rolled out with this RPC
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


def open_timeframes_channel(settings: ServiceSettings, address: str) -> grpc.aio.Channel:
    return open_channel(address, ServiceTokens(settings), settings.outbound_timeout_seconds, retryable=RETRYABLE)


class TimeframesSchedules:
    def __init__(self, stub: schedules_pb2_grpc.SchedulesStub):
        self._stub = stub

    async def create_schedule(self, *, external_id: str, name: str, time_zone: str, default_capacity: int) -> str:
        request = schedules_pb2.CreateScheduleRequest(
            schedule=schedules_pb2.Schedule(external_id=external_id, name=name, time_zone=time_zone, default_capacity=default_capacity)
        )
        try:
            response = await self._stub.CreateSchedule(request)
        except grpc.aio.AioRpcError as err:
            if err.code() in _TRANSIENT:
                raise unavailable("timeframes", err) from err
            raise RuntimeError(f"timeframes refused CreateSchedule: {err.code().name}: {err.details()}") from err
        if not response.schedule.id:
            raise RuntimeError("timeframes answered CreateSchedule without a schedule id")
        return response.schedule.id
