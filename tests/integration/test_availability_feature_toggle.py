"""The `course_availability_enabled` feature toggle (docs/rollout.md "Feature toggles", the kill
switch): the course endpoints answer FAILED_PRECONDITION / FEATURE_DISABLED for a tenant
the toggle is off for, and work again within about a second of the rule changing back, with no
restart. The class endpoints are not behind it.

Other tests run with the toggle on for everyone, so these tests switch it off for their own tenant
only (a deny rule at 100 %), and always put the previous rule back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, ToggleRule
from tests import support
from tests.integration.availability_support import (
    DAY,
    EVERYONE,
    World,
    enable_course_availability_for_everyone,
    now,
    set_toggle,
    toggle_rules,
    wide_window,
)
from tests.support import eventually

# The service re-reads toggles every 0.5 s; "within about a second" with room for a slow machine.
TOGGLE_DEADLINE_SECONDS = 1.5


@pytest.fixture
async def restore_toggle(platform) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """Course availability on for everyone during the test's setup, and the rule found before the
    test put back (and seen by the service) after it."""
    await enable_course_availability_for_everyone(platform)
    before = (await toggle_rules(platform)).get(COURSE_AVAILABILITY_ENABLED, EVERYONE)
    try:
        yield
    finally:
        if (await toggle_rules(platform)).get(COURSE_AVAILABILITY_ENABLED) != before:
            await set_toggle(platform, COURSE_AVAILABILITY_ENABLED, before)


def _disabled(err: grpc.aio.AioRpcError) -> bool:
    return err.code() == grpc.StatusCode.FAILED_PRECONDITION and support.error_reason(err) == "FEATURE_DISABLED"


async def test_course_endpoints_are_refused_for_a_tenant_the_toggle_is_off_for_and_come_back_without_restart(
    platform,  # type: ignore[no-untyped-def]
    channel,  # type: ignore[no-untyped-def]
    tenant: str,
    other_tenant: str,
    restore_toggle: None,
) -> None:
    world = World.of(channel, tenant)
    bystander = World.of(channel, other_tenant)
    first = now() + DAY
    course = await world.course([first, first + 7 * DAY])
    klass = await world.klass([first])
    their_course = await bystander.course([first])
    span = wide_window()
    assert len((await world.list_courses(service_ids=[course.id], **span)).time_slots) == 2

    await set_toggle(platform, COURSE_AVAILABILITY_ENABLED, ToggleRule(percentage=100, deny=frozenset({tenant})), wait=False)

    async def answers() -> bool:
        try:
            await world.list_courses(service_ids=[course.id], **span)
        except grpc.aio.AioRpcError as err:
            assert _disabled(err), err
            return False
        return True

    await eventually(answers, lambda on: not on, within=TOGGLE_DEADLINE_SECONDS, what="course availability off after the tenant was denied")
    for call in (
        world.list_courses(service_ids=[course.id], **span),
        world.list_courses(**span),
        world.get_course(schedule_id=course.schedule_id),
        world.get_course(event_id=course.events[0].id),
    ):
        err = await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, call)
        assert support.error_reason(err) == "FEATURE_DISABLED"
    # Even a request that is invalid otherwise: the endpoint is off for this tenant.
    assert _disabled(await support.expect_error(grpc.StatusCode.FAILED_PRECONDITION, world.list_courses()))

    # The class endpoints are not behind the toggle; other tenants keep their course availability.
    assert [s.event_id for s in (await world.list_classes(service_ids=[klass.id], **span)).time_slots] == klass.event_ids
    assert (await world.get_class(event_id=klass.events[0].id)).time_slot.event_id == klass.events[0].id
    assert [s.event_id for s in (await bystander.list_courses(**span)).time_slots] == their_course.event_ids

    # Switched back on: the same service process answers again, within about a second.
    await set_toggle(platform, COURSE_AVAILABILITY_ENABLED, EVERYONE, wait=False)

    await eventually(answers, within=TOGGLE_DEADLINE_SECONDS, what="course availability on again after the toggle came back")
    assert (await world.get_course(schedule_id=course.schedule_id)).course.total_sessions == 2
