"""Several server processes on one port, for a machine with several cores and no orchestrator.

A Python process runs its handlers on one core. With GRPC_WORKERS=N, `serve` starts N fresh
interpreters of the same service, each binding the port with SO_REUSEPORT (the kernel spreads
new connections over them), and supervises them: SIGTERM/SIGINT is passed on and each worker
drains as usual; if one worker dies the others are stopped and the supervisor exits with its
code, so whatever restarts the service (Kubernetes, `make run`) sees one failure, not a
silently shrunken pool. Workers are spawned, not forked: gRPC's core must not cross a fork.

Each worker is a full service instance: its own pools, caches and consumer-group membership,
which the services already tolerate because they run as several replicas in production.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import time

from services.common.config import ServiceSettings
from services.common.logging import get_logger

log = get_logger("workers")

_PR_SET_PDEATHSIG = 1


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (a plain bind, without SO_REUSEPORT, succeeds)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _die_with_parent() -> None:
    """In the worker, before exec: the kernel sends SIGTERM if the supervisor dies (even by
    SIGKILL), so no worker is left serving on its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def supervise(settings: ServiceSettings, module: str) -> int:
    """Run settings.grpc_workers copies of `python -m <module> serve`; return the exit code."""
    if not port_is_free(settings.grpc_host, settings.grpc_port):
        log.error("port in use", port=settings.grpc_port, error=f"{settings.service_name}: cannot listen on {settings.grpc_host}:{settings.grpc_port}")
        return 3
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    env = {**os.environ, "GRPC_WORKERS": "1", "GRPC_REUSE_PORT": "true"}
    workers: list[subprocess.Popen[bytes]] = []
    for index in range(settings.grpc_workers):
        worker_env = {**env, "GRPC_WORKER_INDEX": str(index)}
        workers.append(subprocess.Popen([sys.executable, "-m", module, "serve"], env=worker_env, preexec_fn=_die_with_parent))  # noqa: PLW1509
    if stopping:  # a signal came while they were starting
        stop(signal.SIGTERM, None)
    log.info("workers started", workers=settings.grpc_workers, pids=[w.pid for w in workers], port=settings.grpc_port)

    exit_code = 0
    while any(w.poll() is None for w in workers):
        ended = next((w for w in workers if w.returncode is not None), None)
        if ended is not None and not stopping:
            # A worker ending on its own, even with 0, is a failure of the pool.
            exit_code = ended.returncode or 1
            log.error("worker exited; stopping the others", pid=ended.pid, code=ended.returncode)
            stop(signal.SIGTERM, None)
        time.sleep(0.1)
    log.info("workers stopped", codes=[w.returncode for w in workers])
    return exit_code
