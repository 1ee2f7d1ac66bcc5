"""The course decision (docs/booking-policies.md, its course rules and "Edge cases the tests hold")."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime

import pytest

from services.availability.domain.model import BookingPolicy, CourseAvailability, NonBookableReasons, TimeFrame
from services.availability.domain.policy import course_availability, course_reference_time, course_time_slots
from tests.unit.availability.helpers import (
    CLASS_SCHEDULE,
    COURSE_SCHEDULE,
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    WEEK,
    F,
    course,
    course_slots,
    frame_of,
    klass,
    policy,
    session,
    weekly,
)

LAST = F + 2 * WEEK  # start of the third (last) weekly session


def decide(
    now: datetime, p: BookingPolicy | None = None, remaining=(10, 10, 10), *, min_capacity: int = 1, online: bool = True, cancelled=()
) -> CourseAvailability:
    sessions = weekly(remaining, cancelled=cancelled)
    return course_availability(now, course(p, online=online), sessions, frame_of(sessions), min_capacity)


# --- book after start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, bookable, remaining_sessions",
    [
        pytest.param(F - SECOND, True, 3, id="before-F-all-three-sessions-ahead"),
        pytest.param(F, True, 2, id="at-F-the-first-session-has-started-two-remain"),
        pytest.param(F + SECOND, True, 2, id="just-after-F-bookable-while-future-sessions-remain"),
        pytest.param(F + WEEK + SECOND, True, 1, id="after-the-second-started-one-remains-still-bookable"),
        pytest.param(LAST - SECOND, True, 1, id="one-second-before-the-last-session-still-bookable"),
        pytest.param(LAST, False, 0, id="too-late-once-the-last-session-has-started"),
        pytest.param(LAST + DAY, False, 0, id="too-late-after-the-course-ended"),
    ],
)
def test_book_after_start_allows_booking_while_a_session_is_ahead(now: datetime, bookable: bool, remaining_sessions: int) -> None:
    decision = decide(now, policy(after_start=True))
    assert decision.bookable is bookable
    assert decision.violations.too_late_to_book is (not bookable)
    assert decision.remaining_sessions == remaining_sessions
    assert decision.total_sessions == 3
    assert decision.violations.latest_booking_date == LAST


@pytest.mark.parametrize(
    "now", [pytest.param(F, id="exactly-at-F"), pytest.param(F + SECOND, id="a-second-after-F"), pytest.param(F + WEEK, id="a-week-after-F")]
)
def test_without_book_after_start_a_course_is_too_late_from_F_on(now: datetime) -> None:
    decision = decide(now, policy())
    assert not decision.bookable
    assert decision.violations.too_late_to_book
    assert decision.reasons == NonBookableReasons(violates_booking_policy=True)


def test_book_after_start_sessions_already_started_are_past_and_informational() -> None:
    slots = course_slots(F + WEEK + HOUR, course(policy(after_start=True)), weekly())
    assert [s.past for s in slots] == [True, True, False]
    assert [s.bookable for s in slots] == [False, False, True]
    assert [s.reasons.event_started for s in slots] == [True, True, False]
    assert {(s.total_sessions, s.remaining_sessions) for s in slots} == {(3, 1)}  # "your registration includes 1/3 sessions"


def test_a_full_past_session_does_not_block_booking_after_start() -> None:
    decision = decide(F + HOUR, policy(after_start=True), remaining=(0, 5, 5))
    assert decision.bookable
    assert decision.open_spots == 5


def test_with_book_after_start_the_late_limit_closes_the_window_before_F_and_it_reopens_at_F() -> None:
    # docs/booking-policies.md "Book after start": the late limit applies before F, book-after-start from F on.
    p = policy(late=60, after_start=True)
    assert decide(F - 61 * MINUTE, p).bookable
    assert decide(F - 30 * MINUTE, p).violations.too_late_to_book
    assert decide(F + SECOND, p).bookable


# --- capacity ---------------------------------------------------------------------------------


def test_a_fully_booked_session_ahead_makes_the_whole_course_unbookable() -> None:
    sessions = weekly((10, 10, 0))
    slots = course_slots(F - DAY, course(), sessions)
    assert [s.bookable for s in slots] == [False, False, False]
    assert {s.reasons for s in slots} == {NonBookableReasons(no_remaining_capacity=True)}
    assert not any(s.violations.any for s in slots)
    assert course_availability(F - DAY, course(), sessions, frame_of(sessions), 1).open_spots == 0


@pytest.mark.parametrize(
    "party, bookable",
    [
        pytest.param(0, True, id="zero-means-one"),
        pytest.param(1, True, id="one-of-two-spots"),
        pytest.param(2, True, id="two-of-two-spots"),
        pytest.param(3, False, id="a-party-of-three-does-not-fit-two-spots"),
    ],
)
def test_min_bookable_capacity_needs_that_many_spots_on_every_session_ahead(party: int, bookable: bool) -> None:
    decision = decide(F - DAY, remaining=(5, 2, 8), min_capacity=party)
    assert decision.bookable is bookable
    assert decision.reasons.no_remaining_capacity is (not bookable)
    assert decision.open_spots == 2


def test_negative_remaining_capacity_is_shown_as_zero_and_not_bookable() -> None:
    slots = course_slots(F - DAY, course(), weekly((10, -3, 10)))
    assert [s.remaining_capacity for s in slots] == [10, 0, 10]
    assert [s.session.remaining_capacity for s in slots] == [10, -3, 10]  # raw is kept
    assert not any(s.bookable for s in slots)
    assert all(s.reasons.no_remaining_capacity for s in slots)


def test_open_spots_and_total_capacity_summarise_the_sessions_ahead() -> None:
    sessions = [session(F, 1, total=8), session(F + WEEK, 4, total=12), session(F + 2 * WEEK, -2, total=10, cancelled=True)]
    decision = course_availability(F + HOUR, course(policy(after_start=True)), sessions, frame_of(sessions), 1)
    assert decision.open_spots == 4  # the started session (1 spot) and the cancelled one do not count
    assert decision.total_capacity == 12  # cancelled sessions do not count
    assert decision.min_total_capacity_ahead == 12  # nor does the started one (8)
    assert (decision.total_sessions, decision.remaining_sessions) == (2, 1)


def test_the_smallest_session_ahead_limits_what_the_whole_course_holds() -> None:
    sessions = [session(F, total=12), session(F + WEEK, total=6), session(F + 2 * WEEK, total=10)]
    decision = course_availability(F - DAY, course(), sessions, frame_of(sessions), 1)
    assert (decision.min_total_capacity_ahead, decision.total_capacity) == (6, 12)


# --- query range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, now, remaining, bookable",
    [
        pytest.param(policy(late=60), F - 30 * MINUTE, (10, 10, 10), False, id="late-limit-measured-from-F-though-F-is-not-shown"),
        pytest.param(policy(), F + HOUR, (10, 10, 10), False, id="started-course-is-too-late-though-shown-sessions-are-ahead"),
        pytest.param(policy(early=3 * 24 * 60), F - 2 * DAY, (10, 10, 10), True, id="early-limit-opens-from-F-not-from-the-shown-session"),
        pytest.param(policy(), F - DAY, (0, 10, 10), False, id="a-full-session-outside-the-range-still-blocks"),
    ],
)
def test_a_range_that_excludes_the_first_session_still_uses_F_and_all_sessions(p: BookingPolicy, now: datetime, remaining, bookable: bool) -> None:
    sessions = weekly(remaining)
    shown = sessions[1:]  # the range starts after the first session
    slots = course_slots(now, course(p), sessions, shown=shown)
    assert [s.session for s in slots] == shown
    assert {s.bookable for s in slots} == {bookable}
    assert {(s.total_sessions, s.remaining_sessions) for s in slots} == {(3, 3 if now < F else 2)}


# --- exact limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, too_late",
    [
        pytest.param(F - 60 * MINUTE - SECOND, False, id="a-second-before-the-late-limit-bookable"),
        pytest.param(F - 60 * MINUTE, False, id="exactly-at-the-late-limit-bookable"),
        pytest.param(F - 60 * MINUTE + SECOND, True, id="a-second-past-the-late-limit-too-late"),
    ],
)
def test_late_limit_is_strict(now: datetime, too_late: bool) -> None:
    decision = decide(now, policy(late=60))
    assert decision.violations.too_late_to_book is too_late
    assert decision.bookable is (not too_late)


@pytest.mark.parametrize(
    "now, too_early",
    [
        pytest.param(F - 2 * DAY - SECOND, True, id="a-second-before-the-early-limit-too-early"),
        pytest.param(F - 2 * DAY, False, id="exactly-at-the-early-limit-bookable"),
        pytest.param(F - 2 * DAY + SECOND, False, id="a-second-after-the-early-limit-bookable"),
    ],
)
def test_early_limit_is_strict(now: datetime, too_early: bool) -> None:
    decision = decide(now, policy(early=2 * 24 * 60))
    assert decision.violations.too_early_to_book is too_early
    assert decision.bookable is (not too_early)


def test_a_misconfigured_policy_can_be_too_early_and_too_late_at_once() -> None:
    decision = decide(F - 45 * MINUTE, policy(early=30, late=60))
    assert decision.violations.too_early_to_book and decision.violations.too_late_to_book


# --- configuration ----------------------------------------------------------------------------


def test_online_booking_disabled_makes_the_course_unbookable_on_every_session() -> None:
    slots = course_slots(F - DAY, course(online=False), weekly())
    assert not any(s.bookable for s in slots)
    assert all(s.violations.book_online_disabled and s.reasons.violates_booking_policy for s in slots)
    assert not any(s.violations.too_early_to_book or s.violations.too_late_to_book for s in slots)


# --- cancelled sessions -----------------------------------------------------------------------


def test_a_cancelled_session_is_shown_as_cancelled_and_not_counted() -> None:
    sessions = weekly((10, 0, 10), cancelled=[1])  # a cancelled session's capacity does not matter
    slots = course_slots(F - DAY, course(), sessions)
    assert [s.bookable for s in slots] == [True, False, True]
    assert [s.reasons.event_cancelled for s in slots] == [False, True, False]
    assert {(s.total_sessions, s.remaining_sessions) for s in slots} == {(2, 2)}


def test_a_cancelled_first_session_moves_F_to_the_next_one() -> None:
    sessions = weekly(cancelled=[0])
    decision = course_availability(F + HOUR, course(), sessions, frame_of(sessions), 1)
    assert decision.first_event_start == F + WEEK
    assert decision.bookable  # without book-after-start, yet F (the first live session) is ahead


def test_a_course_whose_sessions_are_all_cancelled_is_too_late_with_nothing_to_book() -> None:
    sessions = weekly(cancelled=[0, 1, 2])
    decision = course_availability(F - DAY, course(policy(early=60, late=60)), sessions, frame_of(sessions), 1)
    assert not decision.bookable
    assert decision.violations.too_late_to_book
    assert not decision.violations.too_early_to_book
    assert (decision.total_sessions, decision.remaining_sessions, decision.total_capacity, decision.open_spots) == (0, 0, 0, 0)
    assert decision.min_total_capacity_ahead == 0
    assert decision.first_event_start is None and decision.violations.earliest_booking_date is None


def test_a_course_without_any_session_is_too_late() -> None:
    decision = course_availability(F, course(), [], None, 1)
    assert not decision.bookable and decision.violations.too_late_to_book
    assert decision.first_event_start is None and decision.last_event_end is None


def test_a_stale_time_frame_whose_F_is_after_every_session_does_not_make_a_past_course_bookable() -> None:
    sessions = weekly()
    stale = TimeFrame(COURSE_SCHEDULE, LAST + WEEK, LAST + WEEK + HOUR, 3)
    decision = course_availability(LAST + DAY, course(), sessions, stale, 1)
    assert not decision.bookable and decision.violations.too_late_to_book


# --- ScheduleTimeFrames degradation ------------------------------------------------------------


POLICIES = [BookingPolicy(), policy(early=3 * 24 * 60), policy(late=60), policy(after_start=True), policy(early=10 * 24 * 60, late=120, after_start=True)]
NOWS = [F - 4 * DAY, F - 2 * DAY, F - 90 * MINUTE, F - 30 * MINUTE, F, F + HOUR, F + WEEK, LAST, LAST + DAY]


@pytest.mark.parametrize("cancelled", [pytest.param((), id="all-live"), pytest.param((0,), id="first-cancelled")])
def test_without_schedule_time_frames_F_from_the_sessions_gives_the_same_decision(cancelled) -> None:
    sessions = list(reversed(weekly((4, 1, 0), cancelled=cancelled)))  # any order
    frame = frame_of(sessions)
    empty_frame = TimeFrame(COURSE_SCHEDULE, None, None, 0)
    for p, now, party in itertools.product(POLICIES, NOWS, (1, 2)):
        offering = course(p)
        expected = course_availability(now, offering, sessions, frame, party)
        assert course_availability(now, offering, sessions, None, party) == expected, (p, now, party)
        assert course_availability(now, offering, sessions, empty_frame, party) == expected, (p, now, party)


def test_the_reference_time_prefers_schedule_time_frames() -> None:
    sessions = weekly()
    assert course_reference_time(sessions, TimeFrame(COURSE_SCHEDULE, F - HOUR, None, 3)) == F - HOUR
    assert course_reference_time(sessions, None) == F
    assert course_reference_time(weekly(cancelled=[0, 1, 2]), None) is None


# --- booking window dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "early, late, after_start, earliest, latest",
    [
        pytest.param(None, None, False, None, None, id="no-limits-no-dates"),
        pytest.param(2880, None, False, F - 2 * DAY, None, id="early-only-earliest-is-F-minus-early"),
        pytest.param(None, 60, False, None, F - HOUR, id="late-only-latest-is-F-minus-late"),
        pytest.param(2880, 60, False, F - 2 * DAY, F - HOUR, id="early-and-late"),
        pytest.param(None, None, True, None, LAST, id="after-start-only-latest-is-the-last-session-start"),
        pytest.param(2880, None, True, F - 2 * DAY, LAST, id="early-and-after-start"),
        pytest.param(None, 60, True, None, LAST, id="late-and-after-start-latest-is-the-last-session-start"),
        pytest.param(2880, 60, True, F - 2 * DAY, LAST, id="all-three"),
    ],
)
def test_course_booking_window_dates_in_each_policy_combination(early, late, after_start, earliest, latest) -> None:
    sessions = weekly(cancelled=[])
    sessions.append(session(LAST + WEEK, cancelled=True))  # a cancelled later session is not the last
    decision = course_availability(F - DAY, course(policy(early=early, late=late, after_start=after_start)), sessions, frame_of(sessions), 1)
    assert decision.violations.earliest_booking_date == earliest
    assert decision.violations.latest_booking_date == latest


# --- summary ------------------------------------------------------------------------------------


def test_first_and_last_come_from_schedule_time_frames_or_the_sessions() -> None:
    sessions = weekly()
    decision = course_availability(F - DAY, course(), sessions, None, 1)
    assert (decision.first_event_start, decision.last_event_end) == (F, LAST + HOUR)
    decision = course_availability(F - DAY, course(), sessions, TimeFrame(COURSE_SCHEDULE, F, LAST + 2 * HOUR, 3), 1)
    assert decision.last_event_end == LAST + 2 * HOUR


def test_the_course_reasons_are_repeated_on_every_slot_with_the_session_facts_added() -> None:
    sessions = weekly((10, 0, 10), cancelled=[2])
    decision = course_availability(F + HOUR, course(policy(after_start=True)), sessions, frame_of(sessions), 1)
    slots = course_time_slots(F + HOUR, course(policy(after_start=True)), decision, sessions)
    assert [s.reasons for s in slots] == [
        NonBookableReasons(no_remaining_capacity=True, event_started=True),
        NonBookableReasons(no_remaining_capacity=True),
        NonBookableReasons(no_remaining_capacity=True, event_cancelled=True),
    ]


# --- misuse is a programming error ----------------------------------------------------------------


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        course_availability(F.replace(tzinfo=None), course(), weekly(), None, 1)


def test_a_naive_session_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        session(F.replace(tzinfo=None))


def test_a_session_of_another_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="belongs to schedule"):
        course_availability(F, course(), weekly(schedule=CLASS_SCHEDULE), None, 1)


def test_a_class_is_not_decided_as_a_course() -> None:
    with pytest.raises(ValueError, match="not a COURSE"):
        course_availability(F, klass(), weekly(schedule=CLASS_SCHEDULE), None, 1)


def test_slots_need_the_decision_of_their_own_course() -> None:
    sessions = weekly()
    decision = course_availability(F, course(), sessions, None, 1)
    other = dataclasses.replace(decision, schedule_id=CLASS_SCHEDULE)
    with pytest.raises(ValueError, match="given for"):
        course_time_slots(F, course(), other, sessions)
