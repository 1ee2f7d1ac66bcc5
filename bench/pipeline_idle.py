"""Single bookings on a quiet platform: one CreateBooking, then availability asked back to back
(one call in flight) until it shows the booking on every session it books. The idle phase does
it for a class session and a 30-session course in turn; the history phase for a course of many
sessions that already holds thousands of participations, and for one of as many sessions that
holds none. There timeframes is asked first (GetEvent of one session, back to back) until the
booking is settled there, then availability: the pipeline's part and the read's part apart."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from bench.loadgen import percentile
from bench.pipeline_figures import Spread, spread
from bench.pipeline_watch import Sampler
from bench.pipeline_world import Offering, SlotsCall, Tenant, booked_counts, created_at, shows
from bench.stack import say
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc

QUIET_GAP_S = 0.2  # after the pipeline is quiet, this much more before the next booking


@dataclass
class Sighting:
    """One booking followed until availability showed it (wall clock, epoch seconds)."""

    kind: str  # class | course | history
    sent: float
    answered: float = math.nan
    committed: float = math.nan  # the booking's created_date
    visible: float = math.nan  # the answer of the first poll that showed it; NaN: not within the timeout
    settled: float = math.nan  # the first GetEvent that counted it in timeframes (history phase only)
    polls: int = 0
    poll_ms: list[float] = field(default_factory=list)
    started_quiet: bool = True  # every consumer group was at lag 0 and every outbox empty before it
    error: str = ""

    @property
    def commit_to_visible_ms(self) -> float:
        return (self.visible - self.committed) * 1000

    @property
    def commit_to_settled_ms(self) -> float:
        return (self.settled - self.committed) * 1000

    @property
    def answer_to_visible_ms(self) -> float:
        return (self.visible - self.answered) * 1000

    @property
    def create_ms(self) -> float:
        return (self.answered - self.sent) * 1000


class SingleBookings:
    """Books one offering one booking at a time and follows each until it is visible."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        tenant: Tenant,
        offering: Offering,
        slots: SlotsCall,
        label: str,
        timeout: float,
        timeframes: grpc.aio.Channel | None = None,
    ):
        """With `timeframes`, each booking is first followed there until settled (see the module)."""
        self._stub = bookings_pb2_grpc.BookingsStub(channel)
        self._events = events_pb2_grpc.EventsStub(timeframes) if timeframes is not None else None
        self._tenant = tenant
        self._offering = offering
        self._slots = slots
        self._label = label
        self._timeout = timeout
        self._event_ids = offering.event_ids if offering.kind == "course" else offering.event_ids[:1]
        self.booked = 0  # bookings of the offering so far (made here or before, e.g. its history)

    async def one(self, started_quiet: bool) -> Sighting:
        sighting = Sighting(self._label, time.time(), started_quiet=started_quiet)
        booking = self._offering.booking(self.booked, event_id=self._event_ids[0] if self._offering.kind == "class" else "")
        try:
            response = await self._stub.CreateBooking(bookings_pb2.CreateBookingRequest(booking=booking), metadata=self._tenant.metadata, timeout=10)
        except grpc.aio.AioRpcError as exc:
            sighting.error = exc.code().name
            return sighting
        sighting.answered = time.time()
        sighting.committed = created_at(response.booking)
        self.booked += 1
        if self._events is not None:
            await self._until_settled(sighting)
        await self._follow(sighting)
        return sighting

    async def _until_settled(self, sighting: Sighting) -> None:
        """Back to back: GetEvent of the first session until its participants count this booking
        (every booking of these courses is of 1 participant, so the count is `booked`)."""
        assert self._events is not None
        request = events_pb2.GetEventRequest(event_id=self._event_ids[0])
        deadline = sighting.answered + self._timeout
        while time.time() < deadline:
            try:
                event = (await self._events.GetEvent(request, metadata=self._tenant.metadata, timeout=5)).event
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.01)
                continue
            if event.participants_total >= self.booked:
                sighting.settled = time.time()
                return

    async def _follow(self, sighting: Sighting) -> None:
        """Back to back: each poll leaves when the one before answered."""
        deadline = sighting.answered + self._timeout
        while time.time() < deadline:
            began = time.time()
            try:
                response = await self._slots()
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.01)
                continue
            at = time.time()
            sighting.polls += 1
            sighting.poll_ms.append((at - began) * 1000)
            if shows(booked_counts(response), self._event_ids, self.booked):
                sighting.visible = at
                return


async def follow_singles(
    singles: list[SingleBookings], samples: int, probe: Sampler, quiet_max_wait: float, label: str, gap: float = QUIET_GAP_S
) -> list[Sighting]:
    """`samples` rounds, each booking every offering once in turn; before each booking, wait until
    the pipeline is quiet (bounded) and a little more."""
    out: list[Sighting] = []
    for i in range(samples):
        for single in singles:
            quiet = await probe.until_quiet(quiet_max_wait)
            await asyncio.sleep(gap)
            out.append(await single.one(quiet.reached))
        last = out[-len(singles) :]
        say(f"{label} {i + 1}/{samples}: " + ", ".join(f"{s.kind} {_lag(s)}" for s in last))
    return out


def _lag(s: Sighting) -> str:
    if s.error:
        return s.error
    return "not seen" if math.isnan(s.visible) else f"{s.commit_to_visible_ms:.0f} ms"


@dataclass(frozen=True)
class SightingStats:
    kind: str
    bookings: int
    errors: int
    not_quiet_before: int
    commit_to_visible: Spread
    commit_to_settled: Spread  # in timeframes (history phase); no samples elsewhere
    answer_to_visible: Spread
    create_p50_ms: float
    poll_p50_ms: float  # the resolution: one poll's latency
    poll_p90_ms: float
    polls_per_booking_p50: float


def sighting_stats(kind: str, sightings: list[Sighting]) -> SightingStats:
    mine = [s for s in sightings if s.kind == kind]
    made = [s for s in mine if not s.error]
    polls = sorted(p for s in made for p in s.poll_ms)
    return SightingStats(
        kind=kind,
        bookings=len(mine),
        errors=len(mine) - len(made),
        not_quiet_before=sum(1 for s in mine if not s.started_quiet),
        commit_to_visible=spread(s.commit_to_visible_ms for s in made),
        # Only where it was followed (the history phase); a booking it never saw counts as unseen.
        commit_to_settled=spread(s.commit_to_settled_ms for s in made) if any(not math.isnan(s.settled) for s in made) else spread(()),
        answer_to_visible=spread(s.answer_to_visible_ms for s in made),
        create_p50_ms=percentile(sorted(s.create_ms for s in made), 50),
        poll_p50_ms=percentile(polls, 50),
        poll_p90_ms=percentile(polls, 90),
        polls_per_booking_p50=percentile(sorted(float(s.polls) for s in made), 50),
    )


# --- the history: many participations first ---------------------------------------------------------------


@dataclass
class History:
    sessions: int
    asked: int
    made: int = 0  # answered OK
    stored: int = 0  # as bookings stored them (a call that timed out may have committed all the same)
    errors: dict[str, int] = field(default_factory=dict)
    booking_s: float = math.nan  # how long making them took
    visible_s: float = math.nan  # from the last answer until every session showed them all; NaN: not within the limit
    quiet: dict[str, Any] = field(default_factory=dict)  # the pipeline after that (consumer lag 0, outboxes empty)
    one_page: bool = False  # one ListCourseEventTimeSlots answer listed every session


async def make_history(channel: grpc.aio.Channel, tenant: Tenant, offering: Offering, history: History, in_flight: int) -> None:
    """`history.asked` bookings of the course through CreateBooking, at most `in_flight` at once."""
    stub = bookings_pb2_grpc.BookingsStub(channel)
    numbers = iter(range(history.asked))
    began = time.monotonic()

    async def worker() -> None:
        for n in numbers:
            try:
                await stub.CreateBooking(bookings_pb2.CreateBookingRequest(booking=offering.booking(n)), metadata=tenant.metadata, timeout=30)
                history.made += 1
            except grpc.aio.AioRpcError as exc:
                history.errors[exc.code().name] = history.errors.get(exc.code().name, 0) + 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(10)
            say(f"history: {history.made}/{history.asked} bookings made ({history.made / (time.monotonic() - began):.0f}/s)")

    reporter = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(worker() for _ in range(max(1, in_flight))))
    finally:
        reporter.cancel()
    history.booking_s = time.monotonic() - began


async def until_all_visible(slots: SlotsCall, offering: Offering, booked: int, limit: float, period: float = 0.25) -> float:
    """Seconds until every session of the offering shows `booked` bookings; NaN past `limit`."""
    began = time.time()
    told = began
    while time.time() - began < limit:
        try:
            counts = booked_counts(await slots())
        except grpc.aio.AioRpcError:
            counts = {}
        if counts and shows(counts, offering.event_ids, booked):
            return time.time() - began
        if time.time() - told >= 15:
            told = time.time()
            say(f"history: the least counted session shows {min(counts.values(), default=0)} of {booked} after {told - began:.0f} s")
        await asyncio.sleep(period)
    return math.nan
