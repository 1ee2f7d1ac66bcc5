"""Domain errors map to precise gRPC statuses with machine-readable details (docs/errors.md)."""

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from services.common import errors
from services.common.grpc_status import to_grpc_status


def _details(status: grpc.Status) -> status_pb2.Status:
    ((key, value),) = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    return status_pb2.Status.FromString(value)


@pytest.mark.parametrize(
    "error, code",
    [
        (errors.InvalidArgument.single("service.name", "is required"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound("service", "id"), grpc.StatusCode.NOT_FOUND),
        (errors.RevisionMismatch("service", "id", 1, 2), grpc.StatusCode.ABORTED),
        (errors.FailedPrecondition("TOO_LATE_TO_BOOK", "too late"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.AlreadyExists("booking", "id"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.DependencyUnavailable("timeframes", "down"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_each_domain_error_has_its_status_code(error: errors.DomainError, code: grpc.StatusCode) -> None:
    assert to_grpc_status(error).code == code


def test_invalid_argument_carries_every_field_violation() -> None:
    exc = errors.InvalidArgument([errors.FieldViolation("a", "x"), errors.FieldViolation("b.c", "y")])
    detail = _details(to_grpc_status(exc)).details[0]
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [("a", "x"), ("b.c", "y")]


def test_failed_precondition_carries_its_reason() -> None:
    detail = _details(to_grpc_status(errors.FailedPrecondition("CAPACITY_EXCEEDED", "full", {"open_spots": "0"}))).details[0]
    info = error_details_pb2.ErrorInfo()
    assert detail.Unpack(info)
    assert info.reason == "CAPACITY_EXCEEDED"
    assert info.metadata["open_spots"] == "0"


def test_already_exists_names_the_resource_and_a_reason_when_it_has_one() -> None:
    plain = _details(to_grpc_status(errors.AlreadyExists("holiday", "s/2031-12-25")))
    assert [d.TypeName() for d in plain.details] == ["google.rpc.ResourceInfo"]

    error = errors.AlreadyExists("appointment_hold", "b", reason="SLOT_UNAVAILABLE", metadata={"conflicting_booking_ids": "x,y"}, message="taken")
    status = to_grpc_status(error)
    resource, info = error_details_pb2.ResourceInfo(), error_details_pb2.ErrorInfo()
    resource_detail, info_detail = _details(status).details
    assert resource_detail.Unpack(resource) and info_detail.Unpack(info)
    assert (status.code, status.details) == (grpc.StatusCode.ALREADY_EXISTS, "taken")
    assert (resource.resource_type, info.reason, dict(info.metadata)) == ("appointment_hold", "SLOT_UNAVAILABLE", {"conflicting_booking_ids": "x,y"})


def test_an_answer_with_very_many_bad_fields_fits_a_clients_trailers_and_says_what_it_left_out() -> None:
    violations = [errors.FieldViolation(f"events[{i}].{name}", "is required") for i in range(500) for name in ("schedule_id", "start", "end")]
    status = to_grpc_status(errors.InvalidArgument(violations))
    bad_request = error_details_pb2.BadRequest()
    assert _details(status).details[0].Unpack(bad_request)
    listed = len(bad_request.field_violations)
    assert 0 < listed < 1500
    assert [v.field for v in bad_request.field_violations] == [v.field for v in violations[:listed]]
    trailers = sum(len(key) + len(value) for key, value in status.trailing_metadata)
    assert trailers * 4 / 3 + len(status.details) < 8192
    assert f"and 1497 more fields, of which {1500 - listed} are not listed" in status.details
    assert "events[0].schedule_id: is required" in status.details and "events[3]" not in status.details
