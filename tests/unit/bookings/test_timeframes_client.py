"""How the timeframes client turns CreateSchedule outcomes into domain results: an outage is
UNAVAILABLE for the caller (safe to retry), anything else is a bug (docs/errors.md)."""

from __future__ import annotations

import grpc
import pytest

from services.api.calendar.schedules.v3 import schedules_pb2
from services.bookings.adapters.timeframes import RETRYABLE, TimeframesSchedules
from services.common.errors import DependencyFailed, DependencyUnavailable


class FakeStub:
    def __init__(self, outcome: schedules_pb2.CreateScheduleResponse | grpc.StatusCode):
        self.outcome = outcome
        self.requests: list[schedules_pb2.CreateScheduleRequest] = []

    async def CreateSchedule(self, request: schedules_pb2.CreateScheduleRequest) -> schedules_pb2.CreateScheduleResponse:
        self.requests.append(request)
        if isinstance(self.outcome, grpc.StatusCode):
            raise grpc.aio.AioRpcError(self.outcome, grpc.aio.Metadata(), grpc.aio.Metadata(), details="from timeframes")
        return self.outcome


async def create(stub: FakeStub) -> str:
    return await TimeframesSchedules(stub).create_schedule(external_id="svc-1", name="Yoga", time_zone="Europe/Vienna", default_capacity=12)  # type: ignore[arg-type]


async def test_the_schedule_is_requested_with_the_service_as_its_owner() -> None:
    stub = FakeStub(schedules_pb2.CreateScheduleResponse(schedule=schedules_pb2.Schedule(id="sched-9")))
    assert await create(stub) == "sched-9"
    (request,) = stub.requests
    assert request.schedule == schedules_pb2.Schedule(external_id="svc-1", name="Yoga", time_zone="Europe/Vienna", default_capacity=12)


async def test_a_failure_of_timeframes_is_answered_as_the_dependency_table_says() -> None:
    """The mapping itself is tests/unit/common/test_dependency_errors.py; here: it is the one used."""
    with pytest.raises(DependencyUnavailable) as info:
        await create(FakeStub(grpc.StatusCode.UNAVAILABLE))
    assert info.value.dependency == "timeframes"
    with pytest.raises(DependencyFailed):
        await create(FakeStub(grpc.StatusCode.INTERNAL))


async def test_an_answer_without_a_schedule_id_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        await create(FakeStub(schedules_pb2.CreateScheduleResponse()))


def test_create_and_get_schedule_are_the_calls_declared_safe_to_retry() -> None:
    assert sorted(RETRYABLE) == [("calendar.schedules.v3.Schedules", "CreateSchedule"), ("calendar.schedules.v3.Schedules", "GetSchedule")]
