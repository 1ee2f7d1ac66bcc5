"""`bookings book ...` and `bookings bookings ...`: booking a course, a class session or an appointment, and
managing bookings, and how they are shown (`show_booking`, `show_bookings`, `booked_entity`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.v2 import bookings_pb2
from services.cli.arguments import Leaf, positive_int
from services.cli.client import MAX_PAGE, CallError, instant, timestamp
from services.cli.context import CliError, Context, local_arg, local_instant, zone_arg
from services.cli.render import Renderer, enum_name, local_span, to_dict, utc_time, zone_or_utc

BOOKING_STATUSES = {"pending": bookings_pb2.PENDING, "confirmed": bookings_pb2.CONFIRMED, "declined": bookings_pb2.DECLINED, "canceled": bookings_pb2.CANCELED}


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
    show_booking(ctx.out, ctx.client.create_booking(booking, args.idempotency_key or ""), verb="Booked course")


def cmd_book_class(ctx: Context) -> None:
    args = ctx.args
    booking = _new_booking(args)
    booking.booked_entity.slot.event_id = args.event
    show_booking(ctx.out, ctx.client.create_booking(booking, args.idempotency_key or ""), verb="Booked class")


def cmd_book_appointment(ctx: Context) -> None:
    args = ctx.args
    local = local_arg(args.start, "--start")
    zone = zone_arg(args.time_zone, "--time-zone") if args.time_zone else None
    service = ctx.client.get_service(args.service).service
    if service.type != services_pb2.APPOINTMENT:
        raise CliError(f"--service: {service.id} is a {enum_name(service, 'type')} service; `book appointment` books APPOINTMENT services")
    zone = zone or zone_arg(service.time_zone, f"service {service.id} time zone")
    start = local_instant(local, zone, "--start")
    booking = bookings_pb2.Booking(
        service_id=service.id,
        number_of_participants=1,  # an appointment is exclusive: one client
        contact=bookings_pb2.ContactDetails(name=args.name, email=args.email),
    )
    slot = booking.booked_entity.slot
    slot.start_date.CopyFrom(timestamp(start))
    # The slot's end is the start plus the service's duration in elapsed minutes, as availability lays out its grid.
    slot.end_date.CopyFrom(timestamp(start + timedelta(minutes=service.appointment.duration_minutes)))
    slot.staff_member_id = args.staff or ""  # empty: round robin among the free staff
    response = ctx.client.create_booking(booking, args.idempotency_key or "")
    if ctx.out.as_json:
        return ctx.out.json(response)
    show_booking(ctx.out, response, verb="Booked appointment", appointment=_appointment_view(ctx, response.booking, zone))


def cmd_bookings_list(ctx: Context) -> None:
    args = ctx.args
    filters = {
        "service_ids": args.service or (),
        "schedule_ids": args.schedule or (),
        "event_ids": args.event or (),
        "staff_member_ids": args.staff or (),
        "statuses": [BOOKING_STATUSES[s] for s in dict.fromkeys(args.status or ())],
    }
    if args.all:
        show_bookings(ctx.out, None, list(ctx.client.iter_bookings(page_size=args.limit or MAX_PAGE, **filters)), "")
        return
    response = ctx.client.query_bookings(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    show_bookings(ctx.out, response, list(response.bookings), paging.cursors.next if paging.has_next else "")


def cmd_bookings_get(ctx: Context) -> None:
    response = ctx.client.get_booking(ctx.args.id)
    appointment = None if ctx.out.as_json or not is_appointment(response.booking) else _appointment_view(ctx, response.booking, None)
    show_booking(ctx.out, response, appointment=appointment)


def _revision(ctx: Context) -> int:
    """--revision, or the booking's current one (read first; the change still fails with ABORTED
    if the booking changes between the read and the write)."""
    if ctx.args.revision:
        return int(ctx.args.revision)
    return int(ctx.client.get_booking(ctx.args.id).booking.revision)


def _change_booking(method: str, verb: str) -> Callable[[Context], None]:
    def handler(ctx: Context) -> None:
        show_booking(ctx.out, ctx.client.change_booking(method, ctx.args.id, _revision(ctx)), verb=verb)

    return handler


def cmd_bookings_participants(ctx: Context) -> None:
    args = ctx.args
    response = ctx.client.change_booking("UpdateNumberOfParticipants", args.id, _revision(ctx), number_of_participants=args.number)
    show_booking(ctx.out, response, verb="Updated")


@dataclass(frozen=True)
class AppointmentView:
    """What shows an appointment booking to a person: the zone of its times and its staff member's name."""

    zone: ZoneInfo
    staff_name: str = ""


def _appointment_view(ctx: Context, b: bookings_pb2.Booking, zone: ZoneInfo | None) -> AppointmentView:
    """The zone given, else the service's, and the staff member's name; best effort (a failed
    read leaves UTC or the id, with a note), since the booking itself has been read or made."""
    try:
        if zone is None:
            zone = zone_or_utc(ctx.client.get_service(b.service_id).service.time_zone)
        return AppointmentView(zone, ctx.client.get_staff_member(b.booked_entity.slot.staff_member_id).staff_member.name)
    except CallError as err:
        ctx.out.error([f"note: not all details shown ({err.method} on {err.service} at {err.address}: {err.code.name})"])
        return AppointmentView(zone or ZoneInfo("UTC"))


# --- output -------------------------------------------------------------------------------------------


def is_appointment(b: bookings_pb2.Booking) -> bool:
    """An APPOINTMENT booking names its time, a CLASS booking its event."""
    return b.booked_entity.WhichOneof("item") == "slot" and not b.booked_entity.slot.event_id


def booked_entity(b: bookings_pb2.Booking) -> str:
    """What a booking is for, in words: `course schedule <id>`, `class event <id>` or
    `appointment 2026-12-08 09:00–09:30 UTC` (its staff member: `bookings list --staff`, `get`)."""
    if b.booked_entity.WhichOneof("item") == "schedule":
        return f"course schedule {b.booked_entity.schedule.schedule_id}"
    slot = b.booked_entity.slot
    if is_appointment(b):
        start, end = instant(slot.start_date), instant(slot.end_date)
        tail = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        return f"appointment {start:%Y-%m-%d %H:%M}–{tail} UTC"
    return f"class event {slot.event_id}"


def _participants(n: int) -> str:
    return f"{n} participant{'s' if n != 1 else ''}"


def show_booking(out: Renderer, response: Message, *, verb: str = "", appointment: AppointmentView | None = None) -> None:
    """A response holding one `booking`; with `verb` (Booked course, Confirmed, ...) the outcome
    and its id first. An appointment shows its time (in `appointment.zone`, else UTC) and its
    staff member. A PENDING booking ends with how to confirm or decline it."""
    if out.as_json:
        return out.json(response)
    b: bookings_pb2.Booking = response.booking  # type: ignore[attr-defined]
    if is_appointment(b):
        view = appointment or AppointmentView(ZoneInfo("UTC"))
        slot = b.booked_entity.slot
        start, end = instant(slot.start_date), instant(slot.end_date)
        staff = f"{view.staff_name} ({slot.staff_member_id})" if view.staff_name else slot.staff_member_id
        when = local_span(start, end, view.zone)
        booked = [("booked", "appointment"), ("time", when), ("staff member", staff)]
        outcome = f"{when} with {view.staff_name or slot.staff_member_id}"
    else:
        booked = [("booked", booked_entity(b))]
        outcome = _participants(b.number_of_participants)
    if verb:
        out.line(f"{verb}: {outcome}, {enum_name(b, 'status')}", style="bold")
        out.id_line("booking id", b.id)
    rows = [
        ("id", b.id),
        ("service id", b.service_id),
        *booked,
        ("participants", str(b.number_of_participants)),
        ("contact", f"{b.contact.name} <{b.contact.email}>"),
        ("status", enum_name(b, "status")),
        ("revision", str(b.revision)),
        ("created", utc_time(b.created_date) if b.HasField("created_date") else "-"),
        ("updated", utc_time(b.updated_date) if b.HasField("updated_date") else "-"),
    ]
    out.fields(f"Booking {b.id}", rows)
    if b.status == bookings_pb2.PENDING:
        out.hint(f"Awaits approval: bookings bookings confirm {b.id}   or   bookings bookings decline {b.id}")


def show_bookings(out: Renderer, response: Message | None, items: Sequence[bookings_pb2.Booking], next_cursor: str) -> None:
    """A page of bookings (`response`), or with `--all` every booking (`items`, no response)."""
    if out.as_json:
        return out.json(response if response is not None else {"bookings": [to_dict(b) for b in items]})
    table = Table(title=f"Bookings ({len(items)})", caption="times in UTC", title_justify="left", title_style="bold", caption_justify="left")
    for header in ("id", "service id", "booked", "participants", "contact", "status", "revision", "created"):
        table.add_column(header, no_wrap=header.endswith("id") or header == "booked", justify="right" if header in ("participants", "revision") else "left")
    for b in items:
        table.add_row(
            Text(b.id),
            Text(b.service_id),
            Text(booked_entity(b)),
            Text(str(b.number_of_participants)),
            Text(f"{b.contact.name} <{b.contact.email}>"),
            Text(enum_name(b, "status"), style="red" if b.status in (bookings_pb2.DECLINED, bookings_pb2.CANCELED) else ""),
            Text(str(b.revision)),
            Text(utc_time(b.created_date)),
        )
    out.console.print(table)
    out.more(next_cursor)


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings book course|class|appointment`, `bookings bookings list|get|confirm|decline|cancel|participants`."""
    # Bookings: errors name their reason on the first line ("FAILED_PRECONDITION TOO_LATE_TO_BOOK: ...",
    # "ALREADY_EXISTS SLOT_UNAVAILABLE: ...").
    book = commands.add_parser("book", help="book a course (whole), a class session or an appointment").add_subparsers(
        dest="action", required=True, metavar="WHAT"
    )
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

    p = leaf(book, "appointment", cmd_book_appointment, "book an appointment: a slot of a staff member's time")
    p.set_defaults(inline_reason=True)
    p.add_argument("--service", required=True, metavar="ID", help="the APPOINTMENT service")
    p.add_argument("--start", required=True, metavar="LOCAL", help="local date-time of a slot, e.g. 2026-12-08T09:00 (it lasts the service's duration)")
    p.add_argument("--staff", metavar="ID", help="the staff member (default: any free one, round robin)")
    p.add_argument("--time-zone", help="zone of --start and of the times shown (default: the service's)")
    p.add_argument("--name", required=True, help="contact name")
    p.add_argument("--email", required=True, help="contact email")
    p.add_argument("--idempotency-key", metavar="KEY", help="repeat a request safely: the same key never books twice")

    bookings = commands.add_parser("bookings", help="bookings: list, show, confirm, decline, cancel, resize").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = leaf(bookings, "list", cmd_bookings_list, "list bookings (oldest first)")
    p.set_defaults(inline_reason=True)
    p.add_argument("--service", action="append", metavar="ID", help="repeatable")
    p.add_argument("--schedule", action="append", metavar="ID", help="course bookings of this schedule (repeatable)")
    p.add_argument("--event", action="append", metavar="ID", help="class bookings of this session (repeatable)")
    p.add_argument("--staff", action="append", metavar="ID", help="appointments of this staff member (repeatable)")
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
