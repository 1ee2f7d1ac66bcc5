"""Reading a topic from the outside, as a test checks what a service published: every partition
from the beginning, no consumer group."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.structs import RecordMetadata, TopicPartition

from services.common.kafka import decode_headers


class TopicReader:
    """Every partition of a topic from the beginning, no consumer group; keeps the records that
    `match`, in arrival order (which is offset order within a partition)."""

    def __init__(self, bootstrap: str, topic: str, match: Callable[[ConsumerRecord[Any, Any]], bool]):
        self.topic = topic
        self.records: list[ConsumerRecord[Any, Any]] = []
        self._match = match
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        await self._consumer.topics()  # fetches the metadata partitions_for_topic answers from
        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        assert partitions, f"topic {self.topic} does not exist"
        self._consumer.assign([TopicPartition(self.topic, p) for p in sorted(partitions)])
        await self._consumer.seek_to_beginning()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def until(self, done: Callable[[list[ConsumerRecord[Any, Any]]], bool], within: float = 20.0) -> list[ConsumerRecord[Any, Any]]:
        deadline = time.monotonic() + within
        while not done(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.topic}: condition not met within {within}s; got {[headers(r).get('ce_type') for r in self.records]}")
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records += [r for r in records if self._match(r)]
        return self.records

    async def drain(self) -> list[ConsumerRecord[Any, Any]]:
        """Everything up to the end of the topic as of now (to see duplicates too)."""
        ends = await self._consumer.end_offsets(list(self._consumer.assignment()))
        while [tp for tp, end in ends.items() if await self._consumer.position(tp) < end]:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records += [r for r in records if self._match(r)]
        return self.records


def headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return decode_headers(record.headers)


def of_tenant(tenant: str) -> Callable[[ConsumerRecord[Any, Any]], bool]:
    """Records of one tenant (its `ce_tenantid` header)."""
    encoded = tenant.encode()
    return lambda r: dict(r.headers).get("ce_tenantid") == encoded


async def committed_offsets(bootstrap: str, group_id: str, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
    """A group's committed offsets, read without joining it."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await reader.start()
    try:
        return {tp: (await reader.committed(tp)) or 0 for tp in partitions}
    finally:
        await reader.stop()


async def committed_past(bootstrap: str, group_id: str, records: Sequence[RecordMetadata | ConsumerRecord[Any, Any]], *, within: float) -> None:
    """Wait until `group_id` committed past every one of `records`: its consumer has handled them
    (or dead-lettered them)."""
    wanted: dict[TopicPartition, int] = {}
    for m in records:
        tp = TopicPartition(m.topic, m.partition)
        wanted[tp] = max(wanted.get(tp, 0), m.offset + 1)
    deadline = time.monotonic() + within
    while True:
        offsets = await committed_offsets(bootstrap, group_id, list(wanted))
        if all(offsets[tp] >= end for tp, end in wanted.items()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{group_id} did not commit past {wanted} within {within}s (committed {offsets})")
        await asyncio.sleep(0.1)
