"""`bookings toggles ...`: feature toggles in Redis (the store and the rules are in toggles.py)."""

from __future__ import annotations

import argparse
from typing import Any

from services.cli import toggles
from services.cli.arguments import Leaf
from services.cli.context import Context


def _percentage(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not within 0..100")
    return value


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


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings toggles list|set|check`."""
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
