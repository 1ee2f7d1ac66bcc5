"""`make bench-appointments`: the appointment RPCs under open-loop load, through real gRPC with the
whole platform running: a clinic's month of slots (ListAvailabilityTimeSlots), its month view
(ListAvailabilityDates) and booking an appointment (CreateBooking).

    python -m bench.appointments [--rates 25,50,100,...] [--step-seconds 15] [--no-profile] [--quick] [--out DIR] [--keep]

What it does (bench/README.md explains why):
1. starts its own Platform (embedded Postgres/Redis/Kafka + the four services) in a temp dir on
   free ports, as bench/availability.py does;
2. builds one tenant's clinic through the public RPCs, as a business would: 5 staff members
   working Monday to Sunday 09:00-17:00 in Europe/Vienna, an APPOINTMENT service of 30 minutes
   every 30 minutes offered by all five, time off (an afternoon for two of them, a whole day for a
   third) and 20 appointments spread over the next 31 days. Apart from it, the booking population:
   a second APPOINTMENT service of the same shape with five staff members of its own, whose free
   slots over as many days as the booking steps need are listed once and booked one per request;
3. three rate sweeps, one RPC after the other, each open loop (bench/loadgen.py) with the CPU of
   every process group per step (bench/procstats.py): ListAvailabilityTimeSlots for the 31 days
   from tomorrow 00:00 (the default page), ListAvailabilityDates for the 31 dates from tomorrow,
   and CreateBooking of a free slot of its own per request (half round robin, half a named staff
   member). A sweep climbs its rates until one at or past its target's rate is not sustained,
   then measures once halfway back (the capacity to within half a step);
4. one step asking ListAvailabilityTimeSlots for the whole window in one page, at the target's rate;
5. after each sweep, a profiling step of that RPC at its target's rate (or --profile-rate) with
   py-spy attached to availability, bookings and timeframes (the processes on the path of all three);
6. writes bench/results/appointments.{md,json} and appointments-latency.png
   (bench/appointments_report.py).
The platform and every helper process are stopped on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from bench import profiling, runtime
from bench.appointments_figures import (
    SUSTAINED_P99_MS,
    TARGET,
    TARGETS,
    PlannedBooking,
    Step,
    Target,
    as_step,
    booking_plan,
    collapsed,
    halfway,
    highest_sustained,
    needed_bookings,
    planned_rates,
    warmup,
)
from bench.loadgen import open_loop, sustained
from bench.procstats import CpuMeter
from bench.stack import REPO, RESULTS, ZONE, Ports, machine, make_platform, platform_cpu_meter, say
from services.api.bookings.availability.v2 import availability_time_slots_pb2 as slots_pb2
from services.api.bookings.availability.v2 import availability_time_slots_pb2_grpc as slots_grpc
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.working_hours.v1 import working_hours_pb2, working_hours_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE, mint_token
from services.common.grpc_status import error_reason
from services.common.timestamps import to_timestamp
from services.devstack.stack import Platform

# --- the scenario (the issue's) ------------------------------------------------------------------------

STAFF = 5
HOURS = ("09:00", "17:00")
EVERY_DAY = range(1, 8)  # WeeklyRule.day_of_week: 1 = Monday .. 7 = Sunday
MINUTES = 30  # duration and slot interval
SLOTS_PER_DAY = 16  # 09:00-17:00 every 30 minutes, per staff member
DAYS = 31  # the listings' window: tomorrow 00:00 to 31 days later
APPOINTMENTS = 20
# (days from today, local start, local end, which staff members): an afternoon off for two of them,
# a whole day for a third, all inside the window.
TIME_OFF = ((3, "13:00", "17:00", (0, 1)), (12, "09:00", "17:00", (2,)))


DEFAULT_RATES = (25, 50, 100, 150, 200, 300, 400)
MAX_RETRIES = 3  # steps measured again because other processes used the machine, per run
CLIENT_CONNECTIONS = 8
PAGE_LIMIT = 1000  # the most one ListAvailabilityTimeSlots answer carries (cursor_paging.limit)
MAX_POPULATION_DAYS = 366
SETUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Options:
    rates: tuple[float, ...]
    max_rate: float
    step_seconds: float
    warmup_seconds: float
    timeout: float
    profile: bool
    profile_rate: float  # 0: each target's rate
    profile_seconds: float
    quiet_threshold: float
    quiet_max_wait: float
    out: Path
    keep: bool
    availability_workers: int


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.appointments", description="appointment RPCs latency benchmark")
    parser.add_argument(
        "--rates",
        default=",".join(str(r) for r in DEFAULT_RATES),
        help="offered rates of each sweep, requests/s; each target's rate is added when missing (default %(default)s)",
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=1000.0,
        help="while a sweep's last rate is sustained, go on by the last gap up to this rate (0: not; default %(default)s)",
    )
    parser.add_argument("--step-seconds", type=float, default=15.0, help="measured seconds per rate (default %(default)s)")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="unmeasured seconds at each rate first (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=2.0, help="deadline of each request, s (default %(default)s)")
    parser.add_argument("--profile-rate", type=float, default=0.0, help="rate of every RPC's py-spy step (default: each target's rate)")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiling steps")
    parser.add_argument("--quiet-threshold", type=float, default=25.0, help="before each step, wait until other processes use less than this %% of a core")
    parser.add_argument("--quiet-max-wait", type=float, default=10.0, help="...but at most this many seconds (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s steps at 50 and 100/s, a short profile")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the report goes (default bench/results)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data) after a successful run")
    parser.add_argument(
        "--availability-workers",
        type=int,
        default=2,
        help="GRPC_WORKERS of the availability service: processes sharing its port, one per core, as in bench-availability (default %(default)s)",
    )
    a = parser.parse_args(argv)
    rates = tuple(sorted({float(r) for r in a.rates.split(",") if r.strip()}))
    step, profile_seconds, max_rate = a.step_seconds, a.profile_seconds, max(0.0, a.max_rate)
    if a.quick:
        rates, step, profile_seconds, max_rate = (50.0, 100.0), 3.0, 3.0, 0.0
    return Options(
        rates=rates,
        max_rate=max_rate,
        step_seconds=step,
        warmup_seconds=a.warmup_seconds,
        timeout=a.timeout,
        profile=not a.no_profile,
        profile_rate=a.profile_rate,
        profile_seconds=profile_seconds,
        quiet_threshold=a.quiet_threshold,
        quiet_max_wait=a.quiet_max_wait,
        out=a.out,
        keep=a.keep,
        availability_workers=a.availability_workers,
    )


# --- building the clinic through the RPCs -------------------------------------------------------------


@dataclass
class Clients:
    """One tenant's stubs on one channel per service, for the setup (the load has channels of its own)."""

    tenant: str
    metadata: list[tuple[str, str]]
    staff: staff_members_pb2_grpc.StaffMembersStub
    services: services_pb2_grpc.ServicesStub
    hours: working_hours_pb2_grpc.WorkingHoursStub
    bookings: bookings_pb2_grpc.BookingsStub
    slots: slots_grpc.AvailabilityTimeSlotsStub


def user_metadata(stack: Platform, tenant: str) -> list[tuple[str, str]]:
    """A user's token (every scope but the internal one), the way a client calls."""
    scopes = [s for s in ALL_SCOPES if s != INTERNAL_SCOPE]
    return [("authorization", f"Bearer {mint_token(stack.jwt_secret, tenant_id=tenant, scopes=scopes, ttl_seconds=6 * 3600, subject='bench')}")]


def local_instant(day: date, hhmm: str) -> datetime:
    """A Vienna wall time as a UTC instant (the scenario's times are all away from DST changes)."""
    return datetime.combine(day, wall_time.fromisoformat(hhmm), ZoneInfo(ZONE)).astimezone(UTC)


def local_text(ts: Any) -> str:
    return ts.ToDatetime(tzinfo=UTC).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")


async def hire(c: Clients, name: str) -> staff_members_pb2.StaffMember:
    """A staff member working HOURS every day of the week."""
    member = staff_members_pb2.StaffMember(name=name, time_zone=ZONE)
    created = (await c.staff.CreateStaffMember(staff_members_pb2.CreateStaffMemberRequest(staff_member=member), metadata=c.metadata)).staff_member
    rules = [working_hours_pb2.WeeklyRule(day_of_week=d, start_time=HOURS[0], end_time=HOURS[1]) for d in EVERY_DAY]
    await c.hours.SetWeeklyRules(working_hours_pb2.SetWeeklyRulesRequest(schedule_id=created.schedule_id, rules=rules), metadata=c.metadata)
    return created


async def appointment_service(c: Clients, name: str, staff: Sequence[staff_members_pb2.StaffMember]) -> services_pb2.Service:
    """30 minutes every 30 minutes, no buffers, the default booking policy (no minimum notice, no
    horizon: ListAvailabilityDates may search a whole year for next_available_date)."""
    service = services_pb2.Service(
        type=services_pb2.APPOINTMENT,
        name=name,
        time_zone=ZONE,
        online_booking_enabled=True,
        appointment=services_pb2.AppointmentSettings(duration_minutes=MINUTES, slot_interval_minutes=MINUTES),
        staff_member_ids=[s.id for s in staff],
    )
    return (await c.services.CreateService(services_pb2.CreateServiceRequest(service=service), metadata=c.metadata)).service


def slots_request(service_id: str, first: date, days: int = DAYS, limit: int = 0, cursor: str = "") -> slots_pb2.ListAvailabilityTimeSlotsRequest:
    """`days` days from `first` 00:00 (Vienna); limit 0 = the default page."""
    request = slots_pb2.ListAvailabilityTimeSlotsRequest(
        service_id=service_id,
        from_local_date=f"{first.isoformat()}T00:00:00",
        to_local_date=f"{(first + timedelta(days=days)).isoformat()}T00:00:00",
        time_zone=ZONE,
    )
    if limit or cursor:
        request.cursor_paging.CopyFrom(paging_pb2.CursorPaging(limit=limit, cursor=cursor))
    return request


def dates_request(service_id: str, first: date) -> slots_pb2.ListAvailabilityDatesRequest:
    last = first + timedelta(days=DAYS - 1)
    return slots_pb2.ListAvailabilityDatesRequest(service_id=service_id, from_local_date=first.isoformat(), to_local_date=last.isoformat(), time_zone=ZONE)


async def bookable_slots(c: Clients, service_id: str, first: date, days: int) -> tuple[list[slots_pb2.AvailabilityTimeSlot], int]:
    """Every bookable slot of `days` days from `first`: windows of at most DAYS days (the RPC's
    limit), pages of PAGE_LIMIT. Returns the slots and the number of calls made."""
    found: list[slots_pb2.AvailabilityTimeSlot] = []
    calls = 0
    for offset in range(0, days, DAYS):
        cursor = ""
        while True:
            request = slots_request(service_id, first + timedelta(days=offset), min(DAYS, days - offset), PAGE_LIMIT, cursor)
            response = await c.slots.ListAvailabilityTimeSlots(request, metadata=c.metadata, timeout=SETUP_TIMEOUT)
            calls += 1
            found.extend(response.time_slots)
            if not response.paging_metadata.has_next:
                break
            cursor = response.paging_metadata.cursors.next
    return found, calls


def booking_request(service_id: str, start: Any, end: Any, staff_member_id: str, n: int) -> bookings_pb2.CreateBookingRequest:
    booking = bookings_pb2.Booking(
        service_id=service_id,
        booked_entity=bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(start_date=start, end_date=end, staff_member_id=staff_member_id)),
        number_of_participants=1,
        contact=bookings_pb2.ContactDetails(name=f"Bench patient {n}", email=f"patient{n}@example.com"),
    )
    return bookings_pb2.CreateBookingRequest(booking=booking)


@dataclass
class Clinic:
    """The scenario the listings are measured on."""

    service_id: str
    first: date  # tomorrow, Vienna
    setup: dict[str, Any]


async def build_clinic(c: Clients, today: date) -> Clinic:
    staff = [await hire(c, f"Doctor {i + 1}") for i in range(STAFF)]
    service = await appointment_service(c, "Consultation 30'", staff)
    time_off = []
    for days_ahead, start, end, who in TIME_OFF:
        day = today + timedelta(days=days_ahead)
        for i in who:
            span = working_hours_pb2.TimeOff(start=to_timestamp(local_instant(day, start)), end=to_timestamp(local_instant(day, end)), reason="bench")
            await c.hours.CreateTimeOff(working_hours_pb2.CreateTimeOffRequest(schedule_id=staff[i].schedule_id, time_off=span), metadata=c.metadata)
            time_off.append({"staff_member": staff[i].name, "local_date": day.isoformat(), "from": start, "to": end})
    first = today + timedelta(days=1)
    # The appointments go where the listing offers them (after the time off), spread evenly over the
    # window's slots, each with a named staff member taking turns.
    free, _ = await bookable_slots(c, service.id, first, DAYS)
    names = {s.id: s.name for s in staff}
    appointments = []
    for k in range(APPOINTMENTS):
        slot = free[(2 * k + 1) * len(free) // (2 * APPOINTMENTS)]
        who = slot.available_staff_member_ids[k % len(slot.available_staff_member_ids)]
        await c.bookings.CreateBooking(booking_request(service.id, slot.start_date, slot.end_date, who, k), metadata=c.metadata, timeout=SETUP_TIMEOUT)
        appointments.append({"local_start": local_text(slot.start_date), "staff_member": names[who]})
    setup = {
        "tenant": c.tenant,
        "service_id": service.id,
        "staff": [s.name for s in staff],
        "hours": f"{HOURS[0]}-{HOURS[1]}, Monday to Sunday",
        "time_zone": ZONE,
        "duration_minutes": MINUTES,
        "slot_interval_minutes": MINUTES,
        "time_off": time_off,
        "appointments": appointments,
    }
    return Clinic(service.id, first, setup)


async def describe_answers(c: Clients, clinic: Clinic) -> dict[str, Any]:
    """What the measured requests answer: whether the slots' answer pages, and its size."""
    first_page = await c.slots.ListAvailabilityTimeSlots(slots_request(clinic.service_id, clinic.first), metadata=c.metadata, timeout=SETUP_TIMEOUT)
    whole = await c.slots.ListAvailabilityTimeSlots(
        slots_request(clinic.service_id, clinic.first, limit=PAGE_LIMIT), metadata=c.metadata, timeout=SETUP_TIMEOUT
    )
    dates = await c.slots.ListAvailabilityDates(dates_request(clinic.service_id, clinic.first), metadata=c.metadata, timeout=SETUP_TIMEOUT)
    request = slots_request(clinic.service_id, clinic.first)
    dates_req = dates_request(clinic.service_id, clinic.first)
    total = len(whole.time_slots)
    page = len(first_page.time_slots)
    return {
        "slots": {
            "from_local_date": request.from_local_date,
            "to_local_date": request.to_local_date,
            "first_page_slots": page,
            "first_page_has_next": first_page.paging_metadata.has_next,
            "first_page_bytes": first_page.ByteSize(),
            "window_slots": total,
            "window_has_next_at_limit": whole.paging_metadata.has_next,
            "pages_at_default_limit": math.ceil(total / page) if page else 0,
            "whole_window_bytes": whole.ByteSize(),
        },
        "dates": {
            "from_local_date": dates_req.from_local_date,
            "to_local_date": dates_req.to_local_date,
            "dates": len(dates.dates),
            "dates_with_bookable_slots": sum(1 for d in dates.dates if d.bookable_slots > 0),
            "bookable_slots": sum(d.bookable_slots for d in dates.dates),
            "next_available_date": dates.next_available_date,
            "bytes": dates.ByteSize(),
        },
    }


# --- the booking population ---------------------------------------------------------------------------


@dataclass
class Population:
    """The booking steps' free slots and the order they are booked in."""

    service_id: str
    first: date
    days: int
    plan: list[PlannedBooking]
    listing_calls: int
    used: int = 0
    setup: dict[str, Any] = field(default_factory=dict)

    def left(self) -> int:
        return len(self.plan) - self.used

    def next(self) -> tuple[PlannedBooking, int]:
        if self.used >= len(self.plan):
            raise PopulationExhausted
        n = self.used
        self.used += 1
        return self.plan[n], n


class PopulationExhausted(Exception):
    """The plan's slots are all used (the sweep checks for room before each step, so only a
    repeated step at the top could run into this)."""


async def build_population(c: Clients, today: date, days: int) -> Population:
    staff = [await hire(c, f"Therapist {i + 1}") for i in range(STAFF)]
    service = await appointment_service(c, "Booking population 30'", staff)
    first = today + timedelta(days=1)
    free, calls = await bookable_slots(c, service.id, first, days)
    plan = booking_plan([(s.start_date, s.end_date, list(s.available_staff_member_ids)) for s in free])
    population = Population(service.id, first, days, plan, calls)
    population.setup = {
        "service_id": service.id,
        "staff": [s.name for s in staff],
        "first_local_date": first.isoformat(),
        "last_local_date": (first + timedelta(days=days - 1)).isoformat(),
        "days": days,
        "slot_starts": len(free),
        "free_staff_slots": len(plan),
        "round_robin": sum(1 for b in plan if not b.staff_member_id),
        "named": sum(1 for b in plan if b.staff_member_id),
        "listing_calls": calls,
    }
    return population


# --- measuring ---------------------------------------------------------------------------------------


class Refusals:
    """SLOT_UNAVAILABLE answers counted by the booking call, read out after each step."""

    def __init__(self) -> None:
        self.count = 0

    def take(self) -> int:
        n, self.count = self.count, 0
        return n


class Lab:
    """Steps measured on a shared machine: each waits (bounded) for processes the bench did not
    start to calm down, records what they used, and is measured once more when they took more than
    the threshold (at most MAX_RETRIES times a run), keeping the cleaner of the two."""

    def __init__(self, opts: Options, meter: CpuMeter):
        self.opts = opts
        self.meter = meter
        self.retries_left = MAX_RETRIES

    async def quiet(self) -> float:
        foreign, waited = await self.meter.wait_quiet(self.opts.quiet_threshold, self.opts.quiet_max_wait)
        if foreign > self.opts.quiet_threshold:
            say(f"warning: other processes use {foreign:.0f} % of a core; measuring anyway (the step is flagged)")
        return waited

    async def measure(
        self, label: str, call: Callable[[], Awaitable[Any]], rate: float, *, refusals: Refusals | None = None, seconds: float = 0.0, wait_quiet: bool = True
    ) -> Step:
        seconds = seconds or self.opts.step_seconds
        result = await self._once(label, call, rate, seconds, refusals, wait_quiet)
        if result.foreign_cpu_pct > self.opts.quiet_threshold and wait_quiet and self.retries_left > 0:
            self.retries_left -= 1
            say(f"repeating: other processes used {result.foreign_cpu_pct:.0f} % of a core during that step")
            await asyncio.sleep(3.0 if collapsed(result) else 1.0)
            again = await self._once(label, call, rate, seconds, refusals, wait_quiet)
            result = min((result, again), key=lambda st: st.foreign_cpu_pct)
        return result

    async def _once(self, label: str, call: Callable[[], Awaitable[Any]], rate: float, seconds: float, refusals: Refusals | None, wait_quiet: bool) -> Step:
        waited = await self.quiet() if wait_quiet else 0.0
        if refusals is not None:
            refusals.take()
        before = self.meter.snapshot()
        result = await open_loop(call, rate=rate, duration=seconds, warmup=warmup(rate, self.opts.warmup_seconds), label=label, timeout=self.opts.timeout)
        usage = CpuMeter.percent(before, self.meter.snapshot())
        step = as_step(result, refusals.take() if refusals is not None else 0)
        step.cpu_pct, step.machine_busy_pct, step.foreign_cpu_pct, step.quiet_wait_s = usage.per_group, usage.machine_busy_pct, usage.foreign_pct, waited
        step.switches = usage.switches
        refused = f"  slot unavailable {step.slot_unavailable}" if refusals is not None else ""
        say(
            f"{label:<26} {rate:>5.0f}/s  ok {step.ok:>5} err {step.errors:>4}{refused}  achieved {step.achieved_rps:7.1f}/s  "
            f"p50 {step.p50_ms:7.2f}  p90 {step.p90_ms:7.2f}  p99 {step.p99_ms:7.2f}  max {step.max_ms:7.1f} ms  cpu "
            + " ".join(f"{k} {v:.0f}%" for k, v in sorted(step.cpu_pct.items(), key=lambda kv: -kv[1])[:3])
            + f" other {step.foreign_cpu_pct:.0f}%"
        )
        await asyncio.sleep(0.5)
        return step


async def sweep(
    lab: Lab, target: Target, call: Callable[[], Awaitable[Any]], *, refusals: Refusals | None = None, room: Callable[[float], bool] | None = None
) -> dict[str, Any]:
    """Rising rates until one at or past the target's rate is not sustained (the rates below the
    target's are all measured, so the target is judged whatever happens before it), then one step
    halfway back. While the last planned rate is sustained the sweep goes on by the last gap, up to
    --max-rate. `room(rate)`: whether a step at that rate can still be fed (the booking population)."""
    opts = lab.opts
    rates = planned_rates(opts.rates, target)
    steps: list[Step] = []
    stopped = ""

    async def step(rate: float) -> Step:
        result = await lab.measure(target.rpc, call, rate, refusals=refusals)
        steps.append(result)
        steps.sort(key=lambda s: s.rate)
        await asyncio.sleep(5.0 if collapsed(result) else 1.0)  # let a backlog drain before the next step
        return result

    for rate in rates:  # grows while the last rate is sustained
        if room is not None and not room(rate):
            stopped = f"the booking population has no room left for a step at {rate:.0f}/s"
            break
        result = await step(rate)
        if rate >= target.rate and not sustained(result, SUSTAINED_P99_MS):
            mid = halfway(steps)
            if mid is not None and (room is None or room(mid)):
                await step(mid)
            stopped = f"{rate:.0f}/s was not sustained"
            break
        if rate == rates[-1] and opts.max_rate:
            gap = rates[-1] - rates[-2] if len(rates) >= 2 else rates[-1]
            if gap > 0 and rate + gap <= opts.max_rate:
                rates.append(rate + gap)
    else:
        stopped = f"every rate up to {rates[-1]:.0f}/s was sustained (--max-rate {opts.max_rate:.0f})"
    say(f"{target.rpc}: highest sustained {highest_sustained(steps):.0f}/s; {stopped}")
    return {"steps": steps, "stopped": stopped}


async def profile_step(
    lab: Lab, target: Target, call: Callable[[], Awaitable[Any]], processes: dict[str, int | None], *, refusals: Refusals | None = None
) -> dict[str, Any]:
    """A step of `target`'s RPC at its rate (or --profile-rate) with py-spy attached to each of
    `processes` (name -> pid) inside its measured window; raw stacks to
    profile/appointments-<target>-<process>.collapsed.txt."""
    opts = lab.opts
    rate = opts.profile_rate or target.rate
    profile_dir = opts.out / "profile"
    profile_dir.mkdir(parents=True, exist_ok=True)

    async def profiles() -> list[profiling.Profile]:
        await asyncio.sleep(opts.warmup_seconds + 1.0)
        found = [
            profiling.record(name, pid, opts.profile_seconds, profile_dir / f"appointments-{target.key}-{name}.collapsed.txt")
            for name, pid in processes.items()
            if pid
        ]
        return list(await asyncio.gather(*found))

    say(f"profiling {', '.join(processes)} with py-spy during {target.rpc} at {rate:.0f}/s for {opts.profile_seconds:.0f} s")
    await lab.quiet()
    spy = asyncio.create_task(profiles())
    # The profiler runs inside the measured window, which is a little longer than it.
    step = await lab.measure(f"{target.rpc} + py-spy", call, rate, refusals=refusals, seconds=opts.profile_seconds + 2.0, wait_quiet=False)
    found = await spy
    for p in found:
        if Path(p.raw_path).is_relative_to(opts.out):  # relative to the report, which sits next to profile/
            p.raw_path = str(Path(p.raw_path).relative_to(opts.out))
        say(f"profile of {p.name}: " + (p.error or f"{p.samples} samples ({p.active_pct:.0f}% of wall time on a Python thread)"))
    return {"step": step, "profiles": found}


def rotating(calls: list[Callable[[], Awaitable[Any]]]) -> Callable[[], Awaitable[Any]]:
    """One call after the other over several connections."""
    turn = itertools.cycle(calls)
    return lambda: next(turn)()


def open_channels(address: str) -> list[grpc.aio.Channel]:
    # Several connections, like several client processes: the kernel spreads connections (not
    # calls) over a service's SO_REUSEPORT workers. A local subchannel pool each, or grpc would
    # share one connection between them.
    return [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(CLIENT_CONNECTIONS)]


def listing_call(channel: grpc.aio.Channel, method: str, request: Any, metadata: list[tuple[str, str]], timeout: float) -> Callable[[], Awaitable[Any]]:
    rpc = getattr(slots_grpc.AvailabilityTimeSlotsStub(channel), method)
    return lambda: rpc(request, metadata=metadata, timeout=timeout)


def booking_call(
    channel: grpc.aio.Channel, population: Population, metadata: list[tuple[str, str]], timeout: float, refusals: Refusals
) -> Callable[[], Awaitable[Any]]:
    stub = bookings_pb2_grpc.BookingsStub(channel)

    async def call() -> Any:
        planned, n = population.next()
        request = booking_request(population.service_id, planned.start, planned.end, planned.staff_member_id, n)
        try:
            return await stub.CreateBooking(request, metadata=metadata, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            # The slot was taken after all: an answer, counted apart (the plan means it not to happen).
            if exc.code() == grpc.StatusCode.ALREADY_EXISTS and error_reason(exc) == "SLOT_UNAVAILABLE":
                refusals.count += 1
                return None
            raise

    return call


# --- the run ----------------------------------------------------------------------------------------


async def run(stack: Platform, opts: Options) -> dict[str, Any]:
    results: dict[str, Any] = {}
    tenant = f"bench-{uuid.uuid4().hex[:12]}"
    metadata = user_metadata(stack, tenant)
    today = datetime.now(ZoneInfo(ZONE)).date()
    setup_channels = {name: grpc.aio.insecure_channel(stack.address(name)) for name in ("bookings", "timeframes", "availability")}
    load_channels = {name: open_channels(stack.address(name)) for name in ("bookings", "availability")}
    try:
        c = Clients(
            tenant,
            metadata,
            staff_members_pb2_grpc.StaffMembersStub(setup_channels["bookings"]),
            services_pb2_grpc.ServicesStub(setup_channels["bookings"]),
            working_hours_pb2_grpc.WorkingHoursStub(setup_channels["timeframes"]),
            bookings_pb2_grpc.BookingsStub(setup_channels["bookings"]),
            slots_grpc.AvailabilityTimeSlotsStub(setup_channels["availability"]),
        )
        clinic = await build_clinic(c, today)
        say(f"tenant {tenant}: clinic {clinic.service_id} with {STAFF} staff, {len(clinic.setup['time_off'])} time off, {APPOINTMENTS} appointments")
        # Enough free slots for every booking step planned (and their repeats) at STAFF x
        # SLOTS_PER_DAY a day, so the booking sweep never runs out before it stops by itself.
        needed = needed_bookings(planned_rates(opts.rates, TARGET["booking"]), opts.warmup_seconds, opts.step_seconds)
        days = max(DAYS, min(MAX_POPULATION_DAYS, math.ceil(needed / (STAFF * SLOTS_PER_DAY)) + 1))
        population = await build_population(c, today, days)
        say(f"booking population: {population.setup['free_staff_slots']} free (slot, staff member) pairs over {days} days")
        results["setup"] = {"clinic": clinic.setup, "answers": await describe_answers(c, clinic), "population": population.setup}

        meter = platform_cpu_meter(stack)
        lab = Lab(opts, meter)
        avail = load_channels["availability"]
        slots = rotating(
            [listing_call(ch, "ListAvailabilityTimeSlots", slots_request(clinic.service_id, clinic.first), metadata, opts.timeout) for ch in avail]
        )
        whole = rotating(
            [
                listing_call(ch, "ListAvailabilityTimeSlots", slots_request(clinic.service_id, clinic.first, limit=PAGE_LIMIT), metadata, opts.timeout)
                for ch in avail
            ]
        )
        dates = rotating([listing_call(ch, "ListAvailabilityDates", dates_request(clinic.service_id, clinic.first), metadata, opts.timeout) for ch in avail])
        refusals = Refusals()
        book = rotating([booking_call(ch, population, metadata, opts.timeout, refusals) for ch in load_channels["bookings"]])

        def room(rate: float) -> bool:
            # The step, and its repeat if other processes disturb it.
            return population.left() >= 2 * rate * (warmup(rate, opts.warmup_seconds) + opts.step_seconds)

        # The processes on the path of all three RPCs: availability computes, bookings serves the
        # staff members and their occupied time (and books), timeframes the working hours (and holds).
        path = {name: stack.supervisor.pid(name) for name in ("availability", "bookings", "timeframes")}
        sweeps: dict[str, Any] = {}
        profiles: dict[str, Any] = {}
        for target, call in ((TARGET["slots"], slots), (TARGET["dates"], dates)):
            await open_loop(call, rate=50, duration=3, label="warm-up", timeout=opts.timeout)
            sweeps[target.key] = await sweep(lab, target, call)
            if opts.profile:
                profiles[target.key] = await profile_step(lab, target, call, path)
        # The whole window at once, what a client showing the month's slots may ask instead of ten pages.
        results["whole_window"] = await lab.measure("ListAvailabilityTimeSlots, 1 page", whole, TARGET["slots"].rate)
        # Bookings last: they are the only writes, and the listings' clinic never sees them anyway
        # (the population has staff of its own).
        target = TARGET["booking"]
        await open_loop(book, rate=25, duration=2, label="warm-up", timeout=opts.timeout)
        sweeps[target.key] = await sweep(lab, target, book, refusals=refusals, room=room)
        if opts.profile and room(opts.profile_rate or target.rate):
            profiles[target.key] = await profile_step(lab, target, book, path, refusals=refusals)
        population.setup["requests_sent"] = population.used
        results["sweeps"] = sweeps
        results["profiles"] = profiles
    finally:
        for ch in [*setup_channels.values(), *itertools.chain.from_iterable(load_channels.values())]:
            await ch.close()
    return results


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    from bench import appointments_report as report  # matplotlib is imported late: the measurement does not need it

    began = time.monotonic()
    started_at = datetime.now(UTC)
    stack = make_platform(Path(tempfile.mkdtemp(prefix="bench-appointments-")), Ports(), opts.availability_workers)
    outcome = runtime.on_platform(stack, lambda s: run(s, opts), keep=opts.keep, say=say)
    if outcome is None:
        return 130
    results, platform_seconds = outcome
    results["meta"] = {
        **runtime.meta("bench.appointments", argv, opts, started_at=started_at, began=began, platform_seconds=platform_seconds),
        "machine": machine(),
        "targets": {t.key: {"rpc": t.rpc, "what": t.what, "rate": t.rate, "p99_ms": t.p99_ms} for t in TARGETS},
        "sustained_p99_ms": SUSTAINED_P99_MS,
    }
    paths = report.write(results, opts.out)
    say(f"done in {results['meta']['duration_s']:.0f} s: " + ", ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in paths))
    print(report.summary(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
