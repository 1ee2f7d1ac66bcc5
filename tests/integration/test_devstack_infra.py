"""The embedded infrastructure really starts, serves, keeps Postgres data across restarts and stops cleanly.

Self-contained: starts its own `Infra` on free ports in a temporary directory, independent of the
session stack, so it also runs beside `make run`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.devstack import Infra, InfraPorts, ensure_topics_async, redis_ping
from services.devstack._proc import tcp_open

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Infra]:
    stack = Infra(tmp_path / "devstack", InfraPorts.free(), env={})
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _group_pids(pid: int) -> set[int]:
    """The process and all its descendants (Postgres forks a backend per connection plus helpers)."""
    proc = psutil.Process(pid)
    return {pid, *(child.pid for child in proc.children(recursive=True))}


def _all_gone(pids: set[int]) -> bool:
    return not any(psutil.pid_exists(pid) for pid in pids)


async def test_infra_serves_postgres_redis_kafka_and_stops_cleanly(infra: Infra) -> None:
    env = infra.env()
    # The embedded broker answers a fetch only when its wait expires: the consumers wait briefly.
    assert env.pop("KAFKA_FETCH_MAX_WAIT_MS") == "25"
    assert set(env) == {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS"}

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        assert conn.execute("SELECT 1, current_database()").fetchone() == (1, "platform")
        conn.execute("CREATE TABLE survives_restart (id int)")
        conn.execute("INSERT INTO survives_restart VALUES (42)")

    assert infra.redis is not None and redis_ping(infra.redis.port)
    client = redis.Redis.from_url(env["REDIS_URL"])
    assert client.ping() is True
    client.close()

    await _kafka_round_trip(env["KAFKA_BOOTSTRAP_SERVERS"])

    assert infra.postgres is not None
    infra.postgres.restart()  # warm start on the same data directory
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT id FROM survives_restart").fetchall() == [(42,)]

    pids = set().union(*(_group_pids(c.pid) for c in infra.components if c.pid))
    ports = [c.port for c in infra.components]
    infra.stop()
    infra.stop()  # idempotent
    assert all(not c.is_running() and c.pid is None for c in infra.components)
    assert _all_gone(pids)
    assert not any(tcp_open(port) for port in ports)


async def _kafka_round_trip(bootstrap: str) -> None:
    topic = f"devstack.check.{uuid.uuid4().hex[:8]}"
    await ensure_topics_async(bootstrap, {topic: 3})
    await ensure_topics_async(bootstrap, {topic: 3})  # idempotent

    # The memory broker refuses the idempotent-producer handshake, hence enable_idempotence=False.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k")
        # Joining the consumer group takes a few seconds on this broker.
        message = await asyncio.wait_for(consumer.getone(), timeout=20)
        assert (message.key, message.value) == (b"k", b"hello")
    finally:
        await consumer.stop()
        await producer.stop()


def test_infra_reaps_servers_orphaned_by_a_killed_run(tmp_path: Path) -> None:
    """`make run` killed with SIGKILL leaves its servers running; the next run stops them and starts afresh."""
    state, ports = tmp_path / "devstack", InfraPorts.free()
    script = textwrap.dedent(
        f"""
        import time
        from services.devstack import Infra, InfraPorts
        Infra({str(state)!r}, InfraPorts({ports.postgres}, {ports.redis}, {ports.kafka}), env={{}}).start()
        print("started", flush=True)
        time.sleep(120)
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "started"
        orphans = {c.pid for c in psutil.Process(owner.pid).children() if c.pid}
        assert len(orphans) == 3
    finally:
        owner.kill()  # like SIGKILL of `make run`: no cleanup runs, the servers survive
        owner.wait()
    assert all(psutil.pid_exists(pid) for pid in orphans)

    stack = Infra(state, ports, env={})
    try:
        stack.start()
        assert _all_gone(orphans)
        with psycopg.connect(stack.env()["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        stack.stop()
        for pid in orphans:  # never leak servers from this test, even when it fails
            if psutil.pid_exists(pid):
                os.killpg(pid, signal.SIGKILL)
