"""The event loop every bench process runs on: uvloop when it is installed (the services run on
it, see services/common/main.py), so the generator, the proxy and the floor cost what the services'
own loop would, else the standard asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

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
