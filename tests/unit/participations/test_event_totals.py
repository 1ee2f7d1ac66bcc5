"""The event updater's rules: which events a participation affects, the participant total of an
event (recomputed, never a delta), and the version each settlement carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.participations.domain.model import Participation, Target
from services.participations.domain.totals import EventLookup, EventRef, affected_events, next_version, participants_total

SESSION = EventRef(id="e-1", schedule_id="s-1")
T = datetime(2026, 11, 21, tzinfo=UTC)


def participation(target: Target, party: int, active: bool = True) -> Participation:
    return Participation(
        id=f"p-{target.id}-{party}-{active}",
        booking_id="b",
        service_id="svc",
        target=target,
        party_size=party,
        booking_revision=1,
        active=active,
        created_date=T,
        updated_date=T,
    )


@pytest.mark.parametrize(
    "target, lookup",
    [
        pytest.param(Target.event("e-1"), EventLookup(event_ids=("e-1",), include_cancelled=True), id="class-participation->its-event"),
        pytest.param(
            Target.schedule("s-1"), EventLookup(schedule_ids=("s-1",), include_cancelled=True), id="course-participation->every-session-cancelled-too"
        ),
    ],
)
def test_the_events_a_participation_affects(target: Target, lookup: EventLookup) -> None:
    assert affected_events(target) == lookup


@pytest.mark.parametrize(
    "participations, total",
    [
        pytest.param([], 0, id="none->0"),
        pytest.param([participation(Target.event("e-1"), 2)], 2, id="on-the-event"),
        pytest.param([participation(Target.schedule("s-1"), 3)], 3, id="on-its-schedule(course-counts-on-every-session)"),
        pytest.param(
            [participation(Target.event("e-1"), 2), participation(Target.schedule("s-1"), 3), participation(Target.event("e-1"), 1)],
            6,
            id="event-plus-schedule-sum",
        ),
        pytest.param(
            [participation(Target.event("e-1"), 2, active=False), participation(Target.schedule("s-1"), 3, active=False)], 0, id="tombstones-count-nothing"
        ),
        pytest.param([participation(Target.event("e-2"), 4), participation(Target.schedule("s-2"), 5)], 0, id="other-events-and-schedules-count-nothing"),
        pytest.param([participation(Target.event("e-1"), 7), participation(Target.event("e-1"), 8)], 15, id="over-capacity-is-still-counted"),
    ],
)
def test_an_events_total_is_the_party_sizes_of_the_active_participations_on_it_and_on_its_schedule(participations: list[Participation], total: int) -> None:
    assert participants_total(SESSION, participations) == total


def test_the_total_is_recomputed_so_a_repeated_change_counts_once() -> None:
    rows = [participation(Target.event("e-1"), 2), participation(Target.schedule("s-1"), 3)]
    assert participants_total(SESSION, rows) == participants_total(SESSION, rows) == participants_total(SESSION, list(reversed(rows))) == 5


@pytest.mark.parametrize(
    "stored, clock, version",
    [
        pytest.param(0, 1_700_000_000_000_000, 1_700_000_000_000_000, id="first-settlement-takes-the-clock"),
        pytest.param(1_700_000_000_000_000, 1_700_000_000_000_500, 1_700_000_000_000_500, id="clock-ahead->clock"),
        pytest.param(1_700_000_000_000_500, 1_700_000_000_000_500, 1_700_000_000_000_501, id="same-microsecond->stored+1"),
        pytest.param(1_700_000_000_000_500, 1_699_999_000_000_000, 1_700_000_000_000_501, id="clock-stepped-back->stored+1"),
    ],
)
def test_each_settlement_of_an_event_has_a_greater_version(stored: int, clock: int, version: int) -> None:
    assert next_version(stored, clock) == version
    assert next_version(stored, clock) > stored
