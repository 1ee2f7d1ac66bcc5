"""GRPC_WORKERS=N: one service, N processes on one port (services.common.workers), against the
real platform. The supervisor spreads nothing itself: the kernel hands each new connection to
one of the workers' SO_REUSEPORT sockets."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.devstack.stack import Platform
from tests.integration.instances import extra_instance


def _workers(supervisor_pid: int) -> list[psutil.Process]:
    return psutil.Process(supervisor_pid).children()


def _established(process: psutil.Process, port: int) -> int:
    return sum(1 for c in process.net_connections(kind="tcp") if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def _listening(process: psutil.Process, port: int) -> bool:
    return any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in process.net_connections(kind="tcp"))


async def _wait_for(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_two_workers_share_the_port_and_each_serves_connections(platform: Platform) -> None:
    async with extra_instance(platform, "availability", "availability-workers", grpc_workers="2") as instance:
        workers = _workers(platform.supervisor.pid(instance.name))
        assert len(workers) == 2
        # Health answered by one worker says nothing of the other: wait until both listen.
        await _wait_for(lambda: all(_listening(w, instance.port) for w in workers))
        # 24 separate connections (a local subchannel pool each): with two listening sockets the
        # chance that all land on one worker is 2^-23.
        channels = [grpc.aio.insecure_channel(instance.address, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(24)]
        try:
            answers = await asyncio.gather(*(health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5) for ch in channels))
            assert {a.status for a in answers} == {health_pb2.HealthCheckResponse.SERVING}
            per_worker = [_established(w, instance.port) for w in workers]
            assert sum(per_worker) == 24 and min(per_worker) > 0, per_worker
        finally:
            await asyncio.gather(*(ch.close() for ch in channels))


async def test_a_dead_worker_stops_the_whole_service_so_it_is_restarted_not_left_half_sized(platform: Platform) -> None:
    async with extra_instance(platform, "availability", "availability-worker-death", grpc_workers="2") as instance:
        supervisor = psutil.Process(platform.supervisor.pid(instance.name))
        first, second = supervisor.children()
        first.send_signal(signal.SIGKILL)
        await _wait_for(lambda: not platform.supervisor.is_running(instance.name))
        assert platform.supervisor.returncode(instance.name) not in (0, None)
        await _wait_for(lambda: not second.is_running() or second.status() == psutil.STATUS_ZOMBIE)


async def test_sigterm_stops_every_worker_and_the_supervisor_exits_0(platform: Platform) -> None:
    async with extra_instance(platform, "availability", "availability-worker-stop", grpc_workers="2") as instance:
        workers = _workers(platform.supervisor.pid(instance.name))
        code = await asyncio.to_thread(platform.supervisor.stop, instance.name, 15)
        assert code == 0, "\n".join(line[:300] for line in instance.log().splitlines()[-40:])
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_workers_on_a_used_port_fail_clearly_like_a_single_process(platform: Platform) -> None:
    env = platform.service_env("availability") | {"GRPC_WORKERS": "2"}
    result = subprocess.run([sys.executable, "-m", "services.availability", "serve"], env=env, capture_output=True, text=True, timeout=20)
    assert result.returncode == 3
    assert "in use" in result.stdout + result.stderr
