"""What the `bookings` CLI decides before it calls anything: bad local input (exit 1, one line),
usage errors (exit 2), and the `token` command. No server is involved: the service addresses
and the Redis URL point at a port nothing listens on, so a call made by mistake would surface as
an UNAVAILABLE (or Redis connection) error instead of the expected message. Calls to the real services are in
tests/integration/test_cli.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jwt
import pytest

from services.cli.availability import local_window
from services.cli.main import main

SECRET = "unit-test-secret-0123456789abcdef0123456789"
NOWHERE = "127.0.0.1:1"
REDIS_NOWHERE = "redis://127.0.0.1:1/0"
ENV = {"AUTH_JWT_SECRET": SECRET, "BOOKINGS_ADDRESS": NOWHERE, "TIMEFRAMES_ADDRESS": NOWHERE, "AVAILABILITY_ADDRESS": NOWHERE, "REDIS_URL": REDIS_NOWHERE}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str, env: Mapping[str, str] = ENV) -> Result:
        code = main(list(argv), env=env)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# --- bad input: exit 1 before any call ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["events", "create", "--schedule", "s", "--start", "2026-03-29T02:30", "--duration", "60", "--time-zone", "Europe/Vienna"],
            "--start: 2026-03-29T02:30 does not exist in Europe/Vienna",
            id="typed time in the spring gap",
        ),
        pytest.param(
            ["events", "create", "--schedule", "s", "--start", "2026-12-01T10:00", "--duration", "60", "--time-zone", "Mars/Olympus"],
            "--time-zone: 'Mars/Olympus' is not an IANA time zone",
            id="bad zone",
        ),
        pytest.param(
            ["events", "create", "--schedule", "s", "--start", "2026-12-01T10:00Z", "--duration", "60", "--time-zone", "Europe/Vienna"],
            "--start: '2026-12-01T10:00Z' has a UTC offset",
            id="offset in start",
        ),
        pytest.param(
            ["events", "bulk-create", "--schedule", "s", "--start", "2026-12-01T10:00", "--duration", "60", "--time-zone", "Europe/Vienna", "--count", "501"],
            "count must be 1..500",
            id="too many sessions",
        ),
        pytest.param(["services", "update", "x", "--revision", "1"], "nothing to update", id="update without changes"),
        pytest.param(["events", "update", "x", "--revision", "1"], "nothing to update", id="event update without changes"),
        pytest.param(["events", "list", "--from", "2026-12-01"], "give --tz (or --schedule)", id="window without a zone"),
        pytest.param(["events", "list", "--tz", "Mars/Olympus"], "--tz: 'Mars/Olympus' is not an IANA time zone", id="bad display zone"),
        pytest.param(
            ["availability", "courses", "--from", "2026-12-31", "--to", "2026-12-01"],
            "--to: '2026-12-01' must be after --from '2026-12-31'",
            id="availability window inverted",
        ),
        pytest.param(
            ["availability", "classes", "--from", "2026-12-01T10:00", "--to", "2026-12-01T10:00"],
            "--to: '2026-12-01T10:00' must be after --from",
            id="availability window empty",
        ),
        pytest.param(
            ["availability", "courses", "--from", "2026-12-01T10:00Z", "--to", "2026-12-31"],
            "--from: '2026-12-01T10:00Z' has a UTC offset",
            id="availability window with an offset",
        ),
        pytest.param(
            ["availability", "courses", "--from", "2026-12-01", "--to", "2026-12-31", "--tz", "Mars/Olympus"],
            "--tz: 'Mars/Olympus' is not an IANA time zone",
            id="availability bad zone",
        ),
        pytest.param(["availability", "course", "--schedule", "s", "--tz", "Nowhere"], "--tz: 'Nowhere' is not an IANA time zone", id="course bad zone"),
        pytest.param(
            ["availability", "slots", "--service", "s", "--from", "2026-12-09", "--to", "2026-12-08"],
            "--to: '2026-12-08' must be after --from '2026-12-09'",
            id="slots window inverted",
        ),
        pytest.param(
            ["availability", "slots", "--service", "s", "--from", "2026-12-08", "--to", "2026-12-09", "--time-zone", "Mars/Olympus"],
            "--time-zone: 'Mars/Olympus' is not an IANA time zone",
            id="slots bad zone",
        ),
        pytest.param(
            ["availability", "dates", "--service", "s", "--from", "2026-12-31", "--to", "2026-12-01"],
            "--to: 2026-12-01 is before --from 2026-12-31",
            id="dates inverted",
        ),
        pytest.param(["staff", "update", "x", "--revision", "1"], "nothing to update: give at least one of --name", id="staff update without changes"),
        pytest.param(
            ["hours", "set", "--staff", "s", "--rule", "mon-fri 09:00-17:00", "--rule", "wed 12:00-13:00"],
            "--rule 'wed 12:00-13:00' (Wednesday 12:00-13:00): overlaps --rule 'mon-fri 09:00-17:00'",
            id="overlapping rules",
        ),
        pytest.param(
            ["hours", "set", "--staff", "s", "--rule", "mon 09:00-17:00", "--from", "2027-02-01", "--to", "2027-01-31"],
            "--to: 2027-01-31 is before --from 2027-02-01",
            id="effective period inverted",
        ),
        pytest.param(["hours", "set", "--schedule", "s", "--clear", "--add"], "--clear removes every rule", id="clear and add"),
        pytest.param(
            ["time-off", "create", "--staff", "s", "--start", "2026-12-24T13:00", "--end", "2026-12-24T09:00"],
            "--end: '2026-12-24T09:00' must be after --start '2026-12-24T13:00'",
            id="time off ends before it starts",
        ),
        pytest.param(
            ["extra-hours", "create", "--schedule", "s", "--start", "2026-12-24T09:00Z", "--end", "2026-12-24T13:00"],
            "--start: '2026-12-24T09:00Z' has a UTC offset",
            id="extra hours with an offset",
        ),
        pytest.param(["time-off", "list", "--staff", "s", "--to", "2026-12-31"], "--to: give --from too", id="exceptions window without a start"),
        pytest.param(
            ["time-off", "list", "--staff", "s", "--from", "2026-12-31", "--to", "2026-12-01"],
            "--to: '2026-12-01' must be after --from '2026-12-31'",
            id="exceptions window inverted",
        ),
        pytest.param(
            ["book", "appointment", "--service", "s", "--start", "2026-12-08T09:00+01:00", "--name", "Ada", "--email", "ada@example.com"],
            "--start: '2026-12-08T09:00+01:00' has a UTC offset",
            id="appointment start with an offset",
        ),
        pytest.param(
            ["book", "appointment", "--service", "s", "--start", "2026-12-08T09:00", "--time-zone", "CET+1", "--name", "Ada", "--email", "ada@example.com"],
            "--time-zone: 'CET+1' is not an IANA time zone",
            id="appointment bad zone",
        ),
    ],
)
def test_local_input_errors_exit_1_with_one_line_and_no_call(cli: Cli, argv: list[str], message: str) -> None:
    result = cli(*argv)

    assert result.code == 1
    assert result.err.startswith("error: ") and message in result.err
    assert "UNAVAILABLE" not in result.err and "Traceback" not in result.err and result.out == ""


def test_without_token_or_secret_it_says_how_to_get_one(cli: Cli) -> None:
    result = cli("services", "list", env={"BOOKINGS_ADDRESS": NOWHERE})

    assert result.code == 1
    assert result.err.startswith("error: no token") and "BOOKINGS_TOKEN" in result.err and "AUTH_JWT_SECRET" in result.err
    assert "UNAVAILABLE" not in result.err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["services", "create", "--type", "course"], id="required options missing"),
        pytest.param(
            ["events", "bulk-create", "--schedule", "s", "--start", "x", "--duration", "60", "--count", "2", "--every", "1y"], id="interval unit unknown"
        ),
        pytest.param(["events", "create", "--schedule", "s", "--start", "2026-12-01T10:00", "--duration", "0"], id="duration not positive"),
        pytest.param(["services", "list", "--timeout", "0"], id="timeout not positive"),
        pytest.param(["nonsense"], id="unknown command"),
        pytest.param(["availability", "courses", "--from", "2026-12-01"], id="availability without --to"),
        pytest.param(["availability", "courses", "--from", "2026-12-01", "--to", "2026-12-31", "--party", "0"], id="party not positive"),
        pytest.param(["availability", "course"], id="course without --schedule or --event"),
        pytest.param(["availability", "course", "--schedule", "s", "--event", "e"], id="course with both --schedule and --event"),
        pytest.param(["toggles", "set", "course_availability_enabled", "--percentage", "101"], id="percentage above 100"),
        pytest.param(["toggles", "set", "course_availability_enabled", "--percentage", "-1"], id="percentage below 0"),
        pytest.param(["toggles", "set", "course_availability_enabled", "--percentage", "ten"], id="percentage not a number"),
        pytest.param(["toggles", "check"], id="check without a toggle"),
        pytest.param(["staff", "create", "Dr. Ana Berger"], id="staff without a time zone"),
        pytest.param(["hours", "set", "--rule", "mon-fri 09:00-17:00"], id="hours without --staff or --schedule"),
        pytest.param(["hours", "set", "--staff", "s", "--schedule", "t", "--rule", "mon-fri 09:00-17:00"], id="hours with --staff and --schedule"),
        pytest.param(["hours", "set", "--staff", "s"], id="hours set without --rule or --clear"),
        pytest.param(["hours", "set", "--staff", "s", "--rule", "mon-fri 09:00-17:00", "--clear"], id="hours set with --rule and --clear"),
        pytest.param(["hours", "set", "--staff", "s", "--rule", "mon-fry 09:00-17:00"], id="a rule with an unknown day"),
        pytest.param(["hours", "set", "--staff", "s", "--rule", "mon 09:00-24:00"], id="a rule ending at 24:00"),
        pytest.param(["hours", "set", "--staff", "s", "--rule", "mon 09:00-17:00", "--from", "01/02/2027"], id="an effective date not ISO"),
        pytest.param(["holidays", "create", "--staff", "s", "--date", "2026-02-30"], id="a holiday on no date"),
        pytest.param(["time-off", "create", "--staff", "s", "--start", "2026-12-24T09:00"], id="time off without --end"),
        pytest.param(["availability", "dates", "--service", "s", "--from", "2026-12-01T10:00", "--to", "2026-12-31"], id="dates are dates"),
        pytest.param(["book", "appointment", "--service", "s", "--name", "Ada", "--email", "ada@example.com"], id="appointment without --start"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str]) -> None:
    assert cli(*argv).code == 2


# --- the token command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "tenant", "scopes"),
    [
        pytest.param(
            [],
            "demo",
            "catalog:read catalog:write calendar:read calendar:write bookings:read bookings:write availability:read",
            id="defaults: tenant demo, every non-internal scope",
        ),
        pytest.param(["--tenant", "acme", "--scopes", "calendar:read", "catalog:read"], "acme", "calendar:read catalog:read", id="scopes as separate words"),
        pytest.param(["--scopes", "calendar:read,internal"], "demo", "calendar:read internal", id="comma separated, internal on request"),
    ],
)
def test_token_command(cli: Cli, argv: list[str], tenant: str, scopes: str) -> None:
    result = cli("token", *argv, "--ttl", "120")

    assert result.code == 0, result.err
    claims = jwt.decode(result.out.strip(), SECRET, algorithms=["HS256"])
    assert (claims["tenant_id"], claims["scope"], claims["exp"] - claims["iat"]) == (tenant, scopes, 120)


def test_token_command_takes_the_tenant_from_bookings_tenant(cli: Cli) -> None:
    result = cli("token", env={**ENV, "BOOKINGS_TENANT": "from-env"})

    assert jwt.decode(result.out.strip(), SECRET, algorithms=["HS256"])["tenant_id"] == "from-env"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        pytest.param(["--scopes", "root"], ENV, "unknown scope(s) root", id="unknown scope"),
        pytest.param([], {}, "no secret", id="no secret"),
    ],
)
def test_token_command_errors(cli: Cli, argv: list[str], env: dict[str, str], message: str) -> None:
    result = cli("token", *argv, env=env)

    assert result.code == 1 and message in result.err and result.out == ""


def test_token_command_with_secret_flag_needs_no_env(cli: Cli) -> None:
    result = cli("token", "--secret", "x" * 32, env={})

    assert result.code == 0
    assert jwt.decode(result.out.strip(), "x" * 32, algorithms=["HS256"])["tenant_id"] == "demo"


# --- availability: the request the CLI would send ----------------------------------------------------


@pytest.mark.parametrize(
    ("from_text", "to_text", "window"),
    [
        pytest.param("2026-12-01", "2026-12-31", ("2026-12-01T00:00:00", "2027-01-01T00:00:00"), id="a bare --to date includes that whole day"),
        pytest.param("2026-12-01T08:00", "2026-12-01T12:30", ("2026-12-01T08:00:00", "2026-12-01T12:30:00"), id="a --to date-time is the exclusive end"),
        pytest.param("2026-12-01", "2026-12-01", ("2026-12-01T00:00:00", "2026-12-02T00:00:00"), id="one day"),
    ],
)
def test_availability_window(from_text: str, to_text: str, window: tuple[str, str]) -> None:
    start, end = local_window(from_text, to_text)

    assert (start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")) == window


# --- toggles: refused before Redis is asked ----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["toggles", "set", "dark_mode", "--percentage", "5"], id="set"),
        pytest.param(["toggles", "check", "course_availabilty_enabled", "--tenant", "t"], id="check: a typo"),
    ],
)
def test_an_unknown_toggle_is_refused_with_the_known_ones(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)

    assert result.code == 1 and result.out == ""
    assert result.err == f"error: unknown toggle {argv[2]!r}; known toggles: course_availability_enabled, proxy_course_to_new_endpoint\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["toggles", "set", "course_availability_enabled"], "nothing to change", id="set without a change"),
        pytest.param(
            ["toggles", "set", "course_availability_enabled", "--allow", "a", "--deny", "a"], "a given to both --allow and --deny", id="allow and deny at once"
        ),
    ],
)
def test_toggle_set_input_errors_exit_1_before_redis(cli: Cli, argv: list[str], message: str) -> None:
    result = cli(*argv)

    assert result.code == 1 and message in result.err and "Redis" not in result.err


def test_unreachable_redis_says_where_it_looked_without_the_password(cli: Cli) -> None:
    result = cli("toggles", "list", "--redis-url", "redis://operator:s3cret@127.0.0.1:1/0")

    assert result.code == 1 and result.out == ""
    assert result.err.startswith("error: Redis at redis://operator:***@127.0.0.1:1/0: ")
    assert "is the platform running (`make run`)? Pass --redis-url or set REDIS_URL" in result.err
    assert "s3cret" not in result.err and "Traceback" not in result.err


def test_toggles_help_says_changes_need_no_restart(cli: Cli) -> None:
    result = cli("toggles", "set", "--help")

    assert result.code == 0
    assert "takes effect within a second, no restart" in " ".join(result.out.split())
