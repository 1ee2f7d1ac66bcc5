"""calendar.working_hours.v1.WorkingHours over real gRPC: weekly rules replaced in one step and
listed sorted, stored as given in local time; time off, extra hours and holidays created, listed
by range and deleted; several schedules' hours read at once (ListWorkingHours) as the single
reads answer them; every bad field named; unknown and other tenants' schedules and items
NOT_FOUND. Every write that changes a schedule's hours publishes one message on
calendar.working-hours-events.v1 naming the schedule and the part; refused and no-op writes, and
appointment holds, publish nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from aiokafka import ConsumerRecord
from google.rpc import error_details_pb2

from services.api.calendar.working_hours.v1 import working_hours_pb2 as pb
from services.api.calendar.working_hours.v1.working_hours_pb2_grpc import AppointmentHoldsStub, WorkingHoursStub
from services.api.calendar.working_hours_events.v1 import working_hours_events_pb2 as events_pb
from services.common import topics
from services.common.grpc_status import status_details
from services.devstack.stack import Platform
from tests import support
from tests.integration.timeframes_support import HOUR, T0, Calendar, internal, reader, ts, writer
from tests.integration.topic_reader import TopicReader, headers, of_tenant

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture
def hours(timeframes_channel: grpc.aio.Channel) -> WorkingHoursStub:
    return WorkingHoursStub(timeframes_channel)


@pytest.fixture
def holds(timeframes_channel: grpc.aio.Channel) -> AppointmentHoldsStub:
    return AppointmentHoldsStub(timeframes_channel)


@pytest.fixture
def bootstrap(platform: Platform) -> str:
    return platform.infra.env()["KAFKA_BOOTSTRAP_SERVERS"]


def rule(day: int, start: str, end: str, effective_from: str = "", effective_to: str = "") -> pb.WeeklyRule:
    return pb.WeeklyRule(day_of_week=day, start_time=start, end_time=end, effective_from=effective_from, effective_to=effective_to)


async def set_rules(hours: WorkingHoursStub, tenant: str, schedule_id: str, *rules: pb.WeeklyRule) -> list[pb.WeeklyRule]:
    response = await hours.SetWeeklyRules(pb.SetWeeklyRulesRequest(schedule_id=schedule_id, rules=list(rules)), metadata=writer(tenant))
    return list(response.rules)


async def list_rules(hours: WorkingHoursStub, tenant: str, schedule_id: str) -> list[pb.WeeklyRule]:
    response = await hours.ListWeeklyRules(pb.ListWeeklyRulesRequest(schedule_id=schedule_id), metadata=reader(tenant))
    return list(response.rules)


async def exceptions(
    hours: WorkingHoursStub, tenant: str, schedule_id: str, start: datetime = T0 - 30 * DAY, end: datetime = T0 + 30 * DAY
) -> pb.ListExceptionsResponse:
    request = pb.ListExceptionsRequest(schedule_id=schedule_id)
    getattr(request, "from").CopyFrom(ts(start))
    request.to.CopyFrom(ts(end))
    return await hours.ListExceptions(request, metadata=reader(tenant))


# --- weekly rules --------------------------------------------------------------------------------


async def test_set_weekly_rules_stores_the_rules_as_given_and_lists_them_sorted(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule(time_zone="America/New_York")
    given = [
        rule(3, "13:00", "17:00"),
        rule(1, "09:00", "12:00", effective_from="2031-03-01"),
        rule(1, "09:00", "12:00", effective_to="2031-02-28"),
        # Across New York's spring-forward day (2031-03-09): local times stay as given.
        rule(7, "01:00", "04:00", effective_from="2031-03-09", effective_to="2031-03-09"),
    ]
    stored = await set_rules(hours, calendar.tenant, schedule.id, *given)

    expected = [given[2], given[1], given[0], given[3]]
    assert stored == expected
    assert await list_rules(hours, calendar.tenant, schedule.id) == expected


async def test_set_weekly_rules_replaces_all_rules_in_one_step(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    await set_rules(hours, calendar.tenant, schedule.id, rule(1, "09:00", "17:00"), rule(2, "09:00", "17:00"))
    await set_rules(hours, calendar.tenant, schedule.id, rule(5, "10:00", "14:00"))
    assert await list_rules(hours, calendar.tenant, schedule.id) == [rule(5, "10:00", "14:00")]

    await set_rules(hours, calendar.tenant, schedule.id)
    assert await list_rules(hours, calendar.tenant, schedule.id) == []


async def test_a_schedule_without_rules_lists_none(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    assert await list_rules(hours, calendar.tenant, schedule.id) == []


@pytest.mark.parametrize(
    "rules, fields",
    [
        pytest.param([rule(0, "09:00", "17:00")], {"rules[0].day_of_week"}, id="day-0"),
        pytest.param([rule(1, "9:00", "17:00")], {"rules[0].start_time"}, id="start-not-hh-mm"),
        pytest.param([rule(1, "09:00", "24:00")], {"rules[0].end_time"}, id="end-24-00"),
        pytest.param([rule(1, "17:00", "09:00")], {"rules[0].end_time"}, id="crossing-midnight"),
        pytest.param([rule(1, "09:00", "17:00", effective_from="2031-02-30")], {"rules[0].effective_from"}, id="bad-date"),
        pytest.param([rule(1, "09:00", "17:00", "2031-03-02", "2031-03-01")], {"rules[0].effective_to"}, id="period-backwards"),
        pytest.param([rule(1, "09:00", "12:00"), rule(1, "11:00", "13:00")], {"rules[1]"}, id="overlapping-rules"),
        pytest.param([rule(1, "09:00", "10:00")] * 51, {"rules"}, id="more-than-50"),
        pytest.param(
            [rule(9, "x", "17:00"), rule(1, "09:00", "08:00")], {"rules[0].day_of_week", "rules[0].start_time", "rules[1].end_time"}, id="all-at-once"
        ),
    ],
)
async def test_set_weekly_rules_names_every_bad_field_and_keeps_the_old_rules(
    calendar: Calendar, hours: WorkingHoursStub, rules: list[pb.WeeklyRule], fields: set[str]
) -> None:
    schedule = await calendar.schedule()
    await set_rules(hours, calendar.tenant, schedule.id, rule(2, "08:00", "09:00"))
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, set_rules(hours, calendar.tenant, schedule.id, *rules))
    assert set(support.field_violations(err)) == fields
    assert await list_rules(hours, calendar.tenant, schedule.id) == [rule(2, "08:00", "09:00")]


# --- time off, extra hours, holidays -------------------------------------------------------------


async def test_time_off_extra_hours_and_holidays_are_created_listed_by_range_and_deleted(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule(time_zone="Europe/Vienna")
    tenant = calendar.tenant
    later = await hours.CreateTimeOff(
        pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0 + DAY), end=ts(T0 + DAY + HOUR), reason="dentist")),
        metadata=writer(tenant),
    )
    earlier = await hours.CreateTimeOff(
        pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
    )
    far = await hours.CreateTimeOff(
        pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0 + 100 * DAY), end=ts(T0 + 101 * DAY))), metadata=writer(tenant)
    )
    extra = await hours.CreateExtraHours(
        pb.CreateExtraHoursRequest(
            schedule_id=schedule.id, extra_hours=pb.ExtraHours(start=ts(T0 + 5 * DAY), end=ts(T0 + 5 * DAY + 2 * HOUR), reason="Saturday")
        ),
        metadata=writer(tenant),
    )
    holiday = await hours.CreateHoliday(
        pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-03-10", reason="Feast")), metadata=writer(tenant)
    )
    outside = await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-12-25")), metadata=writer(tenant))

    assert (later.time_off.schedule_id, later.time_off.reason, later.time_off.start, later.time_off.end) == (
        schedule.id,
        "dentist",
        ts(T0 + DAY),
        ts(T0 + DAY + HOUR),
    )
    assert (extra.extra_hours.schedule_id, extra.extra_hours.reason) == (schedule.id, "Saturday")
    assert (holiday.holiday.local_date, holiday.holiday.reason) == ("2031-03-10", "Feast")

    found = await exceptions(hours, tenant, schedule.id)
    assert list(found.time_off) == [earlier.time_off, later.time_off]
    assert list(found.extra_hours) == [extra.extra_hours]
    assert list(found.holidays) == [holiday.holiday]
    assert far.time_off not in found.time_off and outside.holiday not in found.holidays

    await hours.DeleteTimeOff(pb.DeleteTimeOffRequest(schedule_id=schedule.id, time_off_id=earlier.time_off.id), metadata=writer(tenant))
    await hours.DeleteExtraHours(pb.DeleteExtraHoursRequest(schedule_id=schedule.id, extra_hours_id=extra.extra_hours.id), metadata=writer(tenant))
    await hours.DeleteHoliday(pb.DeleteHolidayRequest(schedule_id=schedule.id, holiday_id=holiday.holiday.id), metadata=writer(tenant))
    found = await exceptions(hours, tenant, schedule.id)
    assert (list(found.time_off), list(found.extra_hours), list(found.holidays)) == ([later.time_off], [], [])


async def test_list_exceptions_takes_spans_overlapping_the_half_open_range(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    created = []
    for start, end in [(T0 - 2 * HOUR, T0), (T0 - HOUR, T0 + HOUR), (T0 + 2 * HOUR, T0 + 3 * HOUR), (T0 + 3 * HOUR, T0 + 4 * HOUR)]:
        response = await hours.CreateTimeOff(
            pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(start), end=ts(end))), metadata=writer(calendar.tenant)
        )
        created.append(response.time_off)
    found = await exceptions(hours, calendar.tenant, schedule.id, T0, T0 + 3 * HOUR)
    assert list(found.time_off) == [created[1], created[2]]


async def test_holidays_are_listed_by_the_schedules_local_dates(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule(time_zone="Pacific/Kiritimati")  # UTC+14
    for day in ("2031-03-03", "2031-03-04", "2031-03-05"):
        await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date=day)), metadata=writer(calendar.tenant))
    # 2031-03-03T09:00Z .. 2031-03-03T11:00Z is 23:00 on the 3rd to 01:00 on the 4th in Kiritimati.
    found = await exceptions(hours, calendar.tenant, schedule.id, T0, T0 + 2 * HOUR)
    assert [h.local_date for h in found.holidays] == ["2031-03-03", "2031-03-04"]


async def test_a_second_holiday_on_one_date_already_exists(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    request = pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-05-01"))
    await hours.CreateHoliday(request, metadata=writer(calendar.tenant))
    await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, hours.CreateHoliday(request, metadata=writer(calendar.tenant)))


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "time_off, fields",
    [
        pytest.param(pb.TimeOff(end=ts(T0)), {"time_off.start"}, id="start-required"),
        pytest.param(pb.TimeOff(start=ts(T0)), {"time_off.end"}, id="end-required"),
        pytest.param(pb.TimeOff(start=ts(T0), end=ts(T0)), {"time_off.end"}, id="end-not-after-start"),
        pytest.param(pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR), reason="r" * 501), {"time_off.reason"}, id="reason-too-long"),
    ],
)
async def test_create_time_off_names_the_bad_field(calendar: Calendar, hours: WorkingHoursStub, time_off: pb.TimeOff, fields: set[str]) -> None:
    schedule = await calendar.schedule()
    err = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        hours.CreateTimeOff(pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=time_off), metadata=writer(calendar.tenant)),
    )
    assert set(support.field_violations(err)) == fields


async def test_every_rpc_names_a_bad_schedule_id(hours: WorkingHoursStub, tenant: str) -> None:
    calls = [
        hours.SetWeeklyRules(pb.SetWeeklyRulesRequest(schedule_id="nope"), metadata=writer(tenant)),
        hours.ListWeeklyRules(pb.ListWeeklyRulesRequest(schedule_id="nope"), metadata=reader(tenant)),
        hours.CreateTimeOff(pb.CreateTimeOffRequest(schedule_id="nope", time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)),
        hours.CreateExtraHours(
            pb.CreateExtraHoursRequest(schedule_id="nope", extra_hours=pb.ExtraHours(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
        ),
        hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id="nope", holiday=pb.Holiday(local_date="2031-01-01")), metadata=writer(tenant)),
        hours.DeleteTimeOff(pb.DeleteTimeOffRequest(schedule_id="nope", time_off_id=str(uuid.uuid4())), metadata=writer(tenant)),
        hours.DeleteExtraHours(pb.DeleteExtraHoursRequest(schedule_id="nope", extra_hours_id=str(uuid.uuid4())), metadata=writer(tenant)),
        hours.DeleteHoliday(pb.DeleteHolidayRequest(schedule_id="nope", holiday_id=str(uuid.uuid4())), metadata=writer(tenant)),
        exceptions(hours, tenant, "nope"),
    ]
    for call in calls:
        err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, call)
        assert set(support.field_violations(err)) == {"schedule_id"}


@pytest.mark.parametrize(
    "start, end, field",
    [
        pytest.param(T0, T0, "to", id="empty-range"),
        pytest.param(T0, T0 + 367 * DAY, "to", id="more-than-366-days"),
    ],
)
async def test_list_exceptions_names_a_bad_range(calendar: Calendar, hours: WorkingHoursStub, start: datetime, end: datetime, field: str) -> None:
    schedule = await calendar.schedule()
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, exceptions(hours, calendar.tenant, schedule.id, start, end))
    assert set(support.field_violations(err)) == {field}


async def test_an_unknown_or_another_tenants_schedule_is_not_found_everywhere(calendar: Calendar, other_calendar: Calendar, hours: WorkingHoursStub) -> None:
    theirs = await other_calendar.schedule()
    await set_rules(hours, other_calendar.tenant, theirs.id, rule(1, "09:00", "17:00"))
    for schedule_id in (theirs.id, str(uuid.uuid4())):
        tenant = calendar.tenant
        calls = [
            hours.SetWeeklyRules(pb.SetWeeklyRulesRequest(schedule_id=schedule_id), metadata=writer(tenant)),
            hours.ListWeeklyRules(pb.ListWeeklyRulesRequest(schedule_id=schedule_id), metadata=reader(tenant)),
            hours.CreateTimeOff(
                pb.CreateTimeOffRequest(schedule_id=schedule_id, time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
            ),
            hours.CreateExtraHours(
                pb.CreateExtraHoursRequest(schedule_id=schedule_id, extra_hours=pb.ExtraHours(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
            ),
            hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule_id, holiday=pb.Holiday(local_date="2031-01-01")), metadata=writer(tenant)),
            exceptions(hours, tenant, schedule_id),
        ]
        for call in calls:
            await support.expect_error(grpc.StatusCode.NOT_FOUND, call)
    # Their rules are untouched.
    assert await list_rules(hours, other_calendar.tenant, theirs.id) == [rule(1, "09:00", "17:00")]


async def test_deleting_an_unknown_or_another_tenants_item_is_not_found(calendar: Calendar, other_calendar: Calendar, hours: WorkingHoursStub) -> None:
    mine = await calendar.schedule()
    theirs = await other_calendar.schedule()
    other = other_calendar.tenant
    time_off = await hours.CreateTimeOff(
        pb.CreateTimeOffRequest(schedule_id=theirs.id, time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(other)
    )
    extra = await hours.CreateExtraHours(
        pb.CreateExtraHoursRequest(schedule_id=theirs.id, extra_hours=pb.ExtraHours(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(other)
    )
    holiday = await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=theirs.id, holiday=pb.Holiday(local_date="2031-03-03")), metadata=writer(other))
    tenant = calendar.tenant
    for time_off_id, extra_id, holiday_id in [(time_off.time_off.id, extra.extra_hours.id, holiday.holiday.id), (str(uuid.uuid4()),) * 3]:
        for call in (
            hours.DeleteTimeOff(pb.DeleteTimeOffRequest(schedule_id=mine.id, time_off_id=time_off_id), metadata=writer(tenant)),
            hours.DeleteExtraHours(pb.DeleteExtraHoursRequest(schedule_id=mine.id, extra_hours_id=extra_id), metadata=writer(tenant)),
            hours.DeleteHoliday(pb.DeleteHolidayRequest(schedule_id=mine.id, holiday_id=holiday_id), metadata=writer(tenant)),
        ):
            await support.expect_error(grpc.StatusCode.NOT_FOUND, call)
    found = await exceptions(hours, other, theirs.id, T0 - DAY, T0 + DAY)
    assert (len(found.time_off), len(found.extra_hours), len(found.holidays)) == (1, 1, 1)


async def test_writes_need_calendar_write_and_reads_calendar_read(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    await support.expect_error(
        grpc.StatusCode.PERMISSION_DENIED, hours.SetWeeklyRules(pb.SetWeeklyRulesRequest(schedule_id=schedule.id), metadata=reader(calendar.tenant))
    )
    await support.expect_error(
        grpc.StatusCode.PERMISSION_DENIED,
        hours.ListWeeklyRules(pb.ListWeeklyRulesRequest(schedule_id=schedule.id), metadata=support.auth(calendar.tenant, "calendar:write")),
    )


# --- ListWorkingHours ----------------------------------------------------------------------------


async def working_hours(
    hours: WorkingHoursStub, tenant: str, schedule_ids: list[str], start: datetime = T0 - 30 * DAY, end: datetime = T0 + 30 * DAY
) -> list[pb.ScheduleWorkingHours]:
    request = pb.ListWorkingHoursRequest(schedule_ids=schedule_ids)
    getattr(request, "from").CopyFrom(ts(start))
    request.to.CopyFrom(ts(end))
    return list((await hours.ListWorkingHours(request, metadata=reader(tenant))).schedules)


async def test_list_working_hours_answers_each_schedule_in_request_order_as_the_single_reads_do(calendar: Calendar, hours: WorkingHoursStub) -> None:
    tenant = calendar.tenant
    vienna = await calendar.schedule(time_zone="Europe/Vienna")
    kiritimati = await calendar.schedule(time_zone="Pacific/Kiritimati")
    bare = await calendar.schedule(time_zone="America/New_York")
    await set_rules(hours, tenant, vienna.id, rule(3, "13:00", "17:00"), rule(1, "09:00", "12:00"), rule(1, "07:00", "08:00", effective_from="2031-03-01"))
    await set_rules(hours, tenant, kiritimati.id, rule(7, "10:00", "11:00"))
    for schedule_id, offset in ((vienna.id, 0), (kiritimati.id, 2)):
        for start in (T0 + offset * HOUR, T0 - DAY, T0 + 40 * DAY):
            await hours.CreateTimeOff(
                pb.CreateTimeOffRequest(schedule_id=schedule_id, time_off=pb.TimeOff(start=ts(start), end=ts(start + HOUR), reason="away")),
                metadata=writer(tenant),
            )
        await hours.CreateExtraHours(
            pb.CreateExtraHoursRequest(schedule_id=schedule_id, extra_hours=pb.ExtraHours(start=ts(T0 + 5 * DAY), end=ts(T0 + 5 * DAY + HOUR))),
            metadata=writer(tenant),
        )
        for day in ("2031-03-03", "2031-03-04", "2031-06-01"):
            await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule_id, holiday=pb.Holiday(local_date=day)), metadata=writer(tenant))

    # 2031-03-03T09:00Z .. 2031-03-03T11:00Z is the 3rd in Vienna, the 3rd to the 4th in Kiritimati.
    for start, end in ((T0 - 30 * DAY, T0 + 30 * DAY), (T0, T0 + 2 * HOUR), (T0 - DAY, T0 + 365 * DAY)):
        order = [kiritimati.id, bare.id, vienna.id]
        answered = await working_hours(hours, tenant, order, start, end)
        assert [s.schedule_id for s in answered] == order
        for schedule, answer in zip((kiritimati, bare, vienna), answered, strict=True):
            found = await exceptions(hours, tenant, schedule.id, start, end)
            assert answer == pb.ScheduleWorkingHours(
                schedule_id=schedule.id,
                time_zone=schedule.time_zone,
                rules=await list_rules(hours, tenant, schedule.id),
                time_off=found.time_off,
                extra_hours=found.extra_hours,
                holidays=found.holidays,
            )
    narrow = await working_hours(hours, tenant, [vienna.id, kiritimati.id], T0, T0 + 2 * HOUR)
    assert [[h.local_date for h in s.holidays] for s in narrow] == [["2031-03-03"], ["2031-03-03", "2031-03-04"]]
    assert [len(s.time_off) for s in narrow] == [1, 0]  # Kiritimati's starts where the range ends
    assert [len(s.rules) for s in narrow] == [3, 1]


async def test_list_working_hours_takes_up_to_50_schedules_and_400_days(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedules = [await calendar.schedule() for _ in range(50)]
    answered = await working_hours(hours, calendar.tenant, [s.id for s in schedules], T0, T0 + 400 * DAY)
    assert [s.schedule_id for s in answered] == [s.id for s in schedules]


@pytest.mark.parametrize(
    "schedule_ids, start, end, fields",
    [
        pytest.param([], T0, T0 + DAY, {"schedule_ids"}, id="no-schedule"),
        pytest.param(["nope"], T0, T0 + DAY, {"schedule_ids[0]"}, id="not-a-uuid"),
        pytest.param(["$a", "$b", "$a"], T0, T0 + DAY, {"schedule_ids[2]"}, id="a-repeated-schedule"),
        pytest.param(["$a"] + [str(uuid.uuid4()) for _ in range(50)], T0, T0 + DAY, {"schedule_ids"}, id="more-than-50"),
        pytest.param(["$a"], T0, T0, {"to"}, id="empty-range"),
        pytest.param(["$a"], T0, T0 + 400 * DAY + timedelta(seconds=1), {"to"}, id="more-than-400-days"),
        pytest.param(["x", "$a", "$a"], T0 + DAY, T0, {"schedule_ids[0]", "schedule_ids[2]", "to"}, id="all-at-once"),
    ],
)
async def test_list_working_hours_names_every_bad_field(
    calendar: Calendar, hours: WorkingHoursStub, schedule_ids: list[str], start: datetime, end: datetime, fields: set[str]
) -> None:
    mine = {"$a": (await calendar.schedule()).id, "$b": (await calendar.schedule()).id}
    given = [mine.get(i, i) for i in schedule_ids]
    err = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, working_hours(hours, calendar.tenant, given, start, end))
    assert set(support.field_violations(err)) == fields


async def test_list_working_hours_of_an_unknown_or_another_tenants_schedule_is_not_found_naming_it(
    calendar: Calendar, other_calendar: Calendar, hours: WorkingHoursStub
) -> None:
    mine = await calendar.schedule()
    theirs = await other_calendar.schedule()
    for stranger in (theirs.id, str(uuid.uuid4())):
        err = await support.expect_error(grpc.StatusCode.NOT_FOUND, working_hours(hours, calendar.tenant, [mine.id, stranger]))
        (info,) = [d for d in status_details(err) if isinstance(d, error_details_pb2.ResourceInfo)]
        assert (info.resource_type, info.resource_name) == ("schedule", stranger)


async def test_list_working_hours_is_a_calendar_read(calendar: Calendar, hours: WorkingHoursStub) -> None:
    schedule = await calendar.schedule()
    request = pb.ListWorkingHoursRequest(schedule_ids=[schedule.id], to=ts(T0 + DAY))
    getattr(request, "from").CopyFrom(ts(T0))
    await support.expect_error(grpc.StatusCode.PERMISSION_DENIED, hours.ListWorkingHours(request, metadata=support.auth(calendar.tenant, "calendar:write")))
    assert len((await hours.ListWorkingHours(request, metadata=reader(calendar.tenant))).schedules) == 1


# --- calendar.working-hours-events.v1 ------------------------------------------------------------


async def published(bootstrap: str, tenant: str, at_least: int) -> list[ConsumerRecord[Any, Any]]:
    """The tenant's messages on the topic: waits for `at_least`, then reads to the end of the topic,
    so a message published before the last expected one (a refused write's) is among them too."""
    async with TopicReader(bootstrap, topics.WORKING_HOURS_EVENTS.name, of_tenant(tenant)) as topic:
        await topic.until(lambda records: len(records) >= at_least)
        return await topic.drain()


def changes(records: list[ConsumerRecord[Any, Any]]) -> list[tuple[str, int]]:
    """(schedule id, part) of each message, in the order published."""
    messages = [events_pb.WorkingHoursChanged.FromString(r.value) for r in records]
    return [(m.schedule_id, m.part) for m in messages]


async def test_every_write_of_working_hours_publishes_one_message_naming_the_schedule_and_part_in_order(
    calendar: Calendar, hours: WorkingHoursStub, bootstrap: str
) -> None:
    schedule = await calendar.schedule()
    tenant = calendar.tenant
    await set_rules(hours, tenant, schedule.id, rule(1, "09:00", "12:00"), rule(2, "09:00", "17:00"))
    # The same rules in another order change nothing, and publish nothing.
    await set_rules(hours, tenant, schedule.id, rule(2, "09:00", "17:00"), rule(1, "09:00", "12:00"))
    off = await hours.CreateTimeOff(
        pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
    )
    extra = await hours.CreateExtraHours(
        pb.CreateExtraHoursRequest(schedule_id=schedule.id, extra_hours=pb.ExtraHours(start=ts(T0 + 5 * DAY), end=ts(T0 + 5 * DAY + HOUR))),
        metadata=writer(tenant),
    )
    holiday = await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-03-10")), metadata=writer(tenant))
    await hours.DeleteTimeOff(pb.DeleteTimeOffRequest(schedule_id=schedule.id, time_off_id=off.time_off.id), metadata=writer(tenant))
    await hours.DeleteExtraHours(pb.DeleteExtraHoursRequest(schedule_id=schedule.id, extra_hours_id=extra.extra_hours.id), metadata=writer(tenant))
    await hours.DeleteHoliday(pb.DeleteHolidayRequest(schedule_id=schedule.id, holiday_id=holiday.holiday.id), metadata=writer(tenant))
    await set_rules(hours, tenant, schedule.id)

    messages = await published(bootstrap, tenant, 8)

    parts = [events_pb.WEEKLY_RULES, events_pb.TIME_OFF, events_pb.EXTRA_HOURS, events_pb.HOLIDAYS]
    parts += [events_pb.TIME_OFF, events_pb.EXTRA_HOURS, events_pb.HOLIDAYS, events_pb.WEEKLY_RULES]
    assert changes(messages) == [(schedule.id, part) for part in parts]
    assert {m.key for m in messages} == {schedule.id.encode()} and len({m.partition for m in messages}) == 1
    for message in messages:
        h = headers(message)
        assert (h["ce_type"], h["ce_subject"], h["ce_tenantid"]) == (topics.WORKING_HOURS_CHANGED.ce_type, schedule.id, tenant)
        assert h["ce_source"] == "//bookings-platform/timeframes"
        # changed_at is the writing transaction's time, the instant the outbox stamps as ce_time.
        ce_time = datetime.strptime(h["ce_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert events_pb.WorkingHoursChanged.FromString(message.value).changed_at.ToDatetime(tzinfo=UTC) == ce_time
    changed_at = [events_pb.WorkingHoursChanged.FromString(m.value).changed_at.ToDatetime(tzinfo=UTC) for m in messages]
    assert changed_at == sorted(changed_at)


async def test_a_refused_write_publishes_nothing(
    calendar: Calendar, other_calendar: Calendar, hours: WorkingHoursStub, holds: AppointmentHoldsStub, bootstrap: str
) -> None:
    schedule = await calendar.schedule()
    theirs = await other_calendar.schedule()
    tenant = calendar.tenant
    await hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-05-01")), metadata=writer(tenant))
    booking_id = str(uuid.uuid4())
    appointment = pb.AppointmentHold(booking_id=booking_id, schedule_id=schedule.id, start=ts(T0), end=ts(T0 + HOUR))
    await holds.HoldAppointmentTime(pb.HoldAppointmentTimeRequest(hold=appointment), metadata=internal(tenant))
    refused = [
        (grpc.StatusCode.INVALID_ARGUMENT, set_rules(hours, tenant, schedule.id, rule(1, "17:00", "09:00"))),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            hours.CreateTimeOff(pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0))), metadata=writer(tenant)),
        ),
        (grpc.StatusCode.NOT_FOUND, set_rules(hours, tenant, theirs.id, rule(1, "09:00", "17:00"))),
        (
            grpc.StatusCode.NOT_FOUND,
            hours.CreateExtraHours(
                pb.CreateExtraHoursRequest(schedule_id=str(uuid.uuid4()), extra_hours=pb.ExtraHours(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant)
            ),
        ),
        (
            grpc.StatusCode.NOT_FOUND,
            hours.DeleteTimeOff(pb.DeleteTimeOffRequest(schedule_id=schedule.id, time_off_id=str(uuid.uuid4())), metadata=writer(tenant)),
        ),
        (
            grpc.StatusCode.NOT_FOUND,
            hours.DeleteExtraHours(pb.DeleteExtraHoursRequest(schedule_id=schedule.id, extra_hours_id=str(uuid.uuid4())), metadata=writer(tenant)),
        ),
        (
            grpc.StatusCode.NOT_FOUND,
            hours.DeleteHoliday(pb.DeleteHolidayRequest(schedule_id=schedule.id, holiday_id=str(uuid.uuid4())), metadata=writer(tenant)),
        ),
        (
            grpc.StatusCode.ALREADY_EXISTS,
            hours.CreateHoliday(pb.CreateHolidayRequest(schedule_id=schedule.id, holiday=pb.Holiday(local_date="2031-05-01")), metadata=writer(tenant)),
        ),
        (  # over the hold: TIME_OCCUPIED
            grpc.StatusCode.FAILED_PRECONDITION,
            hours.CreateTimeOff(
                pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0 + HOUR / 2), end=ts(T0 + 2 * HOUR))), metadata=writer(tenant)
            ),
        ),
    ]
    for code, call in refused:
        await support.expect_error(code, call)
    # A write after the refused ones: anything they had published would come before its message.
    await set_rules(hours, tenant, schedule.id, rule(3, "10:00", "11:00"))

    messages = await published(bootstrap, tenant, 2)
    assert changes(messages) == [(schedule.id, events_pb.HOLIDAYS), (schedule.id, events_pb.WEEKLY_RULES)]


async def test_appointment_holds_are_not_working_hours_and_publish_nothing(
    calendar: Calendar, hours: WorkingHoursStub, holds: AppointmentHoldsStub, bootstrap: str
) -> None:
    schedule = await calendar.schedule()
    tenant = calendar.tenant
    appointment = pb.AppointmentHold(booking_id=str(uuid.uuid4()), schedule_id=schedule.id, start=ts(T0), end=ts(T0 + HOUR))
    await holds.HoldAppointmentTime(pb.HoldAppointmentTimeRequest(hold=appointment), metadata=internal(tenant))
    await holds.HoldAppointmentTime(pb.HoldAppointmentTimeRequest(hold=appointment), metadata=internal(tenant))  # repeated
    await holds.ReleaseAppointmentTime(pb.ReleaseAppointmentTimeRequest(booking_id=appointment.booking_id), metadata=internal(tenant))
    # Time off where the hold was, after its release: the only change of working hours here.
    await hours.CreateTimeOff(pb.CreateTimeOffRequest(schedule_id=schedule.id, time_off=pb.TimeOff(start=ts(T0), end=ts(T0 + HOUR))), metadata=writer(tenant))

    messages = await published(bootstrap, tenant, 1)
    assert changes(messages) == [(schedule.id, events_pb.TIME_OFF)]
