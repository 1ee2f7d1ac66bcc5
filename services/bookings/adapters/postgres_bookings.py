"""The bookings' Postgres repository (asyncpg, plain SQL; schema in migrations/0003_bookings.sql).

Every statement filters by the tenant of the current request (`current_tenant()`). Every write is
one transaction that ends in `_changed`, which adds the write's `bookings.booking-events.v1`
message to the transactional outbox: a booking change exists if and only if its event does.

Strict capacity (a `capacity` given to `create` or `update`): the transaction takes a
transaction-scoped advisory lock on the booked entity (the schedule of a course booking, the
event of a class booking) before it counts that entity's PENDING and CONFIRMED participants and
writes. Every strict write of one entity holds that lock from its count to its commit, so no two of
them count the same free spots: check and write are one step per entity. Writes that only free
spots (cancel, decline, a decrease) take no lock: a count that misses them refuses too early at
worst, never overbooks.
"""

from __future__ import annotations

from typing import Any, NoReturn

import asyncpg

from services.bookings.domain.bookings import RESOURCE, Booking, BookingStatus, Change, Contact, EntityKind, capacity_refusal
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

# Strict capacity. Advisory locks are per database, shared by every schema in it: the prefix keeps
# these apart from the outbox relay's. A hash collision only makes two entities wait for each other.
_LOCK_ENTITY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
# The participants the entity's active bookings hold, but one booking's (the one being resized; on a
# create the new id, not stored yet). Served by bookings_by_{schedule,event}_and_creation.
_HELD = {
    kind: f"""
    SELECT coalesce(sum(number_of_participants), 0) FROM bookings
     WHERE tenant_id = $1 AND {column} = $2 AND status = ANY($3::text[]) AND id <> $4
    """
    for kind, column in ((EntityKind.SCHEDULE, "schedule_id"), (EntityKind.SLOT, "event_id"))
}
_ACTIVE = [s.name for s in BookingStatus if s.active]


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

    async def create(self, booking: Booking, *, capacity: int | None = None) -> tuple[Booking, bool]:
        async with self._transaction() as conn:
            if capacity is not None:
                await self._lock_entity(conn, booking)
                if booking.idempotency_key is not None:
                    # A concurrent request with this key for this entity held the lock first and has
                    # committed: this is its replay, answered without counting it against itself.
                    existing = await self._by_key(conn, booking.idempotency_key)
                    if existing is not None:
                        return existing, False
                await self._require_room(conn, booking, capacity)
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
                assert booking.idempotency_key is not None
                existing = await self._by_key(conn, booking.idempotency_key)
                if existing is None:  # the conflicting row vanished: bookings are never deleted
                    raise RuntimeError(f"idempotency key conflict without a booking holding the key (booking {booking.id})")
                return existing, False
            return await self._changed(conn, Change.CREATED, row), True

    async def update(self, booking: Booking, expected_revision: int, change: Change, previous_participants: int, *, capacity: int | None = None) -> Booking:
        async with self._transaction() as conn:
            if capacity is not None:
                await self._lock_entity(conn, booking)
                await self._require_room(conn, booking, capacity)
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

    async def _by_key(self, conn: asyncpg.Connection, key: str) -> Booking | None:
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND idempotency_key = $2", current_tenant(), key)
        return _booking(row) if row else None

    async def _lock_entity(self, conn: asyncpg.Connection, booking: Booking) -> None:
        """Waits until no other strict write of the booking's entity is in progress; held until
        this transaction ends. Ids are the tenant's, so the tenant is part of the key."""
        await conn.execute(_LOCK_ENTITY, f"strict-capacity:{current_tenant()}:{booking.entity_kind}:{booking.entity_id}")

    async def _require_room(self, conn: asyncpg.Connection, booking: Booking, capacity: int) -> None:
        """Under the entity's lock: raises the strict capacity refusal unless `booking`, at its
        size, fits next to the entity's other active bookings (counted in this statement's
        snapshot, which includes every earlier lock holder's commit)."""
        held = await conn.fetchval(_HELD[booking.entity_kind], current_tenant(), booking.entity_id, _ACTIVE, booking.id)
        refused = capacity_refusal(held=held, requested=booking.number_of_participants, capacity=capacity)
        if refused is not None:
            raise refused

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
