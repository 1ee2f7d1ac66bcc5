"""The pipeline benchmark's report: markdown with the issue's targets next to the measured figures,
raw JSON, and a plot (lag of every booking and the pipeline's backlogs over each load step; the
single bookings' lags)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.loadgen import StepResult
from bench.pipeline_figures import (
    BASE_CREATE_P99_MS,
    BASE_LAG_P50_MS,
    BASE_LAG_P99_MS,
    BASE_RATE,
    DRAIN_S,
    FLAT_FACTOR,
    GOAL_RATE,
    IDLE_P50_MS,
    SECOND_LAG_P99_MS,
    SECOND_RATE,
    Knee,
    RaceTally,
    at_most,
    p50_counting_unseen,
)
from bench.pipeline_idle import History, Sighting, SightingStats
from bench.pipeline_load import CPU_GROUPS, Committed, StepFigures, consumer_peaks, step_figures, throughput, unsettled_at_samples
from bench.pipeline_watch import GROUPS, SCHEMAS
from bench.report import fmt_ms, jsonable

Target = tuple[str, str, bool | None]  # (target, measured, met; None: not measured)


def _s(v: float) -> str:
    """A lag: ms below 10 s, seconds above, a dash when not measured."""
    return "–" if v is None or math.isnan(v) else f"{v / 1000:.2f} s" if v >= 10_000 else f"{v:.0f} ms"


def _n(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"


def _rate(v: float) -> str:
    return "–" if v is None or math.isnan(v) else f"{v:.1f}"


def _secs(v: float) -> str:
    return "–" if v is None or math.isnan(v) else f"{v:.2f} s"


def _mark(met: bool | None) -> str:
    return "not measured" if met is None else "**met**" if met else "**not met**"


def _thirds(values: list[float]) -> str:
    return " → ".join(_s(v) for v in values)


# --- the figures of each phase -----------------------------------------------------------------------------


def analysis(results: dict[str, Any]) -> dict[str, Any]:
    steps = results.get("steps") or []
    sweep = results.get("sweep") or {}
    return {
        "steps": [step_figures(r) for r in steps],
        "sweep": [step_figures(r) for r in sweep.get("records", [])],
        "knee": sweep.get("knee"),
    }


def _at_rate(figures: list[StepFigures], rate: float) -> StepFigures | None:
    return next((f for f in figures if f.rate == rate), None)


def _idle_target(label: str, stats: SightingStats | None, sightings: list[Sighting]) -> Target:
    what = f"{label}: commit → visible p50 ≤ {IDLE_P50_MS:.0f} ms"
    if stats is None or not stats.bookings:
        return (what, "not measured", None)
    judged = p50_counting_unseen(s.commit_to_visible_ms for s in sightings if s.kind == stats.kind and not s.error)
    c = stats.commit_to_visible
    measured = f"p50 {_s(c.p50_ms)}, p90 {_s(c.p90_ms)}, max {_s(c.max_ms)} ({c.seen}/{stats.bookings} seen"
    measured += f", {stats.errors} CreateBooking errors)" if stats.errors else ")"
    return (what, measured, None if not c.samples else at_most(judged, IDLE_P50_MS))


def targets(results: dict[str, Any], a: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    idle = results.get("idle")
    for kind, label in (("class", "idle CLASS booking (one session)"), ("course", "idle COURSE booking (all 30 sessions)")):
        out.append(_idle_target(label, idle["stats"][kind] if idle else None, idle["sightings"] if idle else []))
    history = results.get("history")
    if history:
        h: History = history["history"]
        label = f"one more booking of a course of {h.sessions} sessions with {h.stored} participations (all {h.sessions} sessions)"
        out.append(_idle_target(label, history["stats"], history["sightings"]))
        settled = history["stats"].commit_to_settled
        if settled.samples:
            judged = p50_counting_unseen(s.commit_to_settled_ms for s in history["sightings"] if s.kind == "history" and not s.error)
            what = f"…the same booking: commit → settled in timeframes p50 ≤ {IDLE_P50_MS:.0f} ms (the pipeline's part, without the read of every session)"
            measured = f"p50 {_s(settled.p50_ms)}, p90 {_s(settled.p90_ms)}, max {_s(settled.max_ms)} ({settled.seen}/{settled.samples} seen)"
            out.append((what, measured, at_most(judged, IDLE_P50_MS)))
    else:
        out.append(("history: a course of 200 sessions with 5,000 participations, p50 within the idle target", "not measured", None))
    base, second = _at_rate(a["steps"], BASE_RATE), _at_rate(a["steps"], SECOND_RATE)
    at_base = f"at {BASE_RATE:.0f} bookings/s"
    ran = ", ".join(f.label for f in a["steps"])
    missing = f"not measured (this run's load steps: {ran})" if ran else "not measured"
    if base is None:
        wanted = (
            f"lag p50 ≤ {BASE_LAG_P50_MS:.0f} ms, p99 ≤ {BASE_LAG_P99_MS:.0f} ms",
            f"CreateBooking p99 ≤ {BASE_CREATE_P99_MS:.0f} ms",
            "lag flat",
            f"drain ≤ {DRAIN_S:.0f} s",
        )
        out.extend((f"{what} {at_base}", missing, None) for what in wanted)
    else:
        every = base.lags["every"][1]  # a booking never seen fails the target, whatever the percentiles of those seen
        out.append(
            (
                f"lag p50 ≤ {BASE_LAG_P50_MS:.0f} ms, p99 ≤ {BASE_LAG_P99_MS:.0f} ms {at_base} (every booking → all its sessions)",
                f"p50 {_s(every.p50_ms)}, p99 {_s(every.p99_ms)} ({every.seen}/{every.samples} seen)",
                None if not every.seen else (at_most(every.p50_ms, BASE_LAG_P50_MS) and at_most(every.p99_ms, BASE_LAG_P99_MS) and not every.unseen),
            )
        )
        c = base.create
        out.append(
            (
                f"CreateBooking p99 ≤ {BASE_CREATE_P99_MS:.0f} ms {at_base}",
                f"p99 {fmt_ms(c.p99_ms)} ms, {c.errors} errors",
                at_most(c.p99_ms, BASE_CREATE_P99_MS) and not c.errors,
            )
        )
        out.append(_flat_target(base))
        out.append(_drain_target(base))
    if second is None:
        out.extend((f"{what} at {SECOND_RATE:.0f} bookings/s", missing, None) for what in ("lag flat", f"lag p99 ≤ {SECOND_LAG_P99_MS / 1000:.0f} s"))
    else:
        out.append(_flat_target(second))
        every = second.lags["every"][1]
        out.append(
            (
                f"lag p99 ≤ {SECOND_LAG_P99_MS / 1000:.0f} s at {SECOND_RATE:.0f} bookings/s (every booking → all its sessions)",
                f"p99 {_s(every.p99_ms)} ({every.seen}/{every.samples} seen)",
                None if not every.seen else (at_most(every.p99_ms, SECOND_LAG_P99_MS) and not every.unseen),
            )
        )
    found: Knee | None = a["knee"]
    if found is None:
        out.append((f"longer-term: the lag still flat at {GOAL_RATE:.0f} bookings/s (the sweep's knee)", "not measured (run with --sweep)", None))
    else:
        # Kept up with every rate tried, all below the goal: the goal rate was not tried.
        untried = found.first_behind is None and (found.rate or 0) < GOAL_RATE
        met = None if untried else (found.rate or 0) >= GOAL_RATE
        out.append((f"longer-term: the lag still flat at {GOAL_RATE:.0f} bookings/s (the sweep's knee)", _knee_text(found), met))
    out.append(_strict_race_target(results.get("race")))
    return out


def _flat_target(f: StepFigures) -> Target:
    unseen = f.not_visible["every"]
    measured = f"p50 by third {_thirds(f.lag_by_third_ms['every'])}" + (f", {unseen} not visible by the end" if unseen else "")
    flat = f.flat
    return (f"lag flat at {f.rate:.0f} bookings/s (last third's p50 ≤ {FLAT_FACTOR}× the first's)", measured, None if flat is None else flat and not unseen)


def _drain_target(f: StepFigures) -> Target:
    d = f.drain
    measured = (
        f"{_secs(d.drained_s)} (everything visible {_secs(d.all_visible_s)}, consumer groups at lag 0 and outboxes empty {_secs(d.quiet_s)} after the load)"
        if not math.isnan(d.drained_s)
        else f"not drained within {d.limit_s:.0f} s"
    )
    return (f"drain ≤ {DRAIN_S:.0f} s after {f.rate:.0f} bookings/s", measured, False if math.isnan(d.drained_s) else d.drained_s <= DRAIN_S)


def _knee_text(k: Knee) -> str:
    if k.rate is None and k.first_behind is None:
        return "no load step measured"
    if k.rate is None:
        return f"not kept up with at the lowest rate tried ({_n(k.first_behind)}/s)"
    if not k.reached:
        return f"kept up with every rate tried, up to {k.rate:.0f}/s: the knee lies above"
    return f"knee {k.rate:.0f}/s (first rate not kept up with: {_n(k.first_behind)}/s)"


def _strict_race_target(race: dict[str, Any] | None) -> Target:
    what = "strict capacity: the last spot goes to exactly 1 of the racing bookings, remaining capacity never negative"
    if race is None:
        return (what, "not measured", None)
    strict = race.get("strict")
    if strict is None:
        return (what, "not available in this build (no `strict_capacity` on bookings.catalog.v1.Service)", None)
    t: RaceTally = strict["tally"]
    low = t.lowest_remaining
    measured = f"{t.exactly_one}/{t.rounds} rounds with exactly 1 winner, lowest remaining capacity {_n(low)}"
    return (what, measured, t.exactly_one == t.rounds and low is not None and low >= 0 and not strict["unsettled_rounds"])


# --- markdown ------------------------------------------------------------------------------------------------


def markdown(results: dict[str, Any], a: dict[str, Any], png_name: str | None) -> str:
    out: list[str] = []
    w = out.append
    _header(w, results)
    w("## Targets\n")
    w('The issue\'s targets ("capacity in milliseconds") next to what this run measured.\n')
    w("| target | measured | verdict |")
    w("|---|---|---|")
    for what, measured, met in targets(results, a):
        w(f"| {what} | {measured} | {_mark(met)} |")
    w("")
    if png_name:
        w(f"![lags and backlogs]({png_name})\n")
    _idle_section(w, results)
    _history_section(w, results)
    _steps_section(w, results, a)
    _sweep_section(w, results, a)
    _race_section(w, results)
    _strict_cost_section(w, results)
    w("## Interpretation\n")
    out.extend(interpretation(results, a))
    w("\nCaveats:\n")
    out.extend(f"- {c}" for c in CAVEATS)
    return "\n".join(out) + "\n"


def _header(w: Any, results: dict[str, Any]) -> None:
    meta = results["meta"]
    m, o = meta["machine"], meta["options"]
    w("# Booking → availability propagation benchmark\n")
    w("Generated by `make bench-pipeline` (bench/pipeline.py; method in its docstring and in bench/README.md). Do not edit: re-run it.\n")
    w(f"- **Date**: {meta['date']} (UTC); run took {meta['duration_s']:.0f} s (platform start {meta['platform_start_s']:.0f} s)")
    w(
        f"- **Machine**: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}; Python {m['python']}, grpcio {m['grpcio']}, "
        f"event loop {m.get('event_loop', '?')}; commit `{m['commit']}`"
    )
    if m.get("uncommitted_service_changes"):
        w(f"- **Code measured**: commit `{m['commit']}` plus uncommitted changes in " + ", ".join(f"`{f}`" for f in m["uncommitted_service_changes"]))
    w(f"- **Command**: `{meta['command']}`" + (" (a smoke run: every phase shortened, figures not comparable)" if o.get("quick") else ""))
    w(
        "- **Tenant**: one, toggles " + ", ".join(f"`{k}` {v}" for k, v in results["tenant"]["toggles"].items()) + "; every phase books services and "
        "sessions of its own. Consumer groups watched: " + ", ".join(f"`{g}` ({', '.join(t)})" for g, t in GROUPS.items()) + "."
    )
    w(f"- **Pipeline check** before anything is measured: a class booking reached timeframes in {results['pipeline_check_ms']:.0f} ms.")
    for name, error in results.get("failures", {}).items():
        w(f"- ⚠ **Phase failed: {name}**: {error}")
    w("")


def _idle_table(w: Any, rows: list[tuple[str, SightingStats]]) -> None:
    w(
        "| booking | bookings | seen | commit → visible p50 | p90 | max | answer → visible p50 | p90 | max | CreateBooking p50 "
        "| poll p50 / p90 (resolution) | polls per booking p50 |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, st in rows:
        c, an = st.commit_to_visible, st.answer_to_visible
        w(
            f"| {label} | {st.bookings}{f' ({st.errors} errors)' if st.errors else ''} | {c.seen} | {_s(c.p50_ms)} | {_s(c.p90_ms)} | {_s(c.max_ms)} | "
            f"{_s(an.p50_ms)} | {_s(an.p90_ms)} | {_s(an.max_ms)} | {fmt_ms(st.create_p50_ms)} ms | {fmt_ms(st.poll_p50_ms)} / {fmt_ms(st.poll_p90_ms)} ms | "
            f"{_n(st.polls_per_booking_p50)} |"
        )
    w("")


def _idle_section(w: Any, results: dict[str, Any]) -> None:
    idle = results.get("idle")
    o = results["meta"]["options"]
    w("## Idle: one booking at a time on a quiet platform\n")
    if not idle:
        w("Not measured in this run.\n")
        return
    w(
        f"Before any load, {o['idle_samples']} bookings of each kind, one at a time, taking turns: a CLASS booking (one session, seen in "
        f"ListEventTimeSlots) and a whole-course booking of a {idle['sessions']['course']}-session COURSE (seen in ListCourseEventTimeSlots on all "
        "its sessions). Before each booking every consumer group was at lag 0 and every outbox empty; after it, availability was asked back to back "
        f"(one call in flight) until it showed the booking, for at most {o['idle_timeout']:.0f} s. *Commit → visible* = the answer that first showed it − "
        "the booking's `created_date`; *answer → visible* starts at CreateBooking's answer instead. A poll that shows the booking may have left up "
        "to one poll before the change: the poll latency is the resolution. Percentiles over the bookings seen.\n"
    )
    _idle_table(w, [("CLASS, its session", idle["stats"]["class"]), (f"COURSE, all {idle['sessions']['course']} sessions", idle["stats"]["course"])])
    nq = sum(1 for s in idle["sightings"] if not s.started_quiet)
    f = idle["foreign_cpu_pct"]
    w(
        f"Other processes used {f['before']:.0f} % of a core before the phase and {f['during']:.0f} % during it."
        + (f" {nq} booking(s) started before the pipeline was quiet (the wait is bounded)." if nq else "")
        + "\n"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and not (math.isnan(a) or math.isnan(b)) else "–"


def _history_section(w: Any, results: dict[str, Any]) -> None:
    history = results.get("history")
    w("## History: a course that already holds thousands of participations\n")
    if not history:
        w("Not measured in this run" + (" (`--no-history`)." if not results["meta"]["options"].get("history") else ".") + "\n")
        return
    h: History = history["history"]
    o = results["meta"]["options"]
    rate = h.made / h.booking_s if h.booking_s else math.nan
    w(
        f"A COURSE of {h.sessions} sessions (one a day; ListCourseEventTimeSlots with `cursor_paging.limit` 1000 over the whole window: "
        f"{'all sessions in one answer' if h.one_page else '**not all sessions in one answer**'}) got {h.asked} bookings of 1 participant "
        f"through CreateBooking, {o['history_in_flight']} in flight: {h.made} answered OK in {h.booking_s:.0f} s ({rate:.0f}/s"
        + (f"; errors {h.errors}" if h.errors else "")
        + f"), {h.stored} stored (QueryBookings). "
        + (
            f"Every session showed all {h.stored} {h.visible_s:.1f} s after the last answer"
            if not math.isnan(h.visible_s)
            else f"**Not every session showed them all** within {o['history_drain_seconds']:.0f} s"
        )
        + "; the pipeline was then "
        + (
            f"quiet after {h.quiet['waited_s']:.1f} s more."
            if h.quiet.get("reached")
            else f"**not quiet** (consumer lag {h.quiet.get('consumer_lag')}, outbox {h.quiet.get('outbox')})."
        )
        + f" Then {o['history_samples']} single bookings of that course, taking turns with as many of a control course of {h.sessions} sessions "
        "and no participations, each followed first in timeframes (GetEvent of its first session, back to back, until it counts the booking: "
        "*settled*), then in availability as in the idle phase (*visible* = on all sessions):\n"
    )
    stats, control = history["stats"], history.get("control")
    rows = [(f"COURSE of {h.sessions} sessions, {h.stored}+ participations", stats)]
    if control is not None:
        rows.append((f"control: COURSE of {h.sessions} sessions, no participations", control))
    _idle_table(w, rows)
    w("| booking | commit → settled in timeframes p50 | p90 | max | settled → visible p50 (the read of every session) |")
    w("|---|---|---|---|---|")
    for label, st in rows:
        s = st.commit_to_settled
        w(f"| {label} | {_s(s.p50_ms)} | {_s(s.p90_ms)} | {_s(s.max_ms)} | {_s(st.commit_to_visible.p50_ms - s.p50_ms)} |")
    w("")
    if control is not None and control.commit_to_visible.seen and stats.commit_to_visible.seen:
        w(
            f"With {h.stored} participations against none, same {h.sessions} sessions: settled p50 × "
            f"{_ratio(stats.commit_to_settled.p50_ms, control.commit_to_settled.p50_ms)}, visible p50 × "
            f"{_ratio(stats.commit_to_visible.p50_ms, control.commit_to_visible.p50_ms)}: what the history costs. What the session count costs is "
            "the gap between settled and visible: availability computing and sending every session of the course.\n"
        )


def _steps_section(w: Any, results: dict[str, Any], a: dict[str, Any]) -> None:
    figures: list[StepFigures] = a["steps"]
    records = results.get("steps") or []
    o = results["meta"]["options"]
    w("## Under load\n")
    if not figures:
        w("Not measured in this run.\n")
        return
    w(
        f"CreateBooking open loop (bench/loadgen.py) for {o['warmup_seconds']:.0f} s warm-up + {o['seconds']:.0f} s measured per step, "
        f"{o['course_share']:.0%} whole-course bookings of a {len(records[0]['offerings']['course'].event_ids)}-session COURSE, the rest round robin "
        f"over a {o['class_sessions']}-session CLASS (both fresh for each step), 1 participant each, deadline {o['timeout']:.0f} s. Watchers poll "
        f"ListCourseEventTimeSlots and ListEventTimeSlots every {o['poll_ms']:.0f} ms; lags and backlogs are sampled every {o['sample_seconds']:.0f} s. "
        "Lag = commit → visible in availability (measured bookings only; percentiles over those seen, lower bounds when some were not). "
        f"*Flat*: the last third's p50 ≤ {FLAT_FACTOR}× the first third's (thirds of the measured bookings by commit time). *Drain*: from the end "
        "of the load until every booking was visible everywhere and, read back to back from then on, every consumer group was at lag 0 and every "
        f"outbox empty (at most {o['drain_seconds']:.0f} s).\n"
    )
    w("| | " + " | ".join(f.label for f in figures) + " |")
    w("|---|" + "---|" * len(figures))
    for label, cell in _step_rows():
        w(f"| {label} | " + " | ".join(cell(f) for f in figures) + " |")
    w("")
    for record, f in zip(records, figures, strict=True):
        _step_details(w, record, f)


def _cb(f: StepFigures) -> str:
    c = f.create
    return f"{fmt_ms(c.p50_ms)} / {fmt_ms(c.p99_ms)} ms" + (
        f", **{c.errors} errors** ({', '.join(f'{k} {v}' for k, v in c.error_codes.items())})" if c.errors else ""
    )


def _drain_cell(f: StepFigures) -> str:
    d = f.drain
    if math.isnan(d.drained_s):
        return f"**not drained** in {d.limit_s:.0f} s" + (f" (all visible after {_secs(d.all_visible_s)})" if not math.isnan(d.all_visible_s) else "")
    return f"{_secs(d.drained_s)} (visible {_secs(d.all_visible_s)}, lag 0 {_secs(d.quiet_s)})"


def _step_rows() -> list[tuple[str, Any]]:
    def lag(key: str, q: str) -> Any:
        return lambda f: _s(getattr(f.lags[key][1], q)) + ("" if not f.lags[key][1].unseen else f" ({f.lags[key][1].unseen} unseen)" if q == "p99_ms" else "")

    rows: list[tuple[str, Any]] = [
        ("offered / achieved per s", lambda f: f"{f.rate:.0f} / {f.create.achieved_rps:.1f}"),
        ("CreateBooking p50 / p99", _cb),
        ("lag, every booking → all its sessions: p50", lag("every", "p50_ms")),
        ("… p95", lag("every", "p95_ms")),
        ("… p99", lag("every", "p99_ms")),
        ("… max", lag("every", "max_ms")),
        ("lag, class → its session: p50 / p99", lambda f: f"{_s(f.lags['class'][1].p50_ms)} / {_s(f.lags['class'][1].p99_ms)}"),
        ("lag, course → all its sessions: p50 / p99", lambda f: f"{_s(f.lags['course_all'][1].p50_ms)} / {_s(f.lags['course_all'][1].p99_ms)}"),
        ("lag p50 by third", lambda f: _thirds(f.lag_by_third_ms["every"])),
        ("flat", lambda f: {True: "yes", False: "**no**", None: "–"}[f.flat]),
        ("drain", _drain_cell),
        ("keeps up", lambda f: "yes" if not f.behind else "**no**: " + "; ".join(f.behind)),
    ]
    rows += [(f"CPU % {g} (load)", lambda f, g=g: _n(f.cpu_load.get(g, math.nan))) for g in CPU_GROUPS]
    return rows


def _step_details(w: Any, record: dict[str, Any], f: StepFigures) -> None:
    step: StepResult = record["step"]
    w(f"### {f.label}: details\n")
    sb = record["settled_before"]
    w(
        f"Before the load the pipeline was {'quiet' if sb['reached'] else '**not quiet**'} (waited {sb['waited_s']:.1f} s); other processes used "
        f"{record['quiet']['foreign_cpu_pct']:.0f} % of a core just before it and {record['cpu']['load']['foreign_cpu_pct']:.0f} % during it.\n"
    )
    w("| offered/s | achieved/s | ok | errors | p50 ms | p95 ms | p99 ms | max ms | send lag p99 ms |")
    w("|---|---|---|---|---|---|---|---|---|")
    errors = f"{step.errors}" + (f" ({', '.join(f'{k} {v}' for k, v in step.error_codes.items())})" if step.errors else "")
    w(
        f"| {step.rate:.0f} | {step.achieved_rps:.1f} | {step.ok} | {errors} | {fmt_ms(step.p50_ms)} | {fmt_ms(step.p95_ms)} | {fmt_ms(step.p99_ms)} | "
        f"{fmt_ms(step.max_ms)} | {fmt_ms(step.send_lag_p99_ms)} |\n"
    )
    w("| lag | seen / bookings | p50 | p95 | p99 | max | min | negative |")
    w("|---|---|---|---|---|---|---|---|")
    for what, st in f.lags.values():
        w(f"| {what} | {st.seen} / {st.samples} | {_s(st.p50_ms)} | {_s(st.p95_ms)} | {_s(st.p99_ms)} | {_s(st.max_ms)} | {_s(st.min_ms)} | {st.negative} |")
    w("")
    w("| p50 by third of the measured bookings | first | middle | last | not visible everywhere at the end |")
    w("|---|---|---|---|---|")
    for kind in ("every", "class", "course"):
        w(f"| {kind} | " + " | ".join(_s(v) for v in f.lag_by_third_ms[kind]) + f" | {f.not_visible[kind]} |")
    w("")
    peaks, tp = consumer_peaks(record), throughput(record)
    w(
        "Consumer lag = Σ over the group's partitions of (high watermark − committed offset), read with an admin client and an unassigned consumer "
        "(nothing joins the groups). Outbox backlog = rows with `published_at IS NULL` per schema (read-only SQL). Sampled every "
        f"{record['plan'].sample_seconds:.0f} s; the drain's own reads took {fmt_ms(record['drain_probe_ms_p50'])} ms each (p50).\n"
    )
    w("| consumer group | max lag | at the end of the load | last sample | 0 again after the load (1 s samples) |")
    w("|---|---|---|---|---|")
    for group, v in peaks["consumer_lag"].items():
        w(f"| `{group}` | {_n(v['max'])} | {_n(v['at_load_end'])} | {_n(v['last'])} | {_secs(v['zero_s_after_load'])} |")
    w("")
    if tp:
        w("Messages per second (high watermarks = arriving, committed offsets = done, from the same samples; the last column is an order of magnitude):\n")
        w("| group, topic | arriving/s, load | committed/s, load | arriving/s, after | committed/s, after | max lag | lag, last sample | rest at that rate |")
        w("|---|---|---|---|---|---|---|---|")
        for key, v in tp.items():
            group, topic = key.split(" ", 1)
            rest = v["rest_s_at_drain_rate"]
            w(
                f"| `{group}`, {topic} | {_rate(v['in_per_s_load'])} | {_rate(v['committed_per_s_load'])} | {_rate(v['in_per_s_after'])} | "
                f"{_rate(v['committed_per_s_after'])} | {_n(peaks['consumer_lag_by_topic'].get(key, {}).get('max', math.nan))} | {v['lag_last']} | "
                f"{'–' if math.isnan(rest) else f'{rest:.0f} s'} |"
            )
        w("")
    w("| outbox schema | max backlog | max age of the oldest unpublished row | last sample |")
    w("|---|---|---|---|")
    for schema, v in peaks["outbox"].items():
        w(f"| `{schema}` | {_n(v['max_backlog'])} | {_secs(v['max_oldest_age_s'])} | {_n(v['last'])} |")
    if record["sampler_errors"]:
        w(f"\nSampler errors: {record['sampler_errors']}")
    w("")
    w("| watcher | period ms | polls | polls/s | skipped (1 in flight) | errors | p50 ms | p99 ms |")
    w("|---|---|---|---|---|---|---|---|")
    for v in record["watchers"]:
        w(
            f"| {v['endpoint']} | {v['period_ms']:.0f} | {v['polls']} | {v['polls_per_s']:.1f} | {v['skipped_in_flight']} | {v['errors'] or 0} | "
            f"{fmt_ms(v['latency_p50_ms'])} | {fmt_ms(v['latency_p99_ms'])} |"
        )
    w("")
    w("CPU, % of one core (bench/procstats.py); postgres = postmaster + backends; generator = the bench process alone (load, watchers, sampler):\n")
    w("| window | " + " | ".join(CPU_GROUPS) + " | machine busy % | other processes % |")
    w("|---|" + "---|" * (len(CPU_GROUPS) + 2))
    for name, label in (("load", f"load ({record['windows']['load_s']:.0f} s)"), ("drain", f"drain ({record['windows']['drain_s']:.0f} s)")):
        u = record["cpu"][name]
        w(
            f"| {label} | "
            + " | ".join(_n(u["cpu_pct"].get(g, math.nan)) for g in CPU_GROUPS)
            + f" | {u['machine_busy_pct']:.0f} | {u['foreign_cpu_pct']:.0f} |"
        )
    w("")


def _sweep_section(w: Any, results: dict[str, Any], a: dict[str, Any]) -> None:
    sweep = results.get("sweep")
    o = results["meta"]["options"]
    w("## Sweep: where the pipeline stops keeping up\n")
    if not sweep:
        w("Not run (`--sweep`).\n")
        return
    w(
        f"After the main steps, steps of {o['sweep_seconds']:.0f} s at rising rates "
        f"(planned: {', '.join(f'{r:.0f}/s' for r in sweep['planned']) or 'none'}), "
        "each with fresh services, its drain and a wait for a quiet pipeline before the next, until one does not keep up: the lag not flat "
        f"(last third's p50 > {FLAT_FACTOR}× the first's), bookings not visible everywhere by the end of the drain, or CreateBooking errors. "
        "The knee is the highest rate kept up with below the first that was not; the main steps count too.\n"
    )
    if sweep.get("skipped_behind") is not None:
        w(f"No sweep step was run: the pipeline did not keep up at {sweep['skipped_behind']:.0f}/s already, so no higher rate can move the knee.\n")
    w(f"**{_knee_text(sweep['knee'])}.**\n")
    w(
        "| step | achieved/s | CreateBooking p50 / p99 ms | lag p50 | lag p99 | p50 by third | drain | keeps up | "
        + " | ".join(f"CPU % {g}" for g in CPU_GROUPS)
        + " |"
    )
    w("|---|---|---|---|---|---|---|---|" + "---|" * len(CPU_GROUPS))
    for f in [*a["steps"], *a["sweep"]]:
        every = f.lags["every"][1]
        w(
            f"| {f.label} | {f.create.achieved_rps:.1f} | {_cb(f)} | {_s(every.p50_ms)} | {_s(every.p99_ms)} | {_thirds(f.lag_by_third_ms['every'])} | "
            f"{_drain_cell(f)} | {'yes' if not f.behind else '**no**: ' + '; '.join(f.behind)} | "
            + " | ".join(_n(f.cpu_load.get(g, math.nan)) for g in CPU_GROUPS)
            + " |"
        )
    w("")


def _race_section(w: Any, results: dict[str, Any]) -> None:
    race = results.get("race")
    w("## The last-spot race\n")
    if not race:
        w("Not run in this run.\n")
        return
    w(
        f"A CLASS of capacity 1, one fresh session per round, {race['rounds']} rounds per mode; each round {race['bookings']} CreateBooking of 1 "
        "participant are sent at once, winners counted and the losers' refusals noted (code/ErrorInfo reason); once timeframes counts the winners "
        "(GetEvent's participants_total) and the pipeline is quiet, the session's raw `remaining_capacity` (negative when overbooked). The "
        "service's `strict_capacity` off, then on. *Not settled*: timeframes did not count the winners, or the pipeline was not quiet, within "
        f"{results['meta']['options']['idle_timeout']:.0f} s each.\n"
    )
    w(
        "| mode | rounds | winners min / median / max | winners: rounds | rounds with exactly 1 winner | lowest remaining capacity "
        "| losers' refusals | rounds not settled |"
    )
    w("|---|---|---|---|---|---|---|---|")
    for mode, label in (("plain", "`strict_capacity` off"), ("strict", "`strict_capacity` on")):
        data = race.get(mode)
        if data is None:
            w(f"| {label} | not available in this build: bookings.catalog.v1.Service has no `strict_capacity` field | | | | | | |")
            continue
        t: RaceTally = data["tally"]
        dist = ", ".join(f"{k}: {v}" for k, v in t.distribution.items())
        refusals = ", ".join(f"{k} {v}" for k, v in t.refusals.items()) or "none"
        w(
            f"| {label} | {t.rounds} | {t.winners_min} / {t.winners_median:g} / {t.winners_max} | {dist} | {t.exactly_one} | {_n(t.lowest_remaining)} | "
            f"{refusals} | {data['unsettled_rounds']} |"
        )
    w("")


def _strict_cost_section(w: Any, results: dict[str, Any]) -> None:
    cost = results.get("strict_cost")
    w("## What strict capacity costs CreateBooking\n")
    if not cost:
        w("Not run in this run.\n")
        return
    if "skipped" in cost:
        w(f"Skipped: {cost['skipped']}.\n")
        return
    w(
        f"A strict and a plain CLASS of the same shape (10 sessions, capacity far above the bookings); rounds of {cost['seconds']:.0f} s at "
        f"{cost['rate']:.0f} CreateBooking/s (open loop, 2 s warm-up) on each, the order swapped every round. "
        "Paired ratio = strict / plain of the same round.\n"
    )
    w("| round | plain p50 / p99 ms | strict p50 / p99 ms | p50 ratio | p99 ratio | errors plain / strict |")
    w("|---|---|---|---|---|---|")
    for i, (p, s) in enumerate(zip(cost["steps"]["plain"], cost["steps"]["strict"], strict=True)):
        w(
            f"| {i + 1} | {fmt_ms(p.p50_ms)} / {fmt_ms(p.p99_ms)} | {fmt_ms(s.p50_ms)} / {fmt_ms(s.p99_ms)} | {cost['p50_ratios'][i]:.2f} | "
            f"{cost['p99_ratios'][i]:.2f} | {p.errors} / {s.errors} |"
        )
    mp, m99 = cost["median_p50_ms"], cost["median_p99_ms"]
    w(
        f"\nMedian over the rounds: plain p50 {fmt_ms(mp['plain'])} ms, p99 {fmt_ms(m99['plain'])} ms; strict p50 {fmt_ms(mp['strict'])} ms, "
        f"p99 {fmt_ms(m99['strict'])} ms; median paired ratio p50 {cost['median_p50_ratio']:.2f}, p99 {cost['median_p99_ratio']:.2f}.\n"
    )


# --- interpretation (from the figures only) ----------------------------------------------------------------


def interpretation(results: dict[str, Any], a: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    foreign = [(f.label, r["cpu"]["load"]["foreign_cpu_pct"]) for f, r in zip(a["steps"], results.get("steps") or [], strict=True)]
    noisy = [f"{label} ({pct:.0f} %)" for label, pct in foreign if pct > 25]
    if noisy:
        lines.append(
            "- ⚠ **Shared machine**: processes outside the benchmark used more than a quarter of a core during " + ", ".join(noisy) + "; those latencies "
            "are worse than this code on a machine of its own. Re-run when the machine is idle."
        )
    idle = results.get("idle")
    if idle:
        for kind, st in idle["stats"].items():
            c, an = st.commit_to_visible, st.answer_to_visible
            if not c.seen:
                lines.append(f"- **Idle {kind} bookings** were not seen in availability within {results['meta']['options']['idle_timeout']:.0f} s.")
                continue
            share = an.p50_ms / c.p50_ms if c.p50_ms > 0 else math.nan
            lines.append(
                f"- **An idle {kind} booking** shows after p50 {_s(c.p50_ms)} from its commit ({_s(an.p50_ms)} after CreateBooking answered, "
                f"{share:.0%} of it), target {IDLE_P50_MS:.0f} ms; the polls that saw it took {fmt_ms(st.poll_p50_ms)} ms (p50), the resolution."
            )
    history = results.get("history")
    control = (history or {}).get("control")
    if history and control is not None and history["stats"].commit_to_visible.seen and control.commit_to_visible.seen:
        h: History = history["history"]
        st = history["stats"]
        lines.append(
            f"- **History**: with {h.stored} participations on a {h.sessions}-session course, one more booking is settled in timeframes after "
            f"p50 {_s(st.commit_to_settled.p50_ms)} ({_ratio(st.commit_to_settled.p50_ms, control.commit_to_settled.p50_ms)}× the same course "
            f"without participations) and shows on all sessions after p50 {_s(st.commit_to_visible.p50_ms)} "
            f"({_ratio(st.commit_to_visible.p50_ms, control.commit_to_visible.p50_ms)}×); the {_s(st.commit_to_visible.p50_ms - st.commit_to_settled.p50_ms)} "
            f"between settled and visible is availability's read of {h.sessions} sessions."
        )
    for f, record in zip(a["steps"], results.get("steps") or [], strict=True):
        lines.extend(_step_interpretation(f, record))
    found: Knee | None = a["knee"]
    if found is not None:
        lines.append(f"- **Sweep**: {_knee_text(found)}; the issue's longer-term goal is {GOAL_RATE:.0f} bookings/s.")
    race = results.get("race")
    if race:
        for mode, label in (("plain", "without strict capacity"), ("strict", "with strict capacity")):
            data = race.get(mode)
            if data is None:
                continue
            t: RaceTally = data["tally"]
            lines.append(
                f"- **Last spot, {label}**: {t.winners_min}–{t.winners_max} winners per round (median {t.winners_median:g}) of {race['bookings']} racing "
                f"for 1 spot; {t.exactly_one}/{t.rounds} rounds had exactly one; the lowest remaining capacity was {_n(t.lowest_remaining)}"
                + (" (overbooked)." if (t.lowest_remaining or 0) < 0 else ".")
            )
    return lines


def _step_interpretation(f: StepFigures, record: dict[str, Any]) -> list[str]:
    lines = []
    c = f.create
    every = f.lags["every"][1]
    verdict = "keeps up" if not f.behind else "does not keep up (" + "; ".join(f.behind) + ")"
    lines.append(
        f"- **At {f.rate:.0f} bookings/s** the pipeline {verdict}: CreateBooking p50 {fmt_ms(c.p50_ms)} / p99 {fmt_ms(c.p99_ms)} ms, lag p50 "
        f"{_s(every.p50_ms)} / p99 {_s(every.p99_ms)}, by third {_thirds(f.lag_by_third_ms['every'])}, drain {_drain_cell(f)}."
    )
    peaks, tp = consumer_peaks(record), throughput(record)
    lagging = sorted(((v["max"], k) for k, v in peaks["consumer_lag_by_topic"].items() if not math.isnan(v["max"])), reverse=True)
    if lagging and lagging[0][0] > 0:
        top, key = lagging[0]
        group, topic = key.split(" ", 1)
        rates = tp.get(key, {})
        lines.append(
            f"  The largest consumer lag was `{group}` on {topic}: up to {top:.0f} messages; {_rate(rates.get('in_per_s_load', math.nan))} arrived "
            f"and {_rate(rates.get('committed_per_s_load', math.nan))} were committed per second during the load."
        )
    ob = peaks["outbox"]
    oldest = max((v["max_oldest_age_s"] for v in ob.values() if not math.isnan(v["max_oldest_age_s"])), default=math.nan)
    if not math.isnan(oldest):
        lines.append(
            f"  Outboxes: the oldest unpublished row was at most {oldest:.2f} s old"
            + (" — the relays kept up; what lag there was built up after Kafka." if oldest < 1.0 else " — publishing itself fell behind.")
        )
    load = record["cpu"]["load"]
    busiest = sorted(load["cpu_pct"].items(), key=lambda kv: -kv[1])[:3]
    top_cpu = max(load["cpu_pct"].values(), default=0)
    lines.append(
        "  CPU during the load (% of one core): "
        + ", ".join(f"{k} {v:.0f}" for k, v in busiest)
        + f"; the machine was {load['machine_busy_pct']:.0f} % busy. "
        + (
            "No process near a full core and the cores not saturated: what limits the lag here is waiting, not CPU."
            if top_cpu < 80 and load["machine_busy_pct"] < 90
            else "The cores were saturated: every queue waited for CPU too, so part of each lag is the machine's."
            if top_cpu < 80
            else "A process near 100 % of a core is saturated (a Python process has one core's worth): queues and lags grow from there."
        )
    )
    return lines


CAVEATS = [
    "Resolution: a single booking is seen at most one poll after it became visible (the poll latency is in the idle tables); under load, one watcher "
    "period plus one call (the watcher tables).",
    "The watchers are load too: two availability reads every period under load, one back-to-back read when idle.",
    "Under load, attribution is by count: with several bookings of one session committing within milliseconds, the k-th by `created_date` may not be "
    "the k-th committed, so single lags can be off by the spacing of those commits (negative lags, if any, are counted); "
    "percentiles are not affected materially.",
    "`created_date` is the inserting transaction's start (Postgres `now()`), a few ms before its commit: lags are slightly overestimated, never under.",
    "Everything shares one machine (services, Postgres, Redis, Kafka, the generator and the watchers); the bench waits for other processes to be quiet "
    "before each phase and records what they used.",
]


# --- plot, JSON, summary ---------------------------------------------------------------------------------------


def plot(results: dict[str, Any], a: dict[str, Any], path: Path) -> bool:
    records = results.get("steps") or []
    singles = [*(results.get("idle") or {}).get("sightings", []), *(results.get("history") or {}).get("sightings", [])]
    if not records and not singles:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cols = max(1, len(records))
    fig = plt.figure(figsize=(7 * cols, 11), dpi=100)
    grid = fig.add_gridspec(3, cols, height_ratios=[3, 3, 2])
    for i, (record, f) in enumerate(zip(records, a["steps"], strict=True)):
        ax1 = fig.add_subplot(grid[0, i])
        ax2 = fig.add_subplot(grid[1, i], sharex=ax1)
        _plot_lags(ax1, record, f)
        _plot_backlogs(ax2, record)
    ax3 = fig.add_subplot(grid[2, :])
    _plot_singles(ax3, singles)
    m = results["meta"]["machine"]
    fig.suptitle(f"Booking pipeline — {m['nproc']} CPUs, commit {m['commit']}, {results['meta']['date'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _plot_lags(ax: Any, record: dict[str, Any], f: StepFigures) -> None:
    t0, load_end = record["t0"], record["load_end"]
    rows: list[Committed] = record["rows"]
    n = len(record["offerings"]["course"].event_ids)
    for label, points, colour in (
        ("class → its session", [(r.created - t0, r.lag_all_ms) for r in rows if r.kind == "class"], "tab:green"),
        ("course → first session", [(r.created - t0, r.lag_first_ms) for r in rows if r.kind == "course"], "tab:orange"),
        (f"course → all {n} sessions", [(r.created - t0, r.lag_all_ms) for r in rows if r.kind == "course"], "tab:red"),
    ):
        xs = [x for x, y in points if not math.isnan(y) and y > 0]
        ys = [y for x, y in points if not math.isnan(y) and y > 0]
        if xs:
            ax.scatter(xs, ys, label=label, alpha=0.6, s=6, c=colour)
        unseen = [x for x, y in points if math.isnan(y)]
        if unseen:
            ax.scatter(unseen, [max(ys, default=1000.0) * 1.3] * len(unseen), marker="x", c=colour, s=12, label=f"{label}: not visible by the end")
    answered = [(s.answered - t0, (s.answered - s.sent) * 1000) for s in record["sent"] if s.booking_id]
    if answered:
        ax.scatter([x for x, _ in answered], [y for _, y in answered], s=3, c="tab:gray", alpha=0.4, label="CreateBooking latency")
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title(f"{f.label}: lag of each booking (commit → visible), by commit time", fontsize=10)
    ax.axvline(load_end - t0, color="k", ls="--", lw=1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best", framealpha=0.6)


def _plot_backlogs(ax: Any, record: dict[str, Any]) -> None:
    t0, load_end = record["t0"], record["load_end"]
    samples = record["samples"]
    ts = [s["t"] - t0 for s in samples]
    for key in sorted({k for smp in samples for k in smp.get("consumer_lag_by_topic", {})}):
        ax.plot(ts, [smp.get("consumer_lag_by_topic", {}).get(key, math.nan) for smp in samples], "-", label=f"consumer lag {key.replace(' ', ' ← ')}")
    for schema in SCHEMAS:
        ax.plot(ts, [s["outbox"][schema]["backlog"] if s["outbox"].get(schema) else math.nan for s in samples], ":", label=f"outbox backlog {schema}")
    ax.plot(ts, unsettled_at_samples(record), "k-", lw=2, label="bookings committed, not yet visible everywhere")
    ax.axvline(load_end - t0, color="k", ls="--", lw=1)
    if not math.isnan(record["quiet_after_load_s"]):
        ax.axvline(load_end + record["quiet_after_load_s"] - t0, color="tab:blue", ls=":", lw=1, label="drained")
    ax.set_xlabel("seconds since the load started (dashed: load ends; dotted: drained)")
    ax.set_ylabel("messages / rows / bookings")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, loc="best", framealpha=0.6)


def _plot_singles(ax: Any, singles: list[Sighting]) -> None:
    kinds = [k for k in ("class", "course", "history", "control") if any(s.kind == k for s in singles)]
    colours = {"class": "tab:green", "course": "tab:red", "history": "tab:purple", "control": "tab:gray"}
    for i, kind in enumerate(kinds):
        seen = [s for s in singles if s.kind == kind and not s.error and not math.isnan(s.visible)]
        jitter = [(j % 7 - 3) * 0.03 for j in range(len(seen))]
        ax.scatter([i - 0.1 + d for d in jitter], [s.commit_to_visible_ms for s in seen], s=14, c=colours[kind], alpha=0.7, label=f"{kind}: commit → visible")
        ax.scatter(
            [i + 0.2 + d for d in jitter],
            [s.answer_to_visible_ms for s in seen],
            s=10,
            marker="^",
            c=colours[kind],
            alpha=0.4,
            label=f"{kind}: answer → visible",
        )
    ax.axhline(IDLE_P50_MS, color="tab:green", ls="--", lw=1)
    ax.text(-0.45, IDLE_P50_MS * 1.05, f"target p50 {IDLE_P50_MS:.0f} ms", color="tab:green", fontsize=8)
    ax.set_xticks(range(len(kinds)), [{"history": "history course", "control": "control course"}.get(k, f"idle {k}") for k in kinds])
    ax.set_xlim(-0.5, len(kinds) - 0.5 + 0.8)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title("single bookings on a quiet platform", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def _step_json(record: dict[str, Any], f: StepFigures) -> dict[str, Any]:
    t0 = record["t0"]
    sessions = {e: i for i, e in enumerate(record["offerings"]["class"].event_ids)}
    keep = ("plan", "settled_before", "quiet", "t0", "load_end", "drained", "caught_up", "quiet_after_load_s", "drain_probe_ms_p50", "step")
    doc = {k: record[k] for k in keep}
    doc |= {k: record[k] for k in ("watchers", "cpu", "windows", "sampler_errors", "samples")}
    doc["offerings"] = {k: {"service_id": o.service_id, "sessions": len(o.event_ids), "capacity": o.capacity} for k, o in record["offerings"].items()}
    doc["figures"] = f
    doc["consumer_peaks"] = consumer_peaks(record)
    doc["throughput"] = throughput(record)
    # Every booking, one row each (times in s from the start of the load, wall clock; null: not seen).
    doc["bookings"] = {
        "columns": ["kind", "class_session", "measured", "created_s", "answered_s", "visible_first_s", "visible_all_s"],
        "rows": [
            [r.kind, sessions.get(r.event_id, -1), r.measured, *(round(v - t0, 3) for v in (r.created, r.answered, r.visible_first, r.visible_all))]
            for r in sorted(record["rows"], key=lambda r: r.created)
        ],
    }
    doc["failed_requests"] = [asdict(s) for s in record["sent"] if s.error]
    return doc


def _sightings_json(sightings: list[Sighting]) -> dict[str, Any]:
    return {
        "columns": [
            "kind",
            "error",
            "started_quiet",
            "create_ms",
            "commit_to_settled_ms",
            "commit_to_visible_ms",
            "answer_to_visible_ms",
            "polls",
            "poll_p50_ms",
        ],
        "rows": [
            [
                s.kind,
                s.error,
                s.started_quiet,
                s.create_ms,
                s.commit_to_settled_ms,
                s.commit_to_visible_ms,
                s.answer_to_visible_ms,
                s.polls,
                sorted(s.poll_ms)[len(s.poll_ms) // 2] if s.poll_ms else math.nan,
            ]
            for s in sightings
        ],
    }


def document(results: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {k: results[k] for k in ("meta", "tenant", "pipeline_check_ms", "failures")}
    doc["targets"] = [{"target": t, "measured": m, "met": met} for t, m, met in targets(results, a)]
    if results.get("idle"):
        idle = results["idle"]
        doc["idle"] = {k: v for k, v in idle.items() if k != "sightings"} | {"sightings": _sightings_json(idle["sightings"])}
    if results.get("history"):
        doc["history"] = {k: v for k, v in results["history"].items() if k != "sightings"} | {"sightings": _sightings_json(results["history"]["sightings"])}
    doc["steps"] = [_step_json(r, f) for r, f in zip(results.get("steps") or [], a["steps"], strict=True)]
    if results.get("sweep"):
        sweep = results["sweep"]
        doc["sweep"] = {
            "planned": sweep["planned"],
            "skipped_behind": sweep.get("skipped_behind"),
            "knee": sweep["knee"],
            "steps": [_step_json(r, f) for r, f in zip(sweep["records"], a["sweep"], strict=True)],
        }
    for key in ("race", "strict_cost"):
        if results.get(key):
            doc[key] = results[key]
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """Indented JSON, but every table row (a list of scalars under "rows") on one line."""
    rows: list[str] = []

    def compact(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (_placeholder(v) if k == "rows" and isinstance(v, list) else compact(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [compact(v) for v in value]
        return value

    def _placeholder(table: list[Any]) -> str:
        rows.append("[\n  " + ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in table) + "\n ]" if table else "[]")
        return f"__ROWS_{len(rows) - 1}__"

    text = json.dumps(compact(jsonable(doc)), indent=1)
    for i, table in enumerate(rows):
        text = text.replace(f'"__ROWS_{i}__"', table)
    return text + "\n"


def write(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    a = analysis(results)
    paths = []
    png = out / "pipeline.png"
    drawn = plot(results, a, png)
    if drawn:
        paths.append(png)
    md = out / "pipeline.md"
    md.write_text(markdown(results, a, png.name if drawn else None))
    paths.append(md)
    raw = out / "pipeline.json"
    raw.write_text(dumps(document(results, a)))
    paths.append(raw)
    return paths


def summary(results: dict[str, Any]) -> str:
    a = analysis(results)
    lines = [""]
    for what, measured, met in targets(results, a):
        lines.append(f"  [{'met' if met else 'NOT met' if met is False else 'n/a'}] {what}: {measured}")
    for name, error in results.get("failures", {}).items():
        lines.append(f"  phase failed: {name}: {error}")
    return "\n".join(lines)
