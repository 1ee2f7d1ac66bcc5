"""Domain errors. Raised by domain and adapter code, which knows nothing of gRPC; the server
runtime maps each to a precise gRPC status with google.rpc details (see grpc_status.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base class: every subclass maps to one gRPC status code."""


class InvalidArgument(DomainError):
    def __init__(self, violations: list[FieldViolation]):
        self.violations = violations
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))

    @classmethod
    def single(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(DomainError):
    def __init__(self, resource: str, resource_id: str):
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(f"{resource} {resource_id!r} not found")


class RevisionMismatch(DomainError):
    """Optimistic concurrency: the caller's revision is not the current one (ABORTED)."""

    def __init__(self, resource: str, resource_id: str, expected: int, actual: int):
        self.resource = resource
        self.resource_id = resource_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"{resource} {resource_id!r} is at revision {actual}, not {expected}; re-read and retry")


class FailedPrecondition(DomainError):
    """The request is valid but the system is not in a state that allows it. `reason` is a
    machine-readable UPPER_SNAKE code such as TOO_LATE_TO_BOOK."""

    def __init__(self, reason: str, message: str, metadata: dict[str, str] | None = None):
        self.reason = reason
        self.metadata = metadata or {}
        super().__init__(message)


class AlreadyExists(DomainError):
    """What the request would create is there already. When the clash is not one resource
    (another booking's hold on the same time), `reason` says what the caller can act on, as
    FailedPrecondition's does, with `metadata` naming what is in the way; `message` then replaces
    the default text."""

    def __init__(self, resource: str, resource_id: str, *, reason: str = "", metadata: dict[str, str] | None = None, message: str = ""):
        self.resource = resource
        self.resource_id = resource_id
        self.reason = reason
        self.metadata = metadata or {}
        super().__init__(message or f"{resource} {resource_id!r} already exists")


class DependencyUnavailable(DomainError):
    """A dependency (another service, the database) could not answer (UNAVAILABLE)."""

    def __init__(self, dependency: str, message: str):
        self.dependency = dependency
        super().__init__(f"{dependency} unavailable: {message}")


class DependencyFailed(DomainError):
    """A dependency answered with an error that no retry can mend (its own INTERNAL, or a request
    its contract refuses): a bug between two services, reported as INTERNAL without the
    dependency's text (it is logged)."""

    def __init__(self, dependency: str, code: str):
        self.dependency = dependency
        self.code = code
        super().__init__(f"{dependency} failed ({code}); see the service logs for this trace")
