"""`bookings book ...` and `bookings bookings ...`: booking a course or a class session, and managing bookings,
and how they are shown (`show_booking`, `show_bookings`, `booked_entity`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.bookings.v2 import bookings_pb2
from services.cli.arguments import Leaf, positive_int
from services.cli.client import MAX_PAGE
from services.cli.context import Context
from services.cli.render import Renderer, enum_name, to_dict, utc_time

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


def cmd_bookings_list(ctx: Context) -> None:
    args = ctx.args
    filters = {
        "service_ids": args.service or (),
        "schedule_ids": args.schedule or (),
        "event_ids": args.event or (),
        "statuses": [BOOKING_STATUSES[s] for s in dict.fromkeys(args.status or ())],
    }
    if args.all:
        show_bookings(ctx.out, None, list(ctx.client.iter_bookings(page_size=args.limit or MAX_PAGE, **filters)), "")
        return
    response = ctx.client.query_bookings(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    show_bookings(ctx.out, response, list(response.bookings), paging.cursors.next if paging.has_next else "")


def cmd_bookings_get(ctx: Context) -> None:
    show_booking(ctx.out, ctx.client.get_booking(ctx.args.id))


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


# --- output -------------------------------------------------------------------------------------------


def booked_entity(b: bookings_pb2.Booking) -> str:
    """What a booking is for, in words: `course schedule <id>` or `class event <id>`."""
    if b.booked_entity.WhichOneof("item") == "schedule":
        return f"course schedule {b.booked_entity.schedule.schedule_id}"
    return f"class event {b.booked_entity.slot.event_id}"


def _participants(n: int) -> str:
    return f"{n} participant{'s' if n != 1 else ''}"


def show_booking(out: Renderer, response: Message, *, verb: str = "") -> None:
    """A response holding one `booking`; with `verb` (Booked course, Confirmed, ...) the outcome
    and its id first. A PENDING booking ends with how to confirm or decline it."""
    if out.as_json:
        return out.json(response)
    b: bookings_pb2.Booking = response.booking  # type: ignore[attr-defined]
    if verb:
        out.line(f"{verb}: {_participants(b.number_of_participants)}, {enum_name(b, 'status')}", style="bold")
        out.id_line("booking id", b.id)
    rows = [
        ("id", b.id),
        ("service id", b.service_id),
        ("booked", booked_entity(b)),
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
    """`bookings book course|class`, `bookings bookings list|get|confirm|decline|cancel|participants`."""
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
