"""`bookings services ...`: the catalog (courses, classes, appointments) and their booking policies."""

from __future__ import annotations

import argparse
from typing import Any

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.cli.arguments import Leaf, non_negative_int, positive_int
from services.cli.client import MAX_PAGE
from services.cli.context import CliError, Context

SERVICE_TYPES = {"course": services_pb2.COURSE, "class": services_pb2.CLASS, "appointment": services_pb2.APPOINTMENT}
OFF = "off"


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


def _policy_flags(parser: argparse.ArgumentParser, *, update: bool) -> None:
    off = " ('off' removes the limit)" if update else ""
    group = parser.add_argument_group("booking policy")
    group.add_argument("--early-minutes", type=_minutes_or_off, metavar="N", help=f"booking opens N minutes before the start{off}")
    group.add_argument("--late-minutes", type=_minutes_or_off, metavar="N", help=f"booking closes N minutes before the start{off}")
    group.add_argument("--book-after-start", action=argparse.BooleanOptionalAction, default=None, help="courses: allow booking after the first session started")
    group.add_argument("--max-per-booking", type=positive_int, metavar="N", help="participants per booking (default 1)")
    group.add_argument("--cancel-minutes", type=_minutes_or_off, metavar="N", help=f"cancellation allowed until N minutes before the start{off}")


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
