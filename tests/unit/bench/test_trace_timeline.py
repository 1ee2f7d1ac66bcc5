"""The benchmark's span timeline of a fanned-out request: which span edges make which segment."""

from __future__ import annotations

import pytest

from bench.trace_timeline import Sent, summarise, timeline
from services.devstack.otlp import ExportedSpan

ROOT = "/bookings.availability.v2.CourseEventTimeSlots/ListCourseEventTimeSlots"
MS = 1_000_000


def span(service: str, name: str, kind: str, span_id: str, parent: str, start_ms: float, end_ms: float) -> ExportedSpan:
    return ExportedSpan(service, name, kind, "t" * 32, span_id, parent, {}, (), "UNSET", int(start_ms * MS), int(end_ms * MS))


def request(*, events_server: bool = True) -> list[ExportedSpan]:
    """Sent at 0 ms, received at 12 ms: availability from 1 to 11 ms; two calls."""
    spans = [
        span("availability", ROOT, "SERVER", "root", "caller", 1, 11),
        span("availability", "/bookings.catalog.v1.Services/QueryServices", "CLIENT", "c1", "root", 2, 6),
        span("bookings", "/bookings.catalog.v1.Services/QueryServices", "SERVER", "s1", "c1", 3, 5),
        span("availability", "/calendar.events.v3.Events/QueryEvents", "CLIENT", "c2", "root", 2.5, 9),
    ]
    if events_server:
        spans.append(span("timeframes", "/calendar.events.v3.Events/QueryEvents", "SERVER", "s2", "c2", 4, 8))
    return spans


def test_each_segment_is_the_gap_between_two_span_edges() -> None:
    segments = timeline(Sent("t" * 32, 0, 12 * MS), request(), ROOT)
    assert segments == pytest.approx(
        {
            "client → server span": 1,
            "before the first call": 1,
            "starting the calls": 0.5,
            "QueryServices: call → dependency server span": 1,
            "QueryServices: inside the dependency": 2,
            "QueryServices: answer → call end": 1,
            "QueryEvents: call → dependency server span": 1.5,
            "QueryEvents: inside the dependency": 4,
            "QueryEvents: answer → call end": 1,
            "after the last answer": 2,  # the last call (QueryEvents) ended at 9, the root at 11
            "server span → client": 1,
            "total": 12,
        }
    )


@pytest.mark.parametrize(
    "spans",
    [
        pytest.param(request(events_server=False), id="a call whose server span never arrived"),
        pytest.param([s for s in request() if s.kind != "CLIENT"], id="no call at all"),
        pytest.param([s for s in request() if s.span_id != "root"], id="no root span"),
    ],
)
def test_an_incomplete_trace_gives_no_timeline(spans: list[ExportedSpan]) -> None:
    assert timeline(Sent("t" * 32, 0, 12 * MS), spans, ROOT) is None


def test_the_summary_keeps_the_order_of_the_way_through_and_counts_each_segment() -> None:
    fast = {"client → server span": 1.0, "total": 10.0}
    slow = {"client → server span": 3.0, "QueryEvents: inside the dependency": 5.0, "total": 20.0}
    summary = summarise([fast, slow, fast])
    assert [s.name for s in summary] == ["client → server span", "total", "QueryEvents: inside the dependency"]
    total = summary[1]
    assert (total.count, total.p10_ms, total.p50_ms, total.p90_ms) == (3, 10.0, 10.0, 20.0)
    assert summary[2].count == 1
