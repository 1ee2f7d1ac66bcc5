"""bookings.participations.v3.Participations over real gRPC: GetParticipation and
QueryParticipations (filters, cursor paging), not found, bad input, tenant isolation and auth.

Participations are made the only way there is: booking messages on `bookings.booking-events.v1`,
published as the bookings service does (participations_support)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from aiokafka import AIOKafkaProducer

from services.api.bookings.participations.v3 import participations_pb2
from services.api.bookings.v2 import bookings_pb2
from services.common.config import KafkaSettings
from services.common.kafka import create_producer
from services.devstack.stack import Platform
from tests.integration.participations_support import CANCELED, CREATED, Booking, BookingEvents, ParticipationsApi, consumed, new_id
from tests.support import auth, eventually, expect_error, field_violations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def bookings(platform: Platform) -> AsyncIterator[BookingEvents]:
    producer: AIOKafkaProducer = create_producer(
        KafkaSettings(kafka_bootstrap_servers=platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"], kafka_client_id="participations-api-test")
    )
    await producer.start()
    yield BookingEvents(producer)
    await producer.stop()


@pytest.fixture
def api(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> ParticipationsApi:
    return ParticipationsApi.of(channel("participations"), tenant)


@pytest.fixture
def other_api(channel: Callable[[str], grpc.aio.Channel], other_tenant: str) -> ParticipationsApi:
    return ParticipationsApi.of(channel("participations"), other_tenant)


async def participations_of(api: ParticipationsApi, bookings: BookingEvents, *booked: Booking) -> list[participations_pb2.Participation]:
    """Publishes each booking's creation; their participations, in the order given, once they exist
    (the bookings consumer is asynchronous). A booking needs no real event to have one."""
    for booking in booked:
        await bookings.publish(CREATED, booking)
    ids = [b.id for b in booked]
    found = await eventually(lambda: api.of_bookings(*ids), lambda ps: len(ps) == len(ids), within=60, what="participations of the bookings")
    by_booking = {p.booking_id: p for p in found}
    return [by_booking[i] for i in ids]


async def test_get_returns_the_participation_of_a_booking(api: ParticipationsApi, bookings: BookingEvents, tenant: str) -> None:
    course = Booking(tenant, schedule_id=new_id(), participants=3, status=bookings_pb2.PENDING)
    (participation,) = await participations_of(api, bookings, course)

    got = await api.get(participation.id)
    assert got == participation
    assert (got.booking_id, got.service_id, got.WhichOneof("target"), got.schedule_id, got.party_size, got.booking_revision) == (
        course.id,
        course.service_id,
        "schedule_id",
        course.schedule_id,
        3,
        1,
    )
    assert got.created_date.seconds > 0 and got.updated_date == got.created_date


async def test_query_filters_by_event_schedule_and_booking(api: ParticipationsApi, bookings: BookingEvents, tenant: str) -> None:
    event_a, event_b, schedule = new_id(), new_id(), new_id()
    on_a = Booking(tenant, event_id=event_a)
    also_on_a = Booking(tenant, event_id=event_a, participants=2)
    on_b = Booking(tenant, event_id=event_b)
    on_schedule = Booking(tenant, schedule_id=schedule)
    await participations_of(api, bookings, on_a, also_on_a, on_b, on_schedule)

    async def booking_ids(**filters: object) -> set[str]:
        return {p.booking_id for p in (await api.query(**filters)).participations}

    assert await booking_ids(event_ids=[event_a]) == {on_a.id, also_on_a.id}
    # Event and schedule filters are alternatives (a participation has one target) ...
    assert await booking_ids(event_ids=[event_b], schedule_ids=[schedule]) == {on_b.id, on_schedule.id}
    # ... the booking filter narrows them.
    assert await booking_ids(event_ids=[event_a], booking_ids=[also_on_a.id, on_b.id]) == {also_on_a.id}
    assert await booking_ids(booking_ids=[on_schedule.id]) == {on_schedule.id}
    assert await booking_ids(event_ids=[new_id()]) == set()
    assert await booking_ids() == {on_a.id, also_on_a.id, on_b.id, on_schedule.id}  # no filter: the tenant's


async def test_query_pages_with_a_cursor_bound_to_its_filters(api: ParticipationsApi, bookings: BookingEvents, tenant: str) -> None:
    event_id = new_id()
    created = await participations_of(api, bookings, *[Booking(tenant, event_id=event_id) for _ in range(5)])

    seen: list[participations_pb2.Participation] = []
    cursor = ""
    pages = 0
    while True:
        page = await api.query(event_ids=[event_id], cursor_paging={"limit": 2, "cursor": cursor})
        pages += 1
        seen += page.participations
        assert page.paging_metadata.count == len(page.participations)
        if not page.paging_metadata.has_next:
            assert page.paging_metadata.cursors.next == ""
            break
        cursor = page.paging_metadata.cursors.next
    assert pages == 3
    assert sorted(p.id for p in seen) == sorted(p.id for p in created)
    assert [(p.created_date.seconds, p.created_date.nanos, p.id) for p in seen] == sorted((p.created_date.seconds, p.created_date.nanos, p.id) for p in seen)

    first = await api.query(event_ids=[event_id], cursor_paging={"limit": 2})
    err = await expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, api.query(event_ids=[new_id()], cursor_paging={"limit": 2, "cursor": first.paging_metadata.cursors.next})
    )
    assert "cursor_paging.cursor" in field_violations(err)


async def test_a_canceled_booking_has_no_participation(api: ParticipationsApi, bookings: BookingEvents, tenant: str) -> None:
    booking = Booking(tenant, event_id=new_id())
    (participation,) = await participations_of(api, bookings, booking)
    await bookings.publish(CANCELED, booking.at(2, status=bookings_pb2.CANCELED))

    await eventually(lambda: api.of_bookings(booking.id), lambda ps: ps == [], what="the participation removed")
    await expect_error(grpc.StatusCode.NOT_FOUND, api.get(participation.id))


async def test_an_unknown_participation_is_not_found(api: ParticipationsApi) -> None:
    err = await expect_error(grpc.StatusCode.NOT_FOUND, api.get(new_id()))
    assert "participation" in (err.details() or "")


@pytest.mark.parametrize(
    "request_fields, fields",
    [
        pytest.param({"event_ids": ["not-a-uuid"]}, {"event_ids[0]"}, id="event-id-not-a-uuid"),
        pytest.param({"schedule_ids": ["x"], "booking_ids": [""]}, {"schedule_ids[0]", "booking_ids[0]"}, id="every-bad-field-named"),
        pytest.param({"booking_ids": [str(i) for i in range(101)]}, {"booking_ids"}, id="more-than-100-ids"),
        pytest.param({"cursor_paging": {"limit": 1001}}, {"cursor_paging.limit"}, id="limit-above-1000"),
        pytest.param({"cursor_paging": {"cursor": "forged"}}, {"cursor_paging.cursor"}, id="forged-cursor"),
    ],
)
async def test_bad_queries_are_invalid_arguments_naming_the_fields(api: ParticipationsApi, request_fields: dict[str, object], fields: set[str]) -> None:
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.query(**request_fields))
    assert set(field_violations(err)) == fields


async def test_get_with_a_malformed_id_is_an_invalid_argument(api: ParticipationsApi) -> None:
    err = await expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.get("42"))
    assert set(field_violations(err)) == {"participation_id"}


async def test_another_tenant_sees_nothing_and_changes_nothing(
    api: ParticipationsApi, other_api: ParticipationsApi, bookings: BookingEvents, platform: Platform, tenant: str
) -> None:
    booking = Booking(tenant, event_id=new_id())
    (participation,) = await participations_of(api, bookings, booking)

    await expect_error(grpc.StatusCode.NOT_FOUND, other_api.get(participation.id))
    assert list((await other_api.query(event_ids=[booking.event_id])).participations) == []
    assert await other_api.of_bookings(booking.id) == []
    # A message of another tenant about the same booking id is about another booking.
    await bookings.publish(CANCELED, Booking(other_api.tenant, event_id=booking.event_id, id=booking.id, revision=9, status=bookings_pb2.CANCELED))
    await consumed(platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"], bookings.sent[-1:])
    assert await api.get(participation.id) == participation
    assert await other_api.of_bookings(booking.id) == []


async def test_calls_need_a_valid_token_with_the_read_scope(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> None:
    api = ParticipationsApi.of(channel("participations"), tenant)
    request = participations_pb2.QueryParticipationsRequest()
    await expect_error(grpc.StatusCode.UNAUTHENTICATED, api.stub.QueryParticipations(request))
    await expect_error(
        grpc.StatusCode.UNAUTHENTICATED, api.stub.GetParticipation(participations_pb2.GetParticipationRequest(), metadata=[("authorization", "Bearer x")])
    )
    await expect_error(grpc.StatusCode.PERMISSION_DENIED, api.stub.QueryParticipations(request, metadata=auth(tenant, "bookings:write", "calendar:read")))
    assert (await api.stub.QueryParticipations(request, metadata=auth(tenant, "bookings:read"))).paging_metadata.count == 0
