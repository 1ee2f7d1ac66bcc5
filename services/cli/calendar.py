"""`bookings events ...`, `bookings schedules get`, `bookings timeframes`: schedules and their sessions, in local time,
and how they are shown (`show_event`, `show_events`, `show_schedule`, `show_time_frames`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from rich.table import Table
from rich.text import Text

from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.cli import timeseries
from services.cli.arguments import Leaf, positive_int
from services.cli.client import MAX_PAGE, instant, timestamp
from services.cli.context import CliError, Context, local_arg, zone_arg
from services.cli.render import Renderer, enum_name, local_time, to_dict, zone_or_utc


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
    show_event(ctx.out, ctx.client.create_event(_new_event(args, occurrence)), tz=tz, verb="Created")


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
    show_events(out, response, list(response.events), tz=tz, title=f"Created events on schedule {args.schedule}")
    if not out.as_json:
        for o in series:
            if o.shifted:
                out.hint(
                    f"note: {o.local:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks jump forward); that session starts at "
                    f"{local_time(o.start, tz, with_date=False)}"
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
        show_events(ctx.out, None, list(ctx.client.iter_events(page_size=args.limit or MAX_PAGE, **filters)), tz=display)
        return
    response = ctx.client.query_events(limit=args.limit or 0, cursor=args.cursor or "", **filters)
    paging = response.paging_metadata
    show_events(ctx.out, response, list(response.events), tz=display, next_cursor=paging.cursors.next if paging.has_next else "")


def cmd_events_get(ctx: Context) -> None:
    tz = zone_arg(ctx.args.tz, "--tz") if ctx.args.tz else None
    show_event(ctx.out, ctx.client.get_event(ctx.args.id), tz=tz)


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
    show_event(ctx.out, ctx.client.update_event(event, paths), tz=tz, verb="Updated")


def cmd_events_cancel(ctx: Context) -> None:
    show_event(ctx.out, ctx.client.cancel_event(ctx.args.id, ctx.args.revision), verb="Cancelled")


# --- schedules and time frames ------------------------------------------------------------------------


def cmd_schedules_get(ctx: Context) -> None:
    show_schedule(ctx.out, ctx.client.get_schedule(ctx.args.id))


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
    show_time_frames(ctx.out, response, zones)


# --- output -------------------------------------------------------------------------------------------


def show_schedule(out: Renderer, response: schedules_pb2.GetScheduleResponse) -> None:
    if out.as_json:
        return out.json(response)
    s = response.schedule
    rows = [
        ("id", s.id),
        ("name", s.name or "-"),
        ("external id", s.external_id or "-"),
        ("time zone", s.time_zone),
        ("default capacity", str(s.default_capacity)),
        ("status", enum_name(s, "status")),
        ("revision", str(s.revision)),
    ]
    out.fields(f"Schedule {s.id}", rows)


def show_event(out: Renderer, response: Message, *, tz: ZoneInfo | None = None, verb: str = "") -> None:
    """A response holding one `event`, its times in `tz` (default: the event's zone); with `verb`
    (Created, Updated, Cancelled) its id first."""
    if out.as_json:
        return out.json(response)
    e: events_pb2.Event = response.event  # type: ignore[attr-defined]
    zone = tz or zone_or_utc(e.time_zone)
    if verb:
        out.line(f"{verb} event", style="bold")
        out.id_line("event id", e.id)
    rows = [
        ("id", e.id),
        ("schedule id", e.schedule_id),
        ("title", e.title or "-"),
        ("start", local_time(instant(e.start), zone)),
        ("end", local_time(instant(e.end), zone)),
        ("time zone", e.time_zone),
        ("capacity", str(e.total_capacity)),
        ("participants", str(e.participants_total)),
        ("remaining", str(e.remaining_capacity)),
        ("status", enum_name(e, "status")),
        ("revision", str(e.revision)),
    ]
    out.fields(f"Event {e.id}", rows)


def show_events(
    out: Renderer,
    response: Message | None,
    items: Sequence[events_pb2.Event],
    *,
    tz: ZoneInfo | None = None,
    title: str = "Events",
    next_cursor: str = "",
) -> None:
    """A page of events (`response`), or with `--all` every event (`items`, no response); times in
    `tz`, else in each event's zone."""
    if out.as_json:
        return out.json(response if response is not None else {"events": [to_dict(e) for e in items]})
    zones = {e.time_zone for e in items}
    caption = f"times in {tz.key}" if tz else (f"times in {zones.pop()}" if len(zones) == 1 else "times in each event's zone")
    table = Table(title=f"{title} ({len(items)})", caption=caption, title_justify="left", title_style="bold", caption_justify="left")
    for header in ("id", "start", "end", "capacity", "participants", "remaining", "status"):
        table.add_column(header, no_wrap=True, justify="right" if header in ("capacity", "participants", "remaining") else "left")
    for e in items:
        zone = tz or zone_or_utc(e.time_zone)
        start, end = instant(e.start), instant(e.end)
        same_day = timeseries.to_local(start, zone).date() == timeseries.to_local(end, zone).date()
        table.add_row(
            Text(e.id),
            Text(local_time(start, zone)),
            Text(local_time(end, zone, with_date=not same_day)),
            Text(str(e.total_capacity)),
            Text(str(e.participants_total)),
            Text(str(e.remaining_capacity), style="red" if e.remaining_capacity <= 0 else ""),
            Text(enum_name(e, "status"), style="red" if e.status == events_pb2.CANCELLED else ""),
        )
    out.console.print(table)
    out.more(next_cursor)


def show_time_frames(out: Renderer, response: timeframes_pb2.ListScheduleTimeFramesResponse, zones: dict[str, ZoneInfo]) -> None:
    """A row per schedule, its times in `zones[schedule id]` (UTC when missing)."""
    if out.as_json:
        return out.json(response)
    table = Table(title="Schedule time frames", title_justify="left", title_style="bold")
    for header in ("schedule", "first start", "last end", "events", "time zone"):
        table.add_column(header, no_wrap=True, justify="right" if header == "events" else "left")
    for frame in response.time_frames:
        zone = zones.get(frame.schedule_id) or ZoneInfo("UTC")
        has_events = frame.HasField("first_event_start_date")
        table.add_row(
            Text(frame.schedule_id),
            Text(local_time(instant(frame.first_event_start_date), zone) if has_events else "-"),
            Text(local_time(instant(frame.last_event_end_date), zone) if frame.HasField("last_event_end_date") else "-"),
            Text(str(frame.event_count)),
            Text(zone.key),
        )
    out.console.print(table)


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
