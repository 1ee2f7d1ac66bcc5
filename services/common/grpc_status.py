"""Maps domain errors to gRPC statuses with google.rpc error details (BadRequest field
violations, ErrorInfo reasons, ResourceInfo), so clients can act on them programmatically."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common import errors

ERROR_DOMAIN = "bookings-platform"


def _status(code: int, message: str, *details: object) -> grpc.Status:
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)  # type: ignore[arg-type]
        packed.append(any_detail)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=packed))


def to_grpc_status(exc: errors.DomainError) -> grpc.Status:
    match exc:
        case errors.InvalidArgument():
            return _invalid_argument(exc.violations)
        case errors.NotFound():
            info = error_details_pb2.ResourceInfo(resource_type=exc.resource, resource_name=exc.resource_id)
            return _status(code_pb2.NOT_FOUND, str(exc), info)
        case errors.AlreadyExists():
            info = error_details_pb2.ResourceInfo(resource_type=exc.resource, resource_name=exc.resource_id)
            if not exc.reason:
                return _status(code_pb2.ALREADY_EXISTS, str(exc), info)
            reason = error_details_pb2.ErrorInfo(reason=exc.reason, domain=ERROR_DOMAIN, metadata=exc.metadata)
            return _status(code_pb2.ALREADY_EXISTS, str(exc), info, reason)
        case errors.RevisionMismatch():
            reason = error_details_pb2.ErrorInfo(
                reason="REVISION_MISMATCH",
                domain=ERROR_DOMAIN,
                metadata={"expected": str(exc.expected), "actual": str(exc.actual), "resource": exc.resource},
            )
            return _status(code_pb2.ABORTED, str(exc), reason)
        case errors.FailedPrecondition():
            reason = error_details_pb2.ErrorInfo(reason=exc.reason, domain=ERROR_DOMAIN, metadata=exc.metadata)
            return _status(code_pb2.FAILED_PRECONDITION, str(exc), reason)
        case errors.DependencyUnavailable():
            reason = error_details_pb2.ErrorInfo(reason="DEPENDENCY_UNAVAILABLE", domain=ERROR_DOMAIN, metadata={"dependency": exc.dependency})
            return _status(code_pb2.UNAVAILABLE, str(exc), reason)
        case errors.DependencyFailed():
            reason = error_details_pb2.ErrorInfo(reason="DEPENDENCY_FAILED", domain=ERROR_DOMAIN, metadata={"dependency": exc.dependency, "code": exc.code})
            return _status(code_pb2.INTERNAL, str(exc), reason)
    return _status(code_pb2.INTERNAL, "internal error")


# A status travels in trailers, which a client accepts up to 8 KiB in all by default (gRPC's
# max_metadata_size), its details base64-encoded (a third larger). An answer with very many bad
# fields (500 events of a bulk create) names those that fit in this budget and says how many more
# there are; the message names the first few only, the details carry the fields.
_MAX_BAD_REQUEST_BYTES = 4096
_MESSAGE_VIOLATIONS = 3


def _invalid_argument(violations: list[errors.FieldViolation]) -> grpc.Status:
    bad_request = error_details_pb2.BadRequest()
    for v in violations:
        bad_request.field_violations.add(field=v.field, description=v.description)
        if bad_request.ByteSize() > _MAX_BAD_REQUEST_BYTES:
            del bad_request.field_violations[-1]
            break
    named = "; ".join(f"{v.field}: {v.description}" for v in violations[:_MESSAGE_VIOLATIONS])
    more = len(violations) - _MESSAGE_VIOLATIONS
    unlisted = len(violations) - len(bad_request.field_violations)
    if unlisted:
        named += f"; and {more} more fields, of which {unlisted} are not listed in the details (fix those and retry to see the rest)"
    elif more > 0:
        named += f"; and {more} more fields (see the details)"
    return _status(code_pb2.INVALID_ARGUMENT, named, bad_request)


def status_details(err: grpc.aio.AioRpcError | grpc.RpcError) -> list[object]:
    """Decoded google.rpc details of a failed call (for clients and tests)."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    if status is None:
        return []
    decoded: list[object] = []
    for detail in status.details:
        for cls in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo, error_details_pb2.ResourceInfo):
            if detail.Is(cls.DESCRIPTOR):
                msg = cls()
                detail.Unpack(msg)
                decoded.append(msg)
    return decoded


def field_violations(err: grpc.RpcError) -> dict[str, str]:
    """{field: description} of an INVALID_ARGUMENT error."""
    out: dict[str, str] = {}
    for detail in status_details(err):
        if isinstance(detail, error_details_pb2.BadRequest):
            out.update({v.field: v.description for v in detail.field_violations})
    return out


def error_reason(err: grpc.RpcError) -> str | None:
    for detail in status_details(err):
        if isinstance(detail, error_details_pb2.ErrorInfo):
            return detail.reason
    return None
