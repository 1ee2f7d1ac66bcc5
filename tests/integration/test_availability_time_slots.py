"""bookings.availability.v2.AvailabilityTimeSlots over real gRPC against the real stack: an
APPOINTMENT service and its staff created through bookings, their working hours, time off and
holidays set through timeframes' WorkingHours on each staff member's schedule, then the slots,
one slot and the month view read from availability (docs/appointments.md "The RPCs").

The week shown is Monday 2031-03-03 to Sunday 2031-03-09 in Vienna (UTC+1), years ahead of the
real clock availability reads, so no answer depends on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as pb
from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.common.v1 import paging_pb2
from tests import support
from tests.integration.appointment_support import KOLKATA, MONDAY, VIENNA, Shop, at, ts, weekdays

pytestmark = pytest.mark.integration

TUESDAY = "2031-03-04"
MONDAY_STARTS = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


@pytest.fixture
def shop(channel: Callable[[str], grpc.aio.Channel], tenant: str) -> Shop:
    return Shop.of(channel, tenant)


@pytest.fixture
def other_shop(channel: Callable[[str], grpc.aio.Channel], other_tenant: str) -> Shop:
    return Shop.of(channel, other_tenant)


@dataclass
class Salon:
    service: services_pb2.Service
    anna: staff_members_pb2.StaffMember
    ben: staff_members_pb2.StaffMember
    cara: staff_members_pb2.StaffMember  # a staff member of the tenant who does not offer the service


async def salon(shop: Shop) -> Salon:
    """Anna and Ben offer the service, weekdays 09:00–12:00; Cara offers nothing."""
    service = await shop.appointment()
    return Salon(service, await shop.staff("Anna", service.id), await shop.staff("Ben", service.id), await shop.staff("Cara"))


def by_start(response: pb.ListAvailabilityTimeSlotsResponse) -> dict[str, pb.AvailabilityTimeSlot]:
    """The slots by local start "HH:MM" (a day's slots)."""
    return {s.local_start_date[11:16]: s for s in response.time_slots}


def both(s: Salon) -> list[str]:
    return sorted([s.anna.id, s.ben.id])


# --- the day view ------------------------------------------------------------------------------


async def test_the_day_view_cuts_each_staff_members_hours_into_slots_with_their_reasons(shop: Shop) -> None:
    s = await salon(shop)
    await shop.time_off(s.ben, f"{MONDAY} 10:00", f"{MONDAY} 11:00")

    monday = await shop.list_slots(s.service.id, include_non_bookable=True)
    assert monday.time_zone == VIENNA
    slots = by_start(monday)
    assert list(slots) == MONDAY_STARTS
    assert {start: list(slot.available_staff_member_ids) for start, slot in slots.items()} == {
        start: [s.anna.id] if start in ("10:00", "10:30") else both(s) for start in MONDAY_STARTS
    }
    nine = slots["09:00"]
    assert (nine.service_id, nine.local_start_date, nine.local_end_date) == (s.service.id, f"{MONDAY}T09:00:00", f"{MONDAY}T09:30:00")
    assert (nine.start_date, nine.end_date) == (ts(at(f"{MONDAY} 09:00")), ts(at(f"{MONDAY} 09:30")))
    assert (nine.bookable, nine.total_capacity, nine.remaining_capacity) == (True, 1, 1)
    assert nine.non_bookable_reasons == pb.AppointmentNonBookableReasons()

    only_ben = by_start(await shop.list_slots(s.service.id, include_non_bookable=True, staff_member_ids=[s.ben.id]))
    assert (only_ben["10:00"].bookable, only_ben["10:00"].remaining_capacity, only_ben["10:00"].non_bookable_reasons) == (
        False,
        0,
        pb.AppointmentNonBookableReasons(time_off=True),
    )
    assert list(only_ben["09:00"].available_staff_member_ids) == [s.ben.id]
    bookable_only = by_start(await shop.list_slots(s.service.id, staff_member_ids=[s.ben.id]))
    assert list(bookable_only) == ["09:00", "09:30", "11:00", "11:30"]


async def test_a_holiday_of_every_staff_member_shows_the_whole_day_as_holiday(shop: Shop) -> None:
    s = await salon(shop)
    await shop.holiday(s.anna, TUESDAY)
    await shop.holiday(s.ben, TUESDAY)
    tuesday = await shop.list_slots(s.service.id, TUESDAY, include_non_bookable=True)
    assert [(slot.bookable, slot.non_bookable_reasons) for slot in tuesday.time_slots] == [(False, pb.AppointmentNonBookableReasons(holiday=True))] * 6
    assert list((await shop.list_slots(s.service.id, TUESDAY)).time_slots) == []


async def test_an_appointment_booked_is_not_offered_again_by_the_next_request(shop: Shop) -> None:
    # Read-your-writes: the occupied time is read fresh on every request, nothing to wait for.
    s = await salon(shop)
    await shop.book(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30", s.anna.id)
    assert list(by_start(await shop.list_slots(s.service.id))["09:00"].available_staff_member_ids) == [s.ben.id]

    await shop.book(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30", s.ben.id)
    assert "09:00" not in by_start(await shop.list_slots(s.service.id))
    day = by_start(await shop.list_slots(s.service.id, include_non_bookable=True))
    assert (day["09:00"].bookable, day["09:00"].non_bookable_reasons) == (False, pb.AppointmentNonBookableReasons(booked=True))
    one = await shop.get_slot(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30")
    assert (one.time_slot.bookable, list(one.time_slot.available_staff_member_ids)) == (False, [])
    assert (await shop.list_dates(s.service.id, MONDAY, MONDAY)).dates[0].bookable_slots == 5
    refused = await support.expect_error(grpc.StatusCode.ALREADY_EXISTS, shop.book(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30", ""))
    assert support.error_reason(refused) == "SLOT_UNAVAILABLE"  # what was shown is what is validated


async def test_time_off_and_new_hours_are_shown_once_timeframes_announces_them(shop: Shop) -> None:
    # Working hours come through availability's cache, dropped when their change event
    # (calendar.working-hours-events.v1) is consumed: shown a moment later, not at once. A booking
    # of a slot in a time off not shown yet is refused all the same (test_appointment_bookings.py).
    s = await salon(shop)
    assert len((await shop.list_slots(s.service.id, staff_member_ids=[s.anna.id])).time_slots) == 6
    await shop.time_off(s.anna, f"{MONDAY} 09:00", f"{MONDAY} 12:00")
    await support.eventually(
        lambda: shop.list_slots(s.service.id, staff_member_ids=[s.anna.id]), lambda answer: list(answer.time_slots) == [], what="Anna's time off shown"
    )
    await shop.hours.SetWeeklyRules(hours_pb2.SetWeeklyRulesRequest(schedule_id=s.ben.schedule_id, rules=weekdays("13:00", "14:00")), metadata=shop.md)
    await support.eventually(lambda: shop.list_slots(s.service.id), lambda answer: list(by_start(answer)) == ["13:00", "13:30"], what="Ben's new hours shown")


async def test_a_staff_member_who_stops_offering_the_service_is_left_out_once_announced(shop: Shop) -> None:
    # The staff members come through the cache too, dropped on bookings.staff-events.v1.
    s = await salon(shop)
    assert {tuple(slot.available_staff_member_ids) for slot in (await shop.list_slots(s.service.id)).time_slots} == {tuple(both(s))}
    update = staff_members_pb2.UpdateStaffMemberRequest(
        staff_member=staff_members_pb2.StaffMember(id=s.ben.id, revision=s.ben.revision), mask=field_mask_pb2.FieldMask(paths=["service_ids"])
    )
    await shop.staff_members.UpdateStaffMember(update, metadata=shop.md)
    await support.eventually(
        lambda: shop.list_slots(s.service.id),
        lambda answer: {tuple(slot.available_staff_member_ids) for slot in answer.time_slots} == {(s.anna.id,)},
        what="only Anna offering the service",
    )


async def test_a_staff_members_new_zone_moves_their_hours_once_announced(shop: Shop) -> None:
    # Kolkata is UTC+05:30, Vienna UTC+1 in March: 09:00-12:00 there is 04:30-07:30 in Vienna.
    service = await shop.appointment(60)
    member = await shop.staff("Priya", service.id)
    assert [slot.local_start_date[11:16] for slot in (await shop.list_slots(service.id)).time_slots] == ["09:00", "10:00", "11:00"]
    update = staff_members_pb2.UpdateStaffMemberRequest(
        staff_member=staff_members_pb2.StaffMember(id=member.id, revision=member.revision, time_zone=KOLKATA),
        mask=field_mask_pb2.FieldMask(paths=["time_zone"]),
    )
    await shop.staff_members.UpdateStaffMember(update, metadata=shop.md)
    await support.eventually(
        lambda: shop.list_slots(service.id),
        lambda answer: [slot.local_start_date[11:16] for slot in answer.time_slots] == ["04:30", "05:30", "06:30"],
        what="Priya's hours read in Kolkata",
    )


async def test_pages_follow_each_other_through_the_week(shop: Shop) -> None:
    s = await salon(shop)
    everything = (await shop.list_slots(s.service.id, days=7, cursor_paging=paging_pb2.CursorPaging(limit=100))).time_slots
    assert len(everything) == 30
    seen: list[pb.AvailabilityTimeSlot] = []
    cursor = ""
    while True:
        page = await shop.list_slots(s.service.id, days=7, cursor_paging=paging_pb2.CursorPaging(limit=8, cursor=cursor))
        seen += page.time_slots
        assert page.paging_metadata.count == len(page.time_slots)
        if not page.paging_metadata.has_next:
            break
        cursor = page.paging_metadata.cursors.next
    assert seen == list(everything)
    error = await support.expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, shop.list_slots(s.service.id, days=6, cursor_paging=paging_pb2.CursorPaging(limit=8, cursor=cursor))
    )
    assert list(support.field_violations(error)) == ["cursor_paging.cursor"]


async def test_staff_in_another_zone_are_shown_in_the_requests(shop: Shop) -> None:
    # Kolkata is UTC+05:30, Vienna UTC+1 in March: 14:30-16:30 there is 10:00-12:00 in Vienna.
    service = await shop.appointment(60)
    await shop.staff("Priya", service.id, time_zone=KOLKATA, rules=weekdays("14:30", "16:30"))
    monday = await shop.list_slots(service.id)
    assert [(slot.local_start_date, slot.local_end_date) for slot in monday.time_slots] == [
        (f"{MONDAY}T10:00:00", f"{MONDAY}T11:00:00"),
        (f"{MONDAY}T11:00:00", f"{MONDAY}T12:00:00"),
    ]


# --- one slot ----------------------------------------------------------------------------------


async def test_one_slot_by_its_start_and_end(shop: Shop) -> None:
    s = await salon(shop)
    await shop.time_off(s.anna, f"{MONDAY} 09:00", f"{MONDAY} 09:30")
    answer = await shop.get_slot(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30", time_zone=KOLKATA)
    assert (answer.time_zone, answer.time_slot.local_start_date, answer.time_slot.bookable) == (KOLKATA, f"{MONDAY}T13:30:00", True)
    assert list(answer.time_slot.available_staff_member_ids) == [s.ben.id]

    only_anna = await shop.get_slot(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30", staff_member_ids=[s.anna.id])
    assert (only_anna.time_slot.bookable, only_anna.time_slot.non_bookable_reasons) == (False, pb.AppointmentNonBookableReasons(time_off=True))

    for start, end in ((f"{MONDAY} 09:10", f"{MONDAY} 09:40"), (f"{MONDAY} 09:00", f"{MONDAY} 10:00"), (f"{MONDAY} 12:00", f"{MONDAY} 12:30")):
        error = await support.expect_error(grpc.StatusCode.NOT_FOUND, shop.get_slot(s.service.id, start, end))
        assert "time slot" in (error.details() or "")


# --- the month view ----------------------------------------------------------------------------


async def test_the_month_view_counts_each_dates_slots_and_finds_the_next_available_date(shop: Shop) -> None:
    s = await salon(shop)
    for member in (s.anna, s.ben):
        await shop.holiday(member, TUESDAY)
        await shop.time_off(member, "2031-03-05 00:00", "2031-03-06 00:00")
    march = await shop.list_dates(s.service.id, "2031-03-01", "2031-03-09")
    assert [(d.local_date, d.bookable_slots, d.unavailable_reason) for d in march.dates] == [
        ("2031-03-01", 0, pb.NO_SERVICE_HOURS),
        ("2031-03-02", 0, pb.NO_SERVICE_HOURS),
        ("2031-03-03", 6, pb.DATE_UNAVAILABLE_REASON_UNSPECIFIED),
        ("2031-03-04", 0, pb.HOLIDAY),
        ("2031-03-05", 0, pb.TIME_OFF),
        ("2031-03-06", 6, pb.DATE_UNAVAILABLE_REASON_UNSPECIFIED),
        ("2031-03-07", 6, pb.DATE_UNAVAILABLE_REASON_UNSPECIFIED),
        ("2031-03-08", 0, pb.NO_SERVICE_HOURS),
        ("2031-03-09", 0, pb.NO_SERVICE_HOURS),
    ]
    assert (march.next_available_date, march.time_zone) == ("2031-03-03", VIENNA)

    # Nothing bookable in the range: searched ahead, beyond Tuesday's holiday and Wednesday's time off.
    midweek = await shop.list_dates(s.service.id, "2031-03-04", "2031-03-05")
    assert midweek.next_available_date == "2031-03-06"


async def test_a_service_without_staff_has_no_slots(shop: Shop) -> None:
    service = await shop.appointment()
    assert list((await shop.list_slots(service.id, days=7)).time_slots) == []
    month = await shop.list_dates(service.id, "2031-03-01", "2031-03-31")
    assert ({d.unavailable_reason for d in month.dates}, month.next_available_date) == ({pb.NO_SERVICE_HOURS}, "")


# --- what is refused ---------------------------------------------------------------------------


async def test_another_tenants_service_is_not_found_and_its_staff_are_not_the_services(shop: Shop, other_shop: Shop) -> None:
    s = await salon(shop)
    theirs = await other_shop.appointment()
    await support.expect_error(grpc.StatusCode.NOT_FOUND, other_shop.list_slots(s.service.id))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, other_shop.list_dates(s.service.id, "2031-03-01", "2031-03-31"))
    await support.expect_error(grpc.StatusCode.NOT_FOUND, other_shop.get_slot(s.service.id, f"{MONDAY} 09:00", f"{MONDAY} 09:30"))

    error = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, other_shop.list_slots(theirs.id, staff_member_ids=[s.anna.id]))
    assert list(support.field_violations(error)) == ["staff_member_ids[0]"]
    nobody = str(uuid.uuid4())
    twin = await support.expect_error(grpc.StatusCode.INVALID_ARGUMENT, other_shop.list_slots(theirs.id, staff_member_ids=[nobody]))
    assert support.field_violations(twin) == support.field_violations(error)  # the same answer as an id nobody has


async def test_bad_requests_name_the_field(shop: Shop) -> None:
    s = await salon(shop)
    yoga = await shop.klass()
    no_instants = pb.GetAvailabilityTimeSlotRequest(service_id=s.service.id)
    cases: list[tuple[Any, grpc.StatusCode, set[str]]] = [
        (shop.list_slots(yoga.id), grpc.StatusCode.INVALID_ARGUMENT, {"service_id"}),
        (shop.list_dates(yoga.id, "2031-03-01", "2031-03-31"), grpc.StatusCode.INVALID_ARGUMENT, {"service_id"}),
        (shop.list_slots(s.service.id, staff_member_ids=[s.cara.id]), grpc.StatusCode.INVALID_ARGUMENT, {"staff_member_ids[0]"}),
        (shop.list_slots(s.service.id, days=32), grpc.StatusCode.INVALID_ARGUMENT, {"to_local_date"}),
        (shop.list_dates(s.service.id, "2031-03-01", "2031-05-02"), grpc.StatusCode.INVALID_ARGUMENT, {"to_local_date"}),
        (shop.list_dates(s.service.id, "2031-03-31", "2031-03-01", time_zone="Mars/Olympus"), grpc.StatusCode.INVALID_ARGUMENT, {"to_local_date", "time_zone"}),
        (shop.list_slots(str(uuid.uuid4())), grpc.StatusCode.NOT_FOUND, set()),
        (shop.slots.GetAvailabilityTimeSlot(no_instants, metadata=shop.md), grpc.StatusCode.INVALID_ARGUMENT, {"start_date", "end_date"}),
    ]
    for call, code, fields in cases:
        error = await support.expect_error(code, call)
        assert set(support.field_violations(error)) == fields


async def test_every_method_needs_availability_read(shop: Shop) -> None:
    s = await salon(shop)
    calls = {
        "ListAvailabilityTimeSlots": lambda md: shop.slots.ListAvailabilityTimeSlots(
            pb.ListAvailabilityTimeSlotsRequest(service_id=s.service.id, from_local_date=f"{MONDAY}T00:00:00", to_local_date=f"{TUESDAY}T00:00:00"), metadata=md
        ),
        "GetAvailabilityTimeSlot": lambda md: shop.slots.GetAvailabilityTimeSlot(
            pb.GetAvailabilityTimeSlotRequest(service_id=s.service.id, start_date=ts(at(f"{MONDAY} 09:00")), end_date=ts(at(f"{MONDAY} 09:30"))), metadata=md
        ),
        "ListAvailabilityDates": lambda md: shop.slots.ListAvailabilityDates(
            pb.ListAvailabilityDatesRequest(service_id=s.service.id, from_local_date=MONDAY, to_local_date=TUESDAY), metadata=md
        ),
    }
    for name, call in calls.items():
        await support.expect_error(grpc.StatusCode.PERMISSION_DENIED, call(support.auth(shop.tenant, "catalog:read", "calendar:read", "bookings:read")))
        await support.expect_error(grpc.StatusCode.UNAUTHENTICATED, call([]))
        assert await call(support.auth(shop.tenant, "availability:read")) is not None, name
