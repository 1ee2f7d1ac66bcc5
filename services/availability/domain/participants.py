"""Capacity kept apart from the events it belongs to.

A session's remaining capacity is its total capacity minus the participants it counts, and those
change with every booking while the event itself (its times, capacity, status) rarely does. So
availability keeps each schedule's events as they were read from timeframes, and beside them the
participant counts the change messages announced since (`calendar.event-events.v1`), each with the
version it was settled with. A session shows whichever of the two sightings of each count is
newer: the greatest version wins, in whatever order reads and messages happened (the rule
timeframes applies when it stores them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.availability.domain.model import ParticipantCount, ParticipantParts, Session


@dataclass(frozen=True)
class AnnouncedParticipants:
    """The participant counts of one schedule's events announced by change messages: the
    schedule's own (a course's) and those of single events, by event id."""

    schedule: ParticipantCount | None = None
    events: Mapping[str, ParticipantCount] = field(default_factory=dict)
    legacy: Mapping[str, ParticipantCount] = field(default_factory=dict)

    def apply(self, session: Session) -> Session:
        """The session with every count that was announced after the session was read. A session
        read without its parts (from a timeframes that did not report them) is left as read."""
        parts = session.participants
        if parts is None:
            return session
        newest = ParticipantParts(
            event=parts.event.newest(self.events.get(session.event_id)),
            schedule=parts.schedule.newest(self.schedule),
            legacy=parts.legacy.newest(self.legacy.get(session.event_id)),
        )
        if newest == parts:
            return session
        return dataclasses.replace(session, participants=newest, remaining_capacity=session.total_capacity - newest.total)


NOTHING_ANNOUNCED = AnnouncedParticipants()
