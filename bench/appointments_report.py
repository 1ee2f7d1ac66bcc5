"""The report of `make bench-appointments`: markdown with the scenario, a table per RPC and the
targets' verdicts, the raw JSON, and a plot of p50/p99 against the offered rate for the three RPCs.

    python -m bench.appointments_report [bench/results/appointments.json]   # render again from a run's JSON
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from bench.appointments_figures import SUSTAINED_P99_MS, TARGETS, Step, Target, highest_sustained, passed
from bench.loadgen import sustained
from bench.profiling import Profile
from bench.report import CPU_COLUMNS, FOREIGN_FLAG_PCT, _profiles, fmt_ms, jsonable

PNG = "appointments-latency.png"


def _target_step(results: dict[str, Any], target: Target) -> Step | None:
    steps: list[Step] = results.get("sweeps", {}).get(target.key, {}).get("steps", [])
    return next((s for s in steps if s.rate == target.rate), None)


def _flagged(s: Step) -> bool:
    return not math.isnan(s.foreign_cpu_pct) and s.foreign_cpu_pct > FOREIGN_FLAG_PCT


def verdicts(results: dict[str, Any]) -> list[tuple[Target, str, bool | None]]:
    """(target, measured, passed) per RPC: passed = p99 within the target and no errors at its rate."""
    out: list[tuple[Target, str, bool | None]] = []
    for target in TARGETS:
        step = _target_step(results, target)
        if step is None:
            out.append((target, "not measured", None))
            continue
        measured = f"p99 {fmt_ms(step.p99_ms)} ms at {step.rate:.0f}/s (achieved {step.achieved_rps:.1f}/s), {step.errors} errors"
        if target.key == "booking":
            measured += f", {step.slot_unavailable} SLOT_UNAVAILABLE"
        if _flagged(step):
            measured += f" ⚠ shared machine (other processes {step.foreign_cpu_pct:.0f} % of a core)"
        out.append((target, measured, passed(step, target)))
    return out


def _verdict(met: bool | None) -> str:
    return "**PASS**" if met else ("not measured" if met is None else "**FAIL**")


def _best(results: dict[str, Any], target: Target) -> str:
    steps: list[Step] = results.get("sweeps", {}).get(target.key, {}).get("steps", [])
    if not steps:
        return "not measured"
    best = highest_sustained(steps)
    top = max(s.rate for s in steps)
    return f"{best:.0f}/s" + (" (the highest rate tried: the capacity lies above it)" if best and best >= top else "")


def summary(results: dict[str, Any]) -> str:
    lines = ["", "Targets:"]
    for target, measured, met in verdicts(results):
        lines.append(f"  {'PASS' if met else ('n/a ' if met is None else 'FAIL')} {target.rpc} p99 ≤ {target.p99_ms:.0f} ms at {target.rate:.0f}/s: {measured}")
    for target in TARGETS:
        lines.append(f"  highest sustained {target.rpc}: {_best(results, target)}")
    return "\n".join(lines)


def _row(s: Step, booking: bool) -> str:
    cpu = " | ".join(f"{max(s.cpu_pct[c], 0.0):.0f}" if c in s.cpu_pct else "–" for c in CPU_COLUMNS)
    errors = f"{s.errors}" + (f" ({', '.join(f'{k} {v}' for k, v in s.error_codes.items())})" if s.errors else "")
    refused = f" {s.slot_unavailable} |" if booking else ""
    ok = "yes" if sustained(s, SUSTAINED_P99_MS) else "no"
    foreign = "–" if math.isnan(s.foreign_cpu_pct) else (f"**{s.foreign_cpu_pct:.0f}** ⚠" if _flagged(s) else f"{s.foreign_cpu_pct:.0f}")
    return (
        f"| {s.rate:.0f} | {s.achieved_rps:.1f} | {s.ok} | {errors} |{refused} {fmt_ms(s.p50_ms)} | {fmt_ms(s.p90_ms)} | {fmt_ms(s.p99_ms)} "
        f"| {fmt_ms(s.max_ms)} | {fmt_ms(s.send_lag_p99_ms)} | {ok} | {cpu} | {s.machine_busy_pct:.0f} | {foreign} |"
    )


def _table(w: Any, steps: list[Step], booking: bool) -> None:
    w(
        "| offered/s | achieved/s | ok | errors |"
        + (" SLOT_UNAVAILABLE |" if booking else "")
        + " p50 | p90 | p99 | max | send lag p99 | sustained | "
        + " | ".join(f"{c} CPU %" for c in CPU_COLUMNS)
        + " | machine busy % | other processes CPU % |"
    )
    w("|" + "---|" * (12 + int(booking) + len(CPU_COLUMNS)))
    for s in steps:
        w(_row(s, booking))


def _cpu_per_request(s: Step) -> str:
    rate = s.achieved_rps or s.rate
    if not rate or not s.cpu_pct:
        return ""
    per = {k: v / 100 * 1000 / rate for k, v in s.cpu_pct.items()}
    busiest = sorted(per.items(), key=lambda kv: -kv[1])[:4]
    return f"{sum(per.values()):.1f} ms of CPU per request at {s.rate:.0f}/s, of which " + ", ".join(f"{k} {v:.1f}" for k, v in busiest)


def _interpretation(w: Any, results: dict[str, Any]) -> None:
    """Per RPC, the two figures that say where a miss comes from: the latency of a request that
    waits for nothing (the lowest rate's p50) against the target, and the CPU one request costs the
    platform against what the machine's cores give at the target's rate."""
    nproc = results["meta"]["machine"]["nproc"] or 1
    lines = []
    for target in TARGETS:
        steps: list[Step] = results.get("sweeps", {}).get(target.key, {}).get("steps", [])
        at = _target_step(results, target)
        if not steps or at is None:
            continue
        low = min(steps, key=lambda s: s.rate)
        rate = at.achieved_rps or at.rate
        cpu_ms = sum(max(v, 0.0) for v in at.cpu_pct.values()) / 100 * 1000 / rate if rate else math.nan
        lines.append(
            f"- **{target.rpc}**: alone (at {low.rate:.0f}/s) a request takes p50 {fmt_ms(low.p50_ms)} / p99 {fmt_ms(low.p99_ms)} ms against the "
            f"target's p99 of {target.p99_ms:.0f} ms. At {at.rate:.0f}/s the platform and the generator used {cpu_ms:.1f} ms of CPU per request, "
            f"{cpu_ms * at.rate / 1000:.2f} of the machine's {nproc} cores (machine {at.machine_busy_pct:.0f} % busy, other processes "
            f"{at.foreign_cpu_pct:.0f} % of a core); p50 {fmt_ms(at.p50_ms)}, p99 {fmt_ms(at.p99_ms)} ms."
        )
    if lines:
        w("## Reading the figures\n")
        for line in lines:
            w(line)
        w(
            "\nA request's own latency (alone) is the floor of its p99; the closer the CPU per request times the rate comes to the cores, the "
            "longer requests queue, which is what the p99 at the target's rate adds to that floor.\n"
        )


def _scenario(w: Any, results: dict[str, Any]) -> None:
    setup = results.get("setup", {})
    clinic, answers, population = setup.get("clinic", {}), setup.get("answers", {}), setup.get("population", {})
    slots, dates = answers.get("slots", {}), answers.get("dates", {})
    w("## Scenario\n")
    w(
        f"One tenant, built through the public RPCs: {len(clinic.get('staff', []))} staff members working {clinic.get('hours')} in "
        f"{clinic.get('time_zone')}, one APPOINTMENT service they all offer ({clinic.get('duration_minutes')} minutes, a slot every "
        f"{clinic.get('slot_interval_minutes')} minutes, no buffers, the default booking policy: no minimum notice, no horizon), time off "
        + "; ".join(f"{t['staff_member']} {t['local_date']} {t['from']}–{t['to']}" for t in clinic.get("time_off", []))
        + f", and {len(clinic.get('appointments', []))} appointments spread over the window (named staff members taking turns; "
        + ", ".join(f"{a['local_start']} {a['staff_member']}" for a in clinic.get("appointments", [])[:3])
        + ", …).\n"
    )
    w(
        f"- **ListAvailabilityTimeSlots**: `{slots.get('from_local_date')}` to `{slots.get('to_local_date')}` ({clinic.get('time_zone')}), "
        f"the default page: {slots.get('first_page_slots')} slots, {slots.get('first_page_bytes')} bytes, "
        + (
            f"**the answer pages** (has_next): the window holds {slots.get('window_slots')} bookable slots, {slots.get('pages_at_default_limit')} "
            'pages at the default limit. The sweep measures the first page, what a client asks first; the step "whole window in one page" '
            f"below asks for all {slots.get('window_slots')} at once (limit 1000, {slots.get('whole_window_bytes')} bytes)."
            if slots.get("first_page_has_next")
            else f"the whole window in one answer ({slots.get('window_slots')} slots)."
        )
    )
    w(
        f"- **ListAvailabilityDates**: `{dates.get('from_local_date')}` to `{dates.get('to_local_date')}`: {dates.get('dates')} dates, "
        f"{dates.get('dates_with_bookable_slots')} with bookable slots ({dates.get('bookable_slots')} in all), next_available_date "
        f"`{dates.get('next_available_date')}`, {dates.get('bytes')} bytes. The default policy has no booking horizon: when no date of the "
        "range is bookable, availability searches next_available_date up to 366 dates ahead, a month at a time; this range has bookable "
        'dates, so it reads the range only (docs/appointments.md "next_available_date").'
    )
    w(
        f"- **CreateBooking**: the booking population is a second APPOINTMENT service of the same shape with {len(population.get('staff', []))} "
        f"staff members of its own, its free slots from {population.get('first_local_date')} to {population.get('last_local_date')} "
        f"({population.get('days')} days: {population.get('slot_starts')} slot starts, {population.get('free_staff_slots')} free (slot, staff member) "
        f"pairs, listed once in {population.get('listing_calls')} ListAvailabilityTimeSlots answers of up to 1000 slots). "
        "Each request books a pair of its own: "
        f"{population.get('round_robin')} by round robin (no staff member named) on even starts, {population.get('named')} naming the staff member "
        "on odd starts, so no two requests compete for a staff member's time (`booking_plan` in bench/appointments_figures.py); "
        f"{population.get('requests_sent', '?')} requests were sent in the run, warm-ups included. The listings' clinic never sees these bookings.\n"
    )


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    m, o = meta["machine"], meta["options"]
    out: list[str] = []
    w = out.append
    w("# Appointment RPCs benchmark\n")
    w("Generated by bench/appointments.py (`make bench-appointments`; method in bench/README.md). Do not edit: re-run it.\n")
    w(f"- **Date**: {meta['date']} (UTC); run took {meta['duration_s']:.0f} s (platform start {meta['platform_start_s']:.0f} s)")
    w(
        f"- **Machine**: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}; Python {m['python']}, grpcio {m['grpcio']}, "
        f"event loop {m.get('event_loop', '?')} (services and bench); commit `{m['commit']}`"
    )
    if m.get("uncommitted_service_changes"):
        w(f"- **Code measured**: commit `{m['commit']}` plus uncommitted changes in " + ", ".join(f"`{f}`" for f in m["uncommitted_service_changes"]))
    w(f"- **Command**: `{meta['command']}`")
    w(
        "- **Load**: the whole platform on this machine (the four services, availability with "
        f"{o['availability_workers']} workers, Postgres, Redis, Kafka), open loop from one grpc.aio client in the bench process "
        f"(8 connections per service), latency from each request's scheduled send time; {o['step_seconds']:.0f} s measured per rate after "
        f"{o['warmup_seconds']:.0f} s of warm-up (1 s at 50/s and below), deadline {o['timeout']:.0f} s.\n"
    )
    _scenario(w, results)

    w("## Targets\n")
    w("| RPC | target | measured | verdict | highest sustained rate |")
    w("|---|---|---|---|---|")
    for target, measured, met in verdicts(results):
        w(f"| {target.rpc} ({target.what}) | p99 ≤ {target.p99_ms:.0f} ms at {target.rate:.0f}/s | {measured} | {_verdict(met)} | {_best(results, target)} |")
    w(
        f"\n*Sustained* = achieved ≥ 98 % of offered, no errors, p99 ≤ {meta['sustained_p99_ms']:.0f} ms (bench/loadgen.py `sustained`, the rule "
        "of bench-availability); a target passes with p99 within it and no errors at its rate.\n"
    )

    w("## Latency vs offered rate\n")
    w(f"![latency vs rate]({PNG})\n")
    w(
        "Latency in ms from the scheduled send time. CPU columns: % of one core over the step (warm-up included), per process group "
        "(postgres = postmaster + backends; generator = the bench process alone); machine = % of all cores busy; other processes = "
        f"CPU used by processes the benchmark did not start (% of one core; ⚠ above {FOREIGN_FLAG_PCT:.0f}: the step shared the machine).\n"
    )
    sweeps = results.get("sweeps", {})
    for target in TARGETS:
        sw = sweeps.get(target.key)
        if not sw:
            continue
        steps: list[Step] = sw["steps"]
        w(f"### {target.rpc}: {target.what}\n")
        _table(w, steps, target.key == "booking")
        notes = [f"Highest sustained: **{_best(results, target)}**; the sweep stopped because {sw['stopped']}."]
        at = _target_step(results, target)
        if at is not None and at.cpu_pct:
            notes.append(f"CPU: {_cpu_per_request(at)}.")
        if target.key == "booking" and any(s.slot_unavailable for s in steps):
            notes.append(
                "SLOT_UNAVAILABLE answers are in `ok` and the latencies (the server answered), not in the errors; the plan gives every request a "
                "pair of its own, so each is a slot offered as free and then refused."
            )
        w("\n" + " ".join(notes) + "\n")
        if target.key == "slots" and "whole_window" in results:
            whole: Step = results["whole_window"]
            w(
                f"The whole window in one page (limit 1000, {results.get('setup', {}).get('answers', {}).get('slots', {}).get('window_slots')} slots), "
                "one step at the target's rate, not in the sweep:\n"
            )
            _table(w, [whole], False)
        w("")

    _interpretation(w, results)
    for target in TARGETS:
        prof = results.get("profiles", {}).get(target.key)
        if not prof:
            continue
        step: Step = prof["step"]
        w(f"## Where the time of {target.rpc} goes at {step.rate:.0f}/s (py-spy)\n")
        w(
            f"A separate step (not in the tables) with `py-spy record --gil --nonblocking` sampling {', '.join(p.name for p in prof['profiles'])} "
            f"at 100 Hz for {o['profile_seconds']:.0f} s: p50 {fmt_ms(step.p50_ms)} ms, p99 {fmt_ms(step.p99_ms)} ms, achieved "
            f"{step.achieved_rps:.0f}/s; CPU % of one core: "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(step.cpu_pct.items(), key=lambda kv: -kv[1]) if v >= 1)
            + f"; machine {step.machine_busy_pct:.0f} % busy. py-spy sees the interpreter only (the thread holding the GIL; availability's "
            "two workers are added up, so it can pass 100 %): the ms per request below are less than each process's CPU per request, the "
            f"rest being gRPC's C core and the kernel. Raw stacks are in `profile/appointments-{target.key}-*.collapsed.txt`.\n"
        )
        if step.errors or step.achieved_rps < 0.95 * step.rate:
            w(
                f"⚠ This step did not run clean (answered {step.achieved_rps:.0f} of {step.rate:.0f}/s, {step.errors} errors; py-spy's own sampling "
                "takes some of the cores): the shares below still say where the interpreter spends its time, but the ms per request are "
                "inflated by work on requests that then timed out.\n"
            )
        _profiles(w, prof["profiles"], step)

    every = [s for sw in sweeps.values() for s in sw["steps"]] + ([results["whole_window"]] if "whole_window" in results else [])
    noisy = [s for s in every if _flagged(s)]
    if noisy:
        w("## ⚠ Shared machine\n")
        w(
            f"{len(noisy)} measured step(s) ran while processes outside the benchmark used more than {FOREIGN_FLAG_PCT:.0f} % of a core "
            "(the benchmark waits for a quiet machine before each step, but only for a while): "
            + ", ".join(f"{s.label} at {s.rate:.0f}/s ({s.foreign_cpu_pct:.0f} %)" for s in noisy)
            + ". Their latencies are worse than this code on a machine of its own; re-run when the machine is idle.\n"
        )
    gen = [s.cpu_pct["generator"] for s in every if "generator" in s.cpu_pct]
    if gen:
        w(
            f"The load generator shares the machine: it used {min(gen):.0f}–{max(gen):.0f} % of one core across the steps (in the machine's "
            "busy %, not in the services'); send lag p99 shows whether it kept its schedule.\n"
        )
    w("Findings from the committed run are discussed in bench/README.md.")
    return "\n".join(out) + "\n"


def plot(results: dict[str, Any], path: Path) -> bool:
    sweeps = results.get("sweeps", {})
    if not any(sw.get("steps") for sw in sweeps.values()):
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    deadline_ms = results["meta"]["options"]["timeout"] * 1000
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for target, colour in zip(TARGETS, ("tab:blue", "tab:orange", "tab:green"), strict=True):
        steps = sorted(sweeps.get(target.key, {}).get("steps", []), key=lambda s: s.rate)
        if not steps:
            continue
        rates = [s.rate for s in steps]
        # A step where nothing succeeded has no percentiles: drawn at the deadline.
        ax.plot(rates, [s.p99_ms if not math.isnan(s.p99_ms) else deadline_ms for s in steps], "^-", color=colour, label=f"{target.rpc} p99")
        ax.plot(rates, [s.p50_ms if not math.isnan(s.p50_ms) else deadline_ms for s in steps], "o--", color=colour, alpha=0.7, label=f"{target.rpc} p50")
        ax.plot(
            [target.rate],
            [target.p99_ms],
            "*",
            color=colour,
            markersize=14,
            markeredgecolor="black",
            label=f"target: p99 ≤ {target.p99_ms:.0f} ms at {target.rate:.0f}/s",
        )
        bad = [s for s in steps if not sustained(s, results["meta"]["sustained_p99_ms"])]
        if bad:
            ax.plot([s.rate for s in bad], [s.p99_ms if not math.isnan(s.p99_ms) else deadline_ms for s in bad], "rx", markersize=10)
    ax.plot([], [], "rx", label="not sustained")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (requests/s, open loop)")
    ax.set_ylabel("latency from scheduled send (ms, log)")
    m = results["meta"]["machine"]
    ax.set_title(f"Appointments: 5 staff, 30-min slots, 31 days — {m['nproc']} CPUs, {results['meta']['date'][:10]}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    png = out / PNG
    if plot(results, png):
        paths.append(png)
    md = out / "appointments.md"
    md.write_text(markdown(results))
    paths.append(md)
    raw = out / "appointments.json"
    raw.write_text(json.dumps(jsonable(results), indent=2) + "\n")
    paths.append(raw)
    return paths


def load(path: Path) -> dict[str, Any]:
    """The results of a run back from its JSON, to render the report again without re-measuring."""
    data = json.loads(path.read_text())
    names = {f.name for f in dataclasses.fields(Step)}

    def step(d: dict[str, Any]) -> Step:
        return Step(**{k: (math.nan if v is None and k.endswith(("_ms", "_pct")) else v) for k, v in d.items() if k in names})

    for sw in data.get("sweeps", {}).values():
        sw["steps"] = [step(s) for s in sw["steps"]]
    if "whole_window" in data:
        data["whole_window"] = step(data["whole_window"])
    pnames = {f.name for f in dataclasses.fields(Profile)}
    for key, raw in data.get("profiles", {}).items():
        profiles = [Profile(**{k: ([tuple(x) for x in v] if isinstance(v, list) else v) for k, v in p.items() if k in pnames}) for p in raw["profiles"]]
        data["profiles"][key] = {**raw, "step": step(raw["step"]), "profiles": profiles}
    return data


if __name__ == "__main__":
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/appointments.json")
    for written in write(load(source), source.parent):
        print(written)
