"""Kafka for the services: client settings (connection, producer, consumer), the CloudEvents
binary-mode envelope (protos/topics/README.md), dead-letter headers, and what a consumer counts
as transient. The consumer loop itself is services/common/consumer.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import ConsumerRecord

from services.common.clients import OUTAGE_CODES
from services.common.config import KafkaSettings
from services.common.db import TRANSIENT_ERRORS
from services.common.errors import DependencyUnavailable

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
# The headers a dead letter carries besides the original ones (protos/topics/README.md).
DLQ_HEADERS = ("dlq_error", "dlq_consumer_group", "dlq_original_partition", "dlq_original_offset", "dlq_failed_at")
_MAX_ERROR_LENGTH = 2000


# --- producer --------------------------------------------------------------------------------------


def connection_options(settings: KafkaSettings) -> dict[str, Any]:
    """Where the brokers are and how to talk to them (TLS, SASL), for every aiokafka client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": settings.kafka_client_name,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        # Verifies the brokers' certificates and host names; with no CA file, the system's CAs.
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile)
    if settings.kafka_security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    """The producer every service uses: acknowledged by all in-sync replicas, no linger, no
    compression (small protobuf messages), idempotence as configured (true in production, false
    against the local broker). No linger because every message is a step of the booking ->
    capacity pipeline (bench/README.md, pipeline findings, "Linger"): a relay sends its whole
    round at once and waits for the acknowledgements, so its messages batch while the first
    request is in flight, and waiting for more would only add the linger to every hop."""
    return {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "linger_ms": 0,
        "compression_type": None,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
    }


def consumer_config(settings: KafkaSettings, group_id: str) -> dict[str, Any]:
    """A group member that commits explicitly (after the effect, never on a timer), with the
    group's liveness and the fetch wait as configured."""
    return {
        **connection_options(settings),
        "group_id": group_id,
        "enable_auto_commit": False,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        # A join waits up to a session for departed members: never time it out sooner.
        "request_timeout_ms": max(settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 5000),
    }


def create_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """A producer, not started: its owner starts it (retrying while the broker is away, so a
    service comes up and serves RPCs without Kafka) and stops it on shutdown. Call it inside the
    event loop."""
    return AIOKafkaProducer(**producer_config(settings))


def rfc3339(instant: datetime) -> str:
    """CloudEvents `time`: RFC 3339 in UTC with microseconds, e.g. 2026-11-21T10:15:02.120000Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cloudevent_headers(
    *,
    ce_id: str,
    source: str,
    ce_type: str,
    time: datetime,
    subject: str,
    tenant_id: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> list[tuple[str, bytes]]:
    """Kafka headers of a CloudEvent in binary mode (protos/topics/README.md); the message value
    is the protobuf event itself."""
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", ce_id),
        ("ce_source", source),
        ("ce_type", ce_type),
        ("ce_time", rfc3339(time)),
        ("ce_subject", subject),
        ("ce_tenantid", tenant_id),
        ("content-type", CONTENT_TYPE),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent))
    if tracestate:
        headers.append(("tracestate", tracestate))
    return [(name, value.encode()) for name, value in headers]


class Backoff:
    """Exponential backoff: initial, doubled on each failure, capped at maximum; reset on success."""

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, factor: float = 2.0):
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


# --- consumer ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """One Kafka message as a handler sees it: CloudEvents binary mode, so the event's attributes
    are headers (`ce_type`, `ce_tenantid`, ...) and `value` is the protobuf message itself."""

    topic: str
    partition: int
    offset: int
    key: str | None
    headers: Mapping[str, str]
    ce_type: str
    tenant_id: str
    value: bytes

    @property
    def ce_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def ce_subject(self) -> str:
        return self.headers.get("ce_subject", "")

    @classmethod
    def from_record(cls, record: ConsumerRecord[Any, Any]) -> Envelope:
        headers = decode_headers(record.headers)
        key = record.key.decode("utf-8", errors="replace") if isinstance(record.key, bytes | bytearray) else record.key
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=key,
            headers=headers,
            ce_type=headers.get("ce_type", ""),
            tenant_id=headers.get("ce_tenantid", ""),
            value=bytes(record.value or b""),
        )


def decode_headers(headers: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """Kafka headers as text (a repeated name keeps its last value)."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in headers}


def dead_letter_headers(record: ConsumerRecord[Any, Any], error: BaseException, group_id: str, failed_at: datetime) -> list[tuple[str, bytes]]:
    """The original headers, unchanged, plus why and where the message failed."""
    description = f"{type(error).__name__}: {error}"[:_MAX_ERROR_LENGTH]
    extra = {
        "dlq_error": description,
        "dlq_consumer_group": group_id,
        "dlq_original_partition": str(record.partition),
        "dlq_original_offset": str(record.offset),
        "dlq_failed_at": rfc3339(failed_at),
    }
    original = [(name, bytes(value or b"")) for name, value in record.headers if name not in extra]
    return original + [(name, value.encode()) for name, value in extra.items()]


class PoisonMessage(Exception):
    """Raise from a handler for a message that can never be processed (it does not decode, its
    version is unknown...): it goes to the dead-letter topic at once, without retries."""


def is_transient(error: BaseException) -> bool:
    """Failures of a dependency (database or service down, overloaded, timing out): they say
    nothing about the message, so it is retried until the dependency is back, never
    dead-lettered. Anything else is taken as a problem of the message."""
    if isinstance(error, (DependencyUnavailable, *TRANSIENT_ERRORS)):  # the database's, as the RPCs classify them
        return True
    return isinstance(error, grpc.aio.AioRpcError) and error.code() in OUTAGE_CODES
