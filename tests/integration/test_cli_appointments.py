"""The appointment commands of the `bookings` CLI against the real platform, in-process through
`services.cli.main.main`: `staff`, `hours`, `time-off`, `extra-hours`, `holidays`, `availability
slots|dates` and `book appointment`, each once as a table and once with `--json`, and the failures a
person meets (a slot just taken, an unknown staff member, a time in a DST gap).

Everything is set up with the CLI itself, in the test's own tenant; availability reads the real
clock, so the scenarios are placed on days ahead, at Vienna wall times away from any DST change.
What the CLI decides before it calls anything is in tests/unit/cli/."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.devstack.stack import Platform
from tests.integration.cli_support import Cli, eventually, platform_env, runner

pytestmark = pytest.mark.integration

VIENNA = ZoneInfo("Europe/Vienna")
UNKNOWN_ID = "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"  # a well-formed id nothing has
EVERY_DAY = "mon-sun 09:00-17:00"
CONTACT = ("--name", "Ada Lovelace", "--email", "ada@example.com")


@pytest.fixture
def cli(platform: Platform, tenant: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return runner(platform_env(platform, tenant), capsys)


def day(n: int) -> date:
    """The local date in Vienna n days from now."""
    return datetime.now(VIENNA).date() + timedelta(days=n)


def utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


def vienna(on: date, hh_mm: str) -> datetime:
    """The UTC instant of a Vienna wall time."""
    return datetime.combine(on, datetime.strptime(hh_mm, "%H:%M").time(), VIENNA).astimezone(UTC)


def abbreviation(on: date, hh_mm: str) -> str:
    """CET or CEST: the zone's name that day (the tests run in any season)."""
    return vienna(on, hh_mm).astimezone(VIENNA).tzname() or ""


def printed(label: str, output: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1)


def rows(output: str, *needles: str) -> list[str]:
    """The table rows (not the header) holding every needle."""
    return [line for line in output.splitlines() if "│" in line and all(n in line for n in needles)]


def consultation(cli: Cli, *flags: str) -> dict[str, Any]:
    argv = ("services", "create", "--type", "appointment", "--name", "Consultation", "--time-zone", "Europe/Vienna", "--duration", "30", *flags, "--json")
    return cli(*argv).json()["service"]  # type: ignore[no-any-return]


def hire(cli: Cli, name: str, service_id: str, rule: str | None = EVERY_DAY) -> dict[str, Any]:
    """A staff member offering the service, working `rule` (None: no weekly hours)."""
    member = cli("staff", "create", name, "--time-zone", "Europe/Vienna", "--services", service_id, "--json").json()["staff_member"]
    if rule is not None:
        cli("hours", "set", "--staff", member["id"], "--rule", rule).ok()
    return member  # type: ignore[no-any-return]


# --- staff ---------------------------------------------------------------------------------------------------


def test_staff_are_created_listed_changed_and_deleted(cli: Cli) -> None:
    service = consultation(cli)

    created = cli("staff", "create", "Dr. Ana Berger", "--email", "ana@clinic.example", "--time-zone", "Europe/Vienna", "--services", service["id"]).ok()
    assert created.out.splitlines()[0] == "Created staff member 'Dr. Ana Berger'"
    ana_id, schedule_id = printed("staff member id", created.out), printed("schedule id", created.out)
    assert f'Next: bookings hours set --staff {ana_id} --rule "mon-fri 09:00-17:00"' in created.out
    ben = cli("staff", "create", "Dr. Ben Okafor", "--time-zone", "Europe/Vienna", "--json").json()["staff_member"]

    shown = cli("staff", "get", ana_id, "--json").json()["staff_member"]
    assert (shown["name"], shown["email"], shown["time_zone"], shown["schedule_id"], shown["service_ids"], shown["revision"]) == (
        "Dr. Ana Berger",
        "ana@clinic.example",
        "Europe/Vienna",
        schedule_id,
        [service["id"]],
        "1",
    )
    assert "ana@clinic.example" in cli("staff", "get", ana_id).ok().out
    listed = cli("staff", "list").ok().out
    assert "Staff members (2)" in listed and rows(listed, ana_id, "Dr. Ana Berger", service["id"]) and rows(listed, ben["id"], "Dr. Ben Okafor")
    assert [m["id"] for m in cli("staff", "list", "--service", service["id"], "--json").json()["staff_members"]] == [ana_id]
    assert [m["id"] for m in cli("staff", "list", "--all", "--json").json()["staff_members"]] == [ana_id, ben["id"]]

    renamed = cli("staff", "update", ana_id, "--revision", "1", "--name", "Dr. Ana Berger-Huber").ok().out
    assert renamed.splitlines()[0] == "Updated staff member 'Dr. Ana Berger-Huber'"
    # Only --services is in the mask: the name stays, and `--services` without ids offers nothing.
    cleared = cli("staff", "update", ana_id, "--revision", "2", "--services", "--json").json()["staff_member"]
    assert (cleared["name"], cleared["service_ids"], cleared["revision"]) == ("Dr. Ana Berger-Huber", [], "3")

    assert cli("staff", "delete", ana_id).ok().out.strip() == f"Deleted staff member {ana_id}"
    assert cli("staff", "delete", ben["id"], "--revision", "1", "--json").json() == {}
    gone = cli("staff", "get", ana_id)
    assert gone.code == 1 and gone.err.splitlines()[0].startswith("error: NOT_FOUND: ") and "(GetStaffMember on bookings at " in gone.err


# --- weekly hours --------------------------------------------------------------------------------------------


def test_weekly_hours_are_set_from_rules_and_listed_in_a_table(cli: Cli) -> None:
    ana = hire(cli, "Dr. Ana Berger", consultation(cli)["id"], rule=None)

    set_ = cli("hours", "set", "--staff", ana["id"], "--rule", "mon-fri 08:00-12:00,13:00-16:00", "--rule", "sat 10:00-14:00", "--to", "2027-06-30").ok()
    assert set_.out.splitlines()[0] == f"Set the weekly hours of Dr. Ana Berger (staff member {ana['id']}): 11 rules"
    assert "local wall-clock times in Europe/Vienna" in set_.out
    assert len(rows(set_.out, "Monday", "until 2027-06-30")) == 2 and rows(set_.out, "Saturday", "10:00–14:00")

    # --add keeps the current rules; the new ones take over on Saturdays from July.
    added = cli("hours", "set", "--staff", ana["id"], "--add", "--rule", "sat 09:00-13:00", "--from", "2027-07-01", "--json").json()["rules"]
    assert len(added) == 12
    assert [r for r in added if r["day_of_week"] == 6] == [
        {"day_of_week": 6, "start_time": "09:00", "end_time": "13:00", "effective_from": "2027-07-01", "effective_to": ""},
        {"day_of_week": 6, "start_time": "10:00", "end_time": "14:00", "effective_from": "", "effective_to": "2027-06-30"},
    ]

    listed = cli("hours", "list", "--schedule", ana["schedule_id"]).ok().out
    assert listed.splitlines()[0] == f"Weekly hours of schedule {ana['schedule_id']}: 12 rules"
    assert rows(listed, "Saturday", "09:00–13:00", "from 2027-07-01")
    assert cli("hours", "list", "--staff", ana["id"], "--json").json()["rules"] == added

    overlap = cli("hours", "set", "--staff", ana["id"], "--add", "--rule", "mon 11:00-14:00")
    assert overlap.code == 1
    assert overlap.err.startswith("error: --rule 'mon 11:00-14:00' (Monday 11:00-14:00): overlaps the current rule Monday 08:00-12:00 (until 2027-06-30)")
    assert cli("hours", "set", "--staff", ana["id"], "--clear", "--json").json() == {"rules": []}


def test_an_unknown_staff_member_is_not_found_in_one_line(cli: Cli, platform: Platform) -> None:
    result = cli("hours", "list", "--staff", UNKNOWN_ID)

    assert result.code == 1
    assert result.err.splitlines() == [
        f"error: NOT_FOUND: staff member '{UNKNOWN_ID}' not found (GetStaffMember on bookings at {platform.address('bookings')})"
    ]


# --- time off, extra hours, holidays -------------------------------------------------------------------------


def test_time_off_extra_hours_and_holidays_are_local_times_of_the_staff_member(cli: Cli) -> None:
    ana = hire(cli, "Dr. Ana Berger", consultation(cli)["id"])
    first, second, third = day(20), day(21), day(22)

    off = cli("time-off", "create", "--staff", ana["id"], "--start", f"{first}T09:00", "--end", f"{first}T13:00", "--reason", "Dentist").ok()
    assert off.out.splitlines()[0] == "Created time off"
    off_id = printed("time off id", off.out)
    assert f"Undo: bookings time-off delete {off_id} --staff {ana['id']}" in off.out
    extra = cli("extra-hours", "create", "--staff", ana["id"], "--start", f"{third}T18:00", "--end", f"{third}T20:00", "--json").json()["extra_hours"]
    assert (utc(extra["start"]), utc(extra["end"])) == (vienna(third, "18:00"), vienna(third, "20:00"))
    holiday = cli("holidays", "create", "--schedule", ana["schedule_id"], "--date", second.isoformat(), "--reason", "Clinic closed").ok()
    holiday_id = printed("holiday id", holiday.out)
    assert f"{second:%a %Y-%m-%d}" in holiday.out

    listed = cli("time-off", "list", "--staff", ana["id"], "--from", first.isoformat(), "--to", third.isoformat()).ok().out
    assert listed.splitlines()[0] == f"Time off, extra hours and holidays of Dr. Ana Berger (staff member {ana['id']}): 3"
    kinds = [line.split("│")[1].strip() for line in rows(listed)]  # in time order
    assert kinds == ["time off", "holiday", "extra hours"]
    assert rows(listed, off_id, f"{first:%a %Y-%m-%d} 09:00–13:00", "Dentist") and rows(listed, holiday_id, "(all day)", "Clinic closed")
    found = cli("time-off", "list", "--staff", ana["id"], "--from", first.isoformat(), "--json").json()  # the default window: 90 days
    assert [t["id"] for t in found["time_off"]] == [off_id]
    assert (utc(found["time_off"][0]["start"]), found["holidays"][0]["local_date"]) == (vienna(first, "09:00"), second.isoformat())

    assert cli("time-off", "delete", off_id, "--staff", ana["id"]).ok().out.strip() == f"Deleted time off {off_id}"
    assert cli("extra-hours", "delete", extra["id"], "--schedule", ana["schedule_id"], "--json").json() == {}
    assert cli("holidays", "delete", holiday_id, "--staff", ana["id"]).ok().out.strip() == f"Deleted holiday {holiday_id}"
    assert cli("time-off", "list", "--staff", ana["id"], "--from", first.isoformat(), "--json").json() == {"time_off": [], "extra_hours": [], "holidays": []}


def test_a_time_in_the_spring_gap_is_refused_naming_the_option(cli: Cli) -> None:
    ana = hire(cli, "Dr. Ana Berger", consultation(cli)["id"], rule=None)

    result = cli("time-off", "create", "--staff", ana["id"], "--start", "2027-03-28T02:30", "--end", "2027-03-28T05:00")

    assert result.code == 1
    assert result.err.splitlines() == ["error: --start: 2027-03-28T02:30 does not exist in Europe/Vienna (the clocks jump forward then); choose another time"]
    assert cli("time-off", "list", "--staff", ana["id"], "--from", "2027-03-27", "--to", "2027-03-29", "--json").json()["time_off"] == []


# --- availability ----------------------------------------------------------------------------------------


def test_slots_show_local_times_and_the_free_staff_by_name(cli: Cli) -> None:
    service = consultation(cli, "--slot-interval", "60")
    ana = hire(cli, "Dr. Ana Berger", service["id"])
    ben = hire(cli, "Dr. Ben Okafor", service["id"], rule="mon-sun 09:00-12:00")
    on = day(3)

    text = cli("availability", "slots", "--service", service["id"], "--from", on.isoformat(), "--to", on.isoformat()).ok().out
    assert f"Consultation · appointment {service['id']}" in text and "times in Europe/Vienna" in text
    assert len(rows(text, f"{on:%a %Y-%m-%d}")) == 8  # 09:00 .. 16:00, an hour apart
    assert rows(text, f"{on:%a %Y-%m-%d} 09:00–09:30", "yes", "Dr. Ana Berger, Dr. Ben Okafor")
    assert rows(text, f"{on:%a %Y-%m-%d} 13:00–13:30", "yes", "Dr. Ana Berger") and not rows(text, "13:00–13:30", "Okafor")
    assert f"Book: bookings book appointment --service {service['id']} --start {on}T09:00" in text

    only_ben = cli("availability", "slots", "--service", service["id"], "--from", f"{on}T10:00", "--to", f"{on}T12:00", "--staff", ben["id"], "--json").json()
    assert [(s["local_start_date"], s["available_staff_member_ids"]) for s in only_ben["time_slots"]] == [
        (f"{on}T10:00:00", [ben["id"]]),
        (f"{on}T11:00:00", [ben["id"]]),
    ]
    assert only_ben["time_zone"] == "Europe/Vienna" and utc(only_ben["time_slots"][0]["start_date"]) == vienna(on, "10:00")

    # A holiday of Ana: the slots Ben does not work are not bookable, with why (--all), and hidden
    # without it; shown once availability has seen timeframes announce it (its cache of working hours).
    cli("holidays", "create", "--staff", ana["id"], "--date", on.isoformat()).ok()
    argv = ("availability", "slots", "--service", service["id"], "--from", on.isoformat(), "--to", on.isoformat(), "--all")
    every = eventually(cli, lambda result: bool(rows(result.ok().out, "13:00–13:30", "no", "holiday")), *argv, what="Ana's holiday shown").out
    assert rows(every, "09:00–09:30", "yes", "Dr. Ben Okafor")
    bookable = cli("availability", "slots", "--service", service["id"], "--from", on.isoformat(), "--to", on.isoformat(), "--json").json()["time_slots"]
    assert [s["local_start_date"][11:16] for s in bookable] == ["09:00", "10:00", "11:00"]


def test_dates_count_the_bookable_slots_or_say_why_none(cli: Cli) -> None:
    service = consultation(cli)
    ana = hire(cli, "Dr. Ana Berger", service["id"], rule="mon-sun 09:00-11:00")
    first = day(5)
    cli("holidays", "create", "--staff", ana["id"], "--date", first.isoformat()).ok()

    text = cli("availability", "dates", "--service", service["id"], "--from", first.isoformat(), "--to", (first + timedelta(days=2)).isoformat()).ok().out
    assert rows(text, f"{first:%a %Y-%m-%d}", "0", "holiday")
    assert rows(text, f"{first + timedelta(days=1):%a %Y-%m-%d}", "4")
    assert f"Next available date: {first + timedelta(days=1):%a %Y-%m-%d}" in text

    answer = cli("availability", "dates", "--service", service["id"], "--from", first.isoformat(), "--to", first.isoformat(), "--json").json()
    assert answer["dates"] == [{"local_date": first.isoformat(), "bookable_slots": 0, "unavailable_reason": "HOLIDAY"}]
    assert answer["next_available_date"] == (first + timedelta(days=1)).isoformat()


# --- booking an appointment ------------------------------------------------------------------------------


def test_an_appointment_is_booked_with_its_staff_member_and_the_slot_is_then_taken(cli: Cli, platform: Platform) -> None:
    service = consultation(cli, "--buffer-after", "10")
    ana = hire(cli, "Dr. Ana Berger", service["id"])
    on = day(4)

    booked = cli("book", "appointment", "--service", service["id"], "--start", f"{on}T10:00", "--staff", ana["id"], *CONTACT).ok()
    cet = abbreviation(on, "10:00")
    assert booked.out.splitlines()[0] == f"Booked appointment: {on:%a %Y-%m-%d} 10:00–10:30 {cet} with Dr. Ana Berger, CONFIRMED"
    booking_id = printed("booking id", booked.out)
    assert f"Dr. Ana Berger ({ana['id']})" in booked.out

    shown = cli("bookings", "get", booking_id).ok().out  # in the service's zone, with the staff member's name
    assert f"{on:%a %Y-%m-%d} 10:00–10:30 {cet}" in shown and "Dr. Ana Berger" in shown
    assert [b["id"] for b in cli("bookings", "list", "--staff", ana["id"], "--json").json()["bookings"]] == [booking_id]

    # The slot is gone, and so is the next one: its start is inside the 10-minute buffer after.
    taken = cli("book", "appointment", "--service", service["id"], "--start", f"{on}T10:00", *CONTACT)
    assert taken.code == 1
    assert taken.err.splitlines() == [
        "error: ALREADY_EXISTS SLOT_UNAVAILABLE: the slot is not available: no staff member is free for it "
        f"(CreateBooking on bookings at {platform.address('bookings')})"
    ]
    round_robin = cli("book", "appointment", "--service", service["id"], "--start", f"{on}T11:00", *CONTACT, "--json").json()["booking"]
    slot = round_robin["booked_entity"]["slot"]
    assert (slot["staff_member_id"], utc(slot["start_date"]), utc(slot["end_date"])) == (ana["id"], vienna(on, "11:00"), vienna(on, "11:30"))
    assert round_robin["status"] == "CONFIRMED"


def test_booking_an_unknown_staff_member_names_the_field(cli: Cli) -> None:
    service = consultation(cli)
    hire(cli, "Dr. Ana Berger", service["id"])

    result = cli("book", "appointment", "--service", service["id"], "--start", f"{day(4)}T10:00", "--staff", UNKNOWN_ID, *CONTACT)

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("error: INVALID_ARGUMENT: ") and "(CreateBooking on bookings at " in lines[0]
    assert any(line.startswith("  booking.booked_entity.slot.staff_member_id: ") for line in lines[1:])
    assert cli("bookings", "list", "--json").json()["bookings"] == []


def test_book_appointment_refuses_a_time_in_the_spring_gap_and_a_class(cli: Cli) -> None:
    service = consultation(cli)

    gap = cli("book", "appointment", "--service", service["id"], "--start", "2027-03-28T02:00", *CONTACT)
    assert gap.code == 1 and gap.err.startswith("error: --start: 2027-03-28T02:00 does not exist in Europe/Vienna")

    yoga = cli("services", "create", "--type", "class", "--name", "Yoga", "--capacity", "5", "--time-zone", "Europe/Vienna", "--json").json()["service"]
    wrong = cli("book", "appointment", "--service", yoga["id"], "--start", f"{day(4)}T10:00", *CONTACT)
    assert wrong.code == 1
    assert wrong.err.strip() == f"error: --service: {yoga['id']} is a CLASS service; `book appointment` books APPOINTMENT services"
