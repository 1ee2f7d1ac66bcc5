"""One trace end to end (issue 5): a single CreateBooking, sent with a sampled W3C `traceparent`,
yields one trace that contains the availability check, the outbox publish, the participations
consume and its settlement (the fast path), the timeframes write, availability's invalidation, and
the event updater's consume of the participation message (the durable path, finding it settled),
linked across every Kafka hop by the messages' `traceparent` headers.

Everything asserted here is what the four services really exported over OTLP (to the session's
in-process receiver, services/devstack/otlp.py), on the real stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import grpc

from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2
from services.common import topics
from services.devstack.otlp import ExportedSpan, OtlpReceiver
from tests.integration.availability_support import DAY, World, booking_of, now, policy
from tests.support import eventually

BOOKING_TOPIC = topics.BOOKING_EVENTS.name
PARTICIPATION_TOPIC = topics.PARTICIPATION_EVENTS.name
EVENT_TOPIC = topics.EVENT_EVENTS.name


class Trace:
    """A trace's spans, found by what they are rather than by position."""

    def __init__(self, spans: list[ExportedSpan]):
        self.spans = spans
        self._by_id = {s.span_id: s for s in spans}

    def find(self, service: str, kind: str, name: str, parent: ExportedSpan | None = None) -> ExportedSpan | None:
        for span in self.spans:
            if (span.service, span.kind, span.name) == (service, kind, name) and (parent is None or span.parent_span_id == parent.span_id):
                return span
        return None

    def one(self, service: str, kind: str, name: str, parent: ExportedSpan | None = None) -> ExportedSpan:
        found = self.find(service, kind, name, parent)
        under = f" under {parent}" if parent else ""
        assert found is not None, f"no {kind} span {name!r} of {service}{under} in the trace:\n{self}"
        return found

    def __str__(self) -> str:
        return "\n".join(f"  {s}" for s in sorted(self.spans, key=lambda s: (s.service, s.name)))


def _sampled_traceparent() -> tuple[str, str, str]:
    """A W3C traceparent the test itself starts, as an instrumented client would: sampled (flags
    01), so the platform (parentbased_always_off) records the whole trace and nothing else."""
    trace_id, span_id = os.urandom(16).hex(), os.urandom(8).hex()
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def _complete(client_span_id: str) -> Callable[[list[ExportedSpan]], bool]:
    """The last links of the chain have arrived (timeframes' write and availability's consume of
    the participant update it announced) and so has every span they hang from: each process
    exports on its own schedule, so a child can arrive before its parent's process sent the
    parent (participations' CONSUMER span ends only after the settlement it contains)."""

    def complete(spans: list[ExportedSpan]) -> bool:
        names = {(s.service, s.name) for s in spans}
        known = {s.span_id for s in spans} | {client_span_id}
        ends = {("timeframes", "write participant totals"), ("availability", f"process {EVENT_TOPIC}"), ("participations", f"process {PARTICIPATION_TOPIC}")}
        ends_arrived = ends <= names
        return ends_arrived and all(s.parent_span_id in known for s in spans)

    return complete


async def test_a_booking_yields_one_trace_from_the_rpc_through_kafka_to_the_timeframes_write(
    channel: Callable[[str], grpc.aio.Channel], tenant: str, otlp: OtlpReceiver
) -> None:
    world = World.of(channel, tenant)
    klass = await world.klass([now() + 3 * DAY], capacity=5, booking_policy=policy(max_per_booking=4))
    event = klass.events[0]
    traceparent, trace_id, client_span_id = _sampled_traceparent()

    request = bookings_pb2.CreateBookingRequest(booking=booking_of(klass, event, 2, "Ada Lovelace", "ada@example.com"))
    await bookings_pb2_grpc.BookingsStub(channel("bookings")).CreateBooking(request, metadata=[*world.md, ("traceparent", traceparent)])

    async def current() -> events_pb2.Event:
        return (await world.events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=world.md)).event

    settled = await eventually(current, lambda e: e.remaining_capacity == 3, within=30)
    assert settled.remaining_capacity == 3, "the booking never reached the event's capacity"
    trace = Trace(await otlp.wait_for_spans(trace_id, _complete(client_span_id), within=15))

    # One trace, recorded by all four services.
    assert {s.trace_id for s in trace.spans} == {trace_id}
    assert {s.service for s in trace.spans} >= {"bookings", "availability", "participations", "timeframes"}, str(trace)

    # The RPC continues the caller's trace.
    create = trace.one("bookings", "SERVER", "/bookings.v2.Bookings/CreateBooking")
    assert create.parent_span_id == client_span_id

    # The availability check: bookings' client call, availability's server span under it.
    check = trace.one("bookings", "CLIENT", "/bookings.availability.v1.AvailabilityCalendar/GetSlotAvailability", parent=create)
    trace.one("availability", "SERVER", "/bookings.availability.v1.AvailabilityCalendar/GetSlotAvailability", parent=check)

    # The outbox publish: a PRODUCER span, child of the RPC that wrote the booking (its context
    # was stored with the outbox row), and the parent of the consume on the other side of Kafka.
    publish = trace.one("bookings", "PRODUCER", f"send {BOOKING_TOPIC}", parent=create)
    assert publish.status != "ERROR"
    consume = trace.one("participations", "CONSUMER", f"process {BOOKING_TOPIC}", parent=publish)
    assert consume.attributes["messaging.consumer.group.name"] == "participations.bookings-consumer"
    assert (trace_id, publish.span_id) in consume.links

    # The settlement, on the fast path: right after the participation committed, in the consume's
    # trace, the event's current total read once, its UpdateParticipantTotals call, and timeframes' write.
    settle = trace.one("participations", "INTERNAL", "settle participant totals", parent=consume)
    assert (settle.attributes["participations.targets.count"], settle.attributes["participations.targets.sent"]) == (1, 1)
    call = trace.one("participations", "CLIENT", "/calendar.events.v3.Events/UpdateParticipantTotals", parent=settle)
    served = trace.one("timeframes", "SERVER", "/calendar.events.v3.Events/UpdateParticipantTotals", parent=call)
    write = trace.one("timeframes", "INTERNAL", "write participant totals", parent=served)
    assert (write.attributes["calendar.totals.applied"], write.attributes["calendar.totals.changed"]) == (1, 1)

    # And on to availability, whose cache drops the event's entries on timeframes' announcement.
    announced = trace.one("timeframes", "PRODUCER", f"send {EVENT_TOPIC}", parent=write)
    trace.one("availability", "CONSUMER", f"process {EVENT_TOPIC}", parent=announced)

    # The participation announced through participations' own outbox, consumed by the event
    # updater (the durable path), which usually finds the total settled and sends nothing more; on
    # a busy machine its message can arrive while the fast path's call is still in flight, and it
    # sends the same total once more (timeframes keeps the newer version: a no-op). Never more.
    announce = trace.one("participations", "PRODUCER", f"send {PARTICIPATION_TOPIC}", parent=consume)
    update = trace.one("participations", "CONSUMER", f"process {PARTICIPATION_TOPIC}", parent=announce)
    assert update.attributes["messaging.consumer.group.name"] == "participations.event-updater"
    durable = trace.one("participations", "INTERNAL", "settle participant totals", parent=update)
    assert durable.attributes["participations.targets.sent"] in (0, 1)

    # Nothing in the trace hangs off a span that was not exported (the chain has no gaps).
    known = {s.span_id for s in trace.spans} | {client_span_id}
    orphans = [s for s in trace.spans if s.parent_span_id not in known]
    assert not orphans, "spans whose parent is missing:\n" + "\n".join(map(str, orphans))


async def test_an_unsampled_booking_records_no_trace(channel: Callable[[str], grpc.aio.Channel], tenant: str, otlp: OtlpReceiver) -> None:
    """The platform's sampler is parent-based: a caller that does not sample (flags 00) gets its
    ids propagated (they are in the logs) but nothing recorded, anywhere along the pipeline."""
    world = World.of(channel, tenant)
    klass = await world.klass([now() + 3 * DAY], capacity=5)
    trace_id = os.urandom(16).hex()
    traceparent = f"00-{trace_id}-{os.urandom(8).hex()}-00"
    request = bookings_pb2.CreateBookingRequest(booking=booking_of(klass, klass.events[0], 1, "Ada Lovelace", "ada@example.com"))
    await bookings_pb2_grpc.BookingsStub(channel("bookings")).CreateBooking(request, metadata=[*world.md, ("traceparent", traceparent)])

    async def current() -> events_pb2.Event:
        return (await world.events.GetEvent(events_pb2.GetEventRequest(event_id=klass.events[0].id), metadata=world.md)).event

    settled = await eventually(current, lambda e: e.remaining_capacity == 4, within=30)
    assert settled.remaining_capacity == 4
    # Spans would have arrived by now (a 0.2 s batch delay): wait a little longer to be sure.
    assert await otlp.wait_for_spans(trace_id, lambda spans: bool(spans), within=1.5) == []
