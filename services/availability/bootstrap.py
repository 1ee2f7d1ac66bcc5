"""Wires the availability service. Pools and clients are created here, never at import."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as redis

from services.availability.adapters import staff_calendars
from services.availability.adapters.appointments import AppointmentReader
from services.availability.adapters.bookings import LEDGER_RETRYABLE, QueryBookingsLedger
from services.availability.adapters.cache import Cache
from services.availability.adapters.dependencies import RETRYABLE, Dependencies
from services.availability.adapters.inputs import DependencyReader
from services.availability.adapters.toggles import FeatureToggles
from services.availability.application.appointment_slots import AppointmentSlots
from services.availability.application.calendar_v1 import AvailabilityCalendar
from services.availability.application.memo import ServiceMemo
from services.availability.application.time_slots import TimeSlots
from services.availability.entrypoints import events
from services.availability.entrypoints.grpc import rpc_services
from services.availability.settings import AvailabilitySettings
from services.common.auth import ServiceTokens
from services.common.clients import open_channel
from services.common.consumer import KafkaConsumerRunner
from services.common.paging import CursorCodec
from services.common.server import Build, RpcService


def make_build(settings: AvailabilitySettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        tokens = ServiceTokens(settings)
        channels = {}
        for name, address in settings.addresses.items():
            retryable = [*RETRYABLE[name], *staff_calendars.RETRYABLE.get(name, ())]
            channel = open_channel(address, tokens, settings.outbound_timeout_seconds, retryable=retryable)
            stack.push_async_callback(channel.close)
            channels[name] = channel
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        stack.push_async_callback(client.aclose)
        toggles = FeatureToggles(client, settings.feature_toggle_refresh_seconds)
        await toggles.start()
        stack.push_async_callback(toggles.stop)
        cache = Cache(client, settings.availability_cache_ttl_seconds, enabled=settings.availability_cache_enabled)
        if settings.availability_cache_enabled:
            # Nothing to invalidate without a cache: such an instance stays out of the group.
            subscription = events.CacheInvalidation(cache).subscription()
            invalidation = KafkaConsumerRunner(settings, subscription, transient=events.is_transient)
            await stack.enter_async_context(invalidation)
            live = asyncio.create_task(_cache_live_once_invalidated(invalidation, cache), name="cache-go-live")
            stack.callback(live.cancel)
        addresses = settings.addresses
        dependencies = Dependencies(channels, policies_from_catalog=addresses["policies"] == addresses["services"])
        memo = ServiceMemo()
        cursors = CursorCodec(settings.cursor_key)
        listings, fresh = DependencyReader(dependencies, cache), DependencyReader(dependencies)
        slots = TimeSlots(listings, toggles, cursors, memo)
        # The service comes cached for the listings, fresh for the slot CreateBooking validates; the
        # staff and their working hours cached for both; the occupied time read on every request
        # (read-your-writes).
        appointments = AppointmentSlots(AppointmentReader(listings, fresh, staff_calendars.StaffDependencies(channels), cache), cursors)
        # AvailabilityCalendar's legacy (consistent) capacity reads the bookings from bookings.
        ledger = open_channel(settings.addresses["services"], tokens, settings.outbound_timeout_seconds, retryable=LEDGER_RETRYABLE)
        stack.push_async_callback(ledger.close)
        # Validation reads around the cache: it must see a policy change at once (calendar_v1.py).
        calendar = AvailabilityCalendar(fresh, QueryBookingsLedger(ledger), toggles, memo, shadow_compare=settings.availability_shadow_compare)
        return rpc_services(slots, calendar, appointments)

    return build


async def _cache_live_once_invalidated(invalidation: KafkaConsumerRunner, cache: Cache) -> None:
    """Use the cache only once invalidation events arrive (the consumer has its partitions);
    until then every read goes to the dependencies."""
    await invalidation.wait_assigned()
    cache.go_live()
