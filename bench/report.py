"""The benchmark's report: markdown with the tables, ratios and verdicts, raw JSON, and a
latency-vs-rate plot."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.loadgen import StepResult, sustained
from bench.profiling import Profile
from bench.trace_timeline import Segment

CPU_COLUMNS = ("availability", "timeframes", "bookings", "postgres", "redis", "kafka", "participations", "generator")


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data: dataclasses as dicts, NaN as null, floats to 3 decimals, paths as text."""
    if isinstance(value, Profile):
        return {**jsonable(dataclasses.asdict(value)), "active_pct": round(value.active_pct, 1)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, Path):
        return str(value)
    return value


def fmt_ms(value: float) -> str:
    """Milliseconds for a table: 1 decimal from 10 ms, 2 below, a dash when not measured."""
    return "–" if value is None or math.isnan(value) else (f"{value:.1f}" if value >= 10 else f"{value:.2f}")


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of the issue's four targets."""
    t = results["meta"]["targets"]
    sweep: list[StepResult] = results.get("sweep", [])
    out: list[tuple[str, str, bool | None]] = []
    at_200 = next((s for s in sweep if s.rate == 200), None)
    if at_200 is None:
        out.append((f"p99 ≤ {t['p99_at_200_ms']:.0f} ms at 200 requests/s", "not measured", None))
    else:
        met = at_200.p99_ms <= t["p99_at_200_ms"] and at_200.errors == 0
        out.append((f"p99 ≤ {t['p99_at_200_ms']:.0f} ms at 200 requests/s", f"p99 {fmt_ms(at_200.p99_ms)} ms, {at_200.errors} errors" + _warn(at_200), met))
    best = max((s.rate for s in sweep if sustained(s, t["sustained_p99_ms"])), default=0.0)
    failed_below = any(s.rate <= t["sustained_rps"] and not sustained(s, t["sustained_p99_ms"]) for s in sweep)
    tried_enough = best >= t["sustained_rps"] or failed_below
    above = _above(sweep, best)
    out.append(
        (
            f"≥ {t['sustained_rps']} requests/s sustained with p99 ≤ {t['sustained_p99_ms']:.0f} ms",
            (f"highest sustained {best:.0f} requests/s" + (f" ({above})" if above else "") + _warn(*[s for s in sweep if s.rate > best][:1]))
            if sweep
            else "not measured",
            best >= t["sustained_rps"] if tried_enough else None,
        )
    )
    fan = results.get("fanout", {})
    if "parallel" in fan:
        ratio = fan["parallel"].p50_ms / fan["delay_ms"]
        rounds = fan.get("parallel_rounds", [])
        spread = f", median of {len(rounds)} rounds: " + ", ".join(f"{s.p50_ms / fan['delay_ms']:.2f}" for s in rounds) if len(rounds) > 1 else ""
        out.append(
            (
                f"fan-out ratio ≤ {t['fanout_ratio']}",
                f"{ratio:.2f}{spread} (old sequential flow: {fan['sequential'].p50_ms / fan['delay_ms']:.2f})"
                + _warn(*rounds, fan["parallel"], fan["sequential"]),
                ratio <= t["fanout_ratio"],
            )
        )
    low = results.get("low_rate", {})
    if "floor" in low:
        ratio = low["availability"].p50_ms / low["floor"].p50_ms
        measured = f"{ratio:.2f}×" + _warn(low["availability"], low["floor"])
        out.append((f"p50 within {t['floor_ratio']:.0f}× of the bare fan-out floor", measured, ratio <= t["floor_ratio"]))
    return out


def _mark(met: bool | None) -> str:
    return "**met**" if met else ("not measured" if met is None else "**missed**")


def summary(results: dict[str, Any]) -> str:
    lines = ["", "Targets:"]
    for target, measured, met in verdicts(results):
        lines.append(f"  {'MET   ' if met else ('n/a   ' if met is None else 'MISSED')} {target}: {measured}")
    return "\n".join(lines)


def _step_row(s: StepResult, sustained_limit: float) -> str:
    cpu = " | ".join(f"{max(s.cpu_pct[c], 0.0):.0f}" if c in s.cpu_pct else "–" for c in CPU_COLUMNS)
    ok = "yes" if sustained(s, sustained_limit) else "no"
    errors = f"{s.errors}" + (f" ({', '.join(f'{k} {v}' for k, v in s.error_codes.items())})" if s.errors else "")
    return (
        f"| {s.rate:.0f} | {s.achieved_rps:.1f} | {s.ok} | {errors} | {fmt_ms(s.p50_ms)} | {fmt_ms(s.p95_ms)} | {fmt_ms(s.p99_ms)} | {fmt_ms(s.max_ms)} "
        f"| {fmt_ms(s.send_lag_p99_ms)} | {ok} | {cpu} | {s.machine_busy_pct:.0f} | {_foreign(s)} |"
    )


FOREIGN_FLAG_PCT = 25.0


def _foreign(s: StepResult) -> str:
    if math.isnan(s.foreign_cpu_pct):
        return "–"
    return f"**{s.foreign_cpu_pct:.0f}** ⚠" if s.foreign_cpu_pct > FOREIGN_FLAG_PCT else f"{s.foreign_cpu_pct:.0f}"


def _warn(*steps: StepResult) -> str:
    noisy = [s for s in steps if _flagged(s)]
    return f" ⚠ shared machine (other processes up to {max(s.foreign_cpu_pct for s in noisy):.0f} % of a core)" if noisy else ""


def _flagged(s: StepResult) -> bool:
    return not math.isnan(s.foreign_cpu_pct) and s.foreign_cpu_pct > FOREIGN_FLAG_PCT


def _all_steps(results: dict[str, Any]) -> list[StepResult]:
    steps: list[StepResult] = list(results.get("sweep", []))
    steps += [v for v in results.get("low_rate", {}).values() if isinstance(v, StepResult)]
    for v in results.get("fanout", {}).values():
        steps += [v] if isinstance(v, StepResult) else [s for s in v if isinstance(s, StepResult)] if isinstance(v, list) else []
    for profiled in (results.get("profile"), results.get("fanout", {}).get("profile")):
        if profiled:
            steps.append(profiled["step"])
    return steps


def _profiles(w: Callable[[str], None], profiles: list[Profile], step: StepResult) -> None:
    """Each process's py-spy summary, ms per request from the step's achieved rate."""
    for p in profiles:
        w(f"### {p.name} (pid {p.pid})\n")
        if p.error:
            w(f"Not profiled: {p.error}\n")
            continue
        w(f"{p.samples} samples = a thread held the GIL {p.active_pct:.0f} % of the time sampled.\n")
        w("What the samples were spent on (each sample counted once, by the innermost frame that says; bench/profiling.py `CONCERNS`):\n")
        w("| concern | % of samples | ≈ ms CPU per request |")
        w("|---|---|---|")
        per_request = p.active_pct / 100 * 1000 / step.achieved_rps if step.achieved_rps else math.nan
        for name, count in p.concerns:
            w(f"| {name} | {100 * count / p.samples:.1f} | {per_request * count / p.samples:.2f} |")
        w("")
        w("Self time by package (where the interpreter was when sampled):\n")
        w("| package / module | % of samples |")
        w("|---|---|")
        for name, count in p.packages[:12]:
            w(f"| `{name}` | {100 * count / p.samples:.1f} |")
        w("\nTop functions by self time:\n")
        w("| function | % self |")
        w("|---|---|")
        for name, count in p.self_top[:15]:
            w(f"| `{name}` | {100 * count / p.samples:.1f} |")
        w("\nTop functions by inclusive time (on the stack):\n")
        w("| function | % inclusive |")
        w("|---|---|")
        for name, count in p.inclusive_top[:15]:
            w(f"| `{name}` | {100 * count / p.samples:.1f} |")
        w("")


def _above(sweep: list[StepResult], best: float) -> str:
    """Said when the highest sustained rate is also the highest tried (the sweep stopped at
    --max-rate): the capacity is above it, not at it."""
    return "the highest rate tried: the capacity lies above it" if sweep and best > 0 and best >= max(s.rate for s in sweep) else ""


def _interpretation(results: dict[str, Any]) -> list[str]:
    t = results["meta"]["targets"]
    sweep: list[StepResult] = results.get("sweep", [])
    lines = []
    for target, measured, met in verdicts(results):
        lines.append(f"- {target}: {measured} → {_mark(met)}.")
    first_bad = next((s for s in sweep if not sustained(s, t["sustained_p99_ms"])), None)
    if first_bad is not None and first_bad.cpu_pct:
        busiest = sorted(((v, k) for k, v in first_bad.cpu_pct.items()), reverse=True)[:3]
        who = ", ".join(f"{k} {v:.0f} %" for v, k in busiest)
        line = (
            f"- The first rate not sustained is {first_bad.rate:.0f}/s (achieved {first_bad.achieved_rps:.0f}/s, p99 {fmt_ms(first_bad.p99_ms)} ms). "
            f"CPU there (% of one core): {who}; the machine was {first_bad.machine_busy_pct:.0f} % busy over its "
            f"{results['meta']['machine']['nproc']} cores"
        )
        if _flagged(first_bad):
            line += f", and other processes used {first_bad.foreign_cpu_pct:.0f} % of a core: the step shared the machine, so the limit may lie higher."
        elif busiest[0][0] >= 85:
            line += (
                f": {busiest[0][1]}, one single-threaded Python process, is near the one core it can use while the machine as a whole is "
                f"{first_bad.machine_busy_pct:.0f} % busy — that process is the limit."
            )
        elif first_bad.machine_busy_pct >= 90:
            line += ": the machine is at its limit."
        else:
            line += "."
        lines.append(line)
    floors = {v.rate: v for k, v in results.get("low_rate", {}).items() if k.startswith("floor_")}
    top = floors.get(float(t["sustained_rps"]))
    if top is not None:
        fine = sustained(top, t["sustained_p99_ms"])
        if fine:
            verdict = "it keeps up, so the platform's own work, not gRPC, is what stands between it and the target."
        elif _flagged(top):
            verdict = (
                f"it did not keep up, but other processes used {top.foreign_cpu_pct:.0f} % of a core during that step; "
                "on an idle machine it usually does, with little room to spare."
            )
        else:
            verdict = "even four no-op calls per request do not keep up here: the target is beyond what Python grpc.aio does on this machine."
        floor_cpu = sum(_cpu_per_request(top).values()) if top.cpu_pct else math.nan
        lines.append(
            f"- The bare floor itself at {top.rate:.0f}/s: achieved {top.achieved_rps:.0f}/s, p99 {fmt_ms(top.p99_ms)} ms, "
            f"{floor_cpu:.1f} ms of CPU per request (generator included) — {verdict}"
        )
    gen = [s.cpu_pct.get("generator", math.nan) for s in sweep if s.cpu_pct]
    if gen:
        lines.append(
            f"- The load generator shares the machine: it used {min(gen):.0f}–{max(gen):.0f} % of one core across the steps "
            "(counted in the machine's busy %, not in the services'). Send lag p99 shows whether it kept its schedule."
        )
    return lines


def _cpu_per_request(step: StepResult) -> dict[str, float]:
    """ms of CPU per answered request, per process group."""
    rate = step.achieved_rps or step.rate
    return {k: max(v, 0.0) / 100 * 1000 / rate for k, v in step.cpu_pct.items() if rate > 0}


def _cpu_budget(results: dict[str, Any], w: Any) -> None:
    t = results["meta"]["targets"]
    nproc = results["meta"]["machine"]["nproc"] or 1
    sweep: list[StepResult] = results.get("sweep", [])
    ok = [s for s in sweep if sustained(s, t["sustained_p99_ms"]) and s.cpu_pct]
    floor = results.get("low_rate", {}).get("floor_200")
    if not ok or floor is None or not floor.cpu_pct:
        return
    ours = max(ok, key=lambda s: s.rate)
    mine, base = _cpu_per_request(ours), _cpu_per_request(floor)
    budget = nproc * 1000 / t["sustained_rps"]
    w("## CPU per request\n")
    w(
        f"The machine has {nproc} cores: at {t['sustained_rps']} requests/s everything together (services, Postgres, Redis, the generator) "
        f"may use at most **{budget:.1f} ms of CPU per request**, and any one single-threaded process at most {1000 / t['sustained_rps']:.1f} ms "
        "(and less to keep queues, so p99, short). Measured (ms of CPU per answered request, from the CPU columns above):\n"
    )
    w(f"| process | ListCourseEventTimeSlots at {ours.rate:.0f}/s | floor at {floor.rate:.0f}/s |")
    w("|---|---|---|")
    names = [k for k in ("availability", "timeframes", "bookings", "postgres", "redis", "kafka", "participations") if k in mine]
    for k in names:
        w(f"| {k} | {mine[k]:.2f} | |")
    for k in ("floor-front", "floor-backend"):
        if k in base:
            w(f"| {k} | | {base[k]:.2f} |")
    w(f"| generator (bench process) | {mine.get('generator', math.nan):.2f} | {base.get('generator', math.nan):.2f} |")
    w(f"| **total** | **{sum(mine.values()):.2f}** | **{sum(base.values()):.2f}** |")
    w("")


def markdown(results: dict[str, Any], png_name: str) -> str:
    meta = results["meta"]
    m = meta["machine"]
    t = meta["targets"]
    o = meta["options"]
    setup = results.get("setup", {})
    out: list[str] = []
    w = out.append
    w("# ListCourseEventTimeSlots benchmark\n")
    w("Generated by bench/availability.py (`make bench-availability`; method and findings in bench/README.md). Do not edit: re-run it.\n")
    w(f"- **Date**: {meta['date']} (UTC); run took {meta['duration_s']:.0f} s (platform start {meta['platform_start_s']:.0f} s)")
    w(
        f"- **Machine**: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}; Python {m['python']}, grpcio {m['grpcio']}, "
        f"event loop {m.get('event_loop', '?')} (services and bench); commit `{m['commit']}`"
    )
    if m.get("uncommitted_service_changes"):
        w(f"- **Code measured**: commit `{m['commit']}` plus uncommitted changes in " + ", ".join(f"`{f}`" for f in m["uncommitted_service_changes"]))
    w(f"- **Command**: `{meta['command']}`" + (f" (arguments: `{' '.join(meta['argv'])}`)" if meta["argv"] else ""))
    w(
        f"- **Workload**: one COURSE with {setup.get('sessions')} sessions over {setup.get('days')} days, "
        f"ListCourseEventTimeSlots for a {setup.get('days')}-day window ({setup.get('slots_returned')} slots, "
        f"{setup.get('response_bytes')} bytes per response), the whole platform running (services, Postgres, "
        "Redis, Kafka) on this machine with the availability cache on (its default); open-loop load from one grpc.aio client in the bench process, "
        f"latency from each request's scheduled send time; {o['step_seconds']:.0f} s measured per rate after {o['warmup_seconds']:.0f} s of warm-up, "
        f"deadline {o['timeout']:.0f} s.\n"
    )

    w("## Targets\n")
    w("| target | measured | |")
    w("|---|---|---|")
    for target, measured, met in verdicts(results):
        w(f"| {target} | {measured} | {_mark(met)} |")
    w("")

    sweep: list[StepResult] = results.get("sweep", [])
    if sweep:
        w("## Latency vs offered rate\n")
        w(f"![latency vs rate]({png_name})\n")
        w(
            "Latency in ms from the scheduled send time. *Sustained* = achieved ≥ 98 % of offered, no errors, p99 ≤ "
            f"{t['sustained_p99_ms']:.0f} ms. CPU columns: % of one core over the step (warm-up included), per process group "
            "(postgres = postmaster + backends; generator = the bench process alone); machine = % of all cores busy; other processes = "
            "CPU used by processes the benchmark did not start (% of one core; ⚠ above 25: the step shared the machine).\n"
        )
        w(
            "| offered/s | achieved/s | ok | errors | p50 | p95 | p99 | max | send lag p99 | sustained | "
            + " | ".join(f"{c} CPU %" for c in CPU_COLUMNS)
            + " | machine busy % | other processes CPU % |"
        )
        w("|" + "---|" * (12 + len(CPU_COLUMNS)))
        for s in sweep:
            w(_step_row(s, t["sustained_p99_ms"]))
        best = max((s.rate for s in sweep if sustained(s, t["sustained_p99_ms"])), default=0.0)
        above = _above(sweep, best)
        w(f"\n**Highest sustained rate: {best:.0f} requests/s** (of the rates tried{'; ' + above if above else ''}).\n")

    fan = results.get("fanout")
    if fan:
        d = fan["delay_ms"]
        w("## Fan-out ratio\n")
        w(
            f"Each dependency address (services, policies, events, time frames) points at its own TCP proxy that holds every "
            f"server→client chunk, so each RPC through it takes +{d:.0f} ms, as if the dependency answered {d:.0f} ms later. The proxy "
            f"by itself adds a little more (a hop each way, its timer firing late), so it is calibrated first: each round measures what "
            f"every route adds while holding {d:.0f} ms, and each route then holds {d:.0f} ms minus its mean excess. Measured with one "
            "read of each dependency, sequential calls direct and through the proxy (p50):\n"
        )
        rounds = fan.get("proxy_calibration", [])
        header = "".join(f" round {i + 1}: added ms holding {d:.0f} |" for i in range(len(rounds)))
        w(f"| dependency |{header} held ms | direct p50 ms | through proxy p50 ms | added ms |")
        w("|---|" + "---|" * (len(rounds) + 5))
        for dep, c in fan["proxy_check"].items():
            before = "".join(f" {fmt_ms(r[dep])} |" for r in rounds)
            w(f"| {dep} |{before} {fmt_ms(c.get('hold_ms', d))} | {fmt_ms(c['direct_p50_ms'])} | {fmt_ms(c['proxied_p50_ms'])} | {fmt_ms(c['added_ms'])} |")
        w(
            f"\nMeasured at {o['low_rate']:.0f} requests/s open loop for {o['low_seconds']:.0f} s each. The availability instances here run with "
            "`AVAILABILITY_CACHE_ENABLED=false`, so all four reads happen on every request.\n"
        )
        w(f"| flow | dependencies | p50 ms | p95 ms | p99 ms | ratio = p50 / {d:.0f} ms | added by the delay / {d:.0f} ms |")
        w("|---|---|---|---|---|---|---|")
        for label, key, base in (
            ("availability, parallel fan-out", "parallel", "parallel_undelayed"),
            ("seed's old sequential client flow", "sequential", "sequential_undelayed"),
        ):
            s, b = fan[key], fan[base]
            ratio, added = s.p50_ms / d, (s.p50_ms - b.p50_ms) / d
            w(f"| {label} | +{d:.0f} ms each | {fmt_ms(s.p50_ms)} | {fmt_ms(s.p95_ms)} | {fmt_ms(s.p99_ms)} | **{ratio:.2f}** | {added:.2f} |")
            w(f"| {label} | direct | {fmt_ms(b.p50_ms)} | {fmt_ms(b.p95_ms)} | {fmt_ms(b.p99_ms)} | | |")
        if "parallel_warm" in fan:
            s, b = fan["parallel_warm"], fan["parallel_undelayed_warm"]
            ratio, added = s.p50_ms / d, (s.p50_ms - b.p50_ms) / d
            label = f"availability, parallel fan-out, at {s.rate:.0f}/s"
            w(f"| {label} | +{d:.0f} ms each | {fmt_ms(s.p50_ms)} | {fmt_ms(s.p95_ms)} | {fmt_ms(s.p99_ms)} | {ratio:.2f} | {added:.2f} |")
            w(f"| {label} | direct | {fmt_ms(b.p50_ms)} | {fmt_ms(b.p95_ms)} | {fmt_ms(b.p99_ms)} | | |")
        delayed_rounds, direct_rounds = fan.get("parallel_rounds", []), fan.get("parallel_undelayed_rounds", [])
        if len(delayed_rounds) > 1:
            w(
                f"\nThe parallel pair was measured in {len(delayed_rounds)} rounds, delayed then direct, one after the other; the rows above are "
                "the round with the median p50 (on this shared machine one window's p50 moves by a millisecond or two from the next one's):\n"
            )
            w(f"| round | +{d:.0f} ms each: p50 ms | ratio | direct: p50 ms | added by the delay / {d:.0f} ms |")
            w("|---|---|---|---|---|")
            for i, (s, b) in enumerate(zip(delayed_rounds, direct_rounds, strict=True), 1):
                w(f"| {i} | {fmt_ms(s.p50_ms)} | {s.p50_ms / d:.2f} | {fmt_ms(b.p50_ms)} | {(s.p50_ms - b.p50_ms) / d:.2f} |")
        idle = fan.get("idle_switches_per_s")
        if idle:
            columns = ("availability", "bookings", "timeframes", "postgres")
            w(
                "\nThread context switches per request (all threads of each process group, less the same processes' rate with no "
                "request, measured for 5 s before these rows): every one is a thread woken up, which an idle machine pays the most for.\n"
            )
            w("| flow | dependencies | " + " | ".join(columns) + " | total |")
            w("|---|---|" + "---|" * (len(columns) + 1))
            for key, instance in (("parallel_undelayed", "availability-nocache"), ("parallel", "availability-fanout")):
                st = fan[key]
                seconds = st.duration + st.warmup
                requests = max(st.rate * seconds, 1.0)
                groups = [instance if c == "availability" else c for c in columns]
                per = [(st.switches.get(g, 0) - idle.get(g, 0.0) * seconds) / requests for g in groups]
                dependencies = "direct" if key.endswith("undelayed") else f"+{d:.0f} ms each"
                w(f"| availability, parallel fan-out | {dependencies} | " + " | ".join(f"{v:.0f}" for v in per) + f" | {sum(per):.0f} |")
        w(
            "\nThe issue's ratio is p50 / 20 ms, so it includes the request's own processing time; the last column subtracts the same flow's "
            "p50 without the delay and so counts only how many dependency delays a request waits for in a row (1 = all in parallel, 3 = three in a row). "
            "The target is judged at the low rate; the row at a higher rate (if measured) shows the same fan-out once no process idles between "
            "requests (at a low rate every hop also pays an idle process's wake-up).\n"
        )

    trace = (fan or {}).get("trace")
    if trace:
        traced, untraced = trace["step"], fan["parallel_undelayed"]
        w("## Where an uncached request's time goes\n")
        w(
            f"{trace['requests']} uncached requests (cache off, dependencies direct) at {traced.rate:.0f}/s, each with a sampled trace of its own: "
            "every process exported its spans of them (and of nothing else), and `bench/trace_timeline.py` cut each request into the "
            f"gaps between span edges ({trace['complete']} traces complete). "
            + (
                f"Recording the spans costs these requests a little: p50 {fmt_ms(traced.p50_ms)} ms traced against "
                f"{fmt_ms(untraced.p50_ms)} ms untraced above. "
                if traced.p50_ms > untraced.p50_ms
                else f"The traced p50 ({fmt_ms(traced.p50_ms)} ms) came out below the untraced one above ({fmt_ms(untraced.p50_ms)} ms): what recording "
                "the spans costs is smaller than how much this machine's speed moves from one minute to the next. "
            )
            + "A call's way to a dependency ends where the dependency's handler starts (its server runtime and event loop included); the two "
            "calls of one service share its loop.\n"
        )
        w("| segment | requests | p10 ms | p50 ms | p90 ms |")
        w("|---|---|---|---|---|")
        for seg in trace["segments"]:
            w(f"| {seg.name} | {seg.count} | {fmt_ms(seg.p10_ms)} | {fmt_ms(seg.p50_ms)} | {fmt_ms(seg.p90_ms)} |")
        w("")

    uncached = (fan or {}).get("profile")
    if uncached:
        step = uncached["step"]
        w(f"## Where an uncached request's CPU goes, at {step.rate:.0f}/s (py-spy)\n")
        w(
            f"The cache-off instance again, dependencies direct, in a separate step at {step.rate:.0f}/s with `py-spy record --gil --nonblocking` "
            f"sampling {', '.join(p.name for p in uncached['profiles'])} at 100 Hz for {o['profile_seconds']:.0f} s: p50 {fmt_ms(step.p50_ms)} ms, "
            f"p99 {fmt_ms(step.p99_ms)} ms, achieved {step.achieved_rps:.0f}/s; CPU % of one core: "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(step.cpu_pct.items(), key=lambda kv: -kv[1]) if v >= 1)
            + ". py-spy sees the interpreter only (with `--gil`, the thread holding it): the ms per request below are less than each "
            "process's CPU per request, the rest being gRPC's C core and the kernel. Raw stacks are in `profile/uncached-*.collapsed.txt`.\n"
        )
        _profiles(w, uncached["profiles"], step)

    low = results.get("low_rate")
    if low and "floor" in low:
        a, f = low["availability"], low["floor"]
        w("## Distance to the floor\n")
        w(
            "The floor is a bare grpc.aio server whose one method fans out to four concurrent no-op unary calls on a second bare "
            "grpc.aio server (raw bytes, generic handlers, no auth, no interceptors, no logging), each in its own process like the services. "
            "Both p50s below come from the same generator at the same offered rate.\n"
        )
        w("| what | offered/s | p50 ms | p95 ms | p99 ms |")
        w("|---|---|---|---|---|")
        w(f"| ListCourseEventTimeSlots (cache on) | {a.rate:.0f} | {fmt_ms(a.p50_ms)} | {fmt_ms(a.p95_ms)} | {fmt_ms(a.p99_ms)} |")
        w(f"| floor: bare fan-out to 4 no-ops | {f.rate:.0f} | {fmt_ms(f.p50_ms)} | {fmt_ms(f.p95_ms)} | {fmt_ms(f.p99_ms)} |")
        for key, f2 in low.items():
            if not key.startswith("floor_"):
                continue
            w(f"| floor: bare fan-out to 4 no-ops | {f2.rate:.0f} | {fmt_ms(f2.p50_ms)} | {fmt_ms(f2.p95_ms)} | {fmt_ms(f2.p99_ms)} |")
            same = next((s for s in sweep if s.rate == f2.rate), None)
            if same:
                w(f"| ListCourseEventTimeSlots (cache on) | {same.rate:.0f} | {fmt_ms(same.p50_ms)} | {fmt_ms(same.p95_ms)} | {fmt_ms(same.p99_ms)} |")
        w(f"\n**Distance to the floor at {a.rate:.0f}/s: {a.p50_ms / f.p50_ms:.2f}×** (p50 / p50).\n")

    _cpu_budget(results, w)

    prof = results.get("profile")
    if prof:
        step: StepResult = prof["step"]
        w(f"## Where the time goes at {step.rate:.0f} requests/s (py-spy)\n")
        w(
            (
                "The rate is the highest of the sweep still answered at ≥ 95 % of offered (the CPU is saturated, the requests are still answered: "
                "past it, a profile shows a collapsing backlog rather than the work per request). "
                if o["profile_rate"] < 0
                else ""
            )
            + f"A separate step at {step.rate:.0f}/s (not in the table above) with `py-spy record --gil --nonblocking` sampling "
            f"{' and '.join(p.name for p in prof['profiles'])} at 100 Hz for {o['profile_seconds']:.0f} s (the cached path: bookings and "
            f"timeframes are idle on it{'; the uncached path is profiled above' if uncached else ''}): p50 {fmt_ms(step.p50_ms)} ms, "
            f"p99 {fmt_ms(step.p99_ms)} ms, "
            f"achieved {step.achieved_rps:.0f}/s; CPU % of one core: "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(step.cpu_pct.items(), key=lambda kv: -kv[1]))
            + f"; machine {step.machine_busy_pct:.0f} % busy. Raw stacks (collapsed, for flame graphs) are in `profile/`.\n"
        )
        if step.achieved_rps < 0.95 * step.rate or _flagged(step):
            w(
                "⚠ This step did not run clean (answered "
                f"{step.achieved_rps:.0f} of {step.rate:.0f}/s; other processes {step.foreign_cpu_pct:.0f} % of a core): the shares below still "
                "say where the interpreter spends its time, but the ms per request are inflated by work on requests that then timed out.\n"
            )
        _profiles(w, prof["profiles"], step)

    noisy = [s for s in _all_steps(results) if not math.isnan(s.foreign_cpu_pct) and s.foreign_cpu_pct > FOREIGN_FLAG_PCT]
    if noisy:
        w("## ⚠ Shared machine\n")
        w(
            f"{len(noisy)} measured step(s) ran while processes outside the benchmark used more than {FOREIGN_FLAG_PCT:.0f} % of a core "
            "(the benchmark waits for a quiet machine before each step, but only for a while): "
            + ", ".join(f"{s.label} at {s.rate:.0f}/s ({s.foreign_cpu_pct:.0f} %)" for s in noisy)
            + ". Their latencies are worse than this code on a machine of its own; re-run when the machine is idle.\n"
        )

    w("## Interpretation\n")
    out.extend(_interpretation(results))
    w("\nFindings and suggestions from the committed run are discussed in bench/README.md.")
    return "\n".join(out) + "\n"


def plot(results: dict[str, Any], path: Path) -> bool:
    sweep: list[StepResult] = results.get("sweep", [])
    if not sweep:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = results["meta"]["targets"]
    rates = [s.rate for s in sweep]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for attr, label, style in (("p50_ms", "p50", "o-"), ("p95_ms", "p95", "s-"), ("p99_ms", "p99", "^-")):
        ax.plot(rates, [getattr(s, attr) for s in sweep], style, label=label)
    bad = [s for s in sweep if not sustained(s, t["sustained_p99_ms"])]
    if bad:
        # A step where nothing succeeded has no percentiles: mark it at the deadline.
        deadline_ms = results["meta"]["options"]["timeout"] * 1000
        ys = [s.p99_ms if not math.isnan(s.p99_ms) else deadline_ms for s in bad]
        ax.plot([s.rate for s in bad], ys, "rx", markersize=12, label="not sustained (drawn at the deadline when all failed)")
    noisy = [s for s in sweep if _flagged(s)]
    if noisy:
        ax.plot(
            [s.rate for s in noisy],
            [s.p50_ms if not math.isnan(s.p50_ms) else results["meta"]["options"]["timeout"] * 1000 for s in noisy],
            "o",
            markersize=16,
            markerfacecolor="none",
            markeredgecolor="grey",
            label="shared machine (other processes > 25 % of a core)",
        )
    low = results.get("low_rate", {})
    floors = [v for k, v in low.items() if k.startswith("floor")]
    if floors:
        ax.plot([f.rate for f in floors], [f.p50_ms for f in floors], "kD", label="floor p50 (bare fan-out)")
    ax.axhline(t["p99_at_200_ms"], color="tab:green", ls="--", lw=1)
    ax.text(rates[0], t["p99_at_200_ms"] * 1.05, f"p99 target at 200/s: {t['p99_at_200_ms']:.0f} ms", color="tab:green", fontsize=8)
    ax.axhline(t["sustained_p99_ms"], color="tab:red", ls="--", lw=1)
    ax.text(rates[0], t["sustained_p99_ms"] * 1.05, f"sustained p99 limit: {t['sustained_p99_ms']:.0f} ms", color="tab:red", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (requests/s, open loop)")
    ax.set_ylabel("latency from scheduled send (ms, log)")
    m = results["meta"]["machine"]
    ax.set_title(f"ListCourseEventTimeSlots, 30 sessions / 31 days — {m['nproc']} CPUs, {results['meta']['date'][:10]}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def load(path: Path) -> dict[str, Any]:
    """The results of a run back from its JSON, to render the report again without re-measuring."""
    data = json.loads(path.read_text())
    fields = {f.name for f in dataclasses.fields(StepResult)}

    def step(d: Any) -> Any:
        if isinstance(d, dict) and {"label", "rate", "p50_ms"} <= d.keys():
            return StepResult(**{k: (math.nan if v is None and k.endswith(("_ms", "_pct")) else v) for k, v in d.items() if k in fields})
        return d

    data["sweep"] = [step(s) for s in data.get("sweep", [])]
    for key in ("low_rate", "fanout"):
        if key in data:
            data[key] = {k: [step(x) for x in v] if isinstance(v, list) else step(v) for k, v in data[key].items()}
    if data.get("fanout", {}).get("profile"):
        data["fanout"]["profile"] = _loaded_profiles(data["fanout"]["profile"], step)
    trace = data.get("fanout", {}).get("trace")
    if trace:
        trace["step"] = step(trace["step"])
        trace["segments"] = [Segment(**x) for x in trace["segments"]]
    if data.get("profile"):
        data["profile"] = _loaded_profiles(data["profile"], step)
    return data


def _loaded_profiles(raw: dict[str, Any], step: Callable[[Any], Any]) -> dict[str, Any]:
    """A profiling step back from JSON: its StepResult and its Profiles."""
    pfields = {f.name for f in dataclasses.fields(Profile)}
    profiles = [Profile(**{k: ([tuple(x) for x in v] if isinstance(v, list) else v) for k, v in p.items() if k in pfields}) for p in raw["profiles"]]
    return {**raw, "step": step(raw["step"]), "profiles": profiles}


def write(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    png = out / "availability-latency.png"
    if plot(results, png):
        paths.append(png)
    md = out / "availability.md"
    md.write_text(markdown(results, png.name))
    paths.append(md)
    raw = out / "availability.json"
    raw.write_text(json.dumps(jsonable(results), indent=2) + "\n")
    paths.append(raw)
    return paths


if __name__ == "__main__":
    # python -m bench.report [bench/results/availability.json]: render the report again from a run's JSON.
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/availability.json")
    for written in write(load(source), source.parent):
        print(written)
