"""The pure steps of services.common.consumer: the route step (which messages a consumer acts on,
which it skips, which are poison) and how a subscription cuts routed messages into effects. The
runner itself (fetch, per-partition workers, retries, dead letters, commits) runs against the real
broker in tests/integration/test_kafka_consumer.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import Int32Value, StringValue

from services.common.consumer import Inbound, Routes, Subscription
from services.common.kafka import Envelope, PoisonMessage
from services.common.topics import MessageType, Topic

CHANGED = MessageType("test.thing.changed.v1", StringValue)
COUNTED = MessageType("test.thing.counted.v1", Int32Value)
THINGS = Topic("test.things.v1", key="thing id", message_types=(CHANGED, COUNTED), local_partitions=1)


def envelope(
    ce_type: str = CHANGED.ce_type, value: bytes = StringValue(value="x").SerializeToString(), *, tenant: str = "t-1", topic: str = THINGS.name
) -> Envelope:
    return Envelope(topic=topic, partition=0, offset=0, key="k", headers={"ce_type": ce_type}, ce_type=ce_type, tenant_id=tenant, value=value)


@pytest.mark.parametrize(
    "message, routed",
    [
        pytest.param(envelope(), True, id="a-type-the-consumer-acts-on-is-routed"),
        pytest.param(envelope(COUNTED.ce_type, Int32Value(value=1).SerializeToString()), False, id="a-declared-type-it-does-not-act-on-is-skipped"),
        pytest.param(envelope("test.thing.merged.v9"), False, id="a-type-the-topic-does-not-declare-is-skipped"),
        pytest.param(envelope(topic="test.others.v1"), False, id="a-topic-it-does-not-read-is-skipped"),
    ],
)
def test_the_route_step_acts_on_the_consumers_types_and_skips_the_rest(message: Envelope, routed: bool) -> None:
    inbound = Routes((THINGS,), (CHANGED,)).route(message)
    assert (inbound is not None) is routed
    if inbound is not None:
        assert (inbound.message_type, inbound.message, inbound.tenant_id) == (CHANGED, StringValue(value="x"), "t-1")


@pytest.mark.parametrize(
    "message, error",
    [
        pytest.param(envelope(tenant=""), "without ce_tenantid", id="no-tenant"),
        pytest.param(envelope(value=b"\x0a\x05ab"), "value is not a google.protobuf.StringValue", id="not-its-declared-protobuf"),
    ],
)
def test_a_message_that_can_never_be_processed_is_poison(message: Envelope, error: str) -> None:
    with pytest.raises(PoisonMessage, match=error):
        Routes((THINGS,), (CHANGED,)).route(message)


def test_a_consumer_can_only_act_on_types_its_topics_declare() -> None:
    with pytest.raises(ValueError, match="test.thing.merged.v9"):
        Routes((THINGS,), (MessageType("test.thing.merged.v9", StringValue),))


async def test_each_takes_one_message_at_a_time_by_type() -> None:
    seen: list[tuple[str, Any]] = []

    async def changed(inbound: Inbound[Any]) -> None:
        seen.append(("changed", inbound.message.value))

    async def counted(inbound: Inbound[Any]) -> None:
        seen.append(("counted", inbound.message.value))

    subscription = Subscription.each("g", (THINGS,), {CHANGED: changed, COUNTED: counted})
    await subscription.deliver([envelope(), envelope(COUNTED.ce_type, Int32Value(value=3).SerializeToString()), envelope("test.thing.merged.v9")])
    assert seen == [("changed", "x"), ("counted", 3)]
    assert subscription.batch_limit == 1


async def test_batched_takes_the_routed_messages_together_up_to_its_limit() -> None:
    batches: list[list[str]] = []

    async def effect(messages: Sequence[Inbound[Any]]) -> None:
        batches.append([m.message.value for m in messages])

    subscription = Subscription.batched("g", (THINGS,), (CHANGED,), effect, limit=2)
    values = [StringValue(value=str(i)).SerializeToString() for i in range(5)]
    await subscription.deliver([envelope(value=v) for v in values])
    assert batches == [["0", "1"], ["2", "3"], ["4"]]
    with pytest.raises(ValueError, match="limit"):
        Subscription.batched("g", (THINGS,), (CHANGED,), effect, limit=0)
