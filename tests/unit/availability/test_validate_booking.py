"""Booking validation and display cannot diverge (docs/booking-policies.md "One rule set for
display and validation"): for every combination of time, policy, capacities and party size,
`validate_booking` allows a booking iff the slot is shown bookable with min_bookable_capacity =
party size (and the party is within the policy's max participants per booking); when it refuses,
the reason is the first that holds (docs/booking-policies.md "Refusal reasons")."""

from __future__ import annotations

import itertools

import pytest

from services.availability.domain.model import BookingPolicy
from services.availability.domain.policy import BookingRefusal, class_time_slot, validate_booking
from services.common.errors import FailedPrecondition, InvalidArgument
from tests.unit.availability.helpers import (
    CLASS_SCHEDULE,
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

NOWS = [
    F - 3 * DAY,
    F - 2 * DAY,
    F - 2 * DAY + SECOND,
    F - 61 * MINUTE,
    F - 60 * MINUTE,
    F - 59 * MINUTE,
    F - SECOND,
    F,
    F + SECOND,
    F + WEEK - SECOND,
    F + WEEK,
    F + 2 * WEEK - SECOND,
    F + 2 * WEEK,
    F + 3 * WEEK,
]
POLICIES = [
    policy(early=early, late=late, after_start=after_start, max_participants=max_participants)
    for early, late, after_start, max_participants in itertools.product((None, 2 * 24 * 60), (None, 60), (False, True), (1, 3))
]
CAPACITIES = [(5, 5, 5), (2, 5, 5), (5, 0, 5), (-1, 3, 3), (3, 3, 2)]
PARTIES = [1, 2, 3, 4]
CANCELLED = [(), (1,), (0,)]
ONLINE = [True, False]


def _expected_refusal_order(refusal: BookingRefusal | None, flags: dict[BookingRefusal, bool]) -> bool:
    held = [r for r in BookingRefusal if flags[r]]
    return refusal == (held[0] if held else None)


def test_validate_course_booking_agrees_with_the_displayed_course_for_every_combination() -> None:
    checked = 0
    for now, p, capacities, party, cancelled, online in itertools.product(NOWS, POLICIES, CAPACITIES, PARTIES, CANCELLED, ONLINE):
        offering = course(p, online=online)
        sessions = weekly(capacities, cancelled=cancelled)
        shown = course_slots(now, offering, sessions, min_capacity=party)
        future = [s for s in shown if not s.past and not s.session.cancelled]
        shown_bookable = any(s.bookable for s in shown)
        assert all(s.bookable == shown_bookable for s in future)
        refusal = validate_booking(now, offering, sessions, frame_of(sessions), party)
        context = (now, p, capacities, party, cancelled, online, refusal)
        assert (refusal is None) == (shown_bookable and party <= p.max_participants_per_booking), context
        if future:
            s = future[0]
            flags = {
                BookingRefusal.EVENT_CANCELLED: False,
                BookingRefusal.BOOK_ONLINE_DISABLED: s.violations.book_online_disabled,
                BookingRefusal.TOO_EARLY_TO_BOOK: s.violations.too_early_to_book,
                BookingRefusal.TOO_LATE_TO_BOOK: s.violations.too_late_to_book,
                BookingRefusal.MAX_PARTICIPANTS_EXCEEDED: party > p.max_participants_per_booking,
                BookingRefusal.CAPACITY_EXCEEDED: s.reasons.no_remaining_capacity,
            }
            assert _expected_refusal_order(refusal, flags), context
        checked += 1
    assert checked == len(NOWS) * len(POLICIES) * len(CAPACITIES) * len(PARTIES) * len(CANCELLED) * len(ONLINE)


def test_validate_class_booking_agrees_with_the_displayed_event_for_every_combination() -> None:
    for now, p, remaining, party, cancelled, online in itertools.product(NOWS, POLICIES, (-1, 0, 1, 2, 3, 5), PARTIES, (False, True), ONLINE):
        offering = klass(p, online=online)
        for start in (F, F + WEEK):
            event = session(start, remaining, schedule=CLASS_SCHEDULE, cancelled=cancelled)
            shown = class_time_slot(now, offering, event, party)
            refusal = validate_booking(now, offering, [event], None, party)
            context = (now, p, remaining, party, cancelled, online, start, refusal)
            assert (refusal is None) == (shown.bookable and party <= p.max_participants_per_booking), context
            flags = {
                BookingRefusal.EVENT_CANCELLED: cancelled,
                BookingRefusal.BOOK_ONLINE_DISABLED: shown.violations.book_online_disabled,
                BookingRefusal.TOO_EARLY_TO_BOOK: shown.violations.too_early_to_book,
                BookingRefusal.TOO_LATE_TO_BOOK: shown.violations.too_late_to_book,
                BookingRefusal.MAX_PARTICIPANTS_EXCEEDED: party > p.max_participants_per_booking,
                BookingRefusal.CAPACITY_EXCEEDED: shown.reasons.no_remaining_capacity,
            }
            assert _expected_refusal_order(refusal, flags), context


@pytest.mark.parametrize(
    "now, p, online, party, remaining, expected",
    [
        pytest.param(F - DAY, policy(max_participants=4), True, 2, (5, 5, 5), None, id="allowed"),
        pytest.param(F - DAY, policy(early=60), False, 1, (5, 5, 5), BookingRefusal.BOOK_ONLINE_DISABLED, id="online-disabled-comes-first"),
        pytest.param(F - DAY, policy(early=60), True, 1, (0, 5, 5), BookingRefusal.TOO_EARLY_TO_BOOK, id="too-early-before-capacity"),
        pytest.param(F + HOUR, policy(), True, 1, (5, 5, 5), BookingRefusal.TOO_LATE_TO_BOOK, id="too-late-after-F-without-book-after-start"),
        pytest.param(F - DAY, policy(max_participants=2), True, 3, (5, 5, 5), BookingRefusal.MAX_PARTICIPANTS_EXCEEDED, id="party-over-the-policy-max"),
        pytest.param(F - DAY, policy(max_participants=2), True, 3, (1, 1, 1), BookingRefusal.MAX_PARTICIPANTS_EXCEEDED, id="party-max-before-capacity"),
        pytest.param(F - DAY, policy(max_participants=4), True, 3, (5, 2, 5), BookingRefusal.CAPACITY_EXCEEDED, id="party-of-three-on-two-spots"),
        pytest.param(F + HOUR, policy(after_start=True, max_participants=4), True, 3, (0, 3, 3), None, id="after-start-a-full-past-session-does-not-matter"),
    ],
)
def test_course_refusals(now, p: BookingPolicy, online: bool, party: int, remaining, expected) -> None:
    sessions = weekly(remaining)
    assert validate_booking(now, course(p, online=online), sessions, frame_of(sessions), party) == expected


def test_a_cancelled_class_is_refused_as_cancelled_first() -> None:
    event = session(F, 5, schedule=CLASS_SCHEDULE, cancelled=True)
    assert validate_booking(F + HOUR, klass(online=False), [event], None, 1) is BookingRefusal.EVENT_CANCELLED


def test_a_refusal_maps_to_failed_precondition_with_its_reason() -> None:
    error = BookingRefusal.TOO_LATE_TO_BOOK.as_error()
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "TOO_LATE_TO_BOOK"
    assert str(error) == "booking has closed"
    assert {r.value for r in BookingRefusal} >= {
        "BOOK_ONLINE_DISABLED",
        "TOO_EARLY_TO_BOOK",
        "TOO_LATE_TO_BOOK",
        "CAPACITY_EXCEEDED",
        "MAX_PARTICIPANTS_EXCEEDED",
    }


@pytest.mark.parametrize("party", [0, -1])
def test_a_party_under_one_is_an_invalid_argument(party: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_booking(F - DAY, course(), weekly(), None, party)
    assert raised.value.violations[0].field == "number_of_participants"


def test_a_class_booking_is_for_exactly_one_event() -> None:
    with pytest.raises(ValueError, match="one event"):
        validate_booking(F - DAY, klass(), weekly(schedule=CLASS_SCHEDULE), None, 1)
