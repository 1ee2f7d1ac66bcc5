"""`bookings`: a command line for people who run the platform (and `--json` for scripts).

    export AUTH_JWT_SECRET=...            # or: export BOOKINGS_TOKEN=$(bookings token --secret ...)
    bookings services create --type course --name "Pottery" --capacity 12 --time-zone Europe/Vienna
    bookings events bulk-create --schedule <schedule id> --start 2026-12-01T18:00 --duration 90 --count 10 --every 7d
    bookings timeframes <schedule id>
    bookings availability courses --from 2026-12-01 --to 2026-12-31
    bookings book course --service <service id> --name "Ada" --email ada@example.com --participants 2
    bookings bookings list --status pending
    bookings toggles set course_availability_enabled --allow <tenant>
    bookings watch capacity --schedule <schedule id>

Parsing lives here; RPCs in `client.py`, output in `render.py`, local-time arithmetic in
`timeseries.py`, availability in words in `slots.py`, feature toggles (Redis) in `toggles.py`.
Exit codes: 0 success, 1 a failed call or bad input, 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2

from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.common.v1 import paging_pb2
from services.cli import dlq, render, timeseries, toggles, watch
from services.cli.arguments import non_negative_int, positive_int
from services.cli.client import (
    DEFAULT_AVAILABILITY_ADDRESS,
    DEFAULT_BOOKINGS_ADDRESS,
    DEFAULT_SCOPES,
    DEFAULT_TIMEFRAMES_ADDRESS,
    MAX_PAGE,
    CallError,
    Client,
    instant,
    timestamp,
)
from services.common.auth import ALL_SCOPES, mint_token

DEFAULT_TENANT = "demo"
SERVICE_TYPES = {"course": services_pb2.COURSE, "class": services_pb2.CLASS, "appointment": services_pb2.APPOINTMENT}
BOOKING_STATUSES = {"pending": bookings_pb2.PENDING, "confirmed": bookings_pb2.CONFIRMED, "declined": bookings_pb2.DECLINED, "canceled": bookings_pb2.CANCELED}
OFF = "off"


class CliError(Exception):
    """Bad input or setup the CLI detects itself; printed as `error: <message>`, exit code 1."""


# --- conversions -----------------------------------------------------------------------------------


def zone_arg(name: str, option: str) -> ZoneInfo:
    try:
        return timeseries.zone(name)
    except timeseries.TimeSeriesError as exc:
        raise CliError(f"{option}: {exc}") from None


def local_arg(text: str, option: str) -> datetime:
    try:
        return timeseries.parse_local(text)
    except timeseries.TimeSeriesError as exc:
        raise CliError(f"{option}: {exc}") from None


# --- argument types ---------------------------------------------------------------------------------


def _minutes_or_off(text: str) -> int | str:
    return OFF if text.strip().lower() == OFF else non_negative_int(text)


def _percentage(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not within 0..100")
    return value


def _interval(text: str) -> timeseries.Interval:
    try:
        return timeseries.parse_interval(text)
    except timeseries.TimeSeriesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- context ----------------------------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    env: Mapping[str, str]
    out: render.Renderer
    _client: Client | None = field(default=None, init=False)
    _toggles: toggles.ToggleStore | None = field(default=None, init=False)

    def token(self) -> str:
        if self.args.token:
            return str(self.args.token)
        secret = self.env.get("AUTH_JWT_SECRET")
        if secret:
            return mint_token(secret, tenant_id=self.args.tenant, scopes=DEFAULT_SCOPES, subject="cli", ttl_seconds=3600)
        raise CliError(
            "no token: pass --token or set BOOKINGS_TOKEN (`make run` prints one), "
            "or set AUTH_JWT_SECRET to the services' secret and the CLI mints a dev token for --tenant"
        )

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(
                bookings_address=self.args.bookings_address,
                timeframes_address=self.args.timeframes_address,
                availability_address=self.args.availability_address,
                token=self.token(),
                timeout=self.args.timeout,
            )
        return self._client

    @property
    def toggles(self) -> toggles.ToggleStore:
        if self._toggles is None:
            self._toggles = toggles.ToggleStore(self.args.redis_url, self.args.timeout)
        return self._toggles

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._toggles is not None:
            self._toggles.close()

    def schedule_zone(self, schedule_id: str) -> ZoneInfo:
        name = self.client.get_schedule(schedule_id).schedule.time_zone
        return zone_arg(name, f"schedule {schedule_id} time zone")


# --- token ------------------------------------------------------------------------------------------


def cmd_token(ctx: Context) -> None:
    args = ctx.args
    secret = args.secret or ctx.env.get("AUTH_JWT_SECRET")
    if not secret:
        raise CliError("no secret: pass --secret or set AUTH_JWT_SECRET (the HS256 secret the services verify tokens with)")
    scopes = [s for chunk in (args.scopes or DEFAULT_SCOPES) for s in chunk.replace(",", " ").split()]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise CliError(f"--scopes: unknown scope(s) {', '.join(unknown)}; known: {' '.join(ALL_SCOPES)}")
    token = mint_token(secret, tenant_id=args.tenant, scopes=scopes, subject="cli", ttl_seconds=args.ttl)
    ctx.out.token(token, tenant=args.tenant, scopes=scopes, ttl=args.ttl)


# --- services ---------------------------------------------------------------------------------------


POLICY_FLAGS = ("early_minutes", "late_minutes", "cancel_minutes", "book_after_start", "max_per_booking")


def policy_flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, flag, None) is not None for flag in POLICY_FLAGS)


def apply_policy_flags(policy: policy_pb2.BookingPolicy, args: argparse.Namespace) -> None:
    """Applies the policy flags that were given to `policy`. A minutes flag set to `off` removes
    that limit (an absent sub-policy is disabled)."""
    for flag, field_name, cls, attr in (
        ("early_minutes", "limit_early_booking", policy_pb2.LimitEarlyBookingPolicy, "earliest_booking_in_minutes"),
        ("late_minutes", "limit_late_booking", policy_pb2.LimitLateBookingPolicy, "latest_booking_in_minutes"),
        ("cancel_minutes", "cancellation_policy", policy_pb2.CancellationPolicy, "latest_cancellation_in_minutes"),
    ):
        value = getattr(args, flag)
        if value == OFF:
            policy.ClearField(field_name)
        elif value is not None:
            getattr(policy, field_name).CopyFrom(cls(enabled=True, **{attr: value}))
    if args.book_after_start is not None:
        policy.book_after_start_policy.enabled = args.book_after_start
    if args.max_per_booking is not None:
        policy.participants_policy.max_participants_per_booking = args.max_per_booking


def cmd_services_create(ctx: Context) -> None:
    args = ctx.args
    service = services_pb2.Service(
        type=SERVICE_TYPES[args.type],
        name=args.name,
        default_capacity=args.capacity or 0,
        time_zone=args.time_zone,
        online_booking_enabled=args.online_booking if args.online_booking is not None else True,
        requires_manual_approval=bool(args.manual_approval),
        strict_capacity=bool(args.strict_capacity),
    )
    apply_policy_flags(service.booking_policy, args)
    ctx.out.service(ctx.client.create_service(service), verb="Created")


def cmd_services_list(ctx: Context) -> None:
    args = ctx.args
    types = [SERVICE_TYPES[t] for t in args.type or ()]
    if args.all:
        items = list(ctx.client.iter_services(types=types, page_size=args.limit or MAX_PAGE))
        ctx.out.services(None, items, "")
        return
    response = ctx.client.query_services(types=types, limit=args.limit or 0, cursor=args.cursor or "")
    ctx.out.services(response, list(response.services), response.paging_metadata.cursors.next if response.paging_metadata.has_next else "")


def cmd_services_get(ctx: Context) -> None:
    ctx.out.service(ctx.client.get_service(ctx.args.id))


_SERVICE_FIELDS = (  # flag -> mask path
    ("name", "name"),
    ("capacity", "default_capacity"),
    ("time_zone", "time_zone"),
    ("online_booking", "online_booking_enabled"),
    ("manual_approval", "requires_manual_approval"),
    ("strict_capacity", "strict_capacity"),
)


def cmd_services_update(ctx: Context) -> None:
    args = ctx.args
    service = services_pb2.Service(id=args.id, revision=args.revision)
    paths = []
    for flag, path in _SERVICE_FIELDS:
        value = getattr(args, flag)
        if value is not None:
            setattr(service, path, value)
            paths.append(path)
    if policy_flags_given(args):
        # `booking_policy` is replaced as a whole: start from the stored one so that flags not
        # given keep their value. The revision still guards against a concurrent change.
        service.booking_policy.CopyFrom(ctx.client.get_service(args.id).service.booking_policy)
        apply_policy_flags(service.booking_policy, args)
        paths.append("booking_policy")
    if not paths:
        raise CliError(
            "nothing to update: give at least one of --name, --capacity, --time-zone, --online-booking/--no-online-booking, "
            "--manual-approval/--no-manual-approval, --strict-capacity/--no-strict-capacity or a policy flag"
        )
    ctx.out.service(ctx.client.update_service(service, paths), verb="Updated")


def cmd_services_delete(ctx: Context) -> None:
    response = ctx.client.delete_service(ctx.args.id, ctx.args.revision or 0)
    ctx.out.deleted(response, "service", ctx.args.id)


def cmd_services_policies(ctx: Context) -> None:
    ctx.out.policies(ctx.client.list_booking_policies(ctx.args.ids))


# --- events -----------------------------------------------------------------------------------------


def _event_zone(ctx: Context, schedule_id: str) -> ZoneInfo:
    return zone_arg(ctx.args.time_zone, "--time-zone") if ctx.args.time_zone else ctx.schedule_zone(schedule_id)


def _new_event(args: argparse.Namespace, occurrence: timeseries.Occurrence) -> events_pb2.Event:
    return events_pb2.Event(
        schedule_id=args.schedule,
        start=timestamp(occurrence.start),
        end=timestamp(occurrence.end),
        time_zone=args.time_zone or "",
        total_capacity=args.capacity or 0,
        title=args.title or "",
    )


def _time_error(exc: timeseries.TimeSeriesError) -> CliError:
    return CliError(f"--start: {exc}")


def cmd_events_create(ctx: Context) -> None:
    args = ctx.args
    local = local_arg(args.start, "--start")
    tz = _event_zone(ctx, args.schedule)
    try:
        occurrence = timeseries.occurrence(local, tz, timedelta(minutes=args.duration))
    except timeseries.TimeSeriesError as exc:
        raise _time_error(exc) from None
    ctx.out.event(ctx.client.create_event(_new_event(args, occurrence)), tz=tz, verb="Created")


def cmd_events_bulk_create(ctx: Context) -> None:
    args = ctx.args
    local = local_arg(args.start, "--start")
    tz = _event_zone(ctx, args.schedule)
    try:
        series = timeseries.series(local, tz, timedelta(minutes=args.duration), args.count, args.every)
    except timeseries.TimeSeriesError as exc:
        raise _time_error(exc) from None
    response = ctx.client.bulk_create_events(_new_event(args, o) for o in series)
    out = ctx.out
    out.events(response, list(response.events), tz=tz, title=f"Created events on schedule {args.schedule}")
    if not out.as_json:
        for o in series:
            if o.shifted:
                out.hint(
                    f"note: {o.local:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks jump forward); that session starts at "
                    f"{render.local_time(o.start, tz, with_date=False)}"
                )
        out.hint(f"Next: bookings timeframes {args.schedule}   or   bookings events list --schedule {args.schedule}")


def cmd_events_list(ctx: Context) -> None:
    args = ctx.args
    tz = zone_arg(args.tz, "--tz") if args.tz else None
    window: dict[str, timestamp_pb2.Timestamp] = {}
    for option, key in (("from_", "from_date"), ("to", "to_date")):
        text = getattr(args, option)
        if text:
            flag = "--" + option.rstrip("_")
            local = local_arg(text, flag)
            if tz is None:
                if not args.schedule:
                    raise CliError(f"{flag}: give --tz (or --schedule) to say which time zone {text!r} is in")
                tz = ctx.schedule_zone(args.schedule[0])
            window[key] = timestamp(timeseries.resolve(local, tz, nonexistent="shift"))
    filters = {"schedule_ids": args.schedule or (), "include_cancelled": args.include_cancelled, **window}
    display = zone_arg(args.tz, "--tz") if args.tz else None
    if args.all:
        ctx.out.events(None, list(ctx.client.iter_events(page_size=args.limit or MAX_PAGE, **filters)), tz=display)
        return
    response = ctx.client.query_events(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    ctx.out.events(response, list(response.events), tz=display, next_cursor=paging.cursors.next if paging.has_next else "")


def cmd_events_get(ctx: Context) -> None:
    tz = zone_arg(ctx.args.tz, "--tz") if ctx.args.tz else None
    ctx.out.event(ctx.client.get_event(ctx.args.id), tz=tz)


def cmd_events_update(ctx: Context) -> None:
    args = ctx.args
    event = events_pb2.Event(id=args.id, revision=args.revision)
    paths: list[str] = []
    tz = zone_arg(args.time_zone, "--time-zone") if args.time_zone else None
    if args.start is not None or args.duration is not None:
        current = ctx.client.get_event(args.id).event
        start = instant(current.start)
        duration = timedelta(minutes=args.duration) if args.duration is not None else instant(current.end) - start
        if args.start is not None:
            local = local_arg(args.start, "--start")
            try:
                start = timeseries.resolve(local, tz or zone_arg(current.time_zone, "event time zone"))
            except timeseries.TimeSeriesError as exc:
                raise _time_error(exc) from None
            event.start.CopyFrom(timestamp(start))
            paths.append("start")
        event.end.CopyFrom(timestamp(start + duration))
        paths.append("end")
    if args.time_zone:
        event.time_zone = args.time_zone
        paths.append("time_zone")
    if args.capacity is not None:
        event.total_capacity = args.capacity
        paths.append("total_capacity")
    if args.title is not None:
        event.title = args.title
        paths.append("title")
    if not paths:
        raise CliError("nothing to update: give at least one of --start, --duration, --time-zone, --capacity, --title")
    ctx.out.event(ctx.client.update_event(event, paths), tz=tz, verb="Updated")


def cmd_events_cancel(ctx: Context) -> None:
    ctx.out.event(ctx.client.cancel_event(ctx.args.id, ctx.args.revision), verb="Cancelled")


# --- schedules and time frames ------------------------------------------------------------------------


def cmd_schedules_get(ctx: Context) -> None:
    ctx.out.schedule(ctx.client.get_schedule(ctx.args.id))


def cmd_timeframes(ctx: Context) -> None:
    args = ctx.args
    response = ctx.client.list_time_frames(args.ids)
    if ctx.out.as_json:
        ctx.out.json(response)
        return
    if args.tz:
        tz = zone_arg(args.tz, "--tz")
        zones = {sid: tz for sid in args.ids}
    else:
        zones = {sid: ctx.schedule_zone(sid) for sid in dict.fromkeys(args.ids)}
    ctx.out.time_frames(response, zones)


# --- availability -----------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
SlotsResponse = time_slots_pb2.ListCourseEventTimeSlotsResponse | time_slots_pb2.ListEventTimeSlotsResponse


def local_window(from_text: str, to_text: str) -> tuple[datetime, datetime]:
    """The naive local [from, to) of `--from`/`--to`. A bare date in `--to` includes that whole
    day (`--to 2026-12-31` ends at 2027-01-01 00:00), a date-time is the exclusive end."""
    start = local_arg(from_text, "--from")
    end = local_arg(to_text, "--to")
    if _DATE_ONLY.match(to_text):
        end += timedelta(days=1)
    if end <= start:
        raise CliError(f"--to: {to_text!r} must be after --from {from_text!r}")
    return start, end


def _slots_request(ctx: Context, request_class: Any) -> Any:
    args = ctx.args
    start, end = local_window(args.from_, args.to)
    if args.tz:
        zone_arg(args.tz, "--tz")
    request = request_class(
        service_ids=args.service or [],
        from_local_date=start.isoformat(timespec="seconds"),
        to_local_date=end.isoformat(timespec="seconds"),
        time_zone=args.tz or "",
        min_bookable_capacity=args.party or 0,
        cursor_paging=paging_pb2.CursorPaging(limit=args.limit or (MAX_PAGE if args.all else 0), cursor=args.cursor or ""),
    )
    if args.bookable_only:
        request.include_non_bookable = False
    return request


def _pages(fetch: Callable[[Any], SlotsResponse], request: Any, follow: bool) -> SlotsResponse:
    """One page, or with `follow` every page merged into one response of the same shape."""
    response = fetch(request)
    if not follow:
        return response
    merged = type(response)()
    merged.CopyFrom(response)
    while response.paging_metadata.has_next and response.paging_metadata.cursors.next:
        request.cursor_paging.cursor = response.paging_metadata.cursors.next
        response = fetch(request)
        merged.time_slots.extend(response.time_slots)
    merged.paging_metadata.CopyFrom(paging_pb2.PagingMetadata(count=len(merged.time_slots), cursors=paging_pb2.Cursors(), has_next=False))
    return merged


def _service_names(ctx: Context, kind: int, service_ids: Sequence[str]) -> dict[str, str]:
    """Names for the table titles; best effort (a failure leaves the ids alone, with a note)."""
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        return {}
    try:
        if len(ids) <= 10:
            return {i: ctx.client.get_service(i).service.name for i in ids}
        return {s.id: s.name for s in ctx.client.iter_services(types=[kind])}
    except CallError as err:
        ctx.out.error([f"note: names not shown ({err.method} on {err.service} at {err.address}: {err.code.name})"])
        return {}


def _window_text(args: argparse.Namespace) -> str:
    start, end = local_window(args.from_, args.to)
    return f"from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"


def _list_slots(ctx: Context, *, course: bool) -> None:
    args = ctx.args
    if course:
        request = _slots_request(ctx, time_slots_pb2.ListCourseEventTimeSlotsRequest)
        response = _pages(ctx.client.list_course_time_slots, request, args.all)
    else:
        request = _slots_request(ctx, time_slots_pb2.ListEventTimeSlotsRequest)
        response = _pages(ctx.client.list_event_time_slots, request, args.all)
    paging = response.paging_metadata
    names = {} if ctx.out.as_json else _service_names(ctx, services_pb2.COURSE if course else services_pb2.CLASS, [s.service_id for s in response.time_slots])
    ctx.out.time_slots(
        response,
        course=course,
        names=names,
        party=args.party or 0,
        now=datetime.now(UTC),
        window=_window_text(args),
        next_cursor=paging.cursors.next if paging.has_next else "",
    )


def cmd_availability_courses(ctx: Context) -> None:
    _list_slots(ctx, course=True)


def cmd_availability_classes(ctx: Context) -> None:
    _list_slots(ctx, course=False)


def cmd_availability_course(ctx: Context) -> None:
    args = ctx.args
    if args.tz:
        zone_arg(args.tz, "--tz")
    request = time_slots_pb2.GetCourseEventTimeSlotRequest(time_zone=args.tz or "", min_bookable_capacity=args.party or 0)
    if args.event:
        request.event_id = args.event
    else:
        request.schedule_id = args.schedule
    response = ctx.client.get_course_time_slot(request)
    names = {} if ctx.out.as_json else _service_names(ctx, services_pb2.COURSE, [response.course.service_id])
    ctx.out.course_availability(response, name=names.get(response.course.service_id, ""), party=args.party or 0, now=datetime.now(UTC))


# --- bookings -----------------------------------------------------------------------------------------


def _new_booking(args: argparse.Namespace) -> bookings_pb2.Booking:
    return bookings_pb2.Booking(
        service_id=args.service,
        number_of_participants=args.participants,
        contact=bookings_pb2.ContactDetails(name=args.name, email=args.email),
    )


def cmd_book_course(ctx: Context) -> None:
    args = ctx.args
    booking = _new_booking(args)
    # A course is booked whole, by its schedule: the service's own unless given.
    booking.booked_entity.schedule.schedule_id = args.schedule or ctx.client.get_service(args.service).service.schedule_id
    ctx.out.booking(ctx.client.create_booking(booking, args.idempotency_key or ""), verb="Booked course")


def cmd_book_class(ctx: Context) -> None:
    args = ctx.args
    booking = _new_booking(args)
    booking.booked_entity.slot.event_id = args.event
    ctx.out.booking(ctx.client.create_booking(booking, args.idempotency_key or ""), verb="Booked class")


def cmd_bookings_list(ctx: Context) -> None:
    args = ctx.args
    filters = {
        "service_ids": args.service or (),
        "schedule_ids": args.schedule or (),
        "event_ids": args.event or (),
        "statuses": [BOOKING_STATUSES[s] for s in dict.fromkeys(args.status or ())],
    }
    if args.all:
        ctx.out.bookings(None, list(ctx.client.iter_bookings(page_size=args.limit or MAX_PAGE, **filters)), "")
        return
    response = ctx.client.query_bookings(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    ctx.out.bookings(response, list(response.bookings), paging.cursors.next if paging.has_next else "")


def cmd_bookings_get(ctx: Context) -> None:
    ctx.out.booking(ctx.client.get_booking(ctx.args.id))


def _revision(ctx: Context) -> int:
    """--revision, or the booking's current one (read first; the change still fails with ABORTED
    if the booking changes between the read and the write)."""
    if ctx.args.revision:
        return int(ctx.args.revision)
    return int(ctx.client.get_booking(ctx.args.id).booking.revision)


def _change_booking(method: str, verb: str) -> Callable[[Context], None]:
    def handler(ctx: Context) -> None:
        ctx.out.booking(ctx.client.change_booking(method, ctx.args.id, _revision(ctx)), verb=verb)

    return handler


def cmd_bookings_participants(ctx: Context) -> None:
    args = ctx.args
    response = ctx.client.change_booking("UpdateNumberOfParticipants", args.id, _revision(ctx), number_of_participants=args.number)
    ctx.out.booking(response, verb="Updated")


# --- feature toggles ----------------------------------------------------------------------------------


def cmd_toggles_list(ctx: Context) -> None:
    ctx.out.toggles(ctx.toggles.all(), toggles.KNOWN_TOGGLES)


def cmd_toggles_set(ctx: Context) -> None:
    args = ctx.args
    name = toggles.check_name(args.name)
    change = toggles.Edit(
        percentage=args.percentage,
        allow=tuple(args.allow or ()),
        deny=tuple(args.deny or ()),
        remove=tuple(args.remove or ()),
        clear_allow=args.clear_allow,
        clear_deny=args.clear_deny,
    )
    change.validate()
    before, after, written = ctx.toggles.update(name, lambda rule: toggles.edit(rule, change))
    ctx.out.toggle_change(name, before, after, written, toggles.changes(before.rule, after) if written else [])


def cmd_toggles_check(ctx: Context) -> None:
    name = toggles.check_name(ctx.args.name)
    stored = ctx.toggles.get(name)
    if stored.problem:
        ctx.out.error([f"note: the stored rule of {name} is {stored.problem}"])
    ctx.out.toggle_check(toggles.explain(name, ctx.args.tenant, stored.rule))


# --- parser -----------------------------------------------------------------------------------------


def _add_globals(parser: argparse.ArgumentParser, env: Mapping[str, str] | None) -> None:
    """The global options, on the top-level parser (with defaults from `env`) and on every
    command (env=None: no defaults, so `bookings services list --json` works too)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if env is None else value

    def timeout(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive")
        return value

    e = env or {}
    group = parser.add_argument_group("global options")
    group.add_argument("--token", default=default(e.get("BOOKINGS_TOKEN")), help="bearer JWT (env BOOKINGS_TOKEN)")
    group.add_argument(
        "--tenant",
        default=default(e.get("BOOKINGS_TENANT") or DEFAULT_TENANT),
        help="tenant of a dev token minted from AUTH_JWT_SECRET when no token is given (env BOOKINGS_TENANT, default demo)",
    )
    group.add_argument(
        "--bookings-address",
        default=default(e.get("BOOKINGS_ADDRESS") or DEFAULT_BOOKINGS_ADDRESS),
        help=f"env BOOKINGS_ADDRESS, default {DEFAULT_BOOKINGS_ADDRESS}",
    )
    group.add_argument(
        "--timeframes-address",
        default=default(e.get("TIMEFRAMES_ADDRESS") or DEFAULT_TIMEFRAMES_ADDRESS),
        help=f"env TIMEFRAMES_ADDRESS, default {DEFAULT_TIMEFRAMES_ADDRESS}",
    )
    group.add_argument(
        "--availability-address",
        default=default(e.get("AVAILABILITY_ADDRESS") or DEFAULT_AVAILABILITY_ADDRESS),
        help=f"env AVAILABILITY_ADDRESS, default {DEFAULT_AVAILABILITY_ADDRESS}",
    )
    group.add_argument(
        "--redis-url",
        default=default(e.get("REDIS_URL") or toggles.DEFAULT_REDIS_URL),
        help=f"Redis holding the feature toggles (env REDIS_URL, default {toggles.DEFAULT_REDIS_URL}, the one of `make run`)",
    )
    group.add_argument("--timeout", type=timeout, default=default(e.get("BOOKINGS_TIMEOUT") or "5"), help="seconds per call (env BOOKINGS_TIMEOUT, default 5)")
    group.add_argument("--json", dest="as_json", action="store_true", default=default(False), help="print the RPC response as JSON")


def _policy_flags(parser: argparse.ArgumentParser, *, update: bool) -> None:
    off = " ('off' removes the limit)" if update else ""
    group = parser.add_argument_group("booking policy")
    group.add_argument("--early-minutes", type=_minutes_or_off, metavar="N", help=f"booking opens N minutes before the start{off}")
    group.add_argument("--late-minutes", type=_minutes_or_off, metavar="N", help=f"booking closes N minutes before the start{off}")
    group.add_argument("--book-after-start", action=argparse.BooleanOptionalAction, default=None, help="courses: allow booking after the first session started")
    group.add_argument("--max-per-booking", type=positive_int, metavar="N", help="participants per booking (default 1)")
    group.add_argument("--cancel-minutes", type=_minutes_or_off, metavar="N", help=f"cancellation allowed until N minutes before the start{off}")


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookings", description="Manage services, schedules and sessions of the bookings platform.")
    _add_globals(parser, env)
    common = argparse.ArgumentParser(add_help=False)
    _add_globals(common, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def leaf(group: argparse._SubParsersAction, name: str, handler: Callable[[Context], None], help_text: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
        sub = group.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    p = leaf(commands, "token", cmd_token, "print a dev HS256 token (all non-internal scopes by default)")
    p.add_argument("--scopes", nargs="+", metavar="SCOPE", help=f"scopes to grant (default: {' '.join(DEFAULT_SCOPES)})")
    p.add_argument("--ttl", type=positive_int, default=3600, help="lifetime in seconds (default 3600)")
    p.add_argument("--secret", help="HS256 secret (default env AUTH_JWT_SECRET)")

    services = commands.add_parser("services", help="the catalog: courses, classes, appointments").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = leaf(services, "create", cmd_services_create, "create a service (a course or class also gets its schedule)")
    p.add_argument("--type", required=True, choices=list(SERVICE_TYPES))
    p.add_argument("--name", required=True)
    p.add_argument("--capacity", type=positive_int, help="participants per session (courses and classes)")
    p.add_argument("--time-zone", required=True, help="IANA zone of the business, e.g. Europe/Vienna")
    p.add_argument("--online-booking", action=argparse.BooleanOptionalAction, default=None, help="bookable online (default yes)")
    p.add_argument("--manual-approval", action="store_true", default=None, help="bookings start PENDING until confirmed")
    p.add_argument("--strict-capacity", action="store_true", default=None, help="classes and courses: refuse a booking rather than overbook, even in a rush")
    _policy_flags(p, update=False)

    p = leaf(services, "list", cmd_services_list, "list services (oldest first)")
    p.add_argument("--type", action="append", choices=list(SERVICE_TYPES), help="only this type (repeatable)")
    p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
    p.add_argument("--cursor", help="continue from a previous page")
    p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(services, "get", cmd_services_get, "show a service")
    p.add_argument("id")

    p = leaf(services, "update", cmd_services_update, "change the fields given (the others keep their value)")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True, help="the current revision (optimistic concurrency)")
    p.add_argument("--name")
    p.add_argument("--capacity", type=positive_int)
    p.add_argument("--time-zone")
    p.add_argument("--online-booking", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--manual-approval", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--strict-capacity", action=argparse.BooleanOptionalAction, default=None, help="refuse rather than overbook (classes and courses)")
    _policy_flags(p, update=True)

    p = leaf(services, "delete", cmd_services_delete, "delete a service")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, help="only delete at this revision")

    p = leaf(services, "policies", cmd_services_policies, "show the booking policies of services")
    p.add_argument("ids", nargs="+", metavar="ID")

    events = commands.add_parser("events", help="sessions of a schedule").add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, handler, help_text in (
        ("create", cmd_events_create, "create one session"),
        ("bulk-create", cmd_events_bulk_create, "create a series of sessions at the same local time"),
    ):
        p = leaf(events, name, handler, help_text)
        p.add_argument("--schedule", required=True, metavar="ID")
        p.add_argument("--start", required=True, metavar="LOCAL", help="local date-time, e.g. 2026-12-01T10:00")
        p.add_argument("--duration", type=positive_int, required=True, metavar="MINUTES")
        p.add_argument("--time-zone", help="zone of --start (default: the schedule's)")
        p.add_argument("--capacity", type=positive_int, help="default: the schedule's")
        p.add_argument("--title")
        if name == "bulk-create":
            p.add_argument("--count", type=positive_int, required=True, help=f"number of sessions (1..{timeseries.MAX_SERIES})")
            p.add_argument(
                "--every",
                type=_interval,
                default=timeseries.Interval(7, "d"),
                help="7d / 1w (weekly), 1d (daily): same local time; 2h, 30m: elapsed time (default 7d)",
            )

    p = leaf(events, "list", cmd_events_list, "list sessions sorted by start")
    p.add_argument("--schedule", action="append", metavar="ID", help="repeatable")
    p.add_argument("--from", dest="from_", metavar="LOCAL", help="sessions starting at or after (local date or date-time)")
    p.add_argument("--to", metavar="LOCAL", help="sessions starting before (local date or date-time)")
    p.add_argument("--include-cancelled", action="store_true")
    p.add_argument("--tz", help="zone for --from/--to and the table (default: the schedule's / each event's)")
    p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
    p.add_argument("--cursor")
    p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(events, "get", cmd_events_get, "show a session")
    p.add_argument("id")
    p.add_argument("--tz", help="show times in this zone (default: the event's)")

    p = leaf(events, "update", cmd_events_update, "move, resize or retitle a session")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True)
    p.add_argument("--start", metavar="LOCAL", help="new local start (in --time-zone or the event's zone); keeps the duration")
    p.add_argument("--duration", type=positive_int, metavar="MINUTES")
    p.add_argument("--time-zone", help="the event's display zone (and the zone of --start); the instants stay unless --start is given")
    p.add_argument("--capacity", type=positive_int)
    p.add_argument("--title")

    p = leaf(events, "cancel", cmd_events_cancel, "cancel a session")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True)

    schedules = commands.add_parser("schedules", help="calendar schedules").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(schedules, "get", cmd_schedules_get, "show a schedule")
    p.add_argument("id")

    p = leaf(commands, "timeframes", cmd_timeframes, "first start, last end and number of sessions of schedules")
    p.add_argument("ids", nargs="+", metavar="SCHEDULE_ID")
    p.add_argument("--tz", help="show times in this zone (default: each schedule's)")

    availability = commands.add_parser("availability", help="what can be booked: sessions, open spots and why not").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for name, handler, help_text, kind in (
        ("courses", cmd_availability_courses, "sessions of courses, one table per course (ListCourseEventTimeSlots)", "COURSE"),
        ("classes", cmd_availability_classes, "sessions of classes, one table per class (ListEventTimeSlots)", "CLASS"),
    ):
        p = leaf(availability, name, handler, help_text)
        p.add_argument("--from", dest="from_", required=True, metavar="LOCAL", help="sessions starting at or after (local date or date-time)")
        p.add_argument("--to", required=True, metavar="LOCAL", help="sessions starting before a date-time, or up to the end of a date (inclusive)")
        p.add_argument("--tz", help="zone of --from/--to and of the times shown (default: the business time zone)")
        p.add_argument("--service", action="extend", nargs="+", metavar="ID", help=f"only these {kind} services (repeatable; default: all)")
        p.add_argument("--bookable-only", action="store_true", help="hide sessions that cannot be booked")
        p.add_argument("--party", type=positive_int, metavar="N", help="party size: fewer open spots make a session not bookable (default 1)")
        p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
        p.add_argument("--cursor", help="continue from a previous page")
        p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(availability, "course", cmd_availability_course, "one course as booking sees it: bookable, why not, spots, sessions, booking window")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--schedule", metavar="ID", help="the course's schedule")
    which.add_argument("--event", metavar="ID", help="a session of the course (also shows that session)")
    p.add_argument("--tz", help="show times in this zone (default: the business time zone)")
    p.add_argument("--party", type=positive_int, metavar="N", help="party size (default 1)")

    # Bookings: errors name their reason on the first line ("FAILED_PRECONDITION TOO_LATE_TO_BOOK: ...").
    book = commands.add_parser("book", help="book a course (whole) or a class session").add_subparsers(dest="action", required=True, metavar="WHAT")
    for name, handler, help_text in (
        ("course", cmd_book_course, "book a whole course (all its sessions)"),
        ("class", cmd_book_class, "book one session of a class"),
    ):
        p = leaf(book, name, handler, help_text)
        p.set_defaults(inline_reason=True)
        p.add_argument("--service", required=True, metavar="ID", help=f"the {name.upper()} service")
        if name == "course":
            p.add_argument("--schedule", metavar="ID", help="the course's schedule (default: the service's)")
        else:
            p.add_argument("--event", required=True, metavar="ID", help="the session to book")
        p.add_argument("--name", required=True, help="contact name")
        p.add_argument("--email", required=True, help="contact email")
        p.add_argument("--participants", type=positive_int, default=1, metavar="N", help="party size (default 1)")
        p.add_argument("--idempotency-key", metavar="KEY", help="repeat a request safely: the same key never books twice")

    bookings = commands.add_parser("bookings", help="bookings: list, show, confirm, decline, cancel, resize").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = leaf(bookings, "list", cmd_bookings_list, "list bookings (oldest first)")
    p.set_defaults(inline_reason=True)
    p.add_argument("--service", action="append", metavar="ID", help="repeatable")
    p.add_argument("--schedule", action="append", metavar="ID", help="course bookings of this schedule (repeatable)")
    p.add_argument("--event", action="append", metavar="ID", help="class bookings of this session (repeatable)")
    p.add_argument("--status", action="append", type=str.lower, choices=list(BOOKING_STATUSES), help="repeatable")
    p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
    p.add_argument("--cursor", help="continue from a previous page")
    p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(bookings, "get", cmd_bookings_get, "show a booking")
    p.set_defaults(inline_reason=True)
    p.add_argument("id")
    for name, method, verb, help_text in (
        ("confirm", "ConfirmBooking", "Confirmed", "confirm a PENDING booking"),
        ("decline", "DeclineBooking", "Declined", "decline a PENDING booking"),
        ("cancel", "CancelBooking", "Canceled", "cancel a booking (within the service's cancellation policy)"),
    ):
        p = leaf(bookings, name, _change_booking(method, verb), help_text)
        p.set_defaults(inline_reason=True)
        p.add_argument("id")
        p.add_argument("--revision", type=positive_int, help="only at this revision (default: the current one)")
    p = leaf(bookings, "participants", cmd_bookings_participants, "change the party size of a booking")
    p.set_defaults(inline_reason=True)
    p.add_argument("id")
    p.add_argument("number", type=positive_int, metavar="N", help="the new number of participants")
    p.add_argument("--revision", type=positive_int, help="only at this revision (default: the current one)")

    known = ", ".join(toggles.KNOWN_TOGGLES)
    toggle_help = "feature toggles in Redis (--redis-url); changes take effect within a second, no restart"
    feature_toggles = commands.add_parser("toggles", help=toggle_help, description=f"{toggle_help}. Known toggles: {known}.").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    leaf(feature_toggles, "list", cmd_toggles_list, "every toggle: percentage, allow and deny lists")

    p = leaf(
        feature_toggles,
        "set",
        cmd_toggles_set,
        f"change a toggle and print what changed (old → new); it {toggles.TAKES_EFFECT}. A tenant is on when allowed, "
        "or not denied and its bucket (0..99) is below the percentage",
    )
    p.add_argument("name", metavar="NAME", help=f"one of: {known}")
    p.add_argument("--percentage", type=_percentage, metavar="P", help="0..100: tenants whose bucket is below P are on (raising it only adds tenants)")
    p.add_argument("--allow", action="extend", nargs="+", metavar="TENANT", help="always on for these tenants (takes them off the deny list)")
    p.add_argument("--deny", action="extend", nargs="+", metavar="TENANT", help="always off for these tenants (takes them off the allow list)")
    p.add_argument("--remove", action="extend", nargs="+", metavar="TENANT", help="off both lists: these tenants follow the percentage again")
    p.add_argument("--clear-allow", action="store_true", help="empty the allow list first (then --allow adds)")
    p.add_argument("--clear-deny", action="store_true", help="empty the deny list first (then --deny adds)")

    p = leaf(feature_toggles, "check", cmd_toggles_check, "is a toggle on for a tenant (--tenant, default BOOKINGS_TENANT or demo), and why")
    p.add_argument("name", metavar="NAME", help=f"one of: {known}")

    dlq.add_commands(commands, leaf, env)  # dead letters: services/cli/dlq.py
    watch.add_commands(commands, leaf)  # live views: services/cli/watch.py
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    parser = build_parser(env)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    ctx = Context(args=args, env=env, out=render.Renderer(as_json=args.as_json))
    try:
        args.handler(ctx)
        return 0
    except CallError as err:
        ctx.out.error(render.call_error_lines(err, inline_reason=getattr(args, "inline_reason", False)))
    except (CliError, timeseries.TimeSeriesError, toggles.ToggleError, dlq.DlqError) as exc:
        ctx.out.error([f"error: {exc}"])
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `bookings events list | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        ctx.close()
    return 1


if __name__ == "__main__":
    sys.exit(main())
