"""Postgres store of the participations service (asyncpg, plain SQL, schema of
migrations/0001_participations.sql).

A `PostgresParticipationSession` is bound to one tenant when it is opened (services/common/db.py
`TenantStore`), and every statement it runs filters by that tenant. The participant total of each
target moves with every participation write, in its transaction, by a trigger
(migrations/0004_participant_totals.sql). `store.write(tenant)` is the only way to change data:
one transaction, committed when the block ends without an error; the outbox rows of the change are
recorded in it (`session.record`), so a participation event exists if and only if its change
committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.common import outbox
from services.common.db import TenantSession, TenantStore
from services.participations.domain.model import Announcement, Participation, Target, TargetKind
from services.participations.domain.queries import ParticipationQuery
from services.participations.domain.totals import TargetTotal
from services.participations.mapping import announcement_message

_COLUMNS = "id, booking_id, service_id, event_id, schedule_id, party_size, booking_revision, active, created_date, updated_date, booking_committed_at"


class PostgresParticipationSession(TenantSession):
    """The participations' statements, each filtered by the session's tenant."""

    # --- the bookings consumer -------------------------------------------------------------------

    async def of_booking(self, booking_id: str, *, for_update: bool = False) -> Participation | None:
        """The booking's row, tombstone included; locked for the rest of the transaction with
        `for_update`, so two deliveries of one booking's messages apply one after the other."""
        lock = " FOR UPDATE" if for_update else ""
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM participations WHERE tenant_id = $1 AND booking_id = $2{lock}", self._tenant, booking_id)
        return _participation(row) if row else None

    async def insert(self, p: Participation) -> bool:
        """Stores a booking's first row; False when another transaction stored one first (the
        caller starts over and applies its message to that row)."""
        status = await self._conn.execute(
            f"""
            INSERT INTO participations (tenant_id, {_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (tenant_id, booking_id) DO NOTHING
            """,
            self._tenant,
            *_values(p),
        )
        return bool(status == "INSERT 0 1")

    async def update(self, p: Participation) -> None:
        await self._conn.execute(
            """
            UPDATE participations SET
                booking_id = $3, service_id = $4, event_id = $5, schedule_id = $6, party_size = $7,
                booking_revision = $8, active = $9, created_date = $10, updated_date = $11, booking_committed_at = $12
            WHERE tenant_id = $1 AND id = $2
            """,
            self._tenant,
            *_values(p),
        )

    async def record(self, announcements: Sequence[Announcement]) -> None:
        """The `bookings.participation-events.v1` messages of the change, into the outbox of this
        transaction."""
        await outbox.record_many(self._conn, [announcement_message(self._tenant, a) for a in announcements])

    # --- reads -------------------------------------------------------------------------------------

    async def participation(self, participation_id: str) -> Participation | None:
        """An active participation (a tombstone is no participation for readers)."""
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM participations WHERE tenant_id = $1 AND id = $2 AND active", self._tenant, participation_id)
        return _participation(row) if row else None

    async def query(self, query: ParticipationQuery, *, after: tuple[datetime, str] | None, limit: int) -> list[Participation]:
        """Up to `limit` active participations matching `query`, in (created_date, id) order,
        strictly after the `after` key (keyset paging)."""
        conditions = ["tenant_id = $1", "active"]
        args: list[Any] = [self._tenant]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        targets = []
        if query.event_ids:
            targets.append(f"event_id = ANY({arg(list(query.event_ids))}::uuid[])")
        if query.schedule_ids:
            targets.append(f"schedule_id = ANY({arg(list(query.schedule_ids))}::uuid[])")
        if targets:
            conditions.append(f"({' OR '.join(targets)})")
        if query.booking_ids:
            conditions.append(f"booking_id = ANY({arg(list(query.booking_ids))}::uuid[])")
        if after is not None:
            conditions.append(f"(created_date, id) > ({arg(after[0])}, {arg(after[1])}::uuid)")
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM participations WHERE {' AND '.join(conditions)} ORDER BY created_date, id LIMIT {arg(limit)}",
            *args,
        )
        return [_participation(r) for r in rows]

    # --- the event updater -------------------------------------------------------------------------

    async def participant_totals(self, targets: Sequence[Target]) -> dict[Target, TargetTotal]:
        """The current total and version of each target that has one (every target a
        participation ever counted on: migrations/0004_participant_totals.sql)."""
        if not targets:
            return {}
        rows = await self._conn.fetch(
            """
            SELECT t.target_kind, t.target_id, t.participants_total, t.version
            FROM participant_totals t
            JOIN unnest($2::text[], $3::uuid[]) AS wanted(kind, id) ON t.target_kind = wanted.kind AND t.target_id = wanted.id
            WHERE t.tenant_id = $1
            """,
            self._tenant,
            [t.kind.value for t in targets],
            [t.id for t in targets],
        )
        totals = (TargetTotal(Target(TargetKind(r["target_kind"]), str(r["target_id"])), r["participants_total"], r["version"]) for r in rows)
        return {total.target: total for total in totals}


def _values(p: Participation) -> tuple[Any, ...]:
    event_id = p.target.id if p.target.kind is TargetKind.EVENT else None
    schedule_id = p.target.id if p.target.kind is TargetKind.SCHEDULE else None
    return (
        p.id,
        p.booking_id,
        p.service_id,
        event_id,
        schedule_id,
        p.party_size,
        p.booking_revision,
        p.active,
        p.created_date,
        p.updated_date,
        p.booking_committed_at,
    )


def _participation(row: asyncpg.Record) -> Participation:
    target = Target.event(str(row["event_id"])) if row["event_id"] is not None else Target.schedule(str(row["schedule_id"]))
    return Participation(
        id=str(row["id"]),
        booking_id=str(row["booking_id"]),
        service_id=row["service_id"],
        target=target,
        party_size=row["party_size"],
        booking_revision=row["booking_revision"],
        active=row["active"],
        created_date=row["created_date"],
        updated_date=row["updated_date"],
        booking_committed_at=row["booking_committed_at"],
    )


def participations_store(pool: asyncpg.Pool, *, acquire_timeout: float) -> TenantStore[PostgresParticipationSession]:
    return TenantStore(pool, PostgresParticipationSession, acquire_timeout=acquire_timeout)
