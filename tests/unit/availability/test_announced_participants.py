"""A cached session shows, for each of its participant counts, the newer of the one it was read
with and the one a change message announced since: versions order them, never arrival."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.availability.domain.model import ParticipantCount, ParticipantParts, Session
from services.availability.domain.participants import AnnouncedParticipants

EVENT, OTHER = "0b4a6c8e-0000-4000-8000-000000000001", "0b4a6c8e-0000-4000-8000-000000000002"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def count(total: int, version: int) -> ParticipantCount:
    return ParticipantCount(total, version)


def session(parts: ParticipantParts | None, capacity: int = 10) -> Session:
    remaining = capacity - (parts.total if parts else 0)
    return Session(EVENT, "schedule", START, START + timedelta(hours=1), capacity, remaining, participants=parts)


READ_COURSE = ParticipantParts(schedule=count(4, 7))
READ_CLASS = ParticipantParts(event=count(3, 5))
READ_LEGACY = ParticipantParts(legacy=count(6, 2))


@pytest.mark.parametrize(
    "read, announced, remaining",
    [
        pytest.param(READ_COURSE, AnnouncedParticipants(), 6, id="nothing-announced"),
        pytest.param(READ_COURSE, AnnouncedParticipants(schedule=count(5, 8)), 5, id="newer-course-count"),
        pytest.param(READ_COURSE, AnnouncedParticipants(schedule=count(1, 6)), 6, id="older-course-count-ignored"),
        pytest.param(READ_COURSE, AnnouncedParticipants(schedule=count(9, 7)), 6, id="same-version-ignored"),
        pytest.param(READ_CLASS, AnnouncedParticipants(events={EVENT: count(8, 6)}), 2, id="newer-event-count"),
        pytest.param(READ_CLASS, AnnouncedParticipants(events={OTHER: count(8, 6)}), 7, id="another-events-count-ignored"),
        pytest.param(READ_CLASS, AnnouncedParticipants(events={EVENT: count(2, 4)}), 7, id="older-event-count-ignored"),
        pytest.param(READ_CLASS, AnnouncedParticipants(schedule=count(2, 1)), 5, id="a-course-count-adds-to-the-events-own"),
        pytest.param(READ_LEGACY, AnnouncedParticipants(legacy={EVENT: count(7, 3)}), 3, id="newer-legacy-total"),
        pytest.param(READ_LEGACY, AnnouncedParticipants(schedule=count(2, 1)), 8, id="first-split-count-replaces-the-legacy-total"),
        pytest.param(READ_COURSE, AnnouncedParticipants(schedule=count(12, 9)), -2, id="overbooked-stays-raw"),
    ],
)
def test_a_session_shows_the_newer_of_each_count(read: ParticipantParts, announced: AnnouncedParticipants, remaining: int) -> None:
    shown = announced.apply(session(read))
    assert shown.remaining_capacity == remaining
    assert shown.participants is not None and shown.total_capacity - shown.participants.total == remaining


def test_a_session_with_nothing_newer_is_the_one_read() -> None:
    read = session(READ_COURSE)
    assert AnnouncedParticipants(schedule=count(1, 6)).apply(read) is read


def test_a_session_read_without_its_parts_is_left_as_read() -> None:
    """From a timeframes that does not report the parts: nothing to order an announcement against."""
    read = Session(EVENT, "schedule", START, START + timedelta(hours=1), 10, 4)
    assert AnnouncedParticipants(schedule=count(1, 99), events={EVENT: count(1, 99)}).apply(read) is read
