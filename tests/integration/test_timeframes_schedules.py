"""calendar.schedules.v3.Schedules over real gRPC: create (retry-safe by external_id), get,
validation by field, tenant isolation."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from services.api.calendar.schedules.v3 import schedules_pb2
from services.common.validation import is_uuid
from tests import support
from tests.integration.timeframes_support import Calendar, reader, writer

pytestmark = pytest.mark.integration


async def test_a_created_schedule_has_an_id_revision_1_and_is_active(calendar: Calendar) -> None:
    schedule = await calendar.schedule(name="Pottery course", external_id="svc-1", time_zone="America/New_York", default_capacity=12)

    assert is_uuid(schedule.id)
    assert (schedule.name, schedule.external_id, schedule.time_zone, schedule.default_capacity) == (
        "Pottery course",
        "svc-1",
        "America/New_York",
        12,
    )
    assert (schedule.status, schedule.revision) == (schedules_pb2.ACTIVE, 1)
    assert schedule.HasField("created_date")


async def test_get_schedule_returns_the_created_schedule(calendar: Calendar) -> None:
    created = await calendar.schedule(name="Yoga")
    response = await calendar.schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=created.id), metadata=reader(calendar.tenant))
    assert response.schedule == created


async def test_creating_with_an_existing_external_id_returns_the_existing_schedule(calendar: Calendar) -> None:
    first = await calendar.schedule(name="First", external_id="service-7", default_capacity=5)
    retried = await calendar.schedule(name="Second", external_id="service-7", default_capacity=9)
    assert retried == first


async def test_concurrent_creates_with_one_external_id_make_one_schedule(calendar: Calendar) -> None:
    results = await asyncio.gather(*(calendar.schedule(name=f"attempt {i}", external_id="racing-service") for i in range(10)))
    assert len({s.id for s in results}) == 1


async def test_schedules_without_external_id_are_never_merged(calendar: Calendar) -> None:
    a, b = await calendar.schedule(name="A"), await calendar.schedule(name="A")
    assert a.id != b.id


async def test_the_same_external_id_in_two_tenants_makes_two_schedules(calendar: Calendar, other_calendar: Calendar) -> None:
    mine = await calendar.schedule(external_id="shared-ref")
    theirs = await other_calendar.schedule(external_id="shared-ref")
    assert mine.id != theirs.id


@pytest.mark.parametrize(
    "fields, field",
    [
        pytest.param({"time_zone": ""}, "schedule.time_zone", id="time-zone-missing"),
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, "schedule.time_zone", id="time-zone-not-iana"),
        pytest.param({"default_capacity": 0}, "schedule.default_capacity", id="default-capacity-0"),
        pytest.param({"default_capacity": 10_001}, "schedule.default_capacity", id="default-capacity-above-10000"),
        pytest.param({"default_capacity": -1}, "schedule.default_capacity", id="default-capacity-negative"),
        pytest.param({"name": "n" * 201}, "schedule.name", id="name-longer-than-200"),
        pytest.param({"external_id": "e" * 101}, "schedule.external_id", id="external-id-longer-than-100"),
    ],
)
async def test_an_invalid_schedule_is_rejected_by_field_and_not_stored(calendar: Calendar, fields: dict[str, object], field: str) -> None:
    external_id = f"ref-{uuid.uuid4()}" if "external_id" not in fields else None
    message = {"time_zone": "Europe/Vienna", "default_capacity": 10, "name": "Rejected"} | fields
    if external_id:
        message["external_id"] = external_id
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.schedules.CreateSchedule(schedules_pb2.CreateScheduleRequest(schedule=message), metadata=writer(calendar.tenant)),  # type: ignore[arg-type]
    )
    assert field in support.field_violations(err)
    if external_id:  # nothing was stored: the external id is still free
        stored = await calendar.schedule(name="Accepted", external_id=external_id)
        assert stored.name == "Accepted"


async def test_every_invalid_field_is_reported_in_one_response(calendar: Calendar) -> None:
    bad = schedules_pb2.Schedule(name="n" * 300, time_zone="Nowhere", default_capacity=0)
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.schedules.CreateSchedule(schedules_pb2.CreateScheduleRequest(schedule=bad), metadata=writer(calendar.tenant)),
    )
    assert set(support.field_violations(err)) == {"schedule.name", "schedule.time_zone", "schedule.default_capacity"}


@pytest.mark.parametrize("schedule_id", [pytest.param("", id="missing"), pytest.param("schedule-1", id="malformed")])
async def test_get_schedule_with_a_bad_id_names_the_field(calendar: Calendar, schedule_id: str) -> None:
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=schedule_id), metadata=reader(calendar.tenant)),
    )
    assert "schedule_id" in support.field_violations(err)


async def test_get_schedule_of_an_unknown_id_is_not_found(calendar: Calendar) -> None:
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=str(uuid.uuid4())), metadata=reader(calendar.tenant)),
    )


async def test_another_tenants_schedule_is_not_found(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule(external_id="theirs")
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=theirs.id), metadata=reader(calendar.tenant)),
    )
    # Their external id does not leak into this tenant either: creating it here makes a new schedule.
    mine = await calendar.schedule(external_id="theirs")
    assert mine.id != theirs.id
