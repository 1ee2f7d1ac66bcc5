"""Wires the timeframes service. The pool, the producer and the outbox relay are created here, on
the server's exit stack (closed after the server drained), never at import."""

from __future__ import annotations

import contextlib

from services.common.db import create_pool
from services.common.outbox import start_relay
from services.common.paging import CursorCodec
from services.common.server import Build, RpcService
from services.timeframes.adapters.postgres import calendar_store
from services.timeframes.application.calendar import Calendar
from services.timeframes.application.holds import AppointmentHolds
from services.timeframes.application.working_hours import WorkingHours
from services.timeframes.entrypoints.grpc import rpc_services
from services.timeframes.settings import TimeframesSettings


def make_build(settings: TimeframesSettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        schema = settings.database_schema
        pool = await create_pool(settings, schema, application_name=settings.service_name)
        stack.push_async_callback(pool.close)
        # Fail at start-up, with the fix, rather than on every RPC.
        if await pool.fetchval("SELECT to_regclass('events')") is None:
            raise RuntimeError(f"schema {schema!r} is not migrated: run `python -m services.timeframes migrate` first")
        # calendar.event-events.v1 leaves through the outbox; stopped after the server drained.
        await start_relay(stack, pool, settings, service=settings.service_name, schema=schema)
        store = calendar_store(pool, acquire_timeout=settings.db_statement_timeout_ms / 1000)
        return rpc_services(Calendar(store, CursorCodec(settings.cursor_key)), WorkingHours(store), AppointmentHolds(store))

    return build
