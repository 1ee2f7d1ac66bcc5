"""Helpers of the pipeline invariant tests (this module holds no tests): a load generator that
drives bookings.v2.Bookings from concurrent clients and records every acknowledgement, and a
checker that compares what it recorded with what the platform settled on, the way queue-safety
tests do ("nothing lost, nothing duplicated, nothing unexpected").

- `build_catalog` gives a fresh tenant a few CLASS events and COURSE schedules with generous
  capacity and no restrictive policy (one small class, so that a few creates are refused for
  capacity, and one class with manual approval, so that PENDING bookings are confirmed and
  declined too).
- `LoadGenerator` runs a bounded number of operations (create, cancel, party size change,
  confirm/decline) from N asyncio clients, with a seeded RNG. Every logical create has its own
  idempotency key, also written into the contact name so the checker can group bookings by key.
  A request that fails with an ambiguous status (UNAVAILABLE, DEADLINE_EXCEEDED, ...) is retried
  as the same request (same key, same revision) with backoff until its outcome is known;
  ABORTED (a stale revision) re-reads the booking and retries when the change still applies.
  The `Ledger` keeps, per acknowledged booking, the newest state any response showed (revisions
  only grow, so the response with the highest revision is the state the booking must be in),
  every refusal with its reason, and every operation whose outcome stayed unknown.
- `Checker` reads the tenant's bookings (QueryBookings), participations (QueryParticipations)
  and events (QueryEvents) and reports lost, duplicated and unexpected items, participations that
  do not match the active bookings, and every event whose `participants_total` breaks
  docs/pipeline.md "Settled state". `Checker.drain` polls it until everything is zero or a timeout passes.
- `unpublished` checks docs/pipeline.md "No acknowledged booking is lost" on
  `bookings.booking-events.v1` (read without a consumer group, filtered by `ce_tenantid`).
- Fault helpers: kill/restart a service process, stop it for a consumer group reset.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.common import topics
from services.common.grpc_status import error_reason
from services.common.kafka import decode_headers
from services.devstack.stack import Platform
from tests import support
from tests.integration.availability_support import DAY, HOUR, Offering, World, now, policy

BOOKING_TOPIC = topics.BOOKING_EVENTS.name
CREATED = "bookings.booking.created.v1"
ACTIVE = frozenset({bookings_pb2.PENDING, bookings_pb2.CONFIRMED})
STATUS = bookings_pb2.BookingStatus.Name
# Statuses after which a request may or may not have been carried out: retried as the same
# request (same idempotency key, same revision), which makes the outcome known.
AMBIGUOUS = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        # Never expected (docs/errors.md); counted in `Ledger.codes` and reported, and
        # retried like the others so that one of them cannot hide a lost booking.
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)
KEY_PREFIX = "load "
# gRPC reconnects quickly to a restarted server (the default backoff grows to minutes).
FAST_RECONNECT = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)


# --- the catalog of a load ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a create books: `event` of a class, or the whole course (event None)."""

    offering: Offering
    event: events_pb2.Event | None
    weight: int = 10

    def booking(self, participants: int, key: str) -> bookings_pb2.Booking:
        booking = bookings_pb2.Booking(
            service_id=self.offering.id,
            number_of_participants=participants,
            contact=bookings_pb2.ContactDetails(name=KEY_PREFIX + key, email="load@example.com"),
        )
        if self.event is None:
            booking.booked_entity.schedule.schedule_id = self.offering.schedule_id
        else:
            booking.booked_entity.slot.event_id = self.event.id
        return booking


@dataclass
class Catalog:
    offerings: list[Offering]
    targets: list[Target]

    @property
    def schedule_ids(self) -> list[str]:
        return [o.schedule_id for o in self.offerings]

    @property
    def event_count(self) -> int:
        return sum(len(o.events) for o in self.offerings)


MAX_PARTY = 4


async def build_catalog(world: World, *, capacity: int = 80, small_capacity: int = 6) -> Catalog:
    """Three classes of two sessions, a small class (capacity refusals), a class with manual
    approval (PENDING bookings) and two courses of three sessions, all days ahead, with no
    booking limit and parties of up to MAX_PARTY."""
    first = now() + 3 * DAY
    generous = policy(max_per_booking=MAX_PARTY)
    made = await asyncio.gather(
        *(world.klass([first + i * HOUR, first + DAY + i * HOUR], capacity=capacity, booking_policy=generous, name=f"Class {i}") for i in range(3)),
        world.klass([first + 5 * HOUR], capacity=small_capacity, booking_policy=generous, name="Small class"),
        world.klass([first + 6 * HOUR], capacity=capacity, booking_policy=generous, name="Approved class", manual_approval=True),
        *(
            world.course([first + 2 * DAY + i * HOUR + w * 7 * DAY for w in range(3)], capacity=capacity, booking_policy=generous, name=f"Course {i}")
            for i in range(2)
        ),
    )
    classes, small, approved, courses = made[:3], made[3], made[4], made[5:]
    targets = [Target(o, e) for o in classes for e in o.events]
    targets += [Target(small, small.events[0], weight=6), Target(approved, approved.events[0], weight=12)]
    targets += [Target(o, None, weight=15) for o in courses]
    return Catalog(list(made), targets)


# --- what the clients were told ------------------------------------------------------------------------


@dataclass
class Known:
    """The newest state of an acknowledged booking any response showed."""

    booking: bookings_pb2.Booking
    key: str

    @property
    def active(self) -> bool:
        return self.booking.status in ACTIVE


@dataclass
class Op:
    kind: str
    index: int
    booking_id: str = ""
    key: str = ""
    ambiguous: bool = False  # an attempt failed with a status that leaves the outcome open
    outcome: str = ""  # acknowledged / refused / superseded / unknown / rejected


@dataclass
class Ledger:
    """Everything the load generator was told, for the checker."""

    bookings: dict[str, Known] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # idempotency key -> booking id
    refusals: Counter[str] = field(default_factory=Counter)  # "<op>:<reason>" -> count
    outcomes: Counter[str] = field(default_factory=Counter)  # "<op>:<outcome>" -> count
    codes: Counter[str] = field(default_factory=Counter)  # status code of every failed attempt
    aborted: int = 0  # ABORTED answers (stale revision), each followed by a re-read
    ambiguous_ops: int = 0  # operations with at least one ambiguous attempt
    resolved_ops: int = 0  # ... whose outcome a later attempt made known
    unresolved_keys: set[str] = field(default_factory=set)  # creates whose outcome stayed unknown
    uncertain: set[str] = field(default_factory=set)  # bookings with a change of unknown outcome
    rejected: list[str] = field(default_factory=list)  # requests refused as invalid: a generator bug
    acks: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, op kind) of every acknowledgement
    ops: int = 0
    started: float = 0.0
    finished: float = 0.0

    def observe(self, booking: bookings_pb2.Booking, key: str = "") -> None:
        known = self.bookings.get(booking.id)
        if known is None:
            self.bookings[booking.id] = Known(booking, key)
        elif booking.revision > known.booking.revision:
            known.booking = booking

    def acknowledged(self, op: Op, booking: bookings_pb2.Booking) -> None:
        if op.kind == "create":
            self.keys[op.key] = booking.id
        self.observe(booking, op.key)
        self.acks.append((time.monotonic(), op.kind))

    def finish(self, op: Op, outcome: str) -> None:
        op.outcome = outcome
        self.ops += 1
        self.outcomes[f"{op.kind}:{outcome}"] += 1
        if op.ambiguous:
            self.ambiguous_ops += 1
            if outcome == "unknown":
                if op.kind == "create":
                    self.unresolved_keys.add(op.key)
                else:
                    self.uncertain.add(op.booking_id)
            else:
                self.resolved_ops += 1

    def count(self, outcome: str) -> int:
        return sum(n for k, n in self.outcomes.items() if k.endswith(":" + outcome))

    def acked_between(self, start: float, end: float, kind: str = "create") -> int:
        return sum(1 for t, k in self.acks if start <= t <= end and k == kind)

    def candidates(self, accept: Callable[[Known], bool]) -> list[Known]:
        return [k for k in self.bookings.values() if accept(k)]

    def summary(self) -> str:
        duration = self.finished - self.started
        return (
            f"ops={self.ops} in {duration:.1f}s ({self.ops / max(duration, 1e-9):.0f}/s), "
            f"acknowledged={self.count('acknowledged')} (bookings={len(self.bookings)}), refused={self.count('refused')} {dict(self.refusals)}, "
            f"superseded={self.count('superseded')}, aborted(re-read)={self.aborted}, "
            f"unknown->resolved={self.ambiguous_ops}->{self.resolved_ops}, still unknown={self.count('unknown')}, "
            f"rejected={len(self.rejected)}, failed attempts by status={dict(self.codes)}"
        )


# --- the load generator ------------------------------------------------------------------------------

OP_WEIGHTS = {"create": 45, "cancel": 17, "resize": 28, "approve": 10}


class LoadGenerator:
    """`ops` operations from `clients` concurrent clients of one tenant (see the module docstring).
    `min_duration` spreads the operations over at least that many seconds, in waves of `clients`
    operations started together (so they still contend with each other), so that a fault
    injected "mid-load" finds the load still running."""

    def __init__(
        self,
        bookings: bookings_pb2_grpc.BookingsStub,
        tenant: str,
        catalog: Catalog,
        *,
        seed: int,
        ops: int = 500,
        clients: int = 20,
        min_duration: float = 0.0,
        time_budget: float = 75.0,
        rpc_timeout: float = 5.0,
        retry_for: float = 30.0,
        ledger: Ledger | None = None,
    ):
        self._stub = bookings
        self._md = support.auth(tenant, "bookings:read", "bookings:write", ttl_seconds=1800)
        self._catalog = catalog
        self._weights = [t.weight for t in catalog.targets]
        self.seed = seed
        self._ops = ops
        self._clients = clients
        self._min_duration = min_duration
        self._time_budget = time_budget
        self._rpc_timeout = rpc_timeout
        self._retry_for = retry_for
        self.ledger = ledger or Ledger()
        self._next = 0
        self._done = 0
        self._progress = asyncio.Condition()
        self._run_id = f"{seed}-{random.Random(seed).getrandbits(32):08x}-{id(self):x}"

    async def run(self) -> Ledger:
        self.ledger.started = time.monotonic()
        try:
            await asyncio.gather(*(self._client(c) for c in range(self._clients)))
        finally:
            self.ledger.finished = time.monotonic()
        return self.ledger

    async def reached(self, done: int) -> None:
        """Wait until `done` operations have finished (or all have)."""
        async with self._progress:
            await self._progress.wait_for(lambda: self._done >= min(done, self._ops) or self.ledger.finished > 0)

    @property
    def done(self) -> int:
        return self._done

    # --- one client ---------------------------------------------------------------------------------

    async def _client(self, number: int) -> None:
        rng = random.Random(f"{self.seed}:{number}")
        kinds, weights = list(OP_WEIGHTS), list(OP_WEIGHTS.values())
        while (index := self._take()) is not None:
            if self._min_duration:
                waves = -(-self._ops // self._clients)
                due = self.ledger.started + self._min_duration * (index // self._clients) / waves
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            kind = rng.choices(kinds, weights)[0]
            op = await self._operate(rng, kind, index)
            self.ledger.finish(op, op.outcome)
            async with self._progress:
                self._done += 1
                self._progress.notify_all()

    def _take(self) -> int | None:
        if self._next >= self._ops or time.monotonic() - self.ledger.started > self._time_budget:
            return None
        self._next += 1
        return self._next - 1

    async def _operate(self, rng: random.Random, kind: str, index: int) -> Op:
        if kind == "approve":
            pending = self.ledger.candidates(lambda k: k.booking.status == bookings_pb2.PENDING)
            if pending:
                return await self._change(Op(rng.choice(["confirm", "decline"]), index), self._pick(rng, pending))
            kind = "resize"
        if kind in ("cancel", "resize"):
            active = self.ledger.candidates(lambda k: k.active)
            if active:
                return await self._change(Op(kind, index), self._pick(rng, active), size=rng.randint(1, MAX_PARTY))
        return await self._create(rng, index)

    def _pick(self, rng: random.Random, candidates: list[Known]) -> Known:
        # A third of the changes go to the ten newest bookings, so that clients collide on
        # revisions (ABORTED, re-read, retry) as real clients do.
        if len(candidates) > 10 and rng.random() < 0.33:
            return rng.choice(candidates[-10:])
        return rng.choice(candidates)

    async def _create(self, rng: random.Random, index: int) -> Op:
        target = rng.choices(self._catalog.targets, self._weights)[0]
        op = Op("create", index, key=f"{self._run_id}-{index}")
        request = bookings_pb2.CreateBookingRequest(booking=target.booking(rng.randint(1, 3), op.key), idempotency_key=op.key)
        response, error = await self._send(op, lambda: self._stub.CreateBooking(request, metadata=self._md, timeout=self._rpc_timeout))
        if response is not None:
            op.booking_id = response.booking.id
            self.ledger.acknowledged(op, response.booking)
            op.outcome = "acknowledged"
        else:
            op.outcome = self._failed(op, error)
        return op

    async def _change(self, op: Op, known: Known, *, size: int = 1) -> Op:
        op.booking_id = known.booking.id
        booking = known.booking
        for _ in range(4):
            request, call = self._request(op.kind, booking, size)
            response, error = await self._send(op, lambda call=call, request=request: call(request, metadata=self._md, timeout=self._rpc_timeout))  # type: ignore[misc]
            if response is not None:
                self.ledger.acknowledged(op, response.booking)
                op.outcome = "acknowledged"
                return op
            assert error is not None
            if error.code() != grpc.StatusCode.ABORTED:
                op.outcome = self._failed(op, error)
                return op
            # A stale revision: someone else changed the booking (or an earlier attempt of this
            # very request did, when it failed ambiguously). Re-read; retry if it still applies.
            self.ledger.aborted += 1
            current = await self._read(op, booking.id)
            if current is None:
                op.outcome = "unknown"
                return op
            self.ledger.observe(current)
            if op.ambiguous or not _applies(op.kind, current, size):
                op.outcome = "superseded"
                return op
            booking = current
        op.outcome = "superseded"
        return op

    def _request(self, kind: str, booking: bookings_pb2.Booking, size: int) -> tuple[Any, Callable[..., Any]]:
        if kind == "resize":
            if size == booking.number_of_participants:
                size = size % MAX_PARTY + 1
            return bookings_pb2.UpdateNumberOfParticipantsRequest(booking_id=booking.id, revision=booking.revision, number_of_participants=size), (
                self._stub.UpdateNumberOfParticipants
            )
        rpc = {"cancel": "CancelBooking", "confirm": "ConfirmBooking", "decline": "DeclineBooking"}[kind]
        return getattr(bookings_pb2, f"{rpc}Request")(booking_id=booking.id, revision=booking.revision), getattr(self._stub, rpc)

    async def _read(self, op: Op, booking_id: str) -> bookings_pb2.Booking | None:
        request = bookings_pb2.GetBookingRequest(booking_id=booking_id)
        probe = Op("read", op.index)
        response, _ = await self._send(probe, lambda: self._stub.GetBooking(request, metadata=self._md, timeout=self._rpc_timeout))
        return response.booking if response is not None else None

    def _failed(self, op: Op, error: grpc.aio.AioRpcError | None) -> str:
        assert error is not None
        code = error.code()
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            self.ledger.refusals[f"{op.kind}:{error_reason(error) or 'no reason'}"] += 1
            return "refused"
        if code in AMBIGUOUS:
            return "unknown"
        self.ledger.rejected.append(f"{op.kind} #{op.index}: {code.name} {error.details()}")
        return "rejected"

    async def _send(self, op: Op, call: Callable[[], Awaitable[Any]]) -> tuple[Any, grpc.aio.AioRpcError | None]:
        """One request, repeated unchanged while its attempts fail ambiguously (with backoff, for
        up to `retry_for` seconds): the response, or the last error."""
        backoff = 0.1
        deadline = time.monotonic() + self._retry_for
        while True:
            try:
                return await call(), None
            except grpc.aio.AioRpcError as error:
                self.ledger.codes[error.code().name] += 1
                if error.code() not in AMBIGUOUS:
                    return None, error
                op.ambiguous = True
                if time.monotonic() + backoff > deadline:
                    return None, error
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 2.0)


def _applies(kind: str, booking: bookings_pb2.Booking, size: int) -> bool:
    if kind in ("confirm", "decline"):
        return booking.status == bookings_pb2.PENDING
    return booking.status in ACTIVE


# --- the checker -----------------------------------------------------------------------------------------


@dataclass
class Report:
    """What the platform holds compared with what the clients were told (module docstring)."""

    bookings: int = 0
    participations: int = 0
    events: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    resolved_by_reading: int = 0  # creates of unknown outcome whose booking exists
    participations_missing: list[str] = field(default_factory=list)
    participations_extra: list[str] = field(default_factory=list)
    participations_wrong: list[str] = field(default_factory=list)
    events_wrong: list[str] = field(default_factory=list)
    drain_seconds: float = 0.0
    unavailable: str = ""  # a read failed: nothing is known yet

    @property
    def problems(self) -> dict[str, list[str]]:
        return {
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "participations_missing": self.participations_missing,
            "participations_extra": self.participations_extra,
            "participations_wrong": self.participations_wrong,
            "events_wrong": self.events_wrong,
        }

    @property
    def clean(self) -> bool:
        return not self.unavailable and not any(self.problems.values())

    def summary(self) -> str:
        counts = " ".join(f"{name}={len(items)}" for name, items in self.problems.items())
        return (
            f"bookings={self.bookings} participations={self.participations} events={self.events} {counts} "
            f"resolved_by_reading={self.resolved_by_reading} drain={self.drain_seconds:.1f}s" + (f" unavailable={self.unavailable}" if self.unavailable else "")
        )

    def details(self, limit: int = 8) -> str:
        return "\n".join(f"  {name}: {items[:limit]}" for name, items in self.problems.items() if items)


@dataclass
class Settled:
    """One reading of the tenant's state."""

    bookings: list[bookings_pb2.Booking]
    participations: list[participations_pb2.Participation]
    events: list[events_pb2.Event]


class Checker:
    def __init__(self, platform: Platform, tenant: str, schedule_ids: Sequence[str], *, rpc_timeout: float = 10.0):
        self._platform = platform
        self._tenant = tenant
        self._schedule_ids = list(schedule_ids)
        self._timeout = rpc_timeout
        self._md = support.auth(tenant, "bookings:read", "calendar:read", ttl_seconds=1800)

    async def read(self) -> Settled:
        # Own channels with a fast reconnect: a test may have just restarted a service.
        channels = {
            name: grpc.aio.insecure_channel(self._platform.address(name), options=FAST_RECONNECT) for name in ("bookings", "participations", "timeframes")
        }
        try:
            return Settled(
                await self._all(bookings_pb2_grpc.BookingsStub(channels["bookings"]).QueryBookings, bookings_pb2.QueryBookingsRequest(), "bookings"),
                await self._all(
                    participations_pb2_grpc.ParticipationsStub(channels["participations"]).QueryParticipations,
                    participations_pb2.QueryParticipationsRequest(),
                    "participations",
                ),
                await self._all(
                    events_pb2_grpc.EventsStub(channels["timeframes"]).QueryEvents,
                    events_pb2.QueryEventsRequest(schedule_ids=self._schedule_ids, include_cancelled=True),
                    "events",
                ),
            )
        finally:
            for channel in channels.values():
                await channel.close()

    async def check(self, ledger: Ledger) -> Report:
        try:
            state = await self.read()
        except grpc.aio.AioRpcError as exc:
            return Report(unavailable=f"{exc.code().name}: {exc.details()}")
        return compare(ledger, state)

    async def drain(self, ledger: Ledger, *, within: float = 90.0) -> Report:
        """Check until everything matches or `within` seconds pass; the last report, with the
        time it took."""
        started = time.monotonic()
        while True:
            report = await self.check(ledger)
            report.drain_seconds = time.monotonic() - started
            if report.clean or report.drain_seconds > within:
                return report
            await asyncio.sleep(0.5)

    async def _all(self, query: Any, request: Any, field: str) -> list[Any]:
        """Every item of a cursor-paged Query RPC (`field` of each page), to the last page."""
        found: list[Any] = []
        request.cursor_paging.limit = 500
        while True:
            page = await query(request, metadata=self._md, timeout=self._timeout, wait_for_ready=True)
            found += getattr(page, field)
            if not page.paging_metadata.has_next:
                return found
            request.cursor_paging.cursor = page.paging_metadata.cursors.next


def _entity(booking: bookings_pb2.Booking) -> tuple[str, str]:
    kind = booking.booked_entity.WhichOneof("item")
    return ("event", booking.booked_entity.slot.event_id) if kind == "slot" else ("schedule", booking.booked_entity.schedule.schedule_id)


def _state(booking: bookings_pb2.Booking) -> str:
    return f"{STATUS(booking.status)}x{booking.number_of_participants}@r{booking.revision}"


def expected_totals(bookings: Iterable[bookings_pb2.Booking], events: Iterable[events_pb2.Event]) -> dict[str, int]:
    """docs/pipeline.md "Settled state": per event, Σ number_of_participants of the non-canceled,
    non-declined bookings on the event plus those on its schedule."""
    on_event: dict[str, int] = defaultdict(int)
    on_schedule: dict[str, int] = defaultdict(int)
    for b in bookings:
        if b.status in ACTIVE:
            kind, entity = _entity(b)
            (on_event if kind == "event" else on_schedule)[entity] += b.number_of_participants
    return {e.id: on_event[e.id] + on_schedule[e.schedule_id] for e in events}


def compare(ledger: Ledger, state: Settled) -> Report:
    report = Report(bookings=len(state.bookings), participations=len(state.participations), events=len(state.events))
    stored = {b.id: b for b in state.bookings}

    # Duplicates: two bookings for one idempotency key (the key is in the contact name).
    by_key: dict[str, list[str]] = defaultdict(list)
    for b in state.bookings:
        if b.contact.name.startswith(KEY_PREFIX):
            by_key[b.contact.name.removeprefix(KEY_PREFIX)].append(b.id)
    report.duplicated += [f"key {key}: bookings {ids}" for key, ids in by_key.items() if len(ids) > 1]

    # Lost: acknowledged, but missing or in another state than the newest acknowledgement.
    for booking_id, known in ledger.bookings.items():
        got = stored.get(booking_id)
        if got is None:
            report.lost.append(f"{booking_id}: acknowledged {_state(known.booking)}, missing")
        elif got.revision > known.booking.revision and booking_id in ledger.uncertain:
            continue  # a change whose outcome stayed unknown was carried out
        elif (got.revision, got.status, got.number_of_participants, _entity(got)) != (
            known.booking.revision,
            known.booking.status,
            known.booking.number_of_participants,
            _entity(known.booking),
        ):
            report.lost.append(f"{booking_id}: acknowledged {_state(known.booking)}, stored {_state(got)}")

    # Unexpected: bookings nobody acknowledged, except creates whose outcome was unknown.
    for b in state.bookings:
        if b.id in ledger.bookings:
            continue
        key = b.contact.name.removeprefix(KEY_PREFIX)
        if key in ledger.unresolved_keys:
            report.resolved_by_reading += 1
        else:
            report.unexpected.append(f"{b.id} ({b.contact.name}, {_state(b)})")

    # Participations: one per active booking, of its size and on its entity; none otherwise.
    by_booking: dict[str, list[participations_pb2.Participation]] = defaultdict(list)
    for p in state.participations:
        by_booking[p.booking_id].append(p)
    report.duplicated += [f"booking {bid}: {len(ps)} participations" for bid, ps in by_booking.items() if len(ps) > 1]
    for b in state.bookings:
        ps = by_booking.get(b.id, [])
        if b.status not in ACTIVE:
            if ps:
                report.participations_extra.append(f"booking {b.id} is {STATUS(b.status)} but has participation {ps[0].id}")
            continue
        if not ps:
            report.participations_missing.append(f"booking {b.id} ({_state(b)})")
            continue
        p = ps[0]
        target = ("event", p.event_id) if p.WhichOneof("target") == "event_id" else ("schedule", p.schedule_id)
        if (p.party_size, target) != (b.number_of_participants, _entity(b)):
            report.participations_wrong.append(f"booking {b.id} ({_state(b)}): participation party {p.party_size} on {target} rev {p.booking_revision}")
    report.participations_extra += [f"participation of unknown booking {bid}" for bid in by_booking if bid not in stored]

    # docs/pipeline.md "Settled state".
    expected = expected_totals(state.bookings, state.events)
    for e in state.events:
        if e.participants_total != expected[e.id] or e.remaining_capacity != e.total_capacity - e.participants_total:
            report.events_wrong.append(
                f"event {e.id}: participants_total {e.participants_total}, bookings say {expected[e.id]}"
                f" (remaining {e.remaining_capacity} of {e.total_capacity})"
            )
    return report


# --- docs/pipeline.md "No acknowledged booking is lost": every acknowledged booking's event reached the topic ---


@dataclass
class Published:
    messages: int = 0
    missing_created: list[str] = field(default_factory=list)  # acknowledged bookings without a created event
    missing_latest: list[str] = field(default_factory=list)  # bookings whose current revision was never published
    duplicates: int = 0  # messages with a ce_id seen before (at-least-once delivery)

    @property
    def clean(self) -> bool:
        return not self.missing_created and not self.missing_latest

    def summary(self) -> str:
        return (
            f"messages={self.messages} missing_created={len(self.missing_created)} missing_latest={len(self.missing_latest)} duplicate_ce_ids={self.duplicates}"
        )


async def unpublished(bootstrap: str, tenant: str, bookings: Sequence[bookings_pb2.Booking], *, within: float = 30.0) -> Published:
    """Reads `bookings.booking-events.v1` from the beginning without a consumer group (filtered by
    `ce_tenantid`) until every booking's created event and its current revision were seen, or
    `within` seconds pass."""
    wanted_created = {b.id for b in bookings}
    wanted_latest = {(b.id, b.revision) for b in bookings}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    result = Published()
    created: set[str] = set()
    revisions: set[tuple[str, int]] = set()
    ce_ids: set[str] = set()
    encoded = tenant.encode()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(BOOKING_TOPIC) or set()
        assert partitions, f"topic {BOOKING_TOPIC} does not exist"
        consumer.assign([TopicPartition(BOOKING_TOPIC, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + within
        while not (wanted_created <= created and wanted_latest <= revisions) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300, max_records=5000)).values():
                for record in records:
                    if dict(record.headers).get("ce_tenantid") != encoded:
                        continue
                    headers = decode_headers(record.headers)
                    result.messages += 1
                    if headers["ce_id"] in ce_ids:
                        result.duplicates += 1
                    ce_ids.add(headers["ce_id"])
                    message_type = topics.BOOKING_EVENTS.message_type(headers["ce_type"])
                    if message_type is None:
                        continue
                    booking = message_type.parse(record.value).booking  # type: ignore[attr-defined]
                    revisions.add((booking.id, booking.revision))
                    if headers["ce_type"] == CREATED:
                        created.add(booking.id)
    finally:
        await consumer.stop()
    result.missing_created = sorted(wanted_created - created)
    result.missing_latest = sorted(f"{bid}@r{rev}" for bid, rev in wanted_latest - revisions)
    return result


# --- faults ------------------------------------------------------------------------------------------------


async def wait_healthy(platform: Platform, service: str, timeout: float = 60.0) -> None:
    await asyncio.to_thread(platform.supervisor.wait_healthy, service, platform.service_ports[service], timeout)


async def restart(platform: Platform, service: str) -> None:
    """Start the service again (it was killed or stopped) and wait until it serves."""
    await asyncio.to_thread(platform.supervisor.restart, service)
    await wait_healthy(platform, service)


async def ensure_running(platform: Platform, service: str) -> None:
    """The clean-up of a fault: the service runs and is healthy, whatever happened before."""
    platform.supervisor.kill(service, signal.SIGCONT)  # harmless when it is not stopped
    if not platform.supervisor.is_running(service):
        await restart(platform, service)
    else:
        await wait_healthy(platform, service)


async def reset_group(bootstrap: str, group_id: str, topic: str, *, within: float = 30.0) -> dict[TopicPartition, int]:
    """Commit offset 0 for every partition of `topic` as consumer group `group_id` (an empty
    group: its consumers are stopped), so the group's next consumer reads the topic from the
    beginning again. Returns the end offsets at the reset: the group has redelivered every
    message once it committed up to them."""
    deadline = time.monotonic() + within
    while True:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            assert partitions, f"topic {topic} does not exist"
            consumer.assign(partitions)
            await consumer.seek_to_beginning()
            beginnings = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            try:
                await consumer.commit({tp: OffsetAndMetadata(beginnings[tp], "") for tp in partitions})
            except (CommitFailedError, KafkaError):
                # The stopped consumer's membership has not expired yet (the group is not empty).
                if time.monotonic() > deadline:
                    raise
            else:
                committed = {tp: await consumer.committed(tp) for tp in partitions}
                assert committed == beginnings, f"{group_id}: committed {committed}, wanted {beginnings}"
                return ends
        finally:
            await consumer.stop()
        await asyncio.sleep(1.0)


async def committed_up_to(bootstrap: str, group_id: str, ends: dict[TopicPartition, int], *, within: float) -> float:
    """Wait until `group_id` committed at least `ends` on every partition; how long it took."""
    started = time.monotonic()
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await reader.start()
    try:
        while True:
            committed = {tp: (await reader.committed(tp)) or 0 for tp in ends}
            if all(committed[tp] >= end for tp, end in ends.items()):
                return time.monotonic() - started
            if time.monotonic() - started > within:
                raise AssertionError(f"{group_id} did not commit up to {ends} within {within}s: {committed}")
            await asyncio.sleep(0.5)
    finally:
        await reader.stop()
