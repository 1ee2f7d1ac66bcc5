"""Outbound gRPC channels: tracing, the caller's tenant carried in a short-lived `internal`
token, a deadline on every call, and retries with backoff only for methods declared safe."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import grpc
import structlog
from google.rpc import error_details_pb2

from services.common.auth import ServiceTokens, current_tenant
from services.common.errors import AlreadyExists, DependencyFailed, DependencyUnavailable, FailedPrecondition, NotFound
from services.common.grpc_status import status_details
from services.common.rpc_spans import client_span, end_client_span, rpc_attributes

T = TypeVar("T")
log = structlog.get_logger("clients")


class _UnaryUnary:
    """One method of a `Channel`: the caller's tenant as an `internal` token unless the caller
    sets `authorization` itself, the trace context, the CLIENT span, the deadline."""

    __slots__ = ("_attributes", "_call", "_method", "_timeout", "_tokens")

    def __init__(self, call: grpc.aio.UnaryUnaryMultiCallable, method: str, tokens: ServiceTokens, timeout: float):
        self._call = call
        self._method = method
        self._attributes = rpc_attributes(method)
        self._tokens = tokens
        self._timeout = timeout

    def __call__(self, request: Any, *, timeout: float | None = None, metadata: Sequence[tuple[str, str]] | None = None, **kwargs: Any) -> Awaitable[Any]:
        return self._invoke(request, timeout, metadata, kwargs)

    async def _invoke(self, request: Any, timeout: float | None, metadata: Sequence[tuple[str, str]] | None, kwargs: dict[str, Any]) -> Any:
        outbound = list(metadata or ())
        if not any(k == "authorization" for k, _ in outbound):
            outbound.append(("authorization", f"Bearer {self._tokens.for_tenant(current_tenant())}"))
        deadline = self._timeout if timeout is None else min(timeout, self._timeout)
        with client_span(self._method, self._attributes, outbound) as span:
            try:
                response = await self._call(request, timeout=deadline, metadata=outbound, **kwargs)
            except grpc.aio.AioRpcError as err:
                end_client_span(span, err.code(), err.details() or "")
                raise
            end_client_span(span, grpc.StatusCode.OK)
            return response


class Channel:
    """An outbound channel for generated stubs (`ServicesStub(channel)`): each unary call gets
    what `_UnaryUnary` adds. Done here rather than with client interceptors, which grpc.aio runs
    in an extra task per call (services/common/rpc_spans.py says what that cost). Only unary
    methods: a stub of a streaming method fails at construction, not silently without auth."""

    def __init__(self, channel: grpc.aio.Channel, tokens: ServiceTokens, timeout: float):
        self._channel = channel
        self._tokens = tokens
        self._timeout = timeout

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, _registered_method: bool = False) -> _UnaryUnary:
        call = self._channel.unary_unary(method, request_serializer, response_deserializer, _registered_method)
        return _UnaryUnary(call, method, self._tokens, self._timeout)

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    async def __aenter__(self) -> Channel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _service_config(retryable: Iterable[tuple[str, str]]) -> str:
    names = [{"service": s, "method": m} for s, m in retryable]
    # round_robin: with a `dns:///` address of a headless Service every pod behind it gets a
    # connection and calls rotate over them (pick_first, the default, would pin one pod).
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": []}
    if names:
        config["methodConfig"].append(
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        )
    return json.dumps(config)


def open_channel(address: str, tokens: ServiceTokens, timeout: float, retryable: Iterable[tuple[str, str]] = ()) -> Channel:
    """`retryable`: (full service name, method) pairs that are safe to repeat (reads, idempotent writes)."""
    channel = grpc.aio.insecure_channel(address, options=[("grpc.enable_retries", 1), ("grpc.service_config", _service_config(retryable))])
    return Channel(channel, tokens, timeout)


# How a dependency's status becomes ours (docs/errors.md, "A dependency's answer"). Only what may
# well succeed a moment later is an outage (UNAVAILABLE, which callers retry); the caller's
# mistakes stay the caller's; anything else is a bug between the two services (INTERNAL, logged),
# which retrying cannot mend.
OUTAGE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,  # the dependency sheds load
        grpc.StatusCode.ABORTED,  # a concurrent write won; the same call may succeed now
        grpc.StatusCode.UNIMPLEMENTED,  # the dependency is not yet rolled out with this RPC
        grpc.StatusCode.CANCELLED,
    }
)


def unavailable(dependency: str, err: grpc.aio.AioRpcError) -> DependencyUnavailable:
    return DependencyUnavailable(dependency, f"{err.code().name}: {err.details()}")


def dependency_error(
    dependency: str, err: grpc.aio.AioRpcError, *, not_found: tuple[str, str] | None = None, refused: Callable[[str], Exception] | None = None
) -> Exception:
    """Our answer to a dependency's failed call. `not_found` = (resource, id) names what the
    dependency did not find in the caller's words (else its own ResourceInfo is passed on);
    `refused` turns its INVALID_ARGUMENT into the caller's mistake, for a call that carries the
    caller's values (given the dependency's message). An INVALID_ARGUMENT without `refused` means
    we sent a request the dependency's contract refuses: our bug, not the caller's."""
    code = err.code()
    if code in OUTAGE_CODES:
        return unavailable(dependency, err)
    if code == grpc.StatusCode.NOT_FOUND:
        if not_found is not None:
            return NotFound(*not_found)
        info = next((d for d in status_details(err) if isinstance(d, error_details_pb2.ResourceInfo)), None)
        return NotFound(info.resource_type, info.resource_name) if info is not None else NotFound(dependency, "")
    if code == grpc.StatusCode.INVALID_ARGUMENT and refused is not None:
        return refused(err.details() or "")
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS):
        # A refusal with its reason is the dependency's word on the state of things: passed on.
        info = next((d for d in status_details(err) if isinstance(d, error_details_pb2.ErrorInfo)), None)
        if info is not None and info.reason and code == grpc.StatusCode.FAILED_PRECONDITION:
            return FailedPrecondition(info.reason, err.details() or info.reason, dict(info.metadata))
        if info is not None and info.reason:
            resource = next((d for d in status_details(err) if isinstance(d, error_details_pb2.ResourceInfo)), None)
            return AlreadyExists(
                resource.resource_type if resource else dependency,
                resource.resource_name if resource else "",
                reason=info.reason,
                metadata=dict(info.metadata),
                message=err.details() or info.reason,
            )
    log.error("dependency failed", dependency=dependency, code=code.name, details=err.details())
    return DependencyFailed(dependency, code.name)


async def call_dependency(
    dependency: str, call: Awaitable[T], *, not_found: tuple[str, str] | None = None, refused: Callable[[str], Exception] | None = None
) -> T:
    """Await an outbound RPC; a failure becomes our answer as `dependency_error` says."""
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        raise dependency_error(dependency, err, not_found=not_found, refused=refused) from err
