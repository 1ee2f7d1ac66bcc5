"""CPU used per process group (a service, Postgres with its backends, the generator...) between
two snapshots, so a report can say who used the shared cores during a step; and how often the
group's threads were switched in (each a wake-up that an idle machine pays the most for)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

_OURS = "__bench_tree__"


def _tree_usage(root: int, tree: bool = True) -> tuple[float, int]:
    """User + system CPU seconds and thread context switches of a process and (tree=True) its live
    descendants, from one walk of the tree ((0, 0) when it is gone).

    Children that exited between two snapshots are not counted; the groups measured here are
    long-lived servers (Postgres backends live as long as the pool's connections)."""
    try:
        proc = psutil.Process(root)
        procs = [proc, *proc.children(recursive=True)] if tree else [proc]
    except psutil.Error:
        return 0.0, 0
    cpu, switches = 0.0, 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            cpu += t.user + t.system
        switches += _thread_switches(p.pid)
    return cpu, switches


def _thread_switches(pid: int) -> int:
    """Context switches (voluntary + involuntary) of every thread of one process, from
    /proc/<pid>/task/*/status: the process-level counters cover its main thread only."""
    total = 0
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
    return total


@dataclass
class Snapshot:
    wall: float
    groups: dict[str, float]
    switches: dict[str, int]  # per group: context switches of all its threads so far
    machine_busy: float  # busy CPU seconds of the whole machine (all cores added up)
    machine_total: float
    kernel_irq: float  # of which interrupt handling (loopback networking runs much of it)


class CpuMeter:
    """roots: group name -> root pid (the group is that process and its descendants, except for
    the names in `alone`: the bench process is the parent of every service, so it is measured
    without its children)."""

    def __init__(self, roots: Mapping[str, int | None], alone: frozenset[str] = frozenset()):
        self.roots = {name: pid for name, pid in roots.items() if pid}
        self.alone = alone

    def snapshot(self) -> Snapshot:
        groups: dict[str, float] = {}
        switches: dict[str, int] = {}
        for name, pid in self.roots.items():
            groups[name], switches[name] = _tree_usage(pid, tree=name not in self.alone)
        # Everything this benchmark started (the platform, helpers, profilers) descends from it.
        groups[_OURS] = _tree_usage(os.getpid())[0]
        t = psutil.cpu_times()
        total = sum(t)
        idle = t.idle + getattr(t, "iowait", 0.0)
        irq = getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
        return Snapshot(time.monotonic(), groups, switches, total - idle, total, irq)

    @staticmethod
    def percent(before: Snapshot, after: Snapshot) -> Usage:
        wall = max(after.wall - before.wall, 1e-9)
        delta = {name: after.groups.get(name, 0.0) - before.groups[name] for name in before.groups}
        ours = delta.pop(_OURS, 0.0)
        # A group's CPU can only grow; it shrinks when a child (a Postgres backend) exits between the
        # snapshots and its seconds leave the sum: count that as 0, not as negative.
        per = {name: round(100.0 * max(d, 0.0) / wall, 1) for name, d in delta.items()}
        busy = after.machine_busy - before.machine_busy
        machine = 100.0 * busy / max(after.machine_total - before.machine_total, 1e-9)
        # psutil.cpu_times() counts CPU seconds summed over cores: busy/wall is in "cores". Interrupt
        # time is left out of the foreign share: our own loopback traffic is most of it.
        irq = after.kernel_irq - before.kernel_irq
        foreign = max(0.0, 100.0 * (busy - irq - ours) / wall)
        switches = {name: max(after.switches.get(name, 0) - n, 0) for name, n in before.switches.items()}
        return Usage(per, round(machine, 1), round(foreign, 1), switches)

    async def foreign_load(self, seconds: float = 1.0) -> float:
        """% of one core used by processes this benchmark did not start, over `seconds`."""
        before = self.snapshot()
        await asyncio.sleep(seconds)
        return self.percent(before, self.snapshot()).foreign_pct

    async def wait_quiet(self, threshold: float, max_wait: float) -> tuple[float, float]:
        """Wait until other processes use less than `threshold` % of one core (at most
        `max_wait` s); return (their last load, seconds waited)."""
        began = time.monotonic()
        load = await self.foreign_load()
        while load > threshold and time.monotonic() - began < max_wait:
            load = await self.foreign_load()
        return load, round(time.monotonic() - began, 1)


@dataclass
class Usage:
    per_group: dict[str, float]  # % of one core
    machine_busy_pct: float  # % of all cores
    foreign_pct: float  # % of one core used by processes outside this benchmark
    switches: dict[str, int]  # per group: context switches of its threads between the snapshots
