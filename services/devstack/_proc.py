"""Process helpers shared by the infrastructure components and the supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil


class DevstackError(RuntimeError):
    """A local infrastructure process or service failed to start or stop."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tcp_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send sig to the child's process group (children run in their own session), if it still runs."""
    if proc.poll() is not None:
        return  # reaped: its group id may already belong to someone else
    with contextlib.suppress(ProcessLookupError):  # exited but not yet reaped
        os.killpg(proc.pid, sig)


def terminate(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 10.0) -> int:
    """Stop a child politely with sig, SIGKILL its whole group after grace seconds; return the exit code."""
    signal_group(proc, sig)
    signal_group(proc, signal.SIGCONT)  # a paused (SIGSTOPped) child only acts on sig once continued
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        return proc.wait()


def wait_until(
    probe: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log_tail: Callable[[], str] = lambda: "",
    interval: float = 0.05,
) -> None:
    """Poll probe until it returns True; fail fast (with the log tail) if proc exits or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise DevstackError(f"{what} exited with code {proc.returncode} before it was ready\n{log_tail()}")
        if probe():
            return
        if time.monotonic() >= deadline:
            raise DevstackError(f"{what} was not ready after {timeout:.0f}s\n{log_tail()}")
        time.sleep(interval)


def tail_file(path: Path, lines: int = 40, offset: int = 0) -> str:
    """The last lines of a log file, reading only what was written after offset."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            # 64 KiB comfortably holds 40 log lines; avoids reading huge logs.
            fh.seek(max(offset, size - 65536))
            data = fh.read()
    except FileNotFoundError:
        return f"(no log at {path})"
    text = data.decode("utf-8", errors="replace").splitlines()[-lines:]
    return f"--- last lines of {path} ---\n" + "\n".join(text)


class OwnedPidfile:
    """Records which devstack process owns a child, so a child orphaned by a killed run can be reaped.

    A child runs in its own session (so Ctrl-C reaches only the orchestrator, which stops services
    before infrastructure); if the orchestrator is SIGKILLed the child survives. The next run finds it
    here and stops it, but only if the recorded owner is gone: a live owner means another run is using
    the same state directory, which is an error rather than something to kill.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, child_pid: int) -> None:
        owner = os.getpid()
        fields = (child_pid, _create_time(child_pid), owner, _create_time(owner))
        self.path.write_text(" ".join(str(f) for f in fields) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def reap_orphan(self, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
        """Stop the recorded child if it outlived its owner; raise if the owner is still alive."""
        try:
            child_pid, child_ct, owner_pid, owner_ct = self.path.read_text().split()
        except (FileNotFoundError, ValueError):
            self.remove()
            return
        child = _same_process(int(child_pid), child_ct)
        owner = _same_process(int(owner_pid), owner_ct)
        if child is not None and owner is not None and owner.pid != os.getpid():
            raise DevstackError(f"{self.path.parent} is in use by pid {child.pid}, started by the still running pid {owner.pid}")
        if child is not None:
            _stop_orphan(child, sig, grace)
        self.remove()


def _create_time(pid: int) -> str:
    return repr(psutil.Process(pid).create_time())


def _same_process(pid: int, create_time: str) -> psutil.Process | None:
    """The live process with this pid, unless the pid was reused by a different process since."""
    try:
        proc = psutil.Process(pid)
        return proc if repr(proc.create_time()) == create_time else None
    except psutil.NoSuchProcess:
        return None


def _stop_orphan(proc: psutil.Process, sig: int, grace: float) -> None:
    # The orphan led its own session, so signalling its group also reaches its helper processes.
    for attempt in (sig, signal.SIGKILL):
        try:
            os.killpg(proc.pid, attempt)
            proc.wait(timeout=grace)
            return
        except (ProcessLookupError, psutil.NoSuchProcess):
            return
        except psutil.TimeoutExpired:
            continue
