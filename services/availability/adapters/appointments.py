"""AppointmentInputs (application/ports.py): the service through the offerings' readers
(adapters/inputs.py: cached for the listings, fresh for validation); the staff members and their
schedules' working hours through availability's cache (adapters/cache.py) too, read over gRPC
(adapters/staff_calendars.py) when it does not have them; the occupied time of their appointments
over gRPC on every call, never cached (read-your-writes: once CreateBooking has returned, no answer
offers that slot again).

What is cached, and how it stays right: a staff member (QueryStaffMembers' answer) by id, and a
schedule's working hours by schedule and `BUCKET` (below). Like the services, they are dropped with
all of the tenant's entries when availability's consumer sees them change
(`bookings.staff-events.v1`: every change of a staff member or of the services they offer;
`calendar.working-hours-events.v1`: every write of a schedule's rules, time off, extra hours or
holidays), and live at most the cache's TTL.

One cache round trip per request where it can: the staff ids come with the service, so the staff
and hours entries a request needs are only known once the service is; the reader remembers, per
service, which entries its last request needed, and asks for those with the service. A request
that needs others (another range, a changed staff list) asks for the rest in one more round trip.
The remembered keys are only a guess of what to ask for: what a request uses is always what the
cache holds under the tenant's current generation, or else what the dependencies answer.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.message import Message

from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2
from services.availability.adapters.cache import Cache, Kind, Snapshot
from services.availability.adapters.inputs import DependencyReader
from services.availability.adapters.staff_calendars import StaffDependencies
from services.availability.application.ports import Wanted
from services.availability.domain.appointments import ScheduleHours, StaffCalendar, StaffMember, staff_calendar
from services.availability.domain.model import Interval, Offering
from services.availability.mapping import occupied_time_from_proto, schedule_hours_from_proto, staff_member_from_proto
from services.common.instants import MICROSECOND, from_micros, to_micros
from services.common.validation import EARLIEST_INSTANT, END_OF_INSTANTS

# Working hours are cached per schedule and per BUCKET of time, counted from the epoch: each entry
# is what ListWorkingHours answers for that bucket (the schedule's rules, and its time off, extra
# hours and holidays touching it), so it needs no rule of its own for what belongs to it. Keyed by
# the request's own window instead, entries would hardly be read twice: a listing from tomorrow
# moves daily, a page starts where the last ended. Fixed buckets are shared by every window of the
# same weeks; 42 days, so that the longest listing's window (31 days and READ_MARGIN on each side,
# 37) touches at most two, and the month view's search of a year ten at most. The rules come
# with every entry (a few bytes each) rather than apart: ListWorkingHours answers both at once, and
# one entry is then a whole calendar for its bucket.
BUCKET = timedelta(days=42)
_BUCKET_US = BUCKET // MICROSECOND
_REMEMBERED = 10_000  # services whose last request's entries are remembered, per process
_DECODED = 2_048  # cache entries kept decoded, per kind and process


@functools.lru_cache(maxsize=_DECODED)
def _staff_member(entry: bytes) -> StaffMember:
    return staff_member_from_proto(staff_members_pb2.StaffMember.FromString(entry))


@functools.lru_cache(maxsize=_DECODED)
def _schedule_hours(entry: bytes) -> ScheduleHours:
    # Decoded once per distinct entry, not on every request: an entry's bytes only change when the
    # schedule's hours do, and the decoded hours are immutable, so requests share them.
    return schedule_hours_from_proto(working_hours_pb2.ScheduleWorkingHours.FromString(entry))


STAFF_MEMBERS = Kind("staff_member", _staff_member)  # by staff member id
WORKING_HOURS = Kind("working_hours", _schedule_hours)  # by "<schedule id>@<bucket>"


def buckets(window: Interval) -> range:
    """The buckets `window` touches."""
    return range(to_micros(window.start) // _BUCKET_US, (to_micros(window.end) - 1) // _BUCKET_US + 1)


def bucket_span(bucket: int) -> tuple[datetime, datetime]:
    """The instants of a bucket, within the platform's instant range (what ListWorkingHours takes)."""
    return max(EARLIEST_INSTANT, from_micros(bucket * _BUCKET_US)), min(END_OF_INSTANTS, from_micros((bucket + 1) * _BUCKET_US))


@dataclass(frozen=True)
class _Entries:
    """The staff and hours entries a service's last request needed: what the next one asks for with
    the service."""

    staff_member_ids: tuple[str, ...]
    hours: tuple[str, ...]


class AppointmentReader:
    """`cached` and `fresh` read the same offerings, through availability's cache or around it;
    `cache` holds the staff members and their working hours (None or off: always read)."""

    def __init__(self, cached: DependencyReader, fresh: DependencyReader, staff: StaffDependencies, cache: Cache | None = None):
        self._cached = cached
        self._fresh = fresh
        self._staff = staff
        self._cache = cache
        self._remembered: OrderedDict[tuple[str, str], _Entries] = OrderedDict()

    async def reading(self, tenant: str, service_id: str, *, fresh_service: bool) -> _Reading:
        wanted = Wanted(service_ids=(service_id,))
        remembered = self._remembered.get((tenant, service_id))
        also: dict[Kind, Sequence[str]] = {STAFF_MEMBERS: remembered.staff_member_ids, WORKING_HOURS: remembered.hours} if remembered else {}
        if fresh_service:
            found, snapshot = await asyncio.gather(self._fresh.read(tenant, wanted), self._read_cache(tenant, also))
        else:
            found, snapshot = await self._cached.read_with(tenant, wanted, also)
        remember = functools.partial(self._remember, tenant, service_id)
        reading = _Reading(found.offerings[0] if found.offerings else None, tenant, self._staff, self._cache, remember)
        if snapshot is not None:
            reading.add(snapshot, also)
        return reading

    async def _read_cache(self, tenant: str, keys: Mapping[Kind, Sequence[str]]) -> Snapshot | None:
        if self._cache is None or not keys:
            return None
        return await self._cache.read(tenant, keys)

    def _remember(self, tenant: str, service_id: str, entries: _Entries) -> None:
        key = (tenant, service_id)
        self._remembered[key] = entries
        self._remembered.move_to_end(key)
        if len(self._remembered) > _REMEMBERED:
            self._remembered.popitem(last=False)


class _Reading:
    """One request's reads (application/ports.py `AppointmentReading`): the entries found in the
    cache so far, and the last cache snapshot, under whose generation what the dependencies answer
    is written (it was read before they answered, so a change they do not show yet has not been
    invalidated under it)."""

    def __init__(self, offering: Offering | None, tenant: str, staff: StaffDependencies, cache: Cache | None, remember: Callable[[_Entries], None]):
        self.offering = offering
        self._tenant = tenant
        self._staff = staff
        self._cache = cache
        self._remember = remember
        self._snapshot: Snapshot | None = None
        self._found: dict[str, dict[str, Any]] = {STAFF_MEMBERS.name: {}, WORKING_HOURS.name: {}}
        self._asked: set[tuple[str, str]] = set()
        self._staff_member_ids: tuple[str, ...] = ()
        self._remembered = False  # whether this request's first hours were remembered for the next

    def add(self, snapshot: Snapshot, asked: Mapping[Kind, Sequence[str]]) -> None:
        """What a cache round trip found of the `asked` entries."""
        self._snapshot = snapshot
        for kind, ids in asked.items():
            self._found[kind.name].update(snapshot.of(kind))
            self._asked.update((kind.name, i) for i in ids)

    async def staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        found = await self._entries(STAFF_MEMBERS, staff_member_ids)
        missing = [s for s in staff_member_ids if s not in found]
        if missing:
            fetched = {m.id: m for m in await self._staff.staff_members(missing)}
            await self._store(STAFF_MEMBERS, fetched)
            found.update({s: staff_member_from_proto(m) for s, m in fetched.items()})
        self._staff_member_ids = tuple(staff_member_ids)
        return [found[s] for s in staff_member_ids if s in found]

    async def working_hours(self, staff: Sequence[StaffMember], window: Interval) -> list[StaffCalendar]:
        spans = buckets(window)
        keys = {(m.schedule_id, b): f"{m.schedule_id}@{b}" for m in staff for b in spans}
        found = await self._entries(WORKING_HOURS, list(keys.values()))
        missing = [schedule_bucket for schedule_bucket, key in keys.items() if key not in found]
        if missing:
            fetched = await self._fetch_hours(missing)
            await self._store(WORKING_HOURS, {keys[k]: hours for k, hours in fetched.items()})
            found.update({keys[k]: schedule_hours_from_proto(hours) for k, hours in fetched.items()})
        if not self._remembered:  # the first range a request reads: the next one likely reads it too
            self._remembered = True
            self._remember(_Entries(self._staff_member_ids, tuple(keys.values())))
        return [staff_calendar(m, [found[keys[(m.schedule_id, b)]] for b in spans]) for m in staff]

    async def occupied_time(self, staff: Sequence[StaffMember], window: Interval) -> dict[str, tuple[Interval, ...]]:
        by_staff: dict[str, list[Interval]] = {}
        for occupied in await self._staff.occupied_time([m.staff_member_id for m in staff], window.start, window.end):
            by_staff.setdefault(occupied.staff_member_id, []).append(occupied_time_from_proto(occupied))
        return {staff_member_id: tuple(spans) for staff_member_id, spans in by_staff.items()}

    async def _entries(self, kind: Kind, ids: Sequence[str]) -> dict[str, Any]:
        """The cached entries of the ids: those not asked for yet in one round trip (none when the
        cache was off or away a moment ago: the dependencies answer)."""
        unasked = [i for i in ids if (kind.name, i) not in self._asked]
        if unasked and self._cache is not None and (self._snapshot is None or self._snapshot.generation is not None):
            self.add(await self._cache.read(self._tenant, {kind: unasked}), {kind: unasked})
        found = self._found[kind.name]
        return {i: found[i] for i in ids if i in found}

    async def _store(self, kind: Kind, items: Mapping[str, Message]) -> None:
        if self._cache is not None and self._snapshot is not None:
            await self._cache.write(self._tenant, self._snapshot, kind, items)

    async def _fetch_hours(self, missing: Sequence[tuple[str, int]]) -> dict[tuple[str, int], working_hours_pb2.ScheduleWorkingHours]:
        """The working hours of each (schedule, bucket): one ListWorkingHours per bucket (for all
        its schedules), concurrently."""
        by_bucket: dict[int, list[str]] = {}
        for schedule_id, bucket in missing:
            by_bucket.setdefault(bucket, []).append(schedule_id)
        answers = await asyncio.gather(*(self._staff.working_hours(schedules, *bucket_span(b)) for b, schedules in by_bucket.items()))
        return {(hours.schedule_id, b): hours for b, answer in zip(by_bucket, answers, strict=True) for hours in answer}
