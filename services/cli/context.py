"""What every command gets: the parsed arguments, the environment, the renderer and lazily opened
clients; and the CLI's own error."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.cli import render, timeseries, toggles
from services.cli.client import DEFAULT_SCOPES, Client
from services.common import local_time
from services.common.auth import mint_token


class CliError(Exception):
    """Bad input or setup the CLI detects itself; printed as `error: <message>`, exit code 1."""


# --- conversions -----------------------------------------------------------------------------------


def zone_arg(name: str, option: str) -> ZoneInfo:
    try:
        return timeseries.zone(name)
    except timeseries.TimeSeriesError as exc:
        raise CliError(f"{option}: {exc}") from None


def local_arg(text: str, option: str) -> datetime:
    try:
        return timeseries.parse_local(text)
    except timeseries.TimeSeriesError as exc:
        raise CliError(f"{option}: {exc}") from None


def local_instant(local: datetime, tz: ZoneInfo, option: str) -> datetime:
    """The UTC instant of the naive local date-time typed for `option`, in `tz`. A time in a
    spring-forward gap is refused naming the option (most likely a typo); one in the fall-back
    hour is its first occurrence (services/common/local_time.py)."""
    try:
        return local_time.to_utc(local, tz, nonexistent="reject")
    except local_time.LocalTimeError as exc:
        raise CliError(f"{option}: {exc}") from None


@dataclass
class Context:
    args: argparse.Namespace
    env: Mapping[str, str]
    out: render.Renderer
    _client: Client | None = field(default=None, init=False)
    _toggles: toggles.ToggleStore | None = field(default=None, init=False)

    def token(self) -> str:
        if self.args.token:
            return str(self.args.token)
        secret = self.env.get("AUTH_JWT_SECRET")
        if secret:
            return mint_token(secret, tenant_id=self.args.tenant, scopes=DEFAULT_SCOPES, subject="cli", ttl_seconds=3600)
        raise CliError(
            "no token: pass --token or set BOOKINGS_TOKEN (`make run` prints one), "
            "or set AUTH_JWT_SECRET to the services' secret and the CLI mints a dev token for --tenant"
        )

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(
                bookings_address=self.args.bookings_address,
                timeframes_address=self.args.timeframes_address,
                availability_address=self.args.availability_address,
                token=self.token(),
                timeout=self.args.timeout,
            )
        return self._client

    @property
    def toggles(self) -> toggles.ToggleStore:
        if self._toggles is None:
            self._toggles = toggles.ToggleStore(self.args.redis_url, self.args.timeout)
        return self._toggles

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._toggles is not None:
            self._toggles.close()

    def schedule_zone(self, schedule_id: str) -> ZoneInfo:
        name = self.client.get_schedule(schedule_id).schedule.time_zone
        return zone_arg(name, f"schedule {schedule_id} time zone")
