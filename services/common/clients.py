"""Outbound gRPC channels: tracing, the caller's tenant carried in a short-lived `internal`
token, a deadline on every call, and retries with backoff only for methods declared safe."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from services.common.auth import ServiceTokens, current_tenant
from services.common.errors import DependencyUnavailable, NotFound

T = TypeVar("T")


class _OutboundInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, tokens: ServiceTokens, timeout: float):
        self._tokens = tokens
        self._timeout = timeout

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        metadata = list(client_call_details.metadata or [])
        if not any(k == "authorization" for k, _ in metadata):
            metadata.append(("authorization", f"Bearer {self._tokens.for_tenant(current_tenant())}"))
        timeout = client_call_details.timeout
        timeout = self._timeout if timeout is None else min(timeout, self._timeout)
        details = grpc.aio.ClientCallDetails(client_call_details.method, timeout, metadata, client_call_details.credentials, client_call_details.wait_for_ready)
        return await continuation(details, request)


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


def open_channel(address: str, tokens: ServiceTokens, timeout: float, retryable: Iterable[tuple[str, str]] = ()) -> grpc.aio.Channel:
    """`retryable`: (full service name, method) pairs that are safe to repeat (reads, idempotent writes)."""
    return grpc.aio.insecure_channel(
        address,
        options=[("grpc.enable_retries", 1), ("grpc.service_config", _service_config(retryable))],
        interceptors=[*aio_client_interceptors(), _OutboundInterceptor(tokens, timeout)],
    )


# Codes after which a dependency may well answer a moment later: the caller gets UNAVAILABLE
# and may retry. Any other code means the two services disagree on the contract (a bug).
TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNIMPLEMENTED,  # the dependency is not yet rolled out with this RPC
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


def unavailable(dependency: str, err: grpc.aio.AioRpcError) -> DependencyUnavailable:
    return DependencyUnavailable(dependency, f"{err.code().name}: {err.details()}")


async def call_dependency(dependency: str, call: Awaitable[T], *, not_found: tuple[str, str] | None = None) -> T:
    """Await an outbound RPC; transient failures become DependencyUnavailable (UNAVAILABLE),
    contract disagreements a RuntimeError (INTERNAL, logged). For a read by id, `not_found`
    = (resource, id) turns the dependency's NOT_FOUND into the caller's."""
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        if not_found is not None and err.code() == grpc.StatusCode.NOT_FOUND:
            raise NotFound(*not_found) from None
        if err.code() in TRANSIENT_CODES:
            raise unavailable(dependency, err) from err
        raise RuntimeError(f"{dependency} refused the call: {err.code().name}: {err.details()}") from err
