"""The participations service's use cases.

- `Participations.apply_booking`: the bookings consumer's effect. One transaction locks the
  booking's row, applies the participation rule (domain/model.py) and records the
  `bookings.participation-events.v1` messages of the change in the outbox.
- `EventUpdater`: the seed's "self domain event + task queue". For each participation message it
  finds the affected events and settles each: recompute the total from the participations table
  under the event's lock, take the next version, commit, then write total and version to
  timeframes. Never a delta, so duplicates and reordering only repeat an identical write.
  It settles inside the handling of the message (nothing is queued or coalesced), so each
  settlement's span (`settle event participants`) is a child of that message's CONSUMER span and
  the booking's trace reaches timeframes' write. `participations.propagation_lag` (seconds) is
  observed for each event whose total timeframes applied: from the booking change's commit (the
  booking message's ce_time, stored with the participation and carried by its participation
  message) to the acknowledgement of the write.
- `Participations.get` / `query`: the read API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider

from services.common.errors import InvalidArgument, NotFound
from services.common.paging import CursorCodec, validated_page
from services.common.validation import is_uuid
from services.participations.domain import queries
from services.participations.domain.model import Announcement, BookingSnapshot, Decision, Participation, Target, apply_booking
from services.participations.domain.queries import ParticipationQuery
from services.participations.domain.totals import EventLookup, EventRef, affected_events, next_version, participants_total

log = structlog.get_logger("participations")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR_FIELD = "cursor_paging.cursor"
# A booking's first row raced with another delivery of the same booking (only during a
# rebalance): start over, the second round sees the row.
_INSERT_ATTEMPTS = 3


# Sessions of one course settled at once (each takes a pooled connection for its transaction).
_SETTLE_CONCURRENCY = 4
# Booking commit -> capacity updated: tens of milliseconds when the pipeline keeps up, minutes
# when a consumer is down. Seconds, as Prometheus expects; explicit buckets because the SDK's
# default ones (0 to 10 000) are meant for milliseconds.
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

_tracer = trace.get_tracer(__name__)


class ParticipationSession(Protocol):
    """What the use cases need from storage (adapters/postgres.py), bound to one tenant."""

    async def of_booking(self, booking_id: str, *, for_update: bool = False) -> Participation | None: ...
    async def insert(self, p: Participation) -> bool: ...
    async def update(self, p: Participation) -> None: ...
    async def record(self, announcements: Sequence[Announcement]) -> None: ...
    async def participation(self, participation_id: str) -> Participation | None: ...
    async def query(self, query: ParticipationQuery, *, after: tuple[datetime, str] | None, limit: int) -> list[Participation]: ...
    async def counted_on(self, event: EventRef) -> list[Participation]: ...
    async def has_active_on_schedule(self, schedule_id: str) -> bool: ...
    async def lock_event_total(self, event_id: str) -> int: ...
    async def save_event_total(self, event_id: str, version: int, participants_total: int) -> None: ...


class ParticipationStore(Protocol):
    def read(self, tenant_id: str) -> AbstractAsyncContextManager[ParticipationSession]: ...
    def write(self, tenant_id: str) -> AbstractAsyncContextManager[ParticipationSession]: ...


class CalendarEvents(Protocol):
    """The timeframes service (adapters/timeframes.py)."""

    def events(self, tenant_id: str, lookup: EventLookup) -> AsyncIterator[EventRef]: ...
    async def update_participants(self, tenant_id: str, event_id: str, participants_total: int, version: int) -> bool | None: ...


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


def _clock_micros() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class ParticipationPage:
    participations: list[Participation]
    next_cursor: str  # "" on the last page


class Participations:
    def __init__(self, store: ParticipationStore, cursors: CursorCodec, *, new_id: Callable[[], str] = _new_id, now: Callable[[], datetime] = _now):
        self._store = store
        self._cursors = cursors
        self._new_id = new_id
        self._now = now

    # --- the bookings consumer ---------------------------------------------------------------------

    async def apply_booking(self, tenant: str, booking: BookingSnapshot) -> Decision:
        """Idempotent by booking id, ordered by booking revision (domain/model.apply_booking)."""
        for _ in range(_INSERT_ATTEMPTS):
            async with self._store.write(tenant) as session:
                stored = await session.of_booking(booking.id, for_update=True)
                decision = apply_booking(stored, booking, new_id=self._new_id(), now=self._now())
                if decision.save is None:
                    return decision
                if stored is None:
                    if not await session.insert(decision.save):
                        continue  # another delivery stored the first row meanwhile: start over
                else:
                    await session.update(decision.save)
                await session.record(decision.announcements)
                return decision
        raise RuntimeError(f"booking {booking.id}: its participation row kept changing under this transaction")

    # --- the read API ------------------------------------------------------------------------------

    async def get(self, tenant: str, participation_id: str) -> Participation:
        participation_id = queries.validate_participation_id(participation_id)
        async with self._store.read(tenant) as session:
            participation = await session.participation(participation_id)
        if participation is None:
            raise NotFound("participation", participation_id)
        return participation

    async def query(self, tenant: str, event_ids: list[str], schedule_ids: list[str], booking_ids: list[str], *, limit: int, cursor: str) -> ParticipationPage:
        query, page, fingerprint = validated_page(
            self._cursors,
            tenant,
            "bookings.participations.v3.Participations/QueryParticipations",
            lambda: queries.validate_query(event_ids, schedule_ids, booking_ids),
            limit,
            cursor,
        )

        after = _decode_sort_key(page.after) if page.after is not None else None
        async with self._store.read(tenant) as session:
            found = await session.query(query, after=after, limit=page.limit + 1)
        if len(found) <= page.limit:
            return ParticipationPage(found, "")
        found = found[: page.limit]
        return ParticipationPage(found, self._cursors.encode(_sort_key(found[-1]), fingerprint))


@dataclass(frozen=True)
class Settlement:
    event_id: str
    participants_total: int
    version: int
    applied: bool | None  # None: timeframes has no such event


class EventUpdater:
    def __init__(
        self,
        store: ParticipationStore,
        calendar: CalendarEvents,
        *,
        clock_micros: Callable[[], int] = _clock_micros,
        now: Callable[[], datetime] = _now,
        meter_provider: MeterProvider | None = None,
    ):
        self._store = store
        self._calendar = calendar
        self._clock_micros = clock_micros
        self._now = now
        self._lag = (
            (meter_provider or metrics.get_meter_provider())
            .get_meter("services.participations")
            .create_histogram(
                "participations.propagation_lag",
                unit="s",
                description="Booking commit to participant total applied in timeframes, per event settled",
                explicit_bucket_boundaries_advisory=list(_LAG_BUCKETS),
            )
        )

    async def participation_changed(self, tenant: str, target: Target, *, booking_committed_at: datetime | None = None) -> list[Settlement]:
        """Settles every event a participation on `target` counts on. `booking_committed_at`: when
        the booking change behind it was committed, to measure the propagation lag from there."""
        # A course participation touches every session: settle them a few at a time (each event
        # has its own lock and version, so their order does not matter), not one after another.
        events = [event async for event in self._calendar.events(tenant, affected_events(target))]
        limit = asyncio.Semaphore(_SETTLE_CONCURRENCY)

        async def settle(event: EventRef) -> Settlement:
            async with limit:
                settlement = await self.settle(tenant, event)
            if settlement.applied and booking_committed_at is not None:
                lag = (self._now() - booking_committed_at).total_seconds()
                # Clamped: the two clocks (bookings' database, this host) may disagree slightly.
                self._lag.record(max(lag, 0.0), {"participations.target.kind": target.kind.value})
            return settlement

        results = await asyncio.gather(*(settle(e) for e in events), return_exceptions=True)
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed  # the message is retried; settling again is idempotent
        settlements = [r for r in results if isinstance(r, Settlement)]
        if not settlements:
            log.warning("no event to settle: timeframes has none for this participation's target", target=target.id, kind=target.kind.value)
        return settlements

    async def session_created(self, tenant: str, event: EventRef) -> Settlement | None:
        """A session added to a schedule: the course participations already on the schedule count
        on it too. Only when there are any (most new sessions are of classes, with nothing to
        count yet); a participation committed after this check announces itself and settles the
        session through `participation_changed`, which finds it."""
        async with self._store.read(tenant) as session:
            if not await session.has_active_on_schedule(event.schedule_id):
                return None
        return await self.settle(tenant, event)

    async def settle(self, tenant: str, event: EventRef) -> Settlement:
        """Recompute the event's total under its lock, commit the new version, then write both to
        timeframes (outside the transaction: no lock is held across the RPC). Of two settlements
        of one event the later one has the greater version and read a sum at least as new, and
        timeframes keeps the greatest version, so the order in which the RPCs land never matters."""
        with _tracer.start_as_current_span("settle event participants", attributes={"tenant.id": tenant, "calendar.event.id": event.id}) as span:
            async with self._store.write(tenant) as session:
                stored_version = await session.lock_event_total(event.id)
                total = participants_total(event, await session.counted_on(event))
                version = next_version(stored_version, self._clock_micros())
                await session.save_event_total(event.id, version, total)
            applied = await self._calendar.update_participants(tenant, event.id, total, version)
            span.set_attributes({"calendar.event.participants_total": total, "calendar.event.participants_version": version})
            span.set_attribute("calendar.event.applied", "missing" if applied is None else str(applied).lower())
        if applied is None:
            log.warning("event to settle not found in timeframes", event_id=event.id)
        log.debug("event settled", event_id=event.id, participants_total=total, version=version, applied=applied)
        return Settlement(event.id, total, version, applied)


def _sort_key(p: Participation) -> list[Any]:
    return [(p.created_date - _EPOCH) // _MICROSECOND, p.id]


def _decode_sort_key(key: list[Any]) -> tuple[datetime, str]:
    # The cursor is signed, so a bad key means a cursor of another version of this RPC.
    if len(key) != 2 or not isinstance(key[0], int) or isinstance(key[0], bool) or not isinstance(key[1], str) or not is_uuid(key[1]):
        raise InvalidArgument.single(_CURSOR_FIELD, "is not a cursor returned by this RPC")
    try:
        created = _EPOCH + key[0] * _MICROSECOND
    except OverflowError:
        raise InvalidArgument.single(_CURSOR_FIELD, "is not a cursor returned by this RPC") from None
    return created, key[1]
