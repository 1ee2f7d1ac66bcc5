"""Command-line entry shared by the services: `python -m services.<name> serve|migrate`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import uvloop

from services.common.config import DatabaseSettings, ServiceSettings, load_settings
from services.common.db import migrate
from services.common.logging import configure_logging, get_logger
from services.common.server import Build, PortInUse, run_server
from services.common.telemetry import configure_telemetry
from services.common.workers import supervise


def service_main(
    settings_cls: type[ServiceSettings],
    make_build: Callable[[ServiceSettings], Build],
    migrations: Sequence[Path] = (),
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{settings_cls.__module__.split('.')[1]}")
    parser.add_argument("command", choices=["serve", "migrate"], nargs="?", default="serve")
    command = parser.parse_args().command

    settings = load_settings(settings_cls)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    log = get_logger("main")

    if command == "migrate":
        if not migrations or not isinstance(settings, DatabaseSettings):
            log.info("nothing to migrate")
            return
        applied = migrate(settings.database_url, settings.database_schema, migrations)
        log.info("migrated", schema=settings.database_schema, applied=applied)
        return

    if settings.grpc_workers > 1:
        raise SystemExit(supervise(settings, parser.prog.removeprefix("python -m ")))

    telemetry = configure_telemetry(settings.service_name)
    try:
        # uvloop: the same asyncio API with a faster event loop (grpc.aio supports it).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run_server(settings, make_build(settings)))
    except PortInUse as exc:
        log.error("port in use", error=str(exc))
        raise SystemExit(3) from None
    finally:
        telemetry.shutdown()
