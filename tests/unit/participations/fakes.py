"""In-memory fakes of the participations service's ports (handlers.ParticipationStore and
handlers.CalendarEvents), for unit tests of the use cases and the Kafka entrypoints. The real
adapters run against Postgres and timeframes in tests/integration/test_participations_*.py."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.participations.domain.model import Announcement, Participation
from services.participations.domain.queries import ParticipationQuery
from services.participations.domain.totals import EventLookup, EventRef, counts_on


@dataclass
class TenantData:
    rows: dict[str, Participation] = field(default_factory=dict)  # by booking id
    versions: dict[str, int] = field(default_factory=dict)  # event_totals: event id -> version
    totals: dict[str, int] = field(default_factory=dict)
    outbox: list[Announcement] = field(default_factory=list)


class FakeSession:
    def __init__(self, data: TenantData):
        self._data = data

    async def of_booking(self, booking_id: str, *, for_update: bool = False) -> Participation | None:
        return self._data.rows.get(booking_id)

    async def insert(self, p: Participation) -> bool:
        if p.booking_id in self._data.rows:
            return False
        self._data.rows[p.booking_id] = p
        return True

    async def update(self, p: Participation) -> None:
        self._data.rows[p.booking_id] = p

    async def record(self, announcements: Sequence[Announcement]) -> None:
        self._data.outbox.extend(announcements)

    async def participation(self, participation_id: str) -> Participation | None:
        return next((p for p in self._data.rows.values() if p.id == participation_id and p.active), None)

    async def query(self, query: ParticipationQuery, *, after: tuple[datetime, str] | None, limit: int) -> list[Participation]:
        """The store's rule (domain/queries.py) over the in-memory rows, in (created, id) order."""
        targets = set(query.event_ids) | set(query.schedule_ids)
        found = sorted(
            (
                p
                for p in self._data.rows.values()
                if p.active
                and (not targets or p.target.id in targets)
                and (not query.booking_ids or p.booking_id in query.booking_ids)
                and (after is None or (p.created_date, p.id) > after)
            ),
            key=lambda p: (p.created_date, p.id),
        )
        return found[:limit]

    async def counted_on(self, event: EventRef) -> list[Participation]:
        return [p for p in self._data.rows.values() if counts_on(p, event)]

    async def has_active_on_schedule(self, schedule_id: str) -> bool:
        return any(p.active and p.target.id == schedule_id for p in self._data.rows.values())

    async def lock_event_total(self, event_id: str) -> int:
        return self._data.versions.setdefault(event_id, 0)

    async def save_event_total(self, event_id: str, version: int, participants_total: int) -> None:
        self._data.versions[event_id] = version
        self._data.totals[event_id] = participants_total


class FakeStore:
    """A write block commits when it ends without an error and leaves nothing when it raises."""

    def __init__(self) -> None:
        self.tenants: dict[str, TenantData] = {}

    def data(self, tenant: str) -> TenantData:
        return self.tenants.setdefault(tenant, TenantData())

    @contextlib.asynccontextmanager
    async def read(self, tenant_id: str) -> AsyncIterator[FakeSession]:
        yield FakeSession(self.data(tenant_id))

    @contextlib.asynccontextmanager
    async def write(self, tenant_id: str) -> AsyncIterator[FakeSession]:
        working = copy.deepcopy(self.data(tenant_id))
        yield FakeSession(working)
        self.tenants[tenant_id] = working


@dataclass
class FakeCalendar:
    """Timeframes' events by tenant, and every UpdateEventParticipants call in order. Like
    timeframes, it keeps the greatest version only."""

    sessions: dict[str, list[EventRef]] = field(default_factory=dict)  # by tenant
    calls: list[tuple[str, str, int, int]] = field(default_factory=list)
    stored: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (tenant, event) -> (version, total)
    down: Exception | None = None

    async def events(self, tenant_id: str, lookup: EventLookup) -> AsyncIterator[EventRef]:
        if self.down:
            raise self.down
        for event in self.sessions.get(tenant_id, []):
            if event.id in lookup.event_ids or event.schedule_id in lookup.schedule_ids:
                yield event

    async def update_participants(self, tenant_id: str, event_id: str, participants_total: int, version: int) -> bool | None:
        if self.down:
            raise self.down
        self.calls.append((tenant_id, event_id, participants_total, version))
        current = self.stored.get((tenant_id, event_id), (0, 0))
        if version <= current[0]:
            return False
        self.stored[(tenant_id, event_id)] = (version, participants_total)
        return True

    def total(self, tenant_id: str, event_id: str) -> int:
        return self.stored.get((tenant_id, event_id), (0, 0))[1]
