"""The rules of an event's life: defaults from its schedule, moves checked as a whole span,
revisions, cancellation as a final state, and participants settled by version, in two parts (booked
on the event, booked on its whole schedule) with the single legacy total counted until either is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument, RevisionMismatch
from services.timeframes.domain.commands import EventInput, UpdateEventInput, validate_new_event, validate_update_event
from services.timeframes.domain.model import Count, EventStatus, Participants, Schedule, ScheduleStatus
from tests.unit.timeframes.helpers import EVENT_ID, SCHEDULE_ID, T0, booked, event_input, stored_event, violations_of, wire

HOUR = timedelta(hours=1)
SCHEDULE = Schedule(
    id=SCHEDULE_ID,
    name="Course",
    external_id="",
    time_zone="America/New_York",
    default_capacity=8,
    status=ScheduleStatus.ACTIVE,
    revision=1,
    created_date=datetime(2030, 1, 1, tzinfo=UTC),
)


def patch(paths: list[str], revision: int = 1, **values: object):  # type: ignore[no-untyped-def]
    return validate_update_event(UpdateEventInput(EVENT_ID, revision, paths, EventInput(**values)))  # type: ignore[arg-type]


# --- defaults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given_zone, given_capacity, zone, capacity",
    [
        pytest.param("", 0, "America/New_York", 8, id="unset-fields-take-the-schedules"),
        pytest.param("Asia/Tokyo", 30, "Asia/Tokyo", 30, id="given-fields-are-kept"),
    ],
)
def test_new_events_default_to_their_schedule(given_zone: str, given_capacity: int, zone: str, capacity: int) -> None:
    draft = validate_new_event(event_input(time_zone=given_zone, total_capacity=given_capacity))
    new = draft.for_schedule(SCHEDULE, "id-1")
    assert (new.id, new.schedule_id, new.time_zone, new.total_capacity) == ("id-1", SCHEDULE_ID, zone, capacity)


def test_a_cancelled_schedule_takes_no_new_events() -> None:
    cancelled = Schedule(**{**SCHEDULE.__dict__, "status": ScheduleStatus.CANCELLED})
    with pytest.raises(FailedPrecondition) as exc:
        validate_new_event(event_input()).for_schedule(cancelled, "id-1")
    assert exc.value.reason == "SCHEDULE_CANCELLED"


# --- remaining capacity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, participants, remaining",
    [
        pytest.param(10, 0, 10, id="empty-event"),
        pytest.param(10, 10, 0, id="full-event"),
        pytest.param(10, 13, -3, id="overbooked-event-is-negative-not-clamped"),
    ],
)
def test_remaining_capacity_is_total_minus_participants(total: int, participants: int, remaining: int) -> None:
    assert stored_event(total_capacity=total, participants=booked(participants)).remaining_capacity == remaining


# --- updates -------------------------------------------------------------------------------------


def test_an_update_applies_the_masked_fields_and_moves_to_the_next_revision() -> None:
    event = stored_event(revision=4)
    updated = event.updated(patch(["start", "end", "title"], revision=4, start=wire(T0 + HOUR), end=wire(T0 + 3 * HOUR), title="Moved", total_capacity=99))
    assert (updated.start, updated.end, updated.title, updated.total_capacity, updated.revision) == (
        T0 + HOUR,
        T0 + 3 * HOUR,
        "Moved",
        10,
        5,
    )


@pytest.mark.parametrize(
    "paths, values, field",
    [
        pytest.param(["start"], {"start": wire(T0 + HOUR)}, "event.start", id="start-moved-onto-the-stored-end"),
        pytest.param(["start"], {"start": wire(T0 + 2 * HOUR)}, "event.start", id="start-moved-past-the-stored-end"),
        pytest.param(["start"], {"start": wire(T0 - timedelta(days=8))}, "event.start", id="start-moved-8-days-before-the-stored-end"),
        pytest.param(["end"], {"end": wire(T0 - HOUR)}, "event.end", id="end-moved-before-the-stored-start"),
        pytest.param(["end"], {"end": wire(T0 + timedelta(days=7, seconds=1))}, "event.end", id="end-moved-more-than-7-days-after-the-stored-start"),
    ],
)
def test_a_move_is_checked_against_the_stored_other_end(paths: list[str], values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        stored_event().updated(patch(paths, **values))
    assert list(violations_of(exc)) == [field]


def test_an_update_with_a_stale_revision_is_a_mismatch() -> None:
    with pytest.raises(RevisionMismatch) as exc:
        stored_event(revision=3).updated(patch(["title"], revision=2, title="x"))
    assert (exc.value.expected, exc.value.actual) == (2, 3)


@pytest.mark.parametrize("revision", [pytest.param(2, id="current-revision"), pytest.param(1, id="stale-revision")])
def test_a_cancelled_event_can_no_longer_change_whatever_the_revision(revision: int) -> None:
    cancelled = stored_event(status=EventStatus.CANCELLED, revision=2)
    with pytest.raises(FailedPrecondition) as update_exc:
        cancelled.updated(patch(["title"], revision=revision, title="x"))
    with pytest.raises(FailedPrecondition) as cancel_exc:
        cancelled.cancelled(revision)
    assert update_exc.value.reason == cancel_exc.value.reason == "EVENT_CANCELLED"


def test_cancelling_marks_the_event_cancelled_at_the_next_revision() -> None:
    cancelled = stored_event(revision=2).cancelled(2)
    assert (cancelled.status, cancelled.revision) == (EventStatus.CANCELLED, 3)


def test_cancelling_with_a_stale_revision_is_a_mismatch() -> None:
    with pytest.raises(RevisionMismatch):
        stored_event(revision=2).cancelled(1)


# --- participants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored_version, version, applied",
    [
        pytest.param(0, 1, True, id="first-write"),
        pytest.param(4, 5, True, id="newer-version"),
        pytest.param(4, 9, True, id="versions-may-skip"),
        pytest.param(4, 4, False, id="same-version-is-stale"),
        pytest.param(4, 3, False, id="older-version-is-stale"),
    ],
)
def test_a_count_settles_only_with_a_newer_version(stored_version: int, version: int, applied: bool) -> None:
    assert Count(2, stored_version).settle(7, version) == (Count(7, version) if applied else None)


@pytest.mark.parametrize(
    "participants, total",
    [
        pytest.param(Participants(legacy=Count(9, 5)), 9, id="nothing-split-yet-counts-the-legacy-total"),
        pytest.param(Participants(event=Count(2, 6), legacy=Count(9, 5)), 2, id="booked-on-the-event-replaces-the-legacy-total"),
        pytest.param(Participants(schedule=Count(4, 6), legacy=Count(9, 5)), 4, id="booked-on-the-schedule-replaces-the-legacy-total"),
        pytest.param(Participants(event=Count(2, 6), schedule=Count(4, 7), legacy=Count(9, 5)), 6, id="both-parts-add-up"),
        pytest.param(Participants(event=Count(0, 6), legacy=Count(9, 5)), 0, id="a-settled-zero-is-a-number-too"),
    ],
)
def test_an_event_counts_its_own_and_its_schedules_participants_once_either_is_settled(participants: Participants, total: int) -> None:
    assert stored_event(participants=participants).participants_total == total


def test_participants_booked_on_the_event_settle_by_version_and_move_the_revision_with_the_total() -> None:
    event = stored_event(participants=booked(2, version=4), revision=6)
    settled = event.settle_event_participants(7, 5)
    assert (settled.applied, settled.changed, settled.event.participants_total, settled.event.revision) == (True, True, 7, 7)
    assert event.settle_event_participants(7, 4) == type(settled)(event, applied=False, changed=False)


def test_a_newer_version_with_the_same_total_keeps_the_version_but_not_a_new_revision() -> None:
    settlement = stored_event(participants=booked(3, version=1), revision=2).settle_event_participants(3, 2)
    assert (settlement.applied, settlement.changed, settlement.event.participants.event, settlement.event.revision) == (True, False, Count(3, 2), 2)


def test_participants_still_settle_on_a_cancelled_event() -> None:
    settlement = stored_event(status=EventStatus.CANCELLED, participants=booked(5, version=3)).settle_event_participants(0, 4)
    assert settlement.applied and settlement.event.participants_total == 0


def test_settling_above_capacity_leaves_remaining_capacity_negative() -> None:
    settlement = stored_event(total_capacity=10).settle_event_participants(12, 1)
    assert settlement.event.remaining_capacity == -2


def test_the_legacy_total_settles_as_before_on_an_event_not_yet_split() -> None:
    settlement = stored_event(participants=Participants(legacy=Count(2, 4)), revision=6).settle_participants(7, 5)
    assert (settlement.applied, settlement.changed, settlement.event.participants_total, settlement.event.revision) == (True, True, 7, 7)


def test_the_legacy_total_no_longer_counts_once_the_event_is_split() -> None:
    """An updater of the previous release still running during the upgrade changes nothing visible."""
    settlement = stored_event(participants=Participants(event=Count(2, 8), legacy=Count(2, 4)), revision=6).settle_participants(9, 5)
    assert (settlement.applied, settlement.changed, settlement.event.participants_total, settlement.event.revision) == (True, False, 2, 6)


def test_an_event_reads_the_participants_settled_on_its_schedule() -> None:
    schedule = dataclasses.replace(SCHEDULE, participants=Count(5, 3))
    assert stored_event(participants=booked(1)).with_schedule_participants(schedule).participants_total == 6


@pytest.mark.parametrize(
    "stored, total, version, expected",
    [
        pytest.param(Count(0, 0), 3, 1, (Count(3, 1), 2), id="first-settlement-moves-the-revision"),
        pytest.param(Count(3, 1), 3, 2, (Count(3, 2), 1), id="same-number-keeps-the-revision"),
        pytest.param(Count(3, 5), 9, 5, None, id="same-version-is-stale"),
        pytest.param(Count(3, 5), 9, 2, None, id="older-version-is-stale"),
    ],
)
def test_participants_booked_on_a_whole_schedule_settle_by_version(stored: Count, total: int, version: int, expected: tuple[Count, int] | None) -> None:
    schedule = dataclasses.replace(SCHEDULE, participants=stored, revision=1)
    settled = schedule.settle_participants(total, version)
    assert (None if settled is None else (settled.participants, settled.revision)) == expected
