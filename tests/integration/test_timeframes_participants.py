"""calendar.events.v3.Events/UpdateEventParticipants and UpdateParticipantTotals (internal) over
real gRPC: totals settle by version, stale writes are acknowledged without change, overbooking
shows as negative remaining capacity, cancelled events still settle, tenant isolation; the
participants of a whole schedule are counted by every event of it, new ones included, and an
event switches from the single legacy total to the split totals at its first split settlement."""

from __future__ import annotations

import asyncio
import random
import uuid

import grpc
import pytest

from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2
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


# --- UpdateParticipantTotals: participants booked on events and on whole schedules ----------------

APPLIED, STALE, NOT_FOUND = events_pb2.APPLIED, events_pb2.STALE, events_pb2.NOT_FOUND


def outcomes(results: object) -> list[tuple[str, int]]:
    return [(r.id, r.outcome) for r in results]  # type: ignore[attr-defined]


async def test_every_event_of_a_schedule_counts_the_participants_booked_on_the_whole_schedule(calendar: Calendar) -> None:
    schedule = await calendar.schedule(default_capacity=10)
    first, second = await calendar.event(schedule.id), await calendar.event(schedule.id)

    response = await calendar.settle_totals(schedules={schedule.id: (4, 1)}, events={second.id: (2, 1)})
    assert outcomes(response.schedules) == [(schedule.id, APPLIED)] and outcomes(response.events) == [(second.id, APPLIED)]
    counted = {e.id: (e.participants_total, e.remaining_capacity) for e in await calendar.events_of(schedule.id)}
    assert counted == {first.id: (4, 6), second.id: (6, 4)}

    added = await calendar.event(schedule.id)  # a session added later counts the course's participants at once
    assert (added.participants_total, added.remaining_capacity) == (4, 6)
    stored = await calendar.schedules.GetSchedule(schedules_pb2.GetScheduleRequest(schedule_id=schedule.id), metadata=support.auth(calendar.tenant))
    assert stored.schedule.participants_total == 4


async def test_split_totals_settle_by_version_each_on_its_own(calendar: Calendar) -> None:
    schedule = await calendar.schedule(default_capacity=10)
    event = await calendar.event(schedule.id)
    await calendar.settle_totals(schedules={schedule.id: (5, 10)}, events={event.id: (1, 10)})

    late = await calendar.settle_totals(schedules={schedule.id: (2, 9)}, events={event.id: (7, 10)})
    assert outcomes(late.schedules) == [(schedule.id, STALE)] and outcomes(late.events) == [(event.id, STALE)]
    newer = await calendar.settle_totals(schedules={schedule.id: (3, 11)})
    assert outcomes(newer.schedules) == [(schedule.id, APPLIED)]
    settled = await calendar.get_event(event.id)
    assert settled.participants_total == 4
    parts = settled.participant_parts  # each part with the version it was settled with, for readers that keep them apart
    assert [(p.total, p.version) for p in (parts.event, parts.schedule, parts.legacy)] == [(1, 10), (3, 11), (0, 0)]


async def test_an_event_switches_from_the_legacy_total_at_its_first_split_settlement(calendar: Calendar) -> None:
    """During a rolling upgrade the previous updater's single total still counts, until a split
    total arrives; from then on its writes change nothing visible."""
    schedule = await calendar.schedule(default_capacity=10)
    event = await calendar.event(schedule.id)
    await calendar.settle(event.id, participants_total=6, version=1)
    assert (await calendar.get_event(event.id)).participants_total == 6

    await calendar.settle_totals(schedules={schedule.id: (5, 2)})
    assert (await calendar.get_event(event.id)).participants_total == 5
    legacy = await calendar.settle(event.id, participants_total=9, version=3)
    assert legacy.applied and legacy.event.participants_total == 5


async def test_unknown_and_other_tenants_ids_are_not_found_and_the_rest_still_settles(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule()
    their_event = await other_calendar.event(theirs.id)
    mine = await calendar.schedule()
    unknown = str(uuid.uuid4())

    response = await calendar.settle_totals(schedules={theirs.id: (3, 1), mine.id: (2, 1)}, events={their_event.id: (1, 1), unknown: (1, 1)})
    assert outcomes(response.schedules) == [(theirs.id, NOT_FOUND), (mine.id, APPLIED)]
    assert outcomes(response.events) == [(their_event.id, NOT_FOUND), (unknown, NOT_FOUND)]
    assert await other_calendar.get_event(their_event.id) == their_event


@pytest.mark.parametrize(
    "events, schedules, field",
    [
        pytest.param([("nope", 1, 1)], [], "events[0].id", id="event-id-malformed"),
        pytest.param([], [("", 1, 1)], "schedules[0].id", id="schedule-id-missing"),
        pytest.param([("{event}", -1, 1)], [], "events[0].participants_total", id="total-negative"),
        pytest.param([], [("{schedule}", 1, 0)], "schedules[0].version", id="version-missing"),
        pytest.param([("{event}", 1, 1), ("{event}", 2, 2)], [], "events[1].id", id="event-repeated"),
    ],
)
async def test_invalid_totals_name_the_field_and_change_nothing(
    calendar: Calendar, events: list[tuple[str, int, int]], schedules: list[tuple[str, int, int]], field: str
) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)

    def totals(items: list[tuple[str, int, int]]) -> list[events_pb2.ParticipantTotal]:
        return [events_pb2.ParticipantTotal(id=i.format(event=event.id, schedule=schedule.id), participants_total=n, version=v) for i, n, v in items]

    request = events_pb2.UpdateParticipantTotalsRequest(events=totals(events), schedules=totals(schedules))
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.events.UpdateParticipantTotals(request, metadata=internal(calendar.tenant)))
    assert field in support.field_violations(err)
    assert await calendar.get_event(event.id) == event


async def test_totals_are_internal_only(calendar: Calendar) -> None:
    request = events_pb2.UpdateParticipantTotalsRequest()
    await support.expect_error(grpc.StatusCode.PERMISSION_DENIED, calendar.events.UpdateParticipantTotals(request, metadata=support.auth(calendar.tenant)))


async def test_concurrent_settlements_of_overlapping_totals_all_finish_on_the_highest_versions(calendar: Calendar) -> None:
    """Calls lock events and schedules in one order, so overlapping calls wait, never deadlock."""
    schedule = await calendar.schedule(default_capacity=500)
    events = [await calendar.event(schedule.id) for _ in range(4)]
    versions = list(range(1, 31))
    random.Random(11).shuffle(versions)

    picks = {v: {e.id for e in random.Random(v).sample(events, 3)} for v in versions}
    await asyncio.gather(*(calendar.settle_totals(schedules={schedule.id: (v, v)}, events={i: (v, v) for i in picks[v]}) for v in versions))

    highest = {e.id: max(v for v in versions if e.id in picks[v]) for e in events}
    assert {e.id: e.participants_total for e in await calendar.events_of(schedule.id)} == {i: 30 + v for i, v in highest.items()}
