"""`bookings`: a command line for people who run the platform (and `--json` for scripts).

    export AUTH_JWT_SECRET=...            # or: export BOOKINGS_TOKEN=$(bookings token --secret ...)
    bookings services create --type course --name "Pottery" --capacity 12 --time-zone Europe/Vienna
    bookings events bulk-create --schedule <schedule id> --start 2026-12-01T18:00 --duration 90 --count 10 --every 7d
    bookings timeframes <schedule id>
    bookings availability courses --from 2026-12-01 --to 2026-12-31
    bookings book course --service <service id> --name "Ada" --email ada@example.com --participants 2
    bookings staff create "Dr. Ana Berger" --time-zone Europe/Vienna --services <appointment service id>
    bookings hours set --staff <staff member id> --rule "mon-fri 09:00-17:00" --rule "sat 10:00-14:00"
    bookings availability slots --service <appointment service id> --from 2026-12-08 --to 2026-12-09
    bookings book appointment --service <appointment service id> --start 2026-12-08T09:00 --name "Ada" --email ada@example.com
    bookings bookings list --status pending
    bookings toggles set course_availability_enabled --allow <tenant>
    bookings watch capacity --schedule <schedule id>

One module per command group, each with its commands, their output (`show_*` functions) and an
`add_commands` that adds their parsers: `catalog.py` (services), `staff.py` (staff), `calendar.py`
(events, schedules, timeframes), `hours.py` (hours, time-off, extra-hours, holidays),
`availability.py`, `bookings.py` (book, bookings), `toggle_commands.py`, `dlq.py`, `watch.py`.
Here: the global options, `token` and the entry point; `context.py` is what every command gets
(and the conversions of typed input). RPCs in `client.py`, what every group's output shares (the
`Renderer`, times, error lines) in `render.py`, local-time arithmetic in `timeseries.py`,
availability in words in `slots.py`, the feature toggles' store and rules in `toggles.py`.
Exit codes: 0 success, 1 a failed call or bad input, 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from services.cli import availability, bookings, calendar, catalog, dlq, hours, render, staff, timeseries, toggle_commands, toggles, watch
from services.cli.arguments import positive_int
from services.cli.client import DEFAULT_AVAILABILITY_ADDRESS, DEFAULT_BOOKINGS_ADDRESS, DEFAULT_SCOPES, DEFAULT_TIMEFRAMES_ADDRESS, CallError
from services.cli.context import CliError, Context
from services.common.auth import ALL_SCOPES, mint_token

DEFAULT_TENANT = "demo"


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


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookings", description="Manage services, staff, schedules, working hours and sessions of the bookings platform.")
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

    for group in (catalog, staff, calendar, hours, availability, bookings, toggle_commands):
        group.add_commands(commands, leaf)
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
