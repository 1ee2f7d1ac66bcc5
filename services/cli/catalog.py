"""`bookings services ...`: the catalog (courses, classes, appointments) and their booking policies,
and how they are shown (`show_service`, `show_services`, `show_deleted`, `show_policies`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.cli.arguments import Leaf, non_negative_int, positive_int
from services.cli.client import MAX_PAGE
from services.cli.context import CliError, Context
from services.cli.render import Renderer, enum_name, to_dict

SERVICE_TYPES = {"course": services_pb2.COURSE, "class": services_pb2.CLASS, "appointment": services_pb2.APPOINTMENT}
OFF = "off"
# An appointment's length when --duration is not given: the one the catalog gave appointment
# services created before appointment settings existed (bookings migration 0005).
DEFAULT_APPOINTMENT_MINUTES = 60


def _minutes_or_off(text: str) -> int | str:
    return OFF if text.strip().lower() == OFF else non_negative_int(text)


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
    if args.type == "appointment":
        service.appointment.CopyFrom(
            services_pb2.AppointmentSettings(
                duration_minutes=args.duration or DEFAULT_APPOINTMENT_MINUTES,
                buffer_before_minutes=args.buffer_before or 0,
                buffer_after_minutes=args.buffer_after or 0,
                slot_interval_minutes=args.slot_interval or 0,
            )
        )
    elif any(getattr(args, flag) is not None for flag in ("duration", "buffer_before", "buffer_after", "slot_interval")):
        raise CliError("--duration, --buffer-before, --buffer-after and --slot-interval are for appointments only")
    apply_policy_flags(service.booking_policy, args)
    show_service(ctx.out, ctx.client.create_service(service), verb="Created")


def cmd_services_list(ctx: Context) -> None:
    args = ctx.args
    types = [SERVICE_TYPES[t] for t in args.type or ()]
    if args.all:
        items = list(ctx.client.iter_services(types=types, page_size=args.limit or MAX_PAGE))
        show_services(ctx.out, None, items, "")
        return
    response = ctx.client.query_services(types=types, limit=args.limit or 0, cursor=args.cursor or "")
    show_services(ctx.out, response, list(response.services), response.paging_metadata.cursors.next if response.paging_metadata.has_next else "")


def cmd_services_get(ctx: Context) -> None:
    show_service(ctx.out, ctx.client.get_service(ctx.args.id))


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
    show_service(ctx.out, ctx.client.update_service(service, paths), verb="Updated")


def cmd_services_delete(ctx: Context) -> None:
    response = ctx.client.delete_service(ctx.args.id, ctx.args.revision or 0)
    show_deleted(ctx.out, response, "service", ctx.args.id)


def cmd_services_policies(ctx: Context) -> None:
    show_policies(ctx.out, ctx.client.list_booking_policies(ctx.args.ids))


# --- booking policy flags -----------------------------------------------------------------------------


def _policy_flags(parser: argparse.ArgumentParser, *, update: bool) -> None:
    off = " ('off' removes the limit)" if update else ""
    group = parser.add_argument_group("booking policy")
    group.add_argument("--early-minutes", type=_minutes_or_off, metavar="N", help=f"booking opens N minutes before the start{off}")
    group.add_argument("--late-minutes", type=_minutes_or_off, metavar="N", help=f"booking closes N minutes before the start{off}")
    group.add_argument("--book-after-start", action=argparse.BooleanOptionalAction, default=None, help="courses: allow booking after the first session started")
    group.add_argument("--max-per-booking", type=positive_int, metavar="N", help="participants per booking (default 1)")
    group.add_argument("--cancel-minutes", type=_minutes_or_off, metavar="N", help=f"cancellation allowed until N minutes before the start{off}")


# --- output -------------------------------------------------------------------------------------------


def _minutes(minutes: int) -> str:
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes} min"


def policy_summary(policy: policy_pb2.BookingPolicy) -> dict[str, str]:
    """Each sub-policy in words; an absent or disabled sub-policy is 'off'."""
    early = policy.limit_early_booking
    late = policy.limit_late_booking
    cancel = policy.cancellation_policy
    return {
        "opens": f"{_minutes(early.earliest_booking_in_minutes)} before" if early.enabled else "off (any time)",
        "closes": f"{_minutes(late.latest_booking_in_minutes)} before" if late.enabled else "off (until start)",
        "book after start": "yes" if policy.book_after_start_policy.enabled else "no",
        "max per booking": str(policy.participants_policy.max_participants_per_booking or 1),
        "cancel until": f"{_minutes(cancel.latest_cancellation_in_minutes)} before" if cancel.enabled else "off (any time)",
    }


def _service_rows(s: services_pb2.Service) -> list[tuple[str, str]]:
    rows = [
        ("id", s.id),
        ("type", enum_name(s, "type")),
        ("name", s.name),
        ("schedule id", s.schedule_id or "-"),
        ("capacity", str(s.default_capacity)),
        ("time zone", s.time_zone),
        ("online booking", "yes" if s.online_booking_enabled else "no"),
        ("manual approval", "yes" if s.requires_manual_approval else "no"),
        ("strict capacity", "yes" if s.strict_capacity else "no"),
    ]
    rows += [(f"policy: {k}", v) for k, v in policy_summary(s.booking_policy).items()]
    rows.append(("revision", str(s.revision)))
    return rows


def show_service(out: Renderer, response: Message, *, verb: str = "") -> None:
    """A response holding one `service`; with `verb` (Created, Updated) its ids first."""
    if out.as_json:
        return out.json(response)
    s: services_pb2.Service = response.service  # type: ignore[attr-defined]
    if verb:
        out.line(f"{verb} {enum_name(s, 'type')} service {s.name!r}", style="bold")
        out.id_line("service id", s.id)
        if s.schedule_id:
            out.id_line("schedule id", s.schedule_id)
    out.fields(f"Service {s.id}", _service_rows(s))
    if verb == "Created" and s.schedule_id:
        out.hint(f"Next: bookings events bulk-create --schedule {s.schedule_id} --start YYYY-MM-DDTHH:MM --duration 60 --count 10 --every 7d")


def show_services(out: Renderer, response: Message | None, items: Sequence[services_pb2.Service], next_cursor: str) -> None:
    """A page of services (`response`), or with `--all` every service (`items`, no response)."""
    if out.as_json:
        return out.json(response if response is not None else {"services": [to_dict(s) for s in items]})
    table = Table(title=f"Services ({len(items)})", title_justify="left", title_style="bold")
    for header in ("id", "type", "name", "schedule id", "capacity", "time zone", "online", "revision"):
        table.add_column(header, no_wrap=header.endswith("id"))
    for s in items:
        table.add_row(
            *(
                Text(v)
                for v in (
                    s.id,
                    enum_name(s, "type"),
                    s.name,
                    s.schedule_id or "-",
                    f"{s.default_capacity} (strict)" if s.strict_capacity else str(s.default_capacity),
                    s.time_zone,
                    "yes" if s.online_booking_enabled else "no",
                    str(s.revision),
                )
            )
        )
    out.console.print(table)
    out.more(next_cursor)


def show_deleted(out: Renderer, response: Message, what: str, ident: str) -> None:
    if out.as_json:
        return out.json(response)
    out.line(f"Deleted {what} {ident}")


def show_policies(out: Renderer, response: policy_pb2.ListBookingPoliciesResponse) -> None:
    if out.as_json:
        return out.json(response)
    table = Table(title="Booking policies", title_justify="left", title_style="bold")
    headers = ("service id", "online booking", "opens", "closes", "book after start", "max per booking", "cancel until")
    for header in headers:
        table.add_column(header, no_wrap=header == "service id")
    for p in response.booking_policies:
        summary = policy_summary(p.booking_policy)
        table.add_row(Text(p.service_id), Text("disabled" if p.book_online_disabled else "enabled"), *(Text(v) for v in summary.values()))
    out.console.print(table)


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings services create|list|get|update|delete|policies`."""
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
    group = p.add_argument_group("appointments")
    group.add_argument("--duration", type=positive_int, metavar="MIN", help=f"minutes per appointment (default {DEFAULT_APPOINTMENT_MINUTES})")
    group.add_argument("--buffer-before", type=non_negative_int, metavar="MIN", help="minutes kept free before each appointment")
    group.add_argument("--buffer-after", type=non_negative_int, metavar="MIN", help="minutes kept free after each appointment")
    group.add_argument("--slot-interval", type=positive_int, metavar="MIN", help="a slot starts every MIN minutes (default: the duration)")
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
