"""Sampling profiles of running services with py-spy (no change to the services: it reads the
process's memory from outside), summarised as the functions and packages where time goes."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


@dataclass
class Profile:
    name: str
    pid: int
    seconds: float
    rate: int
    samples: int = 0
    self_top: list[tuple[str, int]] = field(default_factory=list)
    inclusive_top: list[tuple[str, int]] = field(default_factory=list)
    packages: list[tuple[str, int]] = field(default_factory=list)  # self samples by package
    concerns: list[tuple[str, int]] = field(default_factory=list)  # samples by what the code was doing
    raw_path: str = ""
    error: str = ""

    @property
    def active_pct(self) -> float:
        """Samples in which a thread held the GIL, as % of the wall time sampled: about the CPU the
        interpreter used (gRPC's C core work without the GIL is not seen)."""
        expected = self.seconds * self.rate
        return 100.0 * self.samples / expected if expected else 0.0


async def record(name: str, pid: int, seconds: float, out: Path, rate: int = 100) -> Profile:
    """py-spy record --nonblocking (the target is never paused) for `seconds`, raw collapsed stacks."""
    profile = Profile(name, pid, seconds, rate, raw_path=str(out))
    exe = py_spy()
    if exe is None:
        profile.error = "py-spy is not installed (pip install -e '.[bench]')"
        return profile
    # --gil: only the thread holding the GIL is sampled, so the samples are the interpreter's CPU
    # time (gRPC's poller thread waiting in C would otherwise look busy all the time).
    # --subprocesses: a service run with GRPC_WORKERS > 1 is a supervisor whose workers do the work.
    argv = [exe, "record", "-p", str(pid), "--subprocesses", "-d", str(int(seconds)), "-r", str(rate)]
    argv += ["--gil", "--nonblocking", "--nolineno", "--format", "raw", "-o", str(out)]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    if proc.returncode != 0 or not out.exists():
        profile.error = f"py-spy exited {proc.returncode}: {output.decode(errors='replace')[-500:]}"
        return profile
    summarise(profile, out.read_text())
    return profile


def _package(frame: str) -> str:
    """'func (path/to/file.py)' -> a coarse owner: the services package, a library, or the stdlib module."""
    path = frame[frame.rfind("(") + 1 : -1] if frame.endswith(")") else frame
    parts = path.replace("\\", "/").split("/")
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return rest[0].removesuffix(".py") if rest else path
    if "services" in parts:
        i = parts.index("services")
        return "/".join(parts[i : i + 2]).removesuffix(".py")
    if "bench" in parts:
        return "bench"
    if len(parts) >= 2 and parts[-2] in {"asyncio", "concurrent", "json", "logging", "email", "http", "importlib", "zoneinfo"}:
        return parts[-2]
    return parts[-1].removesuffix(".py")


_BOILERPLATE = (
    "<frozen runpy>",
    "asyncio/runners.py",
    "__main__.py)",
    "service_main (",
    "BaseEventLoop.run_forever",
    "BaseEventLoop.run_until_complete",
    "BaseEventLoop._run_once",
    "Handle._run (",
    "Thread._bootstrap",
)


def _boilerplate(frame: str) -> bool:
    return any(b in frame for b in _BOILERPLATE)


# What a sample was spent on: the innermost frame of its stack that matches one of these (first
# match in this order wins for one frame). Samples matching none are the gRPC server runtime and
# the event loop themselves: gRPC's Cython/C-core callbacks show as asyncio's Handle._run, or as
# Runner.run under uvloop (its loop is C code, so py-spy sees no Python frame below it).
CONCERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("auth: JWT verification per request", ("(jwt/", "TokenVerifier.", "_Guard._authenticate")),
    ("logging: structlog JSON lines", ("(structlog/", "(logging/", "configure_logging", "_add_trace_ids")),
    (
        "OpenTelemetry: spans, metrics, propagation",
        ("(trace/", "(metrics/", "(context/", "(attributes/", "(propagate/", "(baggage/", "(sdk/", "(services/common/rpc_spans.py)"),
    ),
    ("Redis: cache reads/writes (redis-py)", ("(redis/", "CacheKind.", "Cache.generation")),
    ("Postgres: asyncpg query + pool", ("(asyncpg/", "PostgresCalendarSession.", "(services/common/db.py)")),
    (
        "response building: domain -> protobuf",
        (
            "_slot_proto",
            "add_course_slots",
            "_course_slot_fields",
            "course_proto",
            "_violations (",
            "_reasons (",
            "_paging (",
            "to_local_iso",
            "event_to_proto",
            "(services/timeframes/mapping.py)",
        ),
    ),
    ("decoding: protobuf/rows -> domain", ("_from_proto", "_instant (", "_event (services/timeframes", "WireTimestamp", "ToDatetime")),
    ("availability calculation (domain)", ("(services/availability/domain/", "_validate_page", "_check_services", "_zone (")),
    (
        "outbound gRPC calls (client side)",
        ("Dependencies.", "call_dependency", "(grpc/aio/_call.py)", "(grpc/aio/_interceptor.py)", "(grpc/aio/_channel.py)", "(services/common/clients.py)"),
    ),
    ("request validation / paging", ("(services/common/validation.py)", "(services/common/paging.py)", "validate_")),
    # Below every other concern: bytes arriving on asyncio transports are parsed by the protocol
    # (asyncpg's in C, redis-py's in Python) under this frame.
    ("asyncio socket I/O (asyncpg / redis-py transports)", ("_SelectorSocketTransport.", "(asyncio/streams.py)")),
)
OTHER = "gRPC server runtime + asyncio event loop (the rest)"


def _concern(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, patterns in CONCERNS:
            if any(p in frame for p in patterns):
                return name
    return OTHER


def summarise(profile: Profile, raw: str, top: int = 20) -> None:
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    concerns: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_counts[frames[-1]] += count
        packages[_package(frames[-1])] += count
        concerns[_concern(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count
    profile.samples = total
    profile.self_top = self_counts.most_common(top)
    # Frames nearly every stack goes through (start-up, the event loop's run_forever...) say nothing.
    profile.inclusive_top = [(f, c) for f, c in inclusive.most_common(top * 3) if not _boilerplate(f)][:top]
    profile.packages = packages.most_common(top)
    profile.concerns = concerns.most_common()
