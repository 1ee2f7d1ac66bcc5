"""The one gRPC server runtime every service runs on.

It wraps each servicer method with its SERVER span (services/common/rpc_spans.py),
authentication (JWT, tenant binding, scope check), then the request's decoding and the checks
every request gets (services/common/requests.py: an undecodable body or a NUL character is the
caller's INVALID_ARGUMENT), domain error mapping, structured logging and request metrics; serves
health checking and reflection;
refuses to start on a port already in use; and on SIGTERM/SIGINT reports NOT_SERVING, drains
in-flight RPCs for `shutdown_grace_seconds`, then closes what `build` opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry import metrics

from services.common import errors
from services.common.auth import AuthError, Principal, ScopeError, TokenVerifier, bind_principal, reset_principal
from services.common.config import ServiceSettings
from services.common.grpc_status import to_grpc_status
from services.common.requests import decode_request
from services.common.rpc_spans import end_server_span, rpc_attributes, server_span

log = structlog.get_logger("server")


@dataclass
class RpcService:
    """A servicer and what the runtime needs to host it: its methods take decoded requests."""

    servicer: Any
    descriptor: Any  # google.protobuf ServiceDescriptor
    scopes: dict[str, str]  # method name -> required scope; every method must be listed

    def __post_init__(self) -> None:
        methods = {m.name for m in self.descriptor.methods}
        missing = methods - self.scopes.keys()
        if missing:
            raise ValueError(f"{self.descriptor.full_name}: no scope declared for {sorted(missing)}")


@dataclass
class _Metrics:
    requests: Any = field(init=False)
    duration: Any = field(init=False)

    def __post_init__(self) -> None:
        meter = metrics.get_meter("services.common.server")
        self.requests = meter.create_counter("rpc.server.requests", unit="{request}", description="RPCs handled, by method and status code")
        self.duration = meter.create_histogram("rpc.server.duration", unit="ms", description="RPC handling time, by method and status code")
        self.shed = meter.create_counter(
            "rpc.server.shed", unit="{request}", description="RPCs refused with RESOURCE_EXHAUSTED because too many were in progress"
        )


class _Guard:
    def __init__(self, verifier: TokenVerifier, max_in_flight: int = 0) -> None:
        self._verifier = verifier
        self._metrics = _Metrics()
        # Load shedding: beyond this many application RPCs in progress, a new one is refused at
        # once (RESOURCE_EXHAUSTED, which callers retry with backoff) rather than queued until
        # every caller misses its deadline. Health checks are not counted or refused, so an
        # overloaded pod is not also restarted by its liveness probe. 0: no limit.
        self._max_in_flight = max_in_flight
        self._in_flight = 0

    def wrap(self, service: str, rpc: MethodDescriptor, scope: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        method = rpc.name
        attrs_base = {"rpc.service": service, "rpc.method": method}
        full_method = f"/{service}/{method}"
        span_attributes = rpc_attributes(full_method)
        request_class = message_factory.GetMessageClass(rpc.input_type)

        async def handler(body: bytes, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            message = ""
            tenant = None
            metadata = dict(context.invocation_metadata() or ())
            self._in_flight += 1
            with server_span(full_method, span_attributes, metadata) as span:
                try:
                    if self._max_in_flight and self._in_flight > self._max_in_flight:
                        self._metrics.shed.add(1, attrs_base)
                        raise _Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"overloaded: more than {self._max_in_flight} calls in progress; retry with backoff")
                    principal = await self._authenticate(metadata, scope)
                    tenant = principal.tenant_id
                    token = bind_principal(principal)
                    span.set_attribute("tenant.id", tenant)
                    try:
                        with structlog.contextvars.bound_contextvars(tenant_id=tenant, rpc=f"{service}/{method}"):
                            return await fn(decode_request(request_class, body), context)
                    finally:
                        reset_principal(token)
                except _Abort as abort:
                    code, message = abort.code, abort.message
                    await context.abort(abort.code, abort.message)
                except errors.DomainError as exc:
                    status = to_grpc_status(exc)
                    code, message = status.code, status.details
                    await context.abort_with_status(status)
                except NotImplementedError:
                    # What a generated servicer base method raises for an RPC of the contract that
                    # the service does not override (yet): UNIMPLEMENTED, not INTERNAL.
                    code = grpc.StatusCode.UNIMPLEMENTED
                    message = f"{service}/{method} is part of the contract but not implemented yet"
                    await context.abort(code, message)
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    code = context.code() or grpc.StatusCode.CANCELLED  # type: ignore[assignment]
                    raise
                except Exception as exc:
                    # Never UNKNOWN: an unexpected failure is INTERNAL, logged with its trace id.
                    code = grpc.StatusCode.INTERNAL
                    message = "internal error; see the service logs for this trace"
                    span.record_exception(exc)
                    log.exception("unhandled error", rpc=f"{service}/{method}", tenant_id=tenant)
                    await context.abort(code, message)
                finally:
                    self._in_flight -= 1
                    elapsed_ms = (time.perf_counter() - started) * 1000.0
                    if isinstance(code, grpc.StatusCode):
                        end_server_span(span, code, message)
                    code_name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                    attrs = {**attrs_base, "rpc.grpc.status_code": code_name}
                    self._metrics.requests.add(1, attrs)
                    self._metrics.duration.record(elapsed_ms, attrs)
                    # One access line per RPC: what operators grep first, joined to traces by trace_id.
                    log.info("rpc", rpc=f"{service}/{method}", code=code_name, duration_ms=round(elapsed_ms, 2), tenant_id=tenant)

        return handler

    async def _authenticate(self, metadata: dict[str, Any], scope: str) -> Principal:
        try:
            principal = await self._verifier.verify(metadata.get("authorization"))
        except AuthError as exc:
            raise _Abort(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
        try:
            principal.require(scope)
        except ScopeError as exc:
            raise _Abort(grpc.StatusCode.PERMISSION_DENIED, str(exc)) from None
        return principal


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str):
        self.code = code
        self.message = message


def _add_guarded(server: grpc.aio.Server, guard: _Guard, svc: RpcService) -> None:
    """Registers the service's methods as the generated `add_*_to_server` would, except that they
    receive the raw body: the guard decodes it after authentication (module docstring)."""
    name = svc.descriptor.full_name
    handlers = {
        m.name: grpc.unary_unary_rpc_method_handler(
            guard.wrap(name, m, svc.scopes[m.name], getattr(svc.servicer, m.name)),
            request_deserializer=None,
            response_serializer=message_factory.GetMessageClass(m.output_type).SerializeToString,
        )
        for m in svc.descriptor.methods
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)


class PortInUse(RuntimeError):
    pass


Build = Callable[[contextlib.AsyncExitStack], Awaitable[list[RpcService]]]


async def run_server(settings: ServiceSettings, build: Build, *, ready: Callable[[int], None] | None = None) -> None:
    """Build the services (opening pools and clients on `stack`), serve until SIGTERM/SIGINT,
    then drain and close."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async with contextlib.AsyncExitStack() as stack:
        services = await build(stack)
        server = grpc.aio.server(
            options=[
                # Without this a second process silently binds the same port and steals traffic;
                # only the workers of one supervisor (services.common.workers) share a port.
                ("grpc.so_reuseport", 1 if settings.grpc_reuse_port else 0),
                ("grpc.keepalive_time_ms", 30_000),
                # Clients re-resolve and reconnect when a connection ages out, so pods added by a
                # scale-out get calls within minutes; the grace lets in-flight calls finish.
                ("grpc.max_connection_age_ms", 300_000),
                ("grpc.max_connection_age_grace_ms", 30_000),
                ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ],
        )
        guard = _Guard(TokenVerifier(settings), settings.grpc_max_in_flight)
        for svc in services:
            _add_guarded(server, guard, svc)

        health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        names = [svc.descriptor.full_name for svc in services]
        reflection.enable_server_reflection([*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server)

        address = f"{settings.grpc_host}:{settings.grpc_port}"
        try:
            port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise PortInUse(f"{settings.service_name}: cannot listen on {address}: the port is in use (is another instance running?)") from exc
        if port == 0:
            raise PortInUse(f"{settings.service_name}: cannot listen on {address}: the port is in use (is another instance running?)")
        await server.start()
        # Everything built so far lives as long as the process: keep the cyclic GC from
        # re-scanning it on every collection (fewer, shorter pauses under load).
        gc.freeze()
        for name in ["", *names]:
            await health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("serving", address=address, services=names)
        if ready:
            ready(port)

        await stop.wait()
        log.info("shutting down", grace_seconds=settings.shutdown_grace_seconds)
        await health.enter_graceful_shutdown()
        await server.stop(settings.shutdown_grace_seconds)
        log.info("stopped")
