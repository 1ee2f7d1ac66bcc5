"""Postgres store of the calendar (asyncpg, plain SQL, schema of migrations/0001_calendar.sql).

A `PostgresCalendarSession` is bound to one tenant when it is opened (services/common/db.py
`TenantStore`), and every statement it runs filters by that tenant, so no code path can forget
to. `store.write(tenant)` is the only way to change data: one transaction per request, committed
when the block ends without an error.

Time frames are computed on read, not maintained. A maintained table (first start, last end,
count per schedule) would have to be updated in the same transaction as every event create,
move and cancel, which serializes all writes of a schedule on its summary row and still needs
a rescan whenever the first or last event moves or is cancelled: a second source of truth that
a missed code path or a concurrent write silently corrupts. The aggregate below reads the
events themselves in one statement (one snapshot), so it is right by construction under any
concurrency, and the partial covering index `events_time_frame_idx` makes it an index-only scan
over the schedule's non-cancelled events (a course has tens to hundreds of sessions).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from services.common import outbox
from services.common.db import TenantSession, TenantStore
from services.common.weekly_rules import WeeklyRule
from services.timeframes.domain.commands import EventQuery
from services.timeframes.domain.holds import MAX_NAMED_OCCUPANTS, AppointmentHold, HoldWrite, Occupants
from services.timeframes.domain.model import (
    Count,
    Event,
    EventChange,
    EventStatus,
    NewEvent,
    NewSchedule,
    Participants,
    Schedule,
    ScheduleStatus,
    TimeFrame,
)
from services.timeframes.domain.working_hours import Holiday, NewHoliday, NewSpan, ScheduleWorkingHours, Span, WorkingHoursPart
from services.timeframes.mapping import event_message, schedule_participants_message, working_hours_message

_SCHEDULE_COLUMNS = "id, name, external_id, time_zone, default_capacity, status, revision, created_date, schedule_participants, schedule_participants_version"
# An event is read with its schedule, whose participants (a course's) it counts too. `e` is the
# event row, `s` its schedule's.
_EVENT_COLUMNS = (
    'e.id, e.schedule_id, e.start, e."end", e.time_zone, e.title, e.total_capacity, e.participants_total, e.participants_version, '
    "e.event_participants, e.event_participants_version, s.schedule_participants, s.schedule_participants_version, "
    "e.status, e.revision, e.created_date, e.updated_date"
)
_WITH_SCHEDULE = "JOIN schedules s ON s.tenant_id = e.tenant_id AND s.id = e.schedule_id"


class PostgresCalendarSession(TenantSession):
    """The calendar's statements, each filtered by the session's tenant."""

    # --- schedules -------------------------------------------------------------------------------

    async def add_schedule(self, new: NewSchedule) -> Schedule:
        """Stores the schedule, or returns the tenant's schedule that already has its external_id
        (a retried or concurrent create): the unique index decides, so two racing creates end with
        one schedule."""
        row = await self._conn.fetchrow(
            f"""
            INSERT INTO schedules (tenant_id, id, name, external_id, time_zone, default_capacity)
            VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6)
            ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
            RETURNING {_SCHEDULE_COLUMNS}
            """,
            self._tenant,
            new.id,
            new.name,
            new.external_id,
            new.time_zone,
            new.default_capacity,
        )
        if row is None:
            # The conflicting row is committed (ON CONFLICT waited for it), and this new statement
            # sees it under READ COMMITTED.
            row = await self._conn.fetchrow(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND external_id = $2",
                self._tenant,
                new.external_id,
            )
        return _schedule(row)

    async def schedule(self, schedule_id: str) -> Schedule | None:
        row = await self._conn.fetchrow(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2", self._tenant, schedule_id)
        return _schedule(row) if row else None

    async def schedules(self, schedule_ids: Sequence[str]) -> dict[str, Schedule]:
        rows = await self._conn.fetch(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
            self._tenant,
            list(schedule_ids),
        )
        return {s.id: s for s in map(_schedule, rows)}

    # --- events ----------------------------------------------------------------------------------

    async def add_events(self, events: Sequence[NewEvent]) -> list[Event]:
        """Inserts all events in one statement; returns them in the order given."""
        rows = await self._conn.fetch(
            f"""
            WITH e AS (
                INSERT INTO events (tenant_id, id, schedule_id, start, "end", time_zone, title, total_capacity)
                SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::int[])
                RETURNING *
            )
            SELECT {_EVENT_COLUMNS} FROM e {_WITH_SCHEDULE}
            """,
            self._tenant,
            [e.id for e in events],
            [e.schedule_id for e in events],
            [e.start for e in events],
            [e.end for e in events],
            [e.time_zone for e in events],
            [e.title for e in events],
            [e.total_capacity for e in events],
        )
        stored = {e.id: e for e in map(_event, rows)}
        return [stored[e.id] for e in events]

    async def event(self, event_id: str, *, for_update: bool = False) -> Event | None:
        lock = " FOR UPDATE OF e" if for_update else ""
        query = f"SELECT {_EVENT_COLUMNS} FROM events e {_WITH_SCHEDULE} WHERE e.tenant_id = $1 AND e.id = $2{lock}"
        row = await self._conn.fetchrow(query, self._tenant, event_id)
        return _event(row) if row else None

    async def save_event(self, event: Event, *, expected_revision: int) -> Event | None:
        """Writes the event's changeable state if it is still at `expected_revision`
        (compare-and-set): of two writers that read the same revision exactly one succeeds, the
        other gets None. `updated_date` moves with the revision."""
        row = await self._conn.fetchrow(
            f"""
            WITH e AS (
                UPDATE events SET
                    start = $4, "end" = $5, time_zone = $6, title = $7, total_capacity = $8, status = $9,
                    -- Never back to an older settlement than one committed since the event was read.
                    participants_total = CASE WHEN $11 > participants_version THEN $10 ELSE participants_total END,
                    participants_version = GREATEST(participants_version, $11), revision = $12,
                    updated_date = CASE WHEN revision <> $12 THEN now() ELSE updated_date END
                WHERE tenant_id = $1 AND id = $2 AND revision = $3
                RETURNING *
            )
            SELECT {_EVENT_COLUMNS} FROM e {_WITH_SCHEDULE}
            """,
            self._tenant,
            event.id,
            expected_revision,
            event.start,
            event.end,
            event.time_zone,
            event.title,
            event.total_capacity,
            event.status.value,
            event.participants.legacy.total,
            event.participants.legacy.version,
            event.revision,
        )
        return _event(row) if row else None

    async def record(self, change: EventChange, events: Sequence[Event]) -> None:
        """Every change of an event passes here, inside its transaction: one
        `calendar.event-events.v1` message per event goes into the outbox, so an event is
        published if and only if its change commits."""
        await outbox.record_many(self._conn, [event_message(self._tenant, change, event) for event in events])

    # --- participant totals (UpdateParticipantTotals) ----------------------------------------------

    async def events_to_settle(self, event_ids: Sequence[str]) -> dict[str, Event]:
        """The tenant's events among `event_ids`, locked in id order until the transaction ends
        (NO KEY UPDATE: a concurrent insert of events still takes its foreign-key share lock)."""
        if not event_ids:
            return {}
        rows = await self._conn.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events e {_WITH_SCHEDULE} WHERE e.tenant_id = $1 AND e.id = ANY($2::uuid[]) ORDER BY e.id FOR NO KEY UPDATE OF e",
            self._tenant,
            list(event_ids),
        )
        return {e.id: e for e in map(_event, rows)}

    async def schedules_to_settle(self, schedule_ids: Sequence[str]) -> dict[str, Schedule]:
        """The tenant's schedules among `schedule_ids`, locked in id order (as events_to_settle)."""
        if not schedule_ids:
            return {}
        rows = await self._conn.fetch(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE",
            self._tenant,
            list(schedule_ids),
        )
        return {s.id: s for s in map(_schedule, rows)}

    async def save_event_participants(self, events: Sequence[Event]) -> dict[str, Event]:
        """Stores the participants booked on each event (and its revision); returns the events as
        stored, by id."""
        if not events:
            return {}
        rows = await self._conn.fetch(
            f"""
            WITH e AS (
                UPDATE events e SET
                    event_participants = u.total, event_participants_version = u.version, revision = u.revision,
                    updated_date = CASE WHEN e.revision <> u.revision THEN now() ELSE e.updated_date END
                FROM unnest($2::uuid[], $3::int[], $4::bigint[], $5::bigint[]) AS u(id, total, version, revision)
                WHERE e.tenant_id = $1 AND e.id = u.id
                RETURNING e.*
            )
            SELECT {_EVENT_COLUMNS} FROM e {_WITH_SCHEDULE}
            """,
            self._tenant,
            [e.id for e in events],
            [e.participants.event.total for e in events],
            [e.participants.event.version for e in events],
            [e.revision for e in events],
        )
        return {e.id: e for e in map(_event, rows)}

    async def save_schedule_participants(self, schedules: Sequence[Schedule]) -> None:
        if not schedules:
            return
        await self._conn.execute(
            """
            UPDATE schedules s SET schedule_participants = u.total, schedule_participants_version = u.version, revision = u.revision
            FROM unnest($2::uuid[], $3::int[], $4::bigint[], $5::bigint[]) AS u(id, total, version, revision)
            WHERE s.tenant_id = $1 AND s.id = u.id
            """,
            self._tenant,
            [s.id for s in schedules],
            [s.participants.total for s in schedules],
            [s.participants.version for s in schedules],
            [s.revision for s in schedules],
        )

    async def record_schedule_participants(self, schedules: Sequence[Schedule]) -> None:
        """One `calendar.event-events.v1` message per schedule whose participants changed, in
        the outbox of this transaction."""
        await outbox.record_many(self._conn, [schedule_participants_message(self._tenant, s) for s in schedules])

    async def query_events(self, query: EventQuery, *, after: tuple[datetime, str] | None, limit: int) -> list[Event]:
        """Up to `limit` events matching the query, in (start, id) order, strictly after the
        `after` key (keyset paging: stable while events are added or moved)."""
        conditions = ["e.tenant_id = $1"]
        args: list[Any] = [self._tenant]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.schedule_ids:
            conditions.append(f"e.schedule_id = ANY({arg(list(query.schedule_ids))}::uuid[])")
        if query.event_ids:
            conditions.append(f"e.id = ANY({arg(list(query.event_ids))}::uuid[])")
        if query.from_date is not None:
            conditions.append(f"e.start >= {arg(query.from_date)}")
        if query.to_date is not None:
            conditions.append(f"e.start < {arg(query.to_date)}")
        if not query.include_cancelled:
            conditions.append("e.status = 'CONFIRMED'")
        if after is not None:
            conditions.append(f"(e.start, e.id) > ({arg(after[0])}, {arg(after[1])}::uuid)")
        rows = await self._conn.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events e {_WITH_SCHEDULE} WHERE {' AND '.join(conditions)} ORDER BY e.start, e.id LIMIT {arg(limit)}",
            *args,
        )
        return [_event(r) for r in rows]

    # --- time frames -----------------------------------------------------------------------------

    async def time_frames(self, schedule_ids: Sequence[str]) -> dict[str, TimeFrame]:
        """The frame of each of the tenant's schedules among `schedule_ids` (see the module
        docstring for why it is computed here); ids of no schedule of the tenant are absent."""
        rows = await self._conn.fetch(
            """
            SELECT s.id, f.first_start, f.last_end, f.event_count
            FROM schedules s
            CROSS JOIN LATERAL (
                SELECT min(e.start) AS first_start, max(e."end") AS last_end, count(*) AS event_count
                FROM events e
                WHERE e.tenant_id = s.tenant_id AND e.schedule_id = s.id AND e.status = 'CONFIRMED'
            ) f
            WHERE s.tenant_id = $1 AND s.id = ANY($2::uuid[])
            """,
            self._tenant,
            list(schedule_ids),
        )
        return {str(r["id"]): TimeFrame(str(r["id"]), r["first_start"], r["last_end"], r["event_count"]) for r in rows}

    # --- working hours (migrations/0004_working_hours.sql, time off in 0005_occupied_time.sql) ---

    async def lock_schedule(self, schedule_id: str) -> Schedule | None:
        row = await self._conn.fetchrow(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2 FOR UPDATE", self._tenant, schedule_id)
        return _schedule(row) if row else None

    async def replace_weekly_rules(self, schedule_id: str, rules: Sequence[WeeklyRule]) -> None:
        """Deletes the schedule's rules and inserts `rules` (the caller holds the schedule's lock)."""
        await self._conn.execute("DELETE FROM weekly_rules WHERE tenant_id = $1 AND schedule_id = $2", self._tenant, schedule_id)
        await self._conn.execute(
            """
            INSERT INTO weekly_rules (tenant_id, schedule_id, position, day_of_week, start_time, end_time, effective_from, effective_to)
            SELECT $1, $2, * FROM unnest($3::smallint[], $4::smallint[], $5::time[], $6::time[], $7::date[], $8::date[])
            """,
            self._tenant,
            schedule_id,
            list(range(len(rules))),
            [r.day_of_week for r in rules],
            [r.start for r in rules],
            [r.end for r in rules],
            [r.effective_from for r in rules],
            [r.effective_to for r in rules],
        )

    async def weekly_rules(self, schedule_id: str) -> list[WeeklyRule]:
        """The schedule's rules, in the order they were set (the contract's order is the use case's)."""
        rows = await self._conn.fetch(
            """
            SELECT day_of_week, start_time, end_time, effective_from, effective_to FROM weekly_rules
            WHERE tenant_id = $1 AND schedule_id = $2
            ORDER BY position
            """,
            self._tenant,
            schedule_id,
        )
        return [WeeklyRule(r["day_of_week"], r["start_time"], r["end_time"], r["effective_from"], r["effective_to"]) for r in rows]

    async def add_extra_hours(self, span_id: str, new: NewSpan) -> Span:
        row = await self._conn.fetchrow(
            f"""
            INSERT INTO extra_hours (tenant_id, id, schedule_id, start, "end", reason) VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {_SPAN_COLUMNS}
            """,
            self._tenant,
            span_id,
            new.schedule_id,
            new.start,
            new.end,
            new.reason,
        )
        return _span(row)

    async def delete_span(self, kind: str, schedule_id: str, span_id: str) -> bool:
        table, only = _SPANS[kind]
        deleted = await self._conn.fetchval(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND schedule_id = $2 AND id = $3 AND {only} RETURNING id", self._tenant, schedule_id, span_id
        )
        return deleted is not None

    async def spans(self, kind: str, schedule_id: str, start: datetime, end: datetime) -> list[Span]:
        table, only = _SPANS[kind]
        rows = await self._conn.fetch(
            f"""
            SELECT {_SPAN_COLUMNS} FROM {table}
            WHERE tenant_id = $1 AND schedule_id = $2 AND {only} AND start < $4 AND "end" > $3
            ORDER BY start, id
            """,
            self._tenant,
            schedule_id,
            start,
            end,
        )
        return [_span(r) for r in rows]

    async def add_holiday(self, holiday_id: str, new: NewHoliday) -> Holiday | None:
        """Stores the holiday, or None when the schedule already has one on that date."""
        row = await self._conn.fetchrow(
            """
            INSERT INTO holidays (tenant_id, id, schedule_id, local_date, reason) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, schedule_id, local_date) DO NOTHING
            RETURNING id, schedule_id, local_date, reason
            """,
            self._tenant,
            holiday_id,
            new.schedule_id,
            new.local_date,
            new.reason,
        )
        return _holiday(row) if row else None

    async def delete_holiday(self, schedule_id: str, holiday_id: str) -> bool:
        deleted = await self._conn.fetchval(
            "DELETE FROM holidays WHERE tenant_id = $1 AND schedule_id = $2 AND id = $3 RETURNING id", self._tenant, schedule_id, holiday_id
        )
        return deleted is not None

    async def holidays(self, schedule_id: str, first: date, last: date) -> list[Holiday]:
        rows = await self._conn.fetch(
            """
            SELECT id, schedule_id, local_date, reason FROM holidays
            WHERE tenant_id = $1 AND schedule_id = $2 AND local_date BETWEEN $3 AND $4
            ORDER BY local_date
            """,
            self._tenant,
            schedule_id,
            first,
            last,
        )
        return [_holiday(r) for r in rows]

    async def working_hours(self, schedule_ids: Sequence[str], start: datetime, end: datetime, first: date, last: date) -> dict[str, ScheduleWorkingHours]:
        """ListWorkingHours in one statement, however many schedules: each of the tenant's
        schedules among `schedule_ids` with its rules (in the order set), its time off and extra
        hours overlapping [start, end) in (start, id) order, and its holidays from `first` through
        `last`. Each array is one index scan per schedule (the rules' primary key,
        occupied_time_time_off_idx, extra_hours_schedule_start_idx, holidays_schedule_date_key).
        Ids of no schedule of the tenant are absent."""
        rows = await self._conn.fetch(
            """
            SELECT s.id, s.time_zone,
                ARRAY(
                    SELECT (w.day_of_week, w.start_time, w.end_time, w.effective_from, w.effective_to) FROM weekly_rules w
                    WHERE w.tenant_id = $1 AND w.schedule_id = s.id
                    ORDER BY w.position
                ) AS rules,
                ARRAY(
                    SELECT (o.id, o.start, o."end", o.reason) FROM occupied_time o
                    WHERE o.tenant_id = $1 AND o.schedule_id = s.id AND o.kind = 'TIME_OFF' AND o.start < $4 AND o."end" > $3
                    ORDER BY o.start, o.id
                ) AS time_off,
                ARRAY(
                    SELECT (x.id, x.start, x."end", x.reason) FROM extra_hours x
                    WHERE x.tenant_id = $1 AND x.schedule_id = s.id AND x.start < $4 AND x."end" > $3
                    ORDER BY x.start, x.id
                ) AS extra_hours,
                ARRAY(
                    SELECT (h.id, h.local_date, h.reason) FROM holidays h
                    WHERE h.tenant_id = $1 AND h.schedule_id = s.id AND h.local_date BETWEEN $5 AND $6
                    ORDER BY h.local_date
                ) AS holidays
            FROM schedules s
            WHERE s.tenant_id = $1 AND s.id = ANY($2::uuid[])
            """,
            self._tenant,
            list(schedule_ids),
            start,
            end,
            first,
            last,
        )
        found = {}
        for row in rows:
            schedule_id = str(row["id"])
            found[schedule_id] = ScheduleWorkingHours(
                schedule_id=schedule_id,
                time_zone=row["time_zone"],
                rules=[WeeklyRule(*rule) for rule in row["rules"]],
                time_off=[Span(str(i), schedule_id, s, e, reason) for i, s, e, reason in row["time_off"]],
                extra_hours=[Span(str(i), schedule_id, s, e, reason) for i, s, e, reason in row["extra_hours"]],
                holidays=[Holiday(str(i), schedule_id, day, reason) for i, day, reason in row["holidays"]],
            )
        return found

    async def record_working_hours_changed(self, schedule_id: str, part: WorkingHoursPart) -> None:
        """Every change of a schedule's working hours passes here, inside its transaction: one
        `calendar.working-hours-events.v1` message goes into the outbox, so it is published if and
        only if the change commits. `changed_at` is the transaction's time (now()), the instant
        the outbox stamps as `ce_time` too."""
        changed_at = await self._conn.fetchval("SELECT now()")
        await outbox.record_many(self._conn, [working_hours_message(self._tenant, schedule_id, part, changed_at)])

    # --- occupied time (migrations/0005_occupied_time.sql) -----------------------------------------

    async def lock_occupied_time(self, schedule_id: str) -> Schedule | None:
        """The schedule, locked until the transaction ends, so that the writers of its occupied time
        (holds and time off) insert one after the other. The exclusion constraints alone would
        keep overlaps out, but two transactions inserting overlapping rows at once each find the
        other's row in progress and wait for it: a deadlock, which Postgres breaks only after
        deadlock_timeout by failing one of them. Serialized, the second sees the first's row
        committed and is refused at once. NO KEY UPDATE leaves the foreign keys' share locks
        (events being created on the schedule) alone."""
        row = await self._conn.fetchrow(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE", self._tenant, schedule_id
        )
        return _schedule(row) if row else None

    async def add_time_off(self, span_id: str, new: NewSpan) -> Span | None:
        """Stores the time off, or None when it overlaps a hold (occupied_time_kinds_excl refused
        it; the savepoint keeps the transaction usable, to name the holds)."""
        try:
            async with self._conn.transaction():
                row = await self._conn.fetchrow(
                    f"""
                    INSERT INTO occupied_time (tenant_id, id, schedule_id, kind, start, "end", reason) VALUES ($1, $2, $3, 'TIME_OFF', $4, $5, $6)
                    RETURNING {_SPAN_COLUMNS}
                    """,
                    self._tenant,
                    span_id,
                    new.schedule_id,
                    new.start,
                    new.end,
                    new.reason,
                )
        except asyncpg.exceptions.ExclusionViolationError:
            return None
        return _span(row)

    async def hold(self, booking_id: str) -> AppointmentHold | None:
        row = await self._conn.fetchrow(
            f"SELECT {_HOLD_COLUMNS} FROM occupied_time WHERE tenant_id = $1 AND booking_id = $2 AND kind = 'APPOINTMENT'", self._tenant, booking_id
        )
        return _hold(row) if row else None

    async def add_hold(self, hold_id: str, hold: AppointmentHold) -> HoldWrite:
        """Stores the hold, unless the time overlaps another hold or time off (an exclusion
        constraint refuses it, in a savepoint that keeps the transaction usable) or the booking
        holds time already (a hold of the same booking on another schedule committed first: the
        unique index, ON CONFLICT)."""
        try:
            async with self._conn.transaction():
                inserted = await self._conn.fetchval(
                    """
                    INSERT INTO occupied_time (tenant_id, id, schedule_id, kind, start, "end", booking_id) VALUES ($1, $2, $3, 'APPOINTMENT', $4, $5, $6)
                    ON CONFLICT (tenant_id, booking_id) WHERE kind = 'APPOINTMENT' DO NOTHING
                    RETURNING id
                    """,
                    self._tenant,
                    hold_id,
                    hold.schedule_id,
                    hold.start,
                    hold.end,
                    hold.booking_id,
                )
        except asyncpg.exceptions.ExclusionViolationError:
            return HoldWrite.OCCUPIED
        return HoldWrite.HELD if inserted is not None else HoldWrite.BOOKING_HOLDS_TIME

    async def release_hold(self, booking_id: str) -> bool:
        deleted = await self._conn.fetchval(
            "DELETE FROM occupied_time WHERE tenant_id = $1 AND booking_id = $2 AND kind = 'APPOINTMENT' RETURNING id", self._tenant, booking_id
        )
        return deleted is not None

    async def occupants(self, schedule_id: str, start: datetime, end: datetime) -> Occupants:
        """The holds' bookings and the time off overlapping [start, end) on the schedule, each
        sorted by id (uuid order is their text's) and cut to MAX_NAMED_OCCUPANTS; found through
        the exclusion constraints' indexes."""
        row = await self._conn.fetchrow(
            """
            SELECT
                ARRAY(
                    SELECT booking_id FROM occupied_time
                    WHERE tenant_id = $1 AND schedule_id = $2 AND kind = 'APPOINTMENT' AND during && tstzrange($3, $4, '[)')
                    ORDER BY booking_id LIMIT $5
                ) AS booking_ids,
                ARRAY(
                    SELECT id FROM occupied_time
                    WHERE tenant_id = $1 AND schedule_id = $2 AND kind = 'TIME_OFF' AND during && tstzrange($3, $4, '[)')
                    ORDER BY id LIMIT $5
                ) AS time_off_ids
            """,
            self._tenant,
            schedule_id,
            start,
            end,
            MAX_NAMED_OCCUPANTS + 1,
        )
        bookings, time_off = [str(i) for i in row["booking_ids"]], [str(i) for i in row["time_off_ids"]]
        more = max(len(bookings), len(time_off)) > MAX_NAMED_OCCUPANTS
        return Occupants(tuple(bookings[:MAX_NAMED_OCCUPANTS]), tuple(time_off[:MAX_NAMED_OCCUPANTS]), more)


# (table, the rows of that kind in it): table names come from this fixed map only, never from a
# request. Time off shares occupied_time with appointment holds (migrations/0005_occupied_time.sql).
_SPANS = {"time_off": ("occupied_time", "kind = 'TIME_OFF'"), "extra_hours": ("extra_hours", "TRUE")}
_HOLD_COLUMNS = 'booking_id, schedule_id, start, "end"'
_SPAN_COLUMNS = 'id, schedule_id, start, "end", reason'


def _span(row: asyncpg.Record) -> Span:
    return Span(str(row["id"]), str(row["schedule_id"]), row["start"], row["end"], row["reason"])


def _hold(row: asyncpg.Record) -> AppointmentHold:
    return AppointmentHold(str(row["booking_id"]), str(row["schedule_id"]), row["start"], row["end"])


def _holiday(row: asyncpg.Record) -> Holiday:
    return Holiday(str(row["id"]), str(row["schedule_id"]), row["local_date"], row["reason"])


def _schedule(row: asyncpg.Record) -> Schedule:
    return Schedule(
        id=str(row["id"]),
        name=row["name"],
        external_id=row["external_id"] or "",
        time_zone=row["time_zone"],
        default_capacity=row["default_capacity"],
        status=ScheduleStatus(row["status"]),
        revision=row["revision"],
        created_date=row["created_date"],
        participants=Count(row["schedule_participants"], row["schedule_participants_version"]),
    )


def _event(row: asyncpg.Record) -> Event:
    return Event(
        id=str(row["id"]),
        schedule_id=str(row["schedule_id"]),
        start=row["start"],
        end=row["end"],
        time_zone=row["time_zone"],
        title=row["title"],
        total_capacity=row["total_capacity"],
        participants=Participants(
            event=Count(row["event_participants"], row["event_participants_version"]),
            schedule=Count(row["schedule_participants"], row["schedule_participants_version"]),
            legacy=Count(row["participants_total"], row["participants_version"]),
        ),
        status=EventStatus(row["status"]),
        revision=row["revision"],
        created_date=row["created_date"],
        updated_date=row["updated_date"],
    )


def calendar_store(pool: asyncpg.Pool, *, acquire_timeout: float) -> TenantStore[PostgresCalendarSession]:
    return TenantStore(pool, PostgresCalendarSession, acquire_timeout=acquire_timeout)
