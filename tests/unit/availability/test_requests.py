"""Availability's request rules (domain/requests.py): every bad field of a request is named in one
answer, before anything is read."""

from __future__ import annotations

import pytest

from services.availability.domain.requests import (
    MAX_PARTY,
    SlotQuery,
    slot_query_violations,
    validate_calendar_request,
    validate_class_lookup,
    validate_course_lookup,
)
from services.common.errors import InvalidArgument
from tests.unit.availability.helpers import slot_query

SERVICE = "0b4a6c8e-0000-4000-8000-000000000001"
SCHEDULE = "0b4a6c8e-0000-4000-8000-000000000002"
OTHER_SCHEDULE = "0b4a6c8e-0000-4000-8000-000000000003"


def query(**fields: object) -> SlotQuery:
    december = {"service_ids": (SERVICE,), "from_local_date": "2026-12-01T00:00:00", "to_local_date": "2026-12-31T00:00:00"}
    return slot_query(**{**december, **fields})


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({}, set(), id="a-valid-query"),
        pytest.param({"service_ids": ("nope",)}, {"service_ids[0]"}, id="a-malformed-service-id"),
        pytest.param({"min_bookable_capacity": MAX_PARTY + 1}, {"min_bookable_capacity"}, id="a-party-too-large"),
        pytest.param({"min_bookable_capacity": -1}, {"min_bookable_capacity"}, id="a-negative-party"),
        pytest.param({"from_local_date": ""}, {"from_local_date"}, id="a-missing-start"),
        pytest.param({"to_local_date": "2026-11-01T00:00:00"}, {"to_local_date"}, id="a-reversed-range"),
        pytest.param({"time_zone": "Mars/Olympus"}, {"time_zone"}, id="an-unknown-zone"),
        pytest.param({"time_zone": ""}, set(), id="no-zone-means-the-business-zone"),
        pytest.param(
            {"service_ids": ("nope",), "min_bookable_capacity": -1, "from_local_date": ""},
            {"service_ids[0]", "min_bookable_capacity", "from_local_date"},
            id="all-named-at-once",
        ),
    ],
)
def test_a_slot_query_names_every_bad_field(fields: dict[str, object], named: set[str]) -> None:
    assert _named(slot_query_violations(query(**fields)).raise_if_any) == named


@pytest.mark.parametrize(
    "event_id, schedule_id, time_zone, party, named",
    [
        pytest.param(SERVICE, "", "", 1, set(), id="by-event"),
        pytest.param("", SCHEDULE, "Europe/Vienna", 0, set(), id="by-schedule"),
        pytest.param("", "", "", 1, {"by"}, id="neither"),
        pytest.param(SERVICE, SCHEDULE, "", 1, {"by"}, id="both"),
        pytest.param("nope", "", "Mars/Olympus", MAX_PARTY + 1, {"event_id", "time_zone", "min_bookable_capacity"}, id="all-named-at-once"),
    ],
)
def test_a_course_lookup_takes_exactly_one_of_event_or_schedule(event_id: str, schedule_id: str, time_zone: str, party: int, named: set[str]) -> None:
    check = lambda: validate_course_lookup(event_id=event_id, schedule_id=schedule_id, time_zone=time_zone, min_bookable_capacity=party)  # noqa: E731
    assert named == _named(check)


def test_a_class_lookup_names_every_bad_field() -> None:
    everything_wrong = _named(lambda: validate_class_lookup(event_id="nope", time_zone="Mars/Olympus", min_bookable_capacity=-1))
    assert everything_wrong == {"event_id", "time_zone", "min_bookable_capacity"}
    assert _named(lambda: validate_class_lookup(event_id=SERVICE, time_zone="", min_bookable_capacity=0)) == set()


@pytest.mark.parametrize(
    "given, given_schedule, owned, named",
    [
        pytest.param(None, "", SCHEDULE, set(), id="no-service-passed"),
        pytest.param(SERVICE, SCHEDULE, SCHEDULE, set(), id="the-service-owns-the-schedule"),
        pytest.param(SERVICE, OTHER_SCHEDULE, SCHEDULE, {"service.schedule_id"}, id="a-service-of-another-schedule"),
        pytest.param("nope", SCHEDULE, None, {"service.id"}, id="a-malformed-service-id"),
        pytest.param(SERVICE, OTHER_SCHEDULE, None, set(), id="an-events-schedule-is-checked-once-read"),
    ],
)
def test_a_calendar_request_checks_a_passed_service_owns_what_is_asked(given: str | None, given_schedule: str, owned: str | None, named: set[str]) -> None:
    assert _named(lambda: validate_calendar_request("schedule_id", SCHEDULE, 1, given, given_schedule, owned)) == named


def _named(check: object) -> set[str]:
    try:
        check()  # type: ignore[operator]
    except InvalidArgument as exc:
        return {v.field for v in exc.violations}
    return set()
