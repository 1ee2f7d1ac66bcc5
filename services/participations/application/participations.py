"""The participations service's use cases (ports in application/ports.py).

- `Participations.apply_booking`: the bookings consumer's effect. One transaction locks the
  booking's row, applies the participation rule (domain/model.py) and records the
  `bookings.participation-events.v1` messages of the change in the outbox; the database moves the
  target's participant total in the same transaction (migrations/0004_participant_totals.sql).
- `EventUpdater.settle`: docs/pipeline.md "The event updater". For a batch of participation
  messages it reads the current totals of the targets they name, each once, and sends them to
  timeframes in one call (domain/totals.py says why this is idempotent). A course settles as one
  number, its schedule's, however many sessions it has. `participations.propagation_lag`
  (seconds) is observed for each message whose target timeframes applied: from the booking
  change's commit (the booking message's ce_time, stored with the participation and carried by
  its participation message) to the acknowledgement of the write.
- `Participations.get` / `query`: the read API.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider

from services.common.errors import NotFound
from services.common.paging import CursorCodec, instant_key, parse_instant_key, validated_page
from services.participations.application.ports import CalendarTotals, ParticipationStore
from services.participations.domain import queries
from services.participations.domain.model import BookingSnapshot, Decision, Participation, Target, apply_booking
from services.participations.domain.totals import ParticipationChanged, SettledVersions, SettleOutcome, targets_to_settle

log = structlog.get_logger("participations")

# A booking's first row raced with another delivery of the same booking (only during a
# rebalance): start over, the second round sees the row.
_INSERT_ATTEMPTS = 3

# Booking commit -> capacity updated: tens of milliseconds when the pipeline keeps up, minutes
# when a consumer is down. Seconds, as Prometheus expects; explicit buckets because the SDK's
# default ones (0 to 10 000) are meant for milliseconds.
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

_tracer = trace.get_tracer(__name__)


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


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

        after = parse_instant_key(page.after) if page.after is not None else None
        async with self._store.read(tenant) as session:
            found = await session.query(query, after=after, limit=page.limit + 1)
        return ParticipationPage(*self._cursors.paginate(found, page, fingerprint, lambda p: instant_key(p.created_date, p.id)))


class EventUpdater:
    """Settles participant totals in timeframes, on two paths that end in the same `settle`:

    - the durable one: `bookings.participation-events.v1`, consumed in batches (docs/pipeline.md
      "The event updater"). Whatever happens to a process, every change is settled from
      there, after any crash or outage.
    - the fast one: `settle_soon`, called by the bookings consumer right after a participation
      change committed in this process. A task of its own settles what accumulated (many changes
      of one target coalesce while a call is under way), so a booking reaches timeframes without
      waiting for its participation message to go round Kafka. It only hurries things: a failure
      is logged and left to the durable path.

    `SettledVersions` remembers what timeframes acknowledged, so the durable path does not send a
    total the fast path already settled. Use it as an async context manager (the fast path's task)."""

    def __init__(self, store: ParticipationStore, calendar: CalendarTotals, *, now: Callable[[], datetime] = _now, meter_provider: MeterProvider | None = None):
        self._store = store
        self._calendar = calendar
        self._now = now
        self._settled = SettledVersions()
        self._soon: dict[str, list[tuple[ParticipationChanged, Context]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lag = (
            (meter_provider or metrics.get_meter_provider())
            .get_meter("services.participations")
            .create_histogram(
                "participations.propagation_lag",
                unit="s",
                description="Booking commit to participant total applied in timeframes, per participation change settled",
                explicit_bucket_boundaries_advisory=list(_LAG_BUCKETS),
            )
        )

    async def __aenter__(self) -> EventUpdater:
        self._task = asyncio.create_task(self._settle_soon_loop(), name="participations-fast-settlement")
        return self

    async def __aexit__(self, *exc: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def settle(self, tenant: str, changes: Sequence[ParticipationChanged]) -> dict[Target, SettleOutcome]:
        """Sends the current totals of every target the changes name (each once, in one call,
        those timeframes is not known to hold already); returns what became of each."""
        targets = targets_to_settle(changes)
        with _tracer.start_as_current_span("settle participant totals", attributes={"tenant.id": tenant, "participations.targets.count": len(targets)}) as span:
            async with self._store.read(tenant) as session:
                totals = await session.participant_totals(targets)
            for target in targets:
                if target not in totals:
                    # The total is written with the participation, so this is a message about a
                    # participation that never counted (or a forged one): nothing to settle.
                    log.warning("no participant total for a participation message's target", target=target.id, kind=target.kind.value)
            found = [totals[t] for t in targets if t in totals]
            unsettled = self._settled.unsettled(tenant, found)
            span.set_attribute("participations.targets.sent", len(unsettled))
            outcomes = {t.target: SettleOutcome.SETTLED_BEFORE for t in found}
            outcomes.update(await self._calendar.update_totals(tenant, unsettled) if unsettled else {})
        for total in unsettled:
            outcome = outcomes.get(total.target)
            if outcome in (SettleOutcome.APPLIED, SettleOutcome.STALE):
                self._settled.held(tenant, total)
            elif outcome is SettleOutcome.NOT_FOUND:
                log.warning("target to settle not found in timeframes", target=total.target.id, kind=total.target.kind.value)
        self._measure(changes, outcomes)
        log.debug("participant totals settled", settled={t.id: (totals[t].participants_total, o.value) for t, o in outcomes.items()})
        return outcomes

    def settle_soon(self, tenant: str, changes: Sequence[ParticipationChanged]) -> None:
        """The fast path (class docstring): settle these changes' targets as soon as the task gets
        to them, in the trace of the caller."""
        if self._task is None or not changes:
            return
        caller = otel_context.get_current()
        self._soon.setdefault(tenant, []).extend((change, caller) for change in changes)
        self._wake.set()

    async def _settle_soon_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            soon, self._soon = self._soon, {}
            await asyncio.gather(*(self._settle_soon(tenant, waiting) for tenant, waiting in soon.items()))

    async def _settle_soon(self, tenant: str, waiting: list[tuple[ParticipationChanged, Context]]) -> None:
        token = otel_context.attach(waiting[0][1])  # the first change's trace continues here
        try:
            await self.settle(tenant, [change for change, _ in waiting])
        except Exception as exc:  # the durable path settles it: this one only hurries
            log.warning("fast settlement failed; the participation messages will settle it", tenant_id=tenant, error=repr(exc))
        finally:
            otel_context.detach(token)

    def _measure(self, changes: Sequence[ParticipationChanged], outcomes: dict[Target, SettleOutcome]) -> None:
        now = self._now()
        for change in changes:
            if change.booking_committed_at is not None and outcomes.get(change.target) is SettleOutcome.APPLIED:
                # Clamped: the two clocks (bookings' database, this host) may disagree slightly.
                lag = max((now - change.booking_committed_at).total_seconds(), 0.0)
                self._lag.record(lag, {"participations.target.kind": change.target.kind.value})
