"""Cursor paging: opaque, tamper-proof, bound to its query."""

import pytest

from services.common.errors import InvalidArgument
from services.common.paging import CursorCodec, query_fingerprint
from services.common.validation import Violations

codec = CursorCodec(b"k" * 32)
FP = query_fingerprint("tenant-a", ["s1"], None)


def test_a_cursor_round_trips_its_sort_key() -> None:
    cursor = codec.encode(["2026-03-29T08:00:00+00:00", "e-1"], FP)
    assert codec.page(10, cursor, FP).after == ["2026-03-29T08:00:00+00:00", "e-1"]


@pytest.mark.parametrize(
    "limit, expected",
    [pytest.param(0, 50, id="zero-means-default"), pytest.param(1, 1, id="one"), pytest.param(1000, 1000, id="maximum")],
)
def test_page_size(limit: int, expected: int) -> None:
    assert codec.page(limit, "", FP).limit == expected


@pytest.mark.parametrize("limit", [pytest.param(-1, id="negative"), pytest.param(1001, id="above-maximum")])
def test_a_page_size_out_of_range_names_the_limit_field(limit: int) -> None:
    with pytest.raises(InvalidArgument) as info:
        codec.page(limit, "", FP)
    assert info.value.violations[0].field == "cursor_paging.limit"


def _tamper(cursor: str) -> str:
    body, sig = cursor.split(".")
    return body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + sig


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage", id="not-a-cursor"),
        pytest.param(_tamper(codec.encode(["x", "y"], FP)), id="edited-payload"),
        pytest.param(CursorCodec(b"other-key").encode(["x", "y"], FP), id="signed-with-another-key"),
        pytest.param("a" * 3000, id="too-long"),
    ],
)
def test_a_tampered_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        codec.page(10, cursor, FP)
    assert info.value.violations[0].field == "cursor_paging.cursor"


def test_a_cursor_replayed_with_other_filters_is_invalid() -> None:
    cursor = codec.encode(["x", "y"], FP)
    with pytest.raises(InvalidArgument, match="other filters"):
        codec.page(10, cursor, query_fingerprint("tenant-a", ["s2"], None))


def test_a_cursor_of_another_tenant_is_invalid() -> None:
    cursor = codec.encode(["x", "y"], FP)
    with pytest.raises(InvalidArgument):
        codec.page(10, cursor, query_fingerprint("tenant-b", ["s1"], None))


def test_a_bad_limit_and_a_bad_cursor_are_named_together() -> None:
    with pytest.raises(InvalidArgument) as info:
        codec.page(-1, codec.encode(["x"], query_fingerprint("other filters")), FP)
    assert [v.field for v in info.value.violations] == ["cursor_paging.limit", "cursor_paging.cursor"]


def test_with_invalid_filters_a_cursor_is_checked_for_being_ours_not_yet_for_belonging_to_them() -> None:
    v = Violations()
    v.add("service_ids[0]", "must be a UUID")
    assert codec.add_page(v, 5000, "not a cursor", None) is None
    assert codec.add_page(v, 10, codec.encode(["x"], query_fingerprint("other filters")), None) is None
    with pytest.raises(InvalidArgument) as info:
        v.raise_if_any()
    assert [(x.field, x.description.split(" (")[0]) for x in info.value.violations] == [
        ("service_ids[0]", "must be a UUID"),
        ("cursor_paging.limit", "must be between 0 and 1000"),
        ("cursor_paging.cursor", "is not a cursor returned by this RPC"),
    ]


@pytest.mark.parametrize(
    "rows, limit, shown, more",
    [
        pytest.param([1, 2, 3], 2, [1, 2], True, id="one-row-more-than-the-page-means-another-page"),
        pytest.param([1, 2], 2, [1, 2], False, id="a-full-last-page-has-no-cursor"),
        pytest.param([1], 2, [1], False, id="a-short-page-is-the-last"),
        pytest.param([], 2, [], False, id="nothing-found"),
    ],
)
def test_rows_read_with_one_more_than_the_page_split_into_the_page_and_its_cursor(rows: list[int], limit: int, shown: list[int], more: bool) -> None:
    fingerprint = query_fingerprint("tenant", "rpc")
    page, cursor = codec.paginate(rows, codec.page(limit, "", fingerprint), fingerprint, lambda row: [row])
    assert page == shown
    assert bool(cursor) is more
    if more:
        assert codec.decode(cursor, fingerprint) == [shown[-1]]
