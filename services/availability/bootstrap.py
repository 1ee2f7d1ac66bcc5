"""Wires the availability service. Pools and clients are created here, never at import."""

from __future__ import annotations

import contextlib

from services.availability.entrypoints.grpc import rpc_services
from services.availability.settings import AvailabilitySettings
from services.common.server import Build, RpcService


def make_build(settings: AvailabilitySettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        return rpc_services()

    return build
