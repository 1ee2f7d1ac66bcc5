"""Commands as received, and their validation. Pure: no I/O, no protobuf.

Every check names the proto field path it is about (`schedule.time_zone`, `events[3].end`,
`mask.paths[1]`), and all of a request's violations are reported together, before anything is
read or written. Ids come out canonical (lower-case UUIDs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.common.validation import MAX_IDS_PER_FILTER, Violations, WireTimestamp, checked_instant, is_uuid  # noqa: F401 (re-exported)
from services.timeframes.domain.model import (
    MAX_CAPACITY,
    MAX_EXTERNAL_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TITLE_LENGTH,
    MIN_CAPACITY,
    UPDATABLE_FIELDS,
    EventDraft,
    EventPatch,
    NewSchedule,
    check_span,
)

MAX_BULK_EVENTS = 500
MAX_TIME_FRAME_IDS = 100


def canonical_id(value: str) -> str:
    return str(uuid.UUID(value))


def checked_id(v: Violations, field: str, value: str) -> str:
    """The id in canonical form, or "" with the field named in `v` when it is not a UUID."""
    return canonical_id(value) if v.id(field, value) else ""


def _ids(v: Violations, field: str, values: list[str], *, max_items: int = MAX_IDS_PER_FILTER) -> list[str]:
    v.ids(field, values, max_items=max_items)
    return [canonical_id(value) for value in values if is_uuid(value)]


def _revision(v: Violations, field: str, value: int) -> None:
    if value == 0:
        v.add(field, "is required: the event's current revision")
    elif value < 0:
        v.add(field, "must be a positive revision")


# --- schedules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleInput:
    name: str
    external_id: str
    time_zone: str
    default_capacity: int


def validate_new_schedule(command: ScheduleInput, schedule_id: str) -> NewSchedule:
    v = Violations()
    v.text("schedule.name", command.name, max_len=MAX_NAME_LENGTH, required=False)
    v.text("schedule.external_id", command.external_id, max_len=MAX_EXTERNAL_ID_LENGTH, required=False)
    v.time_zone("schedule.time_zone", command.time_zone)
    v.int_range("schedule.default_capacity", command.default_capacity, MIN_CAPACITY, MAX_CAPACITY)
    v.raise_if_any()
    return NewSchedule(
        id=schedule_id,
        name=command.name,
        external_id=command.external_id,
        time_zone=command.time_zone,
        default_capacity=command.default_capacity,
    )


def validate_id(field: str, value: str) -> str:
    """A single id argument (GetSchedule.schedule_id, GetEvent.event_id)."""
    v = Violations()
    canonical = checked_id(v, field, value)
    v.raise_if_any()
    return canonical


# --- creating events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    """The writable fields of an Event message; timestamps are None when unset."""

    schedule_id: str = ""
    start: WireTimestamp | None = None
    end: WireTimestamp | None = None
    time_zone: str = ""
    total_capacity: int = 0
    title: str = ""


def _draft(v: Violations, prefix: str, event: EventInput) -> EventDraft | None:
    """Records every violation of one event; the draft is only meaningful when none was found."""
    schedule_id = checked_id(v, f"{prefix}.schedule_id", event.schedule_id)
    start = checked_instant(v, f"{prefix}.start", event.start, required=True)
    end = checked_instant(v, f"{prefix}.end", event.end, required=True)
    if start is not None and end is not None:
        check_span(v, start, end, start_field=f"{prefix}.start", end_field=f"{prefix}.end")
    v.time_zone(f"{prefix}.time_zone", event.time_zone, required=False)
    if event.total_capacity != 0:  # 0: the schedule's default capacity
        v.int_range(f"{prefix}.total_capacity", event.total_capacity, MIN_CAPACITY, MAX_CAPACITY)
    v.text(f"{prefix}.title", event.title, max_len=MAX_TITLE_LENGTH, required=False)
    if start is None or end is None:
        return None
    return EventDraft(schedule_id, start, end, event.time_zone, event.total_capacity, event.title)


def validate_new_event(event: EventInput) -> EventDraft:
    v = Violations()
    draft = _draft(v, "event", event)
    v.raise_if_any()
    assert draft is not None
    return draft


def validate_new_events(events: list[EventInput]) -> list[EventDraft]:
    """BulkCreateEvents: 1..500 events, all valid, or nothing is created."""
    v = Violations()
    drafts: list[EventDraft | None] = []
    if not events:
        v.add("events", "at least one event is required")
    elif len(events) > MAX_BULK_EVENTS:
        v.add("events", f"at most {MAX_BULK_EVENTS} events per request")
    else:
        drafts = [_draft(v, f"events[{i}]", event) for i, event in enumerate(events)]
    v.raise_if_any()
    return [d for d in drafts if d is not None]


# --- changing events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateEventInput:
    event_id: str
    revision: int
    paths: list[str]
    values: EventInput


def validate_update_event(command: UpdateEventInput) -> EventPatch:
    v = Violations()
    event_id = checked_id(v, "event.id", command.event_id)
    _revision(v, "event.revision", command.revision)
    if not command.paths:
        v.add("mask.paths", f"is required: list the fields to change among {', '.join(UPDATABLE_FIELDS)}")
    for i, path in enumerate(command.paths):
        if path not in UPDATABLE_FIELDS:
            v.add(f"mask.paths[{i}]", f"{path[:64]!r} cannot be updated; allowed: {', '.join(UPDATABLE_FIELDS)}")
    paths = frozenset(p for p in command.paths if p in UPDATABLE_FIELDS)
    values = command.values
    start = checked_instant(v, "event.start", values.start, required=True) if "start" in paths else None
    end = checked_instant(v, "event.end", values.end, required=True) if "end" in paths else None
    if start is not None and end is not None:
        check_span(v, start, end, start_field="event.start", end_field="event.end")
    if "time_zone" in paths:
        v.time_zone("event.time_zone", values.time_zone, required=True)
    if "total_capacity" in paths:
        v.int_range("event.total_capacity", values.total_capacity, MIN_CAPACITY, MAX_CAPACITY)
    if "title" in paths:
        v.text("event.title", values.title, max_len=MAX_TITLE_LENGTH, required=False)
    v.raise_if_any()
    return EventPatch(
        event_id=event_id,
        revision=command.revision,
        paths=paths,
        start=start,
        end=end,
        time_zone=values.time_zone,
        total_capacity=values.total_capacity,
        title=values.title,
    )


@dataclass(frozen=True)
class CancelEventInput:
    event_id: str
    revision: int


def validate_cancel_event(command: CancelEventInput) -> CancelEventInput:
    v = Violations()
    event_id = checked_id(v, "event_id", command.event_id)
    _revision(v, "revision", command.revision)
    v.raise_if_any()
    return CancelEventInput(event_id, command.revision)


@dataclass(frozen=True)
class UpdateParticipantsInput:
    event_id: str
    participants_total: int
    version: int


def validate_update_participants(command: UpdateParticipantsInput) -> UpdateParticipantsInput:
    v = Violations()
    event_id = checked_id(v, "event_id", command.event_id)
    v.check(command.participants_total >= 0, "participants_total", "must be 0 or more")
    v.check(command.version >= 1, "version", "must be 1 or more (a monotonic version from the caller)")
    v.raise_if_any()
    return UpdateParticipantsInput(event_id, command.participants_total, command.version)


MAX_TOTALS_PER_CALL = 500


@dataclass(frozen=True)
class ParticipantTotalInput:
    """One total of UpdateParticipantTotals: the participants booked on an event or a schedule."""

    id: str
    participants_total: int
    version: int


@dataclass(frozen=True)
class UpdateTotalsInput:
    events: tuple[ParticipantTotalInput, ...] = ()
    schedules: tuple[ParticipantTotalInput, ...] = ()


def validate_update_totals(command: UpdateTotalsInput) -> UpdateTotalsInput:
    v = Violations()
    count = len(command.events) + len(command.schedules)
    v.check(count <= MAX_TOTALS_PER_CALL, "events", f"at most {MAX_TOTALS_PER_CALL} totals in events and schedules together ({count} given)")
    if count > MAX_TOTALS_PER_CALL:
        v.raise_if_any()  # not worth checking each of them
    valid = UpdateTotalsInput(_totals(v, "events", command.events), _totals(v, "schedules", command.schedules))
    v.raise_if_any()
    return valid


def _totals(v: Violations, field: str, totals: tuple[ParticipantTotalInput, ...]) -> tuple[ParticipantTotalInput, ...]:
    seen: dict[str, int] = {}
    valid = []
    for i, total in enumerate(totals):
        total_id = checked_id(v, f"{field}[{i}].id", total.id)
        if total_id and total_id in seen:
            v.add(f"{field}[{i}].id", f"repeats {field}[{seen[total_id]}].id")
        seen.setdefault(total_id, i)
        v.check(total.participants_total >= 0, f"{field}[{i}].participants_total", "must be 0 or more")
        v.check(total.version >= 1, f"{field}[{i}].version", "must be 1 or more (a monotonic version from the caller)")
        valid.append(ParticipantTotalInput(total_id, total.participants_total, total.version))
    return tuple(valid)


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventQueryInput:
    schedule_ids: list[str]
    event_ids: list[str]
    from_date: WireTimestamp | None
    to_date: WireTimestamp | None
    include_cancelled: bool


@dataclass(frozen=True)
class EventQuery:
    """Validated QueryEvents filters (empty id lists mean no filter on that field)."""

    schedule_ids: tuple[str, ...]
    event_ids: tuple[str, ...]
    from_date: datetime | None
    to_date: datetime | None
    include_cancelled: bool

    def fingerprint_parts(self) -> list[object]:
        """What a cursor is bound to: the same set of ids in another order is the same query."""
        return [
            sorted(self.schedule_ids),
            sorted(self.event_ids),
            self.from_date.isoformat() if self.from_date else None,
            self.to_date.isoformat() if self.to_date else None,
            self.include_cancelled,
        ]


def validate_event_query(command: EventQueryInput) -> EventQuery:
    v = Violations()
    schedule_ids = _ids(v, "schedule_ids", command.schedule_ids)
    event_ids = _ids(v, "event_ids", command.event_ids)
    from_date = checked_instant(v, "from_date", command.from_date, required=False)
    to_date = checked_instant(v, "to_date", command.to_date, required=False)
    if from_date is not None and to_date is not None:
        v.check(to_date > from_date, "to_date", "must be after from_date")
    v.raise_if_any()
    return EventQuery(tuple(schedule_ids), tuple(event_ids), from_date, to_date, command.include_cancelled)


def validate_time_frame_ids(schedule_ids: list[str]) -> list[str]:
    v = Violations()
    if not schedule_ids:
        v.add("schedule_ids", "at least one schedule id is required")
    ids = _ids(v, "schedule_ids", schedule_ids, max_items=MAX_TIME_FRAME_IDS)
    v.raise_if_any()
    return ids
