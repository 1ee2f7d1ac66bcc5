"""`bookings watch capacity`: the sessions of a schedule with their remaining spots, total and
participants, refreshed in place until Ctrl-C, what changed since the last refresh highlighted.

    bookings watch capacity --schedule <schedule id>                 # live, every 0.5 s
    bookings watch capacity --schedule <schedule id> --interval 2 --tz UTC
    bookings watch capacity --schedule <schedule id> --once          # one snapshot
    bookings watch capacity --schedule <schedule id> --json          # one JSON line per refresh

Each refresh reads the schedule's sessions from timeframes (`QueryEvents`, cancelled ones
included, so a session cancelled while watching stays in view, marked), which is where the
participations pipeline writes each session's participant total: a booking shows up here once
that pipeline has settled it (eventually consistent: from a fraction of a second to several
seconds under load, see bench/results/pipeline.md).

On a terminal the table is redrawn in place (rich `Live`); when stdout is not a terminal each
refresh is printed below the previous one. `--json` prints one object per line and refresh:
`refresh`, `at`, `sessions` (each with the fields that `changed` since the previous refresh),
`changed_event_ids`, `new_event_ids`, `gone_event_ids` and `totals`. `--count N` stops after N
refreshes. Ctrl-C ends the watch normally (exit code 0). A refresh that fails because a service
is briefly unreachable (UNAVAILABLE, DEADLINE_EXCEEDED) keeps the last view, says so, and is
retried at the next interval; any other failure ends the watch with the usual one-line error.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

import grpc
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from services.api.calendar.events.v3 import events_pb2
from services.cli import render, timeseries
from services.cli.arguments import Leaf, positive_int
from services.cli.client import CallError, Client, instant

DEFAULT_INTERVAL = 0.5
MIN_INTERVAL = 0.1
# Fields a refresh compares, in the order a change is described.
WATCHED = ("participants", "remaining", "total", "status", "start", "end")
# Their names in `--json` (those of calendar.events.v3.Event).
JSON_NAMES = {
    "participants": "participants_total",
    "remaining": "remaining_capacity",
    "total": "total_capacity",
    "status": "status",
    "start": "start",
    "end": "end",
}
# Failures a live watch rides out: the service restarts or is briefly overloaded.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
CHANGED_STYLE = "bold black on yellow"
NEW_STYLE = "bold green"


class _Context(Protocol):
    args: argparse.Namespace
    out: render.Renderer

    @property
    def client(self) -> Client: ...


# --- what is watched --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    event_id: str
    start: datetime
    end: datetime
    total: int
    participants: int
    remaining: int
    status: str

    @classmethod
    def of(cls, event: events_pb2.Event) -> Session:
        return cls(
            event_id=event.id,
            start=instant(event.start),
            end=instant(event.end),
            total=event.total_capacity,
            participants=event.participants_total,
            remaining=event.remaining_capacity,
            status=events_pb2.EventStatus.Name(event.status),
        )

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"


@dataclass(frozen=True)
class Snapshot:
    """One refresh: the sessions, and what differs from the refresh before (nothing on the first)."""

    refresh: int
    at: datetime
    sessions: tuple[Session, ...]
    previous: dict[str, Session] = field(default_factory=dict)  # event id -> as of the refresh before
    changed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # event id -> fields in WATCHED order
    new: frozenset[str] = frozenset()
    gone: tuple[Session, ...] = ()

    @property
    def totals(self) -> dict[str, int]:
        """Sums over the sessions that are not cancelled."""
        live = [s for s in self.sessions if not s.cancelled]
        return {
            "sessions": len(live),
            "cancelled": len(self.sessions) - len(live),
            "total_capacity": sum(s.total for s in live),
            "participants_total": sum(s.participants for s in live),
            "remaining_capacity": sum(s.remaining for s in live),
        }


def compare(before: Snapshot | None, sessions: Sequence[Session], refresh: int, at: datetime) -> Snapshot:
    """The snapshot of `sessions`, with what changed since `before` (None: the first refresh)."""
    if before is None:
        return Snapshot(refresh, at, tuple(sessions))
    old = {s.event_id: s for s in before.sessions}
    now_ids = {s.event_id for s in sessions}
    changed: dict[str, tuple[str, ...]] = {}
    for s in sessions:
        prior = old.get(s.event_id)
        if prior is not None:
            fields = tuple(f for f in WATCHED if getattr(prior, f) != getattr(s, f))
            if fields:
                changed[s.event_id] = fields
    return Snapshot(
        refresh,
        at,
        tuple(sessions),
        previous=old,
        changed=changed,
        new=frozenset(now_ids - old.keys()),
        gone=tuple(s for s in before.sessions if s.event_id not in now_ids),
    )


def fetch(client: Client, schedule_id: str) -> list[Session]:
    """Every session of the schedule, cancelled ones included, by start."""
    events = client.iter_events(schedule_ids=[schedule_id], include_cancelled=True)
    return sorted((Session.of(e) for e in events), key=lambda s: (s.start, s.event_id))


# --- output -----------------------------------------------------------------------------------------


def _delta(n: int) -> str:
    return f"+{n}" if n > 0 else f"−{-n}"


def describe(snapshot: Snapshot, event_id: str, zone: ZoneInfo) -> str:
    """What changed on a session since the refresh before, in few words: `+2 participants`,
    `total 12 → 14`, `→ CANCELLED`, `moved`, `new`. Remaining spots are named only when neither
    participants nor total explain the change."""
    if event_id in snapshot.new:
        return "new"
    before = snapshot.previous[event_id]
    now = next(s for s in snapshot.sessions if s.event_id == event_id)
    fields = snapshot.changed.get(event_id, ())
    words = []
    for f in fields:
        if f == "participants":
            words.append(f"{_delta(now.participants - before.participants)} participants")
        elif f == "total":
            words.append(f"total {before.total} → {now.total}")
        elif f == "remaining" and not {"participants", "total"} & set(fields):
            words.append(f"{_delta(now.remaining - before.remaining)} remaining")
        elif f == "status":
            words.append(f"→ {now.status}")
        elif f == "start" or (f == "end" and "start" not in fields):
            words.append("moved" if f == "start" else f"now ends {render.local_time(now.end, zone, with_date=False)}")
    return ", ".join(words)


# Below this many columns the table is compact: session ids shortened to their first 8
# characters, times as `12-01 18:00`, and the status column folded into the change column
# (`--json` and a wider terminal show everything whole).
FULL_WIDTH = 140
SHORT_ID = 8


def table(
    snapshot: Snapshot, *, schedule_id: str, name: str, zone: ZoneInfo, interval: float | None, width: int = FULL_WIDTH, problem: str = ""
) -> RenderableType:
    """The refresh as a table: changed cells highlighted, a change column, totals last."""
    title = Text(f"Capacity of {name!r} · " if name else "Capacity of ", style="bold")
    title.append(f"schedule {schedule_id}", style="bold")
    full = width >= FULL_WIDTH
    caption = f"refresh {snapshot.refresh} at {snapshot.at.astimezone(zone):%H:%M:%S %Z} · times in {zone.key}"
    if interval is not None:
        caption += f" · every {interval:g} s · highlighted: changed since the last refresh · Ctrl-C stops"
    if not full:
        caption += f" · compact (ids shortened): {FULL_WIDTH}+ columns or --json show them whole"
    grid = Table(title=title, caption=caption, title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    grid.add_column("session", no_wrap=True)
    grid.add_column("start", min_width=24 if full else 11)  # a time never wraps, the totals' label may
    for header in ("remaining", "total", "participants"):
        grid.add_column(header, no_wrap=True, justify="right")
    if full:
        grid.add_column("status", no_wrap=True)
    grid.add_column("change", min_width=12)

    def start(s: Session) -> str:
        return render.local_time(s.start, zone) if full else timeseries.to_local(s.start, zone).strftime("%m-%d %H:%M")

    def session_id(s: Session) -> str:
        return s.event_id if full else s.event_id[:SHORT_ID]

    for s in snapshot.sessions:
        changed = set(snapshot.changed.get(s.event_id, ()))
        is_new = s.event_id in snapshot.new

        def cell(value: str, f: str, base: str = "", changed: set[str] = changed, is_new: bool = is_new) -> Text:
            return Text(value, style=CHANGED_STYLE if f in changed else (NEW_STYLE if is_new else base))

        change = describe(snapshot, s.event_id, zone) if changed or is_new else ""
        cells = [
            Text(session_id(s), style=NEW_STYLE if is_new else ""),
            cell(start(s), "start", "strike" if s.cancelled else ""),
            cell(str(s.remaining), "remaining", "red" if s.remaining <= 0 and not s.cancelled else ""),
            cell(str(s.total), "total"),
            cell(str(s.participants), "participants"),
        ]
        if full:
            cells.append(cell(s.status, "status", "red" if s.cancelled else ""))
            cells.append(Text(change, style="yellow"))
        else:
            cells.append(Text(change, style="yellow") if change else Text("cancelled" if s.cancelled else "", style="red"))
        grid.add_row(*cells)
    for s in snapshot.gone:
        blanks = [Text("")] * (4 if full else 3)
        grid.add_row(Text(session_id(s), style="dim strike"), Text(start(s), style="dim"), *blanks, Text("gone", style="yellow"))
    t = snapshot.totals
    grid.add_section()
    cancelled = f", {t['cancelled']} cancelled" if t["cancelled"] else ""
    changes = len(snapshot.changed) + len(snapshot.new) + len(snapshot.gone)
    grid.add_row(
        Text("all", style="bold"),
        Text(f"{t['sessions']} sessions{cancelled}", style="bold"),
        Text(str(t["remaining_capacity"]), style="bold"),
        Text(str(t["total_capacity"]), style="bold"),
        Text(str(t["participants_total"]), style="bold"),
        *([Text("")] if full else []),
        Text(f"{changes} changed" if snapshot.refresh > 1 else "", style="bold yellow" if changes else ""),
    )
    if not problem:
        return grid
    return Group(grid, Text(problem, style="bold red"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(snapshot: Snapshot, *, schedule_id: str, zone: ZoneInfo) -> str:
    sessions = [
        {
            "event_id": s.event_id,
            "start": _utc(s.start),
            "end": _utc(s.end),
            "local_start": timeseries.to_local(s.start, zone).replace(tzinfo=None).isoformat(timespec="seconds"),
            "total_capacity": s.total,
            "participants_total": s.participants,
            "remaining_capacity": s.remaining,
            "status": s.status,
            "changed": [JSON_NAMES[f] for f in snapshot.changed.get(s.event_id, ())],
        }
        for s in snapshot.sessions
    ]
    payload = {
        "schedule_id": schedule_id,
        "refresh": snapshot.refresh,
        "at": _utc(snapshot.at),
        "time_zone": zone.key,
        "sessions": sessions,
        "changed_event_ids": [s.event_id for s in snapshot.sessions if s.event_id in snapshot.changed],
        "new_event_ids": sorted(snapshot.new),
        "gone_event_ids": [s.event_id for s in snapshot.gone],
        "totals": snapshot.totals,
    }
    return json.dumps(payload, ensure_ascii=False)


# --- the loop ---------------------------------------------------------------------------------------


def _sleep(seconds: float) -> None:
    """Between refreshes (a module attribute, so a test can act between two refreshes)."""
    time.sleep(seconds)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Watch:
    client: Client
    schedule_id: str
    name: str
    zone: ZoneInfo
    interval: float
    count: int | None  # None: until Ctrl-C
    console: Console
    as_json: bool
    errors: Callable[[list[str]], None]

    def __post_init__(self) -> None:
        self.last: Snapshot | None = None
        self.refreshes = 0

    @property
    def stream(self) -> IO[str]:
        return self.console.file

    def refresh(self) -> tuple[Snapshot, str]:
        """Read the sessions once more. A transient failure after the first refresh keeps the
        last snapshot and returns the problem; any other failure is raised."""
        try:
            sessions = fetch(self.client, self.schedule_id)
        except CallError as err:
            if self.last is None or err.code not in TRANSIENT:
                raise
            lines = render.call_error_lines(err)
            problem = f"refresh failed at {_now().astimezone(self.zone):%H:%M:%S}, showing refresh {self.last.refresh}; retrying: " + lines[0].removeprefix(
                "error: "
            )
            if self.as_json:
                self.errors(lines)
            return self.last, problem
        self.refreshes += 1
        self.last = compare(self.last, sessions, self.refreshes, _now())
        return self.last, ""

    def view(self, snapshot: Snapshot, problem: str = "", *, live: bool = True) -> RenderableType:
        interval = self.interval if live else None
        return table(snapshot, schedule_id=self.schedule_id, name=self.name, zone=self.zone, interval=interval, width=self.console.width, problem=problem)

    def emit(self, snapshot: Snapshot, problem: str) -> None:
        """One refresh where it goes when not redrawn in place: a JSON line, or the next table."""
        if self.as_json:
            if not problem:
                print(json_line(snapshot, schedule_id=self.schedule_id, zone=self.zone), file=self.stream, flush=True)
            return
        self.console.print(self.view(snapshot, problem))
        self.stream.flush()

    def ticks(self) -> Iterable[None]:
        """Yields once per refresh, on a fixed schedule (a refresh that took longer than the
        interval is followed at once by the next, missed ones are not made up)."""
        began = time.monotonic()
        done = slot = 0
        while self.count is None or done < self.count:
            if done:
                slot += 1
                wait = began + slot * self.interval - time.monotonic()
                if wait < -self.interval:  # fell behind by more than a refresh: start the schedule again from now
                    began, slot, wait = time.monotonic(), 0, 0.0
                _sleep(max(wait, 0.0))
            done += 1
            yield

    def run(self) -> None:
        """Until `count` refreshes are done or Ctrl-C; a KeyboardInterrupt ends it normally."""
        in_place = not self.as_json and self.console.is_terminal
        try:
            if not in_place:
                for _ in self.ticks():
                    self.emit(*self.refresh())
                return
            live = Live(console=self.console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False, vertical_overflow="ellipsis")
            with live:
                for _ in self.ticks():
                    snapshot, problem = self.refresh()
                    live.update(self.view(snapshot, problem), refresh=True)
        except KeyboardInterrupt:
            pass
        if not self.as_json and self.count != 1:
            self.console.print(Text(f"stopped after {self.refreshes} refresh{'es' if self.refreshes != 1 else ''}", style="dim"))


def cmd_capacity(ctx: _Context) -> None:
    args = ctx.args
    # The schedule first: an unknown id is NOT_FOUND at once, and it names the default zone.
    schedule = ctx.client.get_schedule(args.schedule).schedule
    option, zone_name = ("--tz", args.tz) if args.tz else (f"schedule {args.schedule} time zone", schedule.time_zone)
    try:
        zone = timeseries.zone(zone_name)
    except timeseries.TimeSeriesError as exc:
        raise timeseries.TimeSeriesError(f"{option}: {exc}") from None
    count = 1 if args.once else args.count
    watch = Watch(
        client=ctx.client,
        schedule_id=args.schedule,
        name=schedule.name,
        zone=zone,
        interval=args.interval,
        count=count,
        console=ctx.out.console,
        as_json=ctx.out.as_json,
        errors=ctx.out.error,
    )
    if args.once and not ctx.out.as_json:
        snapshot, _ = watch.refresh()
        ctx.out.console.print(watch.view(snapshot, live=False))
        return
    watch.run()


# --- parser -----------------------------------------------------------------------------------------


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= MIN_INTERVAL:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: the interval is at least {MIN_INTERVAL} s")
    return value


def add_commands(commands: Any, leaf: Leaf) -> None:
    """`bookings watch capacity`, added to the CLI's command parsers."""
    group = commands.add_parser("watch", help="live views that refresh in place until Ctrl-C").add_subparsers(dest="action", required=True, metavar="WHAT")
    p = leaf(
        group,
        "capacity",
        cmd_capacity,
        "each session of a schedule: remaining spots, total, participants (QueryEvents), refreshed in place, changes highlighted; --json: a line per refresh",
    )
    p.add_argument("--schedule", required=True, metavar="ID", help="the schedule (of a course or class) to watch")
    p.add_argument(
        "--interval",
        type=_interval,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between refreshes (default {DEFAULT_INTERVAL:g}, at least {MIN_INTERVAL:g})",
    )
    p.add_argument("--tz", help="show times in this zone (default: the schedule's)")
    how_long = p.add_mutually_exclusive_group()
    how_long.add_argument("--once", action="store_true", help="print one snapshot and exit")
    how_long.add_argument("--count", type=positive_int, metavar="N", help="stop after N refreshes (default: until Ctrl-C)")
