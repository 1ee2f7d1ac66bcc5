"""CreateEvent, BulkCreateEvents, UpdateEvent, CancelEvent, UpdateEventParticipants: validation
of each field, named by its proto path, all reported together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import InvalidArgument
from services.timeframes.domain.commands import (
    MAX_BULK_EVENTS,
    MAX_TOTALS_PER_CALL,
    CancelEventInput,
    EventInput,
    ParticipantTotalInput,
    UpdateEventInput,
    UpdateParticipantsInput,
    UpdateTotalsInput,
    WireTimestamp,
    validate_cancel_event,
    validate_new_event,
    validate_new_events,
    validate_update_event,
    validate_update_participants,
    validate_update_totals,
)
from tests.unit.timeframes.helpers import EVENT_ID, SCHEDULE_ID, T0, event_input, violations_of, wire

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
MICROSECOND = timedelta(microseconds=1)

# --- creating ------------------------------------------------------------------------------------


def test_a_valid_event_becomes_a_draft_with_utc_instants() -> None:
    draft = validate_new_event(event_input())
    assert (draft.schedule_id, draft.start, draft.end, draft.time_zone, draft.total_capacity, draft.title) == (
        SCHEDULE_ID,
        T0,
        T0 + HOUR,
        "Europe/Vienna",
        10,
        "Pottery",
    )
    assert draft.start.tzinfo is UTC


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"time_zone": ""}, id="time-zone-empty-means-the-schedules"),
        pytest.param({"total_capacity": 0}, id="capacity-0-means-the-schedule-default"),
        pytest.param({"total_capacity": 1}, id="capacity-of-1"),
        pytest.param({"total_capacity": 10_000}, id="capacity-of-10000"),
        pytest.param({"title": ""}, id="title-is-optional"),
        pytest.param({"title": "t" * 200}, id="title-of-200-characters"),
        pytest.param({"end": wire(T0 + WEEK)}, id="exactly-7-days-long"),
        pytest.param({"end": wire(T0 + MICROSECOND)}, id="one-microsecond-long"),
        pytest.param({"start": WireTimestamp(-2_208_988_800, 0), "end": WireTimestamp(-2_208_988_800 + 3600, 0)}, id="starting-at-1900-01-01"),
        pytest.param({"start": WireTimestamp(32_503_680_000 - 3600, 0), "end": WireTimestamp(32_503_680_000, 0)}, id="ending-at-3000-01-01"),
    ],
)
def test_boundary_values_are_accepted(changes: dict[str, object]) -> None:
    validate_new_event(event_input(**changes))


@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"schedule_id": ""}, "event.schedule_id", id="schedule-id-is-required"),
        pytest.param({"schedule_id": "abc"}, "event.schedule_id", id="schedule-id-must-be-a-uuid"),
        pytest.param({"start": None}, "event.start", id="start-is-required"),
        pytest.param({"end": None}, "event.end", id="end-is-required"),
        pytest.param({"end": wire(T0)}, "event.end", id="end-equal-to-start"),
        pytest.param({"end": wire(T0 - HOUR)}, "event.end", id="end-before-start"),
        pytest.param({"end": wire(T0 + WEEK + MICROSECOND)}, "event.end", id="longer-than-7-days"),
        pytest.param({"start": WireTimestamp(-62_135_596_801, 0)}, "event.start", id="start-before-year-1"),
        pytest.param({"end": WireTimestamp(253_402_300_800, 0)}, "event.end", id="end-after-year-9999"),
        # Timestamp's own ends are valid protobuf but outside the platform's instant range.
        pytest.param({"start": WireTimestamp(-62_135_596_800, 0)}, "event.start", id="start-at-0001-01-01"),
        pytest.param({"end": WireTimestamp(253_402_300_799, 999_999_999)}, "event.end", id="end-at-9999-12-31T23-59-59.999999999"),
        pytest.param({"start": WireTimestamp(-2_208_988_801, 0)}, "event.start", id="start-a-second-before-1900"),
        pytest.param({"start": WireTimestamp(32_503_680_000 - 3600, 0), "end": WireTimestamp(32_503_680_000, 1000)}, "event.end", id="end-after-3000-01-01"),
        pytest.param({"start": WireTimestamp(1_900_000_000, -1)}, "event.start", id="negative-nanos"),
        pytest.param({"start": WireTimestamp(1_900_000_000, 1_000_000_000)}, "event.start", id="nanos-of-a-whole-second"),
        pytest.param({"time_zone": "Europe/Nowhere"}, "event.time_zone", id="time-zone-must-be-iana"),
        pytest.param({"total_capacity": -1}, "event.total_capacity", id="capacity-negative"),
        pytest.param({"total_capacity": 10_001}, "event.total_capacity", id="capacity-above-10000"),
        pytest.param({"title": "t" * 201}, "event.title", id="title-longer-than-200"),
        pytest.param({"title": "  "}, "event.title", id="title-must-not-be-blank"),
    ],
)
def test_each_invalid_field_of_an_event_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_event(event_input(**changes))
    assert list(violations_of(exc)) == [field]


def test_sub_microsecond_precision_is_truncated() -> None:
    draft = validate_new_event(event_input(start=WireTimestamp(wire(T0).seconds, 999)))
    assert draft.start == T0


def test_all_invalid_fields_of_an_event_are_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_event(EventInput(schedule_id="x", start=None, end=None, time_zone="Nope", total_capacity=-3, title="t" * 300))
    assert set(violations_of(exc)) == {
        "event.schedule_id",
        "event.start",
        "event.end",
        "event.time_zone",
        "event.total_capacity",
        "event.title",
    }


def test_a_bulk_create_returns_one_draft_per_event_in_order() -> None:
    drafts = validate_new_events([event_input(start=wire(T0 + i * HOUR), end=wire(T0 + (i + 1) * HOUR)) for i in range(3)])
    assert [d.start for d in drafts] == [T0, T0 + HOUR, T0 + 2 * HOUR]


@pytest.mark.parametrize("count", [pytest.param(1, id="one"), pytest.param(MAX_BULK_EVENTS, id="five-hundred")])
def test_a_bulk_create_takes_1_to_500_events(count: int) -> None:
    assert len(validate_new_events([event_input()] * count)) == count


@pytest.mark.parametrize("count", [pytest.param(0, id="none"), pytest.param(MAX_BULK_EVENTS + 1, id="five-hundred-and-one")])
def test_a_bulk_create_outside_1_to_500_events_names_the_list(count: int) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_events([event_input()] * count)
    assert list(violations_of(exc)) == ["events"]


def test_violations_of_a_bulk_create_are_named_by_index() -> None:
    events = [event_input(), event_input(end=wire(T0 - HOUR)), event_input(), event_input(schedule_id="", title="t" * 201)]
    with pytest.raises(InvalidArgument) as exc:
        validate_new_events(events)
    assert set(violations_of(exc)) == {"events[1].end", "events[3].schedule_id", "events[3].title"}


# --- updating ------------------------------------------------------------------------------------


def update(paths: list[str], *, event_id: str = EVENT_ID, revision: int = 1, **values: object) -> UpdateEventInput:
    return UpdateEventInput(event_id=event_id, revision=revision, paths=paths, values=EventInput(**values))  # type: ignore[arg-type]


def test_an_update_keeps_only_the_masked_values() -> None:
    patch = validate_update_event(update(["start", "title"], start=wire(T0), end=wire(T0 + HOUR), title="New", total_capacity=3))
    assert patch.paths == {"start", "title"}
    assert (patch.start, patch.end, patch.title) == (T0, None, "New")


@pytest.mark.parametrize(
    "command, field",
    [
        pytest.param(update(["title"], event_id=""), "event.id", id="id-is-required"),
        pytest.param(update(["title"], event_id="42"), "event.id", id="id-must-be-a-uuid"),
        pytest.param(update(["title"], revision=0), "event.revision", id="revision-is-required"),
        pytest.param(update(["title"], revision=-1), "event.revision", id="revision-must-be-positive"),
        pytest.param(update([]), "mask.paths", id="mask-must-not-be-empty"),
        pytest.param(update(["title", "schedule_id"]), "mask.paths[1]", id="schedule-id-is-immutable"),
        pytest.param(update(["participants_total"]), "mask.paths[0]", id="participants-are-output-only"),
        pytest.param(update(["status"]), "mask.paths[0]", id="status-changes-only-by-cancel"),
        pytest.param(update(["event.start"], start=wire(T0)), "mask.paths[0]", id="paths-are-relative-to-the-event"),
        pytest.param(update(["start"]), "event.start", id="a-masked-start-is-required"),
        pytest.param(update(["end"]), "event.end", id="a-masked-end-is-required"),
        pytest.param(update(["start", "end"], start=wire(T0), end=wire(T0)), "event.end", id="masked-end-not-after-masked-start"),
        pytest.param(update(["start", "end"], start=wire(T0), end=wire(T0 + WEEK + HOUR)), "event.end", id="masked-span-longer-than-7-days"),
        pytest.param(update(["time_zone"], time_zone=""), "event.time_zone", id="a-masked-time-zone-is-required"),
        pytest.param(update(["time_zone"], time_zone="Mars/Base"), "event.time_zone", id="a-masked-time-zone-must-be-iana"),
        pytest.param(update(["total_capacity"], total_capacity=0), "event.total_capacity", id="a-masked-capacity-of-0"),
        pytest.param(update(["total_capacity"], total_capacity=10_001), "event.total_capacity", id="a-masked-capacity-above-10000"),
        pytest.param(update(["title"], title="t" * 201), "event.title", id="a-masked-title-longer-than-200"),
    ],
)
def test_each_invalid_part_of_an_update_is_named(command: UpdateEventInput, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_update_event(command)
    assert list(violations_of(exc)) == [field]


def test_unmasked_values_are_not_validated() -> None:
    patch = validate_update_event(update(["title"], title="ok", time_zone="Mars/Base", total_capacity=-4, end=WireTimestamp(-1, -1)))
    assert patch.paths == {"title"}


def test_an_empty_title_in_the_mask_clears_the_title() -> None:
    assert validate_update_event(update(["title"], title="")).title == ""


# --- cancel and participants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, field",
    [
        pytest.param(CancelEventInput("", 1), "event_id", id="id-is-required"),
        pytest.param(CancelEventInput("x", 1), "event_id", id="id-must-be-a-uuid"),
        pytest.param(CancelEventInput(EVENT_ID, 0), "revision", id="revision-is-required"),
        pytest.param(CancelEventInput(EVENT_ID, -2), "revision", id="revision-must-be-positive"),
    ],
)
def test_each_invalid_field_of_a_cancel_is_named(command: CancelEventInput, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_cancel_event(command)
    assert list(violations_of(exc)) == [field]


@pytest.mark.parametrize(
    "command, field",
    [
        pytest.param(UpdateParticipantsInput("", 1, 1), "event_id", id="id-is-required"),
        pytest.param(UpdateParticipantsInput("nope", 1, 1), "event_id", id="id-must-be-a-uuid"),
        pytest.param(UpdateParticipantsInput(EVENT_ID, -1, 1), "participants_total", id="total-must-not-be-negative"),
        pytest.param(UpdateParticipantsInput(EVENT_ID, 1, 0), "version", id="version-must-be-at-least-1"),
        pytest.param(UpdateParticipantsInput(EVENT_ID, 1, -7), "version", id="version-must-not-be-negative"),
    ],
)
def test_each_invalid_field_of_a_participants_update_is_named(command: UpdateParticipantsInput, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_update_participants(command)
    assert list(violations_of(exc)) == [field]


def test_zero_participants_is_a_valid_total() -> None:
    assert validate_update_participants(UpdateParticipantsInput(EVENT_ID, 0, 1)).participants_total == 0


def total(total_id: str = EVENT_ID, participants: int = 1, version: int = 1) -> ParticipantTotalInput:
    return ParticipantTotalInput(total_id, participants, version)


@pytest.mark.parametrize(
    "command, fields",
    [
        pytest.param(UpdateTotalsInput(events=(total(""),)), ["events[0].id"], id="event-id-is-required"),
        pytest.param(UpdateTotalsInput(schedules=(total("x"),)), ["schedules[0].id"], id="schedule-id-must-be-a-uuid"),
        pytest.param(UpdateTotalsInput(events=(total(participants=-1),)), ["events[0].participants_total"], id="total-must-not-be-negative"),
        pytest.param(UpdateTotalsInput(schedules=(total(SCHEDULE_ID, version=0),)), ["schedules[0].version"], id="version-must-be-at-least-1"),
        pytest.param(UpdateTotalsInput(events=(total(), total(participants=2))), ["events[1].id"], id="an-id-may-not-repeat-in-its-list"),
        pytest.param(
            UpdateTotalsInput(events=(total(""), total(participants=-1, version=0))),
            ["events[0].id", "events[1].participants_total", "events[1].version"],
            id="every-violation-is-named",
        ),
    ],
)
def test_each_invalid_field_of_a_totals_update_is_named(command: UpdateTotalsInput, fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_update_totals(command)
    assert list(violations_of(exc)) == fields


def test_an_id_may_appear_once_in_each_list() -> None:
    valid = validate_update_totals(UpdateTotalsInput(events=(total(EVENT_ID, 0),), schedules=(total(EVENT_ID, 4, 9),)))
    assert valid == UpdateTotalsInput(events=(total(EVENT_ID, 0),), schedules=(total(EVENT_ID, 4, 9),))  # the lists are apart


def test_a_totals_update_has_a_size_limit() -> None:
    many = tuple(total(str(uuid.uuid4())) for _ in range(MAX_TOTALS_PER_CALL))
    assert len(validate_update_totals(UpdateTotalsInput(events=many)).events) == MAX_TOTALS_PER_CALL
    with pytest.raises(InvalidArgument) as exc:
        validate_update_totals(UpdateTotalsInput(events=many, schedules=(total(SCHEDULE_ID),)))
    assert list(violations_of(exc)) == ["events"]


def test_wire_timestamps_round_trip_through_instants() -> None:
    instant = datetime(2031, 7, 4, 12, 30, 15, 123456, tzinfo=UTC)
    assert validate_new_event(event_input(start=WireTimestamp.of(instant), end=WireTimestamp.of(instant + HOUR))).start == instant
    assert WireTimestamp.of(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == WireTimestamp(-1, 500_000_000)


def test_ids_are_passed_on_canonical() -> None:
    event_id = str(uuid.uuid4())
    assert validate_cancel_event(CancelEventInput(event_id, 3)) == CancelEventInput(event_id, 3)
