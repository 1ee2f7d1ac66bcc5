"""The process supervisor: output merging, gRPC health waits, stopping, fault injection.

Children are tiny Python scripts (a gRPC health server, or a script that misbehaves); no infrastructure.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from services.devstack import DevstackError, Supervisor, free_port
from services.devstack._proc import OwnedPidfile

HEALTH_SERVER = """
import signal, sys
from concurrent import futures
import grpc
from grpc_health.v1 import health, health_pb2_grpc

print("booting", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
server = grpc.server(futures.ThreadPoolExecutor(2))
health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
server.start()
print("serving", flush=True)
signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
server.wait_for_termination()
print("stopped cleanly", flush=True)
"""


@pytest.fixture
def health_server(tmp_path: Path) -> list[str]:
    script = tmp_path / "health_server.py"
    script.write_text(HEALTH_SERVER)
    return [sys.executable, str(script)]


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def supervisor(out: io.StringIO) -> Iterator[Supervisor]:
    with Supervisor(out=out) as sup:
        yield sup


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_merges_output_with_name_prefix_and_stops_gracefully(supervisor: Supervisor, out: io.StringIO, health_server: list[str]) -> None:
    port = free_port()
    supervisor.start("bookings", [*health_server, str(port)])
    supervisor.wait_healthy("bookings", port, timeout=15)
    supervisor.stop_all(grace=5)
    supervisor.stop_all(grace=5)  # idempotent

    assert supervisor.returncode("bookings") == 0
    lines = out.getvalue().splitlines()
    assert "bookings | booting" in lines
    assert "bookings | a warning on stderr" in lines  # stderr merged too
    assert "bookings | stopped cleanly" in lines
    assert "\033[" not in out.getvalue()  # StringIO is not a terminal: no colours


def test_colours_the_prefix_when_asked(out: io.StringIO) -> None:
    with Supervisor(out=out, colour=True) as sup:
        sup.start("a", _python("print('hi')"))
        _wait_for_output(sup, "a", "hi")
    assert out.getvalue() == "\033[36ma | \033[0mhi\n"


def test_wait_healthy_reports_an_early_exit_with_the_last_output(supervisor: Supervisor) -> None:
    supervisor.start("broken", _python("import sys; print('cannot connect to the database'); sys.exit(3)"))
    with pytest.raises(DevstackError, match=r"(?s)broken .*exited with code 3.*cannot connect to the database"):
        supervisor.wait_healthy("broken", free_port(), timeout=15)


def test_wait_healthy_times_out_with_the_last_output(supervisor: Supervisor) -> None:
    supervisor.start("silent", _python("import time; print('still migrating', flush=True); time.sleep(60)"))
    with pytest.raises(DevstackError, match=r"(?s)not ready after 1s.*still migrating"):
        supervisor.wait_healthy("silent", free_port(), timeout=1)


def test_stop_all_kills_a_child_that_ignores_sigterm(supervisor: Supervisor) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    supervisor.start("stubborn", _python(code))
    supervisor.start("polite", _python("import time; time.sleep(60)"))
    _wait_for_output(supervisor, "stubborn", "up")
    supervisor.stop_all(grace=0.5)
    assert supervisor.returncode("stubborn") == -signal.SIGKILL
    assert supervisor.returncode("polite") == -signal.SIGTERM


def test_kill_and_restart_for_fault_injection(supervisor: Supervisor, health_server: list[str]) -> None:
    port = free_port()
    supervisor.start("timeframes", [*health_server, str(port)])
    supervisor.wait_healthy("timeframes", port, timeout=15)
    first = supervisor.pid("timeframes")

    supervisor.kill("timeframes", signal.SIGKILL)
    assert supervisor.stop("timeframes") == -signal.SIGKILL
    assert not supervisor.is_running("timeframes")

    assert supervisor.restart("timeframes") != first
    supervisor.wait_healthy("timeframes", port, timeout=15)


def test_log_files_when_not_streaming(tmp_path: Path, health_server: list[str]) -> None:
    port = free_port()
    with Supervisor(stream=False, log_dir=tmp_path / "logs") as sup:
        sup.start("availability", [*health_server, str(port)])
        sup.wait_healthy("availability", port, timeout=15)
        sup.restart("availability")
        sup.wait_healthy("availability", port, timeout=15)
        tail = sup.log_tail("availability")
    log = (tmp_path / "logs" / "availability.log").read_text()
    assert log.count("booting") == 2  # appended across restarts
    assert tail.count("booting") == 1  # the tail covers the latest run only


def test_unknown_names_and_duplicate_starts_are_errors(supervisor: Supervisor) -> None:
    with pytest.raises(DevstackError, match="no process named 'nope'"):
        supervisor.kill("nope")
    supervisor.start("once", _python("import time; time.sleep(60)"))
    with pytest.raises(DevstackError, match="already running"):
        supervisor.start("once", _python("pass"))


def test_pidfile_refuses_to_reap_a_child_whose_owner_is_alive(tmp_path: Path) -> None:
    """Two runs sharing a state directory: the second must fail, not kill the first run's server."""
    owner = subprocess.Popen(_python("import time; time.sleep(60)"))
    child = subprocess.Popen(_python("import time; time.sleep(60)"), start_new_session=True)
    try:
        pidfile = OwnedPidfile(tmp_path / "server.pid")
        fields = [
            child.pid,
            psutil.Process(child.pid).create_time(),
            owner.pid,
            psutil.Process(owner.pid).create_time(),
        ]
        pidfile.path.write_text(" ".join(repr(f) for f in fields))
        with pytest.raises(DevstackError, match="in use"):
            pidfile.reap_orphan()
        assert child.poll() is None

        owner.kill()
        owner.wait()
        pidfile.reap_orphan(grace=5)  # owner gone: the child is an orphan and gets stopped
        child.wait(timeout=5)  # (psutil already reaped it: here the "orphan" is our own child)
        assert not psutil.pid_exists(child.pid)
        assert not pidfile.path.exists()
    finally:
        for proc in (owner, child):
            proc.kill()
            proc.wait()


def _wait_for_output(sup: Supervisor, name: str, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in sup.log_tail(name):
        assert time.monotonic() < deadline, f"{name} never printed {text!r}"
        time.sleep(0.05)
