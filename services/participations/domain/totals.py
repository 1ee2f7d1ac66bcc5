"""The event updater's rules: which events a participation change affects, what an event's
participant total is, and the version each settlement carries. Pure: no I/O.

The updater never applies a delta from a message. It recomputes an event's total from the
participations table, so a duplicate, reordered or redelivered message can only cause a
redundant, identical write (DESIGN §5 invariant 1; protos/topics/bookings.participation-events.v1.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.participations.domain.model import Participation, Target, TargetKind


@dataclass(frozen=True)
class EventLookup:
    """The events of timeframes a change of a participation on `target` affects: the event itself
    (class), or every session of the schedule (course), cancelled ones included, since a
    cancelled session still settles (its bookings are canceled later and must come back down)."""

    event_ids: tuple[str, ...] = ()
    schedule_ids: tuple[str, ...] = ()
    include_cancelled: bool = True


def affected_events(target: Target) -> EventLookup:
    if target.kind is TargetKind.EVENT:
        return EventLookup(event_ids=(target.id,))
    return EventLookup(schedule_ids=(target.id,))


@dataclass(frozen=True)
class EventRef:
    """An event as the updater needs it: its id and its schedule (whose course participations
    count on it too)."""

    id: str
    schedule_id: str


def counts_on(participation: Participation, event: EventRef) -> bool:
    """An active participation counts on an event when it targets that event, or the event's
    schedule (a course participation counts on every session)."""
    if not participation.active:
        return False
    if participation.target.kind is TargetKind.EVENT:
        return participation.target.id == event.id
    return participation.target.id == event.schedule_id


def participants_total(event: EventRef, participations: Iterable[Participation]) -> int:
    """Σ party_size of the active participations on the event plus those on its schedule."""
    return sum(p.party_size for p in participations if counts_on(p, event))


def next_version(stored: int, clock_micros: int) -> int:
    """The version of the next settlement of an event: strictly greater than the last one (the
    row lock orders settlements, so versions of one event never repeat), and at least the clock
    in microseconds. The clock part keeps versions ahead of what timeframes stored even if this
    table were lost or restored from an older backup; the +1 keeps them increasing when the
    clock stalls or steps back."""
    return max(stored + 1, clock_micros)
