"""Typed settings read once from the environment at start-up. A missing or malformed value
stops the process with one clear message naming every bad variable."""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_CONFIG = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)


class ServiceSettings(BaseSettings):
    """What every service needs. Each service subclasses it with its own fields and defaults."""

    model_config = _CONFIG

    service_name: str = "service"
    grpc_host: str = "0.0.0.0"
    grpc_port: int = Field(ge=1, le=65535)
    # Longest time SIGTERM waits for in-flight RPCs before cancelling them. Kubernetes'
    # terminationGracePeriodSeconds must be longer.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=300)
    # Deadline applied to every outbound RPC that has none (or a longer one) from its caller.
    outbound_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # Server processes sharing the port (SO_REUSEPORT), for a machine with several cores and no
    # orchestrator; on Kubernetes keep 1 per pod and scale pods. A Python process uses one core.
    grpc_workers: int = Field(default=1, ge=1, le=64)
    # Set by the worker supervisor for its workers only: they bind with SO_REUSEPORT. A single
    # process never does, so a second instance on the same port fails instead of sharing traffic.
    grpc_reuse_port: bool = False
    # Application RPCs in progress at most (per process) before new ones are refused with
    # RESOURCE_EXHAUSTED; health checks are never refused. 0 turns shedding off.
    grpc_max_in_flight: int = Field(default=256, ge=0, le=100_000)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    # Auth (docs/platform.md "Authentication and scopes"): HS256 with a shared secret locally,
    # JWKS-verified RS256/ES256 in production.
    auth_jwt_secret: str | None = Field(default=None, min_length=32)
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    # Production: private key (PEM) this service signs its short-lived `internal` tokens with;
    # its public key must be in the JWKS. Locally the HS256 secret signs them.
    auth_service_signing_key: str | None = None
    auth_service_key_id: str | None = None

    # Key that signs paging cursors (so a tampered cursor is rejected). Defaults to the JWT secret.
    cursor_signing_key: str | None = None

    @model_validator(mode="after")
    def _auth_is_configured(self) -> ServiceSettings:
        if bool(self.auth_jwt_secret) == bool(self.auth_jwks_url):
            raise ValueError("set exactly one of AUTH_JWT_SECRET (HS256, local) or AUTH_JWKS_URL (production)")
        if self.auth_jwks_url and not (self.auth_service_signing_key or self.cursor_signing_key):
            raise ValueError("with AUTH_JWKS_URL, set CURSOR_SIGNING_KEY (and AUTH_SERVICE_SIGNING_KEY for internal calls)")
        return self

    @property
    def cursor_key(self) -> bytes:
        return (self.cursor_signing_key or self.auth_jwt_secret or "").encode()


class DatabaseSettings(BaseSettings):
    """Mixin for services that own a Postgres schema."""

    model_config = _CONFIG

    database_url: str = Field(pattern=r"^postgres(ql)?://")
    # Each service owns one schema; no service reads another's tables.
    db_schema: str = Field(default="", pattern=r"^[a-z_][a-z0-9_]*$|^$")
    db_pool_min_size: int = Field(default=2, ge=0, le=100)
    db_pool_max_size: int = Field(default=10, ge=1, le=200)
    db_statement_timeout_ms: int = Field(default=5000, ge=100, le=600000)

    @property
    def database_schema(self) -> str:
        """The schema the service owns: DB_SCHEMA, or the service name when it is empty."""
        return self.db_schema or str(getattr(self, "service_name", ""))


class KafkaSettings(BaseSettings):
    """Mixin for services that publish (outbox relay) or consume Kafka domain events."""

    model_config = _CONFIG

    # Comma-separated host:port list.
    kafka_bootstrap_servers: str = Field(min_length=1)
    # Idempotent producer (no duplicates from the producer's own retries). **true in
    # production** (Strimzi Kafka). The local broker (Tansu) refuses the idempotent-producer
    # handshake, hence false by default; delivery is at least once either way and every
    # consumer is idempotent, so this only removes a source of duplicates.
    kafka_enable_idempotence: bool = False
    # Client id the broker logs and quotas see; empty means the service name.
    kafka_client_id: str = ""
    # How long a produce request (and a batch waiting for a partition leader) may take before it
    # fails; also bounds how long shutdown waits to flush the producer.
    kafka_request_timeout_ms: int = Field(default=15_000, ge=1_000, le=300_000)
    # Consumer group liveness: a member silent this long is evicted and its partitions move on.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100, le=100_000)
    # Longest time the broker holds a consumer's fetch while it has nothing to return. Kafka
    # answers as soon as data arrives, so its default (500) costs nothing there. The local
    # broker (Tansu) answers only when this wait expires, so every hop of the pipeline would
    # wait for it: the embedded stack sets a few milliseconds (services/devstack/infra.py).
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=1, le=10_000)
    # Transport security. PLAINTEXT locally; production (Strimzi) listens with TLS and
    # authenticates each service as a SCRAM user: SASL_SSL + SCRAM-SHA-512, the cluster CA
    # certificate (KAFKA_SSL_CAFILE) and the user's password from the Secret Strimzi creates.
    # KAFKA_SSL_CERTFILE/KEYFILE are for mutual-TLS users instead of SCRAM.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> KafkaSettings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        tls = self.kafka_security_protocol.endswith("SSL")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if not sasl and (self.kafka_sasl_username or self.kafka_sasl_password):
            raise ValueError("KAFKA_SASL_USERNAME/PASSWORD are set but KAFKA_SECURITY_PROTOCOL is not SASL_PLAINTEXT or SASL_SSL")
        if not tls and (self.kafka_ssl_cafile or self.kafka_ssl_certfile or self.kafka_ssl_keyfile):
            raise ValueError("KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL is not SSL or SASL_SSL")
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("set both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE (mutual TLS), or neither")
        return self

    @property
    def kafka_client_name(self) -> str:
        return self.kafka_client_id or str(getattr(self, "service_name", "")) or "bookings-platform"


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], **overrides: object) -> S:
    """Build settings or exit with a message listing every bad variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"  {name}: {err['msg']}")
        sys.stderr.write(f"invalid configuration for {cls.__name__}:\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None
