"""Output of the CLI: rich tables for people, protobuf JSON for machines, one-line errors.

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

from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.v2 import bookings_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.cli import slots, timeseries
from services.cli.client import CallError, instant
from services.cli.toggles import TAKES_EFFECT, Change, Decision, Stored, rule_dict, tenants_text
from services.common.grpc_status import error_reason, field_violations, status_details

WIDE = 200  # columns when stdout is not a terminal, so piped tables never wrap ids


def to_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def local_time(instant: datetime, tz: ZoneInfo, *, with_date: bool = True) -> str:
    """`Tue 2026-12-01 10:00 CET`; `10:00 CET` without the date."""
    local = timeseries.to_local(instant, tz)
    return local.strftime("%a %Y-%m-%d %H:%M %Z" if with_date else "%H:%M %Z")


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return timeseries.zone(name)
    except timeseries.TimeSeriesError:
        return ZoneInfo("UTC")


def _enum(message: Message, field: str) -> str:
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    return descriptor.values_by_number[getattr(message, field)].name


def _minutes(minutes: int) -> str:
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes} min"


def policy_summary(policy: booking_policy_pb2.BookingPolicy) -> dict[str, str]:
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


class Renderer:
    def __init__(self, *, as_json: bool, out: IO[str] | None = None, err: IO[str] | None = None):
        self.as_json = as_json
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        width = None if self._out.isatty() else WIDE
        self.console = Console(file=self._out, width=width, markup=False, highlight=False, emoji=False)

    # --- primitives ------------------------------------------------------------------------------

    def json(self, payload: Message | dict[str, Any]) -> None:
        data = to_dict(payload) if isinstance(payload, Message) else payload
        print(json.dumps(data, indent=2, ensure_ascii=False), file=self._out)

    def line(self, text: str = "", style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def hint(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def _fields(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in rows:
            table.add_row(Text(key), Text(value))
        self.console.print(table)

    def _id(self, label: str, value: str) -> None:
        text = Text(f"{label}: ")
        text.append(value, style="bold green")
        self.console.print(text)

    # --- catalog ---------------------------------------------------------------------------------

    def _service_rows(self, s: services_pb2.Service) -> list[tuple[str, str]]:
        rows = [
            ("id", s.id),
            ("type", _enum(s, "type")),
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

    def service(self, response: Message, *, verb: str = "") -> None:
        if self.as_json:
            return self.json(response)
        s: services_pb2.Service = response.service  # type: ignore[attr-defined]
        if verb:
            self.line(f"{verb} {_enum(s, 'type')} service {s.name!r}", style="bold")
            self._id("service id", s.id)
            if s.schedule_id:
                self._id("schedule id", s.schedule_id)
        self._fields(f"Service {s.id}", self._service_rows(s))
        if verb == "Created" and s.schedule_id:
            self.hint(f"Next: bookings events bulk-create --schedule {s.schedule_id} --start YYYY-MM-DDTHH:MM --duration 60 --count 10 --every 7d")

    def services(self, response: Message | None, items: Sequence[services_pb2.Service], next_cursor: str) -> None:
        if self.as_json:
            return self.json(response if response is not None else {"services": [to_dict(s) for s in items]})
        table = Table(title=f"Services ({len(items)})", title_justify="left", title_style="bold")
        for header in ("id", "type", "name", "schedule id", "capacity", "time zone", "online", "revision"):
            table.add_column(header, no_wrap=header.endswith("id"))
        for s in items:
            table.add_row(
                *(
                    Text(v)
                    for v in (
                        s.id,
                        _enum(s, "type"),
                        s.name,
                        s.schedule_id or "-",
                        f"{s.default_capacity} (strict)" if s.strict_capacity else str(s.default_capacity),
                        s.time_zone,
                        "yes" if s.online_booking_enabled else "no",
                        str(s.revision),
                    )
                )
            )
        self.console.print(table)
        if next_cursor:
            self.hint(f"More: --cursor {next_cursor}  (or --all)")

    def deleted(self, response: Message, what: str, ident: str) -> None:
        if self.as_json:
            return self.json(response)
        self.line(f"Deleted {what} {ident}")

    def policies(self, response: booking_policy_pb2.ListBookingPoliciesResponse) -> None:
        if self.as_json:
            return self.json(response)
        table = Table(title="Booking policies", title_justify="left", title_style="bold")
        headers = ("service id", "online booking", "opens", "closes", "book after start", "max per booking", "cancel until")
        for header in headers:
            table.add_column(header, no_wrap=header == "service id")
        for p in response.booking_policies:
            summary = policy_summary(p.booking_policy)
            table.add_row(Text(p.service_id), Text("disabled" if p.book_online_disabled else "enabled"), *(Text(v) for v in summary.values()))
        self.console.print(table)

    # --- calendar --------------------------------------------------------------------------------

    def schedule(self, response: schedules_pb2.GetScheduleResponse) -> None:
        if self.as_json:
            return self.json(response)
        s = response.schedule
        rows = [
            ("id", s.id),
            ("name", s.name or "-"),
            ("external id", s.external_id or "-"),
            ("time zone", s.time_zone),
            ("default capacity", str(s.default_capacity)),
            ("status", _enum(s, "status")),
            ("revision", str(s.revision)),
        ]
        self._fields(f"Schedule {s.id}", rows)

    def event(self, response: Message, *, tz: ZoneInfo | None = None, verb: str = "") -> None:
        if self.as_json:
            return self.json(response)
        e: events_pb2.Event = response.event  # type: ignore[attr-defined]
        zone = tz or _zone_or_utc(e.time_zone)
        if verb:
            self.line(f"{verb} event", style="bold")
            self._id("event id", e.id)
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
            ("status", _enum(e, "status")),
            ("revision", str(e.revision)),
        ]
        self._fields(f"Event {e.id}", rows)

    def events(
        self,
        response: Message | None,
        items: Sequence[events_pb2.Event],
        *,
        tz: ZoneInfo | None = None,
        title: str = "Events",
        next_cursor: str = "",
    ) -> None:
        if self.as_json:
            return self.json(response if response is not None else {"events": [to_dict(e) for e in items]})
        zones = {e.time_zone for e in items}
        caption = f"times in {tz.key}" if tz else (f"times in {zones.pop()}" if len(zones) == 1 else "times in each event's zone")
        table = Table(title=f"{title} ({len(items)})", caption=caption, title_justify="left", title_style="bold", caption_justify="left")
        for header in ("id", "start", "end", "capacity", "participants", "remaining", "status"):
            table.add_column(header, no_wrap=True, justify="right" if header in ("capacity", "participants", "remaining") else "left")
        for e in items:
            zone = tz or _zone_or_utc(e.time_zone)
            start, end = instant(e.start), instant(e.end)
            same_day = timeseries.to_local(start, zone).date() == timeseries.to_local(end, zone).date()
            table.add_row(
                Text(e.id),
                Text(local_time(start, zone)),
                Text(local_time(end, zone, with_date=not same_day)),
                Text(str(e.total_capacity)),
                Text(str(e.participants_total)),
                Text(str(e.remaining_capacity), style="red" if e.remaining_capacity <= 0 else ""),
                Text(_enum(e, "status"), style="red" if e.status == events_pb2.CANCELLED else ""),
            )
        self.console.print(table)
        if next_cursor:
            self.hint(f"More: --cursor {next_cursor}  (or --all)")

    def time_frames(self, response: timeframes_pb2.ListScheduleTimeFramesResponse, zones: dict[str, ZoneInfo]) -> None:
        if self.as_json:
            return self.json(response)
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
        self.console.print(table)

    # --- availability ----------------------------------------------------------------------------

    def time_slots(
        self,
        response: time_slots_pb2.ListCourseEventTimeSlotsResponse | time_slots_pb2.ListEventTimeSlotsResponse,
        *,
        course: bool,
        names: dict[str, str],
        party: int,
        now: datetime,
        window: str,
        next_cursor: str = "",
    ) -> None:
        """One table per course (or class), titled with its name and, for a course, its single
        decision; a row per session with its local time in the response's zone."""
        if self.as_json:
            return self.json(response)
        zone = _zone_or_utc(response.time_zone)
        kind = "course" if course else "class"
        groups: dict[str, list[Any]] = {}
        for slot in response.time_slots:
            groups.setdefault(slot.service_id, []).append(slot)
        if not groups:
            self.line(f"No {kind} sessions {window} (times in {zone.key})")
        for service_id, items in groups.items():
            title = Text(f"{names[service_id]} · " if service_id in names else "", style="bold")
            title.append(f"{kind} {service_id}", style="bold")
            if course:
                title.append(" · " + self._course_decision(items[0], zone, now, party), style="bold")
            table = Table(title=title, caption=f"times in {zone.key}", title_justify="left", caption_justify="left")
            headers = ["session", "local time", "spots"] + (["sessions left"] if course else []) + ["bookable", "why not"]
            for header in headers:
                table.add_column(header, no_wrap=header != "why not", justify="right" if header in ("spots", "sessions left") else "left")
            for slot in items:
                why = slots.why_not(
                    slot.booking_policy_violations,
                    slot.non_bookable_reasons,
                    zone=zone,
                    now=now,
                    party=party,
                    remaining=slot.remaining_capacity,
                    sessions_left=slot.remaining_sessions if course else None,
                    course=course,
                )
                cells = [
                    Text(slot.event_id),
                    Text(slots.local_span(slot.local_start_date, slot.local_end_date, zone)),
                    Text(slots.spots(slot.remaining_capacity, slot.total_capacity), style="red" if slot.remaining_capacity <= 0 else ""),
                ]
                if course:
                    cells.append(Text(slots.sessions_left(slot.remaining_sessions, slot.total_sessions)))
                cells += [Text(slots.yes_no(slot.bookable), style="green" if slot.bookable else "red"), Text(slots.why_not_text(slot.bookable, why))]
                table.add_row(*cells)
            self.console.print(table)
        if next_cursor:
            self.hint(f"More: --cursor {next_cursor}  (or --all)")

    @staticmethod
    def _course_decision(slot: time_slots_pb2.CourseEventTimeSlot, zone: ZoneInfo, now: datetime, party: int) -> str:
        """The course's decision, which every slot repeats (without the session's own state)."""
        reasons = time_slots_pb2.NonBookableReasons()
        reasons.CopyFrom(slot.non_bookable_reasons)
        reasons.event_cancelled = reasons.event_started = False
        if not (reasons.no_remaining_capacity or reasons.violates_booking_policy):
            return "bookable"
        why = slots.why_not(slot.booking_policy_violations, reasons, zone=zone, now=now, party=party, sessions_left=slot.remaining_sessions)
        return "not bookable: " + slots.why_not_text(False, why)

    def course_availability(self, response: time_slots_pb2.GetCourseEventTimeSlotResponse, *, name: str, party: int, now: datetime) -> None:
        if self.as_json:
            return self.json(response)
        c = response.course
        zone = _zone_or_utc(response.time_zone)
        first = slots.instant_of(c, "first_event_start_date")
        last = slots.instant_of(c, "last_event_end_date")
        why = slots.why_not(
            c.booking_policy_violations,
            c.non_bookable_reasons,
            zone=zone,
            now=now,
            party=party,
            remaining=c.open_spots,
            sessions_left=c.remaining_sessions,
            course=False,
        )
        rows = [
            ("course", f"{name} ({c.service_id})" if name else c.service_id),
            ("schedule id", c.schedule_id),
            ("bookable", slots.yes_no(c.bookable)),
            ("why not", slots.why_not_text(c.bookable, why)),
            ("open spots", slots.spots(c.open_spots, c.total_capacity)),
            ("sessions left", slots.sessions_left(c.remaining_sessions, c.total_sessions)),
            ("first session", local_time(first, zone) if first else "-"),
            ("last session ends", local_time(last, zone) if last else "-"),
            ("booking window", slots.booking_window(c.booking_policy_violations, zone, now, first)),
            ("time zone", zone.key),
        ]
        if response.HasField("time_slot"):
            s = response.time_slot
            session_why = slots.why_not(
                s.booking_policy_violations,
                s.non_bookable_reasons,
                zone=zone,
                now=now,
                party=party,
                remaining=s.remaining_capacity,
                sessions_left=s.remaining_sessions,
            )
            rows += [
                ("session", s.event_id),
                ("session time", slots.local_span(s.local_start_date, s.local_end_date, zone)),
                ("session spots", slots.spots(s.remaining_capacity, s.total_capacity)),
                ("session bookable", slots.yes_no(s.bookable)),
                ("session why not", slots.why_not_text(s.bookable, session_why)),
            ]
        self._fields(f"Course availability{f' · {name}' if name else ''}", rows)

    # --- bookings --------------------------------------------------------------------------------

    def booking(self, response: Message, *, verb: str = "") -> None:
        if self.as_json:
            return self.json(response)
        b: bookings_pb2.Booking = response.booking  # type: ignore[attr-defined]
        if verb:
            self.line(f"{verb}: {_participants(b.number_of_participants)}, {_enum(b, 'status')}", style="bold")
            self._id("booking id", b.id)
        rows = [
            ("id", b.id),
            ("service id", b.service_id),
            ("booked", booked_entity(b)),
            ("participants", str(b.number_of_participants)),
            ("contact", f"{b.contact.name} <{b.contact.email}>"),
            ("status", _enum(b, "status")),
            ("revision", str(b.revision)),
            ("created", utc_time(b.created_date) if b.HasField("created_date") else "-"),
            ("updated", utc_time(b.updated_date) if b.HasField("updated_date") else "-"),
        ]
        self._fields(f"Booking {b.id}", rows)
        if b.status == bookings_pb2.PENDING:
            self.hint(f"Awaits approval: bookings bookings confirm {b.id}   or   bookings bookings decline {b.id}")

    def bookings(self, response: Message | None, items: Sequence[bookings_pb2.Booking], next_cursor: str) -> None:
        if self.as_json:
            return self.json(response if response is not None else {"bookings": [to_dict(b) for b in items]})
        table = Table(title=f"Bookings ({len(items)})", caption="times in UTC", title_justify="left", title_style="bold", caption_justify="left")
        for header in ("id", "service id", "booked", "participants", "contact", "status", "revision", "created"):
            table.add_column(header, no_wrap=header.endswith("id") or header == "booked", justify="right" if header in ("participants", "revision") else "left")
        for b in items:
            table.add_row(
                Text(b.id),
                Text(b.service_id),
                Text(booked_entity(b)),
                Text(str(b.number_of_participants)),
                Text(f"{b.contact.name} <{b.contact.email}>"),
                Text(_enum(b, "status"), style="red" if b.status in (bookings_pb2.DECLINED, bookings_pb2.CANCELED) else ""),
                Text(str(b.revision)),
                Text(utc_time(b.created_date)),
            )
        self.console.print(table)
        if next_cursor:
            self.hint(f"More: --cursor {next_cursor}  (or --all)")

    # --- feature toggles -------------------------------------------------------------------------

    def toggles(self, stored: dict[str, Stored], known: Sequence[str]) -> None:
        names = [*known, *sorted(set(stored) - set(known))]
        if self.as_json:
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
            return self.json({"toggles": items})
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
        self.console.print(table)

    def toggle_change(self, name: str, before: Stored, after_rule: Any, written: bool, diff: Sequence[Change]) -> None:
        if self.as_json:
            return self.json(
                {"toggle": name, "changed": written, "before": rule_dict(before.rule), "after": rule_dict(after_rule), "changes": [vars(c) for c in diff]}
            )
        if before.problem:
            self.hint(f"note: the stored rule was {before.problem}; it was replaced")
        if not written:
            self.line(f"{name}: no change (percentage {after_rule.percentage}, allow {tenants_text(after_rule.allow)}, deny {tenants_text(after_rule.deny)})")
            return
        self.line(f"Changed {name} ({TAKES_EFFECT}):", style="bold")
        for change in diff:
            self.line(f"  {change}")

    def toggle_check(self, decision: Decision) -> None:
        if self.as_json:
            return self.json(
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
        self.console.print(text)
        rule = decision.rule
        stored = f"percentage {rule.percentage}, allow {tenants_text(rule.allow)}, deny {tenants_text(rule.deny)}" if rule else "not set"
        self.line(f"  bucket {decision.bucket} of 0..99 (stable per toggle and tenant); rule: {stored}")

    def token(self, token: str, *, tenant: str, scopes: Iterable[str], ttl: int) -> None:
        if self.as_json:
            return self.json({"token": token, "tenant_id": tenant, "scopes": list(scopes), "ttl_seconds": ttl})
        # The bare token on stdout, so `export BOOKINGS_TOKEN=$(bookings token)` works.
        print(token, file=self._out)

    # --- errors ----------------------------------------------------------------------------------

    def error(self, lines: Sequence[str]) -> None:
        for line in lines:
            print(line, file=self._err)


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


def booked_entity(b: bookings_pb2.Booking) -> str:
    """What a booking is for, in words: `course schedule <id>` or `class event <id>`."""
    if b.booked_entity.WhichOneof("item") == "schedule":
        return f"course schedule {b.booked_entity.schedule.schedule_id}"
    return f"class event {b.booked_entity.slot.event_id}"


def utc_time(ts: Any) -> str:
    return instant(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def _participants(n: int) -> str:
    return f"{n} participant{'s' if n != 1 else ''}"


def _error_metadata(err: CallError) -> dict[str, str]:
    for detail in status_details(err.error):
        if isinstance(detail, error_details_pb2.ErrorInfo):
            return dict(detail.metadata)
    return {}
