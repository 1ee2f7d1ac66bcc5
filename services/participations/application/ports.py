"""What the participations use cases need from the outside: storage (adapters/postgres.py) and
the timeframes service (adapters/timeframes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from services.participations.domain.model import Announcement, Participation, Target
from services.participations.domain.queries import ParticipationQuery
from services.participations.domain.totals import SettleOutcome, TargetTotal


class ParticipationSession(Protocol):
    """What the use cases need from storage (adapters/postgres.py), bound to one tenant."""

    async def of_booking(self, booking_id: str, *, for_update: bool = False) -> Participation | None: ...
    async def insert(self, p: Participation) -> bool: ...
    async def update(self, p: Participation) -> None: ...
    async def record(self, announcements: Sequence[Announcement]) -> None: ...
    async def participation(self, participation_id: str) -> Participation | None: ...
    async def query(self, query: ParticipationQuery, *, after: tuple[datetime, str] | None, limit: int) -> list[Participation]: ...
    async def participant_totals(self, targets: Sequence[Target]) -> dict[Target, TargetTotal]: ...


class ParticipationStore(Protocol):
    def read(self, tenant_id: str) -> AbstractAsyncContextManager[ParticipationSession]: ...
    def write(self, tenant_id: str) -> AbstractAsyncContextManager[ParticipationSession]: ...


class CalendarTotals(Protocol):
    """The timeframes service (adapters/timeframes.py)."""

    async def update_totals(self, tenant_id: str, totals: Sequence[TargetTotal]) -> dict[Target, SettleOutcome]: ...
