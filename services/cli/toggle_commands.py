"""`bookings toggles ...`: feature toggles in Redis (the store and the rules are in toggles.py), and
how they are shown (`show_toggles`, `show_toggle_change`, `show_toggle_check`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from services.cli import toggles
from services.cli.arguments import Leaf
from services.cli.context import Context
from services.cli.render import Renderer
from services.cli.toggles import TAKES_EFFECT, Change, Decision, Stored, rule_dict, tenants_text


def _percentage(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not within 0..100")
    return value


def cmd_toggles_list(ctx: Context) -> None:
    show_toggles(ctx.out, ctx.toggles.all(), toggles.KNOWN_TOGGLES)


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
    show_toggle_change(ctx.out, name, before, after, written, toggles.changes(before.rule, after) if written else [])


def cmd_toggles_check(ctx: Context) -> None:
    name = toggles.check_name(ctx.args.name)
    stored = ctx.toggles.get(name)
    if stored.problem:
        ctx.out.error([f"note: the stored rule of {name} is {stored.problem}"])
    show_toggle_check(ctx.out, toggles.explain(name, ctx.args.tenant, stored.rule))


# --- output -------------------------------------------------------------------------------------------


def show_toggles(out: Renderer, stored: dict[str, Stored], known: Sequence[str]) -> None:
    """The known toggles in their order, then any other toggle found in the hash."""
    names = [*known, *sorted(set(stored) - set(known))]
    if out.as_json:
        items = []
        for name in names:
            entry = stored.get(name)
            rule = entry.rule if entry else None
            items.append(
                {
                    "name": name,
                    "known": name in known,
                    "set": entry is not None,
                    "rule": rule_dict(rule),
                    "problem": entry.problem if entry else "",
                }
            )
        return out.json({"toggles": items})
    table = Table(
        title="Feature toggles", caption="changes take effect within a second, no restart", title_justify="left", title_style="bold", caption_justify="left"
    )
    for header in ("toggle", "percentage", "allow", "deny", "note"):
        table.add_column(header, no_wrap=header in ("toggle", "percentage"), justify="right" if header == "percentage" else "left")
    for name in names:
        entry = stored.get(name)
        notes = [] if name in known else ["unknown to this CLI"]
        if entry is None:
            notes.append("not set: off for every tenant")
            cells = ["0", "-", "-"]
        elif entry.rule is None:
            notes.append(entry.problem)
            cells = ["?", "?", "?"]
        else:
            cells = [str(entry.rule.percentage), tenants_text(entry.rule.allow), tenants_text(entry.rule.deny)]
        table.add_row(Text(name), *(Text(c) for c in cells), Text("; ".join(notes)))
    out.console.print(table)


def show_toggle_change(out: Renderer, name: str, before: Stored, after_rule: Any, written: bool, diff: Sequence[Change]) -> None:
    if out.as_json:
        return out.json(
            {"toggle": name, "changed": written, "before": rule_dict(before.rule), "after": rule_dict(after_rule), "changes": [vars(c) for c in diff]}
        )
    if before.problem:
        out.hint(f"note: the stored rule was {before.problem}; it was replaced")
    if not written:
        out.line(f"{name}: no change (percentage {after_rule.percentage}, allow {tenants_text(after_rule.allow)}, deny {tenants_text(after_rule.deny)})")
        return
    out.line(f"Changed {name} ({TAKES_EFFECT}):", style="bold")
    for change in diff:
        out.line(f"  {change}")


def show_toggle_check(out: Renderer, decision: Decision) -> None:
    if out.as_json:
        return out.json(
            {
                "toggle": decision.toggle,
                "tenant": decision.tenant,
                "enabled": decision.enabled,
                "bucket": decision.bucket,
                "rule": rule_dict(decision.rule),
                "why": decision.why,
            }
        )
    state = "ON" if decision.enabled else "OFF"
    text = Text(f"{decision.toggle} is ")
    text.append(state, style="bold green" if decision.enabled else "bold red")
    text.append(f" for tenant {decision.tenant}: {decision.why}")
    out.console.print(text)
    rule = decision.rule
    stored = f"percentage {rule.percentage}, allow {tenants_text(rule.allow)}, deny {tenants_text(rule.deny)}" if rule else "not set"
    out.line(f"  bucket {decision.bucket} of 0..99 (stable per toggle and tenant); rule: {stored}")


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
