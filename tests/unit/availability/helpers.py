"""Builders shared by the availability unit tests.

A course (or a class schedule) of three weekly sessions starting at F = 2026-05-04 18:00 UTC, each
one hour long with 10 places. Times in the tests are written relative to F, as the rules are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from services.availability.domain.model import BookingPolicy, Offering, ServiceType, Session, TimeFrame, TimeSlot
from services.availability.domain.policy import class_time_slot, course_availability, course_time_slots
from services.availability.domain.requests import SlotQuery

F = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)

COURSE_SCHEDULE = "11111111-1111-4111-8111-111111111111"
CLASS_SCHEDULE = "22222222-2222-4222-8222-222222222222"
COURSE_SERVICE = "33333333-3333-4333-8333-333333333333"
CLASS_SERVICE = "44444444-4444-4444-8444-444444444444"


def policy(*, early: int | None = None, late: int | None = None, after_start: bool = False, max_participants: int = 1) -> BookingPolicy:
    """A policy: `early`/`late` are the limits in minutes (None: disabled)."""
    return BookingPolicy(
        limit_early_booking_enabled=early is not None,
        earliest_booking_in_minutes=early or 0,
        limit_late_booking_enabled=late is not None,
        latest_booking_in_minutes=late or 0,
        book_after_start_enabled=after_start,
        max_participants_per_booking=max_participants,
    )


def course(p: BookingPolicy | None = None, *, online: bool = True) -> Offering:
    return Offering(COURSE_SERVICE, ServiceType.COURSE, COURSE_SCHEDULE, "Europe/Vienna", online, p or BookingPolicy())


def klass(p: BookingPolicy | None = None, *, online: bool = True) -> Offering:
    return Offering(CLASS_SERVICE, ServiceType.CLASS, CLASS_SCHEDULE, "Europe/Vienna", online, p or BookingPolicy())


def session(
    start: datetime,
    remaining: int = 10,
    *,
    schedule: str = COURSE_SCHEDULE,
    total: int = 10,
    cancelled: bool = False,
    event_id: str | None = None,
    length: timedelta = HOUR,
) -> Session:
    return Session(
        event_id=event_id or f"ev-{start:%Y%m%dT%H%M%S}",
        schedule_id=schedule,
        start=start,
        end=start + length,
        total_capacity=total,
        remaining_capacity=remaining,
        cancelled=cancelled,
    )


def weekly(remaining: Sequence[int] = (10, 10, 10), *, schedule: str = COURSE_SCHEDULE, first: datetime = F, cancelled: Sequence[int] = ()) -> list[Session]:
    """One session a week from `first`, with the given remaining capacities; `cancelled` holds the
    indexes of cancelled sessions."""
    return [session(first + i * WEEK, r, schedule=schedule, cancelled=i in cancelled) for i, r in enumerate(remaining)]


def frame_of(sessions: Sequence[Session], schedule: str = COURSE_SCHEDULE) -> TimeFrame:
    """What ScheduleTimeFrames answers: first start / last end of the non-cancelled sessions."""
    live = [s for s in sessions if not s.cancelled]
    return TimeFrame(
        schedule_id=schedule,
        first_event_start=min((s.start for s in live), default=None),
        last_event_end=max((s.end for s in live), default=None),
        event_count=len(live),
    )


def course_slots(
    now: datetime, offering: Offering, sessions: Sequence[Session], min_capacity: int = 1, shown: Sequence[Session] | None = None
) -> list[TimeSlot]:
    decision = course_availability(now, offering, sessions, frame_of(sessions), min_capacity)
    return course_time_slots(now, offering, decision, sessions if shown is None else shown)


def class_slots(now: datetime, offering: Offering, sessions: Sequence[Session], min_capacity: int = 1) -> list[TimeSlot]:
    return [class_time_slot(now, offering, s, min_capacity) for s in sessions]


def slot_query(**fields: object) -> SlotQuery:
    """A valid ListCourseEventTimeSlots / ListEventTimeSlots query over May 2026 in Vienna (the
    weeks around F) for the course service; `fields` replace any of it."""
    values: dict[str, object] = {
        "service_ids": (COURSE_SERVICE,),
        "from_local_date": "2026-05-01T00:00:00",
        "to_local_date": "2026-06-01T00:00:00",
        "time_zone": "Europe/Vienna",
        "include_non_bookable": True,
        "min_bookable_capacity": 1,
        "limit": 0,
        "cursor": "",
    }
    values.update(fields)
    return SlotQuery(**values)  # type: ignore[arg-type]
