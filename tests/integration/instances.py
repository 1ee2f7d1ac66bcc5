"""Extra service processes for fault-injection tests: a second instance of a service, started
exactly like the platform's own (same code path, same environment) on a free port, that a test
may stop, kill or freeze without disturbing the shared stack."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.devstack.infra import free_port
from services.devstack.stack import Platform


@dataclass(frozen=True)
class Instance:
    name: str
    port: int
    platform: Platform

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.platform.supervisor.kill(self.name)

    def log(self) -> str:
        path = self.platform.supervisor.log_path(self.name)
        return path.read_text() if path else ""


@contextlib.asynccontextmanager
async def extra_instance(platform: Platform, service: str, name: str, **env: str) -> AsyncIterator[Instance]:
    port = free_port()
    environment = platform.service_env(service) | {"GRPC_PORT": str(port)} | {k.upper(): v for k, v in env.items()}
    platform.supervisor.start(name, [sys.executable, "-m", f"services.{service}", "serve"], env=environment)
    try:
        await asyncio.to_thread(platform.supervisor.wait_healthy, name, port, 30)
        yield Instance(name, port, platform)
    finally:
        if platform.supervisor.is_running(name):
            await asyncio.to_thread(platform.supervisor.stop, name, 5)
