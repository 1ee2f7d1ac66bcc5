"""The gRPC spans of services/common/rpc_spans.py: the names, kinds and attributes of the
OpenTelemetry RPC conventions, the caller's context carried in the metadata, and which status
codes make a span an error (a server's own failures only; every failure for a client)."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, get_tracer

from services.common import rpc_spans

METHOD = "/bookings.catalog.v1.Services/QueryServices"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(rpc_spans, "_tracer", get_tracer("test", tracer_provider=provider))
    return exporter


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def test_a_server_span_continues_the_callers_trace_and_names_the_method(exporter: InMemorySpanExporter) -> None:
    metadata = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01", "authorization": "Bearer x"}
    with rpc_spans.server_span(METHOD, rpc_spans.rpc_attributes(METHOD), metadata) as span:
        rpc_spans.end_server_span(span, grpc.StatusCode.OK)
    span = _only(exporter)
    assert (span.name, span.kind) == (METHOD, SpanKind.SERVER)
    assert f"{span.context.trace_id:032x}" == CALLER_TRACE
    assert span.parent is not None and f"{span.parent.span_id:016x}" == CALLER_SPAN
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": "bookings.catalog.v1.Services",
        "rpc.method": "QueryServices",
        "rpc.grpc.status_code": 0,
    }


def test_a_server_span_without_a_caller_context_starts_a_trace(exporter: InMemorySpanExporter) -> None:
    with rpc_spans.server_span(METHOD, rpc_spans.rpc_attributes(METHOD), {}):
        pass
    assert _only(exporter).parent is None


def test_a_call_not_sampled_by_the_caller_records_nothing(exporter: InMemorySpanExporter) -> None:
    # The default sampler is parent-based: the caller's "not sampled" flag is followed.
    with rpc_spans.server_span(METHOD, rpc_spans.rpc_attributes(METHOD), {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-00"}):
        pass
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("code", "server_error", "client_error"),
    [
        (grpc.StatusCode.OK, False, False),
        (grpc.StatusCode.INVALID_ARGUMENT, False, True),
        (grpc.StatusCode.NOT_FOUND, False, True),
        (grpc.StatusCode.PERMISSION_DENIED, False, True),
        (grpc.StatusCode.UNAUTHENTICATED, False, True),
        (grpc.StatusCode.FAILED_PRECONDITION, False, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, False, True),
        (grpc.StatusCode.CANCELLED, False, True),
        (grpc.StatusCode.INTERNAL, True, True),
        (grpc.StatusCode.UNAVAILABLE, True, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, True, True),
        (grpc.StatusCode.UNIMPLEMENTED, True, True),
        (grpc.StatusCode.UNKNOWN, True, True),
        (grpc.StatusCode.DATA_LOSS, True, True),
    ],
)
def test_which_codes_make_a_span_an_error(exporter: InMemorySpanExporter, code: grpc.StatusCode, server_error: bool, client_error: bool) -> None:
    with rpc_spans.server_span(METHOD, rpc_spans.rpc_attributes(METHOD), {}) as span:
        rpc_spans.end_server_span(span, code, "why")
    with rpc_spans.client_span(METHOD, rpc_spans.rpc_attributes(METHOD), []) as span:
        rpc_spans.end_client_span(span, code, "why")
    server, client = exporter.get_finished_spans()
    assert (server.status.status_code is StatusCode.ERROR) is server_error
    assert (client.status.status_code is StatusCode.ERROR) is client_error
    assert server.attributes is not None and server.attributes["rpc.grpc.status_code"] == code.value[0]
    assert client.attributes is not None and client.attributes["rpc.grpc.status_code"] == code.value[0]
    if client_error:
        assert client.status.description == f"{code.name}: why"


def test_a_client_span_puts_its_context_in_the_metadata_and_the_server_span_is_its_child(exporter: InMemorySpanExporter) -> None:
    metadata: list[tuple[str, str]] = [("authorization", "Bearer x")]
    with rpc_spans.client_span(METHOD, rpc_spans.rpc_attributes(METHOD), metadata) as client:
        pass
    keys = [key for key, _ in metadata]
    assert keys[0] == "authorization" and "traceparent" in keys
    with rpc_spans.server_span(METHOD, rpc_spans.rpc_attributes(METHOD), dict(metadata)):
        pass
    client_span, server_span = exporter.get_finished_spans()
    assert client_span.kind is SpanKind.CLIENT
    assert server_span.parent is not None and server_span.parent.span_id == client.get_span_context().span_id
    assert server_span.context.trace_id == client_span.context.trace_id
