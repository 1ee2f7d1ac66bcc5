"""Degradation as docs/booking-policies.md "Graceful degradation" requires, by breaking the real
dependency (never a mock): ScheduleTimeFrames down -> the first session comes from Events; Events
or Services down -> UNAVAILABLE (no made-up data); a dependency that hangs -> UNAVAILABLE within
the deadline; a policy provider that omits book_after_start_policy -> booking after start is
disabled."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator

import grpc
import pytest

from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2, booking_policy_pb2_grpc
from services.devstack.infra import free_port
from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, MINUTE, World, enable_course_availability_for_everyone, local, now, policy
from tests.integration.instances import extra_instance
from tests.support import auth, error_reason, expect_error


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform: Platform) -> None:
    await enable_course_availability_for_everyone(platform)


# Every read goes to the dependency under test.
_NO_CACHE = {"availability_cache_enabled": "false"}


def _request(service_id: str) -> time_slots_pb2.ListCourseEventTimeSlotsRequest:
    return time_slots_pb2.ListCourseEventTimeSlotsRequest(
        service_ids=[service_id], from_local_date=local(now() - 30 * DAY), to_local_date=local(now() + 60 * DAY), time_zone="Europe/Vienna"
    )


async def _list(address: str, tenant: str, service_id: str) -> time_slots_pb2.ListCourseEventTimeSlotsResponse:
    async with grpc.aio.insecure_channel(address) as ch:
        return await time_slots_pb2_grpc.CourseEventTimeSlotsStub(ch).ListCourseEventTimeSlots(_request(service_id), metadata=auth(tenant))


def _bi_errors(log: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [r for r in records if r.get("bi_event") == "course_availability_error"]


async def test_with_schedule_time_frames_down_the_first_session_comes_from_events(platform: Platform, channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    # First session 30 min ahead with a 60-min late limit: too late -- only a correct F shows it.
    course = await world.course([now() + 30 * MINUTE + i * 7 * DAY for i in range(3)], booking_policy=policy(late=60))
    async with (
        extra_instance(platform, "timeframes", "tf-for-time-frames") as time_frames,
        extra_instance(platform, "availability", "av-degraded-tf", time_frames_address=time_frames.address, **_NO_CACHE) as av,
    ):
        healthy = await _list(av.address, tenant, course.id)
        time_frames.kill()
        degraded = await _list(av.address, tenant, course.id)
        assert [(s.bookable, s.booking_policy_violations.too_late_to_book) for s in degraded.time_slots] == [(False, True)] * 3
        assert degraded.time_slots == healthy.time_slots
        errors = _bi_errors(av.log())
        assert errors and errors[-1]["dependency"] == "time_frames" and errors[-1]["degraded"] is True


@pytest.mark.parametrize("dependency, service", [("events", "timeframes"), ("services", "bookings"), ("policy_provider", "bookings")])
async def test_with_a_required_dependency_down_the_request_fails_unavailable(platform: Platform, channel, tenant: str, dependency: str, service: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    course = await world.course([now() + 2 * DAY])
    async with (
        extra_instance(platform, service, f"{service}-for-{dependency}") as spare,
        extra_instance(
            platform, "availability", f"av-no-{dependency}", **{f"{dependency}_address": spare.address, "availability_cache_enabled": "false"}
        ) as av,
    ):
        assert (await _list(av.address, tenant, course.id)).time_slots
        spare.kill()
        err = await expect_error(grpc.StatusCode.UNAVAILABLE, _list(av.address, tenant, course.id))
        assert error_reason(err) == "DEPENDENCY_UNAVAILABLE"
        assert _bi_errors(av.log())[-1]["degraded"] is False


async def test_a_dependency_that_hangs_fails_the_request_within_the_outbound_deadline(platform: Platform, channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    course = await world.course([now() + 2 * DAY])
    async with (
        extra_instance(platform, "timeframes", "tf-frozen") as events,
        extra_instance(platform, "availability", "av-frozen-events", events_address=events.address, outbound_timeout_seconds="0.5", **_NO_CACHE) as av,
    ):
        assert (await _list(av.address, tenant, course.id)).time_slots
        pid = platform.supervisor.pid(events.name)
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            await expect_error(grpc.StatusCode.UNAVAILABLE, _list(av.address, tenant, course.id))
            # Generous bound: the point is that it does not hang, not how fast the box is.
            assert time.monotonic() - started < 5
        finally:
            os.kill(pid, signal.SIGCONT)


class _ProviderWithoutBookAfterStart(booking_policy_pb2_grpc.BookingPolicyProviderServicer):
    """An external BookingPolicyProvider (the SPI allows one) that predates book_after_start_policy."""

    async def ListBookingPolicies(self, request, context):  # type: ignore[no-untyped-def]
        policy = booking_policy_pb2.BookingPolicy(limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(enabled=False))
        return booking_policy_pb2.ListBookingPoliciesResponse(
            booking_policies=[booking_policy_pb2.ServiceBookingPolicy(service_id=s, booking_policy=policy) for s in request.service_ids]
        )


@contextlib.asynccontextmanager
async def _external_provider() -> AsyncIterator[str]:
    server = grpc.aio.server()
    booking_policy_pb2_grpc.add_BookingPolicyProviderServicer_to_server(_ProviderWithoutBookAfterStart(), server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


async def test_a_provider_without_book_after_start_policy_disables_booking_after_start(platform: Platform, channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    # The catalog says book after start is allowed; the provider configured for this instance says nothing.
    course = await world.course([now() - DAY, now() + 6 * DAY], booking_policy=policy(book_after_start=True))
    assert {s.bookable for s in (await _list(platform.address("availability"), tenant, course.id)).time_slots} == {False, True}
    async with (
        _external_provider() as provider,
        extra_instance(platform, "availability", "av-external-provider", policy_provider_address=provider, **_NO_CACHE) as av,
    ):
        slots = (await _list(av.address, tenant, course.id)).time_slots
        assert [(s.past, s.bookable, s.booking_policy_violations.too_late_to_book) for s in slots] == [(True, False, True), (False, False, True)]
