"""The catalog's statements of the bookings service's Postgres session (asyncpg, plain SQL; schema
in migrations/0001_catalog.sql, appointment settings in 0005_staff_members.sql). Every statement
filters by the session's tenant, so no caller can reach another tenant's rows; adapters/postgres.py
assembles the session. A service's staff are read from the relation stored once (service_staff;
written by adapters/postgres_staff.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NoReturn

import asyncpg

from services.bookings.application.ports import ServiceFilter, SortKey
from services.bookings.domain.policies import (
    BookAfterStart,
    BookingPolicy,
    CancellationPolicy,
    LimitEarlyBooking,
    LimitLateBooking,
    ParticipantsPolicy,
)
from services.bookings.domain.services import AppointmentSettings, Service, ServiceChange, ServiceType
from services.bookings.mapping import service_event
from services.common import outbox
from services.common.db import TenantSession
from services.common.errors import NotFound, RevisionMismatch

RESOURCE = "service"
# Qualified by the table's name where it matters, so that statements joining another relation
# (postgres_staff.py's touch_services) can return the same columns.
SERVICE_COLUMNS = (
    "id, type, name, default_capacity, time_zone, online_booking_enabled, requires_manual_approval, "
    "booking_policy, strict_capacity, schedule_id, appointment_duration_minutes, appointment_buffer_before_minutes, "
    "appointment_buffer_after_minutes, appointment_slot_interval_minutes, revision, created_at, updated_at, "
    # The service's staff, sorted; served by service_staff's primary key.
    "ARRAY(SELECT l.staff_member_id::text FROM service_staff l"
    " WHERE l.tenant_id = services.tenant_id AND l.service_id = services.id ORDER BY l.staff_member_id) AS staff_member_ids"
)


class CatalogStatements(TenantSession):
    # --- reads -----------------------------------------------------------------------------------

    async def service(self, service_id: str) -> Service | None:
        row = await self._conn.fetchrow(
            f"SELECT {SERVICE_COLUMNS} FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL", self._tenant, service_id
        )
        return service_from_row(row) if row else None

    async def services(self, service_ids: Sequence[str]) -> dict[str, Service]:
        rows = await self._conn.fetch(
            f"SELECT {SERVICE_COLUMNS} FROM services WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL",
            self._tenant,
            list(service_ids),
        )
        return {s.id: s for s in map(service_from_row, rows)}

    async def query_services(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]:
        # Only the predicates in use are added (the statement stays parameterized), so each
        # shape gets a plan that uses its index: services_by_creation, services_by_type_and_creation
        # or the primary key for an id filter.
        args: list[Any] = [self._tenant]
        conditions = ["tenant_id = $1", "deleted_at IS NULL"]
        if where.service_ids:
            args.append(list(where.service_ids))
            conditions.append(f"id = ANY(${len(args)}::uuid[])")
        if where.types:
            args.append([t.name for t in where.types])
            conditions.append(f"type = ANY(${len(args)}::text[])")
        if after is not None:
            args += [after.created_at, after.id]
            conditions.append(f"(created_at, id) > (${len(args) - 1}, ${len(args)}::uuid)")
        args.append(limit)
        sql = f"SELECT {SERVICE_COLUMNS} FROM services WHERE {' AND '.join(conditions)} ORDER BY created_at, id LIMIT ${len(args)}"
        rows = await self._conn.fetch(sql, *args)
        return [service_from_row(r) for r in rows]

    # --- writes ----------------------------------------------------------------------------------

    async def insert_service(self, service: Service) -> Service:
        """Stores the service without its staff (link_staff_to_service adds them)."""
        row = await self._conn.fetchrow(
            f"""
            INSERT INTO services (tenant_id, id, type, name, default_capacity, time_zone, online_booking_enabled,
                                  requires_manual_approval, booking_policy, strict_capacity, schedule_id,
                                  appointment_duration_minutes, appointment_buffer_before_minutes,
                                  appointment_buffer_after_minutes, appointment_slot_interval_minutes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15)
            RETURNING {SERVICE_COLUMNS}
            """,
            self._tenant,
            service.id,
            service.type.name,
            service.name,
            service.default_capacity,
            service.time_zone,
            service.online_booking_enabled,
            service.requires_manual_approval,
            _policy_document(service.booking_policy),
            service.strict_capacity,
            service.schedule_id,
            *_appointment_columns(service.appointment),
        )
        return service_from_row(row)

    async def update_service(self, service: Service, expected_revision: int) -> Service:
        # The revision condition makes this a compare-and-set: of two concurrent updates at
        # the same revision the second blocks on the row lock, re-reads it at the new
        # revision and matches nothing.
        row = await self._conn.fetchrow(
            f"""
            UPDATE services
               SET name = $3, default_capacity = $4, time_zone = $5, online_booking_enabled = $6,
                   requires_manual_approval = $7, booking_policy = $8::jsonb, strict_capacity = $9,
                   appointment_duration_minutes = $11, appointment_buffer_before_minutes = $12,
                   appointment_buffer_after_minutes = $13, appointment_slot_interval_minutes = $14,
                   revision = revision + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND revision = $10 AND deleted_at IS NULL
            RETURNING {SERVICE_COLUMNS}
            """,
            self._tenant,
            service.id,
            service.name,
            service.default_capacity,
            service.time_zone,
            service.online_booking_enabled,
            service.requires_manual_approval,
            _policy_document(service.booking_policy),
            service.strict_capacity,
            expected_revision,
            *_appointment_columns(service.appointment),
        )
        if row is None:
            await self._raise_missing_or_stale(service.id, expected_revision)
        return service_from_row(row)

    async def delete_service(self, service_id: str, expected_revision: int | None) -> Service:
        row = await self._conn.fetchrow(
            f"""
            UPDATE services
               SET deleted_at = now(), updated_at = now(), revision = revision + 1
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND ($3::bigint IS NULL OR revision = $3)
            RETURNING {SERVICE_COLUMNS}
            """,
            self._tenant,
            service_id,
            expected_revision,
        )
        if row is None:
            await self._raise_missing_or_stale(service_id, expected_revision)
        return service_from_row(row)

    async def announce_service(self, change: ServiceChange, service: Service) -> None:
        await outbox.record_many(self._conn, [service_event(self._tenant, change, service)])

    async def _raise_missing_or_stale(self, service_id: str, expected: int | None) -> NoReturn:
        actual = await self._conn.fetchval("SELECT revision FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL", self._tenant, service_id)
        if actual is None:
            raise NotFound(RESOURCE, service_id)
        raise RevisionMismatch(RESOURCE, service_id, expected or 0, actual)


def _appointment_columns(settings: AppointmentSettings | None) -> tuple[int | None, ...]:
    if settings is None:
        return (None, None, None, None)
    return (settings.duration_minutes, settings.buffer_before_minutes, settings.buffer_after_minutes, settings.slot_interval_minutes)


def service_from_row(row: asyncpg.Record) -> Service:
    duration = row["appointment_duration_minutes"]
    return Service(
        id=str(row["id"]),
        type=ServiceType[row["type"]],
        name=row["name"],
        default_capacity=row["default_capacity"],
        time_zone=row["time_zone"],
        online_booking_enabled=row["online_booking_enabled"],
        requires_manual_approval=row["requires_manual_approval"],
        booking_policy=policy_from_document(json.loads(row["booking_policy"])),
        strict_capacity=row["strict_capacity"],
        schedule_id=row["schedule_id"],
        appointment=None
        if duration is None
        else AppointmentSettings(
            duration_minutes=duration,
            buffer_before_minutes=row["appointment_buffer_before_minutes"],
            buffer_after_minutes=row["appointment_buffer_after_minutes"],
            slot_interval_minutes=row["appointment_slot_interval_minutes"],
        ),
        staff_member_ids=tuple(row["staff_member_ids"]),
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _policy_document(policy: BookingPolicy) -> str:
    return json.dumps(policy_to_document(policy), separators=(",", ":"))


def policy_to_document(policy: BookingPolicy) -> dict[str, dict[str, Any]]:
    """The stored JSONB form: the proto's field names, every sub-policy spelled out."""
    p = policy.normalized()
    return {
        "limit_early_booking": {
            "enabled": p.limit_early_booking.enabled,
            "earliest_booking_in_minutes": p.limit_early_booking.earliest_booking_in_minutes,
        },
        "limit_late_booking": {"enabled": p.limit_late_booking.enabled, "latest_booking_in_minutes": p.limit_late_booking.latest_booking_in_minutes},
        "book_after_start_policy": {"enabled": p.book_after_start_policy.enabled},
        "participants_policy": {"max_participants_per_booking": p.participants_policy.max_participants_per_booking},
        "cancellation_policy": {
            "enabled": p.cancellation_policy.enabled,
            "latest_cancellation_in_minutes": p.cancellation_policy.latest_cancellation_in_minutes,
        },
    }


def policy_from_document(doc: dict[str, Any]) -> BookingPolicy:
    """Reads any version of the document: a missing sub-policy or field takes its default, which
    for a sub-policy means disabled (the BookingPolicyProvider contract)."""

    def part(name: str) -> dict[str, Any]:
        value = doc.get(name)
        return value if isinstance(value, dict) else {}

    early, late, after, participants, cancellation = (
        part(n) for n in ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy")
    )
    return BookingPolicy(
        limit_early_booking=LimitEarlyBooking(bool(early.get("enabled", False)), int(early.get("earliest_booking_in_minutes", 0))),
        limit_late_booking=LimitLateBooking(bool(late.get("enabled", False)), int(late.get("latest_booking_in_minutes", 0))),
        book_after_start_policy=BookAfterStart(bool(after.get("enabled", False))),
        participants_policy=ParticipantsPolicy(int(participants.get("max_participants_per_booking", 0))),
        cancellation_policy=CancellationPolicy(bool(cancellation.get("enabled", False)), int(cancellation.get("latest_cancellation_in_minutes", 0))),
    ).normalized()
