"""participations.propagation_lag: booking commit (the booking message's ce_time, kept with the
participation and carried by the participation message) to the participant total applied in
timeframes, observed once per participation change whose target's total timeframes took, and
never invented when the commit time is unknown."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.common.kafka import Envelope
from services.common.outbox import OutboxMessage
from services.common.paging import CursorCodec
from services.participations.application.participations import EventUpdater, Participations
from services.participations.domain.totals import TargetTotal
from services.participations.entrypoints.events import BookingsConsumer, EventUpdaterConsumer
from services.participations.mapping import announcement_message
from tests.unit.participations.fakes import FakeCalendar, FakeStore
from tests.unit.participations.test_consumers import BOOKING_ID, CLASS, CREATED, TENANT, booking, deliver

COMMITTED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SETTLED = COMMITTED + timedelta(milliseconds=1500)


def _booking_message(ce_time: str | None) -> Envelope:
    headers = {"ce_type": CREATED} | ({"ce_time": ce_time} if ce_time is not None else {})
    value = booking_events_pb2.BookingCreated(booking=booking(number_of_participants=2)).SerializeToString()
    return Envelope(topic="bookings.booking-events.v1", partition=0, offset=0, key=BOOKING_ID, headers=headers, ce_type=CREATED, tenant_id=TENANT, value=value)


def _participation_message(outbox: OutboxMessage) -> Envelope:
    """The participation message as the relay publishes the outbox row the bookings consumer wrote."""
    return Envelope(
        topic=outbox.topic,
        partition=0,
        offset=0,
        key=outbox.key,
        headers={"ce_type": outbox.ce_type},
        ce_type=outbox.ce_type,
        tenant_id=outbox.tenant_id,
        value=outbox.message.SerializeToString(),
    )


class Pipeline:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.calendar = FakeCalendar(known={TENANT: {CLASS}})
        self.reader = InMemoryMetricReader()
        ids = (f"0b4a6c8e-0000-4000-8000-{n:012d}" for n in itertools.count())
        self.bookings = BookingsConsumer(Participations(self.store, CursorCodec(b"k"), new_id=lambda: next(ids), now=lambda: SETTLED))
        updater = EventUpdater(self.store, self.calendar, now=lambda: SETTLED, meter_provider=MeterProvider([self.reader]))
        self.updater = EventUpdaterConsumer(updater)

    async def book(self, ce_time: str | None) -> Envelope:
        """The booking message handled; the participation message it announced."""
        await deliver(self.bookings, _booking_message(ce_time))
        (announcement,) = self.store.data(TENANT).outbox[-1:]
        return _participation_message(announcement_message(TENANT, announcement))

    async def book_and_settle(self, ce_time: str | None) -> None:
        await deliver(self.updater, await self.book(ce_time))

    def lags(self) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == "participations.propagation_lag"
            for point in metric.data.data_points
        ]


async def test_the_lag_runs_from_the_booking_commit_to_the_applied_total() -> None:
    pipeline = Pipeline()
    await pipeline.book_and_settle("2026-11-21T10:00:00.000000Z")
    (point,) = pipeline.lags()
    assert (point.count, point.sum) == (1, pytest.approx(1.5))
    assert dict(point.attributes or {}) == {"participations.target.kind": "event"}


@pytest.mark.parametrize("ce_time", [None, "", "yesterday", "2026-11-21T10:00:00"], ids=["no ce_time", "empty", "malformed", "no time zone"])
async def test_without_a_readable_commit_time_nothing_is_measured_and_the_booking_still_counts(ce_time: str | None) -> None:
    pipeline = Pipeline()
    await pipeline.book_and_settle(ce_time)
    assert pipeline.lags() == []
    assert pipeline.calendar.total(TENANT, CLASS) == 2


async def test_a_participation_message_from_before_the_commit_time_field_is_settled_unmeasured() -> None:
    pipeline = Pipeline()
    envelope = await pipeline.book("2026-11-21T10:00:00.000000Z")
    message = participation_events_pb2.ParticipationCreated.FromString(envelope.value)
    assert message.HasField("booking_committed_at")
    message.ClearField("booking_committed_at")
    await deliver(pipeline.updater, dataclasses.replace(envelope, value=message.SerializeToString()))
    assert pipeline.lags() == []
    assert pipeline.calendar.total(TENANT, CLASS) == 2


async def test_a_total_timeframes_refused_as_stale_is_not_a_capacity_update() -> None:
    pipeline = Pipeline()
    pipeline.calendar.stored[(TENANT, CLASS)] = TargetTotal(CLASS, 2, 10**18)  # a newer settlement already landed
    await pipeline.book_and_settle("2026-11-21T10:00:00.000000Z")
    assert pipeline.lags() == []
