"""AvailabilityInputs (application/ports.py) over the four dependencies (adapters/dependencies.py),
through the Redis cache (adapters/cache.py) when one is given.

A read asks the cache for everything it wants in one round trip (entries and the participant
counts announced since), then reads what was missing from the dependencies concurrently and
stores it for the next request. Without a cache (the v1 validation API, which must see a policy
change at once) every read goes to the dependencies, still concurrently.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.availability.adapters.cache import Cache, Kind, Snapshot
from services.availability.adapters.dependencies import Dependencies
from services.availability.application.ports import Found, Wanted
from services.availability.domain.model import Offering, ProvidedPolicy, ServiceType, Session, TimeFrame
from services.availability.domain.participants import NOTHING_ANNOUNCED
from services.availability.mapping import offering_from_proto, provided_policy_from_proto, session_from_proto, time_frame_from_proto
from services.common.errors import DependencyUnavailable, NotFound
from services.common.instants import to_micros

# What the cache holds.
SERVICES = Kind("service", services_pb2.Service.FromString)
POLICIES = Kind("policy", booking_policy_pb2.ServiceBookingPolicy.FromString)
TIME_FRAMES = Kind("time_frame", timeframes_pb2.ScheduleTimeFrame.FromString)
SERVICE_LISTS = Kind("services_of_type", services_pb2.QueryServicesResponse.FromString)


@functools.lru_cache(maxsize=256)
def _decode_sessions(entry: bytes) -> tuple[Session, ...]:
    """A cached schedule's events as sessions, decoded once per distinct entry rather than on every
    request: an entry's bytes only change when the schedule's events do, and sessions are
    immutable, so requests can share them. At most 256 entries per process, the least recently
    used dropped first (their memory, well inside the pod's limit, in bench/README.md "Measurements
    behind code choices"); a schedule that drops out is only decoded again."""
    return tuple(session_from_proto(event) for event in events_pb2.QueryEventsResponse.FromString(entry).events)


# A course schedule's sessions, and a class schedule's sessions starting in one range (keyed
# "schedule@from-to", in microseconds): capacity as read, the counts announced since applied on
# every request (domain/participants.py).
COURSE_EVENTS = Kind("course_events", _decode_sessions)
CLASS_EVENTS = Kind("class_events", _decode_sessions)
_NOTHING_CACHED = Snapshot(None)


class DependencyReader:
    """`AvailabilityInputs` read from the catalog and the calendar; through `cache` when given."""

    def __init__(self, dependencies: Dependencies, cache: Cache | None = None):
        self._deps = dependencies
        self._cache = cache

    async def read(self, tenant: str, wanted: Wanted) -> Found:
        return (await self.read_with(tenant, wanted))[0]

    async def read_with(self, tenant: str, wanted: Wanted, also: Mapping[Kind, Sequence[str]] | None = None) -> tuple[Found, Snapshot]:
        """`read`, asking the cache for other entries (`also`) in the same round trip: what an
        adapter wrapped around this one (adapters/appointments.py) reads with the services. The
        snapshot holds them (`Snapshot.of`) and is where to write them (`Cache.write`)."""
        entries = _class_entries(wanted.class_schedules, wanted.window)
        keys: dict[Kind, Sequence[str]] = {}
        if wanted.service_ids:
            keys[SERVICES] = wanted.service_ids
            if not self._deps.policies_from_catalog:
                keys[POLICIES] = wanted.service_ids
        elif wanted.of_type is not None:
            keys[SERVICE_LISTS] = [wanted.of_type.name]
        if wanted.course_schedules:
            keys[TIME_FRAMES] = wanted.course_schedules
            keys[COURSE_EVENTS] = wanted.course_schedules
        if entries:
            keys[CLASS_EVENTS] = list(entries)
        keys.update(also or {})
        cached = await self._snapshot(tenant, keys, announced_for=[*wanted.course_schedules, *dict.fromkeys(entries.values())])

        offerings, course_sessions, (frames, failure), class_sessions = await _concurrently(
            self._offerings(tenant, cached, wanted) if wanted.service_ids or wanted.of_type else [],
            self._sessions(tenant, cached, COURSE_EVENTS, {s: s for s in wanted.course_schedules}) if wanted.course_schedules else [],
            self._time_frames(tenant, cached, wanted) if wanted.course_schedules else ({}, None),
            self._sessions(tenant, cached, CLASS_EVENTS, entries, *wanted.window) if entries and wanted.window else [],
        )
        return Found(offerings, [*course_sessions, *class_sessions], frames, failure), cached

    async def event(self, tenant: str, event_id: str) -> Session:
        return session_from_proto(await self._deps.event(event_id))

    async def schedule_owner(self, tenant: str, schedule_id: str) -> str:
        return await self._deps.schedule_owner(schedule_id)

    async def provided_policies(self, tenant: str, service_ids: Sequence[str]) -> dict[str, ProvidedPolicy]:
        return {service_id: provided_policy_from_proto(p) for service_id, p in (await self._policies(service_ids)).items()}

    async def _snapshot(self, tenant: str, keys: Mapping[Kind, Sequence[str]], announced_for: Sequence[str]) -> Snapshot:
        if self._cache is None or not (keys or announced_for):
            return _NOTHING_CACHED
        return await self._cache.read(tenant, keys, announced_for)

    async def _store(self, tenant: str, cached: Snapshot, kind: Kind, items: Mapping[str, Any]) -> None:
        if self._cache is not None:
            await self._cache.write(tenant, cached, kind, items)

    # --- offerings -------------------------------------------------------------------------------

    async def _offerings(self, tenant: str, cached: Snapshot, wanted: Wanted) -> list[Offering]:
        if wanted.service_ids:
            if self._deps.policies_from_catalog:
                services, provided = await self._services_by_id(tenant, cached, wanted.service_ids), {}
            else:
                services, provided = await asyncio.gather(
                    self._services_by_id(tenant, cached, wanted.service_ids), self._provided(tenant, cached, wanted.service_ids)
                )
        else:
            assert wanted.of_type is not None
            services = await self._services_of_type(tenant, cached, wanted.of_type)
            # The listed services' ids were not known when the cache was read: their provided
            # policies (only with an external provider) take one more round trip.
            provided = {} if self._deps.policies_from_catalog or not services else await self._provided_listed(tenant, [s.id for s in services])
        return [offering_from_proto(s, provided.get(s.id)) for s in services]

    async def _services_by_id(self, tenant: str, cached: Snapshot, service_ids: Sequence[str]) -> list[services_pb2.Service]:
        found = dict(cached.of(SERVICES))
        missing = [s for s in service_ids if s not in found]
        if missing:
            fetched = {s.id: s for s in await self._deps.services(missing, ())}
            await self._store(tenant, cached, SERVICES, fetched)
            found.update(fetched)
        return [found[s] for s in service_ids if s in found]

    async def _services_of_type(self, tenant: str, cached: Snapshot, kind: ServiceType) -> list[services_pb2.Service]:
        listed = cached.of(SERVICE_LISTS).get(kind.name)
        if listed is not None:
            return list(listed.services)
        services = await self._deps.services((), (kind,))
        await self._store(tenant, cached, SERVICE_LISTS, {kind.name: services_pb2.QueryServicesResponse(services=services)})
        return services

    async def _provided_listed(self, tenant: str, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        return await self._provided(tenant, await self._snapshot(tenant, {POLICIES: service_ids}, ()), service_ids)

    async def _provided(self, tenant: str, cached: Snapshot, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        found = {s: p for s, p in cached.of(POLICIES).items() if s in service_ids}
        missing = [s for s in service_ids if s not in found]
        if missing:
            fetched = await self._policies(missing)
            await self._store(tenant, cached, POLICIES, fetched)
            found.update(fetched)
        return found

    async def _policies(self, service_ids: Sequence[str]) -> dict[str, booking_policy_pb2.ServiceBookingPolicy]:
        try:
            return await self._deps.policies(service_ids)
        except NotFound:
            # A service deleted between the two reads: its absence is reported from the services
            # read; the policy provider's view is not authoritative for existence.
            return {}

    # --- sessions and time frames ----------------------------------------------------------------

    async def _sessions(
        self, tenant: str, cached: Snapshot, kind: Kind, schedules: Mapping[str, str], start: datetime | None = None, end: datetime | None = None
    ) -> list[Session]:
        """The sessions of each schedule (`schedules`: entry id -> schedule id), starting in
        [start, end) when given, from the cache or else from timeframes (one read for every
        missing schedule), each with the participant counts announced since it was read."""
        found: dict[str, Sequence[Session]] = dict(cached.of(kind))
        missing = {schedules[entry]: entry for entry in schedules if entry not in found}
        if missing:
            by_entry = {entry: events_pb2.QueryEventsResponse() for entry in missing.values()}
            for event in await self._deps.events(list(missing), start=start, end=end):
                by_entry[missing[event.schedule_id]].events.append(event)
            await self._store(tenant, cached, kind, by_entry)
            found.update({entry: [session_from_proto(e) for e in response.events] for entry, response in by_entry.items()})
        sessions: list[Session] = []
        for entry, schedule_id in schedules.items():
            announced = cached.announced_for(schedule_id)
            sessions.extend(found[entry] if announced is NOTHING_ANNOUNCED else (announced.apply(session) for session in found[entry]))
        return sessions

    async def _time_frames(self, tenant: str, cached: Snapshot, wanted: Wanted) -> tuple[dict[str, TimeFrame] | None, DependencyUnavailable | None]:
        found = dict(cached.of(TIME_FRAMES))
        missing = [s for s in wanted.course_schedules if s not in found]
        if missing:
            try:
                fetched = await self._deps.time_frames(missing)
            except DependencyUnavailable as exc:
                return None, exc
            await self._store(tenant, cached, TIME_FRAMES, fetched)
            found.update(fetched)
        return {s: time_frame_from_proto(f) for s, f in found.items()}, None


async def _concurrently(*parts: Any) -> list[Any]:
    """Each part's result, the coroutines among the parts run concurrently; any other part is a
    result already (what was not wanted). A lone coroutine is awaited as it is (no task)."""
    running = [p for p in parts if inspect.iscoroutine(p)]
    done = iter(await asyncio.gather(*running) if len(running) > 1 else [await r for r in running])
    return [next(done) if inspect.iscoroutine(p) else p for p in parts]


def _class_entries(schedule_ids: Sequence[str], window: tuple[datetime, datetime] | None) -> dict[str, str]:
    """The CLASS_EVENTS entries of the schedules' events in the range (entry id -> schedule id).
    A range can resolve empty (a `from` in a spring-forward gap moves past a `to` just after it,
    see LocalRange.resolve); QueryEvents refuses to_date == from_date, so an empty range reads no
    events rather than turning that refusal into INTERNAL."""
    if not schedule_ids or window is None or window[1] <= window[0]:
        return {}
    start, end = to_micros(window[0]), to_micros(window[1])
    return {f"{s}@{start}-{end}": s for s in schedule_ids}
