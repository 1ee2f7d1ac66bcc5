"""QueryEvents and ListScheduleTimeFrames: filter limits, date order, and what a cursor is bound to."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.common.errors import InvalidArgument
from services.timeframes.domain.commands import EventQueryInput, WireTimestamp, validate_event_query, validate_time_frame_ids
from tests.unit.timeframes.helpers import T0, violations_of, wire


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def query(**changes: object) -> EventQueryInput:
    fields: dict[str, object] = {"schedule_ids": [], "event_ids": [], "from_date": None, "to_date": None, "include_cancelled": False}
    fields.update(changes)
    return EventQueryInput(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(query(), id="no-filter-is-the-tenants-whole-calendar"),
        pytest.param(query(schedule_ids=ids(100)), id="100-schedule-ids"),
        pytest.param(query(event_ids=ids(100)), id="100-event-ids"),
        pytest.param(query(from_date=wire(T0)), id="only-from-date"),
        pytest.param(query(to_date=wire(T0)), id="only-to-date"),
        pytest.param(query(from_date=wire(T0), to_date=wire(T0 + timedelta(microseconds=1))), id="to-date-just-after-from-date"),
    ],
)
def test_valid_queries_are_accepted(command: EventQueryInput) -> None:
    validate_event_query(command)


@pytest.mark.parametrize(
    "command, field",
    [
        pytest.param(query(schedule_ids=ids(101)), "schedule_ids", id="more-than-100-schedule-ids"),
        pytest.param(query(event_ids=ids(101)), "event_ids", id="more-than-100-event-ids"),
        pytest.param(query(schedule_ids=[*ids(1), "bad"]), "schedule_ids[1]", id="malformed-schedule-id"),
        pytest.param(query(event_ids=["bad"]), "event_ids[0]", id="malformed-event-id"),
        pytest.param(query(from_date=wire(T0), to_date=wire(T0)), "to_date", id="to-date-equal-to-from-date"),
        pytest.param(query(from_date=wire(T0), to_date=wire(T0 - timedelta(days=1))), "to_date", id="to-date-before-from-date"),
        pytest.param(query(from_date=WireTimestamp(10**12, 0)), "from_date", id="from-date-out-of-range"),
    ],
)
def test_each_invalid_filter_is_named(command: EventQueryInput, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_event_query(command)
    assert list(violations_of(exc)) == [field]


def test_a_repeated_id_in_a_filter_is_rejected() -> None:
    (same,) = ids(1)
    with pytest.raises(InvalidArgument) as exc:
        validate_event_query(query(schedule_ids=[same, same]))
    assert list(violations_of(exc)) == ["schedule_ids"]


def test_a_cursor_is_bound_to_the_set_of_ids_not_their_order() -> None:
    a, b = ids(2)
    assert validate_event_query(query(schedule_ids=[a, b])).fingerprint_parts() == validate_event_query(query(schedule_ids=[b, a])).fingerprint_parts()


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"schedule_ids": ids(1)}, id="other-schedules"),
        pytest.param({"event_ids": ids(1)}, id="other-events"),
        pytest.param({"from_date": wire(T0 - timedelta(seconds=1))}, id="other-from-date"),
        pytest.param({"to_date": wire(T0 + timedelta(days=2))}, id="other-to-date"),
        pytest.param({"include_cancelled": True}, id="cancelled-included"),
    ],
)
def test_a_cursor_is_bound_to_every_filter(other: dict[str, object]) -> None:
    base = {"schedule_ids": ids(1), "from_date": wire(T0), "to_date": wire(T0 + timedelta(days=1))}
    assert validate_event_query(query(**base)).fingerprint_parts() != validate_event_query(query(**(base | other))).fingerprint_parts()


@pytest.mark.parametrize("count", [pytest.param(1, id="one"), pytest.param(100, id="one-hundred")])
def test_time_frames_take_1_to_100_ids_in_request_order(count: int) -> None:
    requested = ids(count)
    assert validate_time_frame_ids(requested) == requested


@pytest.mark.parametrize(
    "schedule_ids, field",
    [
        pytest.param([], "schedule_ids", id="no-ids"),
        pytest.param(ids(101), "schedule_ids", id="more-than-100-ids"),
        pytest.param(["x"], "schedule_ids[0]", id="malformed-id"),
    ],
)
def test_invalid_time_frame_requests_are_named(schedule_ids: list[str], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_time_frame_ids(schedule_ids)
    assert list(violations_of(exc)) == [field]
