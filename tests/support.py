"""Helpers shared by the integration tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Awaitable
from typing import Any

import grpc
import pytest

from services.common.auth import ALL_SCOPES, mint_token
from services.common.grpc_status import error_reason, field_violations  # noqa: F401  (re-exported for tests)

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
