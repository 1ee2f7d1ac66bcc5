"""Session fixtures: the real platform (embedded Postgres, Redis, Kafka-protocol broker and the
four services) started once per test session exactly as `make run` starts it, on free ports.
Each test gets its own tenant, so tests are isolated without resetting anything.

The services export their telemetry over OTLP to a receiver in this process (`otlp`), as they
would to an OpenTelemetry Collector in production; only traces a test samples are recorded."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from services.devstack.infra import InfraPorts, free_port
from services.devstack.otlp import OtlpReceiver
from services.devstack.stack import SERVICE_PORTS, Platform
from tests.support import JWT_SECRET


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """What the session's services exported: spans by trace id, and every metric's description."""
    receiver = OtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver) -> Iterator[Platform]:
    infra_ports = InfraPorts.free()
    taken = {infra_ports.postgres, infra_ports.redis, infra_ports.kafka}
    service_ports: dict[str, int] = {}
    for name in SERVICE_PORTS:  # distinct from each other and from the infrastructure's
        while (port := free_port()) in taken:
            pass
        taken.add(port)
        service_ports[name] = port
    stack = Platform(
        state_dir=tmp_path_factory.mktemp("platform"),
        jwt_secret=JWT_SECRET,
        infra_ports=infra_ports,
        service_ports=service_ports,
        stream_logs=False,
        base_env={**os.environ, **otlp.exporter_env()},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
async def _channels(platform: Platform) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    channels = {name: grpc.aio.insecure_channel(platform.address(name)) for name in SERVICE_PORTS}
    yield channels
    for ch in channels.values():
        await ch.close()


@pytest.fixture
def channel(_channels: dict[str, grpc.aio.Channel]):  # type: ignore[no-untyped-def]
    """channel("bookings") -> a grpc.aio.Channel to that service."""
    return _channels.__getitem__


@pytest.fixture
def bookings_channel(_channels: dict[str, grpc.aio.Channel]) -> grpc.aio.Channel:
    return _channels["bookings"]


@pytest.fixture
def timeframes_channel(_channels: dict[str, grpc.aio.Channel]) -> grpc.aio.Channel:
    return _channels["timeframes"]


@pytest.fixture
def tenant() -> str:
    """A fresh tenant per test: nothing another test wrote is visible to it."""
    return f"tenant-{uuid.uuid4()}"


@pytest.fixture
def other_tenant() -> str:
    return f"tenant-{uuid.uuid4()}"
