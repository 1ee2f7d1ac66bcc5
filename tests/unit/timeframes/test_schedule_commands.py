"""CreateSchedule and id arguments: every invalid field is reported by its proto path."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from services.common.errors import InvalidArgument
from services.timeframes.domain.commands import ScheduleInput, validate_id, validate_new_schedule
from tests.unit.timeframes.helpers import violations_of

VALID = ScheduleInput(name="Pottery course", external_id="service-42", time_zone="Europe/Vienna", default_capacity=12)
NEW_ID = str(uuid.uuid4())


def test_a_valid_schedule_keeps_its_fields_and_gets_the_new_id() -> None:
    new = validate_new_schedule(VALID, NEW_ID)
    assert (new.id, new.name, new.external_id, new.time_zone, new.default_capacity) == (
        NEW_ID,
        "Pottery course",
        "service-42",
        "Europe/Vienna",
        12,
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"name": ""}, id="name-is-optional"),
        pytest.param({"name": "n" * 200}, id="name-of-200-characters"),
        pytest.param({"external_id": ""}, id="external-id-is-optional"),
        pytest.param({"external_id": "e" * 100}, id="external-id-of-100-characters"),
        pytest.param({"default_capacity": 1}, id="capacity-of-1"),
        pytest.param({"default_capacity": 10_000}, id="capacity-of-10000"),
        pytest.param({"time_zone": "UTC"}, id="utc-is-an-iana-zone"),
    ],
)
def test_boundary_values_are_accepted(changes: dict[str, object]) -> None:
    validate_new_schedule(dataclasses.replace(VALID, **changes), NEW_ID)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"time_zone": ""}, "schedule.time_zone", id="time-zone-is-required"),
        pytest.param({"time_zone": "Mars/Olympus"}, "schedule.time_zone", id="time-zone-must-be-iana"),
        pytest.param({"time_zone": "+02:00"}, "schedule.time_zone", id="time-zone-offsets-are-not-zones"),
        pytest.param({"default_capacity": 0}, "schedule.default_capacity", id="capacity-0-is-too-small"),
        pytest.param({"default_capacity": -5}, "schedule.default_capacity", id="capacity-negative"),
        pytest.param({"default_capacity": 10_001}, "schedule.default_capacity", id="capacity-above-10000"),
        pytest.param({"name": "n" * 201}, "schedule.name", id="name-longer-than-200"),
        pytest.param({"name": "   "}, "schedule.name", id="name-must-not-be-blank"),
        pytest.param({"external_id": "e" * 101}, "schedule.external_id", id="external-id-longer-than-100"),
        pytest.param({"external_id": "  "}, "schedule.external_id", id="external-id-must-not-be-blank"),
    ],
)
def test_each_invalid_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_schedule(dataclasses.replace(VALID, **changes), NEW_ID)  # type: ignore[arg-type]
    assert list(violations_of(exc)) == [field]


def test_all_invalid_fields_are_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_new_schedule(ScheduleInput(name="n" * 201, external_id="", time_zone="", default_capacity=0), NEW_ID)
    assert set(violations_of(exc)) == {"schedule.name", "schedule.time_zone", "schedule.default_capacity"}


@pytest.mark.parametrize(
    "value, description",
    [
        pytest.param("", "is required", id="missing"),
        pytest.param("not-a-uuid", "must be a UUID", id="malformed"),
        pytest.param(str(uuid.uuid4()).upper(), "must be a UUID", id="upper-case-is-not-canonical"),
    ],
)
def test_id_arguments_must_be_canonical_uuids(value: str, description: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validate_id("schedule_id", value)
    assert violations_of(exc) == {"schedule_id": description}


def test_a_valid_id_argument_is_returned() -> None:
    assert validate_id("event_id", NEW_ID) == NEW_ID
