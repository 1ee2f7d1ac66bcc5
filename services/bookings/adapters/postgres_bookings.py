"""The bookings' Postgres repository (asyncpg, plain SQL; schema in migrations/0003_bookings.sql).

Every statement filters by the tenant of the current request (`current_tenant()`). Every write is
one transaction that ends in `_changed`, which adds the write's `bookings.booking-events.v1`
message to the transactional outbox: a booking change exists if and only if its event does.
"""

from __future__ import annotations

from typing import Any, NoReturn

import asyncpg

from services.bookings.domain.bookings import RESOURCE, Booking, BookingStatus, Change, Contact, EntityKind
from services.bookings.domain.ports import BookingFilter, SortKey
from services.bookings.mapping import booking_event
from services.common import outbox
from services.common.auth import current_tenant
from services.common.db import PooledRepository
from services.common.errors import NotFound, RevisionMismatch

_COLUMNS = (
    "id, service_id, schedule_id, event_id, number_of_participants, contact_name, contact_email, status, "
    "idempotency_key, request_fingerprint, revision, created_at, updated_at"
)


class PostgresBookingRepository(PooledRepository):
    # --- reads -----------------------------------------------------------------------------------

    async def get(self, booking_id: str) -> Booking | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND id = $2", current_tenant(), booking_id)
        return _booking(row) if row else None

    async def by_idempotency_key(self, key: str) -> Booking | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND idempotency_key = $2", current_tenant(), key)
        return _booking(row) if row else None

    async def query(self, where: BookingFilter, after: SortKey | None, limit: int) -> list[Booking]:
        # Only the predicates in use are added (still parameterized), so each shape is planned on
        # its index: bookings_by_{creation,status,service,schedule,event}_and_creation.
        args: list[Any] = [current_tenant()]
        conditions = ["tenant_id = $1"]

        def add(sql: str, value: Any) -> None:
            args.append(value)
            conditions.append(sql.format(f"${len(args)}"))

        if where.service_ids:
            add("service_id = ANY({}::uuid[])", list(where.service_ids))
        if where.schedule_ids:
            add("schedule_id = ANY({}::text[])", list(where.schedule_ids))
        if where.event_ids:
            add("event_id = ANY({}::text[])", list(where.event_ids))
        if where.statuses:
            add("status = ANY({}::text[])", [s.name for s in where.statuses])
        if after is not None:
            args += [after.created_at, after.id]
            conditions.append(f"(created_at, id) > (${len(args) - 1}, ${len(args)}::uuid)")
        args.append(limit)
        sql = f"SELECT {_COLUMNS} FROM bookings WHERE {' AND '.join(conditions)} ORDER BY created_at, id LIMIT ${len(args)}"
        async with self._connection() as conn:
            rows = await conn.fetch(sql, *args)
        return [_booking(r) for r in rows]

    # --- writes ----------------------------------------------------------------------------------

    async def create(self, booking: Booking) -> tuple[Booking, bool]:
        async with self._transaction() as conn:
            # With a key, a concurrent insert of the same key makes this one wait for that
            # transaction and then insert nothing; the row it committed is read below, in a new
            # statement (READ COMMITTED), so it is visible.
            row = await conn.fetchrow(
                f"""
                INSERT INTO bookings (tenant_id, id, service_id, schedule_id, event_id, number_of_participants, contact_name,
                                      contact_email, status, idempotency_key, request_fingerprint)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING {_COLUMNS}
                """,
                current_tenant(),
                booking.id,
                booking.service_id,
                booking.schedule_id,
                booking.event_id,
                booking.number_of_participants,
                booking.contact.name,
                booking.contact.email,
                booking.status.name,
                booking.idempotency_key,
                booking.request_fingerprint,
            )
            if row is None:
                existing = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND idempotency_key = $2", current_tenant(), booking.idempotency_key
                )
                if existing is None:  # the conflicting row vanished: bookings are never deleted
                    raise RuntimeError(f"idempotency key conflict without a booking holding the key (booking {booking.id})")
                return _booking(existing), False
            return await self._changed(conn, Change.CREATED, row), True

    async def update(self, booking: Booking, expected_revision: int, change: Change, previous_participants: int) -> Booking:
        async with self._transaction() as conn:
            # Compare-and-set on the revision: of two concurrent changes at the same revision the
            # second blocks on the row lock, re-reads it at the new revision and matches nothing.
            row = await conn.fetchrow(
                f"""
                UPDATE bookings
                   SET status = $3, number_of_participants = $4, revision = revision + 1, updated_at = now()
                 WHERE tenant_id = $1 AND id = $2 AND revision = $5
                RETURNING {_COLUMNS}
                """,
                current_tenant(),
                booking.id,
                booking.status.name,
                booking.number_of_participants,
                expected_revision,
            )
            if row is None:
                await self._raise_missing_or_stale(conn, booking.id, expected_revision)
            return await self._changed(conn, change, row, previous_participants)

    async def _changed(self, conn: asyncpg.Connection, change: Change, row: asyncpg.Record, previous_participants: int = 0) -> Booking:
        """Every write ends here, inside its transaction: its bookings.booking-events.v1 message
        goes into the outbox, to be published after the commit (and only if it commits)."""
        booking = _booking(row)
        await outbox.record_many(conn, [booking_event(current_tenant(), change, booking, previous_participants)])
        return booking

    async def _raise_missing_or_stale(self, conn: asyncpg.Connection, booking_id: str, expected: int) -> NoReturn:
        actual = await conn.fetchval("SELECT revision FROM bookings WHERE tenant_id = $1 AND id = $2", current_tenant(), booking_id)
        if actual is None:
            raise NotFound(RESOURCE, booking_id)
        raise RevisionMismatch(RESOURCE, booking_id, expected, actual)


def _booking(row: asyncpg.Record) -> Booking:
    schedule_id, event_id = row["schedule_id"], row["event_id"]
    return Booking(
        id=str(row["id"]),
        service_id=str(row["service_id"]),
        entity_kind=EntityKind.SCHEDULE if schedule_id is not None else EntityKind.SLOT,
        entity_id=schedule_id if schedule_id is not None else event_id,
        number_of_participants=row["number_of_participants"],
        contact=Contact(row["contact_name"], row["contact_email"]),
        status=BookingStatus[row["status"]],
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        idempotency_key=row["idempotency_key"],
        request_fingerprint=row["request_fingerprint"],
    )
