"""Outbound gRPC channels: tracing, the caller's tenant carried in a short-lived `internal`
token, a deadline on every call, and retries with backoff only for methods declared safe."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from services.common.auth import ServiceTokens, current_tenant
from services.common.errors import DependencyUnavailable


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
    config: dict[str, Any] = {"methodConfig": []}
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


def unavailable(dependency: str, err: grpc.aio.AioRpcError) -> DependencyUnavailable:
    return DependencyUnavailable(dependency, f"{err.code().name}: {err.details()}")
