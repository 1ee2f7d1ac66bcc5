"""The calendar's use cases (ports in application/ports.py). Each validates its command completely (domain/commands.py) before
touching the store, then reads, or changes the store in exactly one transaction.

Every write goes through `store.write(tenant)` and every change of an event is announced with
`session.record(change, events)` in that same transaction: the one place the outbox of
`calendar.event-events.v1` hooks into.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace

from services.common.errors import NotFound, RevisionMismatch
from services.common.paging import CursorCodec, instant_key, parse_instant_key, validated_page
from services.timeframes.application.ports import CalendarSession, CalendarStore
from services.timeframes.domain import commands
from services.timeframes.domain.model import (
    Event,
    EventChange,
    EventDraft,
    Schedule,
    SettlementOutcome,
    TimeFrame,
)

_tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next_cursor: str  # "" on the last page


@dataclass(frozen=True)
class ParticipantsResult:
    event: Event
    applied: bool


@dataclass(frozen=True)
class TotalsResult:
    """Per requested total, in request order: its id and what became of it."""

    events: list[tuple[str, SettlementOutcome]]
    schedules: list[tuple[str, SettlementOutcome]]


def _new_id() -> str:
    return str(uuid.uuid4())


class Calendar:
    def __init__(self, store: CalendarStore, cursors: CursorCodec, new_id: Callable[[], str] = _new_id):
        self._store = store
        self._cursors = cursors
        self._new_id = new_id

    # --- schedules -------------------------------------------------------------------------------

    async def create_schedule(self, tenant: str, command: commands.ScheduleInput) -> Schedule:
        new = commands.validate_new_schedule(command, self._new_id())
        async with self._store.write(tenant) as session:
            return await session.add_schedule(new)

    async def get_schedule(self, tenant: str, schedule_id: str) -> Schedule:
        schedule_id = commands.validate_id("schedule_id", schedule_id)
        async with self._store.read(tenant) as session:
            schedule = await session.schedule(schedule_id)
        if schedule is None:
            raise NotFound("schedule", schedule_id)
        return schedule

    # --- events ----------------------------------------------------------------------------------

    async def create_event(self, tenant: str, event: commands.EventInput) -> Event:
        (created,) = await self._create_events(tenant, [commands.validate_new_event(event)])
        return created

    async def bulk_create_events(self, tenant: str, events: list[commands.EventInput]) -> list[Event]:
        return await self._create_events(tenant, commands.validate_new_events(events))

    async def _create_events(self, tenant: str, drafts: list[EventDraft]) -> list[Event]:
        async with self._store.write(tenant) as session:
            wanted = list(dict.fromkeys(d.schedule_id for d in drafts))
            schedules = await session.schedules(wanted)
            for schedule_id in wanted:
                if schedule_id not in schedules:
                    raise NotFound("schedule", schedule_id)
            events = await session.add_events([d.for_schedule(schedules[d.schedule_id], self._new_id()) for d in drafts])
            await session.record(EventChange.CREATED, events)
            return events

    async def update_event(self, tenant: str, command: commands.UpdateEventInput) -> Event:
        patch = commands.validate_update_event(command)
        async with self._store.write(tenant) as session:
            current = await self._event(session, patch.event_id)
            saved = await self._save(session, current.updated(patch), patch.revision)
            await session.record(EventChange.UPDATED, [saved])
            return saved

    async def cancel_event(self, tenant: str, command: commands.CancelEventInput) -> Event:
        command = commands.validate_cancel_event(command)
        async with self._store.write(tenant) as session:
            current = await self._event(session, command.event_id)
            saved = await self._save(session, current.cancelled(command.revision), command.revision)
            await session.record(EventChange.CANCELLED, [saved])
            return saved

    async def update_participants(self, tenant: str, command: commands.UpdateParticipantsInput) -> ParticipantsResult:
        command = commands.validate_update_participants(command)
        # Its own span: the end of a booking's trace, where capacity actually changes (the RPC's
        # server span also covers authentication and mapping).
        attributes = {"tenant.id": tenant, "calendar.event.id": command.event_id, "calendar.event.participants_version": command.version}
        with _tracer.start_as_current_span("write participants_total", attributes=attributes) as span:
            async with self._store.write(tenant) as session:
                # The row lock orders concurrent settlements of one event: each compares its version
                # with the one the previous writer stored, never with a stale read.
                current = await self._event(session, command.event_id, for_update=True)
                settlement = current.settle_participants(command.participants_total, command.version)
                span.set_attributes({"calendar.event.applied": settlement.applied, "calendar.event.changed": settlement.changed})
                if not settlement.applied:
                    return ParticipantsResult(current, applied=False)
                saved = await self._save(session, settlement.event, current.revision)
                if settlement.changed:
                    await session.record(EventChange.PARTICIPANTS_UPDATED, [saved])
                return ParticipantsResult(saved, applied=True)

    async def update_participant_totals(self, tenant: str, command: commands.UpdateTotalsInput) -> TotalsResult:
        """The participations pipeline's settlement: participants booked on events and on whole
        schedules, in one transaction. Each total is applied only when its version is newer than
        the stored one, so late and repeated calls change nothing. A changed event total is
        announced per event, a changed schedule total once for the schedule."""
        command = commands.validate_update_totals(command)
        attributes = {"tenant.id": tenant, "calendar.events.count": len(command.events), "calendar.schedules.count": len(command.schedules)}
        with _tracer.start_as_current_span("write participant totals", attributes=attributes) as span:
            async with self._store.write(tenant) as session:
                # Rows are locked events first, then schedules, each in id order, so two calls
                # settling overlapping totals wait for each other instead of deadlocking.
                events = await session.events_to_settle([t.id for t in command.events])
                schedules = await session.schedules_to_settle([t.id for t in command.schedules])
                schedule_outcomes, settled_schedules = _settle_schedules(command.schedules, schedules)
                event_outcomes, settled_events, changed_events = _settle_events(command.events, events, settled_schedules)
                await session.save_schedule_participants(list(settled_schedules.values()))
                saved = await session.save_event_participants(settled_events)
                changed_schedules = [s for s in settled_schedules.values() if s.participants.total != schedules[s.id].participants.total]
                await session.record_schedule_participants(changed_schedules)
                await session.record(EventChange.PARTICIPANTS_UPDATED, [saved[event_id] for event_id in changed_events])
            span.set_attributes(
                {
                    "calendar.totals.applied": len(settled_events) + len(settled_schedules),
                    "calendar.totals.changed": len(changed_events) + len(changed_schedules),
                }
            )
        return TotalsResult(event_outcomes, schedule_outcomes)

    async def get_event(self, tenant: str, event_id: str) -> Event:
        event_id = commands.validate_id("event_id", event_id)
        async with self._store.read(tenant) as session:
            return await self._event(session, event_id)

    async def query_events(self, tenant: str, command: commands.EventQueryInput, *, limit: int, cursor: str) -> EventPage:
        query, page, fingerprint = validated_page(
            self._cursors, tenant, "calendar.events.v3.Events/QueryEvents", lambda: commands.validate_event_query(command), limit, cursor
        )

        after = parse_instant_key(page.after) if page.after is not None else None
        async with self._store.read(tenant) as session:
            events = await session.query_events(query, after=after, limit=page.limit + 1)
        return EventPage(*self._cursors.paginate(events, page, fingerprint, lambda e: instant_key(e.start, e.id)))

    # --- time frames -----------------------------------------------------------------------------

    async def list_time_frames(self, tenant: str, schedule_ids: list[str]) -> list[TimeFrame]:
        ids = commands.validate_time_frame_ids(schedule_ids)
        async with self._store.read(tenant) as session:
            frames = await session.time_frames(ids)
        for schedule_id in ids:
            if schedule_id not in frames:
                raise NotFound("schedule", schedule_id)
        return [frames[schedule_id] for schedule_id in ids]

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    async def _event(session: CalendarSession, event_id: str, *, for_update: bool = False) -> Event:
        event = await session.event(event_id, for_update=for_update)
        if event is None:
            raise NotFound("event", event_id)
        return event

    @staticmethod
    async def _save(session: CalendarSession, event: Event, expected_revision: int) -> Event:
        """Compare-and-set on the revision read. When another request changed the event in
        between (two updates racing with the same revision), report what it changed to."""
        saved = await session.save_event(event, expected_revision=expected_revision)
        if saved is not None:
            return saved
        latest = await Calendar._event(session, event.id)
        latest.ensure_changeable(expected_revision)  # raises: cancelled meanwhile, or a newer revision
        raise RevisionMismatch("event", event.id, expected_revision, latest.revision)


def _settle_schedules(
    totals: Sequence[commands.ParticipantTotalInput], stored: dict[str, Schedule]
) -> tuple[list[tuple[str, SettlementOutcome]], dict[str, Schedule]]:
    outcomes: list[tuple[str, SettlementOutcome]] = []
    settled: dict[str, Schedule] = {}
    for total in totals:
        schedule = stored.get(total.id)
        if schedule is None:
            outcomes.append((total.id, SettlementOutcome.NOT_FOUND))
            continue
        updated = schedule.settle_participants(total.participants_total, total.version)
        outcomes.append((total.id, SettlementOutcome.STALE if updated is None else SettlementOutcome.APPLIED))
        if updated is not None:
            settled[schedule.id] = updated
    return outcomes, settled


def _settle_events(
    totals: Sequence[commands.ParticipantTotalInput], stored: dict[str, Event], schedules: dict[str, Schedule]
) -> tuple[list[tuple[str, SettlementOutcome]], list[Event], list[str]]:
    """(outcomes, events to save, ids of the events whose total changed). An event of a schedule
    settled in the same call is read with its schedule's new participants (the schedule's own
    message announces those; the event's announces its own change)."""
    outcomes: list[tuple[str, SettlementOutcome]] = []
    settled: list[Event] = []
    changed: list[str] = []
    for total in totals:
        event = stored.get(total.id)
        if event is None:
            outcomes.append((total.id, SettlementOutcome.NOT_FOUND))
            continue
        if event.schedule_id in schedules:
            event = event.with_schedule_participants(schedules[event.schedule_id])
        settlement = event.settle_event_participants(total.participants_total, total.version)
        outcomes.append((total.id, SettlementOutcome.APPLIED if settlement.applied else SettlementOutcome.STALE))
        if settlement.applied:
            settled.append(settlement.event)
        if settlement.changed:
            changed.append(event.id)
    return outcomes, settled, changed
