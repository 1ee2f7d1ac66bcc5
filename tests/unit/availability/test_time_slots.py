"""TimeSlots (application/time_slots.py) with fakes of its ports: what the slot use cases read, in
how many reads, what they answer and what they refuse. The rules themselves are specified in
test_course_policy.py, test_class_policy.py and test_seed_policy_table.py; here, the flows."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from services.availability.application.memo import ServiceMemo
from services.availability.application.ports import Wanted
from services.availability.application.time_slots import TimeSlots
from services.availability.domain.model import ServiceType
from services.availability.domain.requests import SlotQuery
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.paging import CursorCodec
from tests.unit.availability.fakes import FakeInputs, FakeToggles
from tests.unit.availability.helpers import (
    CLASS_SCHEDULE,
    CLASS_SERVICE,
    COURSE_SCHEDULE,
    COURSE_SERVICE,
    DAY,
    HOUR,
    WEEK,
    F,
    course,
    klass,
    session,
    slot_query,
    weekly,
)

TENANT = "tenant-a"
NOW = F - DAY
COURSE_EVENTS = [f"0b4a6c8e-0000-4000-8000-00000000010{i}" for i in range(3)]
CLASS_1, CLASS_2, CLASS_IN_JUNE, CLASS_STARTED, NO_EVENT = (f"0b4a6c8e-0000-4000-8000-00000000020{i}" for i in range(5))


def query(service_ids: tuple[str, ...] = (COURSE_SERVICE,), **fields: object) -> SlotQuery:
    return slot_query(service_ids=service_ids, **fields)


@dataclass
class World:
    inputs: FakeInputs
    toggles: FakeToggles
    slots: TimeSlots


def world(*, course_remaining: tuple[int, ...] = (4, 6, 5), courses_on: bool = True) -> World:
    courses = [replace(s, event_id=e) for s, e in zip(weekly(course_remaining), COURSE_EVENTS, strict=True)]
    classes = [
        session(F, 3, schedule=CLASS_SCHEDULE, event_id=CLASS_1),
        session(F + WEEK, 0, schedule=CLASS_SCHEDULE, event_id=CLASS_2),
        session(F + 40 * DAY, schedule=CLASS_SCHEDULE, event_id=CLASS_IN_JUNE),
    ]
    inputs = FakeInputs([course(), klass()], [*courses, *classes])
    toggles = FakeToggles({(COURSE_AVAILABILITY_ENABLED, TENANT)} if courses_on else set())
    return World(inputs, toggles, TimeSlots(inputs, toggles, CursorCodec(b"test-key"), ServiceMemo(), clock=lambda: NOW))


# --- courses -------------------------------------------------------------------------------------------


async def test_a_course_lists_each_session_with_the_course_wide_decision() -> None:
    w = world(course_remaining=(4, 6, 5))
    page = await w.slots.list_course_slots(TENANT, query())
    assert [(s.session.start, s.remaining_capacity, s.bookable) for s in page.slots] == [(F, 4, True), (F + WEEK, 6, True), (F + 2 * WEEK, 5, True)]
    assert {(s.total_sessions, s.remaining_sessions) for s in page.slots} == {(3, 3)}
    assert (page.zone.key, page.has_next, page.next_cursor) == ("Europe/Vienna", False, "")


async def test_a_course_read_once_is_read_in_one_go_afterwards() -> None:
    # The first listing learns the course's schedule from its service (two reads); a schedule never
    # changes, so every later listing reads the service, the sessions and the time frame together.
    w = world()
    await w.slots.list_course_slots(TENANT, query())
    await w.slots.list_course_slots(TENANT, query())
    assert w.inputs.reads == [
        Wanted(service_ids=(COURSE_SERVICE,), of_type=ServiceType.COURSE),
        Wanted(course_schedules=[COURSE_SCHEDULE]),
        Wanted(service_ids=(COURSE_SERVICE,), course_schedules=[COURSE_SCHEDULE]),
    ]


async def test_without_service_ids_every_course_of_the_tenant_is_listed() -> None:
    w = world()
    page = await w.slots.list_course_slots(TENANT, query(()))
    assert {s.offering.service_id for s in page.slots} == {COURSE_SERVICE}
    assert w.inputs.reads[0] == Wanted(service_ids=(), of_type=ServiceType.COURSE)


async def test_a_full_session_makes_the_whole_course_unbookable() -> None:
    page = await world(course_remaining=(4, 0, 5)).slots.list_course_slots(TENANT, query())
    assert [s.bookable for s in page.slots] == [False, False, False]
    assert all(s.reasons.no_remaining_capacity for s in page.slots)
    assert not (await world(course_remaining=(4, 0, 5)).slots.list_course_slots(TENANT, query(include_non_bookable=False))).slots


async def test_the_course_toggle_off_refuses_with_the_toggle_named() -> None:
    with pytest.raises(FailedPrecondition) as exc:
        await world(courses_on=False).slots.list_course_slots(TENANT, query())
    assert (exc.value.reason, exc.value.metadata) == ("FEATURE_DISABLED", {"toggle": COURSE_AVAILABILITY_ENABLED})


@pytest.mark.parametrize(
    "service_ids, error, field",
    [
        pytest.param((CLASS_SERVICE,), InvalidArgument, "service_ids[0]", id="a class on the course endpoint names the id"),
        pytest.param((COURSE_SERVICE, CLASS_SERVICE), InvalidArgument, "service_ids[1]", id="the second id named"),
        pytest.param(("99999999-9999-4999-8999-999999999999",), NotFound, None, id="an unknown service"),
    ],
)
async def test_requested_services_must_be_live_courses(service_ids: tuple[str, ...], error: type[Exception], field: str | None) -> None:
    with pytest.raises(error) as exc:
        await world().slots.list_course_slots(TENANT, query(service_ids))
    if field is not None:
        assert isinstance(exc.value, InvalidArgument)
        assert [v.field for v in exc.value.violations] == [field]
        assert "use ListEventTimeSlots" in exc.value.violations[0].description


async def test_without_time_frames_the_first_session_comes_from_the_sessions() -> None:
    w = world()
    w.inputs.frames_down = True
    page = await w.slots.list_course_slots(TENANT, query())
    assert [s.bookable for s in page.slots] == [True, True, True]


async def test_a_page_continues_where_the_last_one_stopped_for_the_same_query_only() -> None:
    w = world()
    first = await w.slots.list_course_slots(TENANT, query(limit=2))
    assert ([s.session.start for s in first.slots], first.has_next) == ([F, F + WEEK], True)
    second = await w.slots.list_course_slots(TENANT, query(limit=2, cursor=first.next_cursor))
    assert ([s.session.start for s in second.slots], second.has_next) == ([F + 2 * WEEK], False)
    with pytest.raises(InvalidArgument):
        await w.slots.list_course_slots(TENANT, query(limit=2, cursor=first.next_cursor, min_bookable_capacity=2))


async def test_a_course_is_found_by_one_of_its_sessions_or_its_schedule() -> None:
    w = world()
    by_event = await w.slots.get_course(TENANT, event_id=COURSE_EVENTS[1], schedule_id="", time_zone="", min_bookable_capacity=1)
    assert by_event.slot is not None and (by_event.slot.session.start, by_event.slot.remaining_capacity) == (F + WEEK, 6)
    assert (by_event.course.open_spots, by_event.zone.key) == (4, "Europe/Vienna")
    by_schedule = await w.slots.get_course(TENANT, event_id="", schedule_id=COURSE_SCHEDULE, time_zone="UTC", min_bookable_capacity=1)
    assert (by_schedule.slot, by_schedule.course.schedule_id, by_schedule.zone.key) == (None, COURSE_SCHEDULE, "UTC")
    assert w.inputs.calls["schedule_owner"] == 1  # the owner of a schedule is remembered


async def test_a_class_session_is_not_a_course() -> None:
    with pytest.raises(InvalidArgument) as exc:
        await world().slots.get_course(TENANT, event_id=CLASS_1, schedule_id="", time_zone="", min_bookable_capacity=1)
    assert [v.field for v in exc.value.violations] == ["event_id"]


# --- classes -------------------------------------------------------------------------------------------


async def test_classes_list_the_sessions_starting_in_the_range_each_on_its_own() -> None:
    page = await world().slots.list_class_slots(TENANT, query((CLASS_SERVICE,)))
    assert [(s.session.event_id, s.remaining_capacity, s.bookable) for s in page.slots] == [(CLASS_1, 3, True), (CLASS_2, 0, False)]
    assert {(s.total_sessions, s.remaining_sessions) for s in page.slots} == {(1, 1)}


async def test_without_a_zone_the_range_is_read_in_the_business_zone() -> None:
    w = world()
    w.inputs.offerings = [replace(klass(), time_zone="Pacific/Auckland")]
    # 2026-05-04 18:00 UTC is already 5 May in Auckland: a range of 4 May there misses it.
    page = await w.slots.list_class_slots(
        TENANT, query((CLASS_SERVICE,), time_zone="", from_local_date="2026-05-04T00:00:00", to_local_date="2026-05-05T00:00:00")
    )
    assert (page.slots, page.zone.key) == ([], "Pacific/Auckland")


async def test_classes_with_the_zone_given_are_read_in_one_go_once_their_schedules_are_known() -> None:
    w = world()
    await w.slots.list_class_slots(TENANT, query((CLASS_SERVICE,)))
    await w.slots.list_class_slots(TENANT, query((CLASS_SERVICE,)))
    assert len(w.inputs.reads) == 3
    again = w.inputs.reads[-1]
    assert (again.service_ids, again.class_schedules) == ((CLASS_SERVICE,), [CLASS_SCHEDULE])


async def test_a_range_empty_after_resolution_lists_nothing() -> None:
    # 02:30 on 29 March 2026 does not exist in Vienna: `from` moves to 03:00, past `to`.
    page = await world().slots.list_class_slots(TENANT, query((CLASS_SERVICE,), from_local_date="2026-03-29T02:30:00", to_local_date="2026-03-29T02:45:00"))
    assert page.slots == []


async def test_one_class_slot_by_its_event() -> None:
    w = world()
    slot, zone = await w.slots.get_class_slot(TENANT, CLASS_1, "", 1)
    assert (slot.session.event_id, slot.remaining_capacity, slot.bookable, zone.key) == (CLASS_1, 3, True, "Europe/Vienna")
    with pytest.raises(NotFound):
        await w.slots.get_class_slot(TENANT, NO_EVENT, "", 1)


async def test_a_course_session_is_not_a_class() -> None:
    with pytest.raises(InvalidArgument) as exc:
        await world().slots.get_class_slot(TENANT, COURSE_EVENTS[0], "", 1)
    assert [v.field for v in exc.value.violations] == ["event_id"]
    assert "use ListCourseEventTimeSlots" in exc.value.violations[0].description


async def test_a_started_class_session_is_past_and_not_bookable() -> None:
    w = world()
    w.inputs.sessions.append(session(NOW - HOUR, 5, schedule=CLASS_SCHEDULE, event_id=CLASS_STARTED, length=2 * HOUR))
    slot, _ = await w.slots.get_class_slot(TENANT, CLASS_STARTED, "", 1)
    assert (slot.past, slot.bookable, slot.reasons.event_started) == (True, False, True)
