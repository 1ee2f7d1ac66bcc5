"""In-memory fakes of the participations service's ports (handlers.ParticipationStore and
handlers.CalendarTotals), for unit tests of the use cases and the Kafka entrypoints. The real
adapters run against Postgres and timeframes in tests/integration/test_participations_*.py."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.participations.domain.model import Announcement, Participation, Target
from services.participations.domain.queries import ParticipationQuery
from services.participations.domain.totals import SettleOutcome, TargetTotal


@dataclass
class TenantData:
    rows: dict[str, Participation] = field(default_factory=dict)  # by booking id
    outbox: list[Announcement] = field(default_factory=list)
    versions: dict[Target, int] = field(default_factory=dict)  # participant_totals' versions

    def count(self) -> None:
        """What the database's trigger does with every write: a target's version moves whenever
        a participation on it changes (here: whenever anything is written, which is coarser)."""
        for target in {p.target for p in self.rows.values()}:
            self.versions[target] = self.versions.get(target, 0) + 1


class FakeSession:
    def __init__(self, data: TenantData):
        self._data = data

    async def of_booking(self, booking_id: str, *, for_update: bool = False) -> Participation | None:
        return self._data.rows.get(booking_id)

    async def insert(self, p: Participation) -> bool:
        if p.booking_id in self._data.rows:
            return False
        self._data.rows[p.booking_id] = p
        self._data.count()
        return True

    async def update(self, p: Participation) -> None:
        self._data.rows[p.booking_id] = p
        self._data.count()

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

    async def participant_totals(self, targets: Sequence[Target]) -> dict[Target, TargetTotal]:
        """The sum the database keeps: party sizes of the active participations on each target."""
        totals = {}
        for target in targets:
            if target in self._data.versions:
                total = sum(p.party_size for p in self._data.rows.values() if p.active and p.target == target)
                totals[target] = TargetTotal(target, total, self._data.versions[target])
        return totals


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
    """Timeframes' events and schedules by tenant, and every UpdateParticipantTotals call in order.
    Like timeframes, it keeps the greatest version only."""

    known: dict[str, set[Target]] = field(default_factory=dict)  # by tenant; others are NOT_FOUND
    calls: list[tuple[str, list[TargetTotal]]] = field(default_factory=list)
    stored: dict[tuple[str, Target], TargetTotal] = field(default_factory=dict)
    down: Exception | None = None

    async def update_totals(self, tenant_id: str, totals: Sequence[TargetTotal]) -> dict[Target, SettleOutcome]:
        if self.down:
            raise self.down
        self.calls.append((tenant_id, list(totals)))
        outcomes = {}
        for total in totals:
            current = self.stored.get((tenant_id, total.target))
            if total.target not in self.known.get(tenant_id, set()):
                outcomes[total.target] = SettleOutcome.NOT_FOUND
            elif current is not None and total.version <= current.version:
                outcomes[total.target] = SettleOutcome.STALE
            else:
                self.stored[(tenant_id, total.target)] = total
                outcomes[total.target] = SettleOutcome.APPLIED
        return outcomes

    def total(self, tenant_id: str, target: Target) -> int:
        stored = self.stored.get((tenant_id, target))
        return 0 if stored is None else stored.participants_total
