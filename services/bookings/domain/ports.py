"""What the catalog needs from the outside world, as protocols the adapters implement (and
unit tests fake). Every repository method acts on the tenant of the current request only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.bookings.domain.services import Service, ServiceType


@dataclass(frozen=True)
class ServiceFilter:
    service_ids: tuple[str, ...] = ()  # empty: any
    types: tuple[ServiceType, ...] = ()  # empty: any


@dataclass(frozen=True)
class SortKey:
    """Position in the (created_at, id) order QueryServices pages through."""

    created_at: datetime
    id: str


class ServiceRepository(Protocol):
    # Reads: deleted services are invisible, as if they never existed.
    async def get(self, service_id: str) -> Service | None: ...

    async def get_many(self, service_ids: Sequence[str]) -> dict[str, Service]: ...

    async def query(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]: ...

    # Writes: each is one transaction (where the outbox row will be written too).
    async def create(self, service: Service) -> Service: ...

    async def update(self, service: Service, expected_revision: int) -> Service:
        """Stores `service` at `expected_revision + 1`; NotFound, or RevisionMismatch if the
        stored revision is no longer `expected_revision`."""
        ...

    async def delete(self, service_id: str, expected_revision: int | None) -> Service:
        """Soft-deletes; NotFound, or RevisionMismatch when `expected_revision` is given and stale."""
        ...


class Schedules(Protocol):
    """calendar.schedules.v3.Schedules, hosted by timeframes."""

    async def create_schedule(self, *, external_id: str, name: str, time_zone: str, default_capacity: int) -> str:
        """Creates the schedule (or returns the one already created with `external_id`) and
        returns its id. DependencyUnavailable when timeframes cannot answer."""
        ...
