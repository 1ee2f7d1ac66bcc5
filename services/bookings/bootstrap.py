"""Wires the bookings service. Pools and clients are created here, never at import."""

from __future__ import annotations

import contextlib

from services.api.bookings.availability.v1.availability_calendar_pb2_grpc import AvailabilityCalendarStub
from services.api.bookings.availability.v2.availability_time_slots_pb2_grpc import AvailabilityTimeSlotsStub
from services.api.calendar.schedules.v3.schedules_pb2_grpc import SchedulesStub
from services.bookings.adapters.availability import AppointmentSlotsClient, AvailabilityCalendarClient, open_availability_channel
from services.bookings.adapters.postgres import bookings_store
from services.bookings.adapters.timeframes import TimeframesCalendar, TimeframesHolds, TimeframesSchedules, open_timeframes_channel
from services.bookings.application.appointments import Appointments
from services.bookings.application.bookings import Bookings
from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.application.staff import StaffDirectory
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
        # catalog.service-events.v1, bookings.staff-events.v1 and bookings.booking-events.v1 leave
        # through the outbox; the relay stops after the server drained.
        await start_relay(stack, pool, settings, service=settings.service_name, schema=settings.database_schema)
        timeframes = open_timeframes_channel(settings, settings.timeframes_address)
        stack.push_async_callback(timeframes.close)

        # CreateBooking validates through availability's AvailabilityCalendar (docs/rollout.md
        # "How bookings validates").
        availability = open_availability_channel(settings, settings.availability_address)
        stack.push_async_callback(availability.close)

        store = bookings_store(pool, acquire_timeout=settings.db_statement_timeout_ms / 1000)
        cursors = CursorCodec(settings.cursor_key)
        schedules = TimeframesSchedules(SchedulesStub(timeframes))
        catalog = Catalog(store, schedules, cursors)
        staff = StaffDirectory(store, schedules, cursors)
        appointments = Appointments(store, AppointmentSlotsClient(AvailabilityTimeSlotsStub(availability)), TimeframesHolds(timeframes))
        bookings = Bookings(store, AvailabilityCalendarClient(AvailabilityCalendarStub(availability)), TimeframesCalendar(timeframes), cursors, appointments)
        return rpc_services(catalog, PolicyProvider(store), bookings, staff, appointments)

    return build
