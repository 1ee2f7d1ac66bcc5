"""CreateService and timeframes: a CLASS or COURSE gets its calendar schedule, a rejected create
creates none, and when timeframes is unreachable the create fails with UNAVAILABLE and nothing is
stored anywhere."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.devstack import free_port
from services.devstack.stack import Platform
from tests.support import auth, error_reason, expect_error, field_violations

pytestmark = pytest.mark.integration

READ, WRITE = "catalog:read", "catalog:write"


def service(**fields: Any) -> services_pb2.Service:
    values: dict[str, Any] = {"type": services_pb2.COURSE, "name": "Life drawing", "default_capacity": 8, "time_zone": "America/New_York"}
    values.update(fields)
    return services_pb2.Service(**values)


@pytest.fixture
def catalog(channel: Callable[[str], grpc.aio.Channel]) -> services_pb2_grpc.ServicesStub:
    return services_pb2_grpc.ServicesStub(channel("bookings"))


@pytest.fixture
def schedules(channel: Callable[[str], grpc.aio.Channel]) -> schedules_pb2_grpc.SchedulesStub:
    return schedules_pb2_grpc.SchedulesStub(channel("timeframes"))


async def create(catalog: services_pb2_grpc.ServicesStub, tenant: str, **fields: Any) -> services_pb2.Service:
    return (await catalog.CreateService(services_pb2.CreateServiceRequest(service=service(**fields)), metadata=auth(tenant, WRITE))).service


async def stored_services(catalog: services_pb2_grpc.ServicesStub, tenant: str) -> list[services_pb2.Service]:
    request = services_pb2.QueryServicesRequest(cursor_paging=paging_pb2.CursorPaging(limit=1000))
    return list((await catalog.QueryServices(request, metadata=auth(tenant, READ))).services)


async def schedule_count(platform: Platform, tenant: str) -> int:
    """How many schedules timeframes holds for `tenant`.

    Read from timeframes' own table because the calendar contract has no way to list schedules,
    and a rejected create never returns the id it would have used as external_id. Only this
    observer check looks inside another service's schema; the services themselves never do.
    """
    env = platform.service_env("timeframes")
    schema = env.get("DB_SCHEMA") or "timeframes"
    conn = await asyncpg.connect(env["DATABASE_URL"])
    try:
        return await conn.fetchval(f'SELECT count(*) FROM "{schema}".schedules WHERE tenant_id = $1', tenant)
    finally:
        await conn.close()


# --- schedules of classes and courses --------------------------------------------------------------


@pytest.mark.parametrize("service_type", [services_pb2.COURSE, services_pb2.CLASS], ids=["course", "class"])
async def test_creating_a_course_or_class_creates_its_schedule_with_the_services_time_zone_and_capacity(
    catalog: services_pb2_grpc.ServicesStub, schedules: schedules_pb2_grpc.SchedulesStub, tenant: str, service_type: int
) -> None:
    created = await create(catalog, tenant, type=service_type, default_capacity=25, time_zone="Australia/Sydney")

    schedule = (await schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=created.schedule_id), metadata=auth(tenant, "calendar:read"))).schedule
    assert schedule.id == created.schedule_id
    assert schedule.external_id == created.id
    assert schedule.name == created.name
    assert schedule.time_zone == "Australia/Sydney"
    assert schedule.default_capacity == 25
    assert schedule.status == schedules_pb2.ACTIVE


async def test_every_course_gets_its_own_schedule(catalog: services_pb2_grpc.ServicesStub, platform: Platform, tenant: str) -> None:
    created = [await create(catalog, tenant, name=f"course {i}") for i in range(3)]
    assert len({s.schedule_id for s in created}) == 3
    assert await schedule_count(platform, tenant) == 3


async def test_an_appointment_creates_no_schedule(catalog: services_pb2_grpc.ServicesStub, platform: Platform, tenant: str) -> None:
    settings = services_pb2.AppointmentSettings(duration_minutes=30)
    created = await create(catalog, tenant, type=services_pb2.APPOINTMENT, default_capacity=0, appointment=settings)
    assert created.schedule_id == ""
    assert await schedule_count(platform, tenant) == 0


@pytest.mark.parametrize(
    "fields, field",
    [
        pytest.param({"name": " "}, "service.name", id="blank-name"),
        pytest.param({"default_capacity": 0}, "service.default_capacity", id="no-capacity"),
        pytest.param({"time_zone": "Nowhere/Special"}, "service.time_zone", id="bad-time-zone"),
        pytest.param(
            {"booking_policy": policy_pb2.BookingPolicy(participants_policy=policy_pb2.ParticipantsPolicy(max_participants_per_booking=9))},
            "service.booking_policy.participants_policy.max_participants_per_booking",
            id="party-size-above-capacity",
        ),
        pytest.param(
            {
                "booking_policy": policy_pb2.BookingPolicy(
                    limit_early_booking=policy_pb2.LimitEarlyBookingPolicy(enabled=True, earliest_booking_in_minutes=30),
                    limit_late_booking=policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=60),
                )
            },
            "service.booking_policy.limit_early_booking.earliest_booking_in_minutes",
            id="booking-window-never-opens",
        ),
    ],
)
async def test_a_rejected_create_creates_no_schedule_and_no_service(
    catalog: services_pb2_grpc.ServicesStub, platform: Platform, tenant: str, fields: dict[str, Any], field: str
) -> None:
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        catalog.CreateService(services_pb2.CreateServiceRequest(service=service(**fields)), metadata=auth(tenant, WRITE)),
    )
    assert field in field_violations(err)
    assert await schedule_count(platform, tenant) == 0
    assert await stored_services(catalog, tenant) == []


async def test_changing_capacity_and_time_zone_later_leaves_existing_sessions_as_they_were(
    catalog: services_pb2_grpc.ServicesStub, channel: Callable[[str], grpc.aio.Channel], tenant: str
) -> None:
    created = await create(catalog, tenant, default_capacity=8, time_zone="America/New_York")
    events = events_pb2_grpc.EventsStub(channel("timeframes"))
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    event = events_pb2.Event(
        schedule_id=created.schedule_id,
        start=timestamp_pb2.Timestamp(seconds=int(start.timestamp())),
        end=timestamp_pb2.Timestamp(seconds=int((start + timedelta(hours=2)).timestamp())),
    )
    session = (await events.CreateEvent(events_pb2.CreateEventRequest(event=event), metadata=auth(tenant, "calendar:write"))).event

    patch = services_pb2.Service(id=created.id, revision=created.revision, default_capacity=30, time_zone="Europe/Lisbon")
    await catalog.UpdateService(
        services_pb2.UpdateServiceRequest(service=patch, mask=field_mask_pb2.FieldMask(paths=["default_capacity", "time_zone"])),
        metadata=auth(tenant, WRITE),
    )

    after = (await events.GetEvent(events_pb2.GetEventRequest(event_id=session.id), metadata=auth(tenant, "calendar:read"))).event
    assert (after.total_capacity, after.time_zone) == (8, "America/New_York")


# --- timeframes unreachable ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bookings_without_timeframes(platform: Platform) -> Iterator[str]:
    """A second bookings instance on the same database whose timeframes address has nobody listening."""
    name = f"bookings-no-timeframes-{uuid.uuid4().hex[:6]}"
    port = free_port()
    env = platform.service_env("bookings") | {
        "GRPC_PORT": str(port),
        "TIMEFRAMES_ADDRESS": f"127.0.0.1:{free_port()}",
        "OUTBOUND_TIMEOUT_SECONDS": "1",
    }
    platform.supervisor.start(name, [sys.executable, "-m", "services.bookings", "serve"], env=env)
    try:
        platform.supervisor.wait_healthy(name, port, timeout=30)
        yield f"127.0.0.1:{port}"
    finally:
        platform.supervisor.stop(name)


@pytest.fixture
async def isolated_catalog(bookings_without_timeframes: str) -> Any:
    async with grpc.aio.insecure_channel(bookings_without_timeframes) as ch:
        yield services_pb2_grpc.ServicesStub(ch)


@pytest.mark.parametrize("service_type", [services_pb2.COURSE, services_pb2.CLASS], ids=["course", "class"])
async def test_when_timeframes_is_unreachable_a_create_is_unavailable_and_stores_nothing(
    isolated_catalog: services_pb2_grpc.ServicesStub, catalog: services_pb2_grpc.ServicesStub, platform: Platform, tenant: str, service_type: int
) -> None:
    err = await expect_error(
        grpc.StatusCode.UNAVAILABLE,
        isolated_catalog.CreateService(services_pb2.CreateServiceRequest(service=service(type=service_type)), metadata=auth(tenant, WRITE)),
    )
    assert error_reason(err) == "DEPENDENCY_UNAVAILABLE"
    assert await stored_services(catalog, tenant) == []
    assert await schedule_count(platform, tenant) == 0


async def test_when_timeframes_is_unreachable_appointments_can_still_be_created(
    isolated_catalog: services_pb2_grpc.ServicesStub, catalog: services_pb2_grpc.ServicesStub, tenant: str
) -> None:
    appointment = service(type=services_pb2.APPOINTMENT, default_capacity=0, appointment=services_pb2.AppointmentSettings(duration_minutes=30))
    request = services_pb2.CreateServiceRequest(service=appointment)
    created = (await isolated_catalog.CreateService(request, metadata=auth(tenant, WRITE))).service
    assert [s.id for s in await stored_services(catalog, tenant)] == [created.id]


async def test_when_timeframes_is_unreachable_an_invalid_create_is_still_invalid(isolated_catalog: services_pb2_grpc.ServicesStub, tenant: str) -> None:
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        isolated_catalog.CreateService(services_pb2.CreateServiceRequest(service=service(name="")), metadata=auth(tenant, WRITE)),
    )
    assert "service.name" in field_violations(err)
