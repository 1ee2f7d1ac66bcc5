"""Where one request that fans out spends its time, from the spans every process exported for it
(services/devstack/otlp.py receives them): the caller's send and receive times, the root SERVER
span, its CLIENT spans and the dependencies' SERVER spans under them. All timestamps come from
one machine's clock, so spans of different processes line up.

Segments, in the order a request goes through them (ms):

- `client → server span`: the request's way in, until the root handler starts;
- `before the first call`: the root handler until its first dependency call starts;
- `starting the calls`: from the first call's start to the last one's;
- per call: `call → dependency server span` (the request's way to the dependency, until its
  handler starts), `inside the dependency` (its SERVER span), `answer → call end` (the way back);
- `after the last answer`: from the last call's end to the end of the root span;
- `server span → client`: the response's way out;
- `total`: as the caller measured it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.devstack.otlp import ExportedSpan


@dataclass(frozen=True)
class Sent:
    """One traced request as the caller saw it (Unix epoch, ns)."""

    trace_id: str
    sent_ns: int
    received_ns: int


@dataclass(frozen=True)
class Segment:
    name: str
    count: int
    p10_ms: float
    p50_ms: float
    p90_ms: float


def _ms(ns: int) -> float:
    return ns / 1e6


def _method(span: ExportedSpan) -> str:
    return span.name.rsplit("/", 1)[-1]


def timeline(sent: Sent, spans: Sequence[ExportedSpan], root_name: str) -> dict[str, float] | None:
    """The segments of one request, or None when its trace is incomplete (the root span, a call
    or a call's server span missing: the caller then cannot tell where the time went)."""
    root = next((s for s in spans if s.kind == "SERVER" and s.name == root_name), None)
    if root is None:
        return None
    calls = sorted((s for s in spans if s.kind == "CLIENT" and s.parent_span_id == root.span_id), key=lambda s: s.start_ns)
    handled = {s.parent_span_id: s for s in spans if s.kind == "SERVER" and s.parent_span_id}
    if not calls or any(c.span_id not in handled for c in calls):
        return None
    first_start, last_start, last_end = calls[0].start_ns, calls[-1].start_ns, max(c.end_ns for c in calls)
    out = {
        "client → server span": _ms(root.start_ns - sent.sent_ns),
        "before the first call": _ms(first_start - root.start_ns),
        "starting the calls": _ms(last_start - first_start),
    }
    for call in calls:
        server = handled[call.span_id]
        method = _method(call)
        out[f"{method}: call → dependency server span"] = _ms(server.start_ns - call.start_ns)
        out[f"{method}: inside the dependency"] = _ms(server.end_ns - server.start_ns)
        out[f"{method}: answer → call end"] = _ms(call.end_ns - server.end_ns)
    out["after the last answer"] = _ms(root.end_ns - last_end)
    out["server span → client"] = _ms(sent.received_ns - root.end_ns)
    out["total"] = _ms(sent.received_ns - sent.sent_ns)
    return out


def _percentile(ordered: Sequence[float], q: float) -> float:
    # nearest rank, like the load generator's percentiles
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summarise(timelines: Iterable[dict[str, float]]) -> list[Segment]:
    """p10/p50/p90 of each segment over the requests, in the order the segments first appear
    (calls of a method missing from some requests count only the requests that made them)."""
    values: dict[str, list[float]] = {}
    for one in timelines:
        for name, ms in one.items():
            values.setdefault(name, []).append(ms)
    out = []
    for name, samples in values.items():
        ordered = sorted(samples)
        out.append(Segment(name, len(ordered), _percentile(ordered, 10), statistics.median(ordered), _percentile(ordered, 90)))
    return out
