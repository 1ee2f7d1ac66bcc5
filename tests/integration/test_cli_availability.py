"""`bookings availability ...` and `bookings toggles ...` against the real platform, in-process
through `services.cli.main.main`.

Courses and sessions are made with the CLI itself (participants, which only the participations
pipeline writes, through the real internal RPC); each test has its own tenant. The availability
service reads the real clock, so every scenario is placed relative to now, with margins of
minutes. The toggle tests change only their own tenant's place in the rules (allow / deny) and
put every toggle back as it was; `course_availability_enabled` stays on for everyone else, since
the other availability tests rely on it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
import redis

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.availability.adapters.toggles import HASH_KEY
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, KNOWN_TOGGLES, PROXY_COURSE_TO_NEW_ENDPOINT, bucket
from services.devstack.stack import Platform
from tests import support
from tests.integration.availability_support import enable_course_availability_for_everyone
from tests.integration.cli_support import Cli, Result, platform_env, runner

pytestmark = pytest.mark.integration

VIENNA = ZoneInfo("Europe/Vienna")
CELL = "│"


@pytest.fixture(scope="module", autouse=True)
async def _course_availability_on(platform: Platform) -> None:
    await enable_course_availability_for_everyone(platform)


@pytest.fixture
def cli_env(platform: Platform, tenant: str) -> dict[str, str]:
    return platform_env(platform, tenant, REDIS_URL=platform.infra.env()["REDIS_URL"])


@pytest.fixture
def cli(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    return runner(cli_env, capsys)


# --- building scenarios ----------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(UTC).astimezone(VIENNA).date()


def minute(instant: datetime) -> str:
    """The local wall time in Vienna to the minute, as `--start` takes it."""
    return instant.astimezone(VIENNA).strftime("%Y-%m-%dT%H:%M")


def create_service(cli: Cli, kind: str, name: str, *flags: str, capacity: int = 12) -> dict[str, Any]:
    argv = ("services", "create", "--type", kind, "--name", name, "--capacity", str(capacity), "--time-zone", "Europe/Vienna", *flags, "--json")
    return cli(*argv).json()["service"]  # type: ignore[no-any-return]


def weekly(cli: Cli, schedule_id: str, first: datetime, count: int, minutes: int = 90) -> list[dict[str, Any]]:
    """`count` weekly sessions from the naive Vienna wall time `first`, sorted by start."""
    argv = ("events", "bulk-create", "--schedule", schedule_id, "--start", first.strftime("%Y-%m-%dT%H:%M"), "--duration", str(minutes), "--count", str(count))
    return cli(*argv, "--json").json()["events"]  # type: ignore[no-any-return]


def session(cli: Cli, schedule_id: str, start: datetime, minutes: int = 60) -> dict[str, Any]:
    argv = ("events", "create", "--schedule", schedule_id, "--start", minute(start), "--duration", str(minutes), "--json")
    return cli(*argv).json()["event"]  # type: ignore[no-any-return]


def set_participants(platform: Platform, tenant: str, event_id: str, total: int) -> None:
    """What the participations pipeline does, through the real internal RPC."""
    with grpc.insecure_channel(platform.address("timeframes")) as channel:
        total_of = events_pb2.ParticipantTotal(id=event_id, participants_total=total, version=time.time_ns())
        request = events_pb2.UpdateParticipantTotalsRequest(events=[total_of])
        response = events_pb2_grpc.EventsStub(channel).UpdateParticipantTotals(request, metadata=support.auth(tenant, "internal"), timeout=15)
    assert [r.outcome for r in response.events] == [events_pb2.APPLIED]


def evening(day: date) -> datetime:
    return datetime.combine(day, wall(18, 0))


def span(day: date, start: str, end: str, zone: ZoneInfo = VIENNA) -> str:
    """The table's local time of a session on `day` from `start` to `end` (same day)."""
    abbreviation = datetime.combine(day, wall.fromisoformat(start), tzinfo=zone).tzname()
    return f"{day:%a %Y-%m-%d} {start}–{end} {abbreviation}"


def said(instant: datetime) -> str:
    """How the why-not text names a moment: `Mon 1 Dec 17:00` in Vienna (year only if not this one)."""
    local = instant.astimezone(VIENNA)
    year = f" {local.year}" if local.year != today().year else ""
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M}"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- reading tables ----------------------------------------------------------------------------------------


def rows(output: str) -> dict[str, list[str]]:
    """Table rows by their first cell (the session id): the cells after it."""
    found = {}
    for line in output.splitlines():
        if line.count(CELL) >= 3:
            cells = [c.strip() for c in line.strip().strip(CELL).split(CELL)]
            if re.fullmatch(r"[0-9a-f-]{36}", cells[0]):
                found[cells[0]] = cells[1:]
    return found


def titles(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if " · course " in line or " · class " in line]


def courses(cli: Cli, *argv: str, since: date | None = None, days: int = 40) -> Result:
    start = since or today() - timedelta(days=2)
    return cli("availability", "courses", "--from", start.isoformat(), "--to", (start + timedelta(days=days)).isoformat(), *argv)


# --- availability courses ------------------------------------------------------------------------------------


def test_courses_table_shows_spots_sessions_left_and_why_a_full_course_is_not_bookable(cli: Cli, platform: Platform, tenant: str) -> None:
    course = create_service(cli, "course", "Pottery", "--late-minutes", "60")
    first_day = today() + timedelta(days=3)
    events = weekly(cli, course["schedule_id"], evening(first_day), 4)
    set_participants(platform, tenant, events[0]["id"], 9)
    set_participants(platform, tenant, events[1]["id"], 12)  # one full session: the course is booked whole

    result = courses(cli, since=today()).ok()

    assert titles(result.out) == [f"Pottery · course {course['id']} · not bookable: fully booked"]
    table = rows(result.out)
    assert list(table) == [e["id"] for e in events]
    days = [first_day + timedelta(weeks=i) for i in range(4)]
    assert table[events[0]["id"]] == [span(days[0], "18:00", "19:30"), "3/12", "4/4", "no", "another session is fully booked"]
    assert table[events[1]["id"]] == [span(days[1], "18:00", "19:30"), "0/12", "4/4", "no", "fully booked"]
    assert table[events[3]["id"]][1:] == ["12/12", "4/4", "no", "another session is fully booked"]
    assert "times in Europe/Vienna" in result.out

    data = courses(cli, "--json", since=today()).json()
    assert data["time_zone"] == "Europe/Vienna"
    assert [s["event_id"] for s in data["time_slots"]] == [e["id"] for e in events]
    assert [s["remaining_capacity"] for s in data["time_slots"]] == [3, 0, 12, 12]
    assert data["time_slots"][0]["local_start_date"] == f"{days[0].isoformat()}T18:00:00"
    assert {s["non_bookable_reasons"]["no_remaining_capacity"] for s in data["time_slots"]} == {True}
    assert data["paging_metadata"]["has_next"] is False


def test_why_not_names_each_policy_and_session_state_in_words(cli: Cli) -> None:
    now = datetime.now(UTC)
    late = create_service(cli, "course", "Late", "--late-minutes", "60")
    late_first = session(cli, late["schedule_id"], now + timedelta(minutes=30))
    early = create_service(cli, "course", "Early", "--early-minutes", "1440")
    early_first = session(cli, early["schedule_id"], now + timedelta(days=3))
    offline = create_service(cli, "course", "Offline", "--no-online-booking")
    offline_first = session(cli, offline["schedule_id"], now + timedelta(days=3))
    running = create_service(cli, "course", "Running", "--book-after-start")
    running_past = session(cli, running["schedule_id"], now - timedelta(hours=1))
    running_next = session(cli, running["schedule_id"], now + timedelta(days=7))
    partly = create_service(cli, "course", "Partly cancelled")
    kept = session(cli, partly["schedule_id"], now + timedelta(days=3))
    dropped = session(cli, partly["schedule_id"], now + timedelta(days=10))
    assert cli("events", "cancel", dropped["id"], "--revision", "1").code == 0

    result = courses(cli).ok()

    closed = utc(late_first["start"]) - timedelta(minutes=60)
    opens = utc(early_first["start"]) - timedelta(days=1)
    assert sorted(titles(result.out)) == sorted(
        [
            f"Late · course {late['id']} · not bookable: too late to book (closed {said(closed)})",
            f"Early · course {early['id']} · not bookable: not open yet (opens {said(opens)})",
            f"Offline · course {offline['id']} · not bookable: online booking off",
            f"Running · course {running['id']} · bookable",
            f"Partly cancelled · course {partly['id']} · bookable",
        ]
    )
    table = rows(result.out)
    why = {event_id: cells[-2:] for event_id, cells in table.items()}  # bookable, why not
    assert why == {
        late_first["id"]: ["no", f"too late to book (closed {said(closed)})"],
        early_first["id"]: ["no", f"not open yet (opens {said(opens)})"],
        offline_first["id"]: ["no", "online booking off"],
        running_past["id"]: ["no", "already started"],
        running_next["id"]: ["yes", "-"],
        kept["id"]: ["yes", "-"],
        dropped["id"]: ["no", "cancelled"],
    }
    assert table[running_next["id"]][2] == "1/2"  # sessions left: one of two has started
    assert table[kept["id"]][2] == "1/1"  # the cancelled session does not count


def test_party_size_and_bookable_only(cli: Cli, platform: Platform, tenant: str) -> None:
    course = create_service(cli, "course", "Small room", capacity=4)
    events = weekly(cli, course["schedule_id"], evening(today() + timedelta(days=3)), 2, minutes=60)
    set_participants(platform, tenant, events[0]["id"], 2)

    alone = courses(cli).ok()
    assert [cells[-2:] for cells in rows(alone.out).values()] == [["yes", "-"], ["yes", "-"]]
    assert rows(courses(cli, "--bookable-only").ok().out).keys() == {e["id"] for e in events}

    party = courses(cli, "--party", "3").ok()
    assert titles(party.out) == [f"Small room · course {course['id']} · not bookable: not enough spots for a party of 3"]
    table = rows(party.out)
    assert table[events[0]["id"]][1:] == ["2/4", "2/2", "no", "only 2 spots left for a party of 3"]
    assert table[events[1]["id"]][1:] == ["4/4", "2/2", "no", "another session has fewer than 3 spots"]

    hidden = courses(cli, "--party", "3", "--bookable-only").ok()
    assert rows(hidden.out) == {} and titles(hidden.out) == []
    assert "No course sessions from " in hidden.out
    assert courses(cli, "--party", "3", "--bookable-only", "--json").json()["time_slots"] == []


def _next_dst_change(after: date) -> date:
    """The first day after `after` on which Vienna's UTC offset at 18:00 differs from the day before."""
    day = after
    while True:
        nxt = day + timedelta(days=1)
        if evening(nxt).replace(tzinfo=VIENNA).utcoffset() != evening(day).replace(tzinfo=VIENNA).utcoffset():
            return nxt
        day = nxt


def test_local_times_stay_at_18_00_across_the_clock_change_and_move_in_utc(cli: Cli) -> None:
    change = _next_dst_change(today() + timedelta(days=8))
    first = change - timedelta(days=7)
    course = create_service(cli, "course", "Across the change")
    events = weekly(cli, course["schedule_id"], evening(first), 3)
    days = [first + timedelta(weeks=i) for i in range(3)]
    before, after = (evening(d).replace(tzinfo=VIENNA) for d in (days[0], days[1]))
    assert before.tzname() != after.tzname()  # CET -> CEST in spring, CEST -> CET in autumn

    local = courses(cli, since=first - timedelta(days=1), days=30).ok()
    table = rows(local.out)
    assert [table[e["id"]][0] for e in events] == [span(d, "18:00", "19:30") for d in days]

    in_utc = courses(cli, "--tz", "UTC", since=first - timedelta(days=1), days=30).ok()
    table = rows(in_utc.out)
    hours = [evening(d).replace(tzinfo=VIENNA).astimezone(UTC) for d in days]
    assert hours[0].hour != hours[1].hour  # the same wall time is another UTC hour after the change
    assert [table[e["id"]][0] for e in events] == [f"{h:%a %Y-%m-%d %H:%M}–{h + timedelta(minutes=90):%H:%M} UTC" for h in hours]
    assert "times in UTC" in in_utc.out

    data = courses(cli, "--json", since=first - timedelta(days=1), days=30).json()
    assert [s["local_start_date"] for s in data["time_slots"]] == [f"{d.isoformat()}T18:00:00" for d in days]


def test_a_bare_to_date_includes_that_day(cli: Cli) -> None:
    day = today() + timedelta(days=5)
    course = create_service(cli, "course", "Late evening")
    event = session(cli, course["schedule_id"], datetime.combine(day, wall(23, 30)).replace(tzinfo=VIENNA))

    through = cli("availability", "courses", "--from", (day - timedelta(days=1)).isoformat(), "--to", day.isoformat(), "--json").json()
    before = cli("availability", "courses", "--from", (day - timedelta(days=1)).isoformat(), "--to", f"{day.isoformat()}T23:00", "--json").json()

    assert [s["event_id"] for s in through["time_slots"]] == [event["id"]]
    assert before["time_slots"] == []


def test_pages_with_the_printed_cursor_and_all_follows_cursors(cli: Cli) -> None:
    course = create_service(cli, "course", "Paged")
    events = weekly(cli, course["schedule_id"], evening(today() + timedelta(days=2)), 5)

    page = courses(cli, "--limit", "2").ok()
    assert list(rows(page.out)) == [e["id"] for e in events[:2]]
    match = re.search(r"More: --cursor (\S+)", page.out)
    assert match, page.out

    rest = courses(cli, "--limit", "2", "--cursor", match.group(1), "--json").json()
    assert [s["event_id"] for s in rest["time_slots"]] == [e["id"] for e in events[2:4]]

    everything = courses(cli, "--limit", "2", "--all", "--json").json()
    assert [s["event_id"] for s in everything["time_slots"]] == [e["id"] for e in events]
    assert everything["paging_metadata"] == {"count": 5, "cursors": {"next": ""}, "has_next": False}
    table = rows(courses(cli, "--limit", "2", "--all").ok().out)
    assert list(table) == [e["id"] for e in events]


def test_service_filter_shows_only_the_given_courses(cli: Cli) -> None:
    shown = create_service(cli, "course", "Shown")
    other = create_service(cli, "course", "Other")
    start = evening(today() + timedelta(days=3))
    shown_events = weekly(cli, shown["schedule_id"], start, 2)
    weekly(cli, other["schedule_id"], start, 2)

    result = courses(cli, "--service", shown["id"]).ok()

    assert titles(result.out) == [f"Shown · course {shown['id']} · bookable"]
    assert list(rows(result.out)) == [e["id"] for e in shown_events]


def test_course_summary_by_schedule_and_by_event(cli: Cli, platform: Platform, tenant: str) -> None:
    course = create_service(cli, "course", "Summary", "--late-minutes", "60", "--early-minutes", "20160")
    first_day = today() + timedelta(days=3)
    events = weekly(cli, course["schedule_id"], evening(first_day), 3)
    set_participants(platform, tenant, events[2]["id"], 12)

    summary = cli("availability", "course", "--schedule", course["schedule_id"]).ok()

    fields = {cells[0]: cells[1] for cells in _field_rows(summary.out)}
    first = evening(first_day).replace(tzinfo=VIENNA)
    last_end = evening(first_day + timedelta(weeks=2)).replace(tzinfo=VIENNA) + timedelta(minutes=90)
    assert fields["course"] == f"Summary ({course['id']})"
    assert (fields["bookable"], fields["why not"]) == ("no", "fully booked")
    assert (fields["open spots"], fields["sessions left"]) == ("0/12", "3/3")
    assert fields["first session"] == f"{first:%a %Y-%m-%d %H:%M %Z}"
    assert fields["last session ends"] == f"{last_end:%a %Y-%m-%d %H:%M %Z}"
    assert fields["booking window"] == f"{said(first - timedelta(days=14))} → {said(first - timedelta(hours=1))}"

    by_event = cli("availability", "course", "--event", events[0]["id"]).ok()
    fields = {cells[0]: cells[1] for cells in _field_rows(by_event.out)}
    assert fields["session"] == events[0]["id"]
    assert fields["session time"] == span(first_day, "18:00", "19:30")
    assert (fields["session spots"], fields["session bookable"], fields["session why not"]) == ("12/12", "no", "another session is fully booked")

    data = cli("availability", "course", "--event", events[0]["id"], "--json").json()
    assert data["course"]["open_spots"] == 0 and data["time_slot"]["event_id"] == events[0]["id"]


def _field_rows(output: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip(CELL).split(CELL)] for line in output.splitlines() if line.count(CELL) == 3]


def test_classes_are_listed_per_session(cli: Cli, platform: Platform, tenant: str) -> None:
    yoga = create_service(cli, "class", "Yoga", capacity=8)
    events = weekly(cli, yoga["schedule_id"], evening(today() + timedelta(days=2)), 2, minutes=60)
    set_participants(platform, tenant, events[0]["id"], 8)

    result = cli("availability", "classes", "--from", today().isoformat(), "--to", (today() + timedelta(days=20)).isoformat()).ok()

    assert titles(result.out) == [f"Yoga · class {yoga['id']}"]
    table = rows(result.out)
    assert [cells[1:] for cells in table.values()] == [["0/8", "no", "fully booked"], ["8/8", "yes", "-"]]
    assert "sessions left" not in result.out

    data = cli("availability", "classes", "--from", today().isoformat(), "--to", (today() + timedelta(days=20)).isoformat(), "--json").json()
    assert [s["bookable"] for s in data["time_slots"]] == [False, True]


def test_a_class_service_given_to_courses_is_refused_with_the_field(cli: Cli) -> None:
    yoga = create_service(cli, "class", "Yoga")

    result = courses(cli, "--service", yoga["id"])

    assert result.code == 1 and result.out == ""
    assert result.err.startswith("error: INVALID_ARGUMENT: 1 invalid field(s) (ListCourseEventTimeSlots on availability at ")
    assert "  service_ids[0]: is a CLASS service, not a COURSE; use ListEventTimeSlots" in result.err.splitlines()


# --- toggles -----------------------------------------------------------------------------------------------


@pytest.fixture
def redis_client(platform: Platform) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(platform.infra.env()["REDIS_URL"], decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def restore_toggles(redis_client: redis.Redis) -> Iterator[None]:
    """Puts every known toggle back exactly as it was stored (or absent) after the test."""
    saved = {name: redis_client.hget(HASH_KEY, name) for name in KNOWN_TOGGLES}
    yield
    for name, raw in saved.items():
        if raw is None:
            redis_client.hdel(HASH_KEY, name)
        else:
            redis_client.hset(HASH_KEY, name, raw)  # type: ignore[arg-type]


def stored_rule(redis_client: redis.Redis, name: str) -> dict[str, Any] | None:
    raw = redis_client.hget(HASH_KEY, name)
    return None if raw is None else json.loads(raw)  # type: ignore[arg-type]


def test_toggles_set_list_and_check_round_trip(cli: Cli, tenant: str, redis_client: redis.Redis, restore_toggles: None) -> None:
    name = PROXY_COURSE_TO_NEW_ENDPOINT
    before = stored_rule(redis_client, name) or {"percentage": 0, "allow": [], "deny": []}
    assert tenant not in before["allow"] + before["deny"]  # a fresh tenant

    allowed = cli("toggles", "set", name, "--allow", tenant).ok()
    assert f"Changed {name} (takes effect within a second, no restart):" in allowed.out
    assert re.search(rf"^  allow: .* → .*{re.escape(tenant)}.*  \(\+{re.escape(tenant)}\)$", allowed.out, re.MULTILINE), allowed.out
    assert tenant in stored_rule(redis_client, name)["allow"]  # type: ignore[index]

    listed = cli("toggles", "list").ok()
    line = next(line for line in listed.out.splitlines() if name in line)
    assert tenant in line
    entry = next(t for t in cli("toggles", "list", "--json").json()["toggles"] if t["name"] == name)
    assert entry["known"] and entry["set"] and tenant in entry["rule"]["allow"]
    assert {t["name"] for t in cli("toggles", "list", "--json").json()["toggles"]} >= set(KNOWN_TOGGLES)

    checked = cli("toggles", "check", name, "--tenant", tenant).ok()
    assert checked.out.startswith(f"{name} is ON for tenant {tenant}: the tenant is on the allow list")
    assert f"bucket {bucket(name, tenant)} " in checked.out

    denied = cli("toggles", "set", name, "--deny", tenant, "--json").json()
    assert denied["changed"] and tenant in denied["after"]["deny"] and tenant not in denied["after"]["allow"]
    assert {c["field"] for c in denied["changes"]} == {"allow", "deny"}
    verdict = cli("toggles", "check", name, "--tenant", tenant, "--json").json()
    assert (verdict["enabled"], verdict["bucket"], verdict["why"]) == (False, bucket(name, tenant), "the tenant is on the deny list")

    again = cli("toggles", "set", name, "--deny", tenant).ok()
    assert again.out.startswith(f"{name}: no change")

    removed = cli("toggles", "set", name, "--remove", tenant).ok()
    assert re.search(rf"^  deny: .* → .*  \(-{re.escape(tenant)}\)$", removed.out, re.MULTILINE), removed.out
    assert stored_rule(redis_client, name) == before  # back to the rule it had (or its off default)


def test_toggles_set_prints_the_old_and_new_percentage(cli: Cli, redis_client: redis.Redis, restore_toggles: None) -> None:
    name = PROXY_COURSE_TO_NEW_ENDPOINT
    old = (stored_rule(redis_client, name) or {}).get("percentage")
    new = 37 if old != 37 else 38

    result = cli("toggles", "set", name, "--percentage", str(new)).ok()

    assert f"  percentage: {old if old is not None else '(not set)'} → {new}" in result.out.splitlines()
    assert stored_rule(redis_client, name)["percentage"] == new  # type: ignore[index]


def test_denying_course_availability_for_a_tenant_takes_effect_without_a_restart(cli: Cli, tenant: str, restore_toggles: None) -> None:
    course = create_service(cli, "course", "Toggled")
    weekly(cli, course["schedule_id"], evening(today() + timedelta(days=3)), 1)
    assert courses(cli).code == 0
    assert cli("toggles", "check", COURSE_AVAILABILITY_ENABLED, "--tenant", tenant).out.startswith(f"{COURSE_AVAILABILITY_ENABLED} is ON")

    cli("toggles", "set", COURSE_AVAILABILITY_ENABLED, "--deny", tenant).ok()
    refused, waited = _until(lambda: courses(cli), lambda r: r.code != 0)

    assert waited < 2.0
    assert refused.code == 1, refused.out
    lines = refused.err.splitlines()
    assert lines[0].startswith("error: FAILED_PRECONDITION: course availability is not enabled for this tenant")
    assert "  reason: FEATURE_DISABLED" in lines
    assert f"  hint: an operator switches it on for a tenant with `bookings toggles set {COURSE_AVAILABILITY_ENABLED} --allow TENANT`" in refused.err
    checked = cli("toggles", "check", COURSE_AVAILABILITY_ENABLED, "--tenant", tenant).ok()
    assert checked.out.startswith(f"{COURSE_AVAILABILITY_ENABLED} is OFF for tenant {tenant}: the tenant is on the deny list")

    cli("toggles", "set", COURSE_AVAILABILITY_ENABLED, "--remove", tenant).ok()
    answered, waited = _until(lambda: courses(cli), lambda r: r.code == 0)
    assert answered.code == 0 and waited < 2.0, answered.err


def _until(probe: Callable[[], Result], accept: Callable[[Result], bool], within: float = 3.0) -> tuple[Result, float]:
    started = time.monotonic()
    while True:
        result = probe()
        waited = time.monotonic() - started
        if accept(result) or waited >= within:
            return result, waited
        time.sleep(0.05)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["toggles", "set", "course_availabilty_enabled", "--percentage", "5"], id="set: a typo"),
        pytest.param(["toggles", "check", "dark_mode"], id="check: a name never known"),
    ],
)
def test_an_unknown_toggle_is_refused_with_the_known_ones(cli: Cli, redis_client: redis.Redis, argv: list[str]) -> None:
    before = redis_client.hgetall(HASH_KEY)

    result = cli(*argv)

    assert result.code == 1 and result.out == ""
    assert result.err.strip() == f"error: unknown toggle {argv[2]!r}; known toggles: {', '.join(KNOWN_TOGGLES)}"
    assert redis_client.hgetall(HASH_KEY) == before
