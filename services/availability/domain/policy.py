"""The booking-policy and capacity calculation of courses and classes: one rule set for display
(List/Get*TimeSlots) and for booking validation (`validate_booking`), so a slot shown as bookable
is never refused for a policy reason, and a slot shown as not bookable is refused
(docs/booking-policies.md "One rule set for display and validation"). Pure functions; `now` is
always a parameter.

The rules are docs/booking-policies.md; the comments below cite its headings (e.g. "Reference
time F", "Course vs class table"). F is the policy reference time: the course's first session
start, or the class event's own start.

Comparisons are strict where the rules say so: at exactly F − earliest a booking is not too early,
and at exactly F − latest it is not too late (one second later it is).

Two consequences of the rules as written, kept on purpose and covered by tests:
- A course with book-after-start AND a late-booking limit is too late inside the window
  [F − latest, F) and bookable again from F on while a session is ahead (the late limit applies
  before F, book-after-start from F on). Its `latest_booking_date` is the last session's start.
- A course with no non-cancelled session still ahead is too late to book: there is nothing left
  to book (this covers a course whose sessions are all cancelled, and a stale time frame whose F
  is later than every session).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from services.availability.domain.model import (
    CourseAvailability,
    NonBookableReasons,
    Offering,
    PolicyViolations,
    ServiceType,
    Session,
    TimeFrame,
    TimeSlot,
    require_aware,
)
from services.common.errors import FailedPrecondition, InvalidArgument


def needed_spots(min_bookable_capacity: int) -> int:
    """Open spots a session needs to be bookable: the party size, at least 1 (proto: "0 means 1";
    docs/booking-policies.md "Capacity": remaining_capacity ≥ max(1, min_bookable_capacity))."""
    return max(1, min_bookable_capacity)


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def _require_offering(offering: Offering, expected: ServiceType) -> None:
    if offering.type is not expected:
        raise ValueError(f"service {offering.service_id} is a {offering.type}, not a {expected}")


def _require_schedule(offering_schedule_id: str, sessions: Sequence[Session]) -> None:
    for session in sessions:
        if session.schedule_id != offering_schedule_id:
            raise ValueError(f"event {session.event_id} belongs to schedule {session.schedule_id}, not {offering_schedule_id}")


def course_reference_time(sessions: Sequence[Session], time_frame: TimeFrame | None) -> datetime | None:
    """F of a course: `ScheduleTimeFrames.first_event_start_date` (docs/booking-policies.md
    "Reference time F"). When the time frame is unavailable (None: ScheduleTimeFrames could not
    answer) or has no first start while non-cancelled sessions exist, F is the earliest
    non-cancelled session's start (docs/booking-policies.md "Time frames unavailable": fall back
    to the first event from Events). None when there is neither."""
    if time_frame is not None and time_frame.first_event_start is not None:
        return time_frame.first_event_start
    live = [s.start for s in sessions if not s.cancelled]
    return min(live) if live else None


def _early_violation(offering: Offering, now: datetime, reference: datetime | None) -> tuple[bool, datetime | None]:
    """(too_early_to_book, earliest_booking_date), the same for courses and classes
    (docs/booking-policies.md "Too early": now < F − earliest_booking_in_minutes; strict)."""
    policy = offering.policy
    if not policy.limit_early_booking_enabled or reference is None:
        return False, None
    earliest = reference - _minutes(policy.earliest_booking_in_minutes)
    return now < earliest, earliest


def course_availability(
    now: datetime,
    offering: Offering,
    sessions: Sequence[Session],
    time_frame: TimeFrame | None,
    min_bookable_capacity: int,
) -> CourseAvailability:
    """The course's single decision, the same for all its sessions (docs/booking-policies.md
    "The course decision").

    `sessions` are ALL sessions of the course's schedule, in any order, cancelled ones included
    (cancelled sessions are ignored: not counted, not checked for capacity). `time_frame` is the
    schedule's ScheduleTimeFrames answer, or None when it was unavailable. `min_bookable_capacity`
    is the party size (0 means 1).
    """
    require_aware("now", now)
    _require_offering(offering, ServiceType.COURSE)
    _require_schedule(offering.schedule_id, sessions)
    if time_frame is not None and time_frame.schedule_id != offering.schedule_id:
        raise ValueError(f"time frame of schedule {time_frame.schedule_id} given for schedule {offering.schedule_id}")
    policy = offering.policy

    live = [s for s in sessions if not s.cancelled]
    # "Sessions still ahead" have not started: start > now (a session starting exactly now has started).
    ahead = [s for s in live if s.start > now]
    first = course_reference_time(live, time_frame)

    # docs/booking-policies.md "Book online disabled": the service is not bookable online.
    book_online_disabled = not offering.online_booking_enabled
    # docs/booking-policies.md "Too early": early limit enabled and now < F − earliest (strict).
    too_early, earliest_booking_date = _early_violation(offering, now, first)

    if not ahead:
        # docs/booking-policies.md "Nothing left to book": no non-cancelled session at all, or all
        # have started. From F on this is "Book after start" (with it, too late only when no session
        # starts after now; without it, too late); before F it can only come from a stale time
        # frame, and refusing is the safe answer.
        too_late = True
    elif first is not None and now < first:
        # docs/booking-policies.md "Too late before F": late limit enabled and now > F − latest (strict).
        too_late = policy.limit_late_booking_enabled and now > first - _minutes(policy.latest_booking_in_minutes)
    else:
        # docs/booking-policies.md "Book after start": from F on, with book_after_start_policy
        # enabled, too late only when no session starts after now (here one does); without it,
        # too late.
        too_late = not policy.book_after_start_enabled

    # docs/booking-policies.md "Booking window dates": latest_booking_date = the last session's
    # start when booking after start is allowed, else F − latest when the late limit is enabled,
    # else no limit (proto: unset).
    latest_booking_date: datetime | None = None
    if policy.book_after_start_enabled:
        latest_booking_date = max((s.start for s in live), default=None)
    elif policy.limit_late_booking_enabled and first is not None:
        latest_booking_date = first - _minutes(policy.latest_booking_in_minutes)

    violations = PolicyViolations(
        too_early_to_book=too_early,
        too_late_to_book=too_late,
        book_online_disabled=book_online_disabled,
        earliest_booking_date=earliest_booking_date,
        latest_booking_date=latest_booking_date,
    )
    # docs/booking-policies.md "The course decision" and "Capacity": bookable when no violation
    # holds and every session still ahead has remaining_capacity ≥ max(1, min_bookable_capacity)
    # (a course is booked whole: one full session ahead makes the whole course unbookable).
    # Capacity is each session's own Event.remaining_capacity ("Course vs class table").
    needed = needed_spots(min_bookable_capacity)
    no_remaining_capacity = any(s.remaining_capacity < needed for s in ahead)
    reasons = NonBookableReasons(no_remaining_capacity=no_remaining_capacity, violates_booking_policy=violations.any)

    last_end = time_frame.last_event_end if time_frame is not None and time_frame.last_event_end is not None else None
    if last_end is None:
        last_end = max((s.end for s in live), default=None)

    return CourseAvailability(
        service_id=offering.service_id,
        schedule_id=offering.schedule_id,
        bookable=not reasons.any,
        violations=violations,
        reasons=reasons,
        open_spots=max(0, min((s.remaining_capacity for s in ahead), default=0)),
        total_capacity=max((s.total_capacity for s in live), default=0),
        total_sessions=len(live),
        remaining_sessions=len(ahead),
        first_event_start=first,
        last_event_end=last_end,
        min_total_capacity_ahead=min((s.total_capacity for s in ahead), default=0),
    )


def course_time_slots(now: datetime, offering: Offering, course: CourseAvailability, sessions_to_show: Sequence[Session]) -> list[TimeSlot]:
    """The course's sessions to show (e.g. those in the requested range), in the given order.

    Every slot carries the course's decision, violations, reasons and session counts
    (docs/booking-policies.md "The course decision": that one decision is given to every slot of
    the course), so a range that excludes the first session still shows the decision made from F
    and all sessions. Per session (docs/booking-policies.md "Started and cancelled sessions"):
    - started (start <= now): `past`, not bookable, `event_started` (informational);
    - cancelled: not bookable, `event_cancelled`;
    - `remaining_capacity` clamped at 0 for display (docs/booking-policies.md "Capacity": a
      negative raw value is shown as 0), `total_capacity` its own.
    """
    require_aware("now", now)
    _require_offering(offering, ServiceType.COURSE)
    if course.schedule_id != offering.schedule_id or course.service_id != offering.service_id:
        raise ValueError(f"course availability of {course.service_id}/{course.schedule_id} given for {offering.service_id}/{offering.schedule_id}")
    _require_schedule(offering.schedule_id, sessions_to_show)
    slots = []
    # At most four distinct reasons per course (cancelled x started): shared between its slots.
    reasons_of: dict[tuple[bool, bool], NonBookableReasons] = {}
    for session in sessions_to_show:
        past = session.start <= now
        key = (session.cancelled, past)
        reasons = reasons_of.get(key)
        if reasons is None:
            reasons = reasons_of[key] = dataclasses.replace(course.reasons, event_cancelled=session.cancelled, event_started=past)
        slots.append(
            TimeSlot(
                offering=offering,
                session=session,
                bookable=course.bookable and not past and not session.cancelled,
                remaining_capacity=max(0, session.remaining_capacity),
                total_capacity=session.total_capacity,
                violations=course.violations,
                reasons=reasons,
                past=past,
                total_sessions=course.total_sessions,
                remaining_sessions=course.remaining_sessions,
            )
        )
    return slots


def class_time_slot(now: datetime, offering: Offering, session: Session, min_bookable_capacity: int) -> TimeSlot:
    """One class event, decided on its own with F = the event's start and no book-after-start: an
    event that has started is not bookable (docs/booking-policies.md "Classes")."""
    require_aware("now", now)
    _require_offering(offering, ServiceType.CLASS)
    _require_schedule(offering.schedule_id, [session])
    policy = offering.policy
    start = session.start

    started = now >= start
    too_early, earliest_booking_date = _early_violation(offering, now, start)
    # docs/booking-policies.md "Classes": too late = now > event.start − latest (strict) when the
    # late limit is enabled; and a class that has started is too late whatever the policy (no
    # book-after-start).
    late_limit = start - _minutes(policy.latest_booking_in_minutes) if policy.limit_late_booking_enabled else None
    too_late = started or (late_limit is not None and now > late_limit)
    violations = PolicyViolations(
        too_early_to_book=too_early,
        too_late_to_book=too_late,
        book_online_disabled=not offering.online_booking_enabled,
        earliest_booking_date=earliest_booking_date,
        latest_booking_date=late_limit,
    )
    reasons = NonBookableReasons(
        no_remaining_capacity=session.remaining_capacity < needed_spots(min_bookable_capacity),
        violates_booking_policy=violations.any,
        event_cancelled=session.cancelled,
        event_started=started,
    )
    return TimeSlot(
        offering=offering,
        session=session,
        bookable=not reasons.any,
        remaining_capacity=max(0, session.remaining_capacity),
        total_capacity=session.total_capacity,
        violations=violations,
        reasons=reasons,
        past=started,
        total_sessions=1,
        remaining_sessions=0 if started or session.cancelled else 1,
    )


class BookingRefusal(StrEnum):
    """Why a booking is refused: the `FAILED_PRECONDITION` reason (docs/errors.md;
    docs/booking-policies.md "Refusal reasons").

    `validate_booking` reports the first that holds, in this declaration order: the event is gone,
    then the time- and configuration-based policies (always consistent, docs/booking-policies.md
    "Policies are exact, capacity is eventual"), then the party size limit (configuration), and
    capacity last, since it is the only eventually consistent one: a caller refused for any other
    reason gets the same answer on retry.
    """

    EVENT_CANCELLED = "EVENT_CANCELLED"  # classes only: the event to book is cancelled
    BOOK_ONLINE_DISABLED = "BOOK_ONLINE_DISABLED"
    TOO_EARLY_TO_BOOK = "TOO_EARLY_TO_BOOK"
    TOO_LATE_TO_BOOK = "TOO_LATE_TO_BOOK"
    MAX_PARTICIPANTS_EXCEEDED = "MAX_PARTICIPANTS_EXCEEDED"
    CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"

    @property
    def message(self) -> str:
        return _REFUSAL_MESSAGES[self]

    def as_error(self) -> FailedPrecondition:
        return FailedPrecondition(self.value, self.message)


_REFUSAL_MESSAGES = {
    BookingRefusal.EVENT_CANCELLED: "the event is cancelled",
    BookingRefusal.BOOK_ONLINE_DISABLED: "the service cannot be booked online",
    BookingRefusal.TOO_EARLY_TO_BOOK: "booking is not open yet",
    BookingRefusal.TOO_LATE_TO_BOOK: "booking has closed",
    BookingRefusal.MAX_PARTICIPANTS_EXCEEDED: "more participants than the service allows in one booking",
    BookingRefusal.CAPACITY_EXCEEDED: "not enough open spots",
}


def _first_refusal(bookable: bool, violations: PolicyViolations, reasons: NonBookableReasons, over_max: bool) -> BookingRefusal | None:
    held = {
        BookingRefusal.EVENT_CANCELLED: reasons.event_cancelled,
        BookingRefusal.BOOK_ONLINE_DISABLED: violations.book_online_disabled,
        BookingRefusal.TOO_EARLY_TO_BOOK: violations.too_early_to_book,
        BookingRefusal.TOO_LATE_TO_BOOK: violations.too_late_to_book,
        BookingRefusal.MAX_PARTICIPANTS_EXCEEDED: over_max,
        BookingRefusal.CAPACITY_EXCEEDED: reasons.no_remaining_capacity,
    }
    refusal = next((r for r in BookingRefusal if held[r]), None)
    # The displayed decision and the refusal come from the same flags: a not-bookable decision always
    # has a reason above (a started class is too late), and a bookable one has none but over_max.
    if refusal is None and not bookable:
        raise AssertionError("a not-bookable decision without a refusal reason")
    return refusal


def _require_participants(number_of_participants: int) -> None:
    if number_of_participants < 1:
        raise InvalidArgument.single("number_of_participants", "must be at least 1")


def validate_course_booking(
    now: datetime, offering: Offering, sessions: Sequence[Session], time_frame: TimeFrame | None, number_of_participants: int
) -> BookingRefusal | None:
    """None when the course can be booked for this party now, else the first refusal. Calls
    `course_availability` with min_bookable_capacity = number_of_participants: exactly what
    ListCourseEventTimeSlots shows for that party size."""
    _require_participants(number_of_participants)
    course = course_availability(now, offering, sessions, time_frame, number_of_participants)
    over_max = number_of_participants > offering.policy.max_participants_per_booking
    return _first_refusal(course.bookable, course.violations, course.reasons, over_max)


def validate_class_booking(now: datetime, offering: Offering, session: Session, number_of_participants: int) -> BookingRefusal | None:
    """None when the class event can be booked for this party now, else the first refusal. Calls
    `class_time_slot` with min_bookable_capacity = number_of_participants."""
    _require_participants(number_of_participants)
    slot = class_time_slot(now, offering, session, number_of_participants)
    over_max = number_of_participants > offering.policy.max_participants_per_booking
    return _first_refusal(slot.bookable, slot.violations, slot.reasons, over_max)


def validate_booking(
    now: datetime, offering: Offering, sessions: Sequence[Session], time_frame: TimeFrame | None, number_of_participants: int
) -> BookingRefusal | None:
    """Booking validation with the display rules: None (allowed) or the first `BookingRefusal`.

    The same inputs as the display calculation, plus the party size: for a COURSE, `sessions` are
    all sessions of its schedule and `time_frame` its ScheduleTimeFrames (None if unavailable); for
    a CLASS, `sessions` is exactly the one event being booked and `time_frame` is ignored.
    Raises InvalidArgument (`number_of_participants`) for a party under 1.
    """
    if offering.type is ServiceType.COURSE:
        return validate_course_booking(now, offering, sessions, time_frame, number_of_participants)
    if offering.type is ServiceType.CLASS:
        if len(sessions) != 1:
            raise ValueError(f"a class booking is for one event, got {len(sessions)}")
        return validate_class_booking(now, offering, sessions[0], number_of_participants)
    raise ValueError(f"availability does not validate {offering.type} bookings")
