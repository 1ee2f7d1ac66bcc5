"""AppointmentHolds' commands and refusals (calendar.working_hours.v1, docs/appointments.md
"Double booking"): every bad field of a hold named by its proto path, all at once; the refusals
name what is in the way."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.holds import (
    HOLD_MISMATCH,
    MAX_HOLD,
    SLOT_UNAVAILABLE,
    TIME_OCCUPIED,
    AppointmentHold,
    HoldInput,
    Occupants,
    repeated_hold,
    slot_unavailable,
    time_occupied,
    validate_hold,
    validate_release,
)
from tests.unit.timeframes.helpers import SCHEDULE_ID, T0, violations_of, wire

BOOKING_ID = str(uuid.uuid4())
HOLD = HoldInput(booking_id=BOOKING_ID, schedule_id=SCHEDULE_ID, start=wire(T0), end=wire(T0 + timedelta(minutes=45)))
HELD = AppointmentHold(BOOKING_ID, SCHEDULE_ID, T0, T0 + timedelta(minutes=45))


def hold(**changes: object) -> HoldInput:
    return dataclasses.replace(HOLD, **changes)  # type: ignore[arg-type]


def test_a_valid_hold_is_kept_with_canonical_ids() -> None:
    assert validate_hold(HOLD) == HELD


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"end": wire(T0 + timedelta(microseconds=1))}, id="one-microsecond"),
        pytest.param({"end": wire(T0 + MAX_HOLD)}, id="exactly-7-days"),
        pytest.param({"start": WireTimestamp(-2208988800, 0), "end": WireTimestamp(-2208988800 + 3600, 0)}, id="at-the-start-of-the-instant-range"),
    ],
)
def test_boundary_holds_are_accepted(changes: dict[str, object]) -> None:
    validate_hold(hold(**changes))


@pytest.mark.parametrize(
    "changes, fields",
    [
        pytest.param({"booking_id": ""}, {"hold.booking_id"}, id="booking-id-is-required"),
        pytest.param({"booking_id": BOOKING_ID.upper()}, {"hold.booking_id"}, id="booking-id-is-canonical"),
        pytest.param({"schedule_id": ""}, {"hold.schedule_id"}, id="schedule-id-is-required"),
        pytest.param({"schedule_id": "schedule-1"}, {"hold.schedule_id"}, id="schedule-id-is-a-uuid"),
        pytest.param({"start": None}, {"hold.start"}, id="start-is-required"),
        pytest.param({"end": None}, {"hold.end"}, id="end-is-required"),
        pytest.param({"end": wire(T0)}, {"hold.end"}, id="end-equal-to-start"),
        pytest.param({"end": wire(T0 - timedelta(minutes=1))}, {"hold.end"}, id="end-before-start"),
        pytest.param({"end": wire(T0 + MAX_HOLD + timedelta(microseconds=1))}, {"hold.end"}, id="longer-than-7-days"),
        pytest.param({"start": WireTimestamp(-2208988801, 0)}, {"hold.start"}, id="start-before-1900"),
        pytest.param({"end": WireTimestamp(32503680000, 1000)}, {"hold.end"}, id="end-after-3000"),
        pytest.param({"start": WireTimestamp(wire(T0).seconds, 1_000_000_000)}, {"hold.start"}, id="nanos-out-of-range"),
        pytest.param(
            {"booking_id": "b", "schedule_id": "", "start": None, "end": None},
            {"hold.booking_id", "hold.schedule_id", "hold.start", "hold.end"},
            id="all-at-once",
        ),
    ],
)
def test_each_bad_hold_field_is_named(changes: dict[str, object], fields: set[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_hold(hold(**changes))
    assert set(violations_of(exc)) == fields


@pytest.mark.parametrize("booking_id", [pytest.param("", id="required"), pytest.param("booking-1", id="not-a-uuid")])
def test_release_names_a_bad_booking_id(booking_id: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_release(booking_id)
    assert set(violations_of(exc)) == {"booking_id"}


def test_release_takes_a_booking_id() -> None:
    assert validate_release(BOOKING_ID) == BOOKING_ID


# --- refusals ------------------------------------------------------------------------------------


def test_repeating_the_held_time_answers_the_hold_again() -> None:
    assert repeated_hold(HELD, HELD) == HELD


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"schedule_id": str(uuid.uuid4())}, id="another-schedule"),
        pytest.param({"start": T0 - timedelta(minutes=15)}, id="another-start"),
        pytest.param({"end": T0 + timedelta(minutes=30)}, id="another-end"),
    ],
)
def test_a_booking_holding_other_time_is_a_hold_mismatch_naming_what_it_holds(changes: dict[str, object]) -> None:
    requested = dataclasses.replace(HELD, **changes)  # type: ignore[arg-type]
    with pytest.raises(FailedPrecondition) as exc:
        repeated_hold(requested, HELD)
    assert exc.value.reason == HOLD_MISMATCH
    assert exc.value.metadata == {"held_schedule_id": SCHEDULE_ID, "held_start": T0.isoformat(), "held_end": (T0 + timedelta(minutes=45)).isoformat()}


@pytest.mark.parametrize(
    "occupants, metadata",
    [
        pytest.param(Occupants(("b1", "b2")), {"conflicting_booking_ids": "b1,b2", "conflicting_time_off_ids": ""}, id="holds"),
        pytest.param(Occupants(time_off_ids=("t1",)), {"conflicting_booking_ids": "", "conflicting_time_off_ids": "t1"}, id="time-off"),
        pytest.param(
            Occupants(("b1",), ("t1",), more=True),
            {"conflicting_booking_ids": "b1", "conflicting_time_off_ids": "t1", "more_conflicts": "true"},
            id="more-than-listed",
        ),
    ],
)
def test_an_occupied_slot_names_the_holds_and_time_off_in_its_way(occupants: Occupants, metadata: dict[str, str]) -> None:
    error = slot_unavailable(HELD, occupants)
    assert (error.reason, error.metadata, error.resource_id) == (SLOT_UNAVAILABLE, metadata, BOOKING_ID)


def test_time_off_over_holds_names_only_the_bookings() -> None:
    error = time_occupied(SCHEDULE_ID, T0, T0 + timedelta(hours=8), Occupants(("b1", "b2")))
    assert (error.reason, error.metadata) == (TIME_OCCUPIED, {"conflicting_booking_ids": "b1,b2"})
