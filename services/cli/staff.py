"""`bookings staff ...`: the staff members whose time APPOINTMENT services book (docs/appointments.md
"Staff members"), and how they are shown (`show_staff_member`, `show_staff_members`). Their working
hours are `bookings hours` (hours.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.bookings.staff.v1 import staff_members_pb2
from services.cli.arguments import Leaf, positive_int
from services.cli.catalog import show_deleted
from services.cli.client import MAX_PAGE
from services.cli.context import CliError, Context
from services.cli.render import Renderer, to_dict, utc_time


def cmd_staff_create(ctx: Context) -> None:
    args = ctx.args
    member = staff_members_pb2.StaffMember(name=args.name, email=args.email or "", time_zone=args.time_zone, service_ids=args.services or [])
    show_staff_member(ctx.out, ctx.client.create_staff_member(member), verb="Created")


def cmd_staff_get(ctx: Context) -> None:
    show_staff_member(ctx.out, ctx.client.get_staff_member(ctx.args.id))


def cmd_staff_list(ctx: Context) -> None:
    args = ctx.args
    filters = {"service_ids": args.service or ()}
    if args.all:
        show_staff_members(ctx.out, None, list(ctx.client.iter_staff_members(page_size=args.limit or MAX_PAGE, **filters)), "")
        return
    response = ctx.client.query_staff_members(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    show_staff_members(ctx.out, response, list(response.staff_members), paging.cursors.next if paging.has_next else "")


def cmd_staff_update(ctx: Context) -> None:
    args = ctx.args
    member = staff_members_pb2.StaffMember(id=args.id, revision=args.revision)
    paths = []
    for flag, path in (("name", "name"), ("email", "email"), ("time_zone", "time_zone")):
        value = getattr(args, flag)
        if value is not None:
            setattr(member, path, value)
            paths.append(path)
    if args.services is not None:  # `--services` without ids: offers no service any more
        member.service_ids.extend(args.services)
        paths.append("service_ids")
    if not paths:
        raise CliError("nothing to update: give at least one of --name, --email, --time-zone, --services")
    show_staff_member(ctx.out, ctx.client.update_staff_member(member, paths), verb="Updated")


def cmd_staff_delete(ctx: Context) -> None:
    response = ctx.client.delete_staff_member(ctx.args.id, ctx.args.revision or 0)
    show_deleted(ctx.out, response, "staff member", ctx.args.id)


# --- output -------------------------------------------------------------------------------------------


def _services(ids: Sequence[str]) -> str:
    return ", ".join(ids) or "-"


def show_staff_member(out: Renderer, response: Message, *, verb: str = "") -> None:
    """A response holding one `staff_member`; with `verb` (Created, Updated) its ids first, and
    after a create how to give it working hours."""
    if out.as_json:
        return out.json(response)
    m: staff_members_pb2.StaffMember = response.staff_member  # type: ignore[attr-defined]
    if verb:
        out.line(f"{verb} staff member {m.name!r}", style="bold")
        out.id_line("staff member id", m.id)
        out.id_line("schedule id", m.schedule_id)
    rows = [
        ("id", m.id),
        ("name", m.name),
        ("email", m.email or "-"),
        ("time zone", m.time_zone),
        ("schedule id", m.schedule_id),
        ("services", _services(m.service_ids)),
        ("revision", str(m.revision)),
        ("created", utc_time(m.created_date) if m.HasField("created_date") else "-"),
        ("updated", utc_time(m.updated_date) if m.HasField("updated_date") else "-"),
    ]
    out.fields(f"Staff member {m.id}", rows)
    if verb == "Created":
        out.hint(f'Next: bookings hours set --staff {m.id} --rule "mon-fri 09:00-17:00"')


def show_staff_members(out: Renderer, response: Message | None, items: Sequence[staff_members_pb2.StaffMember], next_cursor: str) -> None:
    """A page of staff members (`response`), or with `--all` every one (`items`, no response)."""
    if out.as_json:
        return out.json(response if response is not None else {"staff_members": [to_dict(m) for m in items]})
    table = Table(title=f"Staff members ({len(items)})", title_justify="left", title_style="bold")
    for header in ("id", "name", "email", "time zone", "schedule id", "services", "revision"):
        table.add_column(header, no_wrap=header.endswith("id"), overflow="fold")
    for m in items:
        table.add_row(*(Text(v) for v in (m.id, m.name, m.email or "-", m.time_zone, m.schedule_id, _services(m.service_ids), str(m.revision))))
    out.console.print(table)
    out.more(next_cursor)


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings staff create|list|get|update|delete`."""
    staff = commands.add_parser("staff", help="staff members, whose time appointments book").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(staff, "create", cmd_staff_create, "create a staff member (and the schedule that holds their working hours)")
    p.add_argument("name", help='the name shown to clients, e.g. "Dr. Ana Berger"')
    p.add_argument("--email")
    p.add_argument("--time-zone", required=True, help="IANA zone their working hours are read in, e.g. Europe/Vienna")
    p.add_argument("--services", action="extend", nargs="+", metavar="ID", help="the APPOINTMENT services they offer")

    p = leaf(staff, "list", cmd_staff_list, "list staff members (oldest first)")
    p.add_argument("--service", action="extend", nargs="+", metavar="ID", help="only those offering this service (repeatable)")
    p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
    p.add_argument("--cursor", help="continue from a previous page")
    p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(staff, "get", cmd_staff_get, "show a staff member")
    p.add_argument("id")

    p = leaf(staff, "update", cmd_staff_update, "change the fields given (the others keep their value)")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True, help="the current revision (optimistic concurrency)")
    p.add_argument("--name")
    p.add_argument("--email", help="'' removes it")
    p.add_argument("--time-zone", help="the zone their working hours are read in (the rules keep their wall-clock times)")
    p.add_argument("--services", nargs="*", metavar="ID", help="replaces the services they offer (none given: no service)")

    p = leaf(staff, "delete", cmd_staff_delete, "delete a staff member (refused while they have appointments ahead)")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, help="only delete at this revision")
