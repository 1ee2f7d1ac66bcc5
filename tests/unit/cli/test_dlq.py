"""The pure parts of `bookings dlq` (services/cli/dlq.py): topic names, offsets, choosing dead
letters, and the headers a replay carries. The commands against the real broker are in
tests/integration/test_dlq_cli.py."""

from __future__ import annotations

import argparse

import pytest

from services.cli.dlq import DeadLetter, DlqError, Position, select, topic_names
from services.cli.main import build_parser


@pytest.mark.parametrize(
    "given, names",
    [
        pytest.param("bookings.booking-events.v1", ("bookings.booking-events.v1", "bookings.booking-events.v1.dlq"), id="the-original-topic"),
        pytest.param("bookings.booking-events.v1.dlq", ("bookings.booking-events.v1", "bookings.booking-events.v1.dlq"), id="the-dlq-itself"),
    ],
)
def test_a_topic_may_be_named_either_way(given: str, names: tuple[str, str]) -> None:
    assert topic_names(given) == names


def test_a_bare_suffix_is_no_topic() -> None:
    with pytest.raises(DlqError):
        topic_names(".dlq")


@pytest.mark.parametrize(
    "text, position, shown",
    [
        pytest.param("7", Position(0, 7), "7", id="N-is-partition-0"),
        pytest.param("2:15", Position(2, 15), "2:15", id="P:N"),
        pytest.param("0:3", Position(0, 3), "3", id="partition-0-shown-bare"),
    ],
)
def test_offsets_are_N_or_P_colon_N(text: str, position: Position, shown: str) -> None:
    assert Position.parse(text) == position
    assert str(position) == shown


@pytest.mark.parametrize("text", ["", "x", "1:", "-1", "1:-2", "1:2:3"])
def test_bad_offsets_are_usage_errors(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        Position.parse(text)


def letter(offset: int, partition: int = 0, headers: tuple[tuple[str, bytes], ...] = ()) -> DeadLetter:
    return DeadLetter(partition, offset, b"k", b"v", headers)


def test_select_keeps_the_order_given_and_each_letter_once() -> None:
    letters = [letter(0), letter(1), letter(2), letter(0, partition=1)]
    chosen = select(letters, [Position(0, 2), Position(1, 0), Position(0, 2)])
    assert [(c.partition, c.offset) for c in chosen] == [(0, 2), (1, 0)]


def test_select_refuses_when_any_offset_is_missing() -> None:
    with pytest.raises(DlqError, match=r"no dead letter at offset\(s\) 5, 1:1"):
        select([letter(0), letter(1)], [Position(0, 1), Position(0, 5), Position(1, 1)])


def test_a_replay_carries_the_original_headers_only() -> None:
    headers = (
        ("ce_id", b"1"),
        ("ce_type", b"bookings.booking.created.v1"),
        ("traceparent", b"00-abc-def-01"),
        ("dlq_error", b"ValueError: x"),
        ("dlq_consumer_group", b"g"),
        ("dlq_original_partition", b"0"),
        ("dlq_original_offset", b"4"),
        ("dlq_failed_at", b"2026-11-21T10:15:02.120000Z"),
    )
    dead = letter(3, headers=headers)
    assert dead.replay_headers() == [("ce_id", b"1"), ("ce_type", b"bookings.booking.created.v1"), ("traceparent", b"00-abc-def-01")]
    summary = dead.summary()
    assert (summary["dlq_error"], summary["failed_at"], summary["ce_type"], summary["key"]) == (
        "ValueError: x",
        "2026-11-21T10:15:02.120000Z",
        "bookings.booking.created.v1",
        "k",
    )


def test_the_broker_comes_from_the_flag_the_environment_or_make_run() -> None:
    assert build_parser({}).parse_args(["dlq", "list", "t"]).bootstrap == "127.0.0.1:59092"
    assert build_parser({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"}).parse_args(["dlq", "list", "t"]).bootstrap == "kafka:9092"
    assert build_parser({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"}).parse_args(["dlq", "list", "t", "--bootstrap", "b:1"]).bootstrap == "b:1"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["dlq", "replay", "t"], id="replay-needs-offsets-or-all"),
        pytest.param(["dlq", "replay", "t", "--all", "--offset", "1"], id="not-both"),
        pytest.param(["dlq", "list", "t", "--limit", "0"], id="limit-positive"),
    ],
)
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser({}).parse_args(argv)
    assert exc.value.code == 2
