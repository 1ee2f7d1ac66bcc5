"""A TCP proxy that adds a fixed delay to every response, standing in for a slow dependency.

    python -m bench.delay_proxy --delay-ms 20 --route 40001=127.0.0.1:50052 --route 40002=...@18.7

A route may hold its responses for its own time (`@MS`), else for `--delay-ms`. The bench uses
that to calibrate: the proxy itself costs something (one more hop each way, timer overshoot), so
each route holds the delay minus what the proxy measurably adds with no hold at all, and one RPC
through it then takes +delay, as it would if the dependency itself were that much slower.

Bytes from the client go upstream at once; every chunk coming back from the server is held
until `delay` after it arrived, then written in arrival order. Chunks are delayed in a pipeline
(each by `delay` from its own arrival, not one after another), so one gRPC response - HTTP/2
HEADERS, DATA and trailers, whether they arrive as one chunk or three - reaches the client
`delay` later than it would directly: one RPC through the proxy takes +delay, whatever its size.
(Connection set-up and HTTP/2 control frames from the server are delayed the same way; they do
not matter after the first call on a connection.)

It runs as its own process, so the generator's event loop and the proxy never slow each other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time

from bench import runtime

_CHUNK = 64 * 1024


async def _pump_now(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()


async def _pump_delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def release() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                with contextlib.suppress(Exception):
                    writer.write_eof()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    releaser = asyncio.create_task(release())
    try:
        while data := await reader.read(_CHUNK):
            queue.put_nowait((time.monotonic() + delay, data))
    finally:
        queue.put_nowait((time.monotonic() + delay, b""))
        with contextlib.suppress(Exception):
            await releaser


def _handler(target_host: str, target_port: int, delay: float):  # type: ignore[no-untyped-def]
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        tasks = [
            asyncio.create_task(_pump_now(client_reader, upstream_writer)),
            asyncio.create_task(_pump_delayed(upstream_reader, client_writer, delay)),
        ]
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for w in (client_writer, upstream_writer):
                with contextlib.suppress(Exception):
                    w.close()

    return handle


async def serve(routes: list[tuple[int, str, int, float]]) -> None:
    servers = []
    for listen_port, host, port, delay in routes:
        server = await asyncio.start_server(_handler(host, port, delay), "127.0.0.1", listen_port)
        servers.append(server)
        print(f"proxy 127.0.0.1:{listen_port} -> {host}:{port} (responses held {delay * 1000:.2f} ms)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, required=True, help="how long each response is held, unless its route says")
    parser.add_argument("--route", action="append", required=True, help="LISTEN_PORT=HOST:PORT[@HOLD_MS]")
    args = parser.parse_args()
    routes = []
    for route in args.route:
        listen, _, target = route.partition("=")
        target, _, hold = target.partition("@")
        host, _, port = target.rpartition(":")
        routes.append((int(listen), host, int(port), float(hold or args.delay_ms) / 1000.0))
    runtime.run(serve(routes))


if __name__ == "__main__":
    main()
