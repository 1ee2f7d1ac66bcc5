"""`bookings events ...`, `bookings schedules get`, `bookings timeframes`: schedules and their sessions, in local time."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2

from services.api.calendar.events.v3 import events_pb2
from services.cli import render, timeseries
from services.cli.arguments import Leaf, positive_int
from services.cli.client import MAX_PAGE, instant, timestamp
from services.cli.context import CliError, Context, local_arg, zone_arg


def _interval(text: str) -> timeseries.Interval:
    try:
        return timeseries.parse_interval(text)
    except timeseries.TimeSeriesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _event_zone(ctx: Context, schedule_id: str) -> ZoneInfo:
    return zone_arg(ctx.args.time_zone, "--time-zone") if ctx.args.time_zone else ctx.schedule_zone(schedule_id)


def _new_event(args: argparse.Namespace, occurrence: timeseries.Occurrence) -> events_pb2.Event:
    return events_pb2.Event(
        schedule_id=args.schedule,
        start=timestamp(occurrence.start),
        end=timestamp(occurrence.end),
        time_zone=args.time_zone or "",
        total_capacity=args.capacity or 0,
        title=args.title or "",
    )


def _time_error(exc: timeseries.TimeSeriesError) -> CliError:
    return CliError(f"--start: {exc}")


def cmd_events_create(ctx: Context) -> None:
    args = ctx.args
    local = local_arg(args.start, "--start")
    tz = _event_zone(ctx, args.schedule)
    try:
        occurrence = timeseries.occurrence(local, tz, timedelta(minutes=args.duration))
    except timeseries.TimeSeriesError as exc:
        raise _time_error(exc) from None
    ctx.out.event(ctx.client.create_event(_new_event(args, occurrence)), tz=tz, verb="Created")


def cmd_events_bulk_create(ctx: Context) -> None:
    args = ctx.args
    local = local_arg(args.start, "--start")
    tz = _event_zone(ctx, args.schedule)
    try:
        series = timeseries.series(local, tz, timedelta(minutes=args.duration), args.count, args.every)
    except timeseries.TimeSeriesError as exc:
        raise _time_error(exc) from None
    response = ctx.client.bulk_create_events(_new_event(args, o) for o in series)
    out = ctx.out
    out.events(response, list(response.events), tz=tz, title=f"Created events on schedule {args.schedule}")
    if not out.as_json:
        for o in series:
            if o.shifted:
                out.hint(
                    f"note: {o.local:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks jump forward); that session starts at "
                    f"{render.local_time(o.start, tz, with_date=False)}"
                )
        out.hint(f"Next: bookings timeframes {args.schedule}   or   bookings events list --schedule {args.schedule}")


def cmd_events_list(ctx: Context) -> None:
    args = ctx.args
    tz = zone_arg(args.tz, "--tz") if args.tz else None
    window: dict[str, timestamp_pb2.Timestamp] = {}
    for option, key in (("from_", "from_date"), ("to", "to_date")):
        text = getattr(args, option)
        if text:
            flag = "--" + option.rstrip("_")
            local = local_arg(text, flag)
            if tz is None:
                if not args.schedule:
                    raise CliError(f"{flag}: give --tz (or --schedule) to say which time zone {text!r} is in")
                tz = ctx.schedule_zone(args.schedule[0])
            window[key] = timestamp(timeseries.resolve(local, tz, nonexistent="shift"))
    filters = {"schedule_ids": args.schedule or (), "include_cancelled": args.include_cancelled, **window}
    display = zone_arg(args.tz, "--tz") if args.tz else None
    if args.all:
        ctx.out.events(None, list(ctx.client.iter_events(page_size=args.limit or MAX_PAGE, **filters)), tz=display)
        return
    response = ctx.client.query_events(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    ctx.out.events(response, list(response.events), tz=display, next_cursor=paging.cursors.next if paging.has_next else "")


def cmd_events_get(ctx: Context) -> None:
    tz = zone_arg(ctx.args.tz, "--tz") if ctx.args.tz else None
    ctx.out.event(ctx.client.get_event(ctx.args.id), tz=tz)


def cmd_events_update(ctx: Context) -> None:
    args = ctx.args
    event = events_pb2.Event(id=args.id, revision=args.revision)
    paths: list[str] = []
    tz = zone_arg(args.time_zone, "--time-zone") if args.time_zone else None
    if args.start is not None or args.duration is not None:
        current = ctx.client.get_event(args.id).event
        start = instant(current.start)
        duration = timedelta(minutes=args.duration) if args.duration is not None else instant(current.end) - start
        if args.start is not None:
            local = local_arg(args.start, "--start")
            try:
                start = timeseries.resolve(local, tz or zone_arg(current.time_zone, "event time zone"))
            except timeseries.TimeSeriesError as exc:
                raise _time_error(exc) from None
            event.start.CopyFrom(timestamp(start))
            paths.append("start")
        event.end.CopyFrom(timestamp(start + duration))
        paths.append("end")
    if args.time_zone:
        event.time_zone = args.time_zone
        paths.append("time_zone")
    if args.capacity is not None:
        event.total_capacity = args.capacity
        paths.append("total_capacity")
    if args.title is not None:
        event.title = args.title
        paths.append("title")
    if not paths:
        raise CliError("nothing to update: give at least one of --start, --duration, --time-zone, --capacity, --title")
    ctx.out.event(ctx.client.update_event(event, paths), tz=tz, verb="Updated")


def cmd_events_cancel(ctx: Context) -> None:
    ctx.out.event(ctx.client.cancel_event(ctx.args.id, ctx.args.revision), verb="Cancelled")


# --- schedules and time frames ------------------------------------------------------------------------


def cmd_schedules_get(ctx: Context) -> None:
    ctx.out.schedule(ctx.client.get_schedule(ctx.args.id))


def cmd_timeframes(ctx: Context) -> None:
    args = ctx.args
    response = ctx.client.list_time_frames(args.ids)
    if ctx.out.as_json:
        ctx.out.json(response)
        return
    if args.tz:
        tz = zone_arg(args.tz, "--tz")
        zones = {sid: tz for sid in args.ids}
    else:
        zones = {sid: ctx.schedule_zone(sid) for sid in dict.fromkeys(args.ids)}
    ctx.out.time_frames(response, zones)


# --- availability -----------------------------------------------------------------------------------


# --- registration (services/cli/main.py) --------------------------------------------------------------


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings events create|bulk-create|list|get|update|cancel`, `bookings schedules get`, `bookings timeframes`."""
    events = commands.add_parser("events", help="sessions of a schedule").add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, handler, help_text in (
        ("create", cmd_events_create, "create one session"),
        ("bulk-create", cmd_events_bulk_create, "create a series of sessions at the same local time"),
    ):
        p = leaf(events, name, handler, help_text)
        p.add_argument("--schedule", required=True, metavar="ID")
        p.add_argument("--start", required=True, metavar="LOCAL", help="local date-time, e.g. 2026-12-01T10:00")
        p.add_argument("--duration", type=positive_int, required=True, metavar="MINUTES")
        p.add_argument("--time-zone", help="zone of --start (default: the schedule's)")
        p.add_argument("--capacity", type=positive_int, help="default: the schedule's")
        p.add_argument("--title")
        if name == "bulk-create":
            p.add_argument("--count", type=positive_int, required=True, help=f"number of sessions (1..{timeseries.MAX_SERIES})")
            p.add_argument(
                "--every",
                type=_interval,
                default=timeseries.Interval(7, "d"),
                help="7d / 1w (weekly), 1d (daily): same local time; 2h, 30m: elapsed time (default 7d)",
            )

    p = leaf(events, "list", cmd_events_list, "list sessions sorted by start")
    p.add_argument("--schedule", action="append", metavar="ID", help="repeatable")
    p.add_argument("--from", dest="from_", metavar="LOCAL", help="sessions starting at or after (local date or date-time)")
    p.add_argument("--to", metavar="LOCAL", help="sessions starting before (local date or date-time)")
    p.add_argument("--include-cancelled", action="store_true")
    p.add_argument("--tz", help="zone for --from/--to and the table (default: the schedule's / each event's)")
    p.add_argument("--limit", type=positive_int, help="page size (server default 50, max 1000)")
    p.add_argument("--cursor")
    p.add_argument("--all", action="store_true", help="follow cursors to the end")

    p = leaf(events, "get", cmd_events_get, "show a session")
    p.add_argument("id")
    p.add_argument("--tz", help="show times in this zone (default: the event's)")

    p = leaf(events, "update", cmd_events_update, "move, resize or retitle a session")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True)
    p.add_argument("--start", metavar="LOCAL", help="new local start (in --time-zone or the event's zone); keeps the duration")
    p.add_argument("--duration", type=positive_int, metavar="MINUTES")
    p.add_argument("--time-zone", help="the event's display zone (and the zone of --start); the instants stay unless --start is given")
    p.add_argument("--capacity", type=positive_int)
    p.add_argument("--title")

    p = leaf(events, "cancel", cmd_events_cancel, "cancel a session")
    p.add_argument("id")
    p.add_argument("--revision", type=positive_int, required=True)

    schedules = commands.add_parser("schedules", help="calendar schedules").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(schedules, "get", cmd_schedules_get, "show a schedule")
    p.add_argument("id")

    p = leaf(commands, "timeframes", cmd_timeframes, "first start, last end and number of sessions of schedules")
    p.add_argument("ids", nargs="+", metavar="SCHEDULE_ID")
    p.add_argument("--tz", help="show times in this zone (default: each schedule's)")
