"""The pure parts of services.common.outbox: one outbox schema in every publishing service, the
channel and source names, and the trace context captured with each row. Recording and relaying
run against the real Postgres and broker (tests/integration/test_outbox.py)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from services.common.outbox import MIGRATIONS, channel_for, current_trace_context, source_for

ROOT = Path(__file__).resolve().parents[3]
PUBLISHERS = ("bookings", "participations", "timeframes")


def test_the_outbox_table_is_defined_once_for_every_publishing_service() -> None:
    """services/common/migrations creates it in each publisher's schema, before the service's own
    migrations; no service has a copy of its own."""
    assert [p.name for p in MIGRATIONS.glob("*.sql")] == ["0000_outbox.sql"]
    body = (MIGRATIONS / "0000_outbox.sql").read_text()
    columns = ("tenant_id", "topic", "key", "ce_type", "ce_id", "ce_subject", "ce_time", "payload", "traceparent", "tracestate", "created_at", "published_at")
    for column in columns:
        assert f"\n    {column} " in body, column
    assert "ON outbox (id) WHERE published_at IS NULL" in body
    for service in PUBLISHERS:
        own = [p.name for p in (ROOT / "services" / service / "migrations").glob("*.sql") if "outbox (" in p.read_text()]
        assert own == [], f"{service} defines the outbox table itself: {own}"
        main = (ROOT / "services" / service / "__main__.py").read_text()
        assert "migrations=(outbox.MIGRATIONS," in main, f"{service} does not apply the outbox migrations first"


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
