"""Ordering, filtering and paging of time slots: sorted by start time, then event id
(docs/platform.md "Availability requests")."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from services.availability.domain.model import TimeSlot
from services.availability.domain.slots import decode_key, decode_start_key, encode_key, encode_start_key, page_after, slot_sort_key, sort_slots, visible
from services.common.errors import InvalidArgument
from tests.unit.availability.helpers import DAY, HOUR, F, course, course_slots, session


def slots_at(*specs: tuple[datetime, str]) -> list[TimeSlot]:
    sessions = [session(start, event_id=event_id) for start, event_id in specs]
    return course_slots(F - DAY, course(), sessions)


SAME_START = slots_at((F, "c"), (F, "a"), (F + HOUR, "0"), (F, "b"), (F - HOUR, "z"))


def ids(slots: list[TimeSlot]) -> list[str]:
    return [s.session.event_id for s in slots]


def test_slots_are_sorted_by_start_then_by_event_id() -> None:
    assert ids(sort_slots(SAME_START)) == ["z", "a", "b", "c", "0"]


def test_the_order_does_not_depend_on_the_input_order() -> None:
    shuffled = list(SAME_START)
    random.Random(7).shuffle(shuffled)
    assert ids(sort_slots(shuffled)) == ids(sort_slots(SAME_START))


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6])
def test_paging_after_the_last_key_visits_every_slot_once_in_order(limit: int) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page, has_next = page_after(SAME_START, after, limit)
        assert len(page) <= limit
        seen += ids(page)
        pages += 1
        if not has_next:
            break
        after = slot_sort_key(page[-1])
    assert seen == ["z", "a", "b", "c", "0"]
    assert pages == -(-5 // limit)


def test_a_page_that_ends_exactly_at_the_last_slot_has_no_next() -> None:
    page, has_next = page_after(SAME_START, None, 5)
    assert len(page) == 5 and not has_next


def test_paging_continues_within_slots_of_the_same_start() -> None:
    page, has_next = page_after(SAME_START, (F, "a"), 2)
    assert ids(page) == ["b", "c"] and has_next


def test_paging_after_a_key_that_is_no_longer_there_resumes_after_it() -> None:
    page, _ = page_after(SAME_START, (F, "bb"), 10)
    assert ids(page) == ["c", "0"]


def test_a_limit_under_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        page_after(SAME_START, None, 0)


@pytest.mark.parametrize("include, expected", [pytest.param(True, 3, id="all-by-default"), pytest.param(False, 1, id="only-bookable")])
def test_include_non_bookable(include: bool, expected: int) -> None:
    # One bookable slot, and two that are not: at F + HOUR the first session is past and, without
    # book-after-start, the course is too late.
    bookable = course_slots(F - DAY, course(), [session(F, event_id="x")])
    not_bookable = course_slots(F + HOUR, course(), [session(F, event_id="y"), session(F + DAY, event_id="w")])
    shown = visible(bookable + not_bookable, include)
    assert len(shown) == expected
    assert all(s.bookable for s in shown) or include


def test_a_cursor_key_round_trips() -> None:
    key = (datetime(2026, 3, 29, 1, 30, 0, 250, tzinfo=UTC), "event-1")
    assert decode_key(encode_key(key)) == key


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param([], id="empty"),
        pytest.param(["2026-03-29T01:30:00+00:00"], id="one-part"),
        pytest.param([1, "e"], id="not-text"),
        pytest.param(["yesterday", "e"], id="not-a-date"),
        pytest.param(["2026-03-29T01:30:00", "e"], id="naive"),
        pytest.param(["2026-03-29T01:30:00+00:00", "e", "x"], id="three-parts"),
    ],
)
def test_a_malformed_cursor_key_is_an_invalid_cursor(raw: list[object]) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_key(raw)
    assert raised.value.violations[0].field == "cursor_paging.cursor"


def test_an_appointment_slots_cursor_key_is_its_start() -> None:
    start = datetime(2026, 6, 15, 7, 30, 0, 123456, tzinfo=UTC)
    assert decode_start_key(encode_start_key(start)) == start


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param([], id="empty"),
        pytest.param(["2026-06-15T07:30:00+00:00"], id="text-not-microseconds"),
        pytest.param([True], id="a-boolean"),
        pytest.param([1, 2], id="two-parts"),
        pytest.param([10**30], id="beyond-any-date"),
    ],
)
def test_a_cursor_key_that_is_not_a_start_is_refused_on_the_cursor(raw: list[object]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        decode_start_key(raw)
    assert [v.field for v in exc.value.violations] == ["cursor_paging.cursor"]
