"""An OTLP/gRPC receiver inside a local process: the platform's services export their spans and
metrics to it exactly as they would to an OpenTelemetry Collector, so the integration tests
assert on what the services really emitted (not on what they meant to), and the availability
benchmark times an uncached request span by span.

- Traces: `opentelemetry.proto.collector.trace.v1.TraceService/Export`. Every span is kept, by
  trace id. The platform samples only traces a caller starts with a sampled `traceparent`
  (`OTEL_TRACES_SAMPLER=parentbased_always_off`, see `exporter_env`), so this stays small.
- Metrics: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`. Only what a metric
  *is* is kept (service, name, unit, kind, monotonic, attribute keys), never its data points:
  the services export every couple of seconds for as long as they run.

A sync grpc server on its own threads: it keeps answering while the caller's event loop is busy.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from services.devstack.infra import free_port

KINDS = {
    trace_pb2.Span.SPAN_KIND_INTERNAL: "INTERNAL",
    trace_pb2.Span.SPAN_KIND_SERVER: "SERVER",
    trace_pb2.Span.SPAN_KIND_CLIENT: "CLIENT",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "PRODUCER",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "CONSUMER",
}


def _value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def _attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs}


@dataclass(frozen=True)
class ExportedSpan:
    service: str  # the exporting process's resource `service.name`
    name: str
    kind: str  # INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
    trace_id: str  # hex
    span_id: str
    parent_span_id: str  # "" for a root span
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...]  # (trace id, span id)
    status: str  # UNSET, OK, ERROR
    start_ns: int = 0  # Unix epoch, ns
    end_ns: int = 0

    def __str__(self) -> str:
        return f"{self.service}: {self.kind} {self.name!r} {self.span_id} <- {self.parent_span_id or 'root'}"


@dataclass(frozen=True)
class ExportedMetric:
    """What an instrument is, as OTLP describes it: enough to name it in Prometheus."""

    service: str
    name: str
    unit: str
    kind: str  # sum, gauge, histogram, exponential_histogram, summary
    monotonic: bool  # sums only: a counter (True) or an up-down counter (False)
    attribute_keys: frozenset[str]


class OtlpReceiver(trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[str, list[ExportedSpan]] = defaultdict(list)
        self._metrics: dict[tuple[str, str], ExportedMetric] = {}
        self._server: grpc.Server | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> OtlpReceiver:
        self.port = free_port()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-receiver"))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self, server)
        if server.add_insecure_port(f"127.0.0.1:{self.port}") == 0:
            raise RuntimeError(f"OTLP receiver: port {self.port} is taken")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1).wait()
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exporter_env(self) -> dict[str, str]:
        """What a service needs to export here (services/common/telemetry.py reads these)."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            # Only the traces a test samples: nothing else is recorded, so tracing costs the
            # suite nothing outside the tests that ask for it.
            "OTEL_TRACES_SAMPLER": "parentbased_always_off",
            # Spans reach the receiver within a fraction of a second (the SDK waits 5 s).
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            # Metrics every 2 s: a metric recorded by a test shows up quickly, at a small cost.
            "OTEL_METRIC_EXPORT_INTERVAL": "2000",
        }

    # --- the OTLP services ---------------------------------------------------------------------

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802  (the OTLP method name)
        # Both services name their one method Export; the request type tells them apart.
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            self._traces(request)
            return trace_service_pb2.ExportTraceServiceResponse()
        self._metrics_of(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()

    def _traces(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        received = [
            ExportedSpan(
                service=service,
                name=span.name,
                kind=KINDS.get(span.kind, "UNSPECIFIED"),
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                attributes=_attributes(span.attributes),
                links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                status=trace_pb2.Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
                start_ns=span.start_time_unix_nano,
                end_ns=span.end_time_unix_nano,
            )
            for service, span in _per_service(request.resource_spans, lambda r: r.scope_spans, lambda s: s.spans)
        ]
        with self._lock:
            for span in received:
                self._spans[span.trace_id].append(span)

    def _metrics_of(self, request: metrics_service_pb2.ExportMetricsServiceRequest) -> None:
        found = [_describe(service, metric) for service, metric in _per_service(request.resource_metrics, lambda r: r.scope_metrics, lambda s: s.metrics)]
        with self._lock:
            for described in found:
                key = (described.service, described.name)
                known = self._metrics.get(key)
                keys = described.attribute_keys | (known.attribute_keys if known else frozenset())
                self._metrics[key] = ExportedMetric(described.service, described.name, described.unit, described.kind, described.monotonic, keys)

    # --- what tests read -----------------------------------------------------------------------

    def spans(self, trace_id: str) -> list[ExportedSpan]:
        with self._lock:
            return list(self._spans.get(trace_id, ()))

    def metrics(self) -> list[ExportedMetric]:
        with self._lock:
            return list(self._metrics.values())

    async def wait_for_spans(self, trace_id: str, complete: Callable[[list[ExportedSpan]], bool], *, within: float) -> list[ExportedSpan]:
        """The trace's spans once `complete` accepts them, or whatever arrived after `within` s."""
        deadline = time.monotonic() + within
        while True:
            spans = self.spans(trace_id)
            if complete(spans) or time.monotonic() >= deadline:
                return spans
            await asyncio.sleep(0.1)

    async def wait_for_metrics(self, names: Iterable[str], *, within: float) -> set[str]:
        """Waits until every OTel metric name in `names` was exported by some service; returns
        the names still missing after `within` seconds (empty when all arrived)."""
        wanted = set(names)
        deadline = time.monotonic() + within
        while True:
            missing = wanted - {m.name for m in self.metrics()}
            if not missing or time.monotonic() >= deadline:
                return missing
            await asyncio.sleep(0.25)


def _per_service(resources: Iterable[Any], scopes: Callable[[Any], Iterable[Any]], items: Callable[[Any], Iterable[Any]]) -> Iterator[tuple[str, Any]]:
    """(the exporting service's name, item) for each item of an OTLP export, which nests them
    resource -> scope -> items (spans or metrics)."""
    for resource in resources:
        service = str(_attributes(resource.resource.attributes).get("service.name", ""))
        for scope in scopes(resource):
            for item in items(scope):
                yield service, item


def _describe(service: str, metric: metrics_pb2.Metric) -> ExportedMetric:
    kind = metric.WhichOneof("data") or ""
    points: Iterable[Any] = getattr(metric, kind).data_points if kind else ()
    keys = frozenset(kv.key for point in points for kv in point.attributes)
    monotonic = kind == "sum" and metric.sum.is_monotonic
    return ExportedMetric(service, metric.name, metric.unit, kind, monotonic, keys)
