"""`bookings hours`, `bookings time-off`, `bookings extra-hours`, `bookings holidays`: a staff member's
working hours and their exceptions (calendar.working_hours.v1, served by timeframes;
docs/appointments.md "Working hours"), and how they are shown (`show_rules`, `show_span`,
`show_holiday`, `show_exceptions`).

    bookings hours set --staff <id> --rule "mon-fri 09:00-12:00,13:00-17:00" --rule "sat 10:00-14:00"
    bookings hours set --staff <id> --add --rule "mon-fri 10:00-18:00" --from 2027-01-01
    bookings time-off create --staff <id> --start 2026-12-24T09:00 --end 2026-12-24T13:00 --reason "Dentist"
    bookings holidays create --staff <id> --date 2026-12-25 --reason "Christmas"
    bookings time-off list --staff <id> --from 2026-12-01 --to 2026-12-31

Every command names its calendar by `--staff <id>` (its schedule is read with GetStaffMember) or
`--schedule <id>`. Weekly rules are wall-clock times, sent as typed. Time off, extra hours and the
listing window are local date-times read in the staff member's time zone, the zone availability
reads their rules and holidays in (with `--schedule`, the schedule's own zone: the same unless the
staff member's zone changed after they were created); a typed time in a spring-forward gap is
refused naming its option.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.cli import timeseries
from services.cli.arguments import Leaf, local_date
from services.cli.availability import local_window
from services.cli.catalog import show_deleted
from services.cli.client import instant, timestamp
from services.cli.context import CliError, Context, local_arg, local_instant, zone_arg
from services.cli.render import Renderer, local_span, local_time
from services.common import local_time as wall_clock
from services.common.errors import InvalidArgument
from services.common.weekly_rules import WeeklyRule, weekly_rule_violations

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # day_of_week 1..7
_DAYS = {name[:3].lower(): number for number, name in enumerate(DAY_NAMES, 1)} | {name.lower(): number for number, name in enumerate(DAY_NAMES, 1)}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
DEFAULT_LIST_DAYS = 90  # `time-off list` without --to


class RuleError(ValueError):
    """A `--rule` that does not parse; the message says why."""


# --- pure parts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleText:
    """One `--rule` as typed and the weekly rules it stands for: one per day and time span, in
    the order typed, without effective dates (`weekly_rules` adds those of the call)."""

    text: str
    rules: tuple[WeeklyRule, ...]


def _days(text: str) -> list[int]:
    """`mon-fri`, `sat`, `mon,wed,fri`, `fri-mon` (a range may wrap past Sunday), full names too."""
    days: list[int] = []
    for part in text.lower().split(","):
        first, dash, last = part.partition("-")
        names = (first, last) if dash else (first,)
        unknown = [n for n in names if n not in _DAYS]
        if unknown or not part:
            raise RuleError(f"unknown day {(unknown[0] if unknown else part)!r}; use mon, tue, wed, thu, fri, sat, sun (or mon-fri)")
        start, end = _DAYS[first], _DAYS[last] if dash else _DAYS[first]
        span = (end - start) % 7
        days += [(start - 1 + i) % 7 + 1 for i in range(span + 1)]
    return list(dict.fromkeys(days))


def _wall_time(text: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise RuleError(f"{text!r} is not a time; use HH:MM, e.g. 09:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        raise RuleError("there is no 24:00; the latest end of a day is 23:59")
    if hour > 23 or minute > 59:
        raise RuleError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute)


def _spans(text: str) -> list[tuple[time, time]]:
    """`09:00-17:00` or `09:00-12:00,13:00-17:00`."""
    spans = []
    for part in text.split(","):
        start_text, dash, end_text = part.partition("-")
        if not dash:
            raise RuleError(f"{part!r} is not a span of hours; use HH:MM-HH:MM, e.g. 09:00-17:00")
        start, end = _wall_time(start_text), _wall_time(end_text)
        if end <= start:
            raise RuleError(f"{part!r}: the end must be after the start (a rule may not cross midnight)")
        spans.append((start, end))
    return spans


def parse_rule(text: str) -> RuleText:
    """`"mon-fri 09:00-17:00"`, `"sat 10:00-14:00"`, `"mon,wed 08:00-12:00,13:00-16:00"`: days,
    then one or more spans of local wall-clock hours (spaces inside the spans are ignored)."""
    days_text, _, spans_text = text.strip().partition(" ")
    spans_text = "".join(spans_text.split()).replace("–", "-")
    if not days_text or not spans_text:
        raise RuleError("expected days and hours, e.g. 'mon-fri 09:00-17:00'")
    days = _days(days_text.replace("–", "-"))
    spans = _spans(spans_text)
    return RuleText(text, tuple(WeeklyRule(day, start, end) for day in days for start, end in spans))


def rule_argument(text: str) -> RuleText:
    """argparse type of `--rule`: a bad rule is a usage error naming it."""
    try:
        return parse_rule(text)
    except RuleError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def rule_text(rule: WeeklyRule) -> str:
    """`Tuesday 09:00-17:00`, with its effective period when it has one."""
    text = f"{DAY_NAMES[rule.day_of_week - 1]} {rule.start:%H:%M}-{rule.end:%H:%M}"
    return f"{text} ({effective(rule)})" if rule.effective_from or rule.effective_to else text


def effective(rule: WeeklyRule) -> str:
    """When a rule is in force, in words: `always`, `from 2027-01-01`, `until 2026-12-31`, or both."""
    if rule.effective_from and rule.effective_to:
        return f"{rule.effective_from} to {rule.effective_to}"
    if rule.effective_from:
        return f"from {rule.effective_from}"
    if rule.effective_to:
        return f"until {rule.effective_to}"
    return "always"


def weekly_rules(given: Sequence[RuleText], effective_from: date | None, effective_to: date | None, kept: Sequence[WeeklyRule] = ()) -> list[WeeklyRule]:
    """The rules to send: `kept` (the current ones, with `--add`) then those of every `--rule`
    with the call's effective period. Refused (CliError) when two of them overlap on a day while
    both are in force, by the same check timeframes applies (services/common/weekly_rules.py),
    but naming the rules as typed instead of by their index in the request."""
    if effective_from and effective_to and effective_to < effective_from:
        raise CliError(f"--to: {effective_to} is before --from {effective_from}")
    rules = list(kept)
    # What each rule is called where a violation names it (its field), and where another one's
    # description refers to it (the description already says the other rule's times).
    fields = [f"the current rule {rule_text(r)}" for r in kept]
    references = list(fields)
    for given_rule in given:
        for r in given_rule.rules:
            rules.append(WeeklyRule(r.day_of_week, r.start, r.end, effective_from, effective_to))
            fields.append(f"--rule {given_rule.text!r} ({rule_text(rules[-1])})")
            references.append(f"--rule {given_rule.text!r}")
    try:
        weekly_rule_violations(rules).raise_if_any()
    except InvalidArgument as refused:

        def named(text: str, names: list[str]) -> str:
            return re.sub(r"rules\[(\d+)\]", lambda m: names[int(m.group(1))], text)

        raise CliError("; ".join(f"{named(v.field, fields)}: {named(v.description, references)}" for v in refused.violations)) from None
    return rules


def rule_to_proto(rule: WeeklyRule) -> hours_pb2.WeeklyRule:
    return hours_pb2.WeeklyRule(
        day_of_week=rule.day_of_week,
        start_time=f"{rule.start:%H:%M}",
        end_time=f"{rule.end:%H:%M}",
        effective_from=rule.effective_from.isoformat() if rule.effective_from else "",
        effective_to=rule.effective_to.isoformat() if rule.effective_to else "",
    )


def rule_of_proto(message: hours_pb2.WeeklyRule) -> WeeklyRule:
    return WeeklyRule(
        message.day_of_week,
        time.fromisoformat(message.start_time),
        time.fromisoformat(message.end_time),
        date.fromisoformat(message.effective_from) if message.effective_from else None,
        date.fromisoformat(message.effective_to) if message.effective_to else None,
    )


def local_period(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    """The naive local [start, end) of `--start` and `--end`; a bare date is its 00:00, and a bare
    `--end` date includes that day (`--end 2026-12-24` ends at 2026-12-25 00:00)."""
    start = local_arg(start_text, "--start")
    end = local_arg(end_text, "--end")
    if _DATE_ONLY.match(end_text):
        end += timedelta(days=1)
    if end <= start:
        raise CliError(f"--end: {end_text!r} must be after --start {start_text!r}")
    return start, end


def span_instants(local: tuple[datetime, datetime], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of a `local_period` in `zone` (first occurrences keep them in order)."""
    return local_instant(local[0], zone, "--start"), local_instant(local[1], zone, "--end")


# --- the calendar a command works on ------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    schedule_id: str
    label: str  # `Dr. Ana Berger (staff member <id>)` or `schedule <id>`
    time_zone: str = ""  # the staff member's; empty with --schedule (the schedule's, read when needed)


def _calendar(ctx: Context) -> Calendar:
    args = ctx.args
    if args.schedule:
        return Calendar(args.schedule, f"schedule {args.schedule}")
    member = ctx.client.get_staff_member(args.staff).staff_member
    return Calendar(member.schedule_id, f"{member.name} (staff member {member.id})", member.time_zone)


def _zone(ctx: Context, calendar: Calendar) -> ZoneInfo:
    """The zone local times of the calendar are read in (see the module doc)."""
    if calendar.time_zone:
        return zone_arg(calendar.time_zone, f"{calendar.label}: time zone")
    return ctx.schedule_zone(calendar.schedule_id)


def _which(ctx: Context) -> str:
    """How the command named its calendar, for the next command's hint."""
    return f"--staff {ctx.args.staff}" if ctx.args.staff else f"--schedule {ctx.args.schedule}"


# --- commands -----------------------------------------------------------------------------------------


def cmd_hours_set(ctx: Context) -> None:
    args = ctx.args
    if args.clear and (args.add or args.from_ or args.to):
        raise CliError("--clear removes every rule: --add, --from and --to go with --rule")
    rules = weekly_rules(args.rule or [], args.from_, args.to)  # bad rules refused before any call
    calendar = _calendar(ctx)
    if args.add:
        # Read, then replace all: of two people editing one calendar at once, one may lose their rules.
        rules = weekly_rules(args.rule, args.from_, args.to, [rule_of_proto(r) for r in ctx.client.list_weekly_rules(calendar.schedule_id).rules])
    response = ctx.client.set_weekly_rules(calendar.schedule_id, (rule_to_proto(r) for r in rules))
    show_rules(ctx.out, response, calendar=calendar, zone=None if ctx.out.as_json else _zone(ctx, calendar), verb="Set")


def cmd_hours_list(ctx: Context) -> None:
    calendar = _calendar(ctx)
    response = ctx.client.list_weekly_rules(calendar.schedule_id)
    show_rules(ctx.out, response, calendar=calendar, zone=None if ctx.out.as_json else _zone(ctx, calendar))


def cmd_time_off_create(ctx: Context) -> None:
    args = ctx.args
    local = local_period(args.start, args.end)
    calendar = _calendar(ctx)
    zone = _zone(ctx, calendar)
    start, end = span_instants(local, zone)
    response = ctx.client.create_time_off(calendar.schedule_id, hours_pb2.TimeOff(start=timestamp(start), end=timestamp(end), reason=args.reason or ""))
    show_span(ctx.out, response, "time off", zone=zone, verb="Created", delete=f"bookings time-off delete {response.time_off.id} {_which(ctx)}")


def cmd_extra_hours_create(ctx: Context) -> None:
    args = ctx.args
    local = local_period(args.start, args.end)
    calendar = _calendar(ctx)
    zone = _zone(ctx, calendar)
    start, end = span_instants(local, zone)
    extra = hours_pb2.ExtraHours(start=timestamp(start), end=timestamp(end), reason=args.reason or "")
    response = ctx.client.create_extra_hours(calendar.schedule_id, extra)
    show_span(ctx.out, response, "extra hours", zone=zone, verb="Created", delete=f"bookings extra-hours delete {response.extra_hours.id} {_which(ctx)}")


def cmd_holidays_create(ctx: Context) -> None:
    args = ctx.args
    calendar = _calendar(ctx)
    response = ctx.client.create_holiday(calendar.schedule_id, hours_pb2.Holiday(local_date=args.date.isoformat(), reason=args.reason or ""))
    show_holiday(ctx.out, response, verb="Created", delete=f"bookings holidays delete {response.holiday.id} {_which(ctx)}")


def cmd_time_off_delete(ctx: Context) -> None:
    show_deleted(ctx.out, ctx.client.delete_time_off(_calendar(ctx).schedule_id, ctx.args.id), "time off", ctx.args.id)


def cmd_extra_hours_delete(ctx: Context) -> None:
    show_deleted(ctx.out, ctx.client.delete_extra_hours(_calendar(ctx).schedule_id, ctx.args.id), "extra hours", ctx.args.id)


def cmd_holidays_delete(ctx: Context) -> None:
    show_deleted(ctx.out, ctx.client.delete_holiday(_calendar(ctx).schedule_id, ctx.args.id), "holiday", ctx.args.id)


def cmd_time_off_list(ctx: Context) -> None:
    args = ctx.args
    if args.to and not args.from_:
        raise CliError("--to: give --from too")
    # Bad input is refused before any call.
    window = local_window(args.from_, args.to) if args.to else None
    first = local_arg(args.from_, "--from") if args.from_ else None
    calendar = _calendar(ctx)
    zone = _zone(ctx, calendar)
    if window is None:
        first = first or datetime.combine(timeseries.to_local(datetime.now(UTC), zone).date(), time())
        window = (first, first + timedelta(days=DEFAULT_LIST_DAYS))
    # The bounds of a range: a time in a gap is moved forward, not refused (services/common/local_time.py).
    start, end = (wall_clock.to_utc(t, zone, nonexistent="shift") for t in window)
    response = ctx.client.list_exceptions(calendar.schedule_id, start, end)
    show_exceptions(ctx.out, response, calendar=calendar, zone=zone, window=f"from {window[0]:%Y-%m-%d %H:%M} to {window[1]:%Y-%m-%d %H:%M}")


# --- output -------------------------------------------------------------------------------------------


def show_rules(out: Renderer, response: Message, *, calendar: Calendar, zone: ZoneInfo | None, verb: str = "") -> None:
    """The weekly rules of a calendar (a ListWeeklyRules or SetWeeklyRules response), a row per
    rule in the server's order (day, start, effective from)."""
    if out.as_json:
        return out.json(response)
    rules = [rule_of_proto(r) for r in response.rules]  # type: ignore[attr-defined]
    # The heading is a line of its own: as a table title it would wrap to the narrow table's width.
    heading = f"{verb} the weekly hours" if verb else "Weekly hours"
    out.line(f"{heading} of {calendar.label}: {len(rules)} rule{'' if len(rules) == 1 else 's'}", style="bold")
    table = Table(caption=f"local wall-clock times in {zone.key}" if zone else "", caption_justify="left")
    for header in ("day", "hours", "in effect"):
        table.add_column(header, no_wrap=True)
    for rule in rules:
        table.add_row(Text(DAY_NAMES[rule.day_of_week - 1]), Text(f"{rule.start:%H:%M}–{rule.end:%H:%M}"), Text(effective(rule)))
    out.console.print(table)
    if not rules:
        out.hint(f'No weekly hours: nothing can be booked. Set them with bookings hours set --schedule {calendar.schedule_id} --rule "mon-fri 09:00-17:00"')


def show_span(out: Renderer, response: Message, what: str, *, zone: ZoneInfo, verb: str = "", delete: str = "") -> None:
    """A response holding one `time_off` or `extra_hours` (`what`), its times in `zone`."""
    if out.as_json:
        return out.json(response)
    span = response.time_off if what == "time off" else response.extra_hours  # type: ignore[attr-defined]
    if verb:
        out.line(f"{verb} {what}", style="bold")
        out.id_line(f"{what} id", span.id)
    start, end = instant(span.start), instant(span.end)
    rows = [
        ("id", span.id),
        ("schedule id", span.schedule_id),
        ("start", local_time(start, zone)),
        ("end", local_time(end, zone)),
        ("reason", span.reason or "-"),
        ("time zone", zone.key),
    ]
    out.fields(f"{what.capitalize()} {span.id}", rows)
    if delete:
        out.hint(f"Undo: {delete}")


def _holiday_date(text: str) -> str:
    try:
        return f"{date.fromisoformat(text):%a %Y-%m-%d}"
    except ValueError:
        return text


def show_holiday(out: Renderer, response: hours_pb2.CreateHolidayResponse, *, verb: str = "", delete: str = "") -> None:
    if out.as_json:
        return out.json(response)
    h = response.holiday
    if verb:
        out.line(f"{verb} holiday", style="bold")
        out.id_line("holiday id", h.id)
    out.fields(f"Holiday {h.id}", [("id", h.id), ("schedule id", h.schedule_id), ("date", _holiday_date(h.local_date)), ("reason", h.reason or "-")])
    if delete:
        out.hint(f"Undo: {delete}")


def show_exceptions(out: Renderer, response: hours_pb2.ListExceptionsResponse, *, calendar: Calendar, zone: ZoneInfo, window: str) -> None:
    """Time off, extra hours and holidays in one table, in time order (a holiday from the start of
    its local date)."""
    if out.as_json:
        return out.json(response)
    rows: list[tuple[datetime, str, str, str, str]] = []
    for kind, spans in (("time off", response.time_off), ("extra hours", response.extra_hours)):
        for s in spans:
            start, end = instant(s.start), instant(s.end)
            rows.append((start, kind, s.id, local_span(start, end, zone), s.reason))
    for h in response.holidays:
        try:
            at = wall_clock.to_utc(datetime.combine(date.fromisoformat(h.local_date), time()), zone, nonexistent="shift")
        except ValueError:
            at = datetime.max.replace(tzinfo=UTC)
        rows.append((at, "holiday", h.id, f"{_holiday_date(h.local_date)} (all day)", h.reason))
    rows.sort(key=lambda row: (row[0], row[2]))
    out.line(f"Time off, extra hours and holidays of {calendar.label}: {len(rows)}", style="bold")
    table = Table(caption=f"{window}, times in {zone.key}", caption_justify="left")
    for header in ("kind", "id", "when", "reason"):
        table.add_column(header, no_wrap=header != "reason")
    for _, kind, ident, when, reason in rows:
        table.add_row(Text(kind, style="green" if kind == "extra hours" else ""), Text(ident), Text(when), Text(reason or "-"))
    out.console.print(table)


# --- registration (services/cli/main.py) --------------------------------------------------------------


def _calendar_options(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--staff", metavar="ID", help="the staff member (their schedule is looked up)")
    which.add_argument("--schedule", metavar="ID", help="the schedule itself")


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings hours set|list`, `bookings time-off create|delete|list`, `bookings extra-hours create|delete`,
    `bookings holidays create|delete`."""
    hours = commands.add_parser("hours", help="weekly working hours of a staff member").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(hours, "set", cmd_hours_set, "replace the weekly hours (or with --add, add to them)")
    _calendar_options(p)
    rules = p.add_mutually_exclusive_group(required=True)
    rules.add_argument(
        "--rule",
        action="append",
        type=rule_argument,
        metavar='"DAYS HH:MM-HH:MM"',
        help='days and local hours, e.g. "mon-fri 09:00-17:00", "sat 10:00-14:00", "mon,wed 08:00-12:00,13:00-16:00" (repeatable)',
    )
    rules.add_argument("--clear", action="store_true", help="remove every weekly rule (nothing can be booked until new ones are set)")
    p.add_argument("--from", dest="from_", type=local_date, metavar="YYYY-MM-DD", help="the rules of this call are in force from this date")
    p.add_argument("--to", type=local_date, metavar="YYYY-MM-DD", help="... through this date (inclusive)")
    p.add_argument("--add", action="store_true", help="keep the current rules and add these (default: replace them all)")

    p = leaf(hours, "list", cmd_hours_list, "show the weekly hours")
    _calendar_options(p)

    for group, what, help_text, create, delete in (
        ("time-off", "time off", "time a staff member is away", cmd_time_off_create, cmd_time_off_delete),
        ("extra-hours", "extra hours", "one-time working hours added to the weekly ones", cmd_extra_hours_create, cmd_extra_hours_delete),
    ):
        actions = commands.add_parser(group, help=help_text).add_subparsers(dest="action", required=True, metavar="ACTION")
        p = leaf(actions, "create", create, f"add {what} (local date-times in the staff member's time zone)")
        _calendar_options(p)
        p.add_argument("--start", required=True, metavar="LOCAL", help="local date-time, e.g. 2026-12-24T09:00 (a date: from its start)")
        p.add_argument("--end", required=True, metavar="LOCAL", help="local date-time, e.g. 2026-12-24T13:00 (a date: through its end)")
        p.add_argument("--reason", help="at most 500 characters")
        p = leaf(actions, "delete", delete, f"delete {what}")
        p.add_argument("id")
        _calendar_options(p)
        if group == "time-off":
            p = leaf(actions, "list", cmd_time_off_list, "time off, extra hours and holidays in a window")
            _calendar_options(p)
            p.add_argument("--from", dest="from_", metavar="LOCAL", help="local date or date-time (default: today)")
            p.add_argument("--to", metavar="LOCAL", help=f"a date-time, or through a date (default: {DEFAULT_LIST_DAYS} days after --from)")

    holidays = commands.add_parser("holidays", help="dates nothing can be booked on").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(holidays, "create", cmd_holidays_create, "add a holiday (a local date in the staff member's time zone)")
    _calendar_options(p)
    p.add_argument("--date", required=True, type=local_date, metavar="YYYY-MM-DD")
    p.add_argument("--reason", help="at most 500 characters")
    p = leaf(holidays, "delete", cmd_holidays_delete, "delete a holiday")
    p.add_argument("id")
    _calendar_options(p)
