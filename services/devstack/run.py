"""`make run`: the whole platform on this machine, in the foreground.

Starts embedded PostgreSQL, Redis and a Kafka-protocol broker (unless DATABASE_URL, REDIS_URL or
KAFKA_BOOTSTRAP_SERVERS point at real ones), migrates, starts the four services, loads the demo
tenant, prints `ready`, a dev token and example calls, then streams the services' logs until
Ctrl-C, when it stops every process it started.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from services.devstack.infra import InfraPorts
from services.devstack.stack import SERVICE_PORTS, Platform

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".devstack"


def _port_from_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _busy(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def service_base_env(environ: Mapping[str, str] = os.environ, terminal: bool | None = None) -> dict[str, str]:
    """The services' environment: this one, with their logs as readable lines when they stream to a
    terminal (LOG_FORMAT=console) and JSON otherwise, and always when LOG_FORMAT is set."""
    env = dict(environ)
    if (sys.stdout.isatty() if terminal is None else terminal) and "LOG_FORMAT" not in env:
        env["LOG_FORMAT"] = "console"
    return env


def _dev_secret() -> str:
    """A per-checkout secret, kept so tokens printed by one run keep working in the next."""
    if os.environ.get("AUTH_JWT_SECRET"):
        return os.environ["AUTH_JWT_SECRET"]
    path = STATE / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _acquire_lock() -> object:
    STATE.mkdir(exist_ok=True)
    handle = open(STATE / "run.lock", "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        sys.exit(f"make run is already running in this checkout (pid {pid}). Stop it with Ctrl-C in its terminal, or `kill {pid}`.")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _enable_course_availability_for_demo(redis_url: str) -> None:
    """`course_availability_enabled` ships off (docs/rollout.md "Feature toggles"); the demo
    tenant is allowed so the examples work. Other tenants follow whatever rollout percentage an
    operator set."""
    from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED
    from services.cli.toggles import Edit, ToggleStore, edit

    store = ToggleStore(redis_url, timeout=2.0)
    try:
        store.update(COURSE_AVAILABILITY_ENABLED, lambda rule: edit(rule, Edit(allow=("demo",))))
    finally:
        store.close()


def _examples(token: str, platform: Platform, demo: object) -> str:
    b, t, a = platform.address("bookings"), platform.address("timeframes"), platform.address("availability")
    today = datetime.date.today()
    in_a_month = today + datetime.timedelta(days=31)
    course = getattr(demo, "course_service_id", "<service id>")
    schedule = getattr(demo, "course_schedule_id", "<schedule id>")
    clinic = getattr(demo, "clinic_service_id", "<service id>")
    doctor = next(iter(getattr(demo, "clinic_staff_ids", ())), "<staff member id>")
    tomorrow = today + datetime.timedelta(days=1)
    return f"""
  export BOOKINGS_TOKEN={token}

  # the CLI (installed in .venv)
  .venv/bin/bookings services list
  .venv/bin/bookings events list --schedule {schedule}
  .venv/bin/bookings timeframes {schedule}
  .venv/bin/bookings services create --type course --name "Wheel throwing" --capacity 8 --time-zone Europe/Vienna
  .venv/bin/bookings availability courses --from {today} --to {in_a_month}
  .venv/bin/bookings availability course --schedule {schedule}
  .venv/bin/bookings staff list --service {clinic}
  .venv/bin/bookings hours list --staff {doctor}
  .venv/bin/bookings time-off list --staff {doctor}
  .venv/bin/bookings availability dates --service {clinic} --from {today} --to {in_a_month}
  .venv/bin/bookings availability slots --service {clinic} --from {tomorrow} --to {tomorrow} --all
  .venv/bin/bookings book appointment --service {clinic} --start <a slot listed above, e.g. {tomorrow}T14:00> --name "Ada" --email ada@example.com
  .venv/bin/bookings toggles list

  # grpcurl (reflection is on)
  grpcurl -plaintext {b} list
  grpcurl -plaintext -H "authorization: Bearer $BOOKINGS_TOKEN" -d '{{"service_id": "{course}"}}' {b} bookings.catalog.v1.Services/GetService
  grpcurl -plaintext -H "authorization: Bearer $BOOKINGS_TOKEN" -d '{{"schedule_ids": ["{schedule}"]}}' \\
    {t} calendar.timeframes.v3.ScheduleTimeFrames/ListScheduleTimeFrames
  grpcurl -plaintext -H "authorization: Bearer $BOOKINGS_TOKEN" \\
    -d '{{"from_local_date": "{today}", "to_local_date": "{in_a_month}"}}' \\
    {a} bookings.availability.v2.CourseEventTimeSlots/ListCourseEventTimeSlots
  grpcurl -plaintext {a} grpc.health.v1.Health/Check
"""


def main() -> None:
    started = time.monotonic()
    lock = _acquire_lock()
    service_ports = {name: _port_from_env(f"{name.upper()}_PORT", port) for name, port in SERVICE_PORTS.items()}
    infra_ports = InfraPorts(
        postgres=_port_from_env("DEVSTACK_POSTGRES_PORT", 55432),
        redis=_port_from_env("DEVSTACK_REDIS_PORT", 56379),
        kafka=_port_from_env("DEVSTACK_KAFKA_PORT", 59092),
    )
    taken = [f"{name} ({port})" for name, port in service_ports.items() if _busy(port)]
    if taken:
        sys.exit(
            "cannot start: these service ports are already in use: "
            + ", ".join(taken)
            + ". Is the platform already running elsewhere? Stop it, or choose ports with e.g. BOOKINGS_PORT=60052."
        )

    secret = _dev_secret()
    platform = Platform(state_dir=STATE, jwt_secret=secret, infra_ports=infra_ports, service_ports=service_ports, stream_logs=True, base_env=service_base_env())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        print("starting PostgreSQL, Redis and the Kafka-protocol broker ...", flush=True)
        platform.start_infra()
        print("migrating ...", flush=True)
        platform.migrate()
        print("starting the services ...", flush=True)
        platform.start_services()

        from services.common.auth import ALL_SCOPES, mint_token
        from services.devstack.demo import load_demo

        demo = load_demo(platform.address("bookings"), platform.address("timeframes"), secret, availability_address=platform.address("availability"))
        _enable_course_availability_for_demo(platform.infra.env()["REDIS_URL"])
        token = mint_token(secret, tenant_id="demo", scopes=[s for s in ALL_SCOPES if s != "internal"], ttl_seconds=7 * 24 * 3600)
        ports = " ".join(f"{name}={platform.address(name)}" for name in service_ports)
        print(f"\nready in {time.monotonic() - started:.1f}s: {ports}", flush=True)
        print(f"demo tenant: {demo}\ndev token for tenant 'demo' (7 days):{_examples(token, platform, demo)}", flush=True)
        print("streaming service logs; Ctrl-C stops everything.\n", flush=True)
        while not stop.wait(1.0):
            dead = [name for name in service_ports if not platform.supervisor.is_running(name)]
            if dead:
                print(f"service(s) exited: {', '.join(dead)}; stopping everything", file=sys.stderr, flush=True)
                break
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # a clear message, not a traceback, for start-up failures
        print(f"make run failed: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    finally:
        print("\nstopping ...", flush=True)
        platform.stop()
        print("stopped.", flush=True)
        del lock


if __name__ == "__main__":
    main()
