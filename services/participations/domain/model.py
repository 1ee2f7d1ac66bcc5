"""Participations and the rule that turns booking messages into them. Pure: no I/O.

A booking message (`bookings.booking-events.v1`) carries the whole booking as of a change. The
participation is a function of the latest booking revision only (protos/topics/
bookings.booking-events.v1.md): PENDING or CONFIRMED -> an active participation of
`party_size = number_of_participants` on the booked event (class) or schedule (course);
DECLINED or CANCELED -> none, kept as an inactive row (a tombstone) holding the revision. A
message whose revision is not greater than the stored one changes nothing, which makes
duplicates, redeliveries and late older messages harmless (docs/pipeline.md "Settled state").
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime


class BookingStatus(enum.Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    DECLINED = "DECLINED"
    CANCELED = "CANCELED"

    @property
    def holds_capacity(self) -> bool:
        """PENDING bookings await approval but already count against capacity (docs/pipeline.md
        "Which bookings hold capacity": both statuses create the participation)."""
        return self in (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class TargetKind(enum.Enum):
    EVENT = "event"  # a class session: counts on that event
    SCHEDULE = "schedule"  # a course: counts on every session of the schedule


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: str

    @classmethod
    def event(cls, event_id: str) -> Target:
        return cls(TargetKind.EVENT, event_id)

    @classmethod
    def schedule(cls, schedule_id: str) -> Target:
        return cls(TargetKind.SCHEDULE, schedule_id)


@dataclass(frozen=True)
class BookingSnapshot:
    """What a booking message says, validated (see mapping.booking_snapshot)."""

    id: str
    service_id: str
    target: Target
    number_of_participants: int
    status: BookingStatus
    revision: int
    # When the bookings service wrote this revision (the message's ce_time); None when unknown.
    # Only measured (participations.propagation_lag), never part of the rule.
    committed_at: datetime | None = None


@dataclass(frozen=True)
class Participation:
    """One row per booking. `active` False is a tombstone: the booking no longer holds capacity,
    and the row only remembers the revision that said so."""

    id: str
    booking_id: str
    service_id: str
    target: Target
    party_size: int
    booking_revision: int
    active: bool
    created_date: datetime
    updated_date: datetime
    booking_committed_at: datetime | None = None  # of the booking revision this row reflects


class ParticipationChange(enum.Enum):
    """What happened to a participation; each is announced as one message type of
    `bookings.participation-events.v1` (mapping.py)."""

    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"


@dataclass(frozen=True)
class Announcement:
    """One integration event to record with the change: the participation as of the change."""

    change: ParticipationChange
    participation: Participation
    previous_party_size: int = 0


@dataclass(frozen=True)
class Decision:
    """What applying a booking message does: the row to store (None: nothing, the message is a
    duplicate or older than what is stored) and the events announcing the change (none when the
    participation's state is the same, e.g. PENDING -> CONFIRMED with the same party size)."""

    save: Participation | None
    announcements: tuple[Announcement, ...] = ()

    @property
    def ignored(self) -> bool:
        return self.save is None


IGNORED = Decision(save=None)


def apply_booking(stored: Participation | None, booking: BookingSnapshot, *, new_id: str, now: datetime) -> Decision:
    """The participation rule (module docstring). `stored` is the booking's row, if any;
    `new_id` the id a first row gets; `now` its created/updated date."""
    if stored is not None and booking.revision <= stored.booking_revision:
        return IGNORED  # a duplicate, or a late message older than what is stored

    active = booking.status.holds_capacity
    if stored is None:
        row = Participation(
            id=new_id,
            booking_id=booking.id,
            service_id=booking.service_id,
            target=booking.target,
            party_size=booking.number_of_participants,
            booking_revision=booking.revision,
            active=active,
            created_date=now,
            updated_date=now,
            booking_committed_at=booking.committed_at,
        )
        # A first message that already says canceled (it overtook the create) leaves a tombstone
        # and announces nothing: there was no participation, and there is none.
        return Decision(row, (Announcement(ParticipationChange.CREATED, row),) if active else ())

    row = dataclasses.replace(
        stored,
        service_id=booking.service_id,
        target=booking.target,
        party_size=booking.number_of_participants,
        booking_revision=booking.revision,
        active=active,
        updated_date=now,
        booking_committed_at=booking.committed_at,
    )
    if not stored.active:
        # Revived (a newer revision holds capacity again), or still gone: only the revision moves.
        return Decision(row, (Announcement(ParticipationChange.CREATED, row),) if active else ())
    if not active:
        # Removed: announce the last counted size, so the message says what left the sessions.
        return Decision(row, (Announcement(ParticipationChange.REMOVED, dataclasses.replace(row, party_size=stored.party_size)),))
    if row.target != stored.target:
        # Moved to another event or schedule (the booking contract has no such change today, but
        # the rule must not lose the old sessions' recount): removed there, created here. Both
        # messages have the participation's key, so the updater sees them in this order.
        removed = dataclasses.replace(stored, booking_revision=booking.revision, active=False, updated_date=now)
        return Decision(row, (Announcement(ParticipationChange.REMOVED, removed), Announcement(ParticipationChange.CREATED, row)))
    if row.party_size != stored.party_size:
        return Decision(row, (Announcement(ParticipationChange.UPDATED, row, previous_party_size=stored.party_size),))
    return Decision(row)  # same state (e.g. PENDING -> CONFIRMED): remember the revision only
