"""What every command group's output shares: the `Renderer` (rich tables for people, protobuf JSON
for machines, one-line errors) and the helpers that format times, enums and failed calls.

Each group renders its own results beside its commands, with these primitives (`show_service` in
`catalog.py`, `show_events` in `calendar.py`, ...); nothing here knows a group's results.

`--json` prints the RPC response as `MessageToDict(preserving_proto_field_name=True)`, with fields
at their default value included too (a machine should not have to know that an absent
`participants_total` means 0); int64 fields such as `revision` are strings, as in the protobuf
JSON mapping. Text from the server or the user is never interpreted as rich markup.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from rich.console import Console
from rich.table import Table
from rich.text import Text

from services.cli import timeseries
from services.cli.client import CallError, instant
from services.cli.toggles import TAKES_EFFECT
from services.common.grpc_status import error_reason, field_violations, status_details

WIDE = 200  # columns when stdout is not a terminal, so piped tables never wrap ids


def to_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def local_time(instant: datetime, tz: ZoneInfo, *, with_date: bool = True) -> str:
    """`Tue 2026-12-01 10:00 CET`; `10:00 CET` without the date."""
    local = timeseries.to_local(instant, tz)
    return local.strftime("%a %Y-%m-%d %H:%M %Z" if with_date else "%H:%M %Z")


def local_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """`Tue 2026-12-08 09:00–09:30 CET` for two instants, as `slots.local_span` shows a slot: the
    end's date is repeated when it is another day, and each zone abbreviation shown when the
    clocks change in between (`Sun 2027-03-28 01:30 CET–03:30 CEST`)."""
    first, last = timeseries.to_local(start, tz), timeseries.to_local(end, tz)
    head = f"{first:%a %Y-%m-%d %H:%M}"
    tail = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%a %Y-%m-%d %H:%M}"
    if first.tzname() == last.tzname():
        return f"{head}–{tail} {first.tzname()}"
    return f"{head} {first.tzname()}–{tail} {last.tzname()}"


def zone_or_utc(name: str) -> ZoneInfo:
    """The zone a response names, UTC when it names none (or one this machine does not know)."""
    try:
        return timeseries.zone(name)
    except timeseries.TimeSeriesError:
        return ZoneInfo("UTC")


def enum_name(message: Message, field: str) -> str:
    """The name of the enum value in `message.field`, e.g. `COURSE`, `CONFIRMED`."""
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    return descriptor.values_by_number[getattr(message, field)].name


def utc_time(ts: Any) -> str:
    return instant(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


class Renderer:
    """Where a command's output goes. A group's `show_*` function prints `json(response)` when
    `as_json`, else its tables through `console` and these primitives."""

    def __init__(self, *, as_json: bool, out: IO[str] | None = None, err: IO[str] | None = None):
        self.as_json = as_json
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        width = None if self._out.isatty() else WIDE
        self.console = Console(file=self._out, width=width, markup=False, highlight=False, emoji=False)

    def json(self, payload: Message | dict[str, Any]) -> None:
        data = to_dict(payload) if isinstance(payload, Message) else payload
        print(json.dumps(data, indent=2, ensure_ascii=False), file=self._out)

    def line(self, text: str = "", style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def hint(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def more(self, next_cursor: str) -> None:
        """How to get the next page of a list; nothing on the last page (no cursor)."""
        if next_cursor:
            self.hint(f"More: --cursor {next_cursor}  (or --all)")

    def fields(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        """One resource as a two-column table: a row per field."""
        table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in rows:
            table.add_row(Text(key), Text(value))
        self.console.print(table)

    def id_line(self, label: str, value: str) -> None:
        """`service id: <id>`, the id stressed (what a person copies after a create)."""
        text = Text(f"{label}: ")
        text.append(value, style="bold green")
        self.console.print(text)

    def token(self, token: str, *, tenant: str, scopes: Iterable[str], ttl: int) -> None:
        if self.as_json:
            return self.json({"token": token, "tenant_id": tenant, "scopes": list(scopes), "ttl_seconds": ttl})
        # The bare token on stdout, so `export BOOKINGS_TOKEN=$(bookings token)` works.
        print(token, file=self._out)

    def error(self, lines: Sequence[str]) -> None:
        for line in lines:
            print(line, file=self._err)


# --- failed calls ---------------------------------------------------------------------------------

_HINTS = {
    grpc.StatusCode.UNAVAILABLE: "is the {service} service running at {address}? Start the platform with `make run`, or pass --{service}-address",
    grpc.StatusCode.DEADLINE_EXCEEDED: "no answer from {service} at {address} in time; retry, or raise --timeout",
    grpc.StatusCode.UNAUTHENTICATED: "the token was refused; get a fresh one with `bookings token` (same AUTH_JWT_SECRET as the services)",
    grpc.StatusCode.PERMISSION_DENIED: "the token lacks the scope this call needs; mint one with `bookings token --scopes ...`",
    grpc.StatusCode.ABORTED: "someone changed it in the meantime; fetch it again (get) and retry with the current --revision",
}


def call_error_lines(err: CallError, *, inline_reason: bool = False) -> list[str]:
    """`error: <CODE>: <message> (<Method> on <service> at <address>)`, then one line per field
    violation or the machine-readable reason, then a hint for codes a person can act on. With
    `inline_reason` (the booking commands) the reason is on the first line instead:
    `error: FAILED_PRECONDITION TOO_LATE_TO_BOOK: booking has closed (...)`."""
    code = err.code
    violations = field_violations(err.error) if code == grpc.StatusCode.INVALID_ARGUMENT else {}
    # The server's message of an INVALID_ARGUMENT joins the violations; they get a line each instead.
    message = f"{len(violations)} invalid field(s)" if violations else (err.details or code.name.lower())
    reason = error_reason(err.error) if code != grpc.StatusCode.INVALID_ARGUMENT else None
    status = f"{code.name} {reason}" if inline_reason and reason else code.name
    lines = [f"error: {status}: {message} ({err.method} on {err.service} at {err.address})"]
    lines += [f"  {field}: {description}" for field, description in violations.items()]
    if reason and not inline_reason:
        lines.append(f"  reason: {reason}")
    hint = _HINTS.get(code)
    if reason == "FEATURE_DISABLED":
        toggle = _error_metadata(err).get("toggle", "TOGGLE")
        hint = f"an operator switches it on for a tenant with `bookings toggles set {toggle} --allow TENANT` ({TAKES_EFFECT})"
    if hint:
        lines.append("  hint: " + hint.format(service=err.service, address=err.address))
    return lines


def _error_metadata(err: CallError) -> dict[str, str]:
    for detail in status_details(err.error):
        if isinstance(detail, error_details_pb2.ErrorInfo):
            return dict(detail.metadata)
    return {}
