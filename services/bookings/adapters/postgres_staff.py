"""The staff members' statements of the bookings service's Postgres session, and those of the
relation service <-> staff member (asyncpg, plain SQL; schema in migrations/0005_staff_members.sql).
Every statement filters by the session's tenant; adapters/postgres.py assembles the session.

The relation is one table, service_staff, read from both sides: a staff member's `service_ids` and
a service's `staff_member_ids` (postgres_catalog.py) are subqueries on it. Writers take the tenant's
relation lock first (`lock_service_staff`), then lock the rows of the other side in id order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

import asyncpg

from services.bookings.adapters.postgres_catalog import SERVICE_COLUMNS, service_from_row
from services.bookings.application.ports import SortKey, StaffFilter
from services.bookings.domain.services import Service
from services.bookings.domain.staff import RESOURCE, StaffMember, StaffMemberChange
from services.bookings.mapping import staff_member_event
from services.common import outbox
from services.common.db import TenantSession
from services.common.errors import NotFound, RevisionMismatch

_COLUMNS = (
    "id, name, email, time_zone, schedule_id, revision, created_at, updated_at, "
    # The staff member's services, sorted; served by service_staff_by_staff_member.
    "ARRAY(SELECT l.service_id::text FROM service_staff l"
    " WHERE l.tenant_id = staff_members.tenant_id AND l.staff_member_id = staff_members.id ORDER BY l.service_id) AS service_ids"
)

# Advisory locks are per database, shared by every schema in it: the prefix keeps this one apart
# from strict capacity's and the outbox relay's. A hash collision only makes two tenants wait.
_LOCK_RELATION = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_ACTIVE_APPOINTMENT = ["PENDING", "CONFIRMED"]


class StaffStatements(TenantSession):
    # --- reads -----------------------------------------------------------------------------------

    async def staff_member(self, staff_member_id: str) -> StaffMember | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM staff_members WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL", self._tenant, staff_member_id
        )
        return _staff_member(row) if row else None

    async def staff_members(self, staff_member_ids: Sequence[str]) -> dict[str, StaffMember]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM staff_members WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL",
            self._tenant,
            list(staff_member_ids),
        )
        return {m.id: m for m in map(_staff_member, rows)}

    async def query_staff_members(self, where: StaffFilter, after: SortKey | None, limit: int) -> list[StaffMember]:
        # Only the predicates in use are added (still parameterized), so each shape is planned on
        # its index: staff_members_by_creation, the primary key for an id filter, and
        # service_staff_by_staff_member for the service filter's EXISTS.
        args: list[Any] = [self._tenant]
        conditions = ["tenant_id = $1", "deleted_at IS NULL"]
        if where.staff_member_ids:
            args.append(list(where.staff_member_ids))
            conditions.append(f"id = ANY(${len(args)}::uuid[])")
        if where.service_ids:
            args.append(list(where.service_ids))
            conditions.append(
                "EXISTS (SELECT 1 FROM service_staff l WHERE l.tenant_id = staff_members.tenant_id"
                f" AND l.staff_member_id = staff_members.id AND l.service_id = ANY(${len(args)}::uuid[]))"
            )
        if after is not None:
            args += [after.created_at, after.id]
            conditions.append(f"(created_at, id) > (${len(args) - 1}, ${len(args)}::uuid)")
        args.append(limit)
        sql = f"SELECT {_COLUMNS} FROM staff_members WHERE {' AND '.join(conditions)} ORDER BY created_at, id LIMIT ${len(args)}"
        return [_staff_member(r) for r in await self._conn.fetch(sql, *args)]

    async def has_future_appointments(self, staff_member_id: str, now: datetime) -> bool:
        # Served by bookings_by_staff_and_end: the staff member's rows ending after now.
        found: bool = await self._conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM bookings
                 WHERE tenant_id = $1 AND staff_member_id = $2 AND end_date > $3 AND status = ANY($4::text[])
            )
            """,
            self._tenant,
            staff_member_id,
            now,
            _ACTIVE_APPOINTMENT,
        )
        return found

    # --- writes ----------------------------------------------------------------------------------

    async def insert_staff_member(self, staff_member: StaffMember) -> StaffMember:
        row = await self._conn.fetchrow(
            f"""
            INSERT INTO staff_members (tenant_id, id, name, email, time_zone, schedule_id)
            VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {_COLUMNS}
            """,
            self._tenant,
            staff_member.id,
            staff_member.name,
            staff_member.email,
            staff_member.time_zone,
            staff_member.schedule_id,
        )
        return _staff_member(row)

    async def update_staff_member(self, staff_member: StaffMember, expected_revision: int) -> StaffMember:
        # Compare-and-set on the revision, as for services (postgres_catalog.py update_service).
        row = await self._conn.fetchrow(
            f"""
            UPDATE staff_members
               SET name = $3, email = $4, time_zone = $5, revision = revision + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND revision = $6 AND deleted_at IS NULL
            RETURNING {_COLUMNS}
            """,
            self._tenant,
            staff_member.id,
            staff_member.name,
            staff_member.email,
            staff_member.time_zone,
            expected_revision,
        )
        if row is None:
            await self._raise_missing_or_stale(staff_member.id, expected_revision)
        return _staff_member(row)

    async def delete_staff_member(self, staff_member_id: str, expected_revision: int | None) -> StaffMember:
        # FOR UPDATE, not the weaker lock an UPDATE of non-key columns takes: it conflicts with the
        # FOR KEY SHARE lock that inserting a booking takes on its staff member through the foreign
        # key, so an appointment being booked right now either commits first (and the caller's
        # has_future_appointments sees it) or waits for this transaction and finds the staff
        # member deleted.
        locked = await self._conn.fetchval(
            "SELECT revision FROM staff_members WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE", self._tenant, staff_member_id
        )
        if locked is None:
            raise NotFound(RESOURCE, staff_member_id)
        if expected_revision is not None and locked != expected_revision:
            raise RevisionMismatch(RESOURCE, staff_member_id, expected_revision, locked)
        row = await self._conn.fetchrow(
            f"""
            UPDATE staff_members
               SET deleted_at = now(), updated_at = now(), revision = revision + 1
             WHERE tenant_id = $1 AND id = $2
            RETURNING {_COLUMNS}
            """,
            self._tenant,
            staff_member_id,
        )
        return _staff_member(row)

    async def announce_staff_member(self, change: StaffMemberChange, staff_member: StaffMember) -> None:
        await outbox.record_many(self._conn, [staff_member_event(self._tenant, change, staff_member)])

    async def _raise_missing_or_stale(self, staff_member_id: str, expected: int) -> NoReturn:
        actual = await self._conn.fetchval(
            "SELECT revision FROM staff_members WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL", self._tenant, staff_member_id
        )
        if actual is None:
            raise NotFound(RESOURCE, staff_member_id)
        raise RevisionMismatch(RESOURCE, staff_member_id, expected, actual)

    # --- the relation ------------------------------------------------------------------------------

    async def lock_service_staff(self) -> None:
        await self._conn.execute(_LOCK_RELATION, f"service-staff:{self._tenant}")

    async def link_services_to_staff_member(self, staff_member_id: str, service_ids: Sequence[str]) -> list[str]:
        return await self._relink("staff_member_id", staff_member_id, "service_id", service_ids)

    async def link_staff_to_service(self, service_id: str, staff_member_ids: Sequence[str]) -> list[str]:
        return await self._relink("service_id", service_id, "staff_member_id", staff_member_ids)

    async def _relink(self, owner_column: str, owner_id: str, other_column: str, other_ids: Sequence[str]) -> list[str]:
        """Replaces the owner's links by links to `other_ids`; the other side's ids whose links
        changed (removed, then added), sorted. The column names are this module's constants."""
        wanted = sorted(other_ids)
        removed = await self._conn.fetch(
            f"DELETE FROM service_staff WHERE tenant_id = $1 AND {owner_column} = $2 AND NOT ({other_column} = ANY($3::uuid[])) RETURNING {other_column}",
            self._tenant,
            owner_id,
            wanted,
        )
        added = await self._conn.fetch(
            f"""
            INSERT INTO service_staff (tenant_id, {owner_column}, {other_column})
            SELECT $1, $2, other FROM unnest($3::uuid[]) AS other
            ON CONFLICT DO NOTHING
            RETURNING {other_column}
            """,
            self._tenant,
            owner_id,
            wanted,
        )
        return sorted(str(r[other_column]) for r in [*removed, *added])

    async def touch_services(self, service_ids: Sequence[str]) -> list[Service]:
        return sorted(map(service_from_row, await self._touch("services", SERVICE_COLUMNS, service_ids)), key=lambda s: s.id)

    async def touch_staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        return sorted(map(_staff_member, await self._touch("staff_members", _COLUMNS, staff_member_ids)), key=lambda m: m.id)

    async def _touch(self, table: str, columns: str, ids: Sequence[str]) -> list[asyncpg.Record]:
        """A new revision for each live row among `ids` whose links changed, its rows locked in id
        order (two writers relinking overlapping sets never wait for each other in a cycle)."""
        if not ids:
            return []
        return await self._conn.fetch(
            f"""
            WITH locked AS (
                SELECT id AS locked_id FROM {table}
                 WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL
                 ORDER BY id FOR NO KEY UPDATE
            )
            UPDATE {table} SET revision = revision + 1, updated_at = now()
              FROM locked
             WHERE {table}.tenant_id = $1 AND {table}.id = locked.locked_id
            RETURNING {columns}
            """,
            self._tenant,
            list(ids),
        )


def _staff_member(row: asyncpg.Record) -> StaffMember:
    return StaffMember(
        id=str(row["id"]),
        name=row["name"],
        email=row["email"],
        time_zone=row["time_zone"],
        service_ids=tuple(row["service_ids"]),
        schedule_id=row["schedule_id"],
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
