"""The bookings service's Postgres store: one session type for all its tables (the catalog's
services, staff members and their relation, bookings and the outbox), so a use case can write several of them in one transaction
(`store.write(tenant)`, services/common/db.py `TenantStore`)."""

from __future__ import annotations

import asyncpg

from services.bookings.adapters.postgres_bookings import BookingStatements
from services.bookings.adapters.postgres_catalog import CatalogStatements
from services.bookings.adapters.postgres_staff import StaffStatements
from services.common.db import TenantStore


class PostgresBookingsSession(CatalogStatements, StaffStatements, BookingStatements):
    """Implements application/ports.py `BookingsSession`."""


def bookings_store(pool: asyncpg.Pool, *, acquire_timeout: float) -> TenantStore[PostgresBookingsSession]:
    return TenantStore(pool, PostgresBookingsSession, acquire_timeout=acquire_timeout)
