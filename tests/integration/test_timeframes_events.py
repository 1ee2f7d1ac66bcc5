"""calendar.events.v3.Events writes and GetEvent over real gRPC: defaults from the schedule,
validation by field with nothing written, revisions and optimistic concurrency, cancellation,
tenant isolation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
import pytest

from services.api.calendar.events.v3 import events_pb2
from services.common.validation import is_uuid
from tests import support
from tests.integration.timeframes_support import HOUR, T0, Calendar, event_message, instant, mask, reader, ts, writer

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


# --- CreateEvent ---------------------------------------------------------------------------------


async def test_a_created_event_takes_time_zone_and_capacity_from_its_schedule(calendar: Calendar) -> None:
    schedule = await calendar.schedule(time_zone="America/Chicago", default_capacity=12)
    event = await calendar.event(schedule.id, T0, T0 + HOUR)

    assert is_uuid(event.id)
    assert (event.schedule_id, instant(event.start), instant(event.end)) == (schedule.id, T0, T0 + HOUR)
    assert (event.time_zone, event.total_capacity, event.participants_total, event.remaining_capacity) == ("America/Chicago", 12, 0, 12)
    assert (event.status, event.revision) == (events_pb2.CONFIRMED, 1)
    assert event.HasField("created_date") and event.updated_date == event.created_date


async def test_a_created_event_keeps_the_fields_it_was_given(calendar: Calendar) -> None:
    schedule = await calendar.schedule(time_zone="Europe/Vienna", default_capacity=12)
    event = await calendar.event(schedule.id, T0, T0 + 2 * HOUR, time_zone="Asia/Tokyo", total_capacity=3, title="Glazing")
    assert (event.time_zone, event.total_capacity, event.remaining_capacity, event.title) == ("Asia/Tokyo", 3, 3, "Glazing")


async def test_get_event_returns_the_stored_event(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    created = await calendar.event(schedule.id)
    assert await calendar.get_event(created.id) == created


async def test_an_event_of_exactly_7_days_is_accepted(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id, T0, T0 + 7 * DAY)
    assert instant(event.end) - instant(event.start) == 7 * DAY


INVALID_EVENTS = [
    pytest.param({"schedule_id": ""}, "schedule_id", id="schedule-id-missing"),
    pytest.param({"schedule_id": "not-a-uuid"}, "schedule_id", id="schedule-id-malformed"),
    pytest.param({"start": None}, "start", id="start-missing"),
    pytest.param({"end": None}, "end", id="end-missing"),
    pytest.param({"end": T0}, "end", id="end-equal-to-start"),
    pytest.param({"end": T0 - HOUR}, "end", id="end-before-start"),
    pytest.param({"end": T0 + 7 * DAY + timedelta(seconds=1)}, "end", id="end-more-than-7-days-after-start"),
    pytest.param({"time_zone": "Moon/Tranquility"}, "time_zone", id="time-zone-not-iana"),
    pytest.param({"total_capacity": -1}, "total_capacity", id="capacity-negative"),
    pytest.param({"total_capacity": 10_001}, "total_capacity", id="capacity-above-10000"),
    pytest.param({"title": "t" * 201}, "title", id="title-longer-than-200"),
]


def build_event(schedule_id: str, changes: dict[str, object]) -> events_pb2.Event:
    fields: dict[str, object] = {"schedule_id": schedule_id, "start": T0, "end": T0 + HOUR} | changes
    message = events_pb2.Event(**{k: v for k, v in fields.items() if k not in ("start", "end")})  # type: ignore[arg-type]
    for name in ("start", "end"):
        if fields[name] is not None:
            getattr(message, name).CopyFrom(ts(fields[name]))  # type: ignore[arg-type]
    return message


@pytest.mark.parametrize("changes, field", INVALID_EVENTS)
async def test_create_event_rejects_each_invalid_field_and_stores_nothing(calendar: Calendar, changes: dict[str, object], field: str) -> None:
    schedule = await calendar.schedule()
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.events.CreateEvent(events_pb2.CreateEventRequest(event=build_event(schedule.id, changes)), metadata=writer(calendar.tenant)),
    )
    assert f"event.{field}" in support.field_violations(err)
    assert await calendar.events_of(schedule.id) == []


async def test_create_event_on_an_unknown_schedule_is_not_found(calendar: Calendar) -> None:
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.CreateEvent(events_pb2.CreateEventRequest(event=event_message(str(uuid.uuid4()))), metadata=writer(calendar.tenant)),
    )


async def test_create_event_on_another_tenants_schedule_is_not_found_and_stores_nothing(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule()
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.CreateEvent(events_pb2.CreateEventRequest(event=event_message(theirs.id)), metadata=writer(calendar.tenant)),
    )
    assert await other_calendar.events_of(theirs.id) == []


# --- BulkCreateEvents ----------------------------------------------------------------------------


async def test_bulk_create_stores_all_events_in_request_order_with_schedule_defaults(calendar: Calendar) -> None:
    course = await calendar.schedule(time_zone="Europe/Berlin", default_capacity=6)
    other = await calendar.schedule(time_zone="Europe/London", default_capacity=20)
    messages = [
        event_message(course.id, T0 + 2 * DAY),
        event_message(other.id, T0),
        event_message(course.id, T0 + DAY, total_capacity=4, title="Short"),
    ]
    response = await calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant))

    assert [(e.schedule_id, instant(e.start)) for e in response.events] == [
        (course.id, T0 + 2 * DAY),
        (other.id, T0),
        (course.id, T0 + DAY),
    ]
    assert [(e.time_zone, e.total_capacity, e.revision) for e in response.events] == [
        ("Europe/Berlin", 6, 1),
        ("Europe/London", 20, 1),
        ("Europe/Berlin", 4, 1),
    ]
    assert len({e.id for e in response.events}) == 3
    assert [e.id for e in await calendar.events_of(course.id)] == [response.events[2].id, response.events[0].id]


async def test_bulk_create_takes_500_events(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    messages = [event_message(schedule.id, T0 + i * HOUR) for i in range(500)]
    response = await calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant))
    assert len(response.events) == 500


@pytest.mark.parametrize("count", [pytest.param(0, id="no-events"), pytest.param(501, id="more-than-500-events")])
async def test_bulk_create_outside_1_to_500_events_names_the_list(calendar: Calendar, count: int) -> None:
    schedule = await calendar.schedule()
    messages = [event_message(schedule.id, T0 + i * HOUR) for i in range(count)]
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant)),
    )
    assert "events" in support.field_violations(err)
    assert await calendar.events_of(schedule.id) == []


@pytest.mark.parametrize("changes, field", INVALID_EVENTS)
async def test_bulk_create_names_the_invalid_event_by_index_and_stores_none(calendar: Calendar, changes: dict[str, object], field: str) -> None:
    schedule = await calendar.schedule()
    messages = [event_message(schedule.id, T0), event_message(schedule.id, T0 + DAY), build_event(schedule.id, changes)]
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant)),
    )
    assert f"events[2].{field}" in support.field_violations(err)
    assert await calendar.events_of(schedule.id) == []


async def test_bulk_create_with_one_unknown_schedule_is_not_found_and_stores_none(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    messages = [event_message(schedule.id, T0), event_message(str(uuid.uuid4()), T0)]
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant)),
    )
    assert await calendar.events_of(schedule.id) == []


async def test_bulk_create_on_another_tenants_schedule_is_not_found_and_stores_none(calendar: Calendar, other_calendar: Calendar) -> None:
    mine, theirs = await calendar.schedule(), await other_calendar.schedule()
    messages = [event_message(mine.id), event_message(theirs.id)]
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant)),
    )
    assert await calendar.events_of(mine.id) == []
    assert await other_calendar.events_of(theirs.id) == []


# --- UpdateEvent ---------------------------------------------------------------------------------


def update_request(event: events_pb2.Event, *paths: str, **values: object) -> events_pb2.UpdateEventRequest:
    message = events_pb2.Event(id=event.id, revision=event.revision)
    for name, value in values.items():
        if name in ("start", "end"):
            getattr(message, name).CopyFrom(ts(value))  # type: ignore[arg-type]
        else:
            setattr(message, name, value)
    return events_pb2.UpdateEventRequest(event=message, mask=mask(*paths))


async def test_moving_an_event_changes_its_span_and_revision(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id, T0, T0 + HOUR)
    moved = await calendar.move(event, T0 + DAY, T0 + DAY + 2 * HOUR)

    assert (instant(moved.start), instant(moved.end), moved.revision) == (T0 + DAY, T0 + DAY + 2 * HOUR, 2)
    assert instant(moved.updated_date) > instant(event.updated_date)
    assert await calendar.get_event(event.id) == moved


@pytest.mark.parametrize(
    "paths, values, expected",
    [
        pytest.param(("start",), {"start": T0 - HOUR}, {"start": T0 - HOUR, "end": T0 + HOUR}, id="only-start"),
        pytest.param(("end",), {"end": T0 + 3 * HOUR}, {"end": T0 + 3 * HOUR, "start": T0}, id="only-end"),
        pytest.param(("time_zone",), {"time_zone": "Asia/Kolkata"}, {"time_zone": "Asia/Kolkata"}, id="time-zone"),
        pytest.param(("total_capacity",), {"total_capacity": 2}, {"total_capacity": 2, "remaining_capacity": 2}, id="capacity"),
        pytest.param(("title",), {"title": "Renamed"}, {"title": "Renamed"}, id="title"),
        pytest.param(("title",), {}, {"title": ""}, id="title-cleared"),
        pytest.param(
            ("title",),
            {"title": "Only this", "total_capacity": 99},
            {"title": "Only this", "total_capacity": 10},
            id="unmasked-fields-ignored",
        ),
    ],
)
async def test_an_update_changes_exactly_the_masked_fields(
    calendar: Calendar, paths: tuple[str, ...], values: dict[str, object], expected: dict[str, object]
) -> None:
    schedule = await calendar.schedule(default_capacity=10)
    event = await calendar.event(schedule.id, T0, T0 + HOUR, title="Original")
    updated = (await calendar.events.UpdateEvent(update_request(event, *paths, **values), metadata=writer(calendar.tenant))).event

    assert updated.revision == 2
    for name, value in expected.items():
        actual = instant(getattr(updated, name)) if name in ("start", "end") else getattr(updated, name)
        assert actual == value, name


INVALID_UPDATES = [
    pytest.param({"id": ""}, ("title",), {}, "event.id", id="id-missing"),
    pytest.param({"id": "event-1"}, ("title",), {}, "event.id", id="id-malformed"),
    pytest.param({"revision": 0}, ("title",), {}, "event.revision", id="revision-missing"),
    pytest.param({}, (), {}, "mask.paths", id="mask-empty"),
    pytest.param({}, ("title", "schedule_id"), {}, "mask.paths[1]", id="mask-path-schedule-id-immutable"),
    pytest.param({}, ("remaining_capacity",), {}, "mask.paths[0]", id="mask-path-output-only"),
    pytest.param({}, ("start",), {}, "event.start", id="masked-start-missing"),
    pytest.param({}, ("start", "end"), {"start": T0, "end": T0 - HOUR}, "event.end", id="masked-end-before-masked-start"),
    pytest.param({}, ("start",), {"start": T0 + 2 * HOUR}, "event.start", id="start-moved-past-the-stored-end"),
    pytest.param({}, ("end",), {"end": T0 + 8 * DAY}, "event.end", id="end-moved-more-than-7-days-after-start"),
    pytest.param({}, ("time_zone",), {"time_zone": "Nowhere/Land"}, "event.time_zone", id="time-zone-not-iana"),
    pytest.param({}, ("total_capacity",), {"total_capacity": 0}, "event.total_capacity", id="capacity-0"),
    pytest.param({}, ("total_capacity",), {"total_capacity": 10_001}, "event.total_capacity", id="capacity-above-10000"),
    pytest.param({}, ("title",), {"title": "t" * 201}, "event.title", id="title-longer-than-200"),
]


@pytest.mark.parametrize("identity, paths, values, field", INVALID_UPDATES)
async def test_update_event_rejects_each_invalid_part_and_changes_nothing(
    calendar: Calendar, identity: dict[str, object], paths: tuple[str, ...], values: dict[str, object], field: str
) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id, T0, T0 + HOUR)
    request = update_request(event, *paths, **values)
    for name, value in identity.items():
        setattr(request.event, name, value)

    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.events.UpdateEvent(request, metadata=writer(calendar.tenant)))
    assert field in support.field_violations(err)
    assert await calendar.get_event(event.id) == event


async def test_updating_an_unknown_event_is_not_found(calendar: Calendar) -> None:
    ghost = events_pb2.Event(id=str(uuid.uuid4()), revision=1)
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND, calendar.events.UpdateEvent(update_request(ghost, "title", title="x"), metadata=writer(calendar.tenant))
    )


async def test_updating_another_tenants_event_is_not_found_and_changes_nothing(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.event((await other_calendar.schedule()).id)
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.UpdateEvent(update_request(theirs, "title", title="hijacked"), metadata=writer(calendar.tenant)),
    )
    assert await other_calendar.get_event(theirs.id) == theirs


async def test_an_update_with_a_stale_revision_is_aborted_and_changes_nothing(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)
    current = await calendar.move(event, T0 + HOUR, T0 + 2 * HOUR)

    err = await support.expect_error(
        grpc.StatusCode.ABORTED,
        calendar.events.UpdateEvent(update_request(event, "title", title="stale"), metadata=writer(calendar.tenant)),
    )
    assert support.error_reason(err) == "REVISION_MISMATCH"
    assert await calendar.get_event(event.id) == current


async def test_concurrent_updates_with_the_same_revision_let_exactly_one_win(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)
    attempts = [calendar.events.UpdateEvent(update_request(event, "title", title=f"writer {i}"), metadata=writer(calendar.tenant)) for i in range(12)]
    results = await asyncio.gather(*attempts, return_exceptions=True)

    winners = [r for r in results if isinstance(r, events_pb2.UpdateEventResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 11
    assert {e.code() for e in losers} == {grpc.StatusCode.ABORTED}
    stored = await calendar.get_event(event.id)
    assert (stored.title, stored.revision) == (winners[0].event.title, 2)


async def test_updating_a_cancelled_event_fails_with_event_cancelled(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    cancelled = await calendar.cancel(await calendar.event(schedule.id))
    err = await support.expect_error(
        grpc.StatusCode.FAILED_PRECONDITION,
        calendar.events.UpdateEvent(update_request(cancelled, "title", title="revived?"), metadata=writer(calendar.tenant)),
    )
    assert support.error_reason(err) == "EVENT_CANCELLED"
    assert await calendar.get_event(cancelled.id) == cancelled


# --- CancelEvent ---------------------------------------------------------------------------------


async def test_cancelling_an_event_marks_it_cancelled_at_the_next_revision(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)
    cancelled = await calendar.cancel(event)

    assert (cancelled.status, cancelled.revision) == (events_pb2.CANCELLED, 2)
    assert (cancelled.start, cancelled.end, cancelled.total_capacity) == (event.start, event.end, event.total_capacity)
    assert await calendar.get_event(event.id) == cancelled


@pytest.mark.parametrize(
    "event_id, revision, field",
    [
        pytest.param("", 1, "event_id", id="event-id-missing"),
        pytest.param("42", 1, "event_id", id="event-id-malformed"),
        pytest.param(None, 0, "revision", id="revision-missing"),
        pytest.param(None, -1, "revision", id="revision-negative"),
    ],
)
async def test_cancel_event_rejects_each_invalid_field_and_changes_nothing(calendar: Calendar, event_id: str | None, revision: int, field: str) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)
    request = events_pb2.CancelEventRequest(event_id=event.id if event_id is None else event_id, revision=revision)
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.events.CancelEvent(request, metadata=writer(calendar.tenant)))
    assert field in support.field_violations(err)
    assert await calendar.get_event(event.id) == event


async def test_cancelling_an_unknown_event_is_not_found(calendar: Calendar) -> None:
    request = events_pb2.CancelEventRequest(event_id=str(uuid.uuid4()), revision=1)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.events.CancelEvent(request, metadata=writer(calendar.tenant)))


async def test_cancelling_another_tenants_event_is_not_found_and_changes_nothing(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.event((await other_calendar.schedule()).id)
    request = events_pb2.CancelEventRequest(event_id=theirs.id, revision=theirs.revision)
    await support.expect_error(grpc.StatusCode.NOT_FOUND, calendar.events.CancelEvent(request, metadata=writer(calendar.tenant)))
    assert await other_calendar.get_event(theirs.id) == theirs


async def test_cancelling_with_a_stale_revision_is_aborted_and_changes_nothing(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    event = await calendar.event(schedule.id)
    current = await calendar.move(event, T0 + DAY, T0 + DAY + HOUR)
    err = await support.expect_error(
        grpc.StatusCode.ABORTED,
        calendar.events.CancelEvent(events_pb2.CancelEventRequest(event_id=event.id, revision=1), metadata=writer(calendar.tenant)),
    )
    assert support.error_reason(err) == "REVISION_MISMATCH"
    assert await calendar.get_event(event.id) == current


@pytest.mark.parametrize("revision_offset", [pytest.param(0, id="current-revision"), pytest.param(-1, id="stale-revision")])
async def test_cancelling_a_cancelled_event_fails_with_event_cancelled(calendar: Calendar, revision_offset: int) -> None:
    schedule = await calendar.schedule()
    cancelled = await calendar.cancel(await calendar.event(schedule.id))
    request = events_pb2.CancelEventRequest(event_id=cancelled.id, revision=cancelled.revision + revision_offset)
    err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, calendar.events.CancelEvent(request, metadata=writer(calendar.tenant)))
    assert support.error_reason(err) == "EVENT_CANCELLED"
    assert await calendar.get_event(cancelled.id) == cancelled


# --- GetEvent ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_id", [pytest.param("", id="missing"), pytest.param("abc", id="malformed")])
async def test_get_event_with_a_bad_id_names_the_field(calendar: Calendar, event_id: str) -> None:
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        calendar.events.GetEvent(events_pb2.GetEventRequest(event_id=event_id), metadata=reader(calendar.tenant)),
    )
    assert "event_id" in support.field_violations(err)


async def test_get_event_of_an_unknown_id_is_not_found(calendar: Calendar) -> None:
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.GetEvent(events_pb2.GetEventRequest(event_id=str(uuid.uuid4())), metadata=reader(calendar.tenant)),
    )


async def test_another_tenants_event_is_not_found(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.event((await other_calendar.schedule()).id)
    await support.expect_error(
        grpc.StatusCode.NOT_FOUND,
        calendar.events.GetEvent(events_pb2.GetEventRequest(event_id=theirs.id), metadata=reader(calendar.tenant)),
    )
