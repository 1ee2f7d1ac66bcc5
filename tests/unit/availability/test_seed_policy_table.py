"""Every row of docs/booking-policies.md "Course vs class table", for courses and for classes.

| Policy              | Classes                                  | Courses                                       |
| Reference Time      | event.start                              | ScheduleTimeFrames.firstEventStartDate        |
| tooLateToBook       | now > event.start - limitLateBooking     | now > firstEventStartDate - limitLateBooking  |
| tooEarlyToBook      | now < event.start - limitEarlyBooking    | now < firstEventStartDate - limitEarlyBooking |
| bookAfterStartPolicy| N/A (past events are unbookable)         | if now > F, check bookAfterStartPolicy        |
| Unified bookable    | per-event decision                       | same for all events in course                 |
| remainingCapacity   | per-event                                | per-event (Event.remainingCapacity)           |

Each row: three weekly sessions at F, F+7d, F+14d, one `now`, and the expected per-slot
bookable / tooLate / tooEarly / shown remaining capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from services.availability.domain.model import BookingPolicy
from tests.unit.availability.helpers import (
    CLASS_SCHEDULE,
    DAY,
    HOUR,
    MINUTE,
    F,
    class_slots,
    course,
    course_slots,
    klass,
    policy,
    weekly,
)

Y, N = True, False


@dataclass(frozen=True)
class Row:
    id: str
    kind: str  # "course" | "class"
    policy: BookingPolicy
    now: datetime
    remaining: tuple[int, int, int]
    bookable: tuple[bool, bool, bool]
    too_late: tuple[bool, bool, bool]
    too_early: tuple[bool, bool, bool]
    shown_remaining: tuple[int, int, int]


ROWS = [
    # Reference Time: an early limit of 2 days, one day before F.
    Row(
        "course-reference-time-is-the-first-session-start-so-later-sessions-open-with-the-first",
        "course",
        policy(early=2 * 24 * 60),
        F - DAY,
        (10, 10, 10),
        (Y, Y, Y),
        (N, N, N),
        (N, N, N),
        (10, 10, 10),
    ),
    Row(
        "class-reference-time-is-each-event-start-so-later-events-are-not-open-yet",
        "class",
        policy(early=2 * 24 * 60),
        F - DAY,
        (10, 10, 10),
        (Y, N, N),
        (N, N, N),
        (N, Y, Y),
        (10, 10, 10),
    ),
    # tooLateToBook: a late limit of 60 minutes, 30 minutes before F.
    Row(
        "course-too-late-when-now-is-past-first-start-minus-late-limit-for-every-session",
        "course",
        policy(late=60),
        F - 30 * MINUTE,
        (10, 10, 10),
        (N, N, N),
        (Y, Y, Y),
        (N, N, N),
        (10, 10, 10),
    ),
    Row(
        "class-too-late-only-for-the-event-whose-start-minus-late-limit-has-passed",
        "class",
        policy(late=60),
        F - 30 * MINUTE,
        (10, 10, 10),
        (N, Y, Y),
        (Y, N, N),
        (N, N, N),
        (10, 10, 10),
    ),
    # tooEarlyToBook: an early limit of 7 days, 10 days before F.
    Row(
        "course-too-early-when-now-is-before-first-start-minus-early-limit-for-every-session",
        "course",
        policy(early=7 * 24 * 60),
        F - 10 * DAY,
        (10, 10, 10),
        (N, N, N),
        (N, N, N),
        (Y, Y, Y),
        (10, 10, 10),
    ),
    Row(
        "class-too-early-for-each-event-before-its-own-start-minus-early-limit",
        "class",
        policy(early=7 * 24 * 60),
        F - 3 * DAY,
        (10, 10, 10),
        (Y, N, N),
        (N, N, N),
        (N, Y, Y),
        (10, 10, 10),
    ),
    # bookAfterStartPolicy: the first session started an hour ago.
    Row(
        "course-book-after-start-keeps-future-sessions-bookable-after-the-first-started",
        "course",
        policy(after_start=True),
        F + HOUR,
        (10, 10, 10),
        (N, Y, Y),
        (N, N, N),
        (N, N, N),
        (10, 10, 10),
    ),
    Row(
        "course-without-book-after-start-is-too-late-once-the-first-session-started",
        "course",
        policy(),
        F + HOUR,
        (10, 10, 10),
        (N, N, N),
        (Y, Y, Y),
        (N, N, N),
        (10, 10, 10),
    ),
    Row(
        "class-book-after-start-does-not-apply-a-started-event-is-too-late",
        "class",
        policy(after_start=True),
        F + HOUR,
        (10, 10, 10),
        (N, Y, Y),
        (Y, N, N),
        (N, N, N),
        (10, 10, 10),
    ),
    Row(
        "class-without-book-after-start-a-started-event-is-too-late-the-others-open",
        "class",
        policy(),
        F + HOUR,
        (10, 10, 10),
        (N, Y, Y),
        (Y, N, N),
        (N, N, N),
        (10, 10, 10),
    ),
    # Unified bookable: the second session is full.
    Row("course-one-full-session-ahead-makes-every-session-unbookable", "course", policy(), F - DAY, (10, 0, 10), (N, N, N), (N, N, N), (N, N, N), (10, 0, 10)),
    Row("class-a-full-event-is-unbookable-alone", "class", policy(), F - DAY, (10, 0, 10), (Y, N, Y), (N, N, N), (N, N, N), (10, 0, 10)),
    # remainingCapacity: each session shows its own Event.remainingCapacity.
    Row("course-remaining-capacity-is-per-session", "course", policy(), F - DAY, (7, 3, 1), (Y, Y, Y), (N, N, N), (N, N, N), (7, 3, 1)),
    Row("class-remaining-capacity-is-per-event", "class", policy(), F - DAY, (7, 3, 1), (Y, Y, Y), (N, N, N), (N, N, N), (7, 3, 1)),
]


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in ROWS])
def test_course_vs_class_policy_table(row: Row) -> None:
    if row.kind == "course":
        slots = course_slots(row.now, course(row.policy), weekly(row.remaining))
    else:
        slots = class_slots(row.now, klass(row.policy), weekly(row.remaining, schedule=CLASS_SCHEDULE))
    assert tuple(s.bookable for s in slots) == row.bookable
    assert tuple(s.violations.too_late_to_book for s in slots) == row.too_late
    assert tuple(s.violations.too_early_to_book for s in slots) == row.too_early
    assert tuple(s.remaining_capacity for s in slots) == row.shown_remaining
    assert tuple(s.total_capacity for s in slots) == (10, 10, 10)


def test_the_table_covers_every_row_for_both_kinds() -> None:
    topics = ["reference-time", "too-late", "too-early", "book-after-start", "bookable", "remaining-capacity"]
    for kind in ("course", "class"):
        ids = [r.id for r in ROWS if r.kind == kind]
        missing = [t for t in topics if not any(t in i for i in ids)]
        assert not missing, f"{kind}: no row for {missing}"


@pytest.mark.parametrize(
    "now",
    [pytest.param(F - DAY, id="before-F"), pytest.param(F + HOUR, id="after-the-first-session"), pytest.param(F + 8 * DAY, id="after-two-sessions")],
)
def test_a_course_gives_the_same_decision_and_violations_to_every_future_session(now: datetime) -> None:
    slots = course_slots(now, course(policy(early=30 * 24 * 60, late=60, after_start=True)), weekly((10, 4, 2)))
    future = [s for s in slots if not s.past]
    assert future
    assert len({(s.bookable, s.violations, s.reasons) for s in future}) == 1
