"""A small process supervisor for the services: start, prefix-merge output, health-wait, stop, fault-inject."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ._proc import DevstackError, signal_group, tail_file, terminate, wait_until

_COLOURS = ("\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[91m")
_RESET = "\033[0m"
_TAIL_LINES = 40
# gRPC backs off ~1 s after a refused connection; while a server boots we want to notice it sooner.
_FAST_RECONNECT = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)


@dataclass
class _Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    colour: str
    proc: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    recent: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=_TAIL_LINES))
    log_offset: int = 0


class Supervisor:
    """Runs named child processes, each in its own process group.

    stream=True merges every child's stdout/stderr into `out` (default sys.stdout) line by line with a
    `name | ` prefix, coloured when `out` is a terminal, and also appends it to `<log_dir>/<name>.log`
    when log_dir is given. stream=False writes each child's output only to `<log_dir>/<name>.log`
    (tests: keeps pytest output readable, logs survive for debugging).
    """

    def __init__(
        self,
        *,
        stream: bool = True,
        log_dir: Path | str | None = None,
        out: TextIO | None = None,
        colour: bool | None = None,
    ) -> None:
        if not stream and log_dir is None:
            raise ValueError("stream=False needs a log_dir for the per-process log files")
        self.stream = stream
        self.log_dir = Path(log_dir).resolve() if log_dir is not None else None
        self._out = out if out is not None else sys.stdout
        self._colour = colour if colour is not None else _is_colour_terminal(self._out)
        self._children: dict[str, _Child] = {}
        self._out_lock = threading.Lock()
        self._name_width = 0

    # --- lifecycle -------------------------------------------------------------------------------

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | str | None = None,
    ) -> int:
        """Start a child and return its pid. env is the child's full environment (None: inherit ours)."""
        if name in self._children and self.is_running(name):
            raise DevstackError(f"{name} is already running (pid {self.pid(name)})")
        child_env = dict(os.environ if env is None else env)
        child_env.setdefault("PYTHONUNBUFFERED", "1")  # otherwise Python children hold log lines back
        known = self._children.get(name)
        colour = known.colour if known else _COLOURS[len(self._children) % len(_COLOURS)]
        child = _Child(name, list(argv), child_env, Path(cwd) if cwd is not None else None, colour)
        self._children[name] = child
        self._name_width = max(self._name_width, len(name))
        self._spawn(child)
        assert child.proc is not None
        return child.proc.pid

    def stop(self, name: str, grace: float = 10.0) -> int | None:
        """SIGTERM one child, SIGKILL after grace seconds; return its exit code (None if never started)."""
        child = self._child(name)
        if child.proc is None:
            return None
        code = terminate(child.proc, signal.SIGTERM, grace)
        self._join_reader(child)
        return code

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM every child at once, wait up to grace in total, then SIGKILL the rest (idempotent)."""
        running = [c for c in self._children.values() if c.proc is not None and c.proc.poll() is None]
        for child in running:
            assert child.proc is not None
            signal_group(child.proc, signal.SIGTERM)
            signal_group(child.proc, signal.SIGCONT)  # a paused child only acts on SIGTERM once continued
        deadline = time.monotonic() + grace
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(child.proc, signal.SIGKILL)
                child.proc.wait()
        for child in self._children.values():
            self._join_reader(child)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send sig to the child's process group (fault injection: SIGKILL, SIGSTOP, SIGCONT...)."""
        child = self._child(name)
        if child.proc is not None:
            signal_group(child.proc, sig)

    def restart(self, name: str, grace: float = 10.0) -> int:
        """Stop the child (if running) and start it again with the same argv and env; return the new pid."""
        child = self._child(name)
        self.stop(name, grace)
        self._spawn(child)
        assert child.proc is not None
        return child.proc.pid

    # --- health and introspection ----------------------------------------------------------------

    def wait_healthy(self, name: str, port: int, timeout: float = 30.0) -> None:
        """Block until the child's gRPC health service reports SERVING on 127.0.0.1:port.

        Raises DevstackError with the child's last log lines if it exits first or timeout passes.
        """
        child = self._child(name)
        if child.proc is None:
            raise DevstackError(f"{name} was never started")
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=_FAST_RECONNECT) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            wait_until(
                lambda: _serving(stub),
                timeout=timeout,
                what=f"{name} (gRPC health on port {port})",
                proc=child.proc,
                log_tail=lambda: self.log_tail(name),
                interval=0.1,
            )

    def is_running(self, name: str) -> bool:
        proc = self._child(name).proc
        return proc is not None and proc.poll() is None

    def pid(self, name: str) -> int | None:
        proc = self._child(name).proc
        return proc.pid if proc is not None else None

    def returncode(self, name: str) -> int | None:
        proc = self._child(name).proc
        return proc.poll() if proc is not None else None

    @property
    def names(self) -> list[str]:
        return list(self._children)

    def log_path(self, name: str) -> Path | None:
        """The child's log file, if there is a log_dir."""
        self._child(name)
        return self.log_dir / f"{name}.log" if self.log_dir is not None else None

    def log_tail(self, name: str, lines: int = _TAIL_LINES) -> str:
        """The child's last output lines since its latest (re)start."""
        child = self._child(name)
        path = self.log_path(name)
        if not self.stream and path is not None:
            return tail_file(path, lines, child.log_offset)
        if child.proc is not None and child.proc.poll() is not None:
            self._join_reader(child, timeout=0.5)  # let the reader drain what the dead child wrote last
        return f"--- last output of {name} ---\n" + "\n".join(list(child.recent)[-lines:])

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop_all()

    # --- internals -------------------------------------------------------------------------------

    def _child(self, name: str) -> _Child:
        try:
            return self._children[name]
        except KeyError:
            raise DevstackError(f"no process named {name!r}; known: {sorted(self._children)}") from None

    def _spawn(self, child: _Child) -> None:
        child.recent.clear()
        log = self._open_log(child) if self.log_dir is not None else None
        try:
            child.proc = subprocess.Popen(
                child.argv,
                env=child.env,
                cwd=child.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if self.stream else log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own group: our signals reach its helpers; Ctrl-C reaches only us
            )
        except BaseException:
            if log is not None:
                log.close()
            raise
        if not self.stream:
            if log is not None:
                log.close()  # the child writes through its own copy of the descriptor
            return
        assert child.proc.stdout is not None
        child.reader = threading.Thread(target=self._pump, args=(child, child.proc.stdout, log), name=f"devstack-{child.name}-output", daemon=True)
        child.reader.start()

    def _open_log(self, child: _Child) -> IO[bytes]:
        assert self.log_dir is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / f"{child.name}.log"
        child.log_offset = path.stat().st_size if path.exists() else 0
        return path.open("ab")

    def _pump(self, child: _Child, pipe: IO[bytes], log: IO[bytes] | None) -> None:
        """Copy the child's output to ours line by line, prefixed; runs on the child's reader thread."""
        with pipe, log if log is not None else contextlib.nullcontext():
            for raw in iter(pipe.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                child.recent.append(line)
                # Output errors (closed stdout, full disk) must not stop the draining: the child would block.
                with contextlib.suppress(OSError, ValueError):
                    if log is not None:
                        log.write(raw)
                        log.flush()  # so the file is current when someone tails it
                with self._out_lock, contextlib.suppress(OSError, ValueError):
                    self._out.write(f"{self._prefix(child)}{line}\n")
                    self._out.flush()

    def _prefix(self, child: _Child) -> str:
        # Width from all names started so far, so columns line up once every service has started.
        prefix = f"{child.name:<{self._name_width}} | "
        return f"{child.colour}{prefix}{_RESET}" if self._colour else prefix

    @staticmethod
    def _join_reader(child: _Child, timeout: float = 5.0) -> None:
        if child.reader is not None and child.reader is not threading.current_thread():
            child.reader.join(timeout)


def _serving(stub: health_pb2_grpc.HealthStub) -> bool:
    try:
        response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
    except grpc.RpcError:
        return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def _is_colour_terminal(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
