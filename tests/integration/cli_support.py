"""Running the `bookings` CLI in-process from the tests (this module holds no tests): what one
run printed and returned, and the environment that points it at the session's platform."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from services.cli.main import main
from services.devstack.stack import Platform
from tests import support


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def ok(self) -> Result:
        assert self.code == 0, self.err
        return self

    def json(self) -> Any:
        return json.loads(self.ok().out)

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines of a `--json` watch."""
        return [json.loads(line) for line in self.ok().out.splitlines() if line.strip()]

    @classmethod
    def of(cls, code: int, capsys: pytest.CaptureFixture[str]) -> Result:
        captured = capsys.readouterr()
        return cls(code, captured.out, captured.err)


Cli = Callable[..., Result]


def platform_env(platform: Platform, tenant: str, *, availability: bool = True, **extra: str) -> dict[str, str]:
    """No token: the CLI mints a dev token for BOOKINGS_TENANT from AUTH_JWT_SECRET."""
    env = {
        "AUTH_JWT_SECRET": platform.jwt_secret,
        "BOOKINGS_TENANT": tenant,
        "BOOKINGS_ADDRESS": platform.address("bookings"),
        "TIMEFRAMES_ADDRESS": platform.address("timeframes"),
        "BOOKINGS_TIMEOUT": "15",
    }
    if availability:
        env["AVAILABILITY_ADDRESS"] = platform.address("availability")
    return {**env, **extra}


def runner(default_env: Mapping[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """cli(*argv, env=None) runs `bookings *argv` with `default_env` (or `env`) -> Result."""

    def run(*argv: str, env: Mapping[str, str] | None = None) -> Result:
        return Result.of(main(list(argv), env=default_env if env is None else env), capsys)

    return run


def eventually(cli: Cli, accept: Callable[[Result], bool], *argv: str, what: str) -> Result:
    """`cli(*argv)` run again until `accept` holds for its result (tests.support.eventually), from a
    synchronous test: for what the platform shows a moment after a change (availability's cache)."""
    return asyncio.run(support.eventually(lambda: asyncio.to_thread(cli, *argv), accept, what=what))
