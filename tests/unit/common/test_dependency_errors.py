"""How a dependency's failed call becomes our answer (docs/errors.md, "A dependency's answer"):
only what may succeed a moment later is an outage; the caller's mistakes stay the caller's; the
rest is a bug between two services, never reported as an outage the caller should retry."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.common import errors
from services.common.clients import dependency_error
from services.common.grpc_status import to_grpc_status

Code = grpc.StatusCode


def failed_call(code: grpc.StatusCode, details: str = "dependency's text", *detail: object) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata()
    if detail:
        packed = []
        for d in detail:
            any_detail = any_pb2.Any()
            any_detail.Pack(d)  # type: ignore[arg-type]
            packed.append(any_detail)
        status = status_pb2.Status(code=code.value[0], message=details, details=packed)
        trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=details)


class Refused(Exception):
    pass


# Every status code a dependency can answer, and what kind of answer it becomes.
@pytest.mark.parametrize(
    ("code", "becomes"),
    [
        (Code.UNAVAILABLE, errors.DependencyUnavailable),
        (Code.DEADLINE_EXCEEDED, errors.DependencyUnavailable),
        (Code.RESOURCE_EXHAUSTED, errors.DependencyUnavailable),
        (Code.ABORTED, errors.DependencyUnavailable),
        (Code.UNIMPLEMENTED, errors.DependencyUnavailable),
        (Code.CANCELLED, errors.DependencyUnavailable),
        (Code.NOT_FOUND, errors.NotFound),
        (Code.INVALID_ARGUMENT, errors.DependencyFailed),
        (Code.FAILED_PRECONDITION, errors.DependencyFailed),
        (Code.ALREADY_EXISTS, errors.DependencyFailed),
        (Code.OUT_OF_RANGE, errors.DependencyFailed),
        (Code.PERMISSION_DENIED, errors.DependencyFailed),
        (Code.UNAUTHENTICATED, errors.DependencyFailed),
        (Code.INTERNAL, errors.DependencyFailed),
        (Code.UNKNOWN, errors.DependencyFailed),
        (Code.DATA_LOSS, errors.DependencyFailed),
    ],
    ids=lambda value: value.name.lower() if isinstance(value, grpc.StatusCode) else value.__name__,
)
def test_each_dependency_status_has_one_meaning(code: grpc.StatusCode, becomes: type[Exception]) -> None:
    assert type(dependency_error("timeframes", failed_call(code))) is becomes


def test_only_an_outage_is_answered_unavailable() -> None:
    outage = to_grpc_status(dependency_error("timeframes", failed_call(Code.DEADLINE_EXCEEDED)))
    bug = to_grpc_status(dependency_error("timeframes", failed_call(Code.INTERNAL, 'relation "x" does not exist')))
    assert outage.code == Code.UNAVAILABLE
    assert bug.code == Code.INTERNAL
    assert "does not exist" not in bug.details, "the dependency's own text is logged, not answered"


def test_not_found_names_what_the_caller_asked_for_when_told() -> None:
    error = dependency_error("timeframes", failed_call(Code.NOT_FOUND), not_found=("event", "e-1"))
    assert isinstance(error, errors.NotFound) and (error.resource, error.resource_id) == ("event", "e-1")


def test_not_found_passes_on_the_dependencys_resource_otherwise() -> None:
    call = failed_call(Code.NOT_FOUND, "service 's-1' not found", error_details_pb2.ResourceInfo(resource_type="service", resource_name="s-1"))
    error = dependency_error("services", call)
    assert isinstance(error, errors.NotFound) and (error.resource, error.resource_id) == ("service", "s-1")


def test_invalid_argument_is_the_callers_mistake_only_where_the_call_carried_the_callers_values() -> None:
    error = dependency_error("availability", failed_call(Code.INVALID_ARGUMENT, "not a class session"), refused=lambda text: Refused(text))
    assert isinstance(error, Refused) and str(error) == "not a class session"


def test_failed_precondition_with_a_reason_passes_the_reason_on() -> None:
    info = error_details_pb2.ErrorInfo(reason="TOO_LATE_TO_BOOK", domain="bookings-platform", metadata={"event_id": "e-1"})
    error = dependency_error("availability", failed_call(Code.FAILED_PRECONDITION, "too late", info))
    assert isinstance(error, errors.FailedPrecondition)
    assert (error.reason, error.metadata, str(error)) == ("TOO_LATE_TO_BOOK", {"event_id": "e-1"}, "too late")
    assert to_grpc_status(error).code == Code.FAILED_PRECONDITION


def test_grpc_codes_and_google_rpc_codes_agree() -> None:
    # failed_call packs google.rpc codes from grpc's: the two numberings must be the same.
    assert Code.FAILED_PRECONDITION.value[0] == code_pb2.FAILED_PRECONDITION
