"""`bookings availability ...`: what can be booked, with open spots and why not, and how it is
shown (`show_time_slots`, `show_course_availability`, `show_appointment_slots`,
`show_appointment_dates`; the phrases are in `slots.py`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointment_pb2
from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.common.v1 import paging_pb2
from services.cli import slots
from services.cli.arguments import Leaf, local_date, positive_int
from services.cli.client import MAX_PAGE, CallError
from services.cli.context import CliError, Context, local_arg, zone_arg
from services.cli.render import Renderer, local_time, zone_or_utc

_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
SlotsResponse = time_slots_pb2.ListCourseEventTimeSlotsResponse | time_slots_pb2.ListEventTimeSlotsResponse | appointment_pb2.ListAvailabilityTimeSlotsResponse


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
    show_time_slots(
        ctx.out,
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
    show_course_availability(ctx.out, response, name=names.get(response.course.service_id, ""), party=args.party or 0, now=datetime.now(UTC))


def cmd_availability_slots(ctx: Context) -> None:
    args = ctx.args
    start, end = local_window(args.from_, args.to)
    if args.tz:
        zone_arg(args.tz, "--time-zone")
    request = appointment_pb2.ListAvailabilityTimeSlotsRequest(
        service_id=args.service,
        from_local_date=start.isoformat(timespec="seconds"),
        to_local_date=end.isoformat(timespec="seconds"),
        time_zone=args.tz or "",
        staff_member_ids=args.staff or [],
        include_non_bookable=args.all,
        cursor_paging=paging_pb2.CursorPaging(limit=MAX_PAGE),
    )
    # The window is at most 31 days, so every page is fetched: a person wants the whole window.
    response = _pages(ctx.client.list_availability_time_slots, request, True)
    if ctx.out.as_json:
        return ctx.out.json(response)
    names = _service_names(ctx, services_pb2.APPOINTMENT, [args.service])
    show_appointment_slots(
        ctx.out,
        response,  # type: ignore[arg-type]
        name=names.get(args.service, ""),
        staff=_staff_names(ctx, args.service),
        now=datetime.now(UTC),
        window=_window_text(args),
        book=f"bookings book appointment --service {args.service}" + (f" --time-zone {args.tz}" if args.tz else ""),
    )


def cmd_availability_dates(ctx: Context) -> None:
    args = ctx.args
    if args.to < args.from_:
        raise CliError(f"--to: {args.to} is before --from {args.from_}")
    if args.tz:
        zone_arg(args.tz, "--time-zone")
    request = appointment_pb2.ListAvailabilityDatesRequest(
        service_id=args.service,
        from_local_date=args.from_.isoformat(),
        to_local_date=args.to.isoformat(),
        time_zone=args.tz or "",
        staff_member_ids=args.staff or [],
    )
    response = ctx.client.list_availability_dates(request)
    names = {} if ctx.out.as_json else _service_names(ctx, services_pb2.APPOINTMENT, [args.service])
    show_appointment_dates(ctx.out, response, service_id=args.service, name=names.get(args.service, ""))


def _staff_names(ctx: Context, service_id: str) -> dict[str, str]:
    """Names of the service's staff for the table; best effort, as `_service_names`."""
    try:
        return {m.id: m.name for m in ctx.client.iter_staff_members(service_ids=[service_id])}
    except CallError as err:
        ctx.out.error([f"note: staff names not shown ({err.method} on {err.service} at {err.address}: {err.code.name})"])
        return {}


# --- output -------------------------------------------------------------------------------------------


def show_time_slots(
    out: Renderer,
    response: SlotsResponse,
    *,
    course: bool,
    names: dict[str, str],
    party: int,
    now: datetime,
    window: str,
    next_cursor: str = "",
) -> None:
    """One table per course (or class), titled with its name and, for a course, its single
    decision; a row per session with its local time in the response's zone."""
    if out.as_json:
        return out.json(response)
    zone = zone_or_utc(response.time_zone)
    kind = "course" if course else "class"
    groups: dict[str, list[Any]] = {}
    for slot in response.time_slots:
        groups.setdefault(slot.service_id, []).append(slot)
    if not groups:
        out.line(f"No {kind} sessions {window} (times in {zone.key})")
    for service_id, items in groups.items():
        title = Text(f"{names[service_id]} · " if service_id in names else "", style="bold")
        title.append(f"{kind} {service_id}", style="bold")
        if course:
            title.append(" · " + _course_decision(items[0], zone, now, party), style="bold")
        table = Table(title=title, caption=f"times in {zone.key}", title_justify="left", caption_justify="left")
        headers = ["session", "local time", "spots"] + (["sessions left"] if course else []) + ["bookable", "why not"]
        for header in headers:
            table.add_column(header, no_wrap=header != "why not", justify="right" if header in ("spots", "sessions left") else "left")
        for slot in items:
            why = slots.why_not(
                slot.booking_policy_violations,
                slot.non_bookable_reasons,
                zone=zone,
                now=now,
                party=party,
                remaining=slot.remaining_capacity,
                sessions_left=slot.remaining_sessions if course else None,
                course=course,
            )
            cells = [
                Text(slot.event_id),
                Text(slots.local_span(slot.local_start_date, slot.local_end_date, zone)),
                Text(slots.spots(slot.remaining_capacity, slot.total_capacity), style="red" if slot.remaining_capacity <= 0 else ""),
            ]
            if course:
                cells.append(Text(slots.sessions_left(slot.remaining_sessions, slot.total_sessions)))
            cells += [Text(slots.yes_no(slot.bookable), style="green" if slot.bookable else "red"), Text(slots.why_not_text(slot.bookable, why))]
            table.add_row(*cells)
        out.console.print(table)
    out.more(next_cursor)


def _course_decision(slot: time_slots_pb2.CourseEventTimeSlot, zone: ZoneInfo, now: datetime, party: int) -> str:
    """The course's decision, which every slot repeats (without the session's own state)."""
    reasons = time_slots_pb2.NonBookableReasons()
    reasons.CopyFrom(slot.non_bookable_reasons)
    reasons.event_cancelled = reasons.event_started = False
    if not (reasons.no_remaining_capacity or reasons.violates_booking_policy):
        return "bookable"
    why = slots.why_not(slot.booking_policy_violations, reasons, zone=zone, now=now, party=party, sessions_left=slot.remaining_sessions)
    return "not bookable: " + slots.why_not_text(False, why)


def show_course_availability(out: Renderer, response: time_slots_pb2.GetCourseEventTimeSlotResponse, *, name: str, party: int, now: datetime) -> None:
    """The course as booking sees it, and with `--event` that session too."""
    if out.as_json:
        return out.json(response)
    c = response.course
    zone = zone_or_utc(response.time_zone)
    first = slots.instant_of(c, "first_event_start_date")
    last = slots.instant_of(c, "last_event_end_date")
    why = slots.why_not(
        c.booking_policy_violations,
        c.non_bookable_reasons,
        zone=zone,
        now=now,
        party=party,
        remaining=c.open_spots,
        sessions_left=c.remaining_sessions,
        course=False,
    )
    rows = [
        ("course", f"{name} ({c.service_id})" if name else c.service_id),
        ("schedule id", c.schedule_id),
        ("bookable", slots.yes_no(c.bookable)),
        ("why not", slots.why_not_text(c.bookable, why)),
        ("open spots", slots.spots(c.open_spots, c.total_capacity)),
        ("sessions left", slots.sessions_left(c.remaining_sessions, c.total_sessions)),
        ("first session", local_time(first, zone) if first else "-"),
        ("last session ends", local_time(last, zone) if last else "-"),
        ("booking window", slots.booking_window(c.booking_policy_violations, zone, now, first)),
        ("time zone", zone.key),
    ]
    if response.HasField("time_slot"):
        s = response.time_slot
        session_why = slots.why_not(
            s.booking_policy_violations,
            s.non_bookable_reasons,
            zone=zone,
            now=now,
            party=party,
            remaining=s.remaining_capacity,
            sessions_left=s.remaining_sessions,
        )
        rows += [
            ("session", s.event_id),
            ("session time", slots.local_span(s.local_start_date, s.local_end_date, zone)),
            ("session spots", slots.spots(s.remaining_capacity, s.total_capacity)),
            ("session bookable", slots.yes_no(s.bookable)),
            ("session why not", slots.why_not_text(s.bookable, session_why)),
        ]
    out.fields(f"Course availability{f' · {name}' if name else ''}", rows)


def _service_heading(out: Renderer, service_id: str, name: str, tail: str = "") -> None:
    """`Consultation · appointment <id>`: a line of its own, since a table title wraps to the
    table's width and these tables are narrow."""
    out.line((f"{name} · " if name else "") + f"appointment {service_id}{tail}", style="bold")


def show_appointment_slots(
    out: Renderer,
    response: appointment_pb2.ListAvailabilityTimeSlotsResponse,
    *,
    name: str,
    staff: dict[str, str],
    now: datetime,
    window: str,
    book: str,
) -> None:
    """The slots of one appointment service, a row per slot with its local time in the response's
    zone, the staff members free for it (by name when known, alphabetically) and, when it is not
    bookable, why."""
    if out.as_json:
        return out.json(response)
    zone = zone_or_utc(response.time_zone)
    items = list(response.time_slots)
    if not items:
        return out.line(f"No slots {window} (times in {zone.key})")
    _service_heading(out, items[0].service_id, name)
    table = Table(caption=f"times in {zone.key}", caption_justify="left")
    for header in ("time", "bookable", "available staff", "why not"):
        table.add_column(header, no_wrap=header in ("time", "bookable"))
    for slot in items:
        free = ", ".join(sorted(staff.get(i, i) for i in slot.available_staff_member_ids)) or slots.NO
        why = slots.appointment_why_not(slot, zone=zone, now=now)
        table.add_row(
            Text(slots.local_span(slot.local_start_date, slot.local_end_date, zone)),
            Text(slots.yes_no(slot.bookable), style="green" if slot.bookable else "red"),
            Text(free),
            Text(slots.why_not_text(slot.bookable, why)),
        )
    out.console.print(table)
    first = next((s for s in items if s.bookable), None)
    if first is not None:
        out.hint(f"Book: {book} --start {first.local_start_date[:16]} --name NAME --email EMAIL [--staff ID]")


def show_appointment_dates(out: Renderer, response: appointment_pb2.ListAvailabilityDatesResponse, *, service_id: str, name: str) -> None:
    """The month view: a row per local date with its bookable slots or why there is none, then the
    next date with a bookable slot."""
    if out.as_json:
        return out.json(response)
    zone = zone_or_utc(response.time_zone)
    _service_heading(out, service_id, name, " · dates")
    table = Table(caption=f"dates in {zone.key}", caption_justify="left")
    for header in ("date", "bookable slots", "why none"):
        table.add_column(header, no_wrap=True, justify="right" if header == "bookable slots" else "left")
    for d in response.dates:
        table.add_row(
            Text(_weekday_date(d.local_date)),
            Text(str(d.bookable_slots), style="green" if d.bookable_slots else "red"),
            Text(slots.NO if d.bookable_slots else slots.date_reason(d.unavailable_reason)),
        )
    out.console.print(table)
    if response.next_available_date:
        out.line(f"Next available date: {_weekday_date(response.next_available_date)}")
    else:
        out.line("No available date ahead (searched up to the booking horizon, at most 366 days)")


def _weekday_date(text: str) -> str:
    """`Tue 2026-12-08`; unreadable text as it came."""
    try:
        return f"{date.fromisoformat(text):%a %Y-%m-%d}"
    except ValueError:
        return text


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings availability courses|classes|course|slots|dates`."""
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

    # Appointments: --all adds the slots that cannot be booked (the day view), as include_non_bookable.
    p = leaf(availability, "slots", cmd_availability_slots, "slots of an APPOINTMENT service: local time, bookable, free staff and why not")
    p.add_argument("--service", required=True, metavar="ID", help="the APPOINTMENT service")
    p.add_argument("--from", dest="from_", required=True, metavar="LOCAL", help="slots starting at or after (local date or date-time)")
    p.add_argument("--to", required=True, metavar="LOCAL", help="slots starting before a date-time, or up to the end of a date (at most 31 days)")
    p.add_argument("--staff", action="extend", nargs="+", metavar="ID", help="only these staff members (repeatable; default: all of the service)")
    p.add_argument("--all", action="store_true", help="also the slots that cannot be booked, with why")
    p.add_argument("--time-zone", "--tz", dest="tz", help="zone of --from/--to and of the times shown (default: the service's)")

    p = leaf(availability, "dates", cmd_availability_dates, "the month view of an APPOINTMENT service: bookable slots per date, or why none")
    p.add_argument("--service", required=True, metavar="ID", help="the APPOINTMENT service")
    p.add_argument("--from", dest="from_", required=True, type=local_date, metavar="YYYY-MM-DD", help="first date")
    p.add_argument("--to", required=True, type=local_date, metavar="YYYY-MM-DD", help="last date, inclusive (at most 62 days)")
    p.add_argument("--staff", action="extend", nargs="+", metavar="ID", help="only these staff members (repeatable; default: all of the service)")
    p.add_argument("--time-zone", "--tz", dest="tz", help="zone the dates are read in (default: the service's)")
