"""calendar.timeframes.v3.ScheduleTimeFrames over real gRPC: first start, last end and count of
a schedule's non-cancelled events stay right as events are created, moved and cancelled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
import pytest

from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from tests import support
from tests.integration.timeframes_support import HOUR, T0, Calendar, event_message, instant, reader, writer

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


def span(frame: timeframes_pb2.ScheduleTimeFrame) -> tuple[object, object, int]:
    first = instant(frame.first_event_start_date) if frame.HasField("first_event_start_date") else None
    last = instant(frame.last_event_end_date) if frame.HasField("last_event_end_date") else None
    return first, last, frame.event_count


async def test_a_schedule_without_events_has_no_dates_and_count_0(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    (frame,) = await calendar.frames(schedule.id)
    assert frame.schedule_id == schedule.id
    assert span(frame) == (None, None, 0)


async def test_the_frame_follows_events_as_they_are_created_moved_and_cancelled(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    first = await calendar.event(schedule.id, T0, T0 + HOUR)
    assert span((await calendar.frames(schedule.id))[0]) == (T0, T0 + HOUR, 1)

    second = await calendar.event(schedule.id, T0 + 2 * DAY, T0 + 2 * DAY + HOUR)
    third = await calendar.event(schedule.id, T0 + DAY, T0 + DAY + HOUR)
    assert span((await calendar.frames(schedule.id))[0]) == (T0, T0 + 2 * DAY + HOUR, 3)

    # Moving the first session later makes the next one the first.
    first = await calendar.move(first, T0 + 5 * DAY, T0 + 5 * DAY + 2 * HOUR)
    assert span((await calendar.frames(schedule.id))[0]) == (T0 + DAY, T0 + 5 * DAY + 2 * HOUR, 3)

    # Cancelling the last session brings the end back to the one before.
    await calendar.cancel(first)
    assert span((await calendar.frames(schedule.id))[0]) == (T0 + DAY, T0 + 2 * DAY + HOUR, 2)

    # Cancelling the first leaves one.
    await calendar.cancel(third)
    assert span((await calendar.frames(schedule.id))[0]) == (T0 + 2 * DAY, T0 + 2 * DAY + HOUR, 1)

    # With every event cancelled, the frame is empty again.
    await calendar.cancel(second)
    assert span((await calendar.frames(schedule.id))[0]) == (None, None, 0)


async def test_the_last_end_is_the_latest_end_even_of_an_earlier_event(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    await calendar.event(schedule.id, T0, T0 + 3 * DAY)  # a long event that ends last
    await calendar.event(schedule.id, T0 + DAY, T0 + DAY + HOUR)
    assert span((await calendar.frames(schedule.id))[0]) == (T0, T0 + 3 * DAY, 2)


async def test_bulk_created_events_count_in_the_frame(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    messages = [event_message(schedule.id, T0 + i * DAY) for i in range(25)]
    await calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant))
    assert span((await calendar.frames(schedule.id))[0]) == (T0, T0 + 24 * DAY + HOUR, 25)


async def test_concurrent_creates_and_cancels_leave_the_frame_exact(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    events = await asyncio.gather(*(calendar.event(schedule.id, T0 + i * HOUR) for i in range(20)))
    await asyncio.gather(*(calendar.cancel(e) for e in events[::2]), *(calendar.event(schedule.id, T0 + DAY + i * HOUR) for i in range(5)))
    assert span((await calendar.frames(schedule.id))[0]) == (T0 + HOUR, T0 + DAY + 5 * HOUR, 15)


async def test_frames_come_one_per_schedule_in_request_order(calendar: Calendar) -> None:
    a, b, c = await calendar.schedule(), await calendar.schedule(), await calendar.schedule()
    await calendar.event(a.id, T0)
    await calendar.event(c.id, T0 + DAY)
    frames = await calendar.frames(c.id, a.id, b.id)
    assert [f.schedule_id for f in frames] == [c.id, a.id, b.id]
    assert [span(f) for f in frames] == [(T0 + DAY, T0 + DAY + HOUR, 1), (T0, T0 + HOUR, 1), (None, None, 0)]


async def test_a_frame_counts_only_its_own_schedules_events(calendar: Calendar) -> None:
    a, b = await calendar.schedule(), await calendar.schedule()
    await calendar.event(a.id, T0)
    await calendar.event(b.id, T0 - DAY)
    assert span((await calendar.frames(a.id))[0]) == (T0, T0 + HOUR, 1)


async def test_an_unknown_schedule_is_not_found(calendar: Calendar) -> None:
    known = await calendar.schedule()
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.frames(known.id, str(uuid.uuid4())))


async def test_another_tenants_schedule_is_not_found(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule()
    await other_calendar.event(theirs.id)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.frames(theirs.id))


@pytest.mark.parametrize(
    "schedule_ids, field",
    [
        pytest.param([], "schedule_ids", id="no-ids"),
        pytest.param([str(uuid.uuid4()) for _ in range(101)], "schedule_ids", id="more-than-100-ids"),
        pytest.param(["schedule"], "schedule_ids[0]", id="malformed-id"),
    ],
)
async def test_invalid_requests_name_the_field(calendar: Calendar, schedule_ids: list[str], field: str) -> None:
    request = timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=schedule_ids)
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.time_frames.ListScheduleTimeFrames(request, metadata=reader(calendar.tenant)))
    assert field in support.field_violations(err)


async def test_100_schedules_are_answered_in_one_call(calendar: Calendar) -> None:
    schedules = await asyncio.gather(*(calendar.schedule() for _ in range(100)))
    frames = await calendar.frames(*(s.id for s in schedules))
    assert [f.schedule_id for f in frames] == [s.id for s in schedules]
