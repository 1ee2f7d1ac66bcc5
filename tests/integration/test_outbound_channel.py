"""The outbound channel every service calls others with (services/common/clients.py), against a
real grpc.aio server in this process: the caller's tenant travels as an `internal` token unless
the caller sets its own, the deadline is the shorter of the caller's and the channel's, the
trace context travels in the metadata, and a failed call keeps its status for the caller."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from opentelemetry import context, propagate

from services.common.auth import INTERNAL_SCOPE, Principal, ServiceTokens, TokenVerifier, bind_principal, reset_principal
from services.common.clients import open_channel
from services.common.config import ServiceSettings
from services.devstack.infra import free_port

SERVICE = "test.Outbound"
ECHO = f"/{SERVICE}/Echo"
FAIL = f"/{SERVICE}/Fail"
CHANNEL_TIMEOUT = 2.0
# What the server may see beyond the deadline asked for: gRPC sends the remaining time in the
# grpc-timeout header rounded up (its core's timeout encoding "may round up arbitrarily") and
# turns the caller's wall-clock deadline into a monotonic one between two clock reads, so on a
# busy machine the server saw 2.009 s of a 2 s deadline once. Far below the gaps the test tells
# apart (0.5 vs 2 vs 30 s).
DEADLINE_SLACK = 0.05
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(service_name="caller", grpc_port=1, auth_jwt_secret="outbound-test-" + uuid.uuid4().hex)


@pytest.fixture
async def address() -> AsyncIterator[str]:
    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        metadata = dict(context.invocation_metadata() or ())
        seen = {"authorization": metadata.get("authorization"), "traceparent": metadata.get("traceparent"), "time_remaining": context.time_remaining()}
        return json.dumps(seen).encode()

    async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not now")
        return b""

    server = grpc.aio.server()
    handlers = {"Echo": grpc.unary_unary_rpc_method_handler(echo), "Fail": grpc.unary_unary_rpc_method_handler(fail)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
def tenant() -> Iterator[str]:
    """A caller handling a request of tenant t-1, as the server runtime binds it."""
    token = bind_principal(Principal(tenant_id="t-1", subject="user", scopes=frozenset({"bookings.read"}), token="x"))
    yield "t-1"
    reset_principal(token)


async def _echo(address: str, settings: ServiceSettings, **kwargs: object) -> dict[str, object]:
    async with open_channel(address, ServiceTokens(settings), CHANNEL_TIMEOUT) as channel:
        return json.loads(await channel.unary_unary(ECHO)(b"", **kwargs))  # type: ignore[no-any-return]


async def test_a_call_carries_an_internal_token_for_the_callers_tenant(address: str, settings: ServiceSettings, tenant: str) -> None:
    seen = await _echo(address, settings)
    principal = await TokenVerifier(settings).verify(str(seen["authorization"]))
    assert (principal.tenant_id, principal.scopes, principal.subject) == (tenant, frozenset({INTERNAL_SCOPE}), "service:caller")


async def test_a_token_the_caller_sets_is_passed_as_it_is(address: str, settings: ServiceSettings, tenant: str) -> None:
    seen = await _echo(address, settings, metadata=[("authorization", "Bearer the-callers-own")])
    assert seen["authorization"] == "Bearer the-callers-own"


@pytest.mark.parametrize(("asked", "at_most"), [(None, CHANNEL_TIMEOUT), (30.0, CHANNEL_TIMEOUT), (0.5, 0.5)], ids=["none", "longer", "shorter"])
async def test_the_deadline_is_the_shorter_of_the_callers_and_the_channels(
    address: str, settings: ServiceSettings, tenant: str, asked: float | None, at_most: float
) -> None:
    seen = await _echo(address, settings, timeout=asked)
    remaining = float(seen["time_remaining"])  # type: ignore[arg-type]
    assert at_most - 0.5 < remaining <= at_most + DEADLINE_SLACK


async def test_the_callers_trace_continues_in_the_metadata(address: str, settings: ServiceSettings, tenant: str) -> None:
    caller = context.attach(propagate.extract({"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"}))
    try:
        seen = await _echo(address, settings)
    finally:
        context.detach(caller)
    version, trace_id, span_id, _flags = str(seen["traceparent"]).split("-")
    assert (version, trace_id, len(span_id)) == ("00", CALLER_TRACE, 16)


async def test_a_refused_call_keeps_its_status_for_the_caller(address: str, settings: ServiceSettings, tenant: str) -> None:
    async with open_channel(address, ServiceTokens(settings), CHANNEL_TIMEOUT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary(FAIL)(b"")
    assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "not now")


async def test_a_streaming_method_is_refused_at_stub_construction(settings: ServiceSettings) -> None:
    # Only unary calls get the token, the deadline and the span: a streaming stub must not build
    # silently without them.
    # Async: a grpc.aio channel belongs to the running event loop (a sync test would depend on
    # some earlier test leaving a default loop behind).
    channel = open_channel("127.0.0.1:1", ServiceTokens(settings), CHANNEL_TIMEOUT)
    with pytest.raises(AttributeError):
        channel.unary_stream(ECHO)  # type: ignore[attr-defined]
    await channel.close()
