"""AppointmentSlots (application/appointment_slots.py) with a fake of its port: what
ListAvailabilityTimeSlots, GetAvailabilityTimeSlot and ListAvailabilityDates answer, refuse and
read. The rules themselves are specified in test_appointment_slots.py; here, the flows.

Unless a test says otherwise: an APPOINTMENT service of 30 minutes in Europe/Vienna (UTC+2 in June
2026) offered by Anna and Ben, who both work Monday to Friday 09:00–12:00 Vienna time (six slots a
day); Cara is a staff member of the tenant who does not offer it. Now is Sunday 2026-06-14 12:00
in Vienna, the day before the week shown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.availability.application.appointment_slots import AppointmentSlots
from services.availability.domain.appointments import AppointmentSlot, SlotReasons, StaffCalendar, StaffMember, UnavailableReason, slot_violations
from services.availability.domain.model import AppointmentShape, BookingPolicy, Interval, Offering, ServiceType
from services.availability.domain.requests import AppointmentDatesQuery, AppointmentSlotLookup, AppointmentSlotQuery
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.local_time import to_utc
from services.common.paging import CursorCodec
from services.common.weekly_rules import WeeklyRule
from tests.unit.availability.fakes import FakeAppointmentInputs
from tests.unit.availability.helpers import policy

TENANT, OTHER_TENANT = "tenant-a", "tenant-b"
SERVICE = "5e5e5e5e-0000-4000-8000-000000000001"
YOGA = "5e5e5e5e-0000-4000-8000-000000000002"  # a CLASS service
UNKNOWN = "5e5e5e5e-0000-4000-8000-0000000000ff"
ANNA, BEN, CARA = (f"0{c}0a0a0a-0000-4000-8000-000000000001" for c in "abc")  # sorted: Anna, Ben, Cara
OUTSIDER = "0d0a0a0a-0000-4000-8000-000000000001"  # a staff member of another tenant
VIENNA, NEW_YORK, KOLKATA = "Europe/Vienna", "America/New_York", "Asia/Kolkata"
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
WEEKDAYS = (1, 2, 3, 4, 5)
MONDAY = date(2026, 6, 15)


def local(text: str, zone: str = VIENNA) -> datetime:
    return to_utc(datetime.fromisoformat(text), ZoneInfo(zone), nonexistent="reject")


def span(start: str, end: str, zone: str = VIENNA) -> Interval:
    """span("2026-06-15 09:00", "10:00"): the end on the start's date unless it names its own."""
    return Interval(local(start, zone), local(end if len(end) > 5 else f"{start[:10]} {end}", zone))


def hours(start: str, end: str, days: tuple[int, ...] = WEEKDAYS, effective_from: date | None = None) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(d, time.fromisoformat(start), time.fromisoformat(end), effective_from) for d in days)


NOW = local("2026-06-14 12:00")
WORKING_HOURS = hours("09:00", "12:00")
HALF_HOUR = AppointmentShape(30 * MINUTE)


@dataclass
class World:
    inputs: FakeAppointmentInputs
    slots: AppointmentSlots
    now: list[datetime]  # the clock: set now[0]

    def calendar(self, staff_member_id: str) -> StaffCalendar:
        return self.inputs.calendars_by_staff[staff_member_id]

    def change(self, staff_member_id: str, **fields: object) -> None:
        self.inputs.calendars_by_staff[staff_member_id] = dataclasses.replace(self.calendar(staff_member_id), **fields)  # type: ignore[arg-type]

    def both(self, **fields: object) -> None:
        self.change(ANNA, **fields)
        self.change(BEN, **fields)


def world(
    p: BookingPolicy | None = None,
    *,
    online: bool = True,
    zone: str = VIENNA,
    staff_zone: str = VIENNA,
    rules: tuple[WeeklyRule, ...] = WORKING_HOURS,
    shape: AppointmentShape = HALF_HOUR,
    staff: tuple[str, ...] = (ANNA, BEN),
    now: datetime = NOW,
) -> World:
    service = Offering(SERVICE, ServiceType.APPOINTMENT, "", zone, online, p or BookingPolicy(), appointment=shape, staff_member_ids=staff)
    yoga = Offering(YOGA, ServiceType.CLASS, "5e5e5e5e-0000-4000-8000-0000000000aa", VIENNA, True)
    members = [StaffMember(s, f"schedule-of-{s}", staff_zone, frozenset({SERVICE} if s in staff else ())) for s in (ANNA, BEN, CARA)]
    calendars = {m.staff_member_id: StaffCalendar(m.staff_member_id, staff_zone, rules) for m in members}
    inputs = FakeAppointmentInputs(TENANT, [service, yoga], members, calendars)
    clock = [now]
    return World(inputs, AppointmentSlots(inputs, CursorCodec(b"test-key"), clock=lambda: clock[0]), clock)


def query(**fields: object) -> AppointmentSlotQuery:
    """The day view of Monday 2026-06-15 in Vienna, every slot; `fields` replace any of it."""
    values: dict[str, object] = {
        "service_id": SERVICE,
        "from_local_date": "2026-06-15T00:00:00",
        "to_local_date": "2026-06-16T00:00:00",
        "time_zone": VIENNA,
        "staff_member_ids": (),
        "include_non_bookable": True,
        "limit": 0,
        "cursor": "",
    }
    values.update(fields)
    return AppointmentSlotQuery(**values)  # type: ignore[arg-type]


def dates(first: str = "2026-06-01", last: str = "2026-06-30", **fields: object) -> AppointmentDatesQuery:
    values: dict[str, object] = {"service_id": SERVICE, "from_local_date": first, "to_local_date": last, "time_zone": VIENNA, "staff_member_ids": ()}
    values.update(fields)
    return AppointmentDatesQuery(**values)  # type: ignore[arg-type]


def lookup(start: str, end: str, **fields: object) -> AppointmentSlotLookup:
    """The slot from `start` to `end`, Vienna wall times as `span` takes them."""
    slot = span(start, end)
    values: dict[str, object] = {"service_id": SERVICE, "start": _wire(slot.start), "end": _wire(slot.end), "time_zone": "", "staff_member_ids": ()}
    values.update(fields)
    return AppointmentSlotLookup(**values)  # type: ignore[arg-type]


def _wire(instant: datetime) -> tuple[int, int]:
    return int(instant.timestamp()), 0


def shown(slots: list[AppointmentSlot], zone: str = VIENNA) -> dict[str, tuple[tuple[str, ...], SlotReasons]]:
    """By local start "MM-DD HH:MM": (available staff, reasons)."""
    return {f"{s.slot.start.astimezone(ZoneInfo(zone)):%m-%d %H:%M}": (s.available_staff_member_ids, s.reasons) for s in slots}


MONDAY_STARTS = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
FREE = ((ANNA, BEN), SlotReasons())


# --- the day view ------------------------------------------------------------------------------


def _booked_at_nine(w: World) -> None:
    w.both(appointments=(span("2026-06-15 09:00", "09:30"),))


def _time_off_ten_to_eleven(w: World) -> None:
    w.both(time_off=(span("2026-06-15 10:00", "11:00"),))


def _anna_booked_ben_away_at_eleven(w: World) -> None:
    w.change(ANNA, appointments=(span("2026-06-15 11:00", "11:30"),))
    w.change(BEN, time_off=(span("2026-06-15 11:00", "11:30"),))


def _holiday_on_monday(w: World) -> None:
    w.both(holidays=frozenset({MONDAY}))


@pytest.mark.parametrize(
    "make, p, online, not_bookable",
    [
        pytest.param(_booked_at_nine, None, True, {"09:00": SlotReasons(booked=True)}, id="both-booked-at-nine-booked"),
        pytest.param(_time_off_ten_to_eleven, None, True, {"10:00": SlotReasons(time_off=True), "10:30": SlotReasons(time_off=True)}, id="time-off"),
        pytest.param(_anna_booked_ben_away_at_eleven, None, True, {"11:00": SlotReasons(booked=True, time_off=True)}, id="nobody-free-every-reason"),
        pytest.param(_holiday_on_monday, None, True, dict.fromkeys(MONDAY_STARTS, SlotReasons(holiday=True)), id="holiday"),
        # Now + 22 hours is Monday 10:00: exactly at the minimum notice is still bookable.
        pytest.param(None, policy(late=22 * 60), True, dict.fromkeys(["09:00", "09:30"], SlotReasons(too_late=True)), id="too-late-inside-the-notice"),
        # Now + 23 hours is Monday 11:00: the horizon; 11:00 itself is bookable.
        pytest.param(None, policy(early=23 * 60), True, {"11:30": SlotReasons(too_early=True)}, id="too-early-beyond-the-horizon"),
        pytest.param(None, None, False, dict.fromkeys(MONDAY_STARTS, SlotReasons(online_disabled=True)), id="online-booking-off"),
    ],
)
async def test_the_day_view_shows_every_slot_with_why_it_cannot_be_booked(
    make: object, p: BookingPolicy | None, online: bool, not_bookable: dict[str, SlotReasons]
) -> None:
    w = world(p, online=online)
    if make is not None:
        make(w)  # type: ignore[operator]
    page = await w.slots.list_slots(TENANT, query())
    expected = {f"06-15 {start}": ((), not_bookable[start]) if start in not_bookable else FREE for start in MONDAY_STARTS}
    assert shown(page.slots) == expected
    assert (page.zone.key, page.has_next, page.next_cursor) == (VIENNA, False, "")

    bookable_only = await w.slots.list_slots(TENANT, query(include_non_bookable=False))
    assert [s.slot.start for s in bookable_only.slots] == [s.slot.start for s in page.slots if s.bookable]


async def test_a_slot_is_its_duration_long_and_the_window_dates_come_from_the_policy() -> None:
    page = await world(policy(late=60, early=7 * 24 * 60)).slots.list_slots(TENANT, query())
    first = page.slots[0]
    assert first.slot == span("2026-06-15 09:00", "09:30")
    violations = slot_violations(page.offering, first)
    assert (violations.earliest_booking_date, violations.latest_booking_date) == (local("2026-06-08 09:00"), local("2026-06-15 08:00"))
    assert not violations.any


async def test_the_staff_filter_decides_who_can_take_a_slot() -> None:
    w = world()
    w.change(ANNA, appointments=(span("2026-06-15 09:00", "09:30"),))
    everybody = shown((await w.slots.list_slots(TENANT, query())).slots)
    assert (everybody["06-15 09:00"], everybody["06-15 09:30"]) == (((BEN,), SlotReasons()), FREE)

    only_anna = shown((await w.slots.list_slots(TENANT, query(staff_member_ids=(ANNA,)))).slots)
    assert (only_anna["06-15 09:00"], only_anna["06-15 09:30"]) == (((), SlotReasons(booked=True)), ((ANNA,), SlotReasons()))
    assert ("staff", (ANNA,)) in w.inputs.reads  # only the asked staff member is read


@pytest.mark.parametrize(
    "staff_member_ids, field",
    [
        pytest.param((CARA,), "staff_member_ids[0]", id="a-staff-member-who-does-not-offer-the-service"),
        pytest.param((ANNA, OUTSIDER), "staff_member_ids[1]", id="another-tenants-staff-member-is-not-one-of-the-services"),
        pytest.param((UNKNOWN,), "staff_member_ids[0]", id="an-id-nobody-has"),
    ],
)
async def test_each_asked_staff_member_must_offer_the_service(staff_member_ids: tuple[str, ...], field: str) -> None:
    w = world()
    for call in (
        lambda: w.slots.list_slots(TENANT, query(staff_member_ids=staff_member_ids)),
        lambda: w.slots.list_dates(TENANT, dates(staff_member_ids=staff_member_ids)),
        lambda: w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30", staff_member_ids=staff_member_ids)),
    ):
        with pytest.raises(InvalidArgument) as exc:
            await call()
        assert [v.field for v in exc.value.violations] == [field]


async def test_a_staff_member_the_cached_service_still_lists_but_who_stopped_offering_it_is_left_out() -> None:
    # The service comes through the cache, the staff members fresh: Ben's own record no longer
    # names the service.
    w = world()
    w.inputs.staff = [dataclasses.replace(m, service_ids=frozenset()) if m.staff_member_id == BEN else m for m in w.inputs.staff]
    page = await w.slots.list_slots(TENANT, query())
    assert {s.available_staff_member_ids for s in page.slots} == {(ANNA,)}
    with pytest.raises(InvalidArgument):
        await w.slots.list_slots(TENANT, query(staff_member_ids=(BEN,)))


async def test_a_service_without_staff_has_no_slots_and_no_hours() -> None:
    w = world(staff=())
    assert (await w.slots.list_slots(TENANT, query())).slots == []
    month = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-21"))
    assert {d.unavailable_reason for d in month.view.dates} == {UnavailableReason.NO_SERVICE_HOURS}
    assert month.view.next_available is None
    with pytest.raises(NotFound):
        await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30"))
    assert set(w.inputs.read_kinds()) == {"offering"}  # nobody to read


async def test_an_appointment_booked_is_not_offered_by_the_next_request() -> None:
    # Nothing of the staff's calendars is kept between requests (read-your-writes).
    w = world(staff=(ANNA,))
    assert shown((await w.slots.list_slots(TENANT, query())).slots)["06-15 09:00"] == ((ANNA,), SlotReasons())
    w.change(ANNA, appointments=(span("2026-06-15 09:00", "09:30"),))
    assert shown((await w.slots.list_slots(TENANT, query())).slots)["06-15 09:00"] == ((), SlotReasons(booked=True))
    assert not (await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30"))).slot.bookable


async def test_each_request_reads_the_service_its_staff_their_hours_and_their_appointments_once() -> None:
    w = world()
    await w.slots.list_slots(TENANT, query())
    await w.slots.list_dates(TENANT, dates())
    await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30"))
    assert w.inputs.read_kinds() == ["offering", "staff", "hours", "occupied"] * 3
    assert [r[2] for r in w.inputs.reads if r[0] == "offering"] == [False, False, True]  # the service fresh only to validate


async def test_a_page_reads_its_first_week_and_the_rest_of_the_range_only_when_it_is_not_full() -> None:
    # Six slots a weekday: a page of 10 fills in the first week, one of 50 does not.
    w = world()
    month = query(from_local_date="2026-06-15T00:00:00", to_local_date="2026-07-15T00:00:00", include_non_bookable=False)
    assert len((await w.slots.list_slots(TENANT, dataclasses.replace(month, limit=10))).slots) == 10
    assert w.inputs.windows("occupied") == w.inputs.windows("hours") == [Interval(local("2026-06-12 00:00"), local("2026-06-25 00:00"))]

    w.inputs.reads.clear()
    page = await w.slots.list_slots(TENANT, dataclasses.replace(month, limit=50))
    assert (len(page.slots), page.has_next) == (50, True)
    assert w.inputs.windows("occupied") == [
        Interval(local("2026-06-12 00:00"), local("2026-06-25 00:00")),
        Interval(local("2026-06-19 00:00"), local("2026-07-18 00:00")),
    ]


# --- paging ------------------------------------------------------------------------------------


async def test_pages_follow_each_other_through_the_week_for_the_same_query_only() -> None:
    w = world()
    week = query(from_local_date="2026-06-15T00:00:00", to_local_date="2026-06-22T00:00:00")
    everything = (await w.slots.list_slots(TENANT, week)).slots
    assert len(everything) == 30

    seen: list[AppointmentSlot] = []
    cursor = ""
    while True:
        page = await w.slots.list_slots(TENANT, dataclasses.replace(week, limit=7, cursor=cursor))
        seen += page.slots
        assert len(page.slots) == (7 if page.has_next else 2)
        if not page.has_next:
            assert page.next_cursor == ""
            break
        cursor = page.next_cursor
    assert seen == everything

    first = await w.slots.list_slots(TENANT, dataclasses.replace(week, limit=7))
    for other in (dataclasses.replace(week, limit=7, cursor=first.next_cursor, include_non_bookable=False), dataclasses.replace(week, cursor="nope")):
        with pytest.raises(InvalidArgument) as exc:
            await w.slots.list_slots(TENANT, other)
        assert [v.field for v in exc.value.violations] == ["cursor_paging.cursor"]
    with pytest.raises(InvalidArgument):  # bound to the tenant too
        await w.slots.list_slots(OTHER_TENANT, dataclasses.replace(week, limit=7, cursor=first.next_cursor))


async def test_a_page_of_bookable_slots_skips_a_fully_booked_start_of_the_range() -> None:
    w = world()
    w.both(time_off=(span("2026-06-15 00:00", "2026-06-25 00:00"),))  # the first ten days away
    page = await w.slots.list_slots(
        TENANT, query(from_local_date="2026-06-15T00:00:00", to_local_date="2026-07-15T00:00:00", include_non_bookable=False, limit=3)
    )
    assert list(shown(page.slots)) == ["06-25 09:00", "06-25 09:30", "06-25 10:00"]
    assert page.has_next


# --- the month view ----------------------------------------------------------------------------


async def test_the_month_view_summarises_each_date_and_names_the_first_available_one() -> None:
    w = world()
    w.both(holidays=frozenset({date(2026, 6, 16)}), time_off=(span("2026-06-17 00:00", "2026-06-18 00:00"),))
    w.both(appointments=tuple(span(f"2026-06-18 {h}", f"{h[:3]}{int(h[3:]) + 30:02d}") for h in ("09:00", "10:00", "11:00")))
    w.change(ANNA, appointments=(*w.calendar(ANNA).appointments, *(span(f"2026-06-18 {h}:30", f"{int(h) + 1:02d}:00") for h in ("09", "10", "11"))))
    w.change(BEN, appointments=(*w.calendar(BEN).appointments, span("2026-06-18 09:30", "10:00")))
    answer = await w.slots.list_dates(TENANT, dates("2026-06-11", "2026-06-19"))
    summary = [(d.local_date.isoformat()[5:], d.bookable_slots, d.unavailable_reason) for d in answer.view.dates]
    R = UnavailableReason
    assert summary == [
        ("06-11", 0, R.TOO_LATE),  # a past working day
        ("06-12", 0, R.TOO_LATE),
        ("06-13", 0, R.NO_SERVICE_HOURS),  # the weekend
        ("06-14", 0, R.NO_SERVICE_HOURS),
        ("06-15", 6, None),
        ("06-16", 0, R.HOLIDAY),
        ("06-17", 0, R.TIME_OFF),
        ("06-18", 2, None),  # Ben is free at 10:30 and 11:30
        ("06-19", 6, None),
    ]
    assert (answer.view.next_available, answer.zone.key) == (date(2026, 6, 15), VIENNA)


async def test_a_month_view_with_a_bookable_date_reads_its_range_only() -> None:
    w = world()
    answer = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-19"))
    assert answer.view.next_available == date(2026, 6, 15)
    assert w.inputs.read_kinds() == ["offering", "staff", "hours", "occupied"]
    assert w.inputs.windows("hours") == [Interval(local("2026-06-12 00:00"), local("2026-06-23 00:00"))]


async def test_next_available_date_is_searched_after_the_range_a_month_at_a_time() -> None:
    w = world()
    w.both(time_off=(span("2026-06-15 00:00", "2026-07-08 00:00"),))
    answer = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-19"))
    assert {d.unavailable_reason for d in answer.view.dates} == {UnavailableReason.TIME_OFF}
    assert answer.view.next_available == date(2026, 7, 8)
    # The range; then the hours of the whole search (366 dates from the first) and the
    # appointments of its first month only, where the date was found.
    assert w.inputs.read_kinds() == ["offering", "staff", "hours", "occupied", "hours", "occupied"]
    assert w.inputs.windows("hours")[1].end >= local("2027-06-16 00:00")
    assert w.inputs.windows("occupied")[1] == Interval(local("2026-06-17 00:00"), local("2026-07-24 00:00"))


async def test_the_search_reads_no_appointments_of_months_without_hours() -> None:
    # Hours only from September on: July and August are skipped without reading their appointments.
    w = world(rules=hours("09:00", "12:00", effective_from=date(2026, 9, 1)))
    answer = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-19"))
    assert answer.view.next_available == date(2026, 9, 1)
    assert w.inputs.read_kinds() == ["offering", "staff", "hours", "occupied", "hours", "occupied"]
    assert w.inputs.windows("occupied")[1].start > local("2026-08-01 00:00")


@pytest.mark.parametrize(
    "effective_from, expected",
    [
        pytest.param(date(2027, 6, 15), date(2027, 6, 15), id="the-366th-date-is-still-searched"),
        pytest.param(date(2027, 6, 16), None, id="nothing-beyond-366-dates"),
    ],
)
async def test_next_available_date_is_searched_at_most_366_dates_ahead(effective_from: date, expected: date | None) -> None:
    # Hours only from `effective_from` on, a Tuesday or a Wednesday.
    w = world(rules=hours("09:00", "12:00", days=(1, 2, 3, 4, 5, 6, 7), effective_from=effective_from))
    answer = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-21"))
    assert answer.view.next_available == expected


async def test_next_available_date_stops_at_the_booking_horizon() -> None:
    # Booking opens 3 days ahead: from Sunday noon, nothing after Wednesday noon can be bookable.
    w = world(policy(early=3 * 24 * 60))
    w.both(time_off=(span("2026-06-15 00:00", "2026-06-17 11:00"),))
    assert (await w.slots.list_dates(TENANT, dates("2026-06-01", "2026-06-14"))).view.next_available == date(2026, 6, 17)
    w.both(time_off=(span("2026-06-15 00:00", "2026-06-18 00:00"),))
    answer = await w.slots.list_dates(TENANT, dates("2026-06-01", "2026-06-14"))
    assert answer.view.next_available is None
    window = w.inputs.reads[-1][2]
    assert isinstance(window, Interval) and window.end < local("2026-06-25 00:00")  # read no further than the horizon


async def test_the_dates_default_to_the_services_zone() -> None:
    w = world(zone=NEW_YORK, staff_zone=VIENNA)
    # Vienna 09:00-12:00 is 03:00-06:00 in New York: the same dates.
    answer = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-15", time_zone=""))
    assert (answer.zone.key, answer.view.dates[0].bookable_slots) == (NEW_YORK, 6)


# --- zones and DST -----------------------------------------------------------------------------


async def test_a_dst_week_keeps_the_wall_clock_hours_and_moves_in_utc() -> None:
    # New York springs forward on Sunday 2026-03-08 at 02:00. Hours 09:00-12:00 every day, and
    # on that Sunday also 01:00-04:00, of which 02:00-03:00 does not exist: two real hours.
    rules = (*hours("09:00", "12:00", days=(1, 2, 3, 4, 5, 6, 7)), WeeklyRule(7, time(1), time(4)))
    w = world(zone=NEW_YORK, staff_zone=NEW_YORK, rules=rules, shape=AppointmentShape(HOUR), now=datetime(2026, 3, 1, tzinfo=UTC))
    page = await w.slots.list_slots(TENANT, query(from_local_date="2026-03-07T00:00:00", to_local_date="2026-03-10T00:00:00", time_zone="", limit=100))
    labels = list(shown(page.slots, NEW_YORK))
    assert labels == [
        *(f"03-07 {h}" for h in ("09:00", "10:00", "11:00")),
        *(f"03-08 {h}" for h in ("01:00", "03:00", "09:00", "10:00", "11:00")),
        *(f"03-09 {h}" for h in ("09:00", "10:00", "11:00")),
    ]
    utc = {label: s.slot.start.strftime("%H:%M") for label, s in zip(labels, page.slots, strict=True)}
    assert (utc["03-07 09:00"], utc["03-08 09:00"], utc["03-08 01:00"], utc["03-08 03:00"]) == ("14:00", "13:00", "06:00", "07:00")
    assert all(s.slot.end - s.slot.start == HOUR for s in page.slots)

    month = await w.slots.list_dates(TENANT, dates("2026-03-07", "2026-03-09", time_zone=""))
    assert [d.bookable_slots for d in month.view.dates] == [3, 5, 3]


async def test_kolkata_staff_asked_in_vienna() -> None:
    # Kolkata is UTC+05:30: Monday 09:00-12:00 there is 05:30-08:30 in Vienna; Tuesday 00:30-01:30
    # there is still Monday 21:00-22:00 in Vienna. A holiday is the staff member's own date.
    rules = (WeeklyRule(1, time(9), time(12)), WeeklyRule(2, time(0, 30), time(1, 30)))
    w = world(staff=(ANNA,), staff_zone=KOLKATA, rules=rules)
    page = await w.slots.list_slots(TENANT, query())
    assert list(shown(page.slots)) == [f"06-15 {t}" for t in ("05:30", "06:00", "06:30", "07:00", "07:30", "08:00", "21:00", "21:30")]

    w.change(ANNA, holidays=frozenset({date(2026, 6, 16)}))
    month = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-16"))
    assert [(d.bookable_slots, d.unavailable_reason) for d in month.view.dates] == [(6, None), (0, UnavailableReason.NO_SERVICE_HOURS)]
    in_kolkata = await w.slots.list_dates(TENANT, dates("2026-06-15", "2026-06-16", time_zone=KOLKATA))
    assert [(d.bookable_slots, d.unavailable_reason) for d in in_kolkata.view.dates] == [(6, None), (0, UnavailableReason.HOLIDAY)]


# --- one slot ----------------------------------------------------------------------------------


async def test_one_slot_by_its_start_and_end_read_fresh() -> None:
    w = world()
    w.change(ANNA, appointments=(span("2026-06-15 09:00", "09:30"),))
    view = await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30"))
    assert (view.slot.slot, view.slot.available_staff_member_ids, view.slot.reasons, view.zone.key) == (
        span("2026-06-15 09:00", "09:30"),
        (BEN,),
        SlotReasons(),
        VIENNA,
    )
    assert ("offering", SERVICE, True) in w.inputs.reads
    anna = await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30", staff_member_ids=(ANNA,), time_zone=KOLKATA))
    assert (anna.slot.bookable, anna.slot.reasons, anna.zone.key) == (False, SlotReasons(booked=True), KOLKATA)


@pytest.mark.parametrize(
    "start, end",
    [
        pytest.param("2026-06-15 09:10", "09:40", id="not-a-start-of-the-grid"),
        pytest.param("2026-06-15 08:30", "09:00", id="before-opening"),
        pytest.param("2026-06-15 12:00", "12:30", id="after-closing"),
        pytest.param("2026-06-13 09:00", "09:30", id="a-day-without-hours"),
        pytest.param("2026-06-15 09:00", "10:00", id="another-length-than-the-services"),
    ],
)
async def test_a_slot_on_nobodys_grid_is_not_found(start: str, end: str) -> None:
    with pytest.raises(NotFound) as exc:
        await world().slots.get_slot(TENANT, lookup(start, end))
    assert exc.value.resource == "time slot"


async def test_a_slot_that_has_started_is_found_too_late() -> None:
    w = world(now=local("2026-06-15 09:15"))
    view = await w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30"))
    assert (view.slot.bookable, view.slot.reasons) == (False, SlotReasons(too_late=True))
    assert "06-15 09:00" not in shown((await w.slots.list_slots(TENANT, query())).slots)  # never offered


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tenant, service_id",
    [
        pytest.param(TENANT, UNKNOWN, id="an-unknown-service"),
        pytest.param(OTHER_TENANT, SERVICE, id="another-tenants-service"),
    ],
)
async def test_a_service_the_tenant_does_not_have_is_not_found(tenant: str, service_id: str) -> None:
    w = world()
    for call in (
        lambda: w.slots.list_slots(tenant, query(service_id=service_id)),
        lambda: w.slots.list_dates(tenant, dates(service_id=service_id)),
        lambda: w.slots.get_slot(tenant, lookup("2026-06-15 09:00", "09:30", service_id=service_id)),
    ):
        with pytest.raises(NotFound) as exc:
            await call()
        assert (exc.value.resource, exc.value.resource_id) == ("service", service_id)


async def test_a_service_that_is_not_an_appointment_is_refused_on_service_id() -> None:
    w = world()
    for call in (
        lambda: w.slots.list_slots(TENANT, query(service_id=YOGA)),
        lambda: w.slots.list_dates(TENANT, dates(service_id=YOGA)),
        lambda: w.slots.get_slot(TENANT, lookup("2026-06-15 09:00", "09:30", service_id=YOGA)),
    ):
        with pytest.raises(InvalidArgument) as exc:
            await call()
        assert [(v.field, v.description) for v in exc.value.violations] == [("service_id", "is a CLASS service, not an APPOINTMENT; use ListEventTimeSlots")]


async def test_an_appointment_service_without_settings_is_not_set_up() -> None:
    w = world()
    w.inputs.offerings[0] = dataclasses.replace(w.inputs.offerings[0], appointment=None)
    with pytest.raises(FailedPrecondition) as exc:
        await w.slots.list_slots(TENANT, query())
    assert exc.value.reason == "APPOINTMENT_NOT_SET_UP"


@pytest.mark.parametrize(
    "fields, named",
    [
        pytest.param({"to_local_date": "2026-07-16T00:00:01"}, {"to_local_date"}, id="a-second-over-31-days"),
        pytest.param({"to_local_date": "2026-06-14T00:00:00"}, {"to_local_date"}, id="reversed"),
        pytest.param({"time_zone": "Mars/Olympus"}, {"time_zone"}, id="an-unknown-zone"),
        pytest.param({"service_id": ""}, {"service_id"}, id="no-service"),
        pytest.param({"limit": 1001, "cursor": "nope"}, {"cursor_paging.limit", "cursor_paging.cursor"}, id="paging"),
    ],
)
async def test_a_bad_listing_is_refused_before_anything_is_read(fields: dict[str, object], named: set[str]) -> None:
    w = world()
    with pytest.raises(InvalidArgument) as exc:
        await w.slots.list_slots(TENANT, query(**fields))
    assert {v.field for v in exc.value.violations} == named
    assert w.inputs.reads == []
