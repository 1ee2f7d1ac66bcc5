"""The outbox relay's PRODUCER spans (services/common/outbox.py): each publish is a child of the
context the writer stored with the row, and what consumers continue from (the message's
`traceparent`); and the telemetry settings the services read from the standard variables."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.structs import RecordMetadata
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, get_tracer

from services.common import outbox, telemetry

WRITER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
WRITER_SPAN = "00f067aa0ba902b7"


class _Relay(outbox.OutboxRelay):
    """Only what the span code needs: no pool, no producer."""

    def __init__(self, tracer_provider: TracerProvider):
        self.source, self.channel = "//bookings-platform/test", "outbox_test"
        self._tracer = get_tracer("test", tracer_provider=tracer_provider)


@pytest.fixture
def spans() -> tuple[InMemorySpanExporter, _Relay]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, _Relay(provider)


def _row(traceparent: str | None, tracestate: str | None = None) -> dict[str, Any]:
    return {
        "topic": "bookings.booking-events.v1",
        "key": "b-1",
        "ce_id": "6f1c4b5e-0000-4000-8000-000000000001",
        "ce_type": "bookings.booking.created.v1",
        "ce_time": datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        "ce_subject": "b-1",
        "tenant_id": "t-1",
        "traceparent": traceparent,
        "tracestate": tracestate,
    }


def _ack(partition: int = 2, offset: int = 41) -> Any:
    """The broker's acknowledgement, as the producer's future holds it (same API, no loop needed)."""
    future: Future[RecordMetadata] = Future()
    future.set_result(RecordMetadata("bookings.booking-events.v1", partition, None, offset, 0, None, 0))  # type: ignore[call-arg]
    return future


def test_a_publish_is_a_producer_span_under_the_writer_and_the_header_carries_it(spans: tuple[InMemorySpanExporter, _Relay]) -> None:
    exporter, relay = spans
    row = _row(f"00-{WRITER_TRACE}-{WRITER_SPAN}-01", "vendor=1")
    span = relay._producer_span(row)
    headers = dict(relay._headers(row, span))
    outbox._end_producer_span(span, _ack())

    (finished,) = exporter.get_finished_spans()
    assert finished.kind is SpanKind.PRODUCER and finished.name == "send bookings.booking-events.v1"
    assert f"{finished.context.trace_id:032x}" == WRITER_TRACE and f"{finished.parent.span_id:016x}" == WRITER_SPAN
    assert headers["traceparent"].decode() == f"00-{WRITER_TRACE}-{finished.context.span_id:016x}-01"
    assert headers["tracestate"] == b"vendor=1"
    assert finished.attributes["messaging.destination.partition.id"] == "2" and finished.attributes["messaging.kafka.offset"] == 41
    assert finished.status.status_code is StatusCode.UNSET


def test_an_unsampled_writer_gets_a_new_span_id_in_the_header_but_nothing_recorded(spans: tuple[InMemorySpanExporter, _Relay]) -> None:
    exporter, relay = spans
    row = _row(f"00-{WRITER_TRACE}-{WRITER_SPAN}-00")
    span = relay._producer_span(row)
    traceparent = dict(relay._headers(row, span))["traceparent"].decode()
    outbox._end_producer_span(span, _ack())
    assert traceparent.startswith(f"00-{WRITER_TRACE}-") and traceparent.endswith("-00") and WRITER_SPAN not in traceparent
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize("stored", [None, "", "not-a-traceparent"], ids=["none", "empty", "malformed"])
def test_a_row_without_a_usable_writer_context_starts_no_trace(spans: tuple[InMemorySpanExporter, _Relay], stored: str | None) -> None:
    exporter, relay = spans
    span = relay._producer_span(_row(stored))
    outbox._end_producer_span(span, _ack())
    assert not span.get_span_context().is_valid and exporter.get_finished_spans() == ()


def test_a_publish_that_was_not_acknowledged_ends_as_an_error(spans: tuple[InMemorySpanExporter, _Relay]) -> None:
    exporter, relay = spans
    outbox._end_producer_span(relay._producer_span(_row(f"00-{WRITER_TRACE}-{WRITER_SPAN}-01")), None)
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR


@pytest.mark.parametrize(
    "value, interval",
    [(None, 15_000), ("2000", 2000), ("0", 15_000), ("-5", 15_000), ("soon", 15_000)],
    ids=["unset: 15 s", "set in ms", "zero is ignored", "negative is ignored", "malformed is ignored"],
)
def test_the_metric_export_interval_follows_otel_metric_export_interval(monkeypatch: pytest.MonkeyPatch, value: str | None, interval: float) -> None:
    if value is None:
        monkeypatch.delenv("OTEL_METRIC_EXPORT_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", value)
    assert telemetry.metric_export_interval_ms() == interval
