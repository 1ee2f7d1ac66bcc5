"""ListCourseEventTimeSlots end to end: catalog + calendar -> availability, through real gRPC."""

import pytest

from tests.integration.availability_support import DAY, HOUR, World, enable_course_availability_for_everyone, local, now, policy


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform) -> None:  # type: ignore[no-untyped-def]
    await enable_course_availability_for_everyone(platform)


async def test_a_course_lists_every_session_with_one_unified_decision(channel, tenant: str) -> None:  # type: ignore[no-untyped-def]
    world = World.of(channel, tenant)
    first = now() + 2 * DAY
    course = await world.course([first + i * 7 * DAY for i in range(5)], booking_policy=policy(late=60))
    await world.set_participants(course.events[1], 12)  # one session full: the whole course is not bookable
    response = await world.list_courses(
        service_ids=[course.id], from_local_date=local(now() - HOUR), to_local_date=local(now() + 60 * DAY), time_zone="Europe/Vienna"
    )
    assert [s.event_id for s in response.time_slots] == [e.id for e in course.events]
    assert {s.bookable for s in response.time_slots} == {False}
    assert all(s.non_bookable_reasons.no_remaining_capacity for s in response.time_slots)
    assert [s.remaining_capacity for s in response.time_slots] == [12, 0, 12, 12, 12]
    assert response.time_slots[0].local_start_date == local(first)
    assert response.time_slots[0].total_sessions == 5
    assert response.time_zone == "Europe/Vienna"
