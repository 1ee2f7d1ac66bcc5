"""The whole platform on one machine: embedded infrastructure, migrations, topics and the four
services, started the same way by `make run` and by the test session."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from services.common import topics
from services.devstack.infra import Infra, InfraPorts, ensure_topics
from services.devstack.supervisor import Supervisor

# Default local ports (docs/platform.md "Services and ports"), each overridable.
SERVICE_PORTS: dict[str, int] = {"availability": 50051, "bookings": 50052, "participations": 50053, "timeframes": 50054}
# Services that own a Postgres schema and therefore have migrations.
MIGRATED = ("bookings", "participations", "timeframes")
# The platform's topics (docs/pipeline.md "Topics") with their local partition counts
# (services/common/topics.py), plus DLQs.
TOPICS: dict[str, int] = {t.name: t.local_partitions for t in topics.ALL} | {t.dlq: 1 for t in topics.ALL}


@dataclass
class Platform:
    state_dir: Path
    jwt_secret: str
    infra_ports: InfraPorts
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    stream_logs: bool = True
    base_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    # Per service, variables set on top of everything else (e.g. the benchmark's GRPC_WORKERS).
    service_overrides: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.infra = Infra(self.state_dir, self.infra_ports, env=self.base_env)
        self.supervisor = Supervisor(log_dir=self.state_dir / "logs", stream=self.stream_logs)

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.service_ports[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(self.infra.env())
        env.update(
            {
                "AUTH_JWT_SECRET": self.jwt_secret,
                "GRPC_HOST": "127.0.0.1",
                "GRPC_PORT": str(self.service_ports[service]),
                "BOOKINGS_ADDRESS": self.address("bookings"),
                "TIMEFRAMES_ADDRESS": self.address("timeframes"),
                "AVAILABILITY_ADDRESS": self.address("availability"),
                "PARTICIPATIONS_ADDRESS": self.address("participations"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.service_overrides.get(service, {}))
        return env

    def start_infra(self) -> None:
        self.infra.start()
        env = self.infra.env()
        ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], TOPICS)

    def migrate(self) -> None:
        def run(service: str) -> None:
            result = subprocess.run(
                [sys.executable, "-m", f"services.{service}", "migrate"],
                env=self.service_env(service),
                capture_output=True,
                text=True,
                timeout=120,
            )
            if result.returncode != 0:
                raise RuntimeError(f"migrating {service} failed:\n{result.stdout}\n{result.stderr}")

        with ThreadPoolExecutor(len(MIGRATED)) as pool:
            list(pool.map(run, MIGRATED))

    def start_services(self, timeout: float = 60.0) -> None:
        for service in self.service_ports:
            self.supervisor.start(service, [sys.executable, "-m", f"services.{service}", "serve"], env=self.service_env(service))
        with ThreadPoolExecutor(len(self.service_ports)) as pool:
            list(pool.map(lambda s: self.supervisor.wait_healthy(s, self.service_ports[s], timeout), self.service_ports))

    def start(self) -> None:
        self.start_infra()
        self.migrate()
        self.start_services()

    def stop(self) -> None:
        try:
            self.supervisor.stop_all()
        finally:
            self.infra.stop()
