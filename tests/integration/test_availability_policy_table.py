"""docs/booking-policies.md "Course vs class table" and its edge cases, through gRPC.

The same rows as tests/unit/availability/test_seed_policy_table.py (the pure level), now against
the real stack: the catalog holds the service and its policy, the calendar its events and their
participants, and availability answers with the server clock. Each row is built relative to
`now()` with margins of minutes (F is the first session start of a course, or each class event's
own start):

| Policy              | Classes                                  | Courses                                       |
| Reference Time      | event.start                              | ScheduleTimeFrames.firstEventStartDate        |
| tooLateToBook       | now > event.start - limitLateBooking     | now > firstEventStartDate - limitLateBooking  |
| tooEarlyToBook      | now < event.start - limitEarlyBooking    | now < firstEventStartDate - limitEarlyBooking |
| bookAfterStartPolicy| N/A (past events are unbookable)         | if now > F, check bookAfterStartPolicy        |
| Unified bookable    | per-event decision                       | same for all events in course                 |
| remainingCapacity   | per-event                                | per-event (Event.remainingCapacity)           |

The exact-instant boundaries (now == F - latest) are covered at the pure level only: the server
clock cannot be pinned from outside, so here the late limit is probed one minute either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from services.api.bookings.availability.v2 import time_slots_pb2
from tests.integration.availability_support import (
    DAY,
    HOUR,
    MINUTE,
    PROPAGATION_SECONDS,
    VIENNA,
    WEEK,
    World,
    at_local,
    enable_course_availability_for_everyone,
    instant,
    now,
    policy,
    wide_window,
    window,
)
from tests.support import eventually


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform) -> None:  # type: ignore[no-untyped-def]
    await enable_course_availability_for_everyone(platform)


@dataclass(frozen=True)
class Want:
    """What one slot should say. `violates_booking_policy` and `event_started` follow from the
    other fields (any violation; past), and are checked too."""

    bookable: bool = False
    too_late: bool = False
    too_early: bool = False
    online_disabled: bool = False
    past: bool = False
    no_capacity: bool = False
    cancelled: bool = False
    remaining: int = 10

    def __call__(self, **changes: object) -> Want:
        return Want(**{**self.__dict__, **changes})  # type: ignore[arg-type]


OPEN = Want(bookable=True)
LATE = Want(too_late=True)
EARLY = Want(too_early=True)
OFFLINE = Want(online_disabled=True)
FULL = Want(no_capacity=True)


def observed(slot: time_slots_pb2.CourseEventTimeSlot | time_slots_pb2.EventTimeSlot) -> Want:
    v, r = slot.booking_policy_violations, slot.non_bookable_reasons
    past = slot.past if isinstance(slot, time_slots_pb2.CourseEventTimeSlot) else r.event_started
    assert r.violates_booking_policy == (v.too_late_to_book or v.too_early_to_book or v.book_online_disabled), slot
    assert r.event_started == past, slot
    return Want(
        bookable=slot.bookable,
        too_late=v.too_late_to_book,
        too_early=v.too_early_to_book,
        online_disabled=v.book_online_disabled,
        past=past,
        no_capacity=r.no_remaining_capacity,
        cancelled=r.event_cancelled,
        remaining=slot.remaining_capacity,
    )


@dataclass(frozen=True)
class Row:
    id: str
    kind: str  # "course" | "class"
    first: timedelta  # F - now
    want: tuple[Want, ...]  # one per session shown, in order
    policy: dict[str, object] = field(default_factory=dict)
    # Session starts relative to F; weekly, three sessions, like the pure rows.
    sessions: tuple[timedelta, ...] = (timedelta(0), WEEK, 2 * WEEK)
    capacity: int = 10
    participants: dict[int, int] = field(default_factory=dict)  # session index -> participants
    cancelled: tuple[int, ...] = ()
    online: bool = True
    min_bookable_capacity: int = 0
    shown_from: timedelta | None = None  # range start relative to now (default: wide)

    def param(self) -> object:
        return pytest.param(self, id=self.id)


CLASS_ROWS = [
    # Reference time: an early limit of 2 days, F one day ahead.
    Row("class-reference-time-is-each-event-start-so-later-events-are-not-open-yet", "class", DAY, (OPEN, EARLY, EARLY), {"early": 2 * 24 * 60}),
    Row("class-future-event-without-limits-is-bookable", "class", 2 * DAY, (OPEN,), sessions=(timedelta(0),)),
    # tooLateToBook: a late limit of 60 minutes, F 30 minutes ahead.
    Row("class-too-late-only-for-the-event-whose-start-minus-late-limit-has-passed", "class", 30 * MINUTE, (LATE, OPEN, OPEN), {"late": 60}),
    Row("class-one-minute-before-the-late-limit-is-bookable", "class", 61 * MINUTE, (OPEN, OPEN, OPEN), {"late": 60}),
    Row("class-one-minute-after-the-late-limit-is-too-late", "class", 59 * MINUTE, (LATE, OPEN, OPEN), {"late": 60}),
    # tooEarlyToBook: an early limit of 7 days, F 3 days ahead.
    Row("class-too-early-for-each-event-before-its-own-start-minus-early-limit", "class", 3 * DAY, (OPEN, EARLY, EARLY), {"early": 7 * 24 * 60}),
    # bookAfterStartPolicy: the first event started an hour ago.
    Row(
        "class-book-after-start-does-not-apply-a-started-event-is-too-late",
        "class",
        -HOUR,
        (LATE(past=True), OPEN, OPEN),
        {"book_after_start": True},
    ),
    Row("class-without-book-after-start-a-started-event-is-too-late-the-others-open", "class", -HOUR, (LATE(past=True), OPEN, OPEN)),
    Row("class-cancelled-event-is-not-bookable-the-others-are", "class", DAY, (OPEN, Want(cancelled=True), OPEN), cancelled=(1,)),
    # Unified bookable / remainingCapacity: per event.
    Row("class-a-full-event-is-unbookable-alone", "class", DAY, (OPEN, FULL(remaining=0), OPEN), participants={1: 10}),
    Row("class-remaining-capacity-is-per-event", "class", DAY, (OPEN(remaining=7), OPEN(remaining=3), OPEN(remaining=1)), participants={0: 3, 1: 7, 2: 9}),
    Row(
        "class-overbooked-event-shows-zero-remaining-and-is-not-bookable",
        "class",
        DAY,
        (OPEN(remaining=12), FULL(remaining=0), OPEN(remaining=12)),
        capacity=12,
        participants={1: 15},
    ),
    Row("class-online-booking-disabled-makes-every-event-unbookable", "class", DAY, (OFFLINE, OFFLINE, OFFLINE), online=False),
    Row(
        "class-party-larger-than-the-open-spots-of-an-event-is-not-bookable-there",
        "class",
        DAY,
        (FULL(remaining=2), OPEN(remaining=3), OPEN),
        participants={0: 8, 1: 7},
        min_bookable_capacity=3,
    ),
]

COURSE_ROWS = [
    # Reference time: an early limit of 2 days, F one day ahead: later sessions open with the first.
    Row("course-reference-time-is-the-first-session-start-so-later-sessions-open-with-the-first", "course", DAY, (OPEN, OPEN, OPEN), {"early": 2 * 24 * 60}),
    # tooLateToBook: a late limit of 60 minutes.
    Row("course-first-session-beyond-the-late-limit-is-bookable-with-one-decision-for-all", "course", 3 * HOUR, (OPEN, OPEN, OPEN), {"late": 60}),
    Row("course-too-late-when-now-is-past-first-start-minus-late-limit-for-every-session", "course", 30 * MINUTE, (LATE, LATE, LATE), {"late": 60}),
    Row("course-one-minute-before-the-late-limit-is-bookable", "course", 61 * MINUTE, (OPEN, OPEN, OPEN), {"late": 60}),
    Row("course-one-minute-after-the-late-limit-is-too-late-for-every-session", "course", 59 * MINUTE, (LATE, LATE, LATE), {"late": 60}),
    # tooEarlyToBook: an early limit of 7 days, F 10 days ahead.
    Row(
        "course-too-early-when-now-is-before-first-start-minus-early-limit-for-every-session", "course", 10 * DAY, (EARLY, EARLY, EARLY), {"early": 7 * 24 * 60}
    ),
    # bookAfterStartPolicy: the first session started an hour ago.
    Row(
        "course-book-after-start-keeps-future-sessions-bookable-after-the-first-started",
        "course",
        -HOUR,
        (Want(past=True), OPEN, OPEN),
        {"book_after_start": True},
    ),
    Row("course-without-book-after-start-is-too-late-once-the-first-session-started", "course", -HOUR, (LATE(past=True), LATE, LATE)),
    Row(
        "course-with-every-session-started-is-too-late-even-with-book-after-start",
        "course",
        -15 * DAY,
        (LATE(past=True), LATE(past=True), LATE(past=True)),
        {"book_after_start": True},
    ),
    # Unified bookable: one full session ahead blocks the whole course; each shows its own spots.
    Row("course-one-full-session-ahead-makes-every-session-unbookable", "course", DAY, (FULL, FULL(remaining=0), FULL), participants={1: 10}),
    Row("course-remaining-capacity-is-per-session", "course", DAY, (OPEN(remaining=7), OPEN(remaining=3), OPEN(remaining=1)), participants={0: 3, 1: 7, 2: 9}),
    Row(
        "course-overbooked-session-shows-zero-remaining-and-blocks-the-course",
        "course",
        DAY,
        (FULL(remaining=12), FULL(remaining=0), FULL(remaining=12)),
        capacity=12,
        participants={1: 15},
    ),
    Row(
        "course-full-session-already-started-does-not-block-booking-after-start",
        "course",
        -HOUR,
        (Want(past=True, remaining=0), OPEN, OPEN),
        {"book_after_start": True},
        participants={0: 10},
    ),
    Row(
        "course-cancelled-full-session-is-shown-cancelled-and-does-not-block-the-course",
        "course",
        DAY,
        (OPEN, Want(cancelled=True, remaining=0), OPEN),
        participants={1: 10},
        cancelled=(1,),
    ),
    Row("course-online-booking-disabled-makes-every-session-unbookable", "course", DAY, (OFFLINE, OFFLINE, OFFLINE), online=False),
    # min_bookable_capacity: the party must fit every session still ahead.
    Row(
        "course-party-larger-than-the-open-spots-of-one-session-is-not-bookable",
        "course",
        DAY,
        (FULL, FULL(remaining=2), FULL),
        participants={1: 8},
        min_bookable_capacity=3,
    ),
    Row(
        "course-party-that-fits-every-session-is-bookable",
        "course",
        DAY,
        (OPEN, OPEN(remaining=2), OPEN),
        participants={1: 8},
        min_bookable_capacity=2,
    ),
    # Query range that excludes the first session: the decision is still made from F.
    Row(
        "course-range-without-the-first-session-is-too-late-when-the-first-is-within-the-late-limit",
        "course",
        30 * MINUTE,
        (LATE, LATE),
        {"late": 60},
        shown_from=DAY,
    ),
    Row(
        "course-range-without-the-first-session-opens-later-sessions-with-the-first",
        "course",
        3 * DAY,
        (OPEN, OPEN),
        {"early": 10 * 24 * 60},
        sessions=(timedelta(0), 10 * DAY, 20 * DAY),  # each later session alone would be too early
        shown_from=4 * DAY,
    ),
    Row(
        "course-range-without-the-started-first-session-is-bookable-with-book-after-start",
        "course",
        -HOUR,
        (OPEN, OPEN),
        {"book_after_start": True},
        shown_from=timedelta(0),
    ),
    Row(
        "course-range-without-the-started-first-session-is-too-late-without-book-after-start",
        "course",
        -HOUR,
        (LATE, LATE),
        shown_from=timedelta(0),
    ),
]


@pytest.mark.parametrize("row", [r.param() for r in CLASS_ROWS + COURSE_ROWS])
async def test_policy_table_row_through_grpc(row: Row, channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    reference = now()
    first = reference + row.first
    build = world.course if row.kind == "course" else world.klass
    offering = await build([first + s for s in row.sessions], capacity=row.capacity, booking_policy=policy(**row.policy), online=row.online)  # type: ignore[arg-type]
    for index, total in row.participants.items():
        await world.set_participants(offering.events[index], total)
    for index in row.cancelled:
        await world.cancel(offering.events[index])

    span = wide_window(reference)
    if row.shown_from is not None:
        span = window(reference + row.shown_from, reference + 80 * DAY)
    request = {"service_ids": [offering.id], "min_bookable_capacity": row.min_bookable_capacity, **span}
    response = await (world.list_courses(**request) if row.kind == "course" else world.list_classes(**request))

    shown = offering.events[len(offering.events) - len(row.want) :]
    assert [s.event_id for s in response.time_slots] == [e.id for e in shown]
    assert [observed(s) for s in response.time_slots] == list(row.want)
    assert {s.total_capacity for s in response.time_slots} == {row.capacity}
    if row.kind == "course":
        # "Unified bookable: same for all events in course": every future slot carries one decision.
        future = [s for s in response.time_slots if not s.past and not s.non_bookable_reasons.event_cancelled]
        assert len({(s.bookable, s.booking_policy_violations.SerializeToString(deterministic=True)) for s in future}) <= 1


def test_the_grpc_table_covers_every_row_and_edge_case_for_both_kinds() -> None:
    topics = {
        "course": ["reference-time", "too-late", "too-early", "book-after-start", "bookable", "remaining", "range-without-the-first", "late-limit"],
        "class": ["reference-time", "too-late", "too-early", "book-after-start", "bookable", "remaining", "late-limit", "cancelled"],
    }
    for kind, wanted in topics.items():
        ids = [r.id for r in CLASS_ROWS + COURSE_ROWS if r.kind == kind]
        assert not [t for t in wanted if not any(t in i for i in ids)], kind


# --- total_sessions / remaining_sessions ("your registration includes 22/25 sessions") ---------


async def test_course_with_two_started_and_three_future_sessions_counts_five_total_and_three_remaining(channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    reference = now()
    starts = [reference - 8 * DAY, reference - DAY, reference + DAY, reference + 8 * DAY, reference + 15 * DAY]
    course = await world.course(starts, booking_policy=policy(book_after_start=True))

    response = await world.list_courses(service_ids=[course.id], **wide_window(reference))
    assert [(s.total_sessions, s.remaining_sessions) for s in response.time_slots] == [(5, 3)] * 5
    assert [s.past for s in response.time_slots] == [True, True, False, False, False]
    assert [s.bookable for s in response.time_slots] == [False, False, True, True, True]

    # A cancelled session is not part of the registration any more (once its event message has
    # dropped the cached course: asynchronous, typically tens of milliseconds).
    await world.cancel(course.events[3])
    response = await eventually(
        lambda: world.list_courses(service_ids=[course.id], **wide_window(reference)),
        lambda r: r.time_slots[0].total_sessions == 4,
        within=PROPAGATION_SECONDS,
    )
    assert [(s.total_sessions, s.remaining_sessions) for s in response.time_slots] == [(4, 2)] * 5


# --- earliest_booking_date / latest_booking_date ------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "earliest", "latest"),
    [
        pytest.param({"early": 5 * 24 * 60, "late": 120}, -5 * DAY, -2 * HOUR, id="course-window-is-first-start-minus-early-to-first-start-minus-late"),
        pytest.param({}, None, None, id="course-without-limits-has-no-booking-window-dates"),
        pytest.param({"early": 60}, -HOUR, None, id="course-with-only-an-early-limit-has-only-an-earliest-date"),
        pytest.param({"late": 90, "book_after_start": True}, None, "last", id="course-booking-after-start-closes-at-the-last-session-start"),
    ],
)
async def test_course_booking_window_dates_are_measured_from_the_first_session(
    rules: dict[str, object],
    earliest: timedelta | None,
    latest: timedelta | str | None,
    channel,  # type: ignore[no-untyped-def]
    tenant: str,
) -> None:
    world = World.of(channel, tenant)
    first = now() + 3 * DAY
    starts = [first, first + WEEK, first + 2 * WEEK]
    course = await world.course(starts, booking_policy=policy(**rules))  # type: ignore[arg-type]

    def expect(v: time_slots_pb2.BookingPolicyViolations) -> None:
        assert (instant(v.earliest_booking_date) if v.HasField("earliest_booking_date") else None) == (None if earliest is None else first + earliest)
        expected_latest = starts[-1] if latest == "last" else None if latest is None else first + latest  # type: ignore[operator]
        assert (instant(v.latest_booking_date) if v.HasField("latest_booking_date") else None) == expected_latest

    listed = await world.list_courses(service_ids=[course.id], **wide_window())
    assert len(listed.time_slots) == 3
    for slot in listed.time_slots:
        expect(slot.booking_policy_violations)
    got = await world.get_course(schedule_id=course.schedule_id)
    expect(got.course.booking_policy_violations)


async def test_class_booking_window_dates_are_measured_from_each_event(channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    first = now() + 3 * DAY
    starts = [first, first + WEEK]
    klass = await world.klass(starts, booking_policy=policy(early=5 * 24 * 60, late=120))
    listed = await world.list_classes(service_ids=[klass.id], **wide_window())
    assert [
        (instant(s.booking_policy_violations.earliest_booking_date), instant(s.booking_policy_violations.latest_booking_date)) for s in listed.time_slots
    ] == [(start - 5 * DAY, start - 2 * HOUR) for start in starts]


# --- DST inside the range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "sundays", "utc_times"),
    [
        pytest.param(VIENNA, ["2027-03-21", "2027-03-28", "2027-04-04"], ["09:00", "08:00", "08:00"], id="vienna-spring-forward-last-sunday-of-march"),
        pytest.param(VIENNA, ["2027-10-24", "2027-10-31", "2027-11-07"], ["08:00", "09:00", "09:00"], id="vienna-fall-back-last-sunday-of-october"),
        pytest.param(
            "America/New_York", ["2027-03-07", "2027-03-14", "2027-03-21"], ["15:00", "14:00", "14:00"], id="new-york-spring-forward-second-sunday-of-march"
        ),
        pytest.param(
            "America/New_York", ["2027-10-31", "2027-11-07", "2027-11-14"], ["14:00", "15:00", "15:00"], id="new-york-fall-back-first-sunday-of-november"
        ),
    ],
)
async def test_weekly_ten_oclock_sessions_stay_at_ten_local_across_a_dst_change(
    zone: str,
    sundays: list[str],
    utc_times: list[str],
    channel,  # type: ignore[no-untyped-def]
    tenant: str,
) -> None:
    world = World.of(channel, tenant)
    starts = [at_local(f"{day}T10:00:00", zone) for day in sundays]
    course = await world.course(starts, time_zone=zone)  # far ahead, no policy: nothing interferes

    # The range is local wall time across the change: the day before the first session to the day
    # after the last.
    first_day, last_day = datetime.fromisoformat(sundays[0]), datetime.fromisoformat(sundays[-1])
    span = {"from_local_date": (first_day - DAY).date().isoformat(), "to_local_date": (last_day + DAY).date().isoformat()}
    in_zone = await world.list_courses(service_ids=[course.id], time_zone=zone, **span)
    assert [(s.local_start_date, s.local_end_date) for s in in_zone.time_slots] == [(f"{d}T10:00:00", f"{d}T11:00:00") for d in sundays]
    assert all(s.bookable for s in in_zone.time_slots)
    assert in_zone.time_zone == zone

    # The same sessions in UTC: the instant shifts by the hour the clocks moved.
    in_utc = await world.list_courses(service_ids=[course.id], time_zone="UTC", from_local_date=f"{sundays[0]}T00:00", to_local_date=f"{sundays[-1]}T23:00")
    assert [s.local_start_date for s in in_utc.time_slots] == [f"{d}T{t}:00" for d, t in zip(sundays, utc_times, strict=True)]

    # A range of exactly the day of the change, in local time, holds exactly its session.
    change_day = sundays[1]
    one_day = await world.list_courses(service_ids=[course.id], time_zone=zone, from_local_date=change_day, to_local_date=f"{change_day}T23:59:59")
    assert [s.event_id for s in one_day.time_slots] == [course.events[1].id]


async def test_class_sessions_keep_their_local_time_across_a_dst_change(channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    sundays = ["2027-03-21", "2027-03-28", "2027-04-04"]
    klass = await world.klass([at_local(f"{d}T10:00:00", VIENNA) for d in sundays])
    response = await world.list_classes(service_ids=[klass.id], time_zone=VIENNA, from_local_date="2027-03-20", to_local_date="2027-04-05")
    assert [s.local_start_date for s in response.time_slots] == [f"{d}T10:00:00" for d in sundays]
