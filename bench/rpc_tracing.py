"""`make bench-rpc-tracing`: what tracing adds to the CPU cost of one gRPC call, server side and
client side, for the spans of services/common/rpc_spans.py and for
opentelemetry-instrumentation-grpc's interceptors (which the services used before).

    python -m bench.rpc_tracing [--calls 3000] [--rounds 12]

Each server variant is its own process answering a no-op unary call on raw bytes; the client is
this process. CPU time (user + system, all threads) per call is read from the process under
test: the server's for the server variants, this process's for the client variants (against the
bare server). Variants take turns, round after round and each round starting with another one,
so that a noisy neighbour or the position in the round costs all of them alike; the report gives
each one's median over the rounds and its ratio to the bare call measured in the same rounds.
Tracing is on as in production for a call nobody sampled (SDK tracer provider, parent-based
sampler, the caller's `traceparent` says not sampled): the common case at a 10 % sampling ratio.
Writes bench/results/rpc-tracing.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psutil

from bench import runtime
from bench.stack import REPO, RESULTS

SERVICE = "bench.Tracing"
METHOD = f"/{SERVICE}/Noop"
TOKEN = "Bearer " + "x" * 300  # about the size of the services' internal JWTs
UNSAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
SERVER_VARIANTS = {
    "bare": "no tracing",
    "instrumentation": "opentelemetry-instrumentation-grpc's aio server interceptor",
    "rpc_spans": "services/common/rpc_spans.py server_span in the handler",
}
CLIENT_VARIANTS = {
    "bare": "no tracing; token and deadline passed by the caller",
    "instrumentation": "opentelemetry-instrumentation-grpc's aio client interceptors + an interceptor adding token and deadline",
    "rpc_spans": "services/common/clients.py Channel (client_span, token, deadline)",
}


def _tracing() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    trace.set_tracer_provider(TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.1))))


# --- the server under test (a subprocess: python -m bench.rpc_tracing --serve VARIANT --port P) ---


async def serve(variant: str, port: int) -> None:
    _tracing()
    from services.common.rpc_spans import end_server_span, rpc_attributes, server_span

    attributes = rpc_attributes(METHOD)

    async def noop(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if variant == "rpc_spans":
            with server_span(METHOD, attributes, dict(context.invocation_metadata() or ())) as span:
                end_server_span(span, grpc.StatusCode.OK)
        return b""

    interceptors = []
    if variant == "instrumentation":
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        interceptors.append(aio_server_interceptor())
    server = grpc.aio.server(interceptors=interceptors)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Noop": grpc.unary_unary_rpc_method_handler(noop)}),))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


# --- the clients under test ------------------------------------------------------------------------


class _TokenAndDeadline(grpc.aio.UnaryUnaryClientInterceptor):
    """What services/common/clients.py's interceptor did before: the token and a deadline."""

    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        metadata = [*(details.metadata or ()), ("authorization", TOKEN)]
        return await continuation(grpc.aio.ClientCallDetails(details.method, 2.0, metadata, details.credentials, details.wait_for_ready), request)


class _Tokens:
    def for_tenant(self, tenant: str) -> str:
        return TOKEN.removeprefix("Bearer ")


def _client(variant: str, address: str) -> tuple[Any, Any]:
    """(channel, a function making one call)."""
    if variant == "instrumentation":
        from opentelemetry.instrumentation.grpc import aio_client_interceptors

        channel = grpc.aio.insecure_channel(address, interceptors=[*aio_client_interceptors(), _TokenAndDeadline()])
        call = channel.unary_unary(METHOD)
        return channel, lambda: call(b"")
    if variant == "rpc_spans":
        from services.common import clients

        wrapped = clients.Channel(grpc.aio.insecure_channel(address), _Tokens(), 2.0)  # type: ignore[arg-type]
        call = wrapped.unary_unary(METHOD)
        return wrapped, lambda: call(b"", metadata=[("authorization", TOKEN)])
    channel = grpc.aio.insecure_channel(address)
    call = channel.unary_unary(METHOD)
    # What the others put on the wire, passed as it is.
    return channel, lambda: call(b"", timeout=2.0, metadata=[("authorization", TOKEN), ("traceparent", UNSAMPLED)])


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def _per_call(process: psutil.Process, call: Any, calls: int) -> float:
    """µs of `process`'s CPU per call, `calls` calls one after the other."""
    for _ in range(100):
        await call()
    before = _cpu(process)
    for _ in range(calls):
        await call()
    return (_cpu(process) - before) / calls * 1e6


@dataclass
class Result:
    side: str
    variant: str
    what: str
    rounds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


async def measure(ports: dict[str, int], pids: dict[str, int], calls: int, rounds: int) -> list[Result]:
    from opentelemetry import context, propagate

    _tracing()
    # The client calls are made inside a span context nobody sampled, as a service handling an
    # unsampled request makes them.
    context.attach(propagate.extract({"traceparent": UNSAMPLED}))
    channels = {variant: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for variant, port in ports.items()}
    for channel in channels.values():
        await asyncio.wait_for(channel.channel_ready(), 20)
    clients = {variant: _client(variant, f"127.0.0.1:{ports['bare']}") for variant in CLIENT_VARIANTS}
    results = [Result("server", v, what, []) for v, what in SERVER_VARIANTS.items()]
    results += [Result("client", v, what, []) for v, what in CLIENT_VARIANTS.items()]
    me = psutil.Process(os.getpid())
    metadata = [("authorization", TOKEN), ("traceparent", UNSAMPLED)]
    for n in range(rounds):
        # A different variant goes first each round: whatever the position costs, all share it.
        shift = n % len(results)
        for result in results[shift:] + results[:shift]:
            if result.side == "server":
                call = channels[result.variant].unary_unary(METHOD)
                value = await _per_call(psutil.Process(pids[result.variant]), lambda c=call: c(b"", timeout=2.0, metadata=metadata), calls)
            else:
                value = await _per_call(me, clients[result.variant][1], calls)
            result.rounds.append(value)
        print(f"round {n + 1}/{rounds}: " + ", ".join(f"{r.side} {r.variant} {r.rounds[-1]:.0f}" for r in results), flush=True)
    for channel in [*channels.values(), *(c for c, _ in clients.values())]:
        await channel.close()
    return results


def report(results: list[Result], calls: int, rounds: int, out: Path, began: datetime) -> None:
    bare = {r.side: r for r in results if r.variant == "bare"}
    lines = [
        "# What tracing adds to one gRPC call\n",
        "Generated by bench/rpc_tracing.py (`make bench-rpc-tracing`). Do not edit: re-run it.\n",
        f"- **Date**: {began.isoformat(timespec='seconds')} (UTC)",
        f"- **Machine**: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}, grpcio {grpc.__version__}, {runtime.name()}",
        f"- **Method**: {calls} sequential no-op unary calls per variant and round, {rounds} rounds, variants taking turns; "
        "CPU (user + system, all threads) per call of the process under test; tracing on, the call not sampled (the caller's "
        "`traceparent` says so), as for 90 % of calls at the production sampling ratio.\n",
        "| side | variant | what | CPU µs per call (median) | × bare | rounds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.median / bare[r.side].median
        lines.append(f"| {r.side} | {r.variant} | {r.what} | {r.median:.0f} | {ratio:.2f} | {', '.join(f'{v:.0f}' for v in r.rounds)} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "rpc-tracing.md").write_text("\n".join(lines) + "\n")
    payload = {"date": began.isoformat(), "calls": calls, "rounds": rounds, "results": [{**r.__dict__, "median": r.median} for r in results]}
    (out / "rpc-tracing.json").write_text(json.dumps(payload, indent=2) + "\n")
    print("\n".join(lines[6:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rpc_tracing", description="CPU per gRPC call with and without tracing")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--serve", choices=list(SERVER_VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        runtime.run(serve(args.serve, args.port))
        return 0
    from services.devstack.infra import free_port

    began = datetime.now(UTC)
    started = time.monotonic()
    ports = {variant: free_port() for variant in SERVER_VARIANTS}
    servers = {
        variant: subprocess.Popen([sys.executable, "-m", "bench.rpc_tracing", "--serve", variant, "--port", str(port)], cwd=REPO)
        for variant, port in ports.items()
    }
    try:
        results = runtime.run(measure(ports, {v: p.pid for v, p in servers.items()}, args.calls, args.rounds))
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
    report(results, args.calls, args.rounds, args.out, began)
    print(f"took {time.monotonic() - started:.0f} s; report in {args.out / 'rpc-tracing.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
