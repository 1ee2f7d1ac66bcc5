"""The pure parts of services.common.kafka: producer and consumer configuration, the CloudEvents binary-mode
headers, decoding a record into an Envelope, dead-letter headers, backoff and which failures are
transient. The consumer loop itself runs against the real broker (tests/integration)."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta, timezone

import grpc
import pytest
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from services.common.config import KafkaSettings
from services.common.errors import DependencyFailed, DependencyUnavailable, InvalidArgument
from services.common.kafka import (
    DLQ_HEADERS,
    Backoff,
    Envelope,
    PoisonMessage,
    cloudevent_headers,
    consumer_config,
    dead_letter_headers,
    decode_headers,
    is_transient,
    producer_config,
    rfc3339,
)


def settings(**overrides: object) -> KafkaSettings:
    return KafkaSettings(kafka_bootstrap_servers="broker:9092", **overrides)  # type: ignore[arg-type]


def record(*, key: bytes | None = b"k-1", value: bytes = b"\x08\x01", headers: list[tuple[str, bytes]] | None = None, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord(
        topic="calendar.event-events.v1",
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value),
        headers=headers if headers is not None else [("ce_type", b"calendar.event.created.v1"), ("ce_tenantid", b"t-1"), ("ce_id", b"id-1")],
    )


# --- settings and producer ---------------------------------------------------------------------------


def test_producer_waits_for_all_replicas_sends_at_once_and_does_not_compress() -> None:
    config = producer_config(settings())
    assert config["acks"] == "all"
    assert config["linger_ms"] == 0
    assert config["compression_type"] is None
    assert config["bootstrap_servers"] == "broker:9092"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("true", True), ("false", False)],
    ids=["off-by-default-for-the-local-broker", "on-as-in-production", "explicitly-off"],
)
def test_idempotence_is_a_setting(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool) -> None:
    if value is not None:
        monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", value)
    assert producer_config(settings())["enable_idempotence"] is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 500), ("10", 10)],
    ids=["kafkas-default-in-production", "short-for-the-embedded-broker"],
)
def test_the_consumers_fetch_wait_is_a_setting(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int) -> None:
    if value is not None:
        monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", value)
    assert consumer_config(settings(), "g")["fetch_max_wait_ms"] == expected


def test_a_consumer_commits_only_explicitly_and_waits_out_a_join() -> None:
    config = consumer_config(settings(kafka_session_timeout_ms=30_000, kafka_request_timeout_ms=15_000), "participations.event-updater")
    assert (config["group_id"], config["enable_auto_commit"]) == ("participations.event-updater", False)
    assert config["request_timeout_ms"] == 35_000  # longer than a session: a rebalance may wait that long


def test_the_client_id_defaults_to_a_name_and_can_be_set() -> None:
    assert producer_config(settings())["client_id"] == "bookings-platform"
    assert producer_config(settings(kafka_client_id="bookings-1"))["client_id"] == "bookings-1"


def test_the_bootstrap_servers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(ValidationError, match="kafka_bootstrap_servers"):
        KafkaSettings()  # type: ignore[call-arg]


# --- CloudEvents ---------------------------------------------------------------------------------------


def test_cloudevent_headers_carry_every_attribute_of_the_binary_mode() -> None:
    headers = cloudevent_headers(
        ce_id="0b4a6c8e-0000-4000-8000-000000000001",
        source="//bookings-platform/bookings",
        ce_type="catalog.service.created.v1",
        time=datetime(2026, 11, 21, 10, 15, 2, 120000, tzinfo=UTC),
        subject="svc-1",
        tenant_id="demo",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate="vendor=1",
    )
    assert dict(headers) == {
        "ce_specversion": b"1.0",
        "ce_id": b"0b4a6c8e-0000-4000-8000-000000000001",
        "ce_source": b"//bookings-platform/bookings",
        "ce_type": b"catalog.service.created.v1",
        "ce_time": b"2026-11-21T10:15:02.120000Z",
        "ce_subject": b"svc-1",
        "ce_tenantid": b"demo",
        "content-type": b"application/protobuf",
        "traceparent": b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "tracestate": b"vendor=1",
    }


def test_trace_headers_are_left_out_when_there_is_no_trace() -> None:
    headers = dict(cloudevent_headers(ce_id="i", source="s", ce_type="t", time=datetime.now(UTC), subject="x", tenant_id="t"))
    assert "traceparent" not in headers and "tracestate" not in headers


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000000Z"),
        (datetime(2026, 1, 2, 4, 4, 5, 7, tzinfo=timezone(timedelta(hours=1))), "2026-01-02T03:04:05.000007Z"),
    ],
    ids=["utc", "an-offset-is-converted-to-utc"],
)
def test_ce_time_is_rfc3339_in_utc(instant: datetime, expected: str) -> None:
    assert rfc3339(instant) == expected


# --- envelope ------------------------------------------------------------------------------------------


def test_an_envelope_exposes_the_cloudevent_attributes_of_a_record() -> None:
    envelope = Envelope.from_record(record())
    assert (envelope.topic, envelope.partition, envelope.offset, envelope.key) == ("calendar.event-events.v1", 2, 7, "k-1")
    assert (envelope.ce_type, envelope.tenant_id, envelope.ce_id) == ("calendar.event.created.v1", "t-1", "id-1")
    assert envelope.value == b"\x08\x01"


def test_an_envelope_tolerates_a_record_without_key_or_headers() -> None:
    envelope = Envelope.from_record(record(key=None, headers=[]))
    assert envelope.key is None
    assert (envelope.ce_type, envelope.tenant_id, envelope.headers) == ("", "", {})


def test_headers_decode_as_text_and_a_repeated_name_keeps_its_last_value() -> None:
    assert decode_headers([("a", b"1"), ("b", None), ("a", b"\xff2")]) == {"a": "\ufffd2", "b": ""}


# --- dead letters --------------------------------------------------------------------------------------


def test_a_dead_letter_keeps_the_original_headers_and_says_why_and_where_it_failed() -> None:
    original = record(offset=41)
    headers = dead_letter_headers(original, ValueError("bad payload"), "availability.cache-invalidation", datetime(2026, 5, 1, tzinfo=UTC))
    assert headers[: len(original.headers)] == list(original.headers)
    extra = dict(headers[len(original.headers) :])
    assert tuple(extra) == DLQ_HEADERS
    assert extra == {
        "dlq_error": b"ValueError: bad payload",
        "dlq_consumer_group": b"availability.cache-invalidation",
        "dlq_original_partition": b"2",
        "dlq_original_offset": b"41",
        "dlq_failed_at": b"2026-05-01T00:00:00.000000Z",
    }


def test_a_message_dead_lettered_again_carries_only_its_latest_failure() -> None:
    first = dead_letter_headers(record(), ValueError("first"), "g", datetime.now(UTC))
    again = dead_letter_headers(record(headers=first), ValueError("second"), "g", datetime.now(UTC))
    names = [name for name, _ in again]
    assert all(names.count(name) == 1 for name in DLQ_HEADERS)
    assert dict(again)["dlq_error"] == b"ValueError: second"


def test_a_long_error_is_truncated() -> None:
    headers = dict(dead_letter_headers(record(), ValueError("x" * 10_000), "g", datetime.now(UTC)))
    assert len(headers["dlq_error"]) == 2000


# --- retries -------------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_restarts_after_a_reset() -> None:
    backoff = Backoff(0.1, 5.0)
    delays = [backoff.next() for _ in range(9)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    backoff.reset()
    assert backoff.next() == 0.1


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)


def _rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="x")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (DependencyUnavailable("postgres", "down"), True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True),
        (TimeoutError(), True),
        (_rpc_error(grpc.StatusCode.UNAVAILABLE), True),
        (_rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), True),
        (_rpc_error(grpc.StatusCode.UNIMPLEMENTED), True),
        (_rpc_error(grpc.StatusCode.INVALID_ARGUMENT), False),
        (_rpc_error(grpc.StatusCode.INTERNAL), False),
        (DependencyFailed("timeframes", "INTERNAL"), False),
        (InvalidArgument.single("event_id", "must be a UUID"), False),
        (ValueError("cannot decode"), False),
        (PoisonMessage("unknown version"), False),
    ],
    ids=[
        "a-dependency-is-down",
        "connection-refused",
        "timeout",
        "a-service-is-unavailable",
        "a-call-timed-out",
        "a-service-not-rolled-out-with-the-rpc-yet",
        "a-call-was-rejected",
        "a-service-failed",
        "a-dependency-failed-as-mapped-by-the-client",
        "a-domain-rejection",
        "a-bug-or-bad-message",
        "a-poison-message",
    ],
)
def test_only_failures_of_a_dependency_are_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
