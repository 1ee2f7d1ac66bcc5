"""`bookings dlq`: look at and replay dead letters (protos/topics/README.md, "Dead letters").

A consumer that cannot process a message after its bounded retries publishes it to
`<topic>.dlq` with the original key, value and headers plus `dlq_error`, `dlq_consumer_group`,
`dlq_original_partition`, `dlq_original_offset` and `dlq_failed_at`
(services/common/kafka.KafkaConsumerRunner).

    bookings dlq list bookings.booking-events.v1 [--limit 100]
    bookings dlq replay bookings.booking-events.v1 --offset 3 --offset 7     # or --all

`list` reads the dead-letter topic from the beginning without a consumer group (nothing is
committed, nothing moves for anybody). `replay` publishes the chosen dead letters again to the
original topic, with their original key, value and headers (`ce_id` included), without the
`dlq_*` headers; the topic's consumers are idempotent, so a message replayed twice, or one that
had partly been applied, is harmless. Dead letters stay in the DLQ (a topic cannot delete a
message); a replayed message that fails again is dead-lettered again, at a new offset.

The broker is `--bootstrap`, else KAFKA_BOOTSTRAP_SERVERS, else the broker of `make run`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text

from services.cli import render
from services.cli.arguments import Leaf, positive_int
from services.common.config import KafkaSettings
from services.common.kafka import connection_options, decode_headers
from services.common.topics import DLQ_SUFFIX

DEFAULT_BOOTSTRAP = "127.0.0.1:59092"  # the broker of `make run` (services/devstack/infra.InfraPorts)
DEFAULT_LIST_LIMIT = 100
_DLQ_HEADER_PREFIX = "dlq_"
_CLIENT_ID = "bookings-cli-dlq"


class DlqError(Exception):
    """A broker, topic or offset the command cannot use; printed as `error: <message>`."""


class _Context(Protocol):
    args: argparse.Namespace
    out: render.Renderer


# --- pure parts ---------------------------------------------------------------------------------------


def topic_names(name: str) -> tuple[str, str]:
    """(original topic, dead-letter topic) of a topic given either way."""
    name = name.strip()
    original = name[: -len(DLQ_SUFFIX)] if name.endswith(DLQ_SUFFIX) else name
    if not original:
        raise DlqError(f"{name!r} is not a topic name")
    return original, original + DLQ_SUFFIX


@dataclass(frozen=True)
class Position:
    """Where a dead letter is in the DLQ: `N` (partition 0, what the local DLQs have) or `P:N`."""

    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> Position:
        partition, _, offset = text.rpartition(":")
        try:
            position = cls(int(partition) if partition else 0, int(offset))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an offset (N, or P:N for partition P)") from None
        if position.partition < 0 or position.offset < 0:
            raise argparse.ArgumentTypeError(f"{text!r}: partition and offset are 0 or more")
        return position

    def __str__(self) -> str:
        return str(self.offset) if self.partition == 0 else f"{self.partition}:{self.offset}"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def position(self) -> Position:
        return Position(self.partition, self.offset)

    @property
    def text_headers(self) -> dict[str, str]:
        return decode_headers(self.headers)

    @property
    def key_text(self) -> str:
        return self.key.decode("utf-8", errors="replace") if self.key is not None else ""

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers: everything but what the dead-lettering added."""
        return [(name, value) for name, value in self.headers if not name.startswith(_DLQ_HEADER_PREFIX)]

    def summary(self) -> dict[str, Any]:
        h = self.text_headers
        return {
            "partition": self.partition,
            "offset": self.offset,
            "key": self.key_text,
            "ce_type": h.get("ce_type", ""),
            "ce_id": h.get("ce_id", ""),
            "tenant_id": h.get("ce_tenantid", ""),
            "dlq_error": h.get("dlq_error", ""),
            "dlq_consumer_group": h.get("dlq_consumer_group", ""),
            "dlq_original_partition": h.get("dlq_original_partition", ""),
            "dlq_original_offset": h.get("dlq_original_offset", ""),
            "failed_at": h.get("dlq_failed_at", ""),
        }


def select(letters: Sequence[DeadLetter], positions: Sequence[Position]) -> list[DeadLetter]:
    """The dead letters at `positions`, in the order given (duplicates once); all or none."""
    by_position = {letter.position: letter for letter in letters}
    missing = [str(p) for p in positions if p not in by_position]
    if missing:
        raise DlqError(f"no dead letter at offset(s) {', '.join(missing)}; `bookings dlq list` shows what there is")
    return [by_position[p] for p in dict.fromkeys(positions)]


# --- broker -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DlqContents:
    topic: str
    total: int  # dead letters in the topic (all partitions)
    letters: list[DeadLetter]  # the first `limit` of them, by partition then offset


async def read_dead_letters(bootstrap: str, topic: str, *, limit: int | None, timeout: float) -> DlqContents:
    """The topic from the beginning up to its end as of now, no consumer group."""
    consumer = AIOKafkaConsumer(**_connection(bootstrap), enable_auto_commit=False, auto_offset_reset="earliest")
    await _started(consumer, bootstrap, timeout)
    try:
        if topic not in await consumer.topics():
            raise DlqError(f"topic {topic} does not exist on {bootstrap}")
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        wanted = total if limit is None else min(limit, total)
        letters: list[DeadLetter] = []
        for tp in partitions:  # one partition at a time, so the list is in (partition, offset) order
            if len(letters) >= wanted:
                break
            consumer.seek(tp, starts[tp])
            while (await consumer.position(tp)) < ends[tp] and len(letters) < wanted:
                batch = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=500), timeout)
                for record in batch.get(tp, []):
                    if record.offset < ends[tp] and len(letters) < wanted:
                        letters.append(DeadLetter(record.partition, record.offset, record.key, record.value or b"", tuple(record.headers)))
        return DlqContents(topic, total, letters)
    except (KafkaError, TimeoutError) as exc:
        raise DlqError(f"reading {topic} from {bootstrap} failed: {exc!r}") from exc
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    topic: str
    partition: int
    offset: int


async def replay(bootstrap: str, topic: str, letters: Sequence[DeadLetter], *, timeout: float) -> list[Replayed]:
    """Publish each dead letter to `topic` in order, each acknowledged before the next is sent
    (a failure leaves a clear prefix replayed, which the output reports)."""
    producer = AIOKafkaProducer(**_connection(bootstrap), acks="all", request_timeout_ms=int(timeout * 1000))
    await _started(producer, bootstrap, timeout)
    done: list[Replayed] = []
    try:
        for letter in letters:
            sent = await asyncio.wait_for(producer.send_and_wait(topic, value=letter.value, key=letter.key, headers=letter.replay_headers()), timeout)
            done.append(Replayed(letter, topic, sent.partition, sent.offset))
        return done
    except (KafkaError, TimeoutError) as exc:
        replayed = ", ".join(str(r.letter.position) for r in done) or "none"
        raise DlqError(f"publishing to {topic} on {bootstrap} failed after replaying {replayed}: {exc!r}") from exc
    finally:
        await producer.stop()


def _connection(bootstrap: str) -> dict[str, Any]:
    """The broker, with the same TLS/SASL settings as the services (KAFKA_SECURITY_PROTOCOL …
    from the environment: in a pod, the CLI talks to Kafka exactly as the service does)."""
    try:
        settings = KafkaSettings(kafka_bootstrap_servers=bootstrap, kafka_client_id=_CLIENT_ID)
    except ValidationError as exc:
        raise DlqError(f"Kafka settings: {exc}") from None
    return connection_options(settings)


async def _started(client: AIOKafkaConsumer | AIOKafkaProducer, bootstrap: str, timeout: float) -> None:
    # aiokafka logs every failed connection attempt; the one error line below says it all.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        await asyncio.wait_for(client.start(), timeout)
    except (KafkaError, TimeoutError, OSError) as exc:
        await client.stop()
        raise DlqError(
            f"cannot reach the Kafka broker at {bootstrap} ({exc!r}); is the platform running (`make run`)? Pass --bootstrap or set KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


# --- commands -----------------------------------------------------------------------------------------


def cmd_list(ctx: _Context) -> None:
    args = ctx.args
    _, dlq_topic = topic_names(args.topic)
    contents = asyncio.run(read_dead_letters(args.bootstrap, dlq_topic, limit=args.limit, timeout=args.timeout))
    out = ctx.out
    if out.as_json:
        out.json({"topic": dlq_topic, "total": contents.total, "dead_letters": [letter.summary() for letter in contents.letters]})
        return
    if not contents.total:
        out.line(f"No dead letters in {dlq_topic}.")
        return
    table = Table(title=f"Dead letters in {dlq_topic} ({_count(contents)})", title_justify="left", title_style="bold")
    for header in ("offset", "key", "ce_type", "tenant", "dlq_error", "failed_at"):
        table.add_column(header, no_wrap=header != "dlq_error", overflow="fold")
    for letter in contents.letters:
        s = letter.summary()
        table.add_row(*(Text(v) for v in (str(letter.position), s["key"], s["ce_type"], s["tenant_id"], s["dlq_error"], s["failed_at"])))
    out.console.print(table)
    out.hint(f"Replay: bookings dlq replay {topic_names(args.topic)[0]} --offset N [--offset M ...]  (or --all)")


def _count(contents: DlqContents) -> str:
    shown = len(contents.letters)
    return str(shown) if shown == contents.total else f"first {shown} of {contents.total}; raise --limit for more"


def cmd_replay(ctx: _Context) -> None:
    args = ctx.args
    original, dlq_topic = topic_names(args.topic)

    async def chosen_then_replayed() -> list[Replayed]:
        contents = await read_dead_letters(args.bootstrap, dlq_topic, limit=None, timeout=args.timeout)
        letters = contents.letters if args.all else select(contents.letters, args.offsets)
        return await replay(args.bootstrap, original, letters, timeout=args.timeout) if letters else []

    done = asyncio.run(chosen_then_replayed())
    out = ctx.out
    if out.as_json:
        out.json(
            {
                "from": dlq_topic,
                "to": original,
                "replayed": [{**r.letter.summary(), "replayed_partition": r.partition, "replayed_offset": r.offset} for r in done],
            }
        )
        return
    if not done:
        out.line(f"No dead letters in {dlq_topic}: nothing replayed.")
        return
    table = Table(title=f"Replayed {len(done)} dead letter(s) from {dlq_topic} to {original}", title_justify="left", title_style="bold")
    for header in ("dlq offset", "key", "ce_type", "tenant", "now at"):
        table.add_column(header, no_wrap=True)
    for r in done:
        s = r.letter.summary()
        table.add_row(*(Text(v) for v in (str(r.letter.position), s["key"], s["ce_type"], s["tenant_id"], f"{r.partition}:{r.offset}")))
    out.console.print(table)


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf, env: Mapping[str, str]) -> None:
    """`bookings dlq list|replay`, added to the CLI's command parsers."""
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP
    dlq = commands.add_parser("dlq", help="dead letters: messages a consumer gave up on (<topic>.dlq)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("topic", metavar="TOPIC", help="the original topic, e.g. bookings.booking-events.v1 (its .dlq is read)")
        p.add_argument("--bootstrap", default=bootstrap, help=f"Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS, default {DEFAULT_BOOTSTRAP})")

    p = leaf(dlq, "list", cmd_list, "dead letters of a topic from the beginning: offset, key, type, tenant, error, when")
    common(p)
    p.add_argument("--limit", type=positive_int, default=DEFAULT_LIST_LIMIT, help=f"show at most this many (default {DEFAULT_LIST_LIMIT})")

    p = leaf(dlq, "replay", cmd_replay, "publish dead letters again to the original topic (without the dlq_* headers)")
    common(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--offset",
        dest="offsets",
        type=Position.parse,
        action="extend",
        nargs="+",
        metavar="N",
        help="DLQ offset(s) to replay (P:N for partition P); repeatable",
    )
    which.add_argument("--all", action="store_true", help="replay every dead letter of the topic")
