"""OpenTelemetry tracing and metrics. OTLP export is switched on by the standard
OTEL_EXPORTER_OTLP_ENDPOINT variable; without it spans are still created (their ids appear in
logs and propagate to other services) but not exported.

The standard OTEL_* variables apply as the SDK defines them: OTEL_EXPORTER_OTLP_* (endpoint,
insecure, headers, timeout), OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_* (span
batching), OTEL_RESOURCE_ATTRIBUTES, and OTEL_METRIC_EXPORT_INTERVAL (milliseconds; 15 s here
when unset, where the SDK would wait 60 s, so dashboards and alerts see a change within a
Prometheus scrape or two)."""

from __future__ import annotations

import os
import re
import socket
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider as AnyMeterProvider
from opentelemetry.sdk.environment_variables import OTEL_METRIC_EXPORT_INTERVAL
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

DEFAULT_METRIC_EXPORT_INTERVAL_MS = 15_000
Instruments = TypeVar("Instruments")


class PerMeterProvider(Generic[Instruments]):
    """A mechanism's instruments, created once per meter provider and shared by all its users in the
    process (every consumer runner, every outbox relay): an observable instrument registered twice
    keeps only its first callback, so a second user must add itself to the first one's set. A test
    with a meter provider of its own gets a set of its own."""

    def __init__(self, create: Callable[[AnyMeterProvider], Instruments]):
        self._create = create
        self._sets: weakref.WeakKeyDictionary[AnyMeterProvider, Instruments] = weakref.WeakKeyDictionary()

    def of(self, provider: AnyMeterProvider) -> Instruments:
        found = self._sets.get(provider)
        if found is None:
            found = self._sets[provider] = self._create(provider)
        return found


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def configure_telemetry(service: str, extra_readers: list[MetricReader] | None = None) -> Telemetry:
    attributes = {"service.name": service, "service.namespace": "bookings-platform"}
    if "service.instance.id" not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        # Replicas of a service must export distinct series: with identical labels the collector's
        # Prometheus endpoint would interleave their cumulative counters into nonsense. The pod
        # name (the hostname in Kubernetes) plus the pid is unique, also for several local processes.
        attributes["service.instance.id"] = f"{socket.gethostname()}:{os.getpid()}"
    resource = Resource.create(attributes)
    exporting = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    # Without an exporter, spans are not recorded (nothing would read them) unless the caller's
    # trace is sampled; trace and span ids are still created and propagated, so logs carry them.
    # With one, the standard OTEL_TRACES_SAMPLER settings apply (default: parent-based always on).
    sampler = None if exporting or os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(ALWAYS_OFF)
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    readers: list[MetricReader] = list(extra_readers or [])
    if exporting:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=metric_export_interval_ms()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return Telemetry(tracer_provider, meter_provider)


def metric_export_interval_ms() -> float:
    """OTEL_METRIC_EXPORT_INTERVAL when it is a positive number of milliseconds, else the default:
    a malformed value must not keep a service from starting."""
    raw = os.environ.get(OTEL_METRIC_EXPORT_INTERVAL, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_METRIC_EXPORT_INTERVAL_MS
    return value if value > 0 else DEFAULT_METRIC_EXPORT_INTERVAL_MS


# --- names in Prometheus -------------------------------------------------------------------------
# The OpenTelemetry Collector's `prometheus` exporter (deploy/k8s/observability) turns the OTLP
# metrics of the services into Prometheus series with the translator's full normalization
# (feature gate pkg.translator.prometheus.NormalizeName, on by default; add_metric_suffixes: true).
# Dashboards and alerts are written against these names, and the tests check them with this
# function against what the services really export: keep both in step with the collector.

# UCUM units as Prometheus spells them (the translator's table, the units that matter here).
_PROMETHEUS_UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "1": "",
    "%": "percent",
}
_PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _tokens(text: str) -> list[str]:
    return [t for t in _NON_ALNUM.split(text) if t]


def prometheus_name(name: str, unit: str, kind: str, monotonic: bool = False) -> str:
    """The Prometheus metric name of an OTel instrument: `kind` is the OTLP data type (sum, gauge,
    histogram...), `monotonic` whether a sum is a counter. Dots and other separators become
    underscores; the unit is appended unless it is an annotation (`{request}`) or already a word
    of the name (`ms` -> `_milliseconds`, `s` -> `_seconds`); counters end in `_total` (moved to
    the end if the name has it elsewhere); gauges with unit `1` end in `_ratio`. Histograms get
    their `_bucket`, `_sum` and `_count` series from Prometheus itself (see `prometheus_series`).
    E.g. rpc.server.duration [ms] -> rpc_server_duration_milliseconds,
    availability.course_requests.total (counter) -> availability_course_requests_total."""
    tokens = _tokens(name)
    main, _, per = unit.partition("/")
    main, per = main.strip(), per.strip()
    if main and "{" not in main and "}" not in main:
        word = "_".join(_tokens(_PROMETHEUS_UNITS.get(main, main)))
        if word and word not in tokens:
            tokens.append(word)
    if per and "{" not in per and "}" not in per:
        word = "_".join(_tokens(_PER_UNITS.get(per, per)))
        if word and word not in tokens:
            tokens += ["per", word]
    if kind == "sum" and monotonic:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if unit == "1" and kind == "gauge":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    joined = "_".join(tokens)
    return f"_{joined}" if joined[:1].isdigit() else joined


def prometheus_series(name: str, unit: str, kind: str, monotonic: bool = False) -> set[str]:
    """Every series name the instrument appears under in Prometheus (a histogram has three)."""
    base = prometheus_name(name, unit, kind, monotonic)
    if kind in ("histogram", "exponential_histogram"):
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}


def prometheus_label(attribute: str) -> str:
    """A metric attribute (or, with resource_to_telemetry_conversion, resource attribute) as a
    Prometheus label: rpc.grpc.status_code -> rpc_grpc_status_code."""
    label = re.sub(r"[^0-9A-Za-z_]", "_", attribute)
    return f"key_{label}" if label[:1].isdigit() else label
