"""Token verification and scope rules (docs/platform.md "Authentication and scopes"), without a server."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import AuthError, Principal, ScopeError, ServiceTokens, TokenVerifier, mint_token
from services.common.config import ServiceSettings

SECRET = "unit-test-secret-that-is-long-enough-0123"


def settings(**overrides: object) -> ServiceSettings:
    return ServiceSettings(grpc_port=1, auth_jwt_secret=SECRET, **overrides)  # type: ignore[arg-type]


async def test_a_valid_token_yields_its_tenant_and_scopes() -> None:
    token = mint_token(SECRET, tenant_id="t-1", scopes=["catalog:read", "calendar:write"], subject="alice")
    principal = await TokenVerifier(settings()).verify(f"Bearer {token}")
    assert principal.tenant_id == "t-1"
    assert principal.subject == "alice"
    assert principal.scopes == {"catalog:read", "calendar:write"}


@pytest.mark.parametrize(
    "header, message",
    [
        pytest.param(None, "missing", id="no-authorization-metadata"),
        pytest.param("", "missing", id="empty-authorization"),
        pytest.param("Basic abc", "Bearer", id="wrong-scheme"),
        pytest.param("Bearer ", "Bearer", id="bearer-without-token"),
        pytest.param("Bearer not-a-jwt", "invalid token", id="malformed-token"),
    ],
)
async def test_a_missing_or_malformed_token_is_rejected(header: str | None, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        await TokenVerifier(settings()).verify(header)


async def test_an_expired_token_is_rejected_beyond_the_clock_skew_leeway() -> None:
    token = mint_token(SECRET, tenant_id="t", scopes=["catalog:read"], ttl_seconds=-120)
    with pytest.raises(AuthError, match="expired"):
        await TokenVerifier(settings()).verify(f"Bearer {token}")


async def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = mint_token("another-secret-that-is-also-long-enough", tenant_id="t", scopes=[])
    with pytest.raises(AuthError, match="invalid token"):
        await TokenVerifier(settings()).verify(f"Bearer {token}")


async def test_a_token_without_tenant_is_rejected() -> None:
    token = jwt.encode({"exp": int(time.time()) + 60, "scope": "catalog:read"}, SECRET, algorithm="HS256")
    with pytest.raises(AuthError):
        await TokenVerifier(settings()).verify(f"Bearer {token}")


async def test_an_unsigned_alg_none_token_is_rejected() -> None:
    token = jwt.encode({"exp": int(time.time()) + 60, "tenant_id": "t", "scope": "internal"}, None, algorithm="none")
    with pytest.raises(AuthError):
        await TokenVerifier(settings()).verify(f"Bearer {token}")


async def test_audience_and_issuer_are_enforced_when_configured() -> None:
    verifier = TokenVerifier(settings(auth_issuer="https://issuer", auth_audience="bookings"))
    good = mint_token(SECRET, tenant_id="t", scopes=[], issuer="https://issuer", audience="bookings")
    assert (await verifier.verify(f"Bearer {good}")).tenant_id == "t"
    wrong_audience = mint_token(SECRET, tenant_id="t", scopes=[], issuer="https://issuer", audience="other")
    with pytest.raises(AuthError):
        await verifier.verify(f"Bearer {wrong_audience}")


@pytest.mark.parametrize(
    "granted, required, allowed",
    [
        pytest.param({"catalog:read"}, "catalog:read", True, id="exact-scope"),
        pytest.param({"catalog:read"}, "catalog:write", False, id="read-does-not-grant-write"),
        pytest.param({"internal"}, "calendar:write", True, id="internal-grants-every-public-scope"),
        pytest.param({"calendar:write", "catalog:write"}, "internal", False, id="public-scopes-never-grant-internal"),
        pytest.param(set(), "availability:read", False, id="no-scopes"),
    ],
)
def test_scope_rules(granted: set[str], required: str, allowed: bool) -> None:
    principal = Principal(tenant_id="t", subject="s", scopes=frozenset(granted), token="")
    if allowed:
        principal.require(required)
    else:
        with pytest.raises(ScopeError):
            principal.require(required)


async def test_service_tokens_carry_the_tenant_and_only_the_internal_scope() -> None:
    token = ServiceTokens(settings(service_name="bookings")).for_tenant("t-9")
    principal = await TokenVerifier(settings()).verify(f"Bearer {token}")
    assert principal.tenant_id == "t-9"
    assert principal.scopes == {"internal"}
    assert principal.subject == "service:bookings"


async def test_service_tokens_are_signed_with_the_production_key_when_configured() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    tokens = ServiceTokens(settings(auth_service_signing_key=pem, auth_service_key_id="k1"))
    token = tokens.for_tenant("t")
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "k1", "typ": "JWT"}
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"])
    assert claims["tenant_id"] == "t"


def test_settings_require_exactly_one_way_to_verify_tokens() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ServiceSettings(grpc_port=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="exactly one"):
        ServiceSettings(grpc_port=1, auth_jwt_secret=SECRET, auth_jwks_url="https://x/jwks")  # type: ignore[call-arg]


async def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(settings())
    token = mint_token(SECRET, tenant_id="t", scopes=[], ttl_seconds=-25)  # within the 30 s leeway: valid for ~5 s more
    assert (await verifier.verify(f"Bearer {token}")).tenant_id == "t"
    assert (await verifier.verify(f"Bearer {token}")).tenant_id == "t"  # served from memory
    later = time.time() + 10
    monkeypatch.setattr("services.common.auth.time.time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _FrozenDatetime(later))
    with pytest.raises(AuthError, match="expired"):
        await verifier.verify(f"Bearer {token}")


class _FrozenDatetime:
    """jwt reads the clock through datetime.now(tz=utc)."""

    def __init__(self, at: float):
        self._at = at

    def now(self, tz=None):  # type: ignore[no-untyped-def]
        import datetime

        return datetime.datetime.fromtimestamp(self._at, tz)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        import datetime

        return getattr(datetime.datetime, name)


@pytest.mark.parametrize(
    "tenant",
    ["t\x00", "a\x00b", "tab\there", "line\nbreak", " padded", "   ", "\u2028", "evil\u202etxt", "x" * 101],
    ids=["nul-at-the-end", "nul-inside", "tab", "newline", "leading-space", "blank", "line-separator", "bidi-override", "101-characters"],
)
async def test_a_validly_signed_token_with_an_unusable_tenant_id_is_rejected(tenant: str) -> None:
    token = mint_token(SECRET, tenant_id=tenant, scopes=["catalog:read"])
    with pytest.raises(AuthError, match="tenant_id"):
        await TokenVerifier(settings()).verify(f"Bearer {token}")


@pytest.mark.parametrize("tenant", ["demo", "tenant-0b4a6c8e-0000-4000-8000-000000000001", "Studio Zürich", "x" * 100])
async def test_printable_tenant_ids_up_to_100_characters_are_accepted(tenant: str) -> None:
    token = mint_token(SECRET, tenant_id=tenant, scopes=["catalog:read"])
    assert (await TokenVerifier(settings()).verify(f"Bearer {token}")).tenant_id == tenant
