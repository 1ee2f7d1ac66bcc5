"""JWT bearer authentication with tenant scoping and scopes (docs/platform.md "Authentication and scopes").

Every request carries `authorization: Bearer <JWT>` whose claims hold `tenant_id` and a
space-separated `scope`. Locally tokens are HS256 with AUTH_JWT_SECRET; in production they are
RS256/ES256 verified against a JWKS. Services calling each other mint a short-lived token for
the same tenant with the `internal` scope, which satisfies any scope check.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from dataclasses import dataclass

import jwt

from services.common.config import ServiceSettings

INTERNAL_SCOPE = "internal"
ALL_SCOPES = (
    "catalog:read",
    "catalog:write",
    "calendar:read",
    "calendar:write",
    "bookings:read",
    "bookings:write",
    "availability:read",
    INTERNAL_SCOPE,
)
_ASYMMETRIC = ["RS256", "ES256"]
_LEEWAY_SECONDS = 30


class AuthError(Exception):
    """The token is missing, malformed, expired or badly signed (UNAUTHENTICATED)."""


class ScopeError(Exception):
    """The token is valid but lacks the scope the RPC needs (PERMISSION_DENIED)."""


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    subject: str
    scopes: frozenset[str]
    token: str

    def require(self, scope: str) -> None:
        # `internal` (service-to-service) satisfies every scope; nothing else satisfies `internal`.
        if scope in self.scopes or INTERNAL_SCOPE in self.scopes:
            return
        raise ScopeError(f"scope {scope!r} is required")


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:  # a programming error: the RPC was not wrapped by the runtime
        raise RuntimeError("no authenticated principal in this context")
    return principal


def current_tenant() -> str:
    return current_principal().tenant_id


def bind_principal(principal: Principal) -> contextvars.Token[Principal | None]:
    return _current.set(principal)


def reset_principal(token: contextvars.Token[Principal | None]) -> None:
    _current.reset(token)


class TokenVerifier:
    """Verifies bearer tokens. A token that verified is remembered until it expires: clients and
    services reuse a token for many calls, and a signature check per RPC is measurable CPU."""

    _CACHE_SIZE = 10_000

    def __init__(self, settings: ServiceSettings):
        self._secret = settings.auth_jwt_secret
        self._issuer = settings.auth_issuer
        self._audience = settings.auth_audience
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=600) if settings.auth_jwks_url else None
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthError("missing authorization metadata (expected 'Bearer <JWT>')")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("authorization must be 'Bearer <JWT>'")
        token = token.strip()
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached[0]:
                return cached[1]
            del self._verified[token]
        principal, expires = await self._verify(token)
        if len(self._verified) >= self._CACHE_SIZE:
            self._verified.clear()  # simple bound; a miss only costs one signature check
        self._verified[token] = (expires, principal)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                # PyJWKClient fetches over HTTP on a cache miss: keep it off the event loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key, algorithms = signing_key.key, _ASYMMETRIC
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "tenant_id"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise AuthError(f"invalid token: {exc}") from None
        tenant = claims.get("tenant_id")
        if not is_tenant_id(tenant):
            raise AuthError("token has no valid tenant_id claim (1 to 100 printable characters)")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise AuthError("scope claim must be a space-separated string")
        principal = Principal(tenant_id=tenant, subject=str(claims.get("sub", "")), scopes=frozenset(scope.split()), token=token)
        # Remembered no longer than decode() would accept it (same leeway).
        return principal, float(claims["exp"]) + _LEEWAY_SECONDS


def is_tenant_id(value: object) -> bool:
    """1 to 100 printable characters, not blank: a tenant id is a key in every table, log line
    and cache key, so control characters (NUL above all, which Postgres cannot store) are refused
    where the token is verified rather than failing deep in a service."""
    return isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable() and not value.isspace() and value == value.strip()


def mint_token(
    secret_or_key: str,
    *,
    tenant_id: str,
    scopes: list[str] | tuple[str, ...],
    subject: str = "dev",
    ttl_seconds: int = 3600,
    algorithm: str = "HS256",
    key_id: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "tenant_id": tenant_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, secret_or_key, algorithm=algorithm, headers=headers)


class ServiceTokens:
    """Short-lived `internal` tokens for calls to other services, cached per tenant."""

    _TTL = 300

    def __init__(self, settings: ServiceSettings):
        self._settings = settings
        self._cache: dict[str, tuple[float, str]] = {}
        if settings.auth_service_signing_key:
            self._key, self._alg = settings.auth_service_signing_key, "ES256" if "EC PRIVATE" in settings.auth_service_signing_key else "RS256"
        else:
            self._key, self._alg = settings.auth_jwt_secret or "", "HS256"

    def for_tenant(self, tenant_id: str) -> str:
        now = time.time()
        cached = self._cache.get(tenant_id)
        if cached and cached[0] > now + 60:
            return cached[1]
        token = mint_token(
            self._key,
            tenant_id=tenant_id,
            scopes=[INTERNAL_SCOPE],
            subject=f"service:{self._settings.service_name}",
            ttl_seconds=self._TTL,
            algorithm=self._alg,
            key_id=self._settings.auth_service_key_id,
            issuer=self._settings.auth_issuer,
            audience=self._settings.auth_audience,
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tenant_id] = (now + self._TTL, token)
        return token
