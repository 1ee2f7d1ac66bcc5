"""What the `bookings` CLI decides before it calls anything: bad local input (exit 1, one line),
usage errors (exit 2), and the `token` command. No server is involved: the service addresses
point at a port nothing listens on, so a call made by mistake would surface as an UNAVAILABLE
error instead of the expected message. Calls to the real services are in
tests/integration/test_cli.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jwt
import pytest

from services.cli.main import main

SECRET = "unit-test-secret-0123456789abcdef0123456789"
NOWHERE = "127.0.0.1:1"
ENV = {"AUTH_JWT_SECRET": SECRET, "BOOKINGS_ADDRESS": NOWHERE, "TIMEFRAMES_ADDRESS": NOWHERE}


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
