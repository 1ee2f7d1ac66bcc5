"""The shared service runtime as operators meet it: health, reflection, auth on every RPC,
trace ids in logs, start-up configuration errors and a port already in use."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.calendar.events.v3 import events_pb2
from services.devstack.stack import SERVICE_PORTS, Platform
from tests.integration.instances import extra_instance
from tests.integration.timeframes_support import T0, Calendar, mask, ts, writer
from tests.support import auth, expect_error

# docs/platform.md "Services and ports": which service hosts what.
HOSTED = {
    "availability": {
        "bookings.availability.v2.CourseEventTimeSlots",
        "bookings.availability.v2.EventTimeSlots",
        "bookings.availability.v2.AvailabilityTimeSlots",
        "bookings.availability.v1.AvailabilityCalendar",
    },
    "bookings": {"bookings.catalog.v1.Services", "bookings.staff.v1.StaffMembers", "bookings.policies.v1.BookingPolicyProvider", "bookings.v2.Bookings"},
    "participations": {"bookings.participations.v3.Participations"},
    "timeframes": {
        "calendar.schedules.v3.Schedules",
        "calendar.events.v3.Events",
        "calendar.timeframes.v3.ScheduleTimeFrames",
        "calendar.working_hours.v1.WorkingHours",
        "calendar.working_hours.v1.AppointmentHolds",
    },
}


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
async def test_health_reports_serving_without_a_token(channel, service: str) -> None:  # type: ignore[no-untyped-def]
    stub = health_pb2_grpc.HealthStub(channel(service))
    for name in ["", *sorted(HOSTED[service])]:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert response.status == health_pb2.HealthCheckResponse.SERVING, name


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
async def test_reflection_lists_the_design_services_it_hosts(channel, service: str) -> None:  # type: ignore[no-untyped-def]
    stub = reflection_pb2_grpc.ServerReflectionStub(channel(service))

    async def requests():  # type: ignore[no-untyped-def]
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async for response in stub.ServerReflectionInfo(requests()):
        listed = {s.name for s in response.list_services_response.service}
        break
    assert HOSTED[service] <= listed
    assert "grpc.health.v1.Health" in listed


async def test_a_contract_rpc_authenticates_before_it_answers(channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc

    stub = participations_pb2_grpc.ParticipationsStub(channel("participations"))
    request = participations_pb2.QueryParticipationsRequest()
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, stub.QueryParticipations(request))
    assert (await stub.QueryParticipations(request, metadata=auth(tenant))).paging_metadata.count == 0


async def test_log_lines_carry_the_callers_trace_id(channel, tenant: str, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    trace_id = os.urandom(16).hex()
    traceparent = f"00-{trace_id}-{os.urandom(8).hex()}-01"
    stub = services_pb2_grpc.ServicesStub(channel("bookings"))
    # Every RPC writes one access line, inside the server span of the caller's trace.
    await stub.CreateService(
        services_pb2.CreateServiceRequest(
            service=services_pb2.Service(
                type=services_pb2.APPOINTMENT,
                name="Trace me",
                time_zone="Europe/Vienna",
                default_capacity=1,
                appointment=services_pb2.AppointmentSettings(duration_minutes=30),
            )
        ),
        metadata=[*auth(tenant), ("traceparent", traceparent)],
    )
    log_path = platform.supervisor.log_path("bookings")
    assert log_path is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        if any(line.get("trace_id") == trace_id for line in lines):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"no log line of bookings carries trace id {trace_id}")
    line = next(line for line in lines if line.get("trace_id") == trace_id)
    assert line["tenant_id"] == tenant
    assert line["rpc"] == "bookings.catalog.v1.Services/CreateService"
    assert line["code"] == "OK"
    assert len(line["span_id"]) == 16


def _run_service(module: str, env: dict[str, str], timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, "serve"], env=env, capture_output=True, text=True, timeout=timeout)


def test_a_bad_configuration_stops_start_up_with_one_message_naming_every_bad_variable(platform: Platform) -> None:
    env = {k: v for k, v in platform.service_env("bookings").items() if k != "AUTH_JWT_SECRET"}
    env.update({"GRPC_PORT": "not-a-port", "DATABASE_URL": "mysql://nope", "DB_POOL_MAX_SIZE": "0"})
    result = _run_service("services.bookings", env)
    assert result.returncode == 2
    for name in ("GRPC_PORT", "DATABASE_URL", "DB_POOL_MAX_SIZE"):
        assert name in result.stderr, result.stderr


def test_a_service_without_a_way_to_verify_tokens_refuses_to_start(platform: Platform) -> None:
    env = {k: v for k, v in platform.service_env("bookings").items() if k != "AUTH_JWT_SECRET"}
    result = _run_service("services.bookings", env)
    assert result.returncode == 2
    assert "AUTH_JWT_SECRET" in result.stderr and "AUTH_JWKS_URL" in result.stderr


def test_a_second_instance_on_a_used_port_fails_clearly_instead_of_sharing_it(platform: Platform) -> None:
    result = _run_service("services.availability", platform.service_env("availability"))
    assert result.returncode == 3
    assert "in use" in result.stdout + result.stderr


async def test_sigterm_drains_an_in_flight_rpc_before_the_process_exits(platform: Platform, tenant: str) -> None:
    """A second timeframes instance gets an UpdateEvent that blocks on a row lock the test holds;
    SIGTERM arrives mid-call; health stops reporting SERVING; the lock is released within the
    grace period; the call still succeeds and the process exits 0."""
    async with extra_instance(platform, "timeframes", "timeframes-drain", shutdown_grace_seconds="20") as instance:
        async with grpc.aio.insecure_channel(instance.address) as ch:
            calendar = Calendar.of(ch, tenant)
            schedule = await calendar.schedule()
            event = await calendar.event(schedule.id)
            async with _update_held_by_a_row_lock(platform, tenant, calendar, event, "moved during shutdown") as held:
                os.kill(platform.supervisor.pid(instance.name), signal.SIGTERM)
                await asyncio.sleep(0.5)
                assert platform.supervisor.is_running(instance.name), "exited without draining"
                assert not await _serving(instance.address)
                await held.release()
            response = await asyncio.wait_for(held.call, 10)
            assert response.event.title == "moved during shutdown"
            assert ts(T0) == event.start
        # The one SIGTERM is all it gets (as from Kubernetes): it finishes closing and exits by itself.
        # psutil reaps our child and returns its exit status (a negative one for a signal).
        exit_code = await asyncio.to_thread(psutil.Process(platform.supervisor.pid(instance.name)).wait, 15)
        assert exit_code == 0, f"exit code {exit_code}; last log lines:\n{platform.supervisor.log_tail(instance.name)}"


@dataclass(frozen=True)
class _Held:
    call: asyncio.Future[events_pb2.UpdateEventResponse]
    release: Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def _update_held_by_a_row_lock(platform: Platform, tenant: str, calendar: Calendar, event: events_pb2.Event, title: str) -> AsyncIterator[_Held]:
    """An UpdateEvent (the title) sent while the test holds the event's row lock: it waits inside
    the server until `release()`, or until the block ends (the connection holding it closes)."""
    db = await asyncpg.connect(platform.service_env("timeframes")["DATABASE_URL"], server_settings={"search_path": "timeframes"})
    try:
        lock = db.transaction()
        await lock.start()
        await db.execute("SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, uuid.UUID(event.id))
        moved = events_pb2.Event(id=event.id, revision=event.revision, title=title)
        call = asyncio.ensure_future(calendar.events.UpdateEvent(events_pb2.UpdateEventRequest(event=moved, mask=mask("title")), metadata=writer(tenant)))
        await asyncio.sleep(0.5)  # the call is now waiting on the lock inside the server
        assert not call.done()
        yield _Held(call, lock.rollback)
    finally:
        await db.close()


async def _serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as ch:
        try:
            response = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.aio.AioRpcError:
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING


async def test_beyond_its_in_flight_limit_a_service_sheds_calls_at_once_but_keeps_answering_health(platform: Platform, tenant: str) -> None:
    """GRPC_MAX_IN_FLIGHT=1 on a second timeframes instance: one UpdateEvent held on a row lock
    fills it; the next call is refused with RESOURCE_EXHAUSTED right away (not queued until its
    deadline), health still says SERVING, and once the held call ends calls are served again."""
    async with extra_instance(platform, "timeframes", "timeframes-shed", grpc_max_in_flight="1") as instance:
        async with grpc.aio.insecure_channel(instance.address) as ch:
            calendar = Calendar.of(ch, tenant)
            schedule = await calendar.schedule()
            event = await calendar.event(schedule.id)
            async with _update_held_by_a_row_lock(platform, tenant, calendar, event, "held") as held:
                started = time.monotonic()
                refused = calendar.events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=writer(tenant), timeout=5)
                error = await expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED, refused)
                assert "overloaded" in (error.details() or "")
                assert time.monotonic() - started < 1.0, "refused only after waiting"
                assert await _serving(instance.address)
                await held.release()
            assert (await asyncio.wait_for(held.call, 10)).event.title == "held"
            got = await calendar.events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=writer(tenant))
            assert got.event.title == "held"
