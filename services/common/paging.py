"""Opaque, tamper-proof cursors for cursor paging. A cursor holds the sort key of the last item
returned, a fingerprint of the query it belongs to, and an HMAC; a cursor edited by hand or
replayed with other filters is INVALID_ARGUMENT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from services.common.errors import InvalidArgument
from services.common.instants import from_micros, to_micros
from services.common.validation import Violations, is_uuid

T = TypeVar("T")

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

    def decode(self, cursor: str, fingerprint: str | None) -> list[Any]:
        """The sort key of a cursor this codec signed for the query `fingerprint` (None: for any
        query; the check that it belongs to this one waits until the filters are valid)."""
        try:
            body, sig = cursor.split(".")
            payload = _unb64(body)
            valid = hmac.compare_digest(_unb64(sig), self._sign(payload))
            data = json.loads(payload) if valid else None
        except (ValueError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("k"), list):
            raise InvalidArgument.single(_CURSOR_FIELD, "is not a cursor returned by this RPC")
        if fingerprint is not None and data.get("q") != fingerprint:
            raise InvalidArgument.single(_CURSOR_FIELD, "belongs to a query with other filters")
        return data["k"]

    def page(self, limit: int, cursor: str, fingerprint: str, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Page:
        v = Violations()
        page = self.add_page(v, limit, cursor, fingerprint, default=default, maximum=maximum)
        v.raise_if_any()
        assert page is not None
        return page

    def add_page(
        self, v: Violations, limit: int, cursor: str, fingerprint: str | None, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
    ) -> Page | None:
        """The page, or None with its violations added to `v` (the limit's and the cursor's
        together). `fingerprint` None: the query's filters are invalid, so the cursor is only
        checked for being one of ours, not yet for belonging to them."""
        limit_ok = v.check(0 <= limit <= maximum, "cursor_paging.limit", f"must be between 0 and {maximum} (0 means {default})")
        if len(cursor) > 2048:
            v.add(_CURSOR_FIELD, "is too long")
            return None
        try:
            after = self.decode(cursor, fingerprint) if cursor else None
        except InvalidArgument as exc:
            for violation in exc.violations:
                v.add(violation.field, violation.description)
            return None
        return Page(limit=limit or default, after=after) if limit_ok and fingerprint is not None else None

    def paginate(self, rows: Sequence[T], page: Page, fingerprint: str, key: Callable[[T], list[Any]]) -> tuple[list[T], str]:
        """`rows` read with `page.limit + 1` (one more tells whether another page follows): the page,
        and the cursor after its last row ("" on the last page)."""
        shown = list(rows[: page.limit])
        return shown, self.encode(key(shown[-1]), fingerprint) if len(rows) > page.limit else ""


def instant_key(instant: datetime, item_id: str) -> list[Any]:
    """The keyset sort key of an item ordered by an instant, then its id (what a cursor carries)."""
    return [to_micros(instant), item_id]


def parse_instant_key(key: list[Any]) -> tuple[datetime, str]:
    """The (instant, id) of a decoded cursor's key. The cursor is signed, so a key that does not
    fit means a cursor of another version of the RPC: INVALID_ARGUMENT like any foreign cursor."""
    if len(key) == 2 and isinstance(key[0], int) and not isinstance(key[0], bool) and isinstance(key[1], str) and is_uuid(key[1]):
        try:
            return from_micros(key[0]), key[1]
        except OverflowError:
            pass
    raise InvalidArgument.single(_CURSOR_FIELD, "is not a cursor returned by this RPC")


class Filters(Protocol):
    def fingerprint_parts(self) -> list[object]: ...


F = TypeVar("F", bound=Filters)


def validated_page(codec: CursorCodec, tenant: str, rpc: str, validate: Callable[[], F], limit: int, cursor: str) -> tuple[F, Page, str]:
    """Validate a query's filters and its paging together, so every bad field is reported in one
    INVALID_ARGUMENT. The cursor is bound to the tenant, the RPC and every filter (not the page
    size, which may change from page to page); with invalid filters only the limit is checked, as
    the cursor belongs to valid ones. Returns the filters, the page and the cursor fingerprint."""
    v = Violations()
    query: F | None = None
    try:
        query = validate()
    except InvalidArgument as exc:
        for violation in exc.violations:
            v.add(violation.field, violation.description)
    fingerprint = query_fingerprint(tenant, rpc, *query.fingerprint_parts()) if query is not None else ""
    page = codec.add_page(v, limit, cursor, fingerprint if query is not None else None)
    v.raise_if_any()
    assert query is not None and page is not None
    return query, page, fingerprint
