"""Wires the participations service. The pool, the outbox relay, the timeframes channel, the event
updater's fast settlement and the two consumers are created here, on the server's exit stack,
never at import. The stack closes in reverse: the consumers stop first (finishing and committing
their in-flight messages), then the fast settlement, the channel, the relay (finishing its round)
and the producer, and the pool last."""

from __future__ import annotations

import contextlib

from services.common.auth import ServiceTokens
from services.common.clients import open_channel
from services.common.consumer import KafkaConsumerRunner
from services.common.db import create_pool
from services.common.outbox import start_relay
from services.common.paging import CursorCodec
from services.common.server import Build, RpcService
from services.participations.adapters.postgres import participations_store
from services.participations.adapters.timeframes import RETRYABLE, TimeframesTotals
from services.participations.application.participations import EventUpdater, Participations
from services.participations.entrypoints import events
from services.participations.entrypoints.grpc import rpc_services
from services.participations.settings import ParticipationsSettings


def make_build(settings: ParticipationsSettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        schema = settings.database_schema
        pool = await create_pool(settings, schema, application_name=settings.service_name)
        stack.push_async_callback(pool.close)
        # Fail at start-up, with the fix, rather than on every message.
        if await pool.fetchval("SELECT to_regclass('participations')") is None:
            raise RuntimeError(f"schema {schema!r} is not migrated: run `python -m services.participations migrate` first")
        # bookings.participation-events.v1 leaves through the outbox.
        await start_relay(stack, pool, settings, service=settings.service_name, schema=schema)

        tokens = ServiceTokens(settings)
        channel = open_channel(settings.timeframes_address, tokens, settings.outbound_timeout_seconds, retryable=RETRYABLE)
        stack.push_async_callback(channel.close)

        store = participations_store(pool, acquire_timeout=settings.db_statement_timeout_ms / 1000)
        participations = Participations(store, CursorCodec(settings.cursor_key))
        # Entered before the consumers, so it stops after them (its fast path serves the bookings consumer).
        updater = await stack.enter_async_context(EventUpdater(store, TimeframesTotals(channel, tokens)))
        bookings = events.BookingsConsumer(participations, settle_soon=updater.settle_soon)
        for subscription in (bookings.subscription(), events.EventUpdaterConsumer(updater).subscription()):
            await stack.enter_async_context(KafkaConsumerRunner(settings, subscription, max_attempts=settings.consumer_max_attempts))
        return rpc_services(participations)

    return build
