"""The `bookings` CLI against the real platform, in-process through `services.cli.main.main`.

Every test works in its own tenant (the CLI mints a dev token for BOOKINGS_TENANT from the
platform's AUTH_JWT_SECRET) and checks what the CLI prints and what the services then hold: ids
printed for the next step, local times across DST, the instants the services stored, field masks
seen through which fields changed, tenants seen through which data is visible, and one-line errors
(exit code 1) with the method, service and address. Input errors the CLI catches before calling
anything are in tests/unit/cli/test_arguments.py.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.cli import timeseries
from services.devstack.stack import Platform
from tests.integration.cli_support import Cli, platform_env, runner
from tests.support import token

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VIENNA = timeseries.zone("Europe/Vienna")
UNKNOWN_ID = "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b"  # a well-formed id nothing has


@pytest.fixture
def cli_env(platform: Platform, tenant: str) -> dict[str, str]:
    return platform_env(platform, tenant, availability=False)


@pytest.fixture
def cli(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    return runner(cli_env, capsys)


def printed_id(label: str, output: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1)


def utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


def create_course(cli: Cli, *extra: str, name: str = "Pottery") -> dict[str, Any]:
    result = cli("services", "create", "--type", "course", "--name", name, "--capacity", "12", "--time-zone", "Europe/Vienna", *extra, "--json")
    return result.json()["service"]  # type: ignore[no-any-return]


def create_event(cli: Cli, schedule_id: str, start: str, minutes: int) -> dict[str, Any]:
    result = cli("events", "create", "--schedule", schedule_id, "--start", start, "--duration", str(minutes), "--json")
    return result.json()["event"]  # type: ignore[no-any-return]


def stored_service(cli: Cli, service_id: str) -> dict[str, Any]:
    return cli("services", "get", service_id, "--json").json()["service"]  # type: ignore[no-any-return]


def listed_events(cli: Cli, *argv: str) -> list[dict[str, Any]]:
    return cli("events", "list", *argv, "--all", "--json").json()["events"]  # type: ignore[no-any-return]


def service_ids_of(cli: Cli, tenant: str) -> set[str]:
    """Ids of the services `tenant` sees, asked with a token minted for it by the test."""
    return {s["id"] for s in cli("services", "list", "--all", "--json", "--token", token(tenant)).json()["services"]}


# --- the newcomer's path ---------------------------------------------------------------------------------


def test_newcomer_creates_a_course_with_10_weekly_sessions_and_sees_its_time_frame(cli: Cli) -> None:
    created = cli(
        "services",
        "create",
        "--type",
        "course",
        "--name",
        "Pottery basics",
        "--capacity",
        "12",
        "--time-zone",
        "Europe/Vienna",
        "--late-minutes",
        "60",
        "--book-after-start",
    )
    assert created.code == 0, created.err
    service_id = printed_id("service id", created.out)
    schedule_id = printed_id("schedule id", created.out)
    assert f"bookings events bulk-create --schedule {schedule_id}" in created.out

    first_day = datetime.now(UTC).astimezone(VIENNA).date() + timedelta(days=7)
    start = datetime.combine(first_day, time(10, 0))
    bulk = cli(
        "events", "bulk-create", "--schedule", schedule_id, "--start", start.isoformat(timespec="minutes"), "--duration", "60", "--count", "10", "--every", "7d"
    )
    assert bulk.code == 0, bulk.err
    assert "(10)" in bulk.out
    assert f"bookings timeframes {schedule_id}" in bulk.out

    frames = cli("timeframes", schedule_id)
    assert frames.code == 0, frames.err
    last_day = first_day + timedelta(weeks=9)
    row = next(line for line in frames.out.splitlines() if schedule_id in line)
    assert f"{first_day.isoformat()} 10:00" in row
    assert f"{last_day.isoformat()} 11:00" in row
    assert re.search(r"\b10\b", row.replace(schedule_id, "")) and "Europe/Vienna" in row

    (frame,) = cli("timeframes", schedule_id, "--json").json()["time_frames"]
    assert (frame["schedule_id"], frame["event_count"]) == (schedule_id, 10)
    assert utc(frame["first_event_start_date"]) == timeseries.resolve(start, VIENNA)

    events = listed_events(cli, "--schedule", schedule_id)
    assert len(events) == 10
    assert {utc(e["start"]).astimezone(VIENNA).strftime("%a %H:%M") for e in events} == {start.strftime("%a 10:00")}

    service = stored_service(cli, service_id)
    assert (service["id"], service["schedule_id"], service["type"]) == (service_id, schedule_id, "COURSE")
    policies = cli("services", "policies", service_id, "--json").json()["booking_policies"]
    assert policies[0]["booking_policy"]["limit_late_booking"] == {"enabled": True, "latest_booking_in_minutes": 60}


def test_a_weekly_series_across_the_autumn_change_stays_at_18_00_local(cli: Cli) -> None:
    schedule_id = create_course(cli)["schedule_id"]

    bulk = cli("events", "bulk-create", "--schedule", schedule_id, "--start", "2026-10-11T18:00", "--duration", "90", "--count", "10", "--every", "7d")
    assert bulk.code == 0, bulk.err
    assert "Sun 2026-10-11 18:00 CEST" in bulk.out and "Sun 2026-12-13 18:00 CET" in bulk.out

    frames = cli("timeframes", schedule_id)
    assert frames.code == 0, frames.err
    row = next(line for line in frames.out.splitlines() if schedule_id in line)
    assert "Sun 2026-10-11 18:00 CEST" in row and "Sun 2026-12-13 19:30 CET" in row
    assert " 10 " in row and "Europe/Vienna" in row

    (frame,) = cli("timeframes", schedule_id, "--json").json()["time_frames"]
    assert frame["event_count"] == 10
    assert utc(frame["first_event_start_date"]) == datetime(2026, 10, 11, 16, 0, tzinfo=UTC)
    assert utc(frame["last_event_end_date"]) == datetime(2026, 12, 13, 18, 30, tzinfo=UTC)


def test_bulk_create_stores_the_utc_instants_of_the_local_series_in_the_schedule_zone(cli: Cli) -> None:
    schedule_id = create_course(cli)["schedule_id"]

    result = cli(
        "events",
        "bulk-create",
        "--schedule",
        schedule_id,
        "--start",
        "2026-10-18T10:00",
        "--duration",
        "60",
        "--count",
        "3",
        "--capacity",
        "8",
        "--title",
        "Wheel",
        "--json",
    )

    created = result.json()["events"]
    assert [utc(e["start"]).hour for e in created] == [8, 9, 9]  # 10:00 CEST, then 10:00 CET
    assert [utc(e["end"]) - utc(e["start"]) for e in created] == [timedelta(minutes=60)] * 3
    assert all(e["time_zone"] == "Europe/Vienna" and e["total_capacity"] == 8 and e["title"] == "Wheel" for e in created)
    assert [e["id"] for e in listed_events(cli, "--schedule", schedule_id)] == [e["id"] for e in created]


def test_bulk_create_with_time_zone_places_the_series_in_that_zone_not_the_schedules(cli: Cli) -> None:
    schedule_id = create_course(cli)["schedule_id"]  # a Europe/Vienna schedule

    result = cli(
        "events",
        "bulk-create",
        "--schedule",
        schedule_id,
        "--time-zone",
        "America/New_York",
        "--start",
        "2026-12-01T10:00",
        "--duration",
        "60",
        "--count",
        "2",
        "--every",
        "1d",
        "--json",
    )

    created = result.json()["events"]
    assert [utc(e["start"]) for e in created] == [datetime(2026, 12, 1, 15, 0, tzinfo=UTC), datetime(2026, 12, 2, 15, 0, tzinfo=UTC)]
    assert {e["time_zone"] for e in created} == {"America/New_York"}


def test_bulk_create_notes_a_session_moved_out_of_the_spring_gap(cli: Cli) -> None:
    schedule_id = create_course(cli)["schedule_id"]

    result = cli(
        "events", "bulk-create", "--schedule", schedule_id, "--time-zone", "Europe/Vienna", "--start", "2026-03-22T02:30", "--duration", "60", "--count", "2"
    )

    assert result.code == 0, result.err
    assert "note: 2026-03-29 02:30 does not exist in Europe/Vienna" in result.out
    assert "03:30 CEST" in result.out
    events = listed_events(cli, "--schedule", schedule_id)
    assert [utc(e["start"]) for e in events] == [datetime(2026, 3, 22, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
    assert {e["time_zone"] for e in events} == {"Europe/Vienna"}


@pytest.mark.parametrize(
    ("argv", "method"),
    [
        pytest.param(["events", "create"], "GetSchedule", id="create without --time-zone asks the schedule first"),
        pytest.param(["events", "create", "--time-zone", "Europe/Vienna"], "CreateEvent", id="create with --time-zone does not"),
        pytest.param(["events", "bulk-create", "--count", "2"], "GetSchedule", id="bulk-create without --time-zone asks the schedule first"),
        pytest.param(["events", "bulk-create", "--count", "2", "--time-zone", "Europe/Vienna"], "BulkCreateEvents", id="bulk-create with --time-zone does not"),
    ],
)
def test_the_zone_of_start_is_read_from_the_schedule_only_without_time_zone(cli: Cli, cli_env: dict[str, str], argv: list[str], method: str) -> None:
    result = cli(*argv, "--schedule", UNKNOWN_ID, "--start", "2026-12-01T10:00", "--duration", "60")

    assert result.code == 1
    assert result.err.splitlines()[0] == (f"error: NOT_FOUND: schedule '{UNKNOWN_ID}' not found ({method} on timeframes at {cli_env['TIMEFRAMES_ADDRESS']})")


# --- errors --------------------------------------------------------------------------------------------------


def test_a_bad_time_zone_names_the_field_and_exits_1(cli: Cli) -> None:
    result = cli("services", "create", "--type", "class", "--name", "Yoga", "--capacity", "10", "--time-zone", "Mars/Olympus")

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("error: INVALID_ARGUMENT: 1 invalid field(s) (CreateService on bookings at ")
    assert "  service.time_zone: 'Mars/Olympus' is not an IANA time zone" in lines
    assert "Traceback" not in result.err and result.out == ""


@pytest.mark.parametrize(
    ("argv", "first_line", "details"),
    [
        pytest.param(
            ["services", "get", UNKNOWN_ID],
            f"error: NOT_FOUND: service '{UNKNOWN_ID}' not found (GetService on bookings at ",
            [],
            id="unknown service: NOT_FOUND with method, service and address",
        ),
        pytest.param(
            ["services", "get", "no-such-id"],
            "error: INVALID_ARGUMENT: 1 invalid field(s) (GetService on bookings at ",
            ["  service_id: must be a UUID"],
            id="malformed id: the field and why",
        ),
        pytest.param(
            ["events", "get", UNKNOWN_ID],
            f"error: NOT_FOUND: event '{UNKNOWN_ID}' not found (GetEvent on timeframes at ",
            [],
            id="unknown event: the timeframes service is named",
        ),
        pytest.param(
            ["services", "list", "--token", "not-a-jwt"],
            "error: UNAUTHENTICATED: ",
            ["  hint: the token was refused; get a fresh one with `bookings token`"],
            id="refused token: how to get a fresh one",
        ),
    ],
)
def test_a_failed_call_is_one_line_then_its_details(cli: Cli, argv: list[str], first_line: str, details: list[str]) -> None:
    result = cli(*argv)

    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith(first_line), result.err
    for detail in details:
        assert any(line.startswith(detail) for line in lines[1:]), result.err
    assert "Traceback" not in result.err


def test_a_stale_revision_is_aborted_with_the_reason_and_a_hint(cli: Cli) -> None:
    course = create_course(cli)

    stale = cli("services", "update", course["id"], "--revision", "7", "--name", "Renamed")

    assert stale.code == 1
    assert stale.err.startswith("error: ABORTED: ")
    assert "  reason: REVISION_MISMATCH" in stale.err.splitlines()
    assert "retry with the current --revision" in stale.err
    assert stored_service(cli, course["id"])["name"] == "Pottery"


def test_unreachable_service_says_where_it_looked(cli: Cli, cli_env: dict[str, str]) -> None:
    result = cli("services", "list", "--timeout", "2", env={**cli_env, "BOOKINGS_ADDRESS": "127.0.0.1:1"})

    assert result.code == 1
    assert result.err.startswith("error: UNAVAILABLE: ")
    assert "is the bookings service running at 127.0.0.1:1?" in result.err


# --- tokens ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        pytest.param("flag", "flagged", id="--tenant"),
        pytest.param("env", "env", id="BOOKINGS_TENANT"),
        pytest.param("flag and env", "flagged", id="--tenant wins over BOOKINGS_TENANT"),
        pytest.param("neither", "demo", id="neither: tenant demo"),
    ],
)
def test_without_a_token_a_dev_token_is_minted_for_the_tenant(cli: Cli, cli_env: dict[str, str], how: str, expected: str) -> None:
    tenants = {"flagged": f"tenant-{uuid.uuid4()}", "env": f"tenant-{uuid.uuid4()}", "demo": "demo"}
    env = {k: v for k, v in cli_env.items() if k != "BOOKINGS_TENANT"}
    if "env" in how:
        env["BOOKINGS_TENANT"] = tenants["env"]
    flag = ["--tenant", tenants["flagged"]] if "flag" in how else []
    name = f"Tenant probe {uuid.uuid4()}"

    service_id = cli("services", "create", "--type", "appointment", "--name", name, "--time-zone", "UTC", *flag, "--json", env=env).json()["service"]["id"]
    try:
        assert {t: service_id in service_ids_of(cli, tenants[t]) for t in tenants} == {t: t == expected for t in tenants}
        listed = cli("services", "list", "--all", "--json", *flag, env=env).json()["services"]
        assert service_id in {s["id"] for s in listed}
    finally:
        if expected == "demo":  # the shared default tenant: leave it as it was
            assert cli("services", "delete", service_id, "--tenant", "demo").code == 0


def test_an_explicit_token_wins_and_its_scopes_apply(cli: Cli, cli_env: dict[str, str], tenant: str) -> None:
    owner = f"tenant-{uuid.uuid4()}"
    service_id = cli("services", "create", "--type", "appointment", "--name", "Consultation", "--time-zone", "UTC", "--tenant", owner, "--json").json()[
        "service"
    ]["id"]
    read_only = cli("token", "--tenant", owner, "--scopes", "catalog:read").out.strip()

    by_flag = cli("services", "list", "--json", "--token", read_only).json()["services"]
    by_env = cli("services", "list", "--json", env={**cli_env, "BOOKINGS_TOKEN": read_only}).json()["services"]
    assert [s["id"] for s in by_flag] == [s["id"] for s in by_env] == [service_id]  # the owner's, not BOOKINGS_TENANT's
    assert service_id not in service_ids_of(cli, tenant)

    write = cli("services", "create", "--type", "appointment", "--name", "Nope", "--time-zone", "UTC", "--token", read_only)
    assert write.code == 1
    assert write.err.startswith("error: PERMISSION_DENIED: ")
    assert "the token lacks the scope this call needs" in write.err


# --- services ----------------------------------------------------------------------------------------------------


def test_create_stores_the_policy_flags(cli: Cli) -> None:
    course = create_course(
        cli,
        "--early-minutes",
        "10080",
        "--late-minutes",
        "60",
        "--book-after-start",
        "--max-per-booking",
        "2",
        "--cancel-minutes",
        "1440",
        "--manual-approval",
        "--no-online-booking",
        "--strict-capacity",
    )

    stored = stored_service(cli, course["id"])
    assert stored["booking_policy"] == {
        "limit_early_booking": {"enabled": True, "earliest_booking_in_minutes": 10080},
        "limit_late_booking": {"enabled": True, "latest_booking_in_minutes": 60},
        "book_after_start_policy": {"enabled": True},
        "participants_policy": {"max_participants_per_booking": 2},
        "cancellation_policy": {"enabled": True, "latest_cancellation_in_minutes": 1440},
    }
    assert (stored["requires_manual_approval"], stored["online_booking_enabled"], stored["strict_capacity"]) == (True, False, True)
    assert (stored["type"], stored["default_capacity"], stored["time_zone"]) == ("COURSE", 12, "Europe/Vienna")


def test_create_without_policy_flags_is_bookable_online_with_every_limit_off(cli: Cli) -> None:
    course = create_course(cli)

    stored = stored_service(cli, course["id"])
    assert (stored["online_booking_enabled"], stored["requires_manual_approval"], stored["strict_capacity"]) == (True, False, False)
    policy = stored["booking_policy"]
    assert not any(policy[p]["enabled"] for p in ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "cancellation_policy"))
    assert policy["participants_policy"]["max_participants_per_booking"] == 1

    shown = cli("services", "get", course["id"])
    assert "off (any time)" in shown.out and "off (until start)" in shown.out


@pytest.mark.parametrize(
    ("flags", "changes"),
    [
        pytest.param(["--name", "Clay"], {"name": "Clay"}, id="name"),
        pytest.param(["--capacity", "20", "--time-zone", "Europe/Berlin"], {"default_capacity": 20, "time_zone": "Europe/Berlin"}, id="capacity and zone"),
        pytest.param(["--no-online-booking"], {"online_booking_enabled": False}, id="online booking off is a change, not an omission"),
        pytest.param(["--manual-approval"], {"requires_manual_approval": True}, id="manual approval"),
        pytest.param(["--strict-capacity"], {"strict_capacity": True}, id="strict capacity"),
        pytest.param(
            ["--late-minutes", "30"],
            {"booking_policy.limit_late_booking": {"enabled": True, "latest_booking_in_minutes": 30}},
            id="one policy flag changes only that policy",
        ),
        pytest.param(
            ["--name", "Clay", "--early-minutes", "off"],
            {"name": "Clay", "booking_policy.limit_early_booking": {"enabled": False, "earliest_booking_in_minutes": 0}},
            id="mixed, off removes a limit",
        ),
    ],
)
def test_update_changes_exactly_the_fields_given(cli: Cli, flags: list[str], changes: dict[str, Any]) -> None:
    course = create_course(cli, "--early-minutes", "600", "--cancel-minutes", "1440")

    result = cli("services", "update", course["id"], "--revision", "1", *flags)

    assert result.code == 0, result.err
    assert "Updated COURSE service" in result.out
    expected = copy.deepcopy(course)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = expected
        for key in parents:
            target = target[key]
        target[leaf] = value
    stored = stored_service(cli, course["id"])
    assert stored["revision"] == "2"
    ignored = ("revision", "updated_date")
    assert {k: v for k, v in stored.items() if k not in ignored} == {k: v for k, v in expected.items() if k not in ignored}


def test_update_of_one_policy_keeps_the_others(cli: Cli) -> None:
    course = create_course(cli, "--early-minutes", "600", "--cancel-minutes", "1440", "--book-after-start")

    assert cli("services", "update", course["id"], "--revision", "1", "--late-minutes", "30", "--early-minutes", "off").code == 0

    policy = stored_service(cli, course["id"])["booking_policy"]
    assert not policy["limit_early_booking"]["enabled"]
    assert policy["limit_late_booking"] == {"enabled": True, "latest_booking_in_minutes": 30}
    assert policy["cancellation_policy"] == {"enabled": True, "latest_cancellation_in_minutes": 1440}
    assert policy["book_after_start_policy"]["enabled"]


def test_list_pages_with_the_printed_cursor_and_all_follows_cursors(cli: Cli) -> None:
    for i in range(3):
        create_course(cli, name=f"Course {i}")
    assert cli("services", "create", "--type", "appointment", "--name", "Consultation", "--time-zone", "UTC").code == 0

    page = cli("services", "list", "--type", "course", "--limit", "2")
    assert page.code == 0, page.err
    assert "Course 0" in page.out and "Course 1" in page.out and "Course 2" not in page.out
    match = re.search(r"More: --cursor (\S+)", page.out)
    assert match, page.out

    rest = cli("services", "list", "--type", "course", "--limit", "2", "--cursor", match.group(1), "--json").json()
    assert [s["name"] for s in rest["services"]] == ["Course 2"]

    everything = cli("services", "list", "--type", "course", "--limit", "2", "--all", "--json").json()
    assert [s["name"] for s in everything["services"]] == ["Course 0", "Course 1", "Course 2"]


def test_get_and_list_show_which_services_have_strict_capacity(cli: Cli) -> None:
    strict = create_course(cli, "--strict-capacity", name="Strict course")
    relaxed = create_course(cli, name="Relaxed course")

    assert re.search(r"strict capacity\W+yes", cli("services", "get", strict["id"]).ok().out)
    assert re.search(r"strict capacity\W+no", cli("services", "get", relaxed["id"]).ok().out)
    listed = cli("services", "list").ok().out.splitlines()
    assert "12 (strict)" in next(line for line in listed if strict["id"] in line)
    assert "(strict)" not in next(line for line in listed if relaxed["id"] in line)

    assert cli("services", "update", strict["id"], "--revision", "1", "--no-strict-capacity").code == 0
    assert stored_service(cli, strict["id"])["strict_capacity"] is False


def test_get_policies_and_delete_at_a_revision(cli: Cli) -> None:
    course = create_course(cli, "--late-minutes", "60", "--max-per-booking", "2")

    shown = cli("services", "get", course["id"])
    assert shown.code == 0 and "Pottery" in shown.out and "1h before" in shown.out

    policies = cli("services", "policies", course["id"])
    assert policies.code == 0 and course["id"] in policies.out and "1h before" in policies.out

    stale = cli("services", "delete", course["id"], "--revision", "2")
    assert stale.code == 1 and "  reason: REVISION_MISMATCH" in stale.err.splitlines()

    deleted = cli("services", "delete", course["id"], "--revision", "1")
    assert deleted.code == 0 and f"Deleted service {course['id']}" in deleted.out
    assert cli("services", "get", course["id"]).err.startswith("error: NOT_FOUND: ")


def test_text_from_the_server_is_not_rich_markup(cli: Cli) -> None:
    course = create_course(cli, name="[bold]Clay[/bold] & [red]")

    assert "[bold]Clay[/bold] & [red]" in cli("services", "get", course["id"]).out


def test_json_includes_fields_at_their_default(cli: Cli) -> None:
    course = create_course(cli)

    event = create_event(cli, course["schedule_id"], "2026-12-01T10:00", 60)

    assert event["participants_total"] == 0 and event["title"] == "" and event["status"] == "CONFIRMED"


# --- events ----------------------------------------------------------------------------------------------------------


def test_events_list_window_is_local_to_the_schedule(cli: Cli) -> None:
    sid = create_course(cli)["schedule_id"]
    assert cli("events", "bulk-create", "--schedule", sid, "--start", "2026-12-01T10:00", "--duration", "60", "--count", "5", "--every", "1d").code == 0
    # Inside the window only when --from/--to are read in Europe/Vienna (CET, UTC+1), not in UTC:
    create_event(cli, sid, "2026-12-02T00:30", 30)  # 23:30 UTC on 1 December
    create_event(cli, sid, "2026-12-04T09:30", 30)  # 08:30 UTC, before a --to of 10:00 read in UTC as in CET
    create_event(cli, sid, "2026-12-04T10:30", 30)  # 09:30 UTC: after 10:00 CET, before 10:00 UTC

    result = cli("events", "list", "--schedule", sid, "--from", "2026-12-02", "--to", "2026-12-04T10:00")

    assert result.code == 0, result.err
    assert "Events (4)" in result.out
    for shown in ("Wed 2026-12-02 00:30 CET", "Wed 2026-12-02 10:00 CET", "Thu 2026-12-03 10:00 CET", "Fri 2026-12-04 09:30 CET"):
        assert shown in result.out
    for outside in ("2026-12-01", "Fri 2026-12-04 10:", "2026-12-05"):
        assert outside not in result.out
    assert "times in Europe/Vienna" in result.out


def test_events_list_in_another_zone(cli: Cli) -> None:
    course = create_course(cli)
    create_event(cli, course["schedule_id"], "2026-12-01T10:00", 30)

    result = cli("events", "list", "--schedule", course["schedule_id"], "--tz", "America/New_York")

    assert result.code == 0, result.err
    assert "Tue 2026-12-01 04:00 EST" in result.out and "04:30 EST" in result.out
    assert "times in America/New_York" in result.out


def test_event_update_moves_the_start_and_keeps_the_duration(cli: Cli) -> None:
    course = create_course(cli)
    event = create_event(cli, course["schedule_id"], "2026-12-01T10:00", 90)

    moved = cli("events", "update", event["id"], "--revision", "1", "--start", "2026-12-02T18:00", "--capacity", "4")

    assert moved.code == 0, moved.err
    assert "Wed 2026-12-02 18:00 CET" in moved.out
    stored = cli("events", "get", event["id"], "--json").json()["event"]
    assert (utc(stored["start"]), utc(stored["end"])) == (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), datetime(2026, 12, 2, 18, 30, tzinfo=UTC))
    assert (stored["total_capacity"], stored["title"], stored["time_zone"], stored["revision"]) == (4, "", "Europe/Vienna", "2")

    longer = cli("events", "update", event["id"], "--revision", "2", "--duration", "120")

    assert longer.code == 0, longer.err
    stored = cli("events", "get", event["id"], "--json").json()["event"]
    assert (utc(stored["start"]), utc(stored["end"])) == (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), datetime(2026, 12, 2, 19, 0, tzinfo=UTC))
    assert stored["total_capacity"] == 4


def test_event_get_and_cancel(cli: Cli) -> None:
    course = create_course(cli)
    event = create_event(cli, course["schedule_id"], "2026-12-01T10:00", 60)

    assert "Tue 2026-12-01 10:00 CET" in cli("events", "get", event["id"]).out
    cancelled = cli("events", "cancel", event["id"], "--revision", "1")

    assert cancelled.code == 0 and "CANCELLED" in cancelled.out
    assert cli("events", "get", event["id"], "--json").json()["event"]["status"] == "CANCELLED"
    assert "Events (0)" in cli("events", "list", "--schedule", course["schedule_id"]).out
    assert "Events (1)" in cli("events", "list", "--schedule", course["schedule_id"], "--include-cancelled").out


def test_schedules_get(cli: Cli) -> None:
    course = create_course(cli)

    shown = cli("schedules", "get", course["schedule_id"])

    assert shown.code == 0 and "Europe/Vienna" in shown.out and course["id"] in shown.out


def test_global_options_work_before_and_after_the_command(cli: Cli, platform: Platform, tenant: str) -> None:
    create_course(cli)
    env = {"AUTH_JWT_SECRET": platform.jwt_secret}
    address = platform.address("bookings")

    before = cli("--bookings-address", address, "--tenant", tenant, "--json", "services", "list", env=env)
    after = cli("services", "list", "--bookings-address", address, "--tenant", tenant, "--json", env=env)

    assert before.json() == after.json()
    assert [s["name"] for s in before.json()["services"]] == ["Pottery"]


def test_the_module_entry_point_prints_json(cli_env: dict[str, str]) -> None:
    env = {**os.environ, **cli_env}
    result = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "services", "list", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["services"] == []  # a fresh tenant
