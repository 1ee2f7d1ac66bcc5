"""The class decision: the same rules per event, with F = the event's start and no book-after-start
(docs/booking-policies.md "Classes"; "Course vs class table", class column)."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.availability.domain.model import BookingPolicy, NonBookableReasons
from services.availability.domain.policy import class_time_slot
from tests.unit.availability.helpers import CLASS_SCHEDULE, COURSE_SCHEDULE, DAY, HOUR, MINUTE, SECOND, F, course, klass, policy, session

EVENT = session(F, 6, schedule=CLASS_SCHEDULE)


def slot(now: datetime, p: BookingPolicy | None = None, *, remaining: int = 6, cancelled: bool = False, party: int = 1, online: bool = True):
    return class_time_slot(now, klass(p, online=online), session(F, remaining, schedule=CLASS_SCHEDULE, cancelled=cancelled), party)


@pytest.mark.parametrize(
    "now, too_late",
    [
        pytest.param(F - 60 * MINUTE - SECOND, False, id="a-second-before-the-late-limit-bookable"),
        pytest.param(F - 60 * MINUTE, False, id="exactly-at-the-late-limit-bookable"),
        pytest.param(F - 60 * MINUTE + SECOND, True, id="a-second-past-the-late-limit-too-late"),
    ],
)
def test_class_late_limit_is_strict(now: datetime, too_late: bool) -> None:
    s = slot(now, policy(late=60))
    assert s.violations.too_late_to_book is too_late
    assert s.bookable is (not too_late)


@pytest.mark.parametrize(
    "now, too_early",
    [
        pytest.param(F - DAY - SECOND, True, id="a-second-before-the-early-limit-too-early"),
        pytest.param(F - DAY, False, id="exactly-at-the-early-limit-bookable"),
    ],
)
def test_class_early_limit_is_strict(now: datetime, too_early: bool) -> None:
    s = slot(now, policy(early=24 * 60))
    assert s.violations.too_early_to_book is too_early
    assert s.bookable is (not too_early)


@pytest.mark.parametrize(
    "now, p",
    [
        pytest.param(F, BookingPolicy(), id="at-its-start-without-a-late-limit"),
        pytest.param(F, policy(after_start=True), id="at-its-start-book-after-start-does-not-apply"),
        pytest.param(F + HOUR, BookingPolicy(), id="after-its-start"),
    ],
)
def test_a_started_class_is_past_too_late_and_not_bookable(now: datetime, p: BookingPolicy) -> None:
    s = slot(now, p)
    assert s.past and not s.bookable
    assert s.violations.too_late_to_book
    assert s.reasons == NonBookableReasons(violates_booking_policy=True, event_started=True)
    assert (s.total_sessions, s.remaining_sessions) == (1, 0)


def test_a_class_ahead_counts_one_of_one_sessions() -> None:
    s = slot(F - SECOND)
    assert s.bookable and not s.past
    assert (s.total_sessions, s.remaining_sessions) == (1, 1)
    assert s.reasons == NonBookableReasons()


def test_a_cancelled_class_is_not_bookable_and_says_so() -> None:
    s = slot(F - DAY, cancelled=True)
    assert not s.bookable
    assert s.reasons == NonBookableReasons(event_cancelled=True)
    assert (s.total_sessions, s.remaining_sessions) == (1, 0)


@pytest.mark.parametrize(
    "remaining, party, bookable, shown",
    [
        pytest.param(2, 0, True, 2, id="party-zero-means-one"),
        pytest.param(2, 2, True, 2, id="party-of-two-fits-two-spots"),
        pytest.param(2, 3, False, 2, id="party-of-three-does-not-fit-two-spots"),
        pytest.param(0, 1, False, 0, id="full"),
        pytest.param(-2, 1, False, 0, id="overbooked-shows-zero"),
    ],
)
def test_class_capacity_needs_the_party_size(remaining: int, party: int, bookable: bool, shown: int) -> None:
    s = slot(F - DAY, remaining=remaining, party=party)
    assert s.bookable is bookable
    assert s.reasons.no_remaining_capacity is (not bookable)
    assert s.remaining_capacity == shown


def test_online_booking_disabled_makes_a_class_unbookable() -> None:
    s = slot(F - DAY, online=False)
    assert not s.bookable
    assert s.violations.book_online_disabled and s.reasons.violates_booking_policy


@pytest.mark.parametrize(
    "early, late, after_start, earliest, latest",
    [
        pytest.param(None, None, False, None, None, id="no-limits-no-dates"),
        pytest.param(1440, None, False, F - DAY, None, id="early-only"),
        pytest.param(None, 60, False, None, F - HOUR, id="late-only"),
        pytest.param(1440, 60, False, F - DAY, F - HOUR, id="early-and-late"),
        pytest.param(None, None, True, None, None, id="book-after-start-has-no-effect-on-classes"),
        pytest.param(1440, 60, True, F - DAY, F - HOUR, id="all-three-as-early-and-late"),
    ],
)
def test_class_booking_window_dates_in_each_policy_combination(early, late, after_start, earliest, latest) -> None:
    s = slot(F - 2 * DAY, policy(early=early, late=late, after_start=after_start))
    assert (s.violations.earliest_booking_date, s.violations.latest_booking_date) == (earliest, latest)


def test_a_course_is_not_decided_as_a_class() -> None:
    with pytest.raises(ValueError, match="not a CLASS"):
        class_time_slot(F, course(), session(F, schedule=COURSE_SCHEDULE), 1)
