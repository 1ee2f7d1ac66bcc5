"""calendar.events.v3.Events/UpdateEventParticipants (internal) over real gRPC: totals settle by
version, stale writes are acknowledged without change, overbooking shows as negative remaining
capacity, cancelled events still settle, tenant isolation."""

from __future__ import annotations

import asyncio
import random
import uuid

import grpc
import pytest

from services.api.calendar.events.v3 import events_pb2
from tests import support
from tests.integration.timeframes_support import Calendar, internal

pytestmark = pytest.mark.integration


async def new_event(calendar: Calendar, capacity: int = 10) -> events_pb2.Event:
    schedule = await calendar.schedule(default_capacity=capacity)
    return await calendar.event(schedule.id)


async def test_a_newer_version_sets_the_total_and_the_remaining_capacity(calendar: Calendar) -> None:
    event = await new_event(calendar, capacity=10)
    response = await calendar.settle(event.id, participants_total=4, version=1)

    assert response.applied
    assert (response.event.participants_total, response.event.remaining_capacity, response.event.revision) == (4, 6, 2)
    assert await calendar.get_event(event.id) == response.event


@pytest.mark.parametrize("stale_version", [pytest.param(5, id="same-version"), pytest.param(2, id="older-version")])
async def test_a_stale_version_is_acknowledged_without_change(calendar: Calendar, stale_version: int) -> None:
    event = await new_event(calendar)
    current = (await calendar.settle(event.id, participants_total=7, version=5)).event

    response = await calendar.settle(event.id, participants_total=1, version=stale_version)
    assert not response.applied
    assert response.event == current
    assert await calendar.get_event(event.id) == current


async def test_more_participants_than_capacity_leave_remaining_capacity_negative(calendar: Calendar) -> None:
    event = await new_event(calendar, capacity=3)
    response = await calendar.settle(event.id, participants_total=5, version=1)
    assert (response.event.participants_total, response.event.remaining_capacity) == (5, -2)


async def test_a_cancelled_event_still_settles(calendar: Calendar) -> None:
    event = await new_event(calendar)
    await calendar.settle(event.id, participants_total=6, version=1)
    cancelled = await calendar.cancel(await calendar.get_event(event.id))

    response = await calendar.settle(event.id, participants_total=0, version=2)
    assert response.applied
    assert (response.event.status, response.event.participants_total, response.event.revision) == (
        events_pb2.CANCELLED,
        0,
        cancelled.revision + 1,
    )


async def test_writes_arriving_out_of_order_settle_on_the_highest_version(calendar: Calendar) -> None:
    event = await new_event(calendar, capacity=50)
    versions = list(range(1, 21))
    random.Random(7).shuffle(versions)
    await asyncio.gather(*(calendar.settle(event.id, participants_total=v, version=v) for v in versions))

    stored = await calendar.get_event(event.id)
    assert (stored.participants_total, stored.remaining_capacity) == (20, 30)


async def test_a_participants_update_moves_the_revision_so_a_stale_update_event_is_aborted(calendar: Calendar) -> None:
    event = await new_event(calendar)
    await calendar.settle(event.id, participants_total=1, version=1)
    request = events_pb2.CancelEventRequest(event_id=event.id, revision=event.revision)
    await support.expect_error(grpc.StatusCode.ABORTED, calendar.events.CancelEvent(request, metadata=support.auth(calendar.tenant)))


@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"event_id": ""}, "event_id", id="event-id-missing"),
        pytest.param({"event_id": "event"}, "event_id", id="event-id-malformed"),
        pytest.param({"participants_total": -1}, "participants_total", id="total-negative"),
        pytest.param({"version": 0}, "version", id="version-missing"),
        pytest.param({"version": -3}, "version", id="version-negative"),
    ],
)
async def test_invalid_participant_updates_name_the_field_and_change_nothing(calendar: Calendar, changes: dict[str, object], field: str) -> None:
    event = await new_event(calendar)
    fields: dict[str, object] = {"event_id": event.id, "participants_total": 3, "version": 1} | changes
    request = events_pb2.UpdateEventParticipantsRequest(**fields)  # type: ignore[arg-type]
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.events.UpdateEventParticipants(request, metadata=internal(calendar.tenant)))
    assert field in support.field_violations(err)
    assert await calendar.get_event(event.id) == event


async def test_participants_of_an_unknown_event_are_not_found(calendar: Calendar) -> None:
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.settle(str(uuid.uuid4()), participants_total=1, version=1))


async def test_participants_of_another_tenants_event_are_not_found_and_unchanged(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await new_event(other_calendar)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.settle(theirs.id, participants_total=9, version=1))
    assert await other_calendar.get_event(theirs.id) == theirs
