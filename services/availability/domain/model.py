"""Entities of availability: what it reads from the catalog and the calendar, and what it answers.

Pure: no I/O, no grpc, no protobuf. Adapters map the other services' messages to these types and
the entrypoints map the answers back to `bookings.availability.v2` messages.

Every instant is a timezone-aware `datetime` (UTC from the adapters); a naive one is refused at
construction, because comparing it with an aware `now` would fail later, far from the cause.
Capacity is reported raw on `Session` (the participations pipeline is eventually consistent, so
`remaining_capacity` may be negative after a race for the last spot, docs/overbooking-race.md)
and clamped at 0 only on the answers meant for display.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


def require_aware(name: str, value: datetime | None) -> None:
    """Raise ValueError for a naive datetime: availability compares instants only."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


class ServiceType(StrEnum):
    UNSPECIFIED = "SERVICE_TYPE_UNSPECIFIED"  # only a caller's own copy of a service can lack a type
    APPOINTMENT = "APPOINTMENT"  # slots cut from staff working hours (domain/appointments.py)
    CLASS = "CLASS"
    COURSE = "COURSE"


_NO_TIME = timedelta(0)


@dataclass(frozen=True, slots=True)
class Interval:
    """A span of time [start, end) between two aware instants; never empty."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware("Interval.start", self.start)
        require_aware("Interval.end", self.end)
        if self.end <= self.start:
            raise ValueError(f"an interval ends after it starts: {self.start.isoformat()} .. {self.end.isoformat()}")

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share an instant. Half-open: intervals that only touch do not overlap."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class AppointmentShape:
    """An APPOINTMENT service's `appointment {duration_minutes, buffer_before_minutes,
    buffer_after_minutes, slot_interval_minutes}`: how long the client's appointment is, the
    staff member's time kept free before and after it, and the step between slot starts (None:
    the duration, i.e. back-to-back slots)."""

    duration: timedelta
    buffer_before: timedelta = _NO_TIME
    buffer_after: timedelta = _NO_TIME
    slot_interval: timedelta | None = None

    def __post_init__(self) -> None:
        if self.duration <= _NO_TIME:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.buffer_before < _NO_TIME or self.buffer_after < _NO_TIME:
            raise ValueError("buffers must not be negative")
        if self.slot_interval is not None and self.slot_interval <= _NO_TIME:
            raise ValueError(f"slot_interval must be positive, got {self.slot_interval}")

    @property
    def step(self) -> timedelta:
        return self.duration if self.slot_interval is None else self.slot_interval

    def occupied(self, start: datetime) -> Interval:
        """The staff member's time a slot starting at `start` takes: [start − buffer_before,
        start + duration + buffer_after)."""
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """A service's booking policy as availability applies it (docs/booking-policies.md "The policy").

    Every limit defaults to disabled; a provider that omits `book_after_start_policy` means
    disabled (docs/booking-policies.md "Missing sub-policies": treat as disabled, the safe default).
    """

    limit_early_booking_enabled: bool = False
    earliest_booking_in_minutes: int = 0
    limit_late_booking_enabled: bool = False
    latest_booking_in_minutes: int = 0
    book_after_start_enabled: bool = False
    max_participants_per_booking: int = 1
    cancellation_enabled: bool = False
    latest_cancellation_in_minutes: int = 0


@dataclass(frozen=True, slots=True)
class Offering:
    """A catalog service as availability sees it: its type, its schedule and its policy; for an
    APPOINTMENT also how its slots are cut (`appointment`, None when the catalog gave no settings)
    and the staff members who offer it (`staff_member_ids`, as the catalog lists them)."""

    service_id: str
    type: ServiceType
    schedule_id: str
    time_zone: str
    online_booking_enabled: bool
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    appointment: AppointmentShape | None = None
    staff_member_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProvidedPolicy:
    """The booking policy provider's word on a service (the BookingPolicyProvider SPI): when it
    answers, it overrides what the catalog says about online booking and the policy."""

    online_booking_enabled: bool
    policy: BookingPolicy

    def applied_to(self, offering: Offering) -> Offering:
        return dataclasses.replace(offering, online_booking_enabled=self.online_booking_enabled, policy=self.policy)


@dataclass(frozen=True, slots=True)
class ParticipantCount:
    """A number of participants at the version it was settled with (0: never settled)."""

    total: int = 0
    version: int = 0

    def newest(self, other: ParticipantCount | None) -> ParticipantCount:
        return other if other is not None and other.version > self.version else self


@dataclass(frozen=True, slots=True)
class ParticipantParts:
    """Who an event counts (`calendar.events.v3.ParticipantParts`): those booked on the event
    itself plus those booked on its whole schedule (a course) once either was settled, else the
    legacy single total."""

    event: ParticipantCount = ParticipantCount()
    schedule: ParticipantCount = ParticipantCount()
    legacy: ParticipantCount = ParticipantCount()

    @property
    def total(self) -> int:
        if self.event.version or self.schedule.version:
            return self.event.total + self.schedule.total
        return self.legacy.total


@dataclass(frozen=True, slots=True)
class Session:
    """One calendar event (a session of a course, or a class).

    `remaining_capacity` is raw: total capacity minus participants, negative when overbooked.
    """

    event_id: str
    schedule_id: str
    start: datetime
    end: datetime
    total_capacity: int
    remaining_capacity: int
    cancelled: bool = False
    participants: ParticipantParts | None = None  # how remaining_capacity came about; None: not reported

    def __post_init__(self) -> None:
        require_aware("Session.start", self.start)
        require_aware("Session.end", self.end)


@dataclass(frozen=True, slots=True)
class TimeFrame:
    """`ScheduleTimeFrames` of one schedule: first start and last end of its non-cancelled events
    (both None when it has none)."""

    schedule_id: str
    first_event_start: datetime | None
    last_event_end: datetime | None
    event_count: int

    def __post_init__(self) -> None:
        require_aware("TimeFrame.first_event_start", self.first_event_start)
        require_aware("TimeFrame.last_event_end", self.last_event_end)


@dataclass(frozen=True, slots=True)
class PolicyViolations:
    """Which booking policies forbid booking now (`BookingPolicyViolations` in time_slots.proto),
    and the window in which booking is allowed (None when that side has no limit)."""

    too_early_to_book: bool = False
    too_late_to_book: bool = False
    book_online_disabled: bool = False
    earliest_booking_date: datetime | None = None
    latest_booking_date: datetime | None = None

    @property
    def any(self) -> bool:
        return self.too_early_to_book or self.too_late_to_book or self.book_online_disabled


@dataclass(frozen=True, slots=True)
class NonBookableReasons:
    """Why a slot is not bookable; all False when it is (`NonBookableReasons` in the proto)."""

    no_remaining_capacity: bool = False
    violates_booking_policy: bool = False
    event_cancelled: bool = False
    event_started: bool = False

    @property
    def any(self) -> bool:
        return self.no_remaining_capacity or self.violates_booking_policy or self.event_cancelled or self.event_started


@dataclass(frozen=True, slots=True)
class CourseAvailability:
    """The course as a whole: one decision for the schedule, the same for all its sessions
    (docs/booking-policies.md "The course decision"), as booking validation sees it.

    - `open_spots`: the smallest remaining capacity among non-cancelled sessions still ahead
      (start > now), clamped at 0; 0 when no session is ahead.
    - `total_capacity`: the largest total capacity among non-cancelled sessions (0 when none).
    - `min_total_capacity_ahead`: the smallest total capacity among non-cancelled sessions still
      ahead (0 when none): a course booking takes a spot on each, so no more participants than
      this fit in the course from now on.
    - `total_sessions` / `remaining_sessions`: non-cancelled sessions / those of them still ahead
      ("your registration includes 22/25 sessions").
    - `first_event_start`: the policy reference time F actually used (from ScheduleTimeFrames, or
      from the sessions when the time frame was unavailable); `last_event_end` likewise.
    """

    service_id: str
    schedule_id: str
    bookable: bool
    violations: PolicyViolations
    reasons: NonBookableReasons
    open_spots: int
    total_capacity: int
    total_sessions: int
    remaining_sessions: int
    first_event_start: datetime | None
    last_event_end: datetime | None
    min_total_capacity_ahead: int = 0


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """One session as shown to a client (a course's session or a class).

    `remaining_capacity` is clamped at 0 for display; `past` is True once the session has started
    (start <= now). For a course, `bookable`, `violations`, `total_sessions` and
    `remaining_sessions` are the course's. For a class they describe the one event:
    `total_sessions` is always 1 and `remaining_sessions` is 1 while it is ahead and not
    cancelled, else 0 (so 1/1 or 1/0).
    """

    offering: Offering
    session: Session
    bookable: bool
    remaining_capacity: int
    total_capacity: int
    violations: PolicyViolations
    reasons: NonBookableReasons
    past: bool
    total_sessions: int
    remaining_sessions: int
