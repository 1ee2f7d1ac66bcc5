"""The pure parts of services.common.outbox: one outbox schema in every publishing service, the
channel and source names, and the trace context captured with each row. Recording and relaying
run against the real Postgres and broker (tests/integration/test_outbox.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from services.common.outbox import channel_for, current_trace_context, source_for

ROOT = Path(__file__).resolve().parents[3]
# Every service that publishes integration events has the outbox in its own schema.
PUBLISHERS = {"bookings": "0001_catalog", "participations": "0001_participations", "timeframes": "0001_calendar"}


def _migration(service: str) -> str:
    return (ROOT / "services" / service / "migrations" / "0002_outbox.sql").read_text()


@pytest.mark.parametrize("service", sorted(PUBLISHERS))
def test_the_outbox_migration_follows_the_services_first_one(service: str) -> None:
    assert _migration(service).splitlines()[0] == f"-- depends: {PUBLISHERS[service]}"


def test_every_publishing_service_creates_the_same_outbox() -> None:
    bodies = {service: _migration(service).split("\n", 1)[1] for service in PUBLISHERS}
    assert len(set(bodies.values())) == 1, "the 0002_outbox.sql files differ beyond their depends line"
    body = bodies["bookings"]
    columns = ("tenant_id", "topic", "key", "ce_type", "ce_id", "ce_subject", "ce_time", "payload", "traceparent", "tracestate", "created_at", "published_at")
    for column in columns:
        assert f"\n    {column} " in body, column
    assert "ON outbox (id) WHERE published_at IS NULL" in body


def test_names_of_the_channel_and_the_source() -> None:
    assert channel_for("bookings") == "outbox_bookings"
    assert source_for("timeframes") == "//bookings-platform/timeframes"


def test_a_row_carries_the_trace_context_of_the_current_span() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("rpc") as span:
        traceparent, tracestate = current_trace_context()
    ctx = span.get_span_context()
    assert traceparent == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"
    assert tracestate is None


def test_outside_a_trace_there_is_no_context_to_carry() -> None:
    assert not trace.get_current_span().get_span_context().is_valid
    assert current_trace_context() == (None, None)
