"""The platform under test and the helpers every benchmark shares: free ports, the Platform started
as the tests start it, helper processes under its supervisor, the machine a report names, and the
local time of the bench's courses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform as pyplatform
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
from google.protobuf import timestamp_pb2

from bench import OWN_ENV, runtime
from bench.procstats import CpuMeter
from services.devstack._proc import tcp_open
from services.devstack.infra import InfraPorts, free_port
from services.devstack.otlp import OtlpReceiver
from services.devstack.stack import SERVICE_PORTS, Platform

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"  # where the reports go by default
ZONE = "Europe/Vienna"  # the zone of every course and class the benchmarks create


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Ports:
    """Free local ports, distinct from each other."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def take(self) -> int:
        while (port := free_port()) in self.taken:
            pass
        self.taken.add(port)
        return port


def make_platform(state_dir: Path, ports: Ports, availability_workers: int = 1, telemetry: OtlpReceiver | None = None) -> Platform:
    """`telemetry`: where the services export their spans (only those of sampled traces) and
    metrics; without it they export nothing, wherever the caller's environment points."""
    infra = InfraPorts.free()
    ports.taken |= {infra.postgres, infra.redis, infra.kafka}
    dropped = {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "OTEL_EXPORTER_OTLP_ENDPOINT", *OWN_ENV}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if telemetry is not None:
        # Spans of sampled requests only (the trace phase's), within a second; metrics once in
        # ten minutes, so exporting them costs the measured steps nothing.
        env.update({**telemetry.exporter_env(), "OTEL_BSP_SCHEDULE_DELAY": "1000", "OTEL_METRIC_EXPORT_INTERVAL": "600000"})
    return Platform(
        state_dir=state_dir,
        jwt_secret="bench-secret-" + uuid.uuid4().hex,
        infra_ports=infra,
        service_ports={name: ports.take() for name in SERVICE_PORTS},
        stream_logs=False,
        base_env=env,
        service_overrides={"availability": {"GRPC_WORKERS": str(availability_workers)}},
    )


def start_helper(stack: Platform, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    """A helper process under the platform's supervisor, so Platform.stop() stops it too."""
    full_env = dict(stack.base_env if env is None else env)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), full_env.get("PYTHONPATH", "")]))
    return stack.supervisor.start(name, argv, env=full_env, cwd=REPO)


async def wait_port(stack: Platform, name: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not tcp_open(port, timeout=0.2):
        if not stack.supervisor.is_running(name):
            raise RuntimeError(f"{name} exited:\n{stack.supervisor.log_tail(name)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} is not listening on {port} after {timeout} s:\n{stack.supervisor.log_tail(name)}")
        await asyncio.sleep(0.1)


async def wait_healthy(stack: Platform, name: str, port: int) -> None:
    await asyncio.to_thread(stack.supervisor.wait_healthy, name, port, 60.0)


def timestamp(instant: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(instant)
    return ts


def local_date(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None).isoformat(timespec="seconds")


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit, changed = "", []
    with contextlib.suppress(Exception):  # read-only git: which code was measured
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--", "services"], cwd=REPO, capture_output=True, text=True, timeout=5).stdout
        changed = sorted(line[3:] for line in status.splitlines() if line.strip())
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or pyplatform.processor(),
        "kernel": pyplatform.release(),
        "python": pyplatform.python_version(),
        "grpcio": grpc.__version__,
        "event_loop": runtime.name(),
        "commit": commit,
        "uncommitted_service_changes": changed,
    }


def platform_cpu_meter(stack: Platform) -> CpuMeter:
    """CPU per process group of the platform: each service, Postgres, Redis, Kafka, and this
    process alone (the load generator)."""
    return CpuMeter(
        {
            "availability": stack.supervisor.pid("availability"),
            "timeframes": stack.supervisor.pid("timeframes"),
            "bookings": stack.supervisor.pid("bookings"),
            "participations": stack.supervisor.pid("participations"),
            "postgres": stack.infra.postgres.pid if stack.infra.postgres else None,
            "redis": stack.infra.redis.pid if stack.infra.redis else None,
            "kafka": stack.infra.kafka.pid if stack.infra.kafka else None,
            "generator": os.getpid(),
        },
        alone=frozenset({"generator"}),
    )
