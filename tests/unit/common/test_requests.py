"""What the server runtime checks in every request before a handler runs
(services/common/requests.py): a body that does not decode, and NUL characters in text, are the
caller's INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import pytest

from services.api.calendar.events.v3 import events_pb2
from services.common.errors import InvalidArgument
from services.common.requests import decode_request, locate_undecodable, nul_violations

TITLE = "AAAAAAAA"


def bulk(*titles: str) -> bytes:
    request = events_pb2.BulkCreateEventsRequest(events=[events_pb2.Event(schedule_id="s", title=t) for t in titles])
    return request.SerializeToString()


def refused(body: bytes) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as info:
        decode_request(events_pb2.BulkCreateEventsRequest, body)
    return {v.field: v.description for v in info.value.violations}


def test_a_valid_body_decodes_to_the_request() -> None:
    assert decode_request(events_pb2.BulkCreateEventsRequest, bulk("Yoga", "Pilates")).events[1].title == "Pilates"


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        (bulk("ok", TITLE).replace(TITLE.encode(), b"\xff\xfe\xfd\xfcAAAA"), "events[1].title", "UTF-8"),
        (bulk("ok", TITLE)[:-3], "events[1].title", "cut short"),
        (bulk(TITLE)[:1], "events[0]", "cut short"),
        (b"\x0f", "events[0]", "not encoded as its declared type"),  # field 1 with wire type 7, which does not exist
        (b"\xff", "", "not a valid calendar.events.v3.BulkCreateEventsRequest"),  # a tag cut short: no field to blame
    ],
    ids=["text-not-utf8-in-the-second-event", "body-ends-inside-a-title", "body-ends-before-a-length", "unknown-wire-type", "body-ends-inside-a-tag"],
)
def test_an_undecodable_body_names_the_field_where_it_breaks(body: bytes, field: str, why: str) -> None:
    violations = refused(body)
    assert list(violations) == [field]
    assert why in violations[field]


def test_locating_finds_nothing_to_blame_in_a_valid_body() -> None:
    field, _ = locate_undecodable(events_pb2.BulkCreateEventsRequest.DESCRIPTOR, bulk("fine"))
    assert field == ""


def test_nul_in_any_text_field_is_refused_with_every_field_named() -> None:
    body = events_pb2.BulkCreateEventsRequest(
        events=[events_pb2.Event(schedule_id="s", title="ok"), events_pb2.Event(schedule_id="s\x00", title="a\x00b", time_zone="UTC")]
    ).SerializeToString()
    assert set(refused(body)) == {"events[1].schedule_id", "events[1].title"}


def test_other_control_characters_and_zero_numbers_are_not_refused() -> None:
    # Zero bytes in the encoding (a 0 that is set, an empty nested message) are not NUL text.
    request = events_pb2.UpdateEventRequest(event=events_pb2.Event(id="e", title="tab\there", total_capacity=0))
    request.mask.SetInParent()
    assert nul_violations(decode_request(events_pb2.UpdateEventRequest, request.SerializeToString())) == []


def test_nul_in_a_map_key_or_value_is_refused_too() -> None:
    # google.protobuf.Struct: a map<string, Value> of nested messages, as a future request field could be.
    from google.protobuf import struct_pb2

    good = struct_pb2.Struct()
    good.update({"name": "ok"})
    assert nul_violations(good) == []
    bad = struct_pb2.Struct()
    bad.update({"name": "a\x00b", "k\x00": "v"})
    fields = {v.field for v in nul_violations(bad)}
    assert fields == {'fields["name"].string_value', "fields"}
