"""The bookings' statements of the bookings service's Postgres session (asyncpg, plain SQL; schema
in migrations/0003_bookings.sql). Every statement filters by the session's tenant; adapters/postgres.py
assembles the session.

Strict capacity (application/bookings.py): `lock_entity` takes a transaction-scoped advisory lock
on the booked entity (the schedule of a course booking, the event of a class booking) before the
use case counts that entity's PENDING and CONFIRMED participants (`participants_held`) and
writes. Every strict write of one entity holds that lock from its count to its commit, so no two
of them count the same free spots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.bookings.application.ports import BookingFilter, OccupiedTime, SortKey
from services.bookings.domain.bookings import RESOURCE, AppointmentTime, Booking, BookingStatus, Change, Contact, EntityKind
from services.bookings.mapping import booking_event
from services.common import outbox
from services.common.db import TenantSession
from services.common.errors import NotFound, RevisionMismatch

_COLUMNS = (
    "id, service_id, schedule_id, event_id, number_of_participants, contact_name, contact_email, status, "
    "idempotency_key, request_fingerprint, revision, created_at, updated_at, "
    "staff_member_id, start_date, end_date, occupied_start, occupied_end"
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
# An appointment's booking id while its time is held and its row written (application/appointments.py).
_LOCK_BOOKING = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_TRY_LOCK_BOOKING = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"


class BookingStatements(TenantSession):
    # --- reads -----------------------------------------------------------------------------------

    async def booking(self, booking_id: str) -> Booking | None:
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND id = $2", self._tenant, booking_id)
        return _booking(row) if row else None

    async def booking_by_idempotency_key(self, key: str) -> Booking | None:
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM bookings WHERE tenant_id = $1 AND idempotency_key = $2", self._tenant, key)
        return _booking(row) if row else None

    async def query_bookings(self, where: BookingFilter, after: SortKey | None, limit: int) -> list[Booking]:
        # Only the predicates in use are added (still parameterized), so each shape is planned on
        # its index: bookings_by_{creation,status,service,schedule,event}_and_creation.
        args: list[Any] = [self._tenant]
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
        if where.staff_member_ids:
            add("staff_member_id = ANY({}::uuid[])", list(where.staff_member_ids))
        if after is not None:
            args += [after.created_at, after.id]
            conditions.append(f"(created_at, id) > (${len(args) - 1}, ${len(args)}::uuid)")
        args.append(limit)
        sql = f"SELECT {_COLUMNS} FROM bookings WHERE {' AND '.join(conditions)} ORDER BY created_at, id LIMIT ${len(args)}"
        return [_booking(r) for r in await self._conn.fetch(sql, *args)]

    async def participants_held(self, booking: Booking) -> int:
        held: int = await self._conn.fetchval(_HELD[booking.entity_kind], self._tenant, booking.entity_id, _ACTIVE, booking.id)
        return held

    async def appointments_per_staff(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        # Served by bookings_active_appointments_by_staff: an appointment starting before `end`
        # ends after `start` - its buffer, so its occupied time ends after `start`.
        rows = await self._conn.fetch(
            """
            SELECT staff_member_id, count(*) AS appointments FROM bookings
             WHERE tenant_id = $1 AND staff_member_id = ANY($2::uuid[]) AND status = ANY($3::text[])
               AND occupied_end > $4 AND start_date >= $4 AND start_date < $5
             GROUP BY staff_member_id
            """,
            self._tenant,
            list(staff_member_ids),
            _ACTIVE,
            start,
            end,
        )
        return {str(r["staff_member_id"]): r["appointments"] for r in rows}

    async def occupied_time(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> list[OccupiedTime]:
        # bookings_active_appointments_by_staff: from `start` on in each staff member's index
        # range, the start bound checked on its included columns.
        rows = await self._conn.fetch(
            """
            SELECT staff_member_id, id, service_id, start_date, end_date, occupied_start, occupied_end FROM bookings
             WHERE tenant_id = $1 AND staff_member_id = ANY($2::uuid[]) AND status IN ('PENDING', 'CONFIRMED')
               AND occupied_end > $3 AND occupied_start < $4
             ORDER BY staff_member_id, occupied_start, id
            """,
            self._tenant,
            list(staff_member_ids),
            start,
            end,
        )
        return [
            OccupiedTime(
                staff_member_id=str(r["staff_member_id"]),
                booking_id=str(r["id"]),
                service_id=str(r["service_id"]),
                start=r["start_date"],
                end=r["end_date"],
                occupied_start=r["occupied_start"],
                occupied_end=r["occupied_end"],
            )
            for r in rows
        ]

    # --- writes ----------------------------------------------------------------------------------

    async def lock_booking_id(self, booking_id: str) -> None:
        await self._conn.execute(_LOCK_BOOKING, f"appointment:{self._tenant}:{booking_id}")

    async def try_lock_booking_id(self, booking_id: str) -> bool:
        locked: bool = await self._conn.fetchval(_TRY_LOCK_BOOKING, f"appointment:{self._tenant}:{booking_id}")
        return locked

    async def lock_entity(self, booking: Booking) -> None:
        """Ids are the tenant's, so the tenant is part of the lock's key."""
        await self._conn.execute(_LOCK_ENTITY, f"strict-capacity:{self._tenant}:{booking.entity_kind}:{booking.entity_id}")

    async def insert_booking(self, booking: Booking) -> Booking | None:
        # With a key, a concurrent insert of the same key makes this one wait for that transaction
        # and then insert nothing (None): the caller reads the row it committed in a new statement
        # (READ COMMITTED), so it is visible.
        row = await self._conn.fetchrow(
            f"""
            INSERT INTO bookings (tenant_id, id, service_id, schedule_id, event_id, number_of_participants, contact_name,
                                  contact_email, status, idempotency_key, request_fingerprint,
                                  staff_member_id, start_date, end_date, occupied_start, occupied_end)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING {_COLUMNS}
            """,
            self._tenant,
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
            *_appointment_columns(booking.appointment),
        )
        return _booking(row) if row else None

    async def update_booking(self, booking: Booking, expected_revision: int) -> Booking:
        # Compare-and-set on the revision: of two concurrent changes at the same revision the
        # second blocks on the row lock, re-reads it at the new revision and matches nothing.
        row = await self._conn.fetchrow(
            f"""
            UPDATE bookings
               SET status = $3, number_of_participants = $4, revision = revision + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND revision = $5
            RETURNING {_COLUMNS}
            """,
            self._tenant,
            booking.id,
            booking.status.name,
            booking.number_of_participants,
            expected_revision,
        )
        if row is None:
            actual = await self._conn.fetchval("SELECT revision FROM bookings WHERE tenant_id = $1 AND id = $2", self._tenant, booking.id)
            if actual is None:
                raise NotFound(RESOURCE, booking.id)
            raise RevisionMismatch(RESOURCE, booking.id, expected_revision, actual)
        return _booking(row)

    async def announce_booking(self, change: Change, booking: Booking, previous_participants: int = 0) -> None:
        await outbox.record_many(self._conn, [booking_event(self._tenant, change, booking, previous_participants)])


def _appointment_columns(time: AppointmentTime | None) -> tuple[object, ...]:
    if time is None:
        return (None,) * 5
    return (time.staff_member_id, time.start, time.end, time.occupied_start, time.occupied_end)


def _booking(row: asyncpg.Record) -> Booking:
    schedule_id, event_id, staff_member_id = row["schedule_id"], row["event_id"], row["staff_member_id"]
    appointment = None
    if staff_member_id is not None:
        kind, entity_id = EntityKind.APPOINTMENT, str(staff_member_id)
        appointment = AppointmentTime(entity_id, row["start_date"], row["end_date"], row["occupied_start"], row["occupied_end"])
    elif schedule_id is not None:
        kind, entity_id = EntityKind.SCHEDULE, schedule_id
    else:
        kind, entity_id = EntityKind.SLOT, event_id
    return Booking(
        id=str(row["id"]),
        service_id=str(row["service_id"]),
        entity_kind=kind,
        entity_id=entity_id,
        appointment=appointment,
        number_of_participants=row["number_of_participants"],
        contact=Contact(row["contact_name"], row["contact_email"]),
        status=BookingStatus[row["status"]],
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        idempotency_key=row["idempotency_key"],
        request_fingerprint=row["request_fingerprint"],
    )
