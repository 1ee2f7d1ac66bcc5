"""gRPC spans, started where the runtime already wraps every call: the server guard
(services/common/server.py) and the outbound channel (services/common/clients.py).

Not opentelemetry-instrumentation-grpc's interceptors: grpc.aio runs interceptors as extra
coroutines around each call, which cost a bare call about twice the CPU these spans do
(`make bench-rpc-tracing`, figures in bench/README.md). The spans are the ones that instrumentation
makes (OpenTelemetry RPC semantic conventions): named `/package.Service/Method`, kind SERVER or
CLIENT, with `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, and the W3C
trace context travels in the call metadata.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableSequence
from contextlib import contextmanager

import grpc
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Setter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

_tracer = trace.get_tracer("services.common.rpc")

# The codes a server span reports as its own error (semantic conventions): a caller's mistake
# (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED ...) is not a failure of the server. A client
# span reports every code but OK.
SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def rpc_attributes(full_method: str) -> dict[str, str]:
    """`/package.Service/Method` -> the span attributes naming it."""
    service, _, method = full_method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


@contextmanager
def server_span(full_method: str, attributes: Mapping[str, str], metadata: Mapping[str, str | bytes]) -> Iterator[Span]:
    """The SERVER span of one call, a child of the caller's span when its metadata carries one."""
    with _tracer.start_as_current_span(
        full_method,
        context=propagate.extract(metadata),
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def end_server_span(span: Span, code: grpc.StatusCode, message: str = "") -> None:
    _end(span, code, message, error=code in SERVER_ERROR_CODES)


@contextmanager
def client_span(full_method: str, attributes: Mapping[str, str], metadata: MutableSequence[tuple[str, str]]) -> Iterator[Span]:
    """The CLIENT span of one outbound call; its context is added to `metadata`."""
    with _tracer.start_as_current_span(full_method, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False, set_status_on_exception=False) as span:
        propagate.inject(metadata, setter=_METADATA_SETTER)
        yield span


def end_client_span(span: Span, code: grpc.StatusCode, message: str = "") -> None:
    _end(span, code, message, error=code is not grpc.StatusCode.OK)


def _end(span: Span, code: grpc.StatusCode, message: str, *, error: bool) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if error:
        span.set_status(Status(StatusCode.ERROR, f"{code.name}: {message}" if message else code.name))


class _MetadataSetter(Setter[MutableSequence[tuple[str, str]]]):
    def set(self, carrier: MutableSequence[tuple[str, str]], key: str, value: str) -> None:
        carrier.append((key, value))


_METADATA_SETTER = _MetadataSetter()
