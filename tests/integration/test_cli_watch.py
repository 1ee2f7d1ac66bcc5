"""`bookings watch capacity` against the real platform, in-process through `services.cli.main.main`:
one snapshot (`--once`), a bounded number of refreshes (`--count`) with what changed between
them, a booking showing up once the participations pipeline settled it, Ctrl-C, the in-place
redraw on a terminal, and the errors.

Courses and classes are made through gRPC (tests/integration/availability_support.py). To act
*between* two refreshes, a test replaces `watch._sleep` (called once between each two refreshes)
with a hook that makes its change through synchronous gRPC and then sleeps as asked.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc
import pytest

from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.cli import watch
from services.cli.main import main
from services.devstack.stack import Platform
from tests import support
from tests.integration.availability_support import DAY, HOUR, World, booking_of, forget_proxy, now, policy, set_proxy
from tests.integration.cli_support import Cli, platform_env, runner

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(channel: Callable[[str], grpc.aio.Channel], tenant: str, platform: Platform) -> AsyncIterator[World]:
    await set_proxy(platform, tenant, False)  # bookings are validated the legacy (consistent) way
    yield World.of(channel, tenant)
    await forget_proxy(platform, tenant)


@pytest.fixture
def cli_env(platform: Platform, tenant: str) -> dict[str, str]:
    return platform_env(platform, tenant)


@pytest.fixture
def cli(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    return runner(cli_env, capsys)


@pytest.fixture
def sync_channel(platform: Platform) -> Iterator[Callable[[str], grpc.Channel]]:
    """Blocking channels, for changes made from inside the CLI's (blocking) refresh loop."""
    opened: dict[str, grpc.Channel] = {}

    def get(service: str) -> grpc.Channel:
        if service not in opened:
            opened[service] = grpc.insecure_channel(platform.address(service))
        return opened[service]

    yield get
    for ch in opened.values():
        ch.close()


def between_refreshes(monkeypatch: pytest.MonkeyPatch, act: Callable[[int], None]) -> list[int]:
    """Run `act(n)` before the sleep that follows refresh n; returns the list of n's seen."""
    calls: list[int] = []

    def hook(seconds: float) -> None:
        calls.append(len(calls) + 1)
        act(calls[-1])
        time.sleep(seconds)

    monkeypatch.setattr(watch, "_sleep", hook)
    return calls


_ROW = re.compile(r"^\s*(\S+)\s+(.+?)\s{2,}(-?\d+)\s+(\d+)\s+(\d+)\s+(CONFIRMED|CANCELLED|)\s*(.*?)\s*$")


def row(out: str, first_cell: str) -> list[str]:
    """The cells of the last table row printed for a session (or the totals row, "all") of a
    wide table: session, start, remaining, total, participants, status, change."""
    lines = [line for line in out.splitlines() if line.strip().startswith(first_cell)]
    assert lines, f"{first_cell} not in:\n{out}"
    match = _ROW.match(lines[-1])
    assert match, lines[-1]
    return list(match.groups())


async def test_once_prints_each_session_with_remaining_total_and_participants_in_the_schedule_zone(cli: Cli, world: World) -> None:
    first = (now() + DAY).replace(minute=0, second=0)
    course = await world.course([first, first + 7 * DAY, first + 14 * DAY], capacity=8, name="Wheel throwing")
    await world.set_participants(course.events[1], 3)

    out = cli("watch", "capacity", "--schedule", course.schedule_id, "--once").ok().out

    assert f"Capacity of 'Wheel throwing' · schedule {course.schedule_id}" in out
    assert "times in Europe/Vienna" in out and "Ctrl-C" not in out and "stopped after" not in out
    session, start, remaining, total, participants, status, change = row(out, course.events[1].id)
    assert (remaining, total, participants, status, change) == ("5", "8", "3", "CONFIRMED", "")
    assert re.fullmatch(r"\w{3} \d{4}-\d{2}-\d{2} \d{2}:00 CES?T", start), start
    assert row(out, course.events[0].id)[2:5] == ["8", "8", "0"]
    # Sessions by start, then the totals over them.
    assert out.index(course.events[0].id) < out.index(course.events[1].id) < out.index(course.events[2].id)
    assert row(out, "all")[1:5] == ["3 sessions", "21", "24", "3"]


async def test_once_json_is_one_line_with_every_session_and_the_totals(cli: Cli, world: World) -> None:
    first = (now() + DAY).replace(minute=0, second=0)
    klass = await world.klass([first + 2 * HOUR, first], capacity=6)
    await world.set_participants(klass.events[0], 6)

    result = cli("watch", "capacity", "--schedule", klass.schedule_id, "--once", "--json", "--tz", "UTC")

    (line,) = result.lines()
    assert (line["schedule_id"], line["refresh"], line["time_zone"]) == (klass.schedule_id, 1, "UTC")
    assert [s["event_id"] for s in line["sessions"]] == klass.event_ids  # by start
    full = line["sessions"][0]
    assert (full["total_capacity"], full["participants_total"], full["remaining_capacity"], full["status"], full["changed"]) == (6, 6, 0, "CONFIRMED", [])
    assert full["start"] == first.strftime("%Y-%m-%dT%H:%M:%S.000Z") and full["local_start"] == first.strftime("%Y-%m-%dT%H:%M:%S")
    assert (line["changed_event_ids"], line["new_event_ids"], line["gone_event_ids"]) == ([], [], [])
    assert line["totals"] == {"sessions": 2, "cancelled": 0, "total_capacity": 12, "participants_total": 6, "remaining_capacity": 6}


async def test_each_refresh_names_what_changed_since_the_one_before(
    cli: Cli, world: World, tenant: str, sync_channel: Callable[[str], grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await world.course([now() + DAY, now() + 2 * DAY, now() + 3 * DAY], capacity=10)
    events = events_pb2_grpc.EventsStub(sync_channel("timeframes"))

    def act(n: int) -> None:
        if n != 1:
            return
        # What the participations pipeline does for a booking of 4, and a session cancelled.
        events.UpdateEventParticipants(
            events_pb2.UpdateEventParticipantsRequest(event_id=course.events[0].id, participants_total=4, version=time.time_ns()),
            metadata=support.auth(tenant, "internal"),
        )
        third = course.events[2]
        events.CancelEvent(events_pb2.CancelEventRequest(event_id=third.id, revision=third.revision), metadata=world.md)

    between_refreshes(monkeypatch, act)
    first, second, third = cli("watch", "capacity", "--schedule", course.schedule_id, "--json", "--count", "3", "--interval", "0.1").lines()

    assert [line["refresh"] for line in (first, second, third)] == [1, 2, 3]
    assert first["changed_event_ids"] == [] and first["totals"]["remaining_capacity"] == 30
    assert second["changed_event_ids"] == [course.events[0].id, course.events[2].id]
    by_id = {s["event_id"]: s for s in second["sessions"]}
    assert by_id[course.events[0].id]["changed"] == ["participants_total", "remaining_capacity"]
    assert (by_id[course.events[0].id]["participants_total"], by_id[course.events[0].id]["remaining_capacity"]) == (4, 6)
    assert (by_id[course.events[2].id]["changed"], by_id[course.events[2].id]["status"]) == (["status"], "CANCELLED")
    assert by_id[course.events[1].id]["changed"] == []
    assert second["totals"] == {"sessions": 2, "cancelled": 1, "total_capacity": 20, "participants_total": 4, "remaining_capacity": 16}
    assert third["changed_event_ids"] == [] and third["sessions"] == [{**s, "changed": []} for s in second["sessions"]]


async def test_a_booking_shows_once_the_pipeline_settled_it_and_ctrl_c_ends_the_watch(
    cli: Cli, world: World, sync_channel: Callable[[str], grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    klass = await world.klass([now() + DAY], capacity=4, booking_policy=policy(max_per_booking=2))
    event = klass.events[0]
    bookings = bookings_pb2_grpc.BookingsStub(sync_channel("bookings"))
    events = events_pb2_grpc.EventsStub(sync_channel("timeframes"))
    settled_after: list[int] = []
    deadline = time.monotonic() + 30

    def act(n: int) -> None:
        if n == 1:
            request = bookings_pb2.CreateBookingRequest(booking=booking_of(klass, event, participants=2))
            bookings.CreateBooking(request, metadata=world.md, timeout=15)
            return
        if settled_after or time.monotonic() > deadline:
            raise KeyboardInterrupt  # Ctrl-C, one refresh after timeframes had the new total
        if events.GetEvent(events_pb2.GetEventRequest(event_id=event.id), metadata=world.md).event.participants_total == 2:
            settled_after.append(n)

    between_refreshes(monkeypatch, act)
    lines = cli("watch", "capacity", "--schedule", klass.schedule_id, "--json", "--interval", "0.1").lines()  # no --count: until Ctrl-C

    assert settled_after, "the booking was not settled into timeframes within 30 s"
    assert len(lines) == settled_after[0] + 1
    session = lines[-1]["sessions"][0]
    assert (session["participants_total"], session["remaining_capacity"]) == (2, 2)
    changed = [line for line in lines if line["changed_event_ids"]]
    assert len(changed) == 1 and changed[0]["sessions"][0]["changed"] == ["participants_total", "remaining_capacity"]
    assert all(line["sessions"][0]["participants_total"] == 0 for line in lines[: lines.index(changed[0])])


async def test_text_refreshes_follow_each_other_when_not_on_a_terminal_and_describe_the_change(
    cli: Cli, world: World, tenant: str, sync_channel: Callable[[str], grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await world.course([now() + DAY, now() + 2 * DAY], capacity=10)
    events = events_pb2_grpc.EventsStub(sync_channel("timeframes"))

    def act(n: int) -> None:
        if n == 1:
            request = events_pb2.UpdateEventParticipantsRequest(event_id=course.events[1].id, participants_total=3, version=time.time_ns())
            events.UpdateEventParticipants(request, metadata=support.auth(tenant, "internal"))
        if n == 2:
            raise KeyboardInterrupt

    between_refreshes(monkeypatch, act)
    out = cli("watch", "capacity", "--schedule", course.schedule_id, "--interval", "0.1").ok().out

    assert out.count(f"schedule {course.schedule_id}") == 2
    first, second = out.split("refresh 1 at ")
    assert "every 0.1 s" in second and "Ctrl-C stops" in second and "refresh 2 at " in second
    assert row(first, course.events[1].id)[2:] == ["10", "10", "0", "CONFIRMED", ""]
    assert row(second, course.events[1].id)[2:] == ["7", "10", "3", "CONFIRMED", "+3 participants"]
    assert row(second, course.events[0].id)[-1] == ""
    assert row(second, "all")[1:] == ["2 sessions", "17", "20", "3", "", "1 changed"]
    assert out.rstrip().endswith("stopped after 2 refreshes")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_on_a_terminal_the_table_is_redrawn_in_place_with_the_changed_cells_highlighted(
    cli_env: dict[str, str], world: World, tenant: str, sync_channel: Callable[[str], grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await world.course([now() + DAY], capacity=10)
    events = events_pb2_grpc.EventsStub(sync_channel("timeframes"))

    def act(n: int) -> None:
        if n == 1:
            request = events_pb2.UpdateEventParticipantsRequest(event_id=course.events[0].id, participants_total=2, version=time.time_ns())
            events.UpdateEventParticipants(request, metadata=support.auth(tenant, "internal"))

    between_refreshes(monkeypatch, act)
    terminal = _Terminal()
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr("sys.stdout", terminal)

    assert main(["watch", "capacity", "--schedule", course.schedule_id, "--count", "3", "--interval", "0.1"], env=cli_env) == 0

    out = terminal.getvalue()
    assert "\x1b[?25l" in out and "\x1b[?25h" in out  # the cursor is hidden while redrawing, and shown again
    assert out.count("\x1b[1A\x1b[2K") >= 2 * 10  # each redraw goes back up over the previous table
    # Three refreshes drawn over each other, and the last drawn once more when the watch ends.
    assert out.count(f"schedule {course.schedule_id}") == 4
    # Refresh 2 has the participants and remaining cells on a yellow background; refresh 3 no more.
    frames = out.split("refresh ")
    second = next(f for f in frames if f.startswith("2 at "))
    yellow = re.compile(r"\x1b\[[0-9;]*43m *(\d+) *\x1b\[0m")
    before_second = out[: out.index("refresh 2 at ")]
    highlighted = yellow.findall(before_second.split("refresh 1 at ")[-1])
    assert highlighted == ["8", "2"], repr(before_second[-2000:])
    assert "+2 participants" in before_second
    assert not yellow.findall(out[out.index("refresh 2 at ") :].split("refresh 3 at ")[0]), second
    assert re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).rstrip().endswith("stopped after 3 refreshes")


def test_an_unknown_schedule_is_not_found_at_once(cli: Cli) -> None:
    result = cli("watch", "capacity", "--schedule", str(uuid.uuid4()), "--count", "5")
    assert result.code == 1 and result.out == ""
    assert result.err.splitlines()[0].startswith("error: NOT_FOUND: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--interval", "0"], "the interval is at least 0.1 s"),
        (["--interval", "soon"], "'soon' is not a number of seconds"),
        (["--once", "--count", "2"], "not allowed with argument"),
        (["--count", "0"], "'0' must be positive"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    result = cli("watch", "capacity", "--schedule", str(uuid.uuid4()), *argv)
    assert result.code == 2 and message in result.err


async def test_a_bad_tz_names_the_option(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY])
    result = cli("watch", "capacity", "--schedule", course.schedule_id, "--once", "--tz", "Mars/Olympus")
    assert result.code == 1 and result.err.startswith("error: --tz: 'Mars/Olympus' is not an IANA time zone")


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str):
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()


def failing_refresh(monkeypatch: pytest.MonkeyPatch, fails_at: int, code: grpc.StatusCode) -> None:
    """Refresh number `fails_at` fails with `code` (the others read the real sessions)."""
    real = watch.fetch
    calls = [0]

    def fetch(client: Any, schedule_id: str) -> list[watch.Session]:
        calls[0] += 1
        if calls[0] == fails_at:
            raise watch.CallError(_RpcError(code, "connection refused"), "timeframes", client.address("timeframes"), "QueryEvents")
        return real(client, schedule_id)

    monkeypatch.setattr(watch, "fetch", fetch)


async def test_a_refresh_that_cannot_reach_the_service_keeps_the_last_view_and_the_watch_goes_on(
    cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await world.course([now() + DAY], capacity=5)
    failing_refresh(monkeypatch, 2, grpc.StatusCode.UNAVAILABLE)

    text = cli("watch", "capacity", "--schedule", course.schedule_id, "--count", "3", "--interval", "0.1").ok().out
    frames = text.split(f"schedule {course.schedule_id}")[1:]
    assert len(frames) == 3 and "refresh 1 at" in frames[0] and "refresh 1 at" in frames[1] and "refresh 2 at" in frames[2]
    assert "refresh failed at " in frames[1] and "showing refresh 1; retrying: UNAVAILABLE: connection refused (QueryEvents on timeframes" in frames[1]
    assert "refresh failed" not in frames[2]

    failing_refresh(monkeypatch, 2, grpc.StatusCode.UNAVAILABLE)
    result = cli("watch", "capacity", "--schedule", course.schedule_id, "--count", "3", "--interval", "0.1", "--json")
    assert [line["refresh"] for line in result.lines()] == [1, 2]  # two refreshes succeeded, the failed one is on stderr
    assert result.err.startswith("error: UNAVAILABLE: connection refused (QueryEvents on timeframes at ")


async def test_any_other_failure_ends_the_watch_with_the_usual_error(cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    course = await world.course([now() + DAY], capacity=5)
    failing_refresh(monkeypatch, 2, grpc.StatusCode.PERMISSION_DENIED)

    result = cli("watch", "capacity", "--schedule", course.schedule_id, "--interval", "0.1", "--json")

    assert result.code == 1 and len(result.out.splitlines()) == 1
    assert result.err.startswith("error: PERMISSION_DENIED: connection refused (QueryEvents on timeframes at ")
