"""The floor: the fastest a Python grpc.aio service that fans out to four dependencies can answer
on this machine. No auth, no protobuf (raw bytes through generic handlers), no interceptors,
no logging, no work.

    python -m bench.floor backend --port P             # Noop: returns b"" at once
    python -m bench.floor front --port Q --backend 127.0.0.1:P
                                                       # FanOut: four concurrent Noop calls, then b""

Both run as their own processes, like availability and its dependencies do, so a request to the
front crosses the same process boundaries as one to availability: generator -> front ->
backend.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

import grpc

from bench import runtime

SERVICE = "floor.Floor"
NOOP = f"/{SERVICE}/Noop"
FAN_OUT = f"/{SERVICE}/FanOut"
FAN_OUT_WIDTH = 4


async def _serve(port: int, handlers: dict[str, grpc.RpcMethodHandler], on_stop=None) -> None:  # type: ignore[no-untyped-def]
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port}")
    await server.start()
    gc.freeze()  # as services/common/server.py does after start-up
    print(f"floor {list(handlers)} on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1.0)
    if on_stop is not None:
        await on_stop()


async def backend(port: int) -> None:
    async def noop(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return b""

    await _serve(port, {"Noop": grpc.unary_unary_rpc_method_handler(noop)})


async def front(port: int, backend_address: str) -> None:
    channel = grpc.aio.insecure_channel(backend_address)
    noop = channel.unary_unary(NOOP)

    async def fan_out(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.gather(*(noop(b"", timeout=2.0) for _ in range(FAN_OUT_WIDTH)))
        return b""

    await _serve(port, {"FanOut": grpc.unary_unary_rpc_method_handler(fan_out)}, on_stop=channel.close)


def main() -> None:
    parser = argparse.ArgumentParser(description="bare grpc.aio fan-out floor")
    parser.add_argument("role", choices=["backend", "front"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", default="")
    args = parser.parse_args()
    if args.role == "backend":
        runtime.run(backend(args.port))
    else:
        runtime.run(front(args.port, args.backend))


if __name__ == "__main__":
    main()
