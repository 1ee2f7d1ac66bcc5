"""Opaque, tamper-proof cursors for cursor paging. A cursor holds the sort key of the last item
returned, a fingerprint of the query it belongs to, and an HMAC; a cursor edited by hand or
replayed with other filters is INVALID_ARGUMENT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from services.common.errors import InvalidArgument

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_CURSOR_FIELD = "cursor_paging.cursor"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(*parts: Any) -> str:
    """Stable digest of the filters a cursor is valid for."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Page:
    limit: int
    after: list[Any] | None  # sort key of the last item of the previous page


class CursorCodec:
    def __init__(self, key: bytes):
        if not key:
            raise ValueError("cursor signing key must not be empty")
        self._key = key

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, sort_key: list[Any], fingerprint: str) -> str:
        payload = json.dumps({"k": sort_key, "q": fingerprint}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cursor: str, fingerprint: str) -> list[Any]:
        try:
            body, sig = cursor.split(".")
            payload = _unb64(body)
            valid = hmac.compare_digest(_unb64(sig), self._sign(payload))
            data = json.loads(payload) if valid else None
        except (ValueError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("k"), list):
            raise InvalidArgument.single(_CURSOR_FIELD, "is not a cursor returned by this RPC")
        if data.get("q") != fingerprint:
            raise InvalidArgument.single(_CURSOR_FIELD, "belongs to a query with other filters")
        return data["k"]

    def page(self, limit: int, cursor: str, fingerprint: str, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Page:
        if limit < 0 or limit > maximum:
            raise InvalidArgument.single("cursor_paging.limit", f"must be between 0 and {maximum} (0 means {default})")
        if len(cursor) > 2048:
            raise InvalidArgument.single(_CURSOR_FIELD, "is too long")
        after = self.decode(cursor, fingerprint) if cursor else None
        return Page(limit=limit or default, after=after)


class Filters(Protocol):
    def fingerprint_parts(self) -> list[object]: ...


F = TypeVar("F", bound=Filters)


def validated_page(codec: CursorCodec, tenant: str, rpc: str, validate: Callable[[], F], limit: int, cursor: str) -> tuple[F, Page, str]:
    """Validate a query's filters and its paging together, so every bad field is reported in one
    INVALID_ARGUMENT. The cursor is bound to the tenant, the RPC and every filter (not the page
    size, which may change from page to page); with invalid filters only the limit is checked, as
    the cursor belongs to valid ones. Returns the filters, the page and the cursor fingerprint."""
    violations = []
    query: F | None = None
    try:
        query = validate()
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    fingerprint = query_fingerprint(tenant, rpc, *query.fingerprint_parts()) if query is not None else ""
    page: Page | None = None
    try:
        page = codec.page(limit, cursor if query is not None else "", fingerprint)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    if violations:
        raise InvalidArgument(violations)
    assert query is not None and page is not None
    return query, page, fingerprint
