"""Wires the bookings service. Pools and clients are created here, never at import."""

from __future__ import annotations

import contextlib

from services.api.calendar.schedules.v3.schedules_pb2_grpc import SchedulesStub
from services.bookings.adapters.postgres import PostgresServiceRepository
from services.bookings.adapters.timeframes import TimeframesSchedules, open_timeframes_channel
from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.entrypoints.grpc import rpc_services
from services.bookings.settings import BookingsSettings
from services.common.db import create_pool
from services.common.outbox import start_relay
from services.common.paging import CursorCodec
from services.common.server import Build, RpcService


def make_build(settings: BookingsSettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        pool = await create_pool(settings, settings.database_schema, settings.service_name)
        stack.push_async_callback(pool.close)
        # catalog.service-events.v1 leaves through the outbox; stopped after the server drained.
        await start_relay(stack, pool, settings, service=settings.service_name, schema=settings.database_schema)
        timeframes = open_timeframes_channel(settings, settings.timeframes_address)
        stack.push_async_callback(timeframes.close)

        repository = PostgresServiceRepository(pool)
        catalog = Catalog(repository, TimeframesSchedules(SchedulesStub(timeframes)), CursorCodec(settings.cursor_key))
        return rpc_services(catalog, PolicyProvider(repository))

    return build
