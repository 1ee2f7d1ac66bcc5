"""Field validation helpers: every violation is collected and named."""

import uuid

import pytest

from services.common.errors import InvalidArgument
from services.common.validation import Violations, is_time_zone, is_uuid


@pytest.mark.parametrize(
    "name, valid",
    [
        ("Europe/Vienna", True),
        ("America/New_York", True),
        ("UTC", True),
        ("Mars/Olympus", False),
        ("", False),
        ("../../etc/passwd", False),
        ("europe/vienna", False),
        ("+02:00", False),
        ("localtime", False),
        ("posixrules", False),
    ],
)
def test_only_iana_time_zones_are_accepted(name: str, valid: bool) -> None:
    assert is_time_zone(name) is valid


@pytest.mark.parametrize(
    "value, valid",
    [(str(uuid.uuid4()), True), ("not-a-uuid", False), ("", False), (str(uuid.uuid4()).upper(), False), ("{" + str(uuid.uuid4()) + "}", False)],
)
def test_ids_must_be_canonical_uuids(value: str, valid: bool) -> None:
    assert is_uuid(value) is valid


def test_all_violations_are_reported_together() -> None:
    v = Violations()
    v.text("service.name", "", max_len=200)
    v.time_zone("service.time_zone", "Nowhere/City")
    v.int_range("service.default_capacity", 0, 1, 10000)
    v.ids("service_ids", ["x", "x"])
    with pytest.raises(InvalidArgument) as info:
        v.raise_if_any()
    fields = [x.field for x in info.value.violations]
    assert fields == ["service.name", "service.time_zone", "service.default_capacity", "service_ids[0]", "service_ids[1]", "service_ids"]


@pytest.mark.parametrize(
    "value, required, error",
    [
        ("", True, "is required"),
        ("   ", True, "is required"),
        ("   ", False, "must not be blank"),
        ("x" * 201, True, "at most 200 characters"),
    ],
)
def test_text_rules(value: str, required: bool, error: str) -> None:
    v = Violations()
    v.text("f", value, max_len=200, required=required)
    with pytest.raises(InvalidArgument, match=error):
        v.raise_if_any()


def test_an_optional_empty_text_is_fine() -> None:
    v = Violations()
    v.text("f", "", max_len=10, required=False)
    v.raise_if_any()


def test_too_many_ids_in_a_filter() -> None:
    v = Violations()
    v.ids("service_ids", [str(uuid.uuid4()) for _ in range(101)])
    with pytest.raises(InvalidArgument, match="at most 100"):
        v.raise_if_any()
