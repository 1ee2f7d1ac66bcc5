"""Every RPC of the timeframes service needs a valid token with its scope: reads
`calendar:read`, writes `calendar:write`, UpdateEventParticipants `internal` only. A write that
is refused changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.common.auth import mint_token
from tests import support
from tests.integration.timeframes_support import HOUR, INTERNAL, READ, T0, WRITE, Calendar, event_message, mask, ts

pytestmark = pytest.mark.integration

ANY_ID = str(uuid.uuid4())

# (RPC, stub attribute, request, scope it needs, a token's scopes that are not enough)
RPCS: list[tuple[str, str, Message, str, tuple[str, ...]]] = [
    (
        "CreateSchedule",
        "schedules",
        schedules_pb2.CreateScheduleRequest(schedule=schedules_pb2.Schedule(time_zone="UTC", default_capacity=1)),
        WRITE,
        (READ,),
    ),
    ("GetSchedule", "schedules", schedules_pb2.GetScheduleRequest(schedule_id=ANY_ID), READ, (WRITE, "bookings:read")),
    ("CreateEvent", "events", events_pb2.CreateEventRequest(event=event_message(ANY_ID)), WRITE, (READ,)),
    ("BulkCreateEvents", "events", events_pb2.BulkCreateEventsRequest(events=[event_message(ANY_ID)]), WRITE, (READ,)),
    (
        "UpdateEvent",
        "events",
        events_pb2.UpdateEventRequest(event=events_pb2.Event(id=ANY_ID, revision=1, title="x"), mask=mask("title")),
        WRITE,
        (READ,),
    ),
    ("CancelEvent", "events", events_pb2.CancelEventRequest(event_id=ANY_ID, revision=1), WRITE, (READ,)),
    ("GetEvent", "events", events_pb2.GetEventRequest(event_id=ANY_ID), READ, (WRITE,)),
    ("QueryEvents", "events", events_pb2.QueryEventsRequest(), READ, (WRITE, "availability:read")),
    (
        "UpdateEventParticipants",
        "events",
        events_pb2.UpdateEventParticipantsRequest(event_id=ANY_ID, participants_total=1, version=1),
        INTERNAL,
        (READ, WRITE, "bookings:write"),
    ),
    ("ListScheduleTimeFrames", "time_frames", timeframes_pb2.ListScheduleTimeFramesRequest(schedule_ids=[ANY_ID]), READ, (WRITE,)),
]
RPC_IDS = [rpc[0] for rpc in RPCS]


@pytest.fixture
def calendar(timeframes_channel: grpc.aio.Channel, tenant: str) -> Calendar:
    return Calendar.of(timeframes_channel, tenant)


def call(calendar: Calendar, stub: str, method: str) -> Callable[..., Any]:
    return getattr(getattr(calendar, stub), method)


@pytest.mark.parametrize("method, stub, request_, scope, weaker", RPCS, ids=RPC_IDS)
async def test_a_call_without_a_token_is_unauthenticated(
    calendar: Calendar, method: str, stub: str, request_: Message, scope: str, weaker: tuple[str, ...]
) -> None:
    await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, call(calendar, stub, method)(request_))


@pytest.mark.parametrize("method, stub, request_, scope, weaker", RPCS, ids=RPC_IDS)
async def test_a_call_with_an_expired_token_is_unauthenticated(
    calendar: Calendar, method: str, stub: str, request_: Message, scope: str, weaker: tuple[str, ...]
) -> None:
    await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, call(calendar, stub, method)(request_, metadata=support.expired_auth(calendar.tenant)))


@pytest.mark.parametrize("method, stub, request_, scope, weaker", RPCS, ids=RPC_IDS)
async def test_a_call_with_a_token_of_another_issuer_is_unauthenticated(
    calendar: Calendar, method: str, stub: str, request_: Message, scope: str, weaker: tuple[str, ...]
) -> None:
    forged = mint_token("a-different-secret-of-at-least-32-chars!", tenant_id=calendar.tenant, scopes=[scope])
    await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, call(calendar, stub, method)(request_, metadata=[("authorization", f"Bearer {forged}")]))


@pytest.mark.parametrize("method, stub, request_, scope, weaker", RPCS, ids=RPC_IDS)
async def test_a_call_without_the_rpcs_scope_is_permission_denied(
    calendar: Calendar, method: str, stub: str, request_: Message, scope: str, weaker: tuple[str, ...]
) -> None:
    await support.expect_error(grpc.StatusCode.PERMISSION_DENIED, call(calendar, stub, method)(request_, metadata=support.auth(calendar.tenant, *weaker)))


@pytest.mark.parametrize("method, stub, request_, scope, weaker", RPCS, ids=RPC_IDS)
async def test_a_call_with_the_rpcs_scope_passes_authorization(
    calendar: Calendar, method: str, stub: str, request_: Message, scope: str, weaker: tuple[str, ...]
) -> None:
    # The placeholder ids exist nowhere, so an authorized call ends in the handler: OK or NOT_FOUND.
    try:
        await call(calendar, stub, method)(request_, metadata=support.auth(calendar.tenant, scope))
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()


async def test_refused_writes_change_nothing(calendar: Calendar) -> None:
    schedule = await calendar.schedule(external_id="guarded")
    event = await calendar.event(schedule.id)
    read_only = support.auth(calendar.tenant, READ)

    attempts = [
        calendar.schedules.CreateSchedule(
            schedules_pb2.CreateScheduleRequest(schedule=schedules_pb2.Schedule(time_zone="UTC", default_capacity=1, external_id="refused")),
            metadata=read_only,
        ),
        calendar.events.CreateEvent(events_pb2.CreateEventRequest(event=event_message(schedule.id, T0 + HOUR)), metadata=read_only),
        calendar.events.BulkCreateEvents(events_pb2.BulkCreateEventsRequest(events=[event_message(schedule.id)]), metadata=read_only),
        calendar.events.UpdateEvent(
            events_pb2.UpdateEventRequest(event=events_pb2.Event(id=event.id, revision=event.revision, start=ts(T0), title="changed"), mask=mask("title")),
            metadata=read_only,
        ),
        calendar.events.CancelEvent(events_pb2.CancelEventRequest(event_id=event.id, revision=event.revision), metadata=read_only),
        calendar.events.UpdateEventParticipants(
            events_pb2.UpdateEventParticipantsRequest(event_id=event.id, participants_total=5, version=1),
            metadata=support.auth(calendar.tenant, READ, WRITE),
        ),
        calendar.events.UpdateEvent(
            events_pb2.UpdateEventRequest(event=events_pb2.Event(id=event.id, revision=event.revision, title="changed"), mask=mask("title")),
            metadata=support.expired_auth(calendar.tenant),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await attempt
        assert info.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)

    assert [e.SerializeToString() for e in await calendar.events_of(schedule.id)] == [event.SerializeToString()]
    # The refused CreateSchedule did not take its external id.
    refused = await calendar.schedule(external_id="refused", name="now")
    assert refused.name == "now"
