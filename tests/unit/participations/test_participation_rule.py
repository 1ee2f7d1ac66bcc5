"""The participation rule as a table: booking message (status, party size, revision) x stored
row (none, active, tombstone) -> the row stored and the event announced, or nothing.

The participation is a function of the latest booking revision only; a message not newer than
the stored revision changes nothing (duplicates, late old messages)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.participations.domain.model import (
    BookingSnapshot,
    BookingStatus,
    Participation,
    ParticipationChange,
    Target,
    apply_booking,
)

BOOKING_ID = "5c1e0f0e-3f4a-4f53-9b8e-0d6d0f5a2b11"
EVENT = Target.event("3f0c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b")
OTHER_EVENT = Target.event("7a1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b")
SCHEDULE = Target.schedule("71c29a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b")
STORED_ID = "e7d9a1c4-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
NEW_ID = "0b4a6c8e-6d1e-4b8a-9b1f-2d4c5e6f7a8b"
EARLIER = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
NOW = EARLIER + timedelta(minutes=5)

CREATED, UPDATED, REMOVED = ParticipationChange.CREATED, ParticipationChange.UPDATED, ParticipationChange.REMOVED
PENDING, CONFIRMED, DECLINED, CANCELED = BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.DECLINED, BookingStatus.CANCELED


def booking(status: BookingStatus, revision: int, party: int = 2, target: Target = EVENT) -> BookingSnapshot:
    return BookingSnapshot(id=BOOKING_ID, service_id="svc", target=target, number_of_participants=party, status=status, revision=revision)


def stored(active: bool, revision: int, party: int = 2, target: Target = EVENT) -> Participation:
    return Participation(
        id=STORED_ID,
        booking_id=BOOKING_ID,
        service_id="svc",
        target=target,
        party_size=party,
        booking_revision=revision,
        active=active,
        created_date=EARLIER,
        updated_date=EARLIER,
    )


NONE = None
ACTIVE_2_AT_3 = stored(True, 3, party=2)
TOMBSTONE_AT_3 = stored(False, 3, party=2)


@pytest.mark.parametrize(
    "current, message, saved, announced",
    [
        # No row yet.
        pytest.param(NONE, booking(CONFIRMED, 1), (True, 2, 1), [(CREATED, 2)], id="none+confirmed->created"),
        pytest.param(NONE, booking(PENDING, 1), (True, 2, 1), [(CREATED, 2)], id="none+pending->created(pending-counts)"),
        pytest.param(NONE, booking(CANCELED, 2), (False, 2, 2), [], id="none+canceled->tombstone,nothing-announced(cancel-overtook-create)"),
        pytest.param(NONE, booking(DECLINED, 2), (False, 2, 2), [], id="none+declined->tombstone,nothing-announced"),
        # An active row, newer message.
        pytest.param(ACTIVE_2_AT_3, booking(CONFIRMED, 4), (True, 2, 4), [], id="active+same-size->revision-only,nothing-announced"),
        pytest.param(ACTIVE_2_AT_3, booking(CONFIRMED, 4, party=5), (True, 5, 4), [(UPDATED, 5)], id="active+new-size->updated"),
        pytest.param(ACTIVE_2_AT_3, booking(CANCELED, 4), (False, 2, 4), [(REMOVED, 2)], id="active+canceled->removed"),
        pytest.param(ACTIVE_2_AT_3, booking(DECLINED, 4), (False, 2, 4), [(REMOVED, 2)], id="active+declined->removed"),
        # A tombstone, newer message.
        pytest.param(TOMBSTONE_AT_3, booking(CANCELED, 4), (False, 2, 4), [], id="tombstone+canceled->revision-only"),
        pytest.param(TOMBSTONE_AT_3, booking(CONFIRMED, 4, party=3), (True, 3, 4), [(CREATED, 3)], id="tombstone+newer-confirmed->created-again"),
        # Not newer than the stored revision: nothing, whatever it says.
        pytest.param(ACTIVE_2_AT_3, booking(CONFIRMED, 3, party=9), None, [], id="active+same-revision(duplicate)->nothing"),
        pytest.param(ACTIVE_2_AT_3, booking(CANCELED, 2), None, [], id="active+older-canceled->nothing"),
        pytest.param(ACTIVE_2_AT_3, booking(CONFIRMED, 1, party=1), None, [], id="active+older-created->nothing"),
        pytest.param(TOMBSTONE_AT_3, booking(CONFIRMED, 1), None, [], id="tombstone+late-created->nothing(no-resurrection)"),
        pytest.param(TOMBSTONE_AT_3, booking(CANCELED, 3), None, [], id="tombstone+duplicate-cancel->nothing"),
    ],
)
def test_the_participation_follows_the_latest_booking_revision(
    current: Participation | None, message: BookingSnapshot, saved: tuple[bool, int, int] | None, announced: list[tuple[ParticipationChange, int]]
) -> None:
    decision = apply_booking(current, message, new_id=NEW_ID, now=NOW)

    if saved is None:
        assert decision.ignored and decision.announcements == ()
        return
    row = decision.save
    assert row is not None
    assert (row.active, row.party_size, row.booking_revision) == saved
    assert row.id == (current.id if current else NEW_ID)
    assert (row.created_date, row.updated_date) == ((current.created_date if current else NOW), NOW)
    assert [(a.change, a.participation.party_size) for a in decision.announcements] == announced
    for a in decision.announcements:
        assert (a.participation.id, a.participation.booking_revision, a.participation.target) == (row.id, message.revision, EVENT)


def test_an_update_announces_the_previous_party_size() -> None:
    (announcement,) = apply_booking(ACTIVE_2_AT_3, booking(CONFIRMED, 4, party=5), new_id=NEW_ID, now=NOW).announcements
    assert (announcement.change, announcement.participation.party_size, announcement.previous_party_size) == (UPDATED, 5, 2)


def test_a_course_booking_targets_its_schedule() -> None:
    decision = apply_booking(None, booking(CONFIRMED, 1, target=SCHEDULE), new_id=NEW_ID, now=NOW)
    assert decision.save is not None and decision.save.target == SCHEDULE


@pytest.mark.parametrize("new_target", [pytest.param(OTHER_EVENT, id="another-event"), pytest.param(SCHEDULE, id="a-schedule")])
def test_a_moved_booking_is_removed_from_its_old_target_then_created_on_the_new_one(new_target: Target) -> None:
    decision = apply_booking(ACTIVE_2_AT_3, booking(CONFIRMED, 4, target=new_target), new_id=NEW_ID, now=NOW)

    assert decision.save is not None and (decision.save.target, decision.save.active) == (new_target, True)
    assert [(a.change, a.participation.target) for a in decision.announcements] == [(REMOVED, EVENT), (CREATED, new_target)]
    assert {a.participation.id for a in decision.announcements} == {STORED_ID}  # one key: the updater sees them in order


def test_every_field_of_the_row_comes_from_the_booking_or_the_stored_row() -> None:
    decision = apply_booking(ACTIVE_2_AT_3, dataclasses.replace(booking(CONFIRMED, 4, party=3), service_id="svc-2"), new_id=NEW_ID, now=NOW)
    assert decision.save == dataclasses.replace(ACTIVE_2_AT_3, service_id="svc-2", party_size=3, booking_revision=4, updated_date=NOW)
