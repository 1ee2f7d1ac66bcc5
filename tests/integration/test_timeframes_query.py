"""calendar.events.v3.Events/QueryEvents over real gRPC: filters, order by (start, id), cursor
paging that returns every event exactly once, cursors bound to their query, tenant isolation."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import grpc
import pytest

from services.api.calendar.events.v3 import events_pb2
from services.api.common.v1 import paging_pb2
from tests import support
from tests.integration.timeframes_support import HOUR, T0, Calendar, event_message, instant, reader, ts, writer

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


async def bulk(calendar: Calendar, messages: list[events_pb2.Event]) -> list[events_pb2.Event]:
    response = await calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=messages), metadata=writer(calendar.tenant))
    return list(response.events)


def query_request(*, limit: int = 0, cursor: str = "", **filters: object) -> events_pb2.QueryEventsRequest:
    return events_pb2.QueryEventsRequest(cursor_paging=paging_pb2.CursorPaging(limit=limit, cursor=cursor), **filters)  # type: ignore[arg-type]


async def invalid(calendar: Calendar, request: events_pb2.QueryEventsRequest) -> dict[str, str]:
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, calendar.events.QueryEvents(request, metadata=reader(calendar.tenant)))
    return support.field_violations(err)


async def test_events_are_sorted_by_start_then_id(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    created = await bulk(calendar, [event_message(schedule.id, T0 + (i % 3) * HOUR) for i in range(9)])
    events = await calendar.events_of(schedule.id)
    assert [e.id for e in events] == [e.id for e in sorted(created, key=lambda e: (instant(e.start), e.id))]


async def test_paging_through_120_events_50_at_a_time_returns_each_once_in_order(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    # Several events share a start, so the id breaks ties across page boundaries.
    created = await bulk(calendar, [event_message(schedule.id, T0 + (i // 4) * HOUR) for i in range(120)])
    expected = [e.id for e in sorted(created, key=lambda e: (instant(e.start), e.id))]

    seen, pages, cursor = [], [], ""
    while True:
        response = await calendar.events.QueryEvents(query_request(schedule_ids=[schedule.id], limit=50, cursor=cursor), metadata=reader(calendar.tenant))
        pages.append((response.paging_metadata.count, response.paging_metadata.has_next))
        seen.extend(e.id for e in response.events)
        cursor = response.paging_metadata.cursors.next
        if not cursor:
            break
    assert pages == [(50, True), (50, True), (20, False)]
    assert seen == expected


async def test_a_limit_of_0_means_pages_of_50(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(60)])
    response = await calendar.query(schedule_ids=[schedule.id])
    assert (len(response.events), response.paging_metadata.has_next) == (50, True)


async def test_a_limit_of_1000_is_accepted(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(3)])
    response = await calendar.events.QueryEvents(query_request(schedule_ids=[schedule.id], limit=1000), metadata=reader(calendar.tenant))
    assert (response.paging_metadata.count, response.paging_metadata.has_next, response.paging_metadata.cursors.next) == (3, False, "")


async def test_events_added_before_the_cursor_do_not_shift_later_pages(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    created = await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(6)])
    first = await calendar.events.QueryEvents(query_request(schedule_ids=[schedule.id], limit=3), metadata=reader(calendar.tenant))
    await calendar.event(schedule.id, T0 - DAY)  # sorts before everything already paged
    second = await calendar.events.QueryEvents(
        query_request(schedule_ids=[schedule.id], limit=3, cursor=first.paging_metadata.cursors.next), metadata=reader(calendar.tenant)
    )
    assert [e.id for e in [*first.events, *second.events]] == [e.id for e in created]


async def test_filters_select_by_schedule_event_and_start_in_from_to(calendar: Calendar) -> None:
    a, b = await calendar.schedule(), await calendar.schedule()
    a_events = await bulk(calendar, [event_message(a.id, T0 + i * DAY) for i in range(4)])
    b_events = await bulk(calendar, [event_message(b.id, T0 + i * DAY) for i in range(2)])

    by_schedule = await calendar.query(schedule_ids=[b.id])
    assert [e.id for e in by_schedule.events] == [e.id for e in b_events]

    by_event = await calendar.query(event_ids=[a_events[3].id, b_events[0].id])
    assert [e.id for e in by_event.events] == [b_events[0].id, a_events[3].id]

    # from_date is inclusive, to_date exclusive, both on the start.
    window = await calendar.query(schedule_ids=[a.id], from_date=ts(T0 + DAY), to_date=ts(T0 + 3 * DAY))
    assert [e.id for e in window.events] == [a_events[1].id, a_events[2].id]

    everything = await calendar.query()
    assert {e.id for e in everything.events} == {e.id for e in a_events + b_events}


async def test_cancelled_events_are_left_out_unless_asked_for(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    kept = await calendar.event(schedule.id, T0)
    cancelled = await calendar.cancel(await calendar.event(schedule.id, T0 + HOUR))

    assert [e.id for e in (await calendar.query(schedule_ids=[schedule.id])).events] == [kept.id]
    with_cancelled = (await calendar.query(schedule_ids=[schedule.id], include_cancelled=True)).events
    assert [(e.id, e.status) for e in with_cancelled] == [(kept.id, events_pb2.CONFIRMED), (cancelled.id, events_pb2.CANCELLED)]


async def test_queries_never_return_another_tenants_events(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule()
    their_event = await other_calendar.event(theirs.id)
    mine = await calendar.schedule()
    my_event = await calendar.event(mine.id)

    assert (await calendar.query(schedule_ids=[theirs.id])).events == []
    assert (await calendar.query(event_ids=[their_event.id])).events == []
    assert [e.id for e in (await calendar.query(include_cancelled=True)).events] == [my_event.id]


@pytest.mark.parametrize(
    "filters, field",
    [
        pytest.param({"schedule_ids": [str(uuid.uuid4()) for _ in range(101)]}, "schedule_ids", id="more-than-100-schedule-ids"),
        pytest.param({"event_ids": [str(uuid.uuid4()) for _ in range(101)]}, "event_ids", id="more-than-100-event-ids"),
        pytest.param({"schedule_ids": ["nope"]}, "schedule_ids[0]", id="malformed-schedule-id"),
        pytest.param({"event_ids": [str(uuid.uuid4()), "nope"]}, "event_ids[1]", id="malformed-event-id"),
        pytest.param({"from_date": ts(T0), "to_date": ts(T0)}, "to_date", id="to-date-equal-to-from-date"),
        pytest.param({"from_date": ts(T0), "to_date": ts(T0 - DAY)}, "to_date", id="to-date-before-from-date"),
        pytest.param({"limit": 1001}, "cursor_paging.limit", id="limit-above-1000"),
        pytest.param({"limit": -1}, "cursor_paging.limit", id="limit-negative"),
        pytest.param({"cursor": "not-a-cursor"}, "cursor_paging.cursor", id="cursor-made-up"),
    ],
)
async def test_invalid_queries_name_the_field(calendar: Calendar, filters: dict[str, object], field: str) -> None:
    paging = {k: filters.pop(k) for k in ("limit", "cursor") if k in filters}
    assert field in await invalid(calendar, query_request(**paging, **filters))  # type: ignore[arg-type]


async def test_a_tampered_cursor_is_rejected(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(3)])
    cursor = (
        await calendar.events.QueryEvents(query_request(schedule_ids=[schedule.id], limit=1), metadata=reader(calendar.tenant))
    ).paging_metadata.cursors.next
    body, signature = cursor.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b'"k":[', b'"k":[1').rstrip(b"=")
    tampered = base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "." + signature

    fields = await invalid(calendar, query_request(schedule_ids=[schedule.id], limit=1, cursor=tampered))
    assert "cursor_paging.cursor" in fields


@pytest.mark.parametrize(
    "other_filters",
    [
        pytest.param({"schedule_ids": "other"}, id="other-schedule"),
        pytest.param({"from_date": ts(T0 + HOUR)}, id="other-from-date"),
        pytest.param({"to_date": ts(T0 + DAY)}, id="other-to-date"),
        pytest.param({"include_cancelled": True}, id="cancelled-now-included"),
        pytest.param({"event_ids": "first"}, id="an-event-filter-added"),
    ],
)
async def test_a_cursor_reused_with_other_filters_is_rejected(calendar: Calendar, other_filters: dict[str, object]) -> None:
    schedule, other = await calendar.schedule(), await calendar.schedule()
    created = await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(3)])
    base = {"schedule_ids": [schedule.id], "from_date": ts(T0)}
    cursor = (await calendar.events.QueryEvents(query_request(limit=1, **base), metadata=reader(calendar.tenant))).paging_metadata.cursors.next
    assert cursor

    changed = base | other_filters
    if changed["schedule_ids"] == "other":
        changed["schedule_ids"] = [other.id]
    if changed.get("event_ids") == "first":
        changed["event_ids"] = [created[0].id]
    assert "cursor_paging.cursor" in await invalid(calendar, query_request(limit=1, cursor=cursor, **changed))


async def test_a_cursor_of_another_tenant_is_rejected(calendar: Calendar, other_calendar: Calendar) -> None:
    theirs = await other_calendar.schedule()
    await bulk(other_calendar, [event_message(theirs.id, T0 + i * HOUR) for i in range(2)])
    cursor = (
        await other_calendar.events.QueryEvents(query_request(schedule_ids=[theirs.id], limit=1), metadata=reader(other_calendar.tenant))
    ).paging_metadata.cursors.next
    assert "cursor_paging.cursor" in await invalid(calendar, query_request(schedule_ids=[theirs.id], limit=1, cursor=cursor))


async def test_the_page_size_may_change_between_pages(calendar: Calendar) -> None:
    schedule = await calendar.schedule()
    created = await bulk(calendar, [event_message(schedule.id, T0 + i * HOUR) for i in range(5)])
    first = await calendar.events.QueryEvents(query_request(schedule_ids=[schedule.id], limit=2), metadata=reader(calendar.tenant))
    rest = await calendar.events.QueryEvents(
        query_request(schedule_ids=[schedule.id], limit=10, cursor=first.paging_metadata.cursors.next), metadata=reader(calendar.tenant)
    )
    assert [e.id for e in [*first.events, *rest.events]] == [e.id for e in created]
