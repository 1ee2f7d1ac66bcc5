"""Wires the participations service. Pools and clients are created here, never at import."""

from __future__ import annotations

import contextlib

from services.common.server import Build, RpcService
from services.participations.entrypoints.grpc import rpc_services
from services.participations.settings import ParticipationsSettings


def make_build(settings: ParticipationsSettings) -> Build:
    async def build(stack: contextlib.AsyncExitStack) -> list[RpcService]:
        return rpc_services()

    return build
