"""Helpers shared by the integration tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import pytest

from services.common.auth import ALL_SCOPES, mint_token
from services.common.grpc_status import error_reason, field_violations  # noqa: F401  (re-exported for tests)

T = TypeVar("T")

JWT_SECRET = os.environ.setdefault("TEST_JWT_SECRET", "test-secret-" + os.urandom(16).hex())


def token(tenant: str, *scopes: str, ttl_seconds: int = 600, secret: str | None = None) -> str:
    return mint_token(secret or JWT_SECRET, tenant_id=tenant, scopes=list(scopes or ALL_SCOPES), ttl_seconds=ttl_seconds, subject="test")


def auth(tenant: str, *scopes: str, ttl_seconds: int = 600) -> list[tuple[str, str]]:
    """Call metadata for `tenant` with `scopes` (all non-internal scopes when none given)."""
    chosen = scopes or tuple(s for s in ALL_SCOPES if s != "internal")
    return [("authorization", f"Bearer {token(tenant, *chosen, ttl_seconds=ttl_seconds)}")]


def expired_auth(tenant: str) -> list[tuple[str, str]]:
    return auth(tenant, ttl_seconds=-3600)


async def expect_error(code: grpc.StatusCode, call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """Await `call`, assert it fails with `code`, return the error for further checks."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code, f"expected {code.name}, got {info.value.code().name}: {info.value.details()}"
    return info.value


async def eventually(
    probe: Callable[[], T | Awaitable[T]],
    accept: Callable[[T], bool] = bool,
    *,
    within: float = 15.0,
    every: float = 0.05,
    what: str = "condition",
) -> T:
    """Call `probe` (a function or a coroutine function) until `accept` holds for its answer, and
    return that answer; after `within` seconds fail naming `what` and the last answer. For what
    happens asynchronously: Kafka consumers, the outbox relay, the cache, feature toggles."""
    deadline = time.monotonic() + within
    while True:
        answer = probe()
        if inspect.isawaitable(answer):
            answer = await answer
        if accept(answer):  # type: ignore[arg-type]
            return answer  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within} s; last answer: {answer!r}")
        await asyncio.sleep(every)
