"""What CourseEventTimeSlots and EventTimeSlots answer, end to end: which slots, in which order
and time zone, page by page, and how fast changes in the catalog and the calendar show.

Answers are cached (services, policies, time frames, each course schedule's events and each
class schedule's events of a range) until the change's Kafka event message drops them, so changes
show after a short asynchronous delay (typically tens of milliseconds; the tests allow
PROPAGATION_SECONDS). Capacity changes drop nothing: the counts their messages announce are
applied to the cached events.
"""

from __future__ import annotations

import pytest

from services.api.bookings.availability.v2 import time_slots_pb2
from services.api.common.v1 import paging_pb2
from services.devstack.stack import Platform
from tests.integration.availability_support import (
    CACHE_LIVE_SECONDS,
    DAY,
    HOUR,
    MINUTE,
    PROPAGATION_SECONDS,
    VIENNA,
    WEEK,
    World,
    at_local,
    cache_invalidations_handled,
    cached_events,
    enable_course_availability_for_everyone,
    instant,
    local,
    now,
    policy,
    wide_window,
    window,
)
from tests.support import eventually


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform) -> None:  # type: ignore[no-untyped-def]
    await enable_course_availability_for_everyone(platform)


@pytest.fixture
def world(channel, tenant: str) -> World:  # type: ignore[no-untyped-def]
    return World.of(channel, tenant)


def keys(slots) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(s.local_start_date, s.event_id) for s in slots]


# --- which slots -------------------------------------------------------------------------------


async def test_without_service_ids_every_course_of_the_tenant_is_listed_and_no_class(world: World) -> None:
    first = now() + DAY
    pottery = await world.course([first, first + WEEK], name="Pottery")
    yoga = await world.course([first + HOUR, first + WEEK + HOUR], name="Yoga")
    empty = await world.course([], name="Not scheduled yet")
    klass = await world.klass([first + 2 * HOUR], name="Drop-in")

    courses = await world.list_courses(**wide_window())
    assert {s.service_id for s in courses.time_slots} == {pottery.id, yoga.id}
    assert len(courses.time_slots) == 4
    assert empty.id not in {s.service_id for s in courses.time_slots}

    classes = await world.list_classes(**wide_window())
    assert [s.event_id for s in classes.time_slots] == klass.event_ids


async def test_a_tenant_without_courses_gets_an_empty_page(world: World) -> None:
    response = await world.list_courses(**wide_window())
    assert list(response.time_slots) == []
    assert not response.paging_metadata.has_next
    assert response.paging_metadata.cursors.next == ""


async def test_only_bookable_slots_are_listed_when_non_bookable_ones_are_excluded(world: World) -> None:
    reference = now()
    open_course = await world.course([reference + DAY, reference + 8 * DAY], name="Open")
    too_late = await world.course([reference + 30 * MINUTE, reference + 8 * DAY], booking_policy=policy(late=60), name="Closing")
    full = await world.course([reference + DAY, reference + 8 * DAY], name="Full")
    await world.set_participants(full.events[1], 12)
    started = await world.course([reference - HOUR, reference + DAY], booking_policy=policy(book_after_start=True), name="Running")

    everything = await world.list_courses(**wide_window(reference))
    assert len(everything.time_slots) == 8
    assert everything == await world.list_courses(include_non_bookable=True, **wide_window(reference))

    only_bookable = await world.list_courses(include_non_bookable=False, **wide_window(reference))
    assert all(s.bookable for s in only_bookable.time_slots)
    assert sorted(s.event_id for s in only_bookable.time_slots) == sorted([*open_course.event_ids, started.events[1].id])
    assert not {too_late.id, full.id} & {s.service_id for s in only_bookable.time_slots}


async def test_only_bookable_class_events_are_listed_when_non_bookable_ones_are_excluded(world: World) -> None:
    reference = now()
    klass = await world.klass([reference - HOUR, reference + 30 * MINUTE, reference + DAY, reference + 2 * DAY], booking_policy=policy(late=60))
    await world.set_participants(klass.events[3], 12)
    response = await world.list_classes(include_non_bookable=False, **wide_window(reference))
    assert [s.event_id for s in response.time_slots] == [klass.events[2].id]


async def test_the_range_holds_sessions_starting_from_its_start_up_to_but_not_at_its_end(world: World) -> None:
    start = at_local("2027-06-07T09:00:00", VIENNA)
    course = await world.course([start, start + HOUR, start + 2 * HOUR])
    klass = await world.klass([start, start + HOUR, start + 2 * HOUR])
    span = {"from_local_date": "2027-06-07T09:00:00", "to_local_date": "2027-06-07T11:00:00", "time_zone": VIENNA}
    assert [s.event_id for s in (await world.list_courses(**span)).time_slots] == course.event_ids[:2]
    assert [s.event_id for s in (await world.list_classes(**span)).time_slots] == klass.event_ids[:2]


async def test_a_range_starting_in_the_spring_forward_gap_is_empty_not_an_error(world: World) -> None:
    # Vienna 2027-03-28: clocks jump 02:00 -> 03:00, so 02:30 is read as 03:30 and 03:15 lies before it.
    course = await world.course([at_local("2027-03-28T03:20:00", VIENNA)])
    klass = await world.klass([at_local("2027-03-28T03:20:00", VIENNA)])
    span = {"from_local_date": "2027-03-28T02:30:00", "to_local_date": "2027-03-28T03:15:00", "time_zone": VIENNA}
    assert list((await world.list_courses(service_ids=[course.id], **span)).time_slots) == []
    assert list((await world.list_classes(service_ids=[klass.id], **span)).time_slots) == []


# --- time zone ---------------------------------------------------------------------------------


async def test_the_time_zone_defaults_to_the_business_time_zone(world: World) -> None:
    zone = "America/New_York"
    start = at_local("2027-01-10T10:00:00", zone)  # 15:00 UTC
    course = await world.course([start], time_zone=zone)
    klass = await world.klass([start], time_zone=zone)
    # 09:30-10:30 holds the session in New York, and would not in UTC or Vienna.
    span = {"from_local_date": "2027-01-10T09:30:00", "to_local_date": "2027-01-10T10:30:00"}

    courses = await world.list_courses(service_ids=[course.id], **span)
    assert courses.time_zone == zone
    assert [(s.local_start_date, s.local_end_date) for s in courses.time_slots] == [("2027-01-10T10:00:00", "2027-01-10T11:00:00")]
    classes = await world.list_classes(service_ids=[klass.id], **span)
    assert classes.time_zone == zone
    assert [s.local_start_date for s in classes.time_slots] == ["2027-01-10T10:00:00"]

    got = await world.get_course(event_id=course.events[0].id)
    assert (got.time_zone, got.time_slot.local_start_date) == (zone, "2027-01-10T10:00:00")
    got_class = await world.get_class(event_id=klass.events[0].id)
    assert (got_class.time_zone, got_class.time_slot.local_start_date) == (zone, "2027-01-10T10:00:00")

    # An explicit zone wins, for the range and for the answer.
    tokyo = await world.list_courses(service_ids=[course.id], time_zone="Asia/Tokyo", from_local_date="2027-01-11T00:00", to_local_date="2027-01-11T01:00")
    assert (tokyo.time_zone, [s.local_start_date for s in tokyo.time_slots]) == ("Asia/Tokyo", ["2027-01-11T00:00:00"])


# --- order and paging ----------------------------------------------------------------------------


async def test_slots_are_sorted_by_start_then_event_id_across_courses(world: World) -> None:
    t = now() + 2 * DAY
    a = await world.course([t + 2 * HOUR, t, t + DAY], name="A")
    b = await world.course([t, t + HOUR, t + DAY], name="B")
    c = await world.course([t + HOUR, t + 3 * DAY], name="C")
    response = await world.list_courses(service_ids=[c.id, a.id, b.id], **wide_window())
    expected = sorted((e.start.seconds, e.id) for o in (a, b, c) for e in o.events)
    assert [s.event_id for s in response.time_slots] == [event_id for _, event_id in expected]
    assert len(response.time_slots) == 8


async def test_cursor_paging_returns_every_slot_exactly_once_in_order(world: World) -> None:
    first = now() + DAY
    starts = [first + i * DAY for i in range(30)]
    one = await world.course(starts, name="Mornings")
    two = await world.course(starts, name="Also mornings")  # the same starts: order falls to event ids
    span = wide_window()

    pages = await world.all_course_pages(7, **span)
    assert [p.paging_metadata.count for p in pages] == [7] * 8 + [4]
    assert [len(p.time_slots) for p in pages] == [7] * 8 + [4]
    assert [p.paging_metadata.has_next for p in pages] == [True] * 8 + [False]
    assert pages[-1].paging_metadata.cursors.next == ""

    paged = [s.event_id for p in pages for s in p.time_slots]
    assert len(paged) == len(set(paged)) == 60
    assert sorted(paged) == sorted(one.event_ids + two.event_ids)
    everything = await world.list_courses(cursor_paging=paging_pb2.CursorPaging(limit=1000), **span)
    assert paged == [s.event_id for s in everything.time_slots]
    expected = sorted((e.start.seconds, e.id) for o in (one, two) for e in o.events)
    assert paged == [event_id for _, event_id in expected]


async def test_the_default_page_holds_fifty_slots(world: World) -> None:
    first = now() + DAY
    await world.course([first + i * HOUR for i in range(55)])
    page = await world.list_courses(**wide_window())
    assert (len(page.time_slots), page.paging_metadata.has_next) == (50, True)


async def test_class_cursor_paging_returns_every_event_exactly_once_in_order(world: World) -> None:
    first = now() + DAY
    klass = await world.klass([first + i * HOUR for i in range(15)])
    other = await world.klass([first + i * HOUR for i in range(0, 15, 3)])
    span = wide_window()
    seen: list[str] = []
    cursor = ""
    while True:
        page = await world.list_classes(cursor_paging=paging_pb2.CursorPaging(limit=4, cursor=cursor), **span)
        seen += [s.event_id for s in page.time_slots]
        if not page.paging_metadata.has_next:
            break
        cursor = page.paging_metadata.cursors.next
    expected = sorted((e.start.seconds, e.id) for o in (klass, other) for e in o.events)
    assert seen == [event_id for _, event_id in expected]


# --- capacity and calendar changes --------------------------------------------------------------


async def soon(probe, expected):  # type: ignore[no-untyped-def]
    """The answer once it equals `expected`, or the last one after PROPAGATION_SECONDS: course
    answers are cached until the change's event message drops them (asynchronous, typically
    tens of milliseconds)."""
    answer = await eventually(probe, lambda a: a == expected, within=PROPAGATION_SECONDS)
    return answer


async def test_remaining_capacity_follows_update_event_participants(world: World) -> None:
    first = now() + DAY
    course = await world.course([first, first + WEEK, first + 2 * WEEK], capacity=12)
    klass = await world.klass([first], capacity=12)
    span = wide_window()

    async def course_state() -> tuple[list[int], bool]:
        slots = (await world.list_courses(service_ids=[course.id], **span)).time_slots
        return [s.remaining_capacity for s in slots], slots[0].bookable

    assert await course_state() == ([12, 12, 12], True)
    await world.set_participants(course.events[1], 5)
    assert await soon(course_state, ([12, 7, 12], True)) == ([12, 7, 12], True)
    await world.set_participants(course.events[1], 12)
    assert await soon(course_state, ([12, 0, 12], False)) == ([12, 0, 12], False)
    got = await world.get_course(schedule_id=course.schedule_id)
    assert (got.course.open_spots, got.course.bookable, got.course.non_bookable_reasons.no_remaining_capacity) == (0, False, True)
    await world.set_participants(course.events[1], 11)  # a cancellation frees a spot
    assert await soon(course_state, ([12, 1, 12], True)) == ([12, 1, 12], True)
    assert (await world.get_course(schedule_id=course.schedule_id)).course.open_spots == 1

    await world.set_participants(klass.events[0], 12)
    got_class = await world.get_class(event_id=klass.events[0].id)
    assert (got_class.time_slot.remaining_capacity, got_class.time_slot.bookable) == (0, False)
    await world.set_participants(klass.events[0], 3)
    listed = (await world.list_classes(service_ids=[klass.id], **span)).time_slots[0]
    assert (listed.remaining_capacity, listed.bookable) == (9, True)


async def test_a_new_session_of_a_course_shows(world: World) -> None:
    first = now() + DAY
    course = await world.course([first, first + WEEK])
    span = wide_window()
    before = await world.list_courses(service_ids=[course.id], **span)  # every cache is warm now
    assert [s.total_sessions for s in before.time_slots] == [2, 2]

    added = await world.add_event(course, first + 2 * WEEK)
    after = await eventually(lambda: world.list_courses(service_ids=[course.id], **span), lambda r: len(r.time_slots) == 3, within=PROPAGATION_SECONDS)
    assert [s.event_id for s in after.time_slots] == course.event_ids
    assert after.time_slots[-1].event_id == added.id
    assert [(s.total_sessions, s.remaining_sessions) for s in after.time_slots] == [(3, 3)] * 3


async def test_a_cancelled_later_session_shows_cancelled(world: World) -> None:
    first = now() + DAY
    course = await world.course([first, first + WEEK, first + 2 * WEEK])
    await world.set_participants(course.events[1], 12)  # full: the course cannot be booked
    span = wide_window()
    assert not (await world.list_courses(service_ids=[course.id], **span)).time_slots[0].bookable

    await world.cancel(course.events[1])
    answer = await eventually(
        lambda: world.list_courses(service_ids=[course.id], **span), lambda r: r.time_slots[1].non_bookable_reasons.event_cancelled, within=PROPAGATION_SECONDS
    )
    after = answer.time_slots
    assert [s.non_bookable_reasons.event_cancelled for s in after] == [False, True, False]
    assert [s.bookable for s in after] == [True, False, True]  # the full session no longer counts
    assert [(s.total_sessions, s.remaining_sessions) for s in after] == [(2, 2)] * 3


async def test_a_moved_later_session_shows_its_new_time(world: World) -> None:
    first = now() + DAY
    course = await world.course([first, first + WEEK, first + 2 * WEEK])
    klass = await world.klass([first, first + WEEK])
    span = wide_window()
    await world.list_courses(service_ids=[course.id], **span)
    await world.list_classes(service_ids=[klass.id], **span)

    await world.move(course.events[1], first + 3 * WEEK)
    await world.move(klass.events[1], first + 3 * WEEK)
    answer = await eventually(
        lambda: world.list_courses(service_ids=[course.id], **span), lambda r: r.time_slots[-1].event_id == course.events[1].id, within=PROPAGATION_SECONDS
    )
    courses = answer.time_slots
    assert [s.event_id for s in courses] == [course.events[0].id, course.events[2].id, course.events[1].id]
    assert courses[-1].local_start_date == local(first + 3 * WEEK)
    classes = (await world.list_classes(service_ids=[klass.id], **span)).time_slots
    assert classes[-1].local_start_date == local(first + 3 * WEEK)


async def test_cancelling_and_moving_a_class_event_shows(world: World) -> None:
    first = now() + DAY
    klass = await world.klass([first, first + WEEK], booking_policy=policy(late=60))
    span = wide_window()
    await world.list_classes(service_ids=[klass.id], **span)  # the range's events are cached now
    await world.cancel(klass.events[0])
    await world.move(klass.events[1], now() + 30 * MINUTE)  # now inside the late limit

    def state(answer):  # type: ignore[no-untyped-def]
        return [(s.event_id, s.non_bookable_reasons.event_cancelled, s.booking_policy_violations.too_late_to_book) for s in answer.time_slots]

    expected = [(klass.events[1].id, False, True), (klass.events[0].id, True, False)]
    answer = await eventually(lambda: world.list_classes(service_ids=[klass.id], **span), lambda a: state(a) == expected, within=PROPAGATION_SECONDS)
    assert state(answer) == expected


async def test_capacity_changes_show_while_the_events_stay_cached(world: World, platform: Platform) -> None:
    """Under a stream of bookings a listing still reads its events from the cache: a
    participant-count message drops nothing, its counts are applied to the cached events (the
    cached entries keep the capacity they were read with; the answers show the new one)."""
    first = now() + DAY
    course = await world.course([first, first + WEEK], capacity=12)
    klass = await world.klass([first, first + WEEK], capacity=12)
    span = wide_window()
    await cache_invalidations_handled(platform, world.tenant, services=2, events=4)  # or a late one drops what is cached below

    async def listed_and_cached() -> list[tuple[str, tuple[bytes, bytes]]]:  # the cache is live once its consumer has partitions
        await world.list_courses(service_ids=[course.id], **span)
        await world.list_classes(service_ids=[klass.id], **span)
        return await cached_events(platform, world.tenant)

    entries = await eventually(listed_and_cached, lambda found: len(found) == 2, within=CACHE_LIVE_SECONDS)
    assert sorted(kind for kind, _ in entries) == ["class_events", "course_events"]

    await world.set_course_participants(course, 5)
    await world.set_participants(klass.events[1], 4)

    async def remaining() -> tuple[list[int], list[int]]:
        courses = await world.list_courses(service_ids=[course.id], **span)
        classes = await world.list_classes(service_ids=[klass.id], **span)
        return [s.remaining_capacity for s in courses.time_slots], [s.remaining_capacity for s in classes.time_slots]

    assert await soon(remaining, ([7, 7], [12, 8])) == ([7, 7], [12, 8])
    assert await cached_events(platform, world.tenant) == entries, "the cached events were dropped or read again"


async def test_moving_the_first_session_moves_the_course_reference_time(world: World) -> None:
    reference = now()
    course = await world.course([reference + 30 * MINUTE, reference + WEEK], booking_policy=policy(late=60))
    span = wide_window(reference)
    listed = await world.list_courses(service_ids=[course.id], **span)
    assert [s.booking_policy_violations.too_late_to_book for s in listed.time_slots] == [True, True]

    await world.move(course.events[0], reference + 3 * DAY)  # F is now three days ahead: bookable
    answer = await eventually(
        lambda: world.list_courses(service_ids=[course.id], **span), lambda r: all(s.bookable for s in r.time_slots), within=PROPAGATION_SECONDS
    )
    assert [s.bookable for s in answer.time_slots] == [True, True], "the course still decides from the old first session start"
    got = await world.get_course(schedule_id=course.schedule_id)
    assert instant(got.course.first_event_start_date) == reference + 3 * DAY


async def test_cancelling_the_first_session_makes_the_next_one_the_reference_time(world: World) -> None:
    reference = now()
    course = await world.course([reference + 30 * MINUTE, reference + WEEK, reference + 2 * WEEK], booking_policy=policy(late=60))
    span = wide_window(reference)
    assert not (await world.list_courses(service_ids=[course.id], **span)).time_slots[1].bookable

    await world.cancel(course.events[0])
    answer = await eventually(lambda: world.list_courses(service_ids=[course.id], **span), lambda r: r.time_slots[1].bookable, within=PROPAGATION_SECONDS)
    assert [s.bookable for s in answer.time_slots] == [False, True, True], "the course still decides from the cancelled session"


async def test_a_course_created_after_a_listing_shows_in_the_next_listing(world: World) -> None:
    first = now() + DAY
    await world.course([first])
    span = wide_window()
    assert len((await world.list_courses(**span)).time_slots) == 1

    newer = await world.course([first + HOUR])
    answer = await eventually(lambda: world.list_courses(**span), lambda r: len(r.time_slots) == 2, within=PROPAGATION_SECONDS)
    assert newer.id in {s.service_id for s in answer.time_slots}, "the tenant's list of courses is still the cached one"


async def test_disabling_online_booking_makes_the_course_unbookable(world: World) -> None:
    first = now() + DAY
    course = await world.course([first])
    span = wide_window()
    assert (await world.list_courses(service_ids=[course.id], **span)).time_slots[0].bookable

    await world.update_service(course, ["online_booking_enabled"], online_booking_enabled=False)
    answer = await eventually(
        lambda: world.list_courses(service_ids=[course.id], **span),
        lambda r: r.time_slots[0].booking_policy_violations.book_online_disabled,
        within=PROPAGATION_SECONDS,
    )
    assert answer.time_slots[0].booking_policy_violations.book_online_disabled, "the course still shows the cached policy"


# --- GetCourseEventTimeSlot ----------------------------------------------------------------------


async def test_get_course_event_time_slot_by_event_gives_that_session_and_its_course(world: World) -> None:
    reference = now()
    starts = [reference - DAY, reference + DAY, reference + 8 * DAY]
    course = await world.course(starts, booking_policy=policy(book_after_start=True, late=60), capacity=10)
    await world.set_participants(course.events[2], 4)
    span = wide_window(reference)
    listed = {s.event_id: s for s in (await world.list_courses(service_ids=[course.id], **span)).time_slots}

    for event in course.events:
        got = await world.get_course(event_id=event.id, time_zone=VIENNA)
        assert got.time_zone == VIENNA
        assert got.time_slot == listed[event.id]
        assert (got.course.service_id, got.course.schedule_id) == (course.id, course.schedule_id)
        assert got.course.bookable
    assert (await world.get_course(event_id=course.events[0].id)).time_slot.past


async def test_get_course_event_time_slot_by_schedule_gives_the_course_decision(world: World) -> None:
    reference = now()
    starts = [reference - DAY, reference + DAY, reference + 8 * DAY]
    course = await world.course(starts, booking_policy=policy(book_after_start=True), capacity=10, duration=2 * HOUR)
    await world.set_participants(course.events[0], 10)  # started and full: does not count
    await world.set_participants(course.events[2], 8)

    got = await world.get_course(schedule_id=course.schedule_id)
    assert not got.HasField("time_slot")
    assert got.time_zone == VIENNA  # the business time zone
    c = got.course
    assert (c.service_id, c.schedule_id) == (course.id, course.schedule_id)
    assert (c.bookable, c.open_spots, c.total_capacity) == (True, 2, 10)
    assert (c.total_sessions, c.remaining_sessions) == (3, 2)
    assert (instant(c.first_event_start_date), instant(c.last_event_end_date)) == (starts[0], starts[-1] + 2 * HOUR)
    v = c.booking_policy_violations
    assert (v.too_early_to_book, v.too_late_to_book, v.book_online_disabled) == (False, False, False)
    assert instant(v.latest_booking_date) == starts[-1]
    assert c.non_bookable_reasons == time_slots_pb2.NonBookableReasons()

    party_of_three = await world.get_course(schedule_id=course.schedule_id, min_bookable_capacity=3)
    assert (party_of_three.course.bookable, party_of_three.course.non_bookable_reasons.no_remaining_capacity) == (False, True)


async def test_get_course_event_time_slot_reports_policy_violations(world: World) -> None:
    reference = now()
    course = await world.course([reference + 30 * MINUTE, reference + WEEK], booking_policy=policy(late=60), online=False)
    got = await world.get_course(schedule_id=course.schedule_id)
    v = got.course.booking_policy_violations
    assert (got.course.bookable, v.too_late_to_book, v.book_online_disabled, v.too_early_to_book) == (False, True, True, False)
    assert got.course.non_bookable_reasons.violates_booking_policy
    assert instant(v.latest_booking_date) == reference + 30 * MINUTE - HOUR


# --- EventTimeSlots ------------------------------------------------------------------------------------


async def test_list_event_time_slots_decides_each_event_on_its_own(world: World) -> None:
    reference = now()
    klass = await world.klass([reference + 30 * MINUTE, reference + DAY, reference + 10 * DAY], booking_policy=policy(early=7 * 24 * 60, late=60))
    slots = (await world.list_classes(service_ids=[klass.id], **wide_window(reference))).time_slots
    assert [(s.bookable, s.booking_policy_violations.too_late_to_book, s.booking_policy_violations.too_early_to_book) for s in slots] == [
        (False, True, False),
        (True, False, False),
        (False, False, True),
    ]
    assert [s.local_start_date for s in slots] == [local(reference + 30 * MINUTE), local(reference + DAY), local(reference + 10 * DAY)]
    assert {(s.service_id, s.schedule_id) for s in slots} == {(klass.id, klass.schedule_id)}


async def test_get_event_time_slot_gives_the_listed_slot(world: World) -> None:
    reference = now()
    klass = await world.klass([reference - HOUR, reference + DAY], capacity=8)
    await world.set_participants(klass.events[1], 6)
    span = window(reference - DAY, reference + 2 * DAY)
    listed = {s.event_id: s for s in (await world.list_classes(service_ids=[klass.id], **span)).time_slots}
    for event in klass.events:
        got = await world.get_class(event_id=event.id, time_zone=VIENNA)
        assert (got.time_slot, got.time_zone) == (listed[event.id], VIENNA)

    started = (await world.get_class(event_id=klass.events[0].id)).time_slot
    assert (started.bookable, started.non_bookable_reasons.event_started, started.booking_policy_violations.too_late_to_book) == (False, True, True)
    in_utc = await world.get_class(event_id=klass.events[1].id, time_zone="UTC")
    assert in_utc.time_slot.local_start_date == (reference + DAY).replace(tzinfo=None).isoformat(timespec="seconds")
    party = await world.get_class(event_id=klass.events[1].id, min_bookable_capacity=3)
    assert (party.time_slot.bookable, party.time_slot.remaining_capacity, party.time_slot.non_bookable_reasons.no_remaining_capacity) == (False, 2, True)


async def test_get_event_time_slot_of_a_cancelled_event_says_so(world: World) -> None:
    klass = await world.klass([now() + DAY])
    await world.cancel(klass.events[0])
    got = (await world.get_class(event_id=klass.events[0].id)).time_slot
    assert (got.bookable, got.non_bookable_reasons.event_cancelled) == (False, True)
