"""The event loop every bench process runs on, and the life cycle of one benchmark run on its own
platform. The loop: uvloop when it is installed (the services run on
it, see services/common/main.py), so the generator, the proxy and the floor cost what the services'
own loop would, else the standard asyncio loop."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from services.devstack.stack import Platform

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a runtime dependency of the services
    uvloop = None  # type: ignore[assignment]


def run(main: Coroutine[Any, Any, T]) -> T:
    if uvloop is None:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def name() -> str:
    return f"uvloop {uvloop.__version__}" if uvloop is not None else "asyncio (stdlib)"


# --- one benchmark run on its own platform -------------------------------------------------------


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def on_platform(stack: Platform, body: Callable[[Platform], Coroutine[Any, Any, T]], *, keep: bool, say: Callable[[str], None]) -> tuple[T, float] | None:
    """Start `stack`, run `body(stack)` on the bench loop, stop every process whatever happens
    (Ctrl-C and SIGTERM included), delete the state dir after a successful run unless `keep`.
    Returns (the body's result, seconds the platform took to start), or None when interrupted."""
    began = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops the run cleanly even when started where SIGINT was ignored (e.g. `cmd &` in a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ok = False
    try:
        say(f"starting the platform in {stack.state_dir} (logs in {stack.state_dir / 'logs'})")
        stack.start()
        platform_seconds = time.monotonic() - began
        say(f"platform up in {platform_seconds:.1f} s")
        result = run(body(stack))
        ok = True
        return result, platform_seconds
    except KeyboardInterrupt:
        say("interrupted: stopping the platform")
        return None
    finally:
        # A second Ctrl-C must not leave Postgres, Redis, Kafka or a service behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stack.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if ok and not keep:
                shutil.rmtree(stack.state_dir, ignore_errors=True)
            else:
                say(f"kept {stack.state_dir} (service logs in logs/)")


def command(module: str, args: list[str]) -> str:
    """How the run was started, for the report: the make target when run through it."""
    target = module.replace("bench.", "bench-")
    if os.environ.get("BENCH_VIA_MAKE"):
        return f"make {target}" + (f" BENCH_ARGS='{' '.join(args)}'" if args else "")
    return " ".join([f".venv/bin/python -m {module}", *args])


def meta(module: str, argv: list[str] | None, options: object, *, started_at: datetime, began: float, platform_seconds: float) -> dict[str, Any]:
    """What every report records about its run (the caller adds its machine and targets)."""
    args = list(argv if argv is not None else sys.argv[1:])
    return {
        "date": started_at.isoformat(timespec="seconds"),
        "command": command(module, args),
        "argv": args,
        "duration_s": round(time.monotonic() - began, 1),
        "platform_start_s": round(platform_seconds, 1),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
    }
