"""Entities of the calendar and the rules for changing them. Pure: no I/O.

An `Event` is one session of a `Schedule`. Its participants are settled by the participations
pipeline (eventually consistent), so `remaining_capacity` may go negative when a session is
overbooked; it is reported raw here and clamped only for display (availability). They come in two
parts, each settled on its own with its own version: those booked on the event itself (a class
session) and those booked on its whole schedule (a course), stored once on the schedule and
counted by every event of it. A course booking therefore changes one number, however many
sessions the course has.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.common.errors import FailedPrecondition, RevisionMismatch
from services.common.validation import Violations

MIN_CAPACITY = 1
MAX_CAPACITY = 10_000
MAX_EVENT_DURATION = timedelta(days=7)
MAX_NAME_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 100


class ScheduleStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class EventStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Count:
    """A number of participants as the pipeline settled it, at the version it was sent with."""

    total: int = 0
    version: int = 0

    @property
    def settled(self) -> bool:
        return self.version > 0

    def settle(self, total: int, version: int) -> Count | None:
        """The count at `version`; None when the stored version is the same or newer (a late or
        repeated write): the greatest version wins, whatever order writes arrive in."""
        return Count(total, version) if version > self.version else None


@dataclass(frozen=True)
class Participants:
    """Who counts on an event: participants booked on the event itself and those booked on its
    whole schedule. `legacy` is the single total per event that UpdateEventParticipants wrote
    before totals were split; it counts only while neither part has been settled, so an event
    switches at its first split settlement and a rolling upgrade never counts anyone twice."""

    event: Count = Count()
    schedule: Count = Count()
    legacy: Count = Count()

    @property
    def total(self) -> int:
        if self.event.settled or self.schedule.settled:
            return self.event.total + self.schedule.total
        return self.legacy.total


class SettlementOutcome(StrEnum):
    APPLIED = "APPLIED"
    STALE = "STALE"  # the stored version is the same or newer: acknowledged, nothing changes
    NOT_FOUND = "NOT_FOUND"


class EventChange(StrEnum):
    """What happened to an event; each is announced as one message type of the
    `calendar.event-events.v1` topic (mapping.py)."""

    CREATED = "created"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    PARTICIPANTS_UPDATED = "participants_updated"


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    external_id: str
    time_zone: str
    default_capacity: int
    status: ScheduleStatus
    revision: int
    created_date: datetime
    participants: Count = Count()  # booked on the schedule as a whole (a course): every event counts them

    def settle_participants(self, total: int, version: int) -> Schedule | None:
        """The schedule with its participants settled at `version` (the revision moves when the
        number does); None for a stale write. A cancelled schedule still settles: its bookings
        are canceled later, and their count must come back down."""
        count = self.participants.settle(total, version)
        if count is None:
            return None
        return dataclasses.replace(self, participants=count, revision=self.revision + (count.total != self.participants.total))


@dataclass(frozen=True)
class NewSchedule:
    """A validated schedule about to be stored."""

    id: str
    name: str
    external_id: str  # "" when the caller gave none
    time_zone: str
    default_capacity: int


@dataclass(frozen=True)
class EventDraft:
    """A validated event of a create request, before its schedule's defaults are applied."""

    schedule_id: str
    start: datetime
    end: datetime
    time_zone: str  # "" means the schedule's
    total_capacity: int  # 0 means the schedule's default capacity
    title: str

    def for_schedule(self, schedule: Schedule, event_id: str) -> NewEvent:
        if schedule.status is not ScheduleStatus.ACTIVE:
            raise FailedPrecondition("SCHEDULE_CANCELLED", f"schedule {schedule.id!r} is cancelled; it takes no new events")
        return NewEvent(
            id=event_id,
            schedule_id=schedule.id,
            start=self.start,
            end=self.end,
            time_zone=self.time_zone or schedule.time_zone,
            total_capacity=self.total_capacity or schedule.default_capacity,
            title=self.title,
        )


@dataclass(frozen=True)
class NewEvent:
    """An event about to be stored: defaults resolved. It starts CONFIRMED, at revision 1,
    with no participants."""

    id: str
    schedule_id: str
    start: datetime
    end: datetime
    time_zone: str
    total_capacity: int
    title: str


# The fields UpdateEvent may change (its `mask.paths`), in the order they are reported.
UPDATABLE_FIELDS = ("start", "end", "time_zone", "total_capacity", "title")


@dataclass(frozen=True)
class EventPatch:
    """A validated UpdateEvent: `paths` says which of the values are to be applied."""

    event_id: str
    revision: int
    paths: frozenset[str]
    start: datetime | None = None
    end: datetime | None = None
    time_zone: str = ""
    total_capacity: int = 0
    title: str = ""


@dataclass(frozen=True)
class ParticipantsSettlement:
    """Outcome of settling one part of an event's participants against the stored event."""

    event: Event
    applied: bool  # False: the version was not newer than the stored one (stale write)
    changed: bool  # True: the participant total actually moved (revision bumped)


@dataclass(frozen=True)
class Event:
    id: str
    schedule_id: str
    start: datetime
    end: datetime
    time_zone: str
    title: str
    total_capacity: int
    participants: Participants
    status: EventStatus
    revision: int
    created_date: datetime
    updated_date: datetime

    @property
    def participants_total(self) -> int:
        return self.participants.total

    @property
    def remaining_capacity(self) -> int:
        # Raw on purpose: overbooking (two last-spot bookings racing) shows as a negative number.
        return self.total_capacity - self.participants_total

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    def ensure_changeable(self, expected_revision: int) -> None:
        """A cancelled event is final, so that is reported before a stale revision: re-reading and
        retrying (what ABORTED asks for) could never succeed."""
        if self.is_cancelled:
            raise FailedPrecondition("EVENT_CANCELLED", f"event {self.id!r} is cancelled and can no longer change", {"event_id": self.id})
        if self.revision != expected_revision:
            raise RevisionMismatch("event", self.id, expected_revision, self.revision)

    def updated(self, patch: EventPatch) -> Event:
        """The event with the patch applied, at the next revision. The resulting span is checked
        as a whole: moving only `start` past the stored `end` is as invalid as a bad pair."""
        self.ensure_changeable(patch.revision)
        changes: dict[str, object] = {p: getattr(patch, p) for p in patch.paths}
        result = dataclasses.replace(self, **changes, revision=self.revision + 1)  # type: ignore[arg-type]
        v = Violations()
        check_span(
            v,
            result.start,
            result.end,
            start_field="event.start",
            end_field="event.end",
            blame_start="end" not in patch.paths,
        )
        v.raise_if_any()
        return result

    def cancelled(self, expected_revision: int) -> Event:
        self.ensure_changeable(expected_revision)
        return dataclasses.replace(self, status=EventStatus.CANCELLED, revision=self.revision + 1)

    def settle_participants(self, participants_total: int, version: int) -> ParticipantsSettlement:
        """UpdateEventParticipants: the participants booked on the event itself, as the earlier
        pipeline sent them (the `legacy` part)."""
        count = self.participants.legacy.settle(participants_total, version)
        return self._settled(None if count is None else dataclasses.replace(self.participants, legacy=count))

    def settle_event_participants(self, total: int, version: int) -> ParticipantsSettlement:
        """UpdateParticipantTotals for this event: the participants booked on it."""
        count = self.participants.event.settle(total, version)
        return self._settled(None if count is None else dataclasses.replace(self.participants, event=count))

    def with_schedule_participants(self, schedule: Schedule) -> Event:
        """The event as it reads with its schedule's participants (settled in the same call)."""
        return dataclasses.replace(self, participants=dataclasses.replace(self.participants, schedule=schedule.participants))

    def _settled(self, participants: Participants | None) -> ParticipantsSettlement:
        """Last writer by version wins, whatever order the writes arrive in; a cancelled event
        still settles (its bookings are cancelled later and their counts must come back down).
        A newer version with the same total is accepted (its version is kept) but is not a
        change: the revision moves only when the total does."""
        if participants is None:
            return ParticipantsSettlement(self, applied=False, changed=False)
        changed = participants.total != self.participants.total
        settled = dataclasses.replace(self, participants=participants, revision=self.revision + 1 if changed else self.revision)
        return ParticipantsSettlement(settled, applied=True, changed=changed)


@dataclass(frozen=True)
class TimeFrame:
    """Span of a schedule's non-cancelled events; both dates are None when it has none."""

    schedule_id: str
    first_event_start_date: datetime | None
    last_event_end_date: datetime | None
    event_count: int


def check_span(v: Violations, start: datetime, end: datetime, *, start_field: str, end_field: str, blame_start: bool = False) -> None:
    """An event ends after it starts, and at most MAX_EVENT_DURATION later. The violation names
    `end` unless only the start was given (an update moving the start alone)."""
    field = start_field if blame_start else end_field
    if end <= start:
        v.add(field, "the event must end after it starts")
    elif end - start > MAX_EVENT_DURATION:
        v.add(field, f"the event must end at most {MAX_EVENT_DURATION.days} days after it starts")
