"""Every metric a dashboard panel or an alert rule of deploy/k8s/observability uses is one the
services really export (issue 5 acceptance), with the labels the query uses.

The services export over OTLP to the session's receiver (services/devstack/otlp.py);
their names are translated to Prometheus names exactly as the collector's `prometheus`
exporter does (services/common/telemetry.py `prometheus_name`, unit-tested on its own). Metrics
that exist only once something happened (a counter is exported after its first increment) are
made to happen here, not assumed: a policy violation of each type, a failed dependency read, a
dead-lettered message, a booking settled through the whole pipeline.
"""

from __future__ import annotations

import os

import grpc
import pytest
from aiokafka import AIOKafkaProducer

from services.api.bookings.availability.v2 import time_slots_pb2, time_slots_pb2_grpc
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.common import topics
from services.devstack.infra import free_port
from services.devstack.otlp import OtlpReceiver
from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, MINUTE, World, enable_course_availability_for_everyone, local, now, policy
from tests.integration.instances import extra_instance
from tests.integration.observability_support import dashboard_queries, exported_series, label_names, metric_names, rule_queries
from tests.support import auth, eventually, expect_error

BOOKING_TOPIC = topics.BOOKING_EVENTS.name


def _window() -> dict[str, str]:
    return {"from_local_date": local(now() - DAY), "to_local_date": local(now() + 60 * DAY), "time_zone": "Europe/Vienna"}


async def _violate_every_policy(world: World) -> None:
    """One course per violation type, listed once: availability.policy_violations.<type>."""
    too_early = await world.course([now() + 10 * DAY], booking_policy=policy(early=60))
    too_late = await world.course([now() + 30 * MINUTE], booking_policy=policy(late=60))
    offline = await world.course([now() + 5 * DAY], online=False)
    full = await world.course([now() + 5 * DAY], capacity=1)
    await world.hold_participants(full.events[0], 1)
    response = await world.list_courses(service_ids=[too_early.id, too_late.id, offline.id, full.id], **_window())
    violations = {s.service_id: s.booking_policy_violations for s in response.time_slots}
    assert violations[too_early.id].too_early_to_book and violations[too_late.id].too_late_to_book
    assert violations[offline.id].book_online_disabled
    assert {s.service_id for s in response.time_slots if s.non_bookable_reasons.no_remaining_capacity} == {full.id}


async def _book_through_the_pipeline(world: World) -> None:
    """A class booking settled into the event's capacity: the outbox, both participations
    consumers and participations.propagation_lag."""
    klass = await world.klass([now() + 4 * DAY], capacity=3)
    await world.book(klass, klass.events[0])

    async def current() -> events_pb2.Event:
        return (await world.events.GetEvent(events_pb2.GetEventRequest(event_id=klass.events[0].id), metadata=world.md)).event

    settled = await eventually(current, lambda e: e.remaining_capacity == 2, within=30)
    assert settled.remaining_capacity == 2


async def _fail_a_request(world: World) -> None:
    """A refused RPC, so status codes other than OK are exported too."""
    await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, world._bookings().GetBooking(bookings_pb2.GetBookingRequest(booking_id="not-a-uuid"), metadata=world.md)
    )


async def _dead_letter_a_message(platform: Platform, tenant: str) -> None:
    """A booking message that does not decode: participations dead-letters it at once."""
    producer = AIOKafkaProducer(bootstrap_servers=platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        headers = [("ce_type", b"bookings.booking.created.v1"), ("ce_tenantid", tenant.encode()), ("ce_id", os.urandom(8).hex().encode())]
        await producer.send_and_wait(BOOKING_TOPIC, value=b"\xff\xff not a protobuf", key=os.urandom(8).hex().encode(), headers=headers)
    finally:
        await producer.stop()


async def _lose_a_dependency(platform: Platform, world: World, otlp: OtlpReceiver) -> None:
    """An availability instance whose ScheduleTimeFrames address answers nothing: its reads fail
    (availability.dependency_errors{dependency="time_frames"}) and it degrades."""
    course = await world.course([now() + 5 * DAY])
    nowhere = f"127.0.0.1:{free_port()}"
    async with extra_instance(platform, "availability", "av-metrics-no-tf", time_frames_address=nowhere, availability_cache_enabled="false") as av:
        async with grpc.aio.insecure_channel(av.address) as ch:
            request = time_slots_pb2.ListCourseEventTimeSlotsRequest(service_ids=[course.id], **_window())
            response = await time_slots_pb2_grpc.CourseEventTimeSlotsStub(ch).ListCourseEventTimeSlots(request, metadata=auth(world.tenant))
        assert response.time_slots, "the degraded answer still lists the course"
        # Exported before the instance stops (every 2 s here; at shutdown anyway).
        assert not await otlp.wait_for_metrics(["availability.dependency_errors"], within=15)


@pytest.fixture(scope="module")
async def exported(platform: Platform, _channels: dict[str, grpc.aio.Channel], otlp: OtlpReceiver) -> dict[str, set[str]]:
    """Prometheus series name -> label names, of everything the services exported once the
    scenario made every metric the dashboards and alerts use happen."""
    await enable_course_availability_for_everyone(platform)
    world = World.of(_channels.__getitem__, f"tenant-{os.urandom(8).hex()}")
    await _violate_every_policy(world)
    await _book_through_the_pipeline(world)
    await _fail_a_request(world)
    await _dead_letter_a_message(platform, world.tenant)
    await _lose_a_dependency(platform, world, otlp)

    used = {name for _, expr in dashboard_queries() + rule_queries() for name in metric_names(expr)}

    async def series() -> dict[str, set[str]]:
        return exported_series(otlp.metrics())

    found = await eventually(series, lambda s: used <= s.keys(), within=20)
    return found


QUERIES = dashboard_queries() + rule_queries()


@pytest.mark.parametrize("where, expr", QUERIES, ids=[where for where, _ in QUERIES])
async def test_every_metric_a_query_uses_is_exported_by_a_service(where: str, expr: str, exported: dict[str, set[str]]) -> None:
    names = metric_names(expr)
    assert names, f"{where}: no metric in {expr!r}"
    missing = names - exported.keys()
    assert not missing, f"{where} uses {sorted(missing)}, which no service exported; exported: {sorted(exported)}"


@pytest.mark.parametrize("where, expr", QUERIES, ids=[where for where, _ in QUERIES])
async def test_every_label_a_query_uses_is_a_label_of_its_metrics(where: str, expr: str, exported: dict[str, set[str]]) -> None:
    available = set().union(*(exported.get(name, set()) for name in metric_names(expr)))
    unknown = label_names(expr) - available
    assert not unknown, f"{where} uses labels {sorted(unknown)} that its metrics do not have ({sorted(available)})"
