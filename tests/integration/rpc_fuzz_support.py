"""Machinery of the RPC fuzz and isolation tests (this module holds no tests).

- `discover_rpcs`: every RPC the four running services serve, found by gRPC server reflection
  (health and reflection left out), with its method descriptor from the default descriptor pool
  (every module under `services.api` imported), or built from the reflection's own file
  descriptors when the pool does not know the service. Nothing is listed by hand: an RPC added
  later is covered as soon as a service serves it.
- `Caller`: calls any RPC generically with raw bytes over the sync gRPC API and returns an
  `Outcome` (status code, message, decoded google.rpc details, response).
- `check_precise`: what docs/errors.md promises of every answer; `field_path_problem` resolves a
  BadRequest field path against the request's descriptors; `hidden_violations` finds bad fields
  an INVALID_ARGUMENT did not name.
- `TenantState`: a tenant's rows in every table of every schema that has a `tenant_id` column
  (read-only SQL), to prove that a rejected call changed nothing; `settle` waits for the
  asynchronous pipeline (outbox -> Kafka -> consumers) after a call that started it.
- `seed_tenant(s)`: real data through the public RPCs (CLASS, COURSE, APPOINTMENT and deleted
  services, events, a standalone schedule, bookings); its ids (by kind), messages and cursors
  feed the generators.
- `RequestStrategies`: hypothesis strategies of requests built from the message descriptors,
  recursively with a depth bound: plausible and random values per field type and name, real
  messages with fields spoilt, ids the tenant owns and another tenant's, corrupted bodies.
- `Mutations`: deterministic requests: a plausible request around now and the calendar's edges,
  then one field at a time (and all at once) set to each edge value of its type.
- `Tally`: requests sent and status codes per RPC, for the long mode's report.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt
import psycopg
import redis
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hypothesis import strategies as st
from psycopg import sql

import services.api
from services.api.bookings.catalog.v1 import services_pb2, services_pb2_grpc
from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2, staff_members_pb2_grpc
from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.calendar.schedules.v3 import schedules_pb2, schedules_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.availability.adapters.toggles import HASH_KEY
from services.availability.domain.toggles import COURSE_AVAILABILITY_ENABLED, ToggleRule
from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE
from services.common.grpc_status import status_details
from services.devstack.stack import Platform
from tests.support import JWT_SECRET, token

# --- what every answer must (not) be ---------------------------------------------------------------

# A healthy platform never answers a request with these: UNKNOWN/INTERNAL are unhandled failures,
# UNAVAILABLE/DEADLINE_EXCEEDED would report a bad request as an outage (clients retry those).
FORBIDDEN_CODES = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# Text that only an internal exception puts into a status message or detail.
LEAK_MARKERS = (
    "Traceback",
    "asyncpg",
    "psycopg",
    "Error parsing message",
    "DecodeError",
    "date value out of range",
    "invalid byte sequence",
    "OverflowError",
    "ValueError",
    "Exception",
    "KeyError",
    "TypeError",
    'File "',
)
# gRPC clients refuse response metadata beyond 8 KiB by default (at random up to 16 KiB, always beyond).
DEFAULT_CLIENT_METADATA_BYTES = 8 * 1024
AUTH_CODES = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
SKIPPED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.")
CALL_TIMEOUT_SECONDS = 20.0
TOGGLE_REFRESH_SECONDS = 1.2  # the availability service re-reads feature toggles every 0.5 s

# --- discovery --------------------------------------------------------------------------------------


def load_api_modules() -> None:
    """Import every generated module under `services.api`, so the default pool holds every
    message and service the platform declares."""
    for module in pkgutil.walk_packages(services.api.__path__, services.api.__name__ + "."):
        importlib.import_module(module.name)


@dataclass(frozen=True)
class Rpc:
    """One RPC of one running service process."""

    process: str  # "bookings", "availability", ...
    method: MethodDescriptor

    @property
    def name(self) -> str:
        return f"{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def request_type(self) -> Descriptor:
        return self.method.input_type

    @property
    def request_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.input_type)

    @property
    def response_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.output_type)

    @property
    def unary(self) -> bool:
        return not self.method.client_streaming and not self.method.server_streaming

    def __str__(self) -> str:
        return self.name


def _reflect(channel: grpc.Channel, request: reflection_pb2.ServerReflectionRequest) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=CALL_TIMEOUT_SECONDS))
    if response.HasField("error_response"):
        raise LookupError(f"reflection: {response.error_response.error_message}")
    return response


def reflected_service_names(channel: grpc.Channel) -> list[str]:
    """The application services a server announces through reflection (health and reflection left out)."""
    response = _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = [s.name for s in response.list_services_response.service]
    return sorted(n for n in names if not n.startswith(SKIPPED_SERVICES))


_REFLECTED_POOL = descriptor_pool.DescriptorPool()


def _service_from_reflection(channel: grpc.Channel, name: str) -> Any:
    """A service the default pool does not know: built from the server's own file descriptors."""
    response = _reflect(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=name))
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw) for raw in response.file_descriptor_response.file_descriptor_proto]
    pending = {f.name: f for f in files}
    while pending:
        ready = [f for f in pending.values() if all(_known_file(d) or d not in pending for d in f.dependency)]
        if not ready:
            raise LookupError(f"reflection: unresolvable dependencies of {sorted(pending)}")
        for f in ready:
            if not _known_file(f.name):
                _REFLECTED_POOL.Add(f)
            del pending[f.name]
    return _REFLECTED_POOL.FindServiceByName(name)


def _known_file(name: str) -> bool:
    try:
        _REFLECTED_POOL.FindFileByName(name)
        return True
    except KeyError:
        return False


def discover_rpcs(platform: Platform) -> list[Rpc]:
    """Every RPC of every service the running platform serves, ordered by name."""
    load_api_modules()
    pool = descriptor_pool.Default()
    rpcs: list[Rpc] = []
    for process in platform.service_ports:
        with grpc.insecure_channel(platform.address(process)) as channel:
            for name in reflected_service_names(channel):
                try:
                    service = pool.FindServiceByName(name)
                except KeyError:
                    service = _service_from_reflection(channel, name)
                rpcs.extend(Rpc(process, method) for method in service.methods)
    return sorted(rpcs, key=lambda r: r.name)


# --- calling any RPC --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one call answered."""

    code: grpc.StatusCode
    message: str
    details: list[object] = field(default_factory=list)
    response: bytes | None = None  # the serialized response of an OK call
    raw_details: bytes = b""  # the grpc-status-details-bin trailer, for the leak check
    trailer_bytes: int = 0  # the size of the status message and trailers of an error

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK

    @property
    def bad_requests(self) -> list[error_details_pb2.BadRequest]:
        return [d for d in self.details if isinstance(d, error_details_pb2.BadRequest)]

    @property
    def violations(self) -> list[error_details_pb2.BadRequest.FieldViolation]:
        return [v for b in self.bad_requests for v in b.field_violations]

    @property
    def reason(self) -> str | None:
        for d in self.details:
            if isinstance(d, error_details_pb2.ErrorInfo):
                return d.reason
        return None

    def describe(self) -> str:
        text = f"{self.code.name}: {self.message!r}"
        for d in self.details:
            shown = text_format.MessageToString(d, as_one_line=True, as_utf8=True) if isinstance(d, Message) else str(d)
            text += f"\n    {type(d).__name__} {shown[:600]}"
        return text


def _identity(value: bytes) -> bytes:
    return value


class Caller:
    """Sync channels to the four services; `call` sends raw request bytes to any RPC."""

    def __init__(self, platform: Platform):
        # Trailers up to 4 MiB are read, so that one beyond what a default client accepts is
        # measured (`check_precise`) instead of being refused at random between 8 and 16 KiB.
        options = [("grpc.max_metadata_size", 4 * 1024 * 1024), ("grpc.absolute_max_metadata_size", 4 * 1024 * 1024)]
        self._channels = {name: grpc.insecure_channel(platform.address(name), options=options) for name in platform.service_ports}
        self._callables: dict[str, Any] = {}

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()

    def call(self, rpc: Rpc, body: bytes, metadata: Sequence[tuple[str, str]] = ()) -> Outcome:
        method = self._callables.get(rpc.path)
        if method is None:
            method = self._channels[rpc.process].unary_unary(rpc.path, request_serializer=_identity, response_deserializer=_identity)
            self._callables[rpc.path] = method
        try:
            response, _call = method.with_call(body, metadata=list(metadata), timeout=CALL_TIMEOUT_SECONDS)
            return Outcome(grpc.StatusCode.OK, "", response=response)
        except grpc.RpcError as err:
            metadata = list(err.trailing_metadata() or ())  # type: ignore[attr-defined]
            trailers = dict(metadata)
            raw = trailers.get("grpc-status-details-bin", b"")
            size = len((err.details() or "").encode()) + sum(len(k) + len(v) for k, v in metadata)  # type: ignore[attr-defined]
            try:
                details = status_details(err)
            except Exception as exc:  # a detail trailer that does not even decode is itself a finding
                details = [f"undecodable status details: {exc!r}"]
            raw_details = raw if isinstance(raw, bytes) else raw.encode()
            return Outcome(err.code(), err.details() or "", details, raw_details=raw_details, trailer_bytes=size)  # type: ignore[attr-defined]


# --- tokens ------------------------------------------------------------------------------------------

NON_INTERNAL_SCOPES = tuple(s for s in ALL_SCOPES if s != INTERNAL_SCOPE)


def bearer(tenant: str, *scopes: str, ttl_seconds: int = 3600) -> list[tuple[str, str]]:
    """Call metadata for `tenant` with exactly `scopes` (every scope, `internal` included, when none given)."""
    return [("authorization", f"Bearer {token(tenant, *(scopes or ALL_SCOPES), ttl_seconds=ttl_seconds)}")]


def no_scope_bearer(tenant: str) -> list[tuple[str, str]]:
    """A valid token of `tenant` whose scope claim is empty."""
    raw = jwt.encode({"sub": "test", "tenant_id": tenant, "scope": "", "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256")
    return [("authorization", f"Bearer {raw}")]


def claims_bearer(claims: dict[str, Any], *, secret: str = JWT_SECRET, algorithm: str = "HS256") -> list[tuple[str, str]]:
    """A token with exactly these claims (to build tokens the minting helper would never make)."""
    raw = jwt.encode(claims, secret, algorithm=algorithm)
    return [("authorization", f"Bearer {raw}")]


# --- field paths of BadRequest violations --------------------------------------------------------------

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<subscripts>(\[[^\]]*\])*)$")
_SUBSCRIPT = re.compile(r"\[([^\]]*)\]")


def field_path_problem(descriptor: Descriptor, path: str, message: Message | None) -> str | None:
    """Why `path` (e.g. `service.booking_policy.limit_early_booking.earliest_booking_in_minutes`,
    `events[3].end`, `mask.paths[1]`, `labels[key]`) does not name a field of `descriptor`, or
    None when it does. Every segment must be a field of the message it is applied to (the last
    one may be a oneof of it, naming the fields it groups); a subscript is allowed only on a
    repeated field (an index within the request's list, when the request is known) or a map (a
    key the request carries)."""
    if not path:
        return "empty field path"
    current: Descriptor | None = descriptor
    value: Any = message
    for segment in _split_path(path):
        if current is None:
            return f"{segment!r} follows a scalar field"
        match = _SEGMENT.match(segment)
        if not match:
            return f"{segment!r} is not a field name"
        name = match["name"]
        fd = current.fields_by_name.get(name)
        if fd is None and name in current.oneofs_by_name and segment == path.rsplit(".", 1)[-1] and not match["subscripts"]:
            return None  # a oneof (e.g. "set exactly one of ...") names the group of fields it declares
        if fd is None:
            return f"{current.full_name} has no field {name!r}"
        value = getattr(value, name) if value is not None else None
        subscripts = _SUBSCRIPT.findall(match["subscripts"] or "")
        is_map = fd.message_type is not None and fd.message_type.GetOptions().map_entry
        if len(subscripts) > 1:
            return f"{segment!r}: more than one subscript"
        if subscripts:
            (sub,) = subscripts
            if is_map:
                if value is not None and _map_key(fd, sub) not in value:
                    return f"{segment!r}: the request has no key {sub!r}"
                value = value[_map_key(fd, sub)] if value is not None else None
                current = fd.message_type.fields_by_name["value"].message_type
                continue
            if not fd.is_repeated:
                return f"{segment!r}: subscript on a field that is not repeated"
            if not sub.isdigit():
                return f"{segment!r}: index {sub!r} is not a non-negative integer"
            if value is not None:
                if int(sub) >= len(value):
                    return f"{segment!r}: index out of range (the request has {len(value)} items)"
                value = value[int(sub)]
            current = fd.message_type
            continue
        current = None if is_map else fd.message_type
        if fd.is_repeated or is_map:
            value = None  # a path into the list as a whole: nothing further to follow in the value
    return None


def _split_path(path: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(path):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


def _map_key(fd: FieldDescriptor, text: str) -> Any:
    key_fd = fd.message_type.fields_by_name["key"]
    if key_fd.cpp_type == FieldDescriptor.CPPTYPE_STRING:
        return text.strip("\"'")
    if key_fd.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _path_steps(path: str) -> list[tuple[str, str | None]]:
    steps = []
    for segment in _split_path(path):
        match = _SEGMENT.match(segment)
        if not match:
            return []
        subscripts = _SUBSCRIPT.findall(match["subscripts"] or "")
        steps.append((match["name"], subscripts[0] if subscripts else None))
    return steps


_ABSENT = object()


def value_at(message: Message, path: str) -> Any:
    """The value `path` names in `message`, or _ABSENT when it (or a message on the way) is not set."""
    value: Any = message
    for name, sub in _path_steps(path) or [("", None)]:
        if not isinstance(value, Message) or name not in value.DESCRIPTOR.fields_by_name:
            return _ABSENT
        fd = value.DESCRIPTOR.fields_by_name[name]
        if fd.message_type is not None and not fd.is_repeated and not value.HasField(name):
            return _ABSENT
        value = getattr(value, name)
        if sub is not None:
            try:
                value = value[int(sub)] if fd.is_repeated and not fd.message_type.GetOptions().map_entry else value[_map_key(fd, sub)]  # type: ignore[union-attr]
            except (IndexError, KeyError, ValueError, AttributeError):
                return _ABSENT
    if isinstance(value, Message):
        return value.SerializeToString(deterministic=True)
    if hasattr(value, "__len__") and not isinstance(value, str | bytes):
        return tuple(v.SerializeToString(deterministic=True) if isinstance(v, Message) else v for v in value) or _ABSENT
    return value if value else _ABSENT  # a proto3 scalar at its default is not set


def without_fields(message: Message, paths: Iterable[str]) -> Message:
    """A copy of `message` with every field that `paths` names cleared (`events[3].end` clears
    that event's end; a path ending in a subscript clears the whole list)."""
    return repaired(message, paths, None)


def repaired(message: Message, paths: Iterable[str], plausible: Message | None) -> Message:
    """A copy of `message` with every field that `paths` names set to its value in `plausible`
    (a plausible request of the same type), or cleared when `plausible` has none (or is None):
    the request without the faults an answer named, and otherwise unchanged."""
    copy = type(message)()
    copy.CopyFrom(message)
    for path in paths:
        target: Any = copy
        source: Any = plausible
        steps = _path_steps(path)
        for i, (name, sub) in enumerate(steps):
            if not isinstance(target, Message) or name not in target.DESCRIPTOR.fields_by_name:
                break
            fd = target.DESCRIPTOR.fields_by_name[name]
            last = i == len(steps) - 1
            whole = sub is not None and (
                fd.message_type is None or fd.message_type.GetOptions().map_entry or not sub.isdigit() or int(sub) >= len(getattr(target, name))
            )
            if last or whole:
                target.ClearField(name)
                if isinstance(source, Message) and name in source.DESCRIPTOR.fields_by_name:
                    value = getattr(source, name)
                    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                        getattr(target, name).MergeFrom(value)
                    elif fd.is_repeated:
                        _extend(getattr(target, name), list(value))
                    elif fd.message_type is not None:
                        if source.HasField(name):
                            getattr(target, name).CopyFrom(value)
                    else:
                        setattr(target, name, value)
                break
            if sub is not None:
                target = getattr(target, name)[int(sub)]
                items = getattr(source, name) if isinstance(source, Message) else []
                source = items[min(int(sub), len(items) - 1)] if len(items) else None
                continue
            if fd.message_type is None or fd.is_repeated:
                break
            target = getattr(target, name)
            source = getattr(source, name) if isinstance(source, Message) and source.HasField(name) else None
    return copy


def present_paths(message: Message, max_items: int = 3) -> list[str]:
    """The path of every field set in `message`, outermost first (a list's items' fields as
    `events[0].end`)."""
    paths: list[str] = []
    level: list[tuple[str, Message]] = [("", message)]
    while level:
        deeper: list[tuple[str, Message]] = []
        for prefix, msg in level:
            for fd, value in msg.ListFields():
                path = f"{prefix}{fd.name}"
                paths.append(path)
                if fd.message_type is None or fd.message_type.GetOptions().map_entry:
                    continue
                if fd.is_repeated:
                    deeper += [(f"{path}[{i}].", item) for i, item in enumerate(list(value)[:max_items])]
                else:
                    deeper.append((f"{path}.", value))
        level = deeper
    return paths


def _leaf(path: str) -> str:
    return re.sub(r"\[.*?\]", "", path).split(".")[-1]


# The runtime checks every request (NUL in text) before its use case validates it
# (docs/errors.md), as it checks the token first: the fields those checks do not look at are
# judged once they pass. And an answer with too many bad fields to list says so.
RUNTIME_REFUSALS = frozenset({"must not contain NUL (U+0000) characters"})
UNLISTED_MARKER = "not listed in the details"
# A cursor belongs to the query's filters: whether it belongs to them is only judged once they are
# valid (services/common/paging.py), so it may be refused after any filter is repaired.
RELATED_TO_EVERY_FIELD = frozenset({"belongs to a query with other filters"})


def hidden_violations(first: Outcome, retry: Outcome, original: Message, retried: Message) -> list[str]:
    """Fields the retry (the request with every field the first answer named repaired) is refused
    for although they were set, and are unchanged, in the original request: bad fields the first
    answer did not name. A refusal that relates the field to a repaired one (a field of the same
    name, like `service.schedule_id` to `schedule_id`, or one its description names, like "must
    be after from_local_date") is not counted: it could not be judged while that one was bad."""
    if retry.code != grpc.StatusCode.INVALID_ARGUMENT:
        return []
    if all(v.description in RUNTIME_REFUSALS for v in first.violations) or UNLISTED_MARKER in first.message:
        return []
    named = {v.field for v in first.violations}
    if any(_leaf(f) == "paths" for f in named):
        return []  # a repaired field mask decides which fields are read at all: any may be judged now
    repaired_names = {_leaf(f) for f in named if f}
    hidden = []
    for v in retry.violations:
        if v.field in named or _leaf(v.field) in repaired_names or any(name in v.description for name in repaired_names):
            continue
        if v.description in RELATED_TO_EVERY_FIELD:
            continue
        before, after = value_at(original, v.field), value_at(retried, v.field)
        if before is not _ABSENT and before == after:
            hidden.append(f"{v.field}: {v.description}")
    return hidden


# --- the properties of docs/errors.md -------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One generated request: its body as sent, and the message it decodes to (None when the
    body is not a valid encoding of the request type)."""

    rpc_name: str
    body: bytes
    message: Message | None
    how: str  # "message" or the corruption applied

    @classmethod
    def of(cls, rpc: Rpc, body: bytes, how: str) -> Request:
        """A request of these bytes, decoded when they are a valid encoding of the request type."""
        try:
            decoded: Message | None = rpc.request_class.FromString(body)
        except DecodeError:
            decoded = None
        return cls(rpc.name, body, decoded, how)

    def text(self, limit: int = 1500) -> str:
        if self.message is None:
            shown = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
            return f"<{self.how}: {len(self.body)} bytes that do not decode as the request: {shown!r}>"
        text = text_format.MessageToString(self.message, as_one_line=True, as_utf8=True)
        if len(text) > limit:
            text = text[:limit] + f"... ({len(text)} chars)"
        return f"{{{text}}}" + ("" if self.how == "message" else f" ({self.how})")

    def __repr__(self) -> str:
        return f"{self.rpc_name} {self.text()}"


def leaked_internals(outcome: Outcome, rpc: Rpc | None = None) -> list[str]:
    """Internal exception text found in the status message or its details. The names of the
    RPC itself and of its request type are the contract's, not internals, and are left out
    first: `ListExceptions` (calendar.working_hours.v1, a name the contract fixes) contains
    "Exception", and an undecodable body is refused naming its request type."""
    texts = [outcome.message, outcome.raw_details.decode("utf-8", "replace")]
    for d in outcome.details:
        texts.append(str(d))
    if rpc is not None:
        own = sorted({rpc.method.input_type.full_name, rpc.method.containing_service.full_name, rpc.method.name}, key=len, reverse=True)
        for name in own:
            texts = [text.replace(name, "") for text in texts]
    return sorted({marker for marker in LEAK_MARKERS for text in texts if marker in text})


class PropertyViolation(AssertionError):
    """A property of docs/errors.md or docs/platform.md "Tenancy" does not hold. Each kind of violation (property and
    status code) gets its own subclass, so hypothesis reports distinct kinds as distinct bugs
    instead of stopping at the first one."""


_VIOLATION_KINDS: dict[str, type[PropertyViolation]] = {}


def violation(kind: str, message: str) -> PropertyViolation:
    cls = _VIOLATION_KINDS.get(kind)
    if cls is None:
        cls = _VIOLATION_KINDS[kind] = type(re.sub(r"\W", "_", kind), (PropertyViolation,), {})
    return cls(message)


def check_precise(rpc: Rpc, request: Request, outcome: Outcome) -> None:
    """docs/errors.md for one answer: a precise status, never UNKNOWN/INTERNAL (nor UNAVAILABLE/
    DEADLINE_EXCEEDED on a healthy platform), no internal exception text, and INVALID_ARGUMENT
    naming real fields of the request (a body that does not decode has no fields to name, so
    it needs no BadRequest and may name the body as a whole with an empty path, but any field it
    names must be a real one)."""
    where = f"{rpc.name} {request.text()}\n  -> {outcome.describe()}"
    if outcome.code in FORBIDDEN_CODES:
        raise violation(f"Imprecise_{outcome.code.name}", f"imprecise status {outcome.code.name}:\n  {where}")
    too_large = outcome.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "metadata size exceeds" in outcome.message
    if too_large or outcome.trailer_bytes > DEFAULT_CLIENT_METADATA_BYTES:
        raise violation(
            "ErrorTooLarge",
            f"the error's status message and trailers take {outcome.trailer_bytes} bytes, more than the {DEFAULT_CLIENT_METADATA_BYTES} "
            f"a default gRPC client accepts (it sees RESOURCE_EXHAUSTED instead):\n  {where}",
        )
    leaks = leaked_internals(outcome, rpc)
    if leaks:
        raise violation(f"Leak_{outcome.code.name}", f"internal exception text {leaks} in the answer:\n  {where}")
    if outcome.code == grpc.StatusCode.INVALID_ARGUMENT:
        # A body that does not decode may be refused as a whole (an empty field path).
        named = [v for v in outcome.violations if v.field or request.message is not None]
        problems = [f"{v.field!r}: {problem}" for v in named if (problem := field_path_problem(rpc.request_type, v.field, request.message))]
        if problems:
            raise violation("UnknownField", f"field violations naming no field of {rpc.request_type.full_name}: {problems}\n  {where}")
        if request.message is not None and not outcome.violations:
            raise violation("NoFieldViolation", f"INVALID_ARGUMENT without a BadRequest field violation:\n  {where}")


# --- tenant state in Postgres -----------------------------------------------------------------------------


class TenantState:
    """Read-only view of one tenant's rows in every table (of every schema) with a `tenant_id`
    column, discovered from information_schema."""

    def __init__(self, platform: Platform):
        self._conn = psycopg.connect(platform.infra.env()["DATABASE_URL"], autocommit=True)
        rows = self._conn.execute(
            """
            SELECT c.table_schema, c.table_name,
                   bool_or(c2.column_name = 'published_at') AS has_published
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            JOIN information_schema.columns c2 ON c2.table_schema = c.table_schema AND c2.table_name = c.table_name
            WHERE c.column_name = 'tenant_id' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
            GROUP BY c.table_schema, c.table_name
            ORDER BY 1, 2
            """
        ).fetchall()
        self.tables = [f"{schema}.{table}" for schema, table, _ in rows]
        self.outboxes = [f"{schema}.{table}" for schema, table, published in rows if published]
        assert self.tables, "no table with a tenant_id column: is the platform migrated?"
        parts = [
            sql.SQL("SELECT {name}::text, to_jsonb(t)::text FROM {table} AS t WHERE t.tenant_id = %(tenant)s").format(
                name=sql.Literal(f"{s}.{t}"), table=sql.Identifier(s, t)
            )
            for s, t, _ in rows
        ]
        self._snapshot = sql.SQL(" UNION ALL ").join(parts)
        pending = [
            sql.SQL("SELECT count(*) FROM {table} WHERE tenant_id = %(tenant)s AND published_at IS NULL").format(table=sql.Identifier(s, t))
            for s, t, published in rows
            if published
        ]
        self._pending = sql.SQL(" UNION ALL ").join(pending) if pending else None

    def close(self) -> None:
        self._conn.close()

    def snapshot(self, tenant: str) -> dict[str, tuple[str, ...]]:
        """{table: sorted rows as JSON text} of `tenant` (tables without rows left out)."""
        by_table: dict[str, list[str]] = {}
        for table, row in self._conn.execute(self._snapshot, {"tenant": tenant}).fetchall():
            by_table.setdefault(table, []).append(row)
        return {table: tuple(sorted(rows)) for table, rows in by_table.items()}

    def outbox_rows(self, snapshot: dict[str, tuple[str, ...]]) -> int:
        return sum(len(snapshot.get(t, ())) for t in self.outboxes)

    def new_topics(self, before: dict[str, tuple[str, ...]], after: dict[str, tuple[str, ...]]) -> set[str]:
        """The topics of the outbox rows `after` has and `before` had not (what a call announced)."""
        topics = set()
        for table in self.outboxes:
            old = {json.loads(r).get("id") for r in before.get(table, ())}
            topics |= {f"{table}:{row.get('topic')}" for row in map(json.loads, after.get(table, ())) if row.get("id") not in old}
        return topics

    def without_outboxes(self, snapshot: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {t: rows for t, rows in snapshot.items() if t not in self.outboxes}

    def pending(self, tenant: str) -> int:
        """Rows of `tenant` in an outbox that are not published yet."""
        if self._pending is None:
            return 0
        return sum(n for (n,) in self._conn.execute(self._pending, {"tenant": tenant}).fetchall())

    def drain(self, tenant: str, within: float = 30.0) -> None:
        """Wait until every outbox row of `tenant` is published."""
        started = time.monotonic()
        while self.pending(tenant):
            if time.monotonic() - started > within:
                raise AssertionError(f"tenant {tenant}: outbox rows not published within {within} s")
            time.sleep(0.01)

    def settle(self, *tenants: str, quiet: float = 0.4, within: float = 30.0) -> list[dict[str, tuple[str, ...]]]:
        """Wait until the asynchronous pipeline (outbox -> Kafka -> consumers -> their outboxes) is
        done with `tenants`: every outbox row published and no row of theirs changing for `quiet`
        seconds (the whole pipeline takes about 50-150 ms on an idle machine). Their snapshots then."""
        started = time.monotonic()
        last = [self.snapshot(t) for t in tenants]
        stable_since = time.monotonic()
        while True:
            time.sleep(0.05)
            current = [self.snapshot(t) for t in tenants]
            now = time.monotonic()
            if current != last:
                last, stable_since = current, now
            elif now - stable_since >= quiet and not any(self.pending(t) for t in tenants):
                return current
            if now - started > within:
                raise AssertionError(f"tenants {tenants} did not settle within {within} s")


def describe_change(before: dict[str, tuple[str, ...]], after: dict[str, tuple[str, ...]], limit: int = 6) -> str:
    lines = []
    for table in sorted(before.keys() | after.keys()):
        old, new = set(before.get(table, ())), set(after.get(table, ()))
        for row in sorted(old - new)[:limit]:
            lines.append(f"    {table} - {row[:300]}")
        for row in sorted(new - old)[:limit]:
            lines.append(f"    {table} + {row[:300]}")
    return "\n".join(lines)


# --- seeding real data -------------------------------------------------------------------------------------

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def strings_of(message: Message) -> Iterator[tuple[str, str]]:
    """(field name, value) of every string set anywhere in `message` (map keys and values included)."""
    for fd, value in message.ListFields():
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            values: list[Any] = [*value.keys(), *value.values()]
        else:
            values = list(value) if fd.is_repeated else [value]
        for v in values:
            if isinstance(v, Message):
                yield from strings_of(v)
            elif isinstance(v, str):
                yield fd.name, v


def id_kind(field_name: str, container: Descriptor) -> str:
    """What an id names, by its field: `event_id`/`event_ids` and `Event.id` -> "event",
    `staff_member_id` and `StaffMember.id` -> "staff_member"."""
    if field_name == "id":
        return re.sub(r"(?<!^)(?=[A-Z])", "_", container.name).lower()
    return re.sub(r"_ids?$", "", field_name)


def walk(message: Message) -> Iterator[Message]:
    """`message` and every message nested in it."""
    yield message
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            values = list(value.values()) if fd.message_type.fields_by_name["value"].message_type is not None else []
        else:
            values = list(value) if fd.is_repeated else [value]
        for v in values:
            yield from walk(v)


@dataclass
class Seeded:
    """What a tenant's seeding created: its ids by kind ("event", "service"...), real messages of
    every type seen in the requests and answers (templates for plausible requests), its
    listings' cursors, and the marker written into every name."""

    tenant: str
    marker: str = ""
    ids_by_kind: dict[str, list[str]] = field(default_factory=dict)  # in the order seeding met them
    templates: dict[str, list[bytes]] = field(default_factory=dict)
    cursors: list[str] = field(default_factory=list)
    bookings: int = 0  # created while seeding
    booked_event: tuple[str, int] = ("", 0)  # an event booked while seeding, and its participants

    @property
    def ids(self) -> list[str]:
        return list(dict.fromkeys(i for ids in self.ids_by_kind.values() for i in ids))

    def observe(self, message: Message) -> None:
        for nested in walk(message):
            for fd, value in nested.ListFields():
                if fd.cpp_type != FieldDescriptor.CPPTYPE_STRING or fd.type == FieldDescriptor.TYPE_BYTES:
                    continue
                for v in value if fd.is_repeated else [value]:
                    if UUID_RE.match(v):
                        known_ids = self.ids_by_kind.setdefault(id_kind(fd.name, nested.DESCRIPTOR), [])
                        if v not in known_ids:
                            known_ids.append(v)
            known = self.templates.setdefault(nested.DESCRIPTOR.full_name, [])
            raw = nested.SerializeToString(deterministic=True)
            if raw and raw not in known and len(known) < 12:
                known.append(raw)


def _ts(moment: datetime) -> Any:
    stamp = events_pb2.Event().start
    stamp.FromDatetime(moment)
    return stamp


def seed_tenant(platform: Platform, tenant: str) -> Seeded:
    """Real data of `tenant` through the public RPCs: a CLASS service with four events (one in
    the past, one cancelled), a COURSE service with three weekly sessions, a CLASS needing manual
    approval, an APPOINTMENT service with a staff member offering it and a deleted staff member, a
    deleted CLASS service with an event, a standalone schedule with an external id and an event,
    and bookings (a confirmed class booking, a course booking, a pending one). Names carry a
    marker unique to the tenant, so a leak of any of them can be recognised."""
    md = bearer(tenant)
    marker = "seed" + uuid.uuid4().hex[:12]
    seeded = Seeded(tenant, marker)
    now = datetime.now(UTC).replace(microsecond=0)
    day, hour = timedelta(days=1), timedelta(hours=1)
    with grpc.insecure_channel(platform.address("bookings")) as bookings_ch, grpc.insecure_channel(platform.address("timeframes")) as calendar_ch:
        catalog = services_pb2_grpc.ServicesStub(bookings_ch)
        bookings = bookings_pb2_grpc.BookingsStub(bookings_ch)
        events = events_pb2_grpc.EventsStub(calendar_ch)
        schedules = schedules_pb2_grpc.SchedulesStub(calendar_ch)
        staff = staff_members_pb2_grpc.StaffMembersStub(bookings_ch)

        def keep(message: Message, request: Message | None = None) -> Any:
            seeded.observe(message)
            if request is not None:
                seeded.observe(request)
            return message

        def service(kind: int, name: str, **fields: Any) -> services_pb2.Service:
            sent = services_pb2.Service(
                type=kind, name=f"{name} {marker}", default_capacity=10, time_zone="Europe/Vienna", online_booking_enabled=True, **fields
            )  # type: ignore[arg-type]
            request = services_pb2.CreateServiceRequest(service=sent)
            return keep(catalog.CreateService(request, metadata=md, timeout=CALL_TIMEOUT_SECONDS), request).service

        def sessions(schedule_id: str, starts: Iterable[datetime]) -> list[events_pb2.Event]:
            sent = [events_pb2.Event(schedule_id=schedule_id, start=_ts(s), end=_ts(s + hour), title=f"session {marker}") for s in starts]
            request = events_pb2.BulkCreateEventsRequest(events=sent)
            return list(keep(events.BulkCreateEvents(request, metadata=md, timeout=CALL_TIMEOUT_SECONDS), request).events)

        def book(service_id: str, *, event_id: str = "", schedule_id: str = "", key: str = "", participants: int = 1) -> None:
            entity = (
                bookings_pb2.BookedEntity(slot=bookings_pb2.Slot(event_id=event_id))
                if event_id
                else bookings_pb2.BookedEntity(schedule=bookings_pb2.ScheduleItem(schedule_id=schedule_id))
            )
            booking = bookings_pb2.Booking(
                service_id=service_id,
                booked_entity=entity,
                number_of_participants=participants,
                contact=bookings_pb2.ContactDetails(name=f"Ada {marker}", email=f"ada.{marker}@example.com"),
            )
            request = bookings_pb2.CreateBookingRequest(booking=booking, idempotency_key=key)
            keep(bookings.CreateBooking(request, metadata=md, timeout=CALL_TIMEOUT_SECONDS), request)
            seeded.bookings += 1

        klass = service(
            services_pb2.CLASS,
            "Pottery",
            booking_policy=policy_pb2.BookingPolicy(participants_policy=policy_pb2.ParticipantsPolicy(max_participants_per_booking=4)),
        )
        class_events = sessions(klass.schedule_id, [now - 2 * day, now + 2 * day, now + 3 * day, now + 4 * day])
        cancelled = class_events[-1]
        keep(events.CancelEvent(events_pb2.CancelEventRequest(event_id=cancelled.id, revision=cancelled.revision), metadata=md, timeout=CALL_TIMEOUT_SECONDS))
        course = service(services_pb2.COURSE, "Course", strict_capacity=True)
        sessions(course.schedule_id, [now + 5 * day + i * 7 * day for i in range(3)])
        approval = service(services_pb2.CLASS, "Approval", requires_manual_approval=True)
        approval_events = sessions(approval.schedule_id, [now + 6 * day])
        haircut = service(services_pb2.APPOINTMENT, "Haircut", appointment=services_pb2.AppointmentSettings(duration_minutes=30, buffer_after_minutes=10))
        for name, service_ids in ((f"Ada {marker}", [haircut.id]), (f"Gone {marker}", [])):
            member = staff_members_pb2.StaffMember(name=name, email=f"staff.{marker}@example.com", time_zone="Europe/Vienna", service_ids=service_ids)
            request = staff_members_pb2.CreateStaffMemberRequest(staff_member=member)
            member = keep(staff.CreateStaffMember(request, metadata=md, timeout=CALL_TIMEOUT_SECONDS), request).staff_member
        delete = staff_members_pb2.DeleteStaffMemberRequest(staff_member_id=member.id, revision=member.revision)
        staff.DeleteStaffMember(delete, metadata=md, timeout=CALL_TIMEOUT_SECONDS)  # the last one: a deleted staff member
        closed = service(services_pb2.CLASS, "Closed")  # deleted below: its schedule and event stay behind
        sessions(closed.schedule_id, [now + 3 * day])
        catalog.DeleteService(services_pb2.DeleteServiceRequest(service_id=closed.id, revision=closed.revision), metadata=md, timeout=CALL_TIMEOUT_SECONDS)
        schedule = schedules_pb2.Schedule(name=f"room {marker}", external_id=f"ext-{marker}", time_zone="America/New_York", default_capacity=5)
        request = schedules_pb2.CreateScheduleRequest(schedule=schedule)
        standalone = keep(schedules.CreateSchedule(request, metadata=md, timeout=CALL_TIMEOUT_SECONDS), request).schedule
        sessions(standalone.id, [now + 8 * day])

        book(klass.id, event_id=class_events[1].id, key=f"key-{marker}", participants=2)
        seeded.booked_event = (class_events[1].id, 2)
        book(course.id, schedule_id=course.schedule_id)
        book(approval.id, event_id=approval_events[0].id)
    return seeded


def wait_for_pipeline(platform: Platform, seeded: Seeded, within: float = 60.0) -> None:
    """Wait until the pipeline derived what seeding started: a participation per booking, and the
    booked event's participant total (the consumers may still be joining their groups when the
    platform has just started)."""
    md = bearer(seeded.tenant)
    event_id, participants = seeded.booked_event
    started = time.monotonic()
    with grpc.insecure_channel(platform.address("participations")) as p_ch, grpc.insecure_channel(platform.address("timeframes")) as t_ch:
        participations = participations_pb2_grpc.ParticipationsStub(p_ch)
        events = events_pb2_grpc.EventsStub(t_ch)
        while True:
            query = participations_pb2.QueryParticipationsRequest(cursor_paging=paging_pb2.CursorPaging(limit=100))
            found = len(participations.QueryParticipations(query, metadata=md, timeout=CALL_TIMEOUT_SECONDS).participations)
            total = events.GetEvent(events_pb2.GetEventRequest(event_id=event_id), metadata=md, timeout=CALL_TIMEOUT_SECONDS).event.participants_total
            if found >= seeded.bookings and total >= participants:
                return
            if time.monotonic() - started > within:
                raise AssertionError(f"the pipeline did not process tenant {seeded.tenant}'s bookings within {within} s ({found} participations)")
            time.sleep(0.1)


def collect_cursors(caller: Caller, rpcs: Sequence[Rpc], seeded: Seeded) -> None:
    """Cursors of every listing of the tenant: each RPC whose request has a paging message (one
    with `limit` and `cursor` fields) is asked for one item, and every `next` cursor answered is kept."""
    md = bearer(seeded.tenant)
    for rpc in rpcs:
        request = rpc.request_class()
        paging = [fd for fd in rpc.request_type.fields if fd.message_type is not None and {"limit", "cursor"} <= set(fd.message_type.fields_by_name)]
        if not paging or not rpc.unary:
            continue
        getattr(request, paging[0].name).limit = 1
        outcome = caller.call(rpc, request.SerializeToString(), md)
        if outcome.ok and outcome.response is not None:
            response = rpc.response_class.FromString(outcome.response)
            seeded.cursors += [v for name, v in strings_of(response) if name == "next" and v and v not in seeded.cursors]
            seeded.observe(response)


def allow_course_availability(platform: Platform, tenants: Iterable[str], allow: bool = True) -> None:
    """Put `tenants` on (or take them off) the allow list of the `course_availability_enabled`
    feature toggle, so the course availability RPCs run for them; other tenants are left alone."""
    client = redis.Redis.from_url(platform.infra.env()["REDIS_URL"])
    try:
        raw = client.hget(HASH_KEY, COURSE_AVAILABILITY_ENABLED)
        rule = ToggleRule.parse(raw) if raw else ToggleRule()
        chosen = set(tenants)
        allowed = rule.allow | chosen if allow else rule.allow - chosen
        client.hset(HASH_KEY, COURSE_AVAILABILITY_ENABLED, ToggleRule(rule.percentage, frozenset(allowed), rule.deny - chosen).dump())
    finally:
        client.close()


def seed_tenants(platform: Platform, tenants: Sequence[str], caller: Caller, rpcs: Sequence[Rpc], state: TenantState) -> dict[str, Seeded]:
    """Seed several tenants at once (with course availability on for them), wait for the
    pipeline, then collect what it derived (participations) and the listings' cursors."""
    allow_course_availability(platform, tenants)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        seeded = dict(zip(tenants, pool.map(lambda t: seed_tenant(platform, t), tenants), strict=True))
    for one in seeded.values():
        wait_for_pipeline(platform, one)
    state.settle(*tenants)
    time.sleep(max(0.0, TOGGLE_REFRESH_SECONDS - (time.monotonic() - started)))  # the availability service re-reads toggles
    for one in seeded.values():
        collect_cursors(caller, rpcs, one)
    return seeded


# --- request strategies from descriptors -----------------------------------------------------------------

_NOW = datetime.now(UTC).replace(microsecond=0)
MIN_TIMESTAMP_SECONDS = -62135596800  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_SECONDS = 253402300799  # 9999-12-31T23:59:59Z
# The instants and dates of one request are drawn around one of these (so that a start and an
# end, or a from and a to, can be near each other at the edges of the calendar too).
TIME_BASES = (
    _NOW + timedelta(days=3),
    _NOW - timedelta(days=30),
    datetime(9999, 12, 30, 12, tzinfo=UTC),
    datetime(1, 1, 2, 12, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, tzinfo=UTC),
)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)

EDGE_TEXT = (
    "",
    " ",
    "   \t\n",
    "a",
    "x" * 10_000,
    "y" * 201,
    "\x00",
    "a\x00b",
    "fuzz name\x00",
    "\x01\x02\x1b[31m\x7f",
    "line\nbreak\r\n",
    "\u202eevil\u202c",
    "עברית ومرحبا",
    "😀𝔘𝔫𝔦𝔠𝔬𝔡𝔢\U0010ffff",
    "\ufeff\u200b",
    "'; DROP TABLE services; --",
    "%s %(x)s {0} $1",
    "..\\..//etc/passwd",
    "null",
    "NaN",
)
IANA_ZONES = ("Europe/Vienna", "UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Lord_Howe", "Etc/GMT+12")
BAD_ZONES = ("Mars/Olympus_Mons", "europe/vienna", "EUROPE/VIENNA", "+01:00", "GMT+1", "Europe/Vienna\x00", " Europe/Vienna", "../../etc/localtime", "Europe/")
DATE_TEXT = (
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "2026-02-30",
    "2026-02-28",
    "2024-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-03-29T02:30:00",  # a wall time that does not exist in Vienna
    "2026-10-25T02:30:00",  # one that exists twice
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+05:45",
    "2026-01-01T24:00:00",
    "2026-01-01T10:00:00.123456789",
    "20260101",
    "2026-1-1",
    "tomorrow",
    "-2026-01-01",
    "99999-01-01",
)
EMAILS = ("ada@example.com", "a@b", "no-at-sign", "@example.com", "ada@", "a" * 320 + "@example.com", "ada@exa mple.com", "ada\x00@example.com")
KNOWN_BAD_IDS = (
    "not-a-uuid",
    "3F1C9A52-6D1E-4B8A-9B1F-2D4C5E6F7A8B",
    "{3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b}",
    "3f1c9a526d1e4b8a9b1f2d4c5e6f7a8b",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8",
    " 3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b",
    "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8g",
    "3f1c9a52-6d1e-4b8a-9b1f-2d4c5e6f7a8b\x00",
)
EDGE_INTS = (0, 1, -1, 2, 3, 5, 10, 59, 60, 100, 101, 200, 1000, 1001, 1440, 10_000, 10_001, 525_600, 2**31 - 1, -(2**31))
EDGE_INT64 = (*EDGE_INTS, 2**53, 2**62, 2**63 - 1, -(2**63), int(_NOW.timestamp()), time.time_ns())
EDGE_SECONDS = (MIN_TIMESTAMP_SECONDS, MAX_TIMESTAMP_SECONDS, MIN_TIMESTAMP_SECONDS - 1, MAX_TIMESTAMP_SECONDS + 1, 0, -1, 2**31, -(2**31) - 1, *INT64)
EDGE_NANOS = (999_999_999, 1_000_000_000, -1, 1, 500_000_000, *INT32)
ENUM_UNKNOWN = (-1, 99, 2**31 - 1, -(2**31))


def _name_is_id(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_ids"))


def _name_is_date(name: str) -> bool:
    return name.endswith(("_local_date", "_date", "_time")) or name in {"date", "from", "to"}


def _shift(base: datetime, delta: timedelta) -> datetime:
    """base + delta, clamped to the calendar Python can represent."""
    try:
        return base + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if delta > timedelta(0) else datetime.min.replace(tzinfo=UTC)


class RequestStrategies:
    """Hypothesis strategies of requests of any RPC, derived from its descriptors only.

    Two flavours of message are drawn. *Plausible* ones set most fields to values that look
    right by the field's name and type (an id the tenant owns, an IANA zone, an instant near the
    request's time base, a small count, a declared enum value...) and spoil about one field in
    five with an edge value, so requests get past the first checks and reach the storage.
    *Random* ones set any subset of fields to any edge or random value. Every field of every
    message is reachable either way; nested messages down to `max_depth`.

    `own_ids` are ids the calling tenant really owns (so requests reach real rows), `foreign_ids`
    another tenant's; `cursors` are real cursors (of the caller and of others)."""

    def __init__(
        self,
        own_ids: dict[str, list[str]],
        foreign_ids: Iterable[str] = (),
        cursors: Iterable[str] = (),
        templates: dict[str, list[bytes]] | None = None,
        max_depth: int = 5,
    ):
        # Pools keep the order seeding met the ids in, so that the same draws pick the same roles
        # (the first event, the deleted service's...) on every run.
        self.own_by_kind = {kind: list(ids) for kind, ids in own_ids.items()}
        self.own_ids = list(dict.fromkeys(i for ids in own_ids.values() for i in ids))
        self.foreign_ids = list(dict.fromkeys(foreign_ids))
        self.cursors = list(dict.fromkeys(cursors))
        self.templates = templates or {}
        self.max_depth = max_depth
        self._cache: dict[tuple[str, int, bool], st.SearchStrategy[Message]] = {}
        self._base = TIME_BASES[0]  # the time base of the request being drawn
        self._last: datetime | None = None  # its latest instant drawn so far

    # -- scalars ---------------------------------------------------------------------------------

    def text(self) -> st.SearchStrategy[str]:
        """Edge strings half the time, else any text (NUL and other control characters included)."""
        edges = st.sampled_from(EDGE_TEXT)
        return st.one_of(edges, edges, st.text(max_size=40), st.text(st.characters(codec="utf-8"), min_size=1, max_size=12))

    def one_id(self) -> st.SearchStrategy[str]:
        pools: list[st.SearchStrategy[str]] = []
        if self.own_ids:
            pools.append(st.sampled_from(self.own_ids))
        if self.foreign_ids:
            pools.append(st.sampled_from(self.foreign_ids))
        pools += [st.uuids().map(str), st.sampled_from(KNOWN_BAD_IDS), self.text()]
        return st.one_of(*pools)

    def _next_moment(self, draw: st.DrawFn, step: timedelta, first_range: tuple[int, int], later_range: tuple[int, int]) -> datetime:
        """The first instant of a request near its time base, each further one a little after the
        previous (so that an end follows its start, a `to` its `from`, most of the time)."""
        if self._last is None:
            moment = _shift(self._base, step * draw(st.integers(*first_range)))
        else:
            moment = _shift(self._last, step * draw(st.integers(*later_range)))
        self._last = moment
        return moment

    @st.composite
    def _local_date(draw: st.DrawFn, self: RequestStrategies, with_time: bool) -> str:  # noqa: N805 (hypothesis composite)
        moment = self._next_moment(draw, timedelta(hours=1), (-24 * 40, 24 * 120), (-24, 24 * 60))
        text = moment.replace(tzinfo=None).isoformat(timespec="seconds")
        return text if with_time else text[:10]

    def date_text(self) -> st.SearchStrategy[str]:
        return st.one_of(self._local_date(False), self._local_date(True))

    def string_for(self, name: str) -> st.SearchStrategy[str]:
        if _name_is_id(name):
            return self.one_id()
        if name == "time_zone" or name.endswith("_time_zone"):
            return st.one_of(st.sampled_from(IANA_ZONES), st.sampled_from(BAD_ZONES), self.text())
        if _name_is_date(name):
            return st.one_of(self.date_text(), st.sampled_from(DATE_TEXT), self.text())
        if name == "cursor" or name.endswith("_cursor"):
            real = [st.sampled_from(self.cursors)] if self.cursors else []
            tampered = [st.sampled_from(self.cursors).map(lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"))] if self.cursors else []
            return st.one_of(
                *real, *tampered, st.sampled_from(("", "abc", "AAAA", "eyJ9", "!!!", "=" * 8)), st.binary(max_size=48).map(lambda b: b.hex()), self.text()
            )
        if "email" in name:
            return st.one_of(st.sampled_from(EMAILS), self.text())
        return self.text()

    def plausible_string(self, name: str, container: Descriptor | None = None) -> st.SearchStrategy[str]:
        if _name_is_id(name):
            kind = id_kind(name, container) if container is not None else ""
            pool = self.own_by_kind.get(kind) or self.own_ids
            return st.sampled_from(pool) if pool else st.uuids().map(str)
        if name == "time_zone" or name.endswith("_time_zone"):
            return st.sampled_from(IANA_ZONES)
        if _name_is_date(name):
            return self.date_text()
        if name == "cursor" or name.endswith("_cursor"):
            return st.sampled_from(["", *self.cursors])
        if "email" in name:
            return st.just("ada@example.com")
        return st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).map(lambda t: "fuzz " + t)

    def int_for(self, fd: FieldDescriptor) -> st.SearchStrategy[int]:
        low, high = {
            FieldDescriptor.CPPTYPE_INT32: INT32,
            FieldDescriptor.CPPTYPE_INT64: INT64,
            FieldDescriptor.CPPTYPE_UINT32: UINT32,
            FieldDescriptor.CPPTYPE_UINT64: UINT64,
        }[fd.cpp_type]
        edges = EDGE_INT64 if fd.cpp_type in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64) else EDGE_INTS
        edges = tuple(sorted({v for v in (*edges, low, high) if low <= v <= high}, key=abs))
        return st.one_of(st.sampled_from(edges), st.integers(low, high), st.integers(max(low, -3), min(high, 12)))

    def plausible_int(self, fd: FieldDescriptor) -> st.SearchStrategy[int]:
        if "revision" in fd.name:
            return st.integers(1, 3)
        if "version" in fd.name:
            return st.one_of(st.integers(1, 5), st.just(time.time_ns()))
        if fd.name == "limit":
            return st.integers(1, 50)
        return st.integers(1, 12)

    def scalar(self, fd: FieldDescriptor) -> st.SearchStrategy[Any]:
        """Any value of the field's type, edge values first."""
        cpp = fd.cpp_type
        if cpp == FieldDescriptor.CPPTYPE_STRING:
            if fd.type == FieldDescriptor.TYPE_BYTES:
                return st.one_of(st.just(b""), st.binary(max_size=64), st.just(b"\xff" * 10_000))
            return self.string_for(fd.name)
        if cpp == FieldDescriptor.CPPTYPE_BOOL:
            return st.booleans()
        if cpp == FieldDescriptor.CPPTYPE_ENUM:
            declared = [v.number for v in fd.enum_type.values]
            return st.one_of(st.sampled_from(declared), st.sampled_from(ENUM_UNKNOWN))
        if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
            edges = st.sampled_from((0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 3.4e38))
            return st.one_of(edges, st.floats(width=32 if cpp == FieldDescriptor.CPPTYPE_FLOAT else 64))
        return self.int_for(fd)

    def plausible_scalar(self, fd: FieldDescriptor) -> st.SearchStrategy[Any]:
        """A value that looks right for the field's name and type."""
        cpp = fd.cpp_type
        if cpp == FieldDescriptor.CPPTYPE_STRING:
            return st.binary(max_size=8) if fd.type == FieldDescriptor.TYPE_BYTES else self.plausible_string(fd.name, fd.containing_type)
        if cpp == FieldDescriptor.CPPTYPE_BOOL:
            return st.booleans()
        if cpp == FieldDescriptor.CPPTYPE_ENUM:
            declared = [v.number for v in fd.enum_type.values]
            return st.sampled_from([n for n in declared if n] or declared)
        if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
            return st.floats(0, 100)
        return self.plausible_int(fd)

    # -- messages --------------------------------------------------------------------------------

    @st.composite
    def _timestamp(draw: st.DrawFn, self: RequestStrategies, cls: type[Message], plausible: bool) -> Message:  # noqa: N805
        if plausible or draw(st.booleans()):  # near the request's time base (or its previous instant), on a half hour
            moment = self._next_moment(draw, timedelta(minutes=30), (-48 * 2, 24 * 2 * 8), (-2, 16))
            seconds = int(moment.timestamp())
        else:
            seconds = draw(st.one_of(st.sampled_from(EDGE_SECONDS), st.integers(MIN_TIMESTAMP_SECONDS, MAX_TIMESTAMP_SECONDS)))
        nanos = 0 if plausible else draw(st.one_of(st.just(0), st.sampled_from(EDGE_NANOS), st.integers(0, 999_999_999)))
        return cls(seconds=seconds, nanos=nanos)

    def field_mask(self, cls: type[Message], siblings: Sequence[Descriptor], plausible: bool) -> st.SearchStrategy[Message]:
        real: list[str] = []
        for sibling in siblings:
            for fd in sibling.fields:
                real.append(fd.name)
                if fd.message_type is not None and not fd.is_repeated:
                    real += [f"{fd.name}.{sub.name}" for sub in fd.message_type.fields]
        junk = ("", "nope", "*", "id.value", "Name", "booking_policy.nope", ".", "a..b", "name ", "paths")
        if plausible and real:
            return st.lists(st.sampled_from(real), min_size=1, max_size=3, unique=True).map(lambda paths: cls(paths=paths))
        path = st.one_of(st.sampled_from(real), st.sampled_from(junk), self.text()) if real else st.one_of(st.sampled_from(junk), self.text())
        return st.lists(path, max_size=4).map(lambda paths: cls(paths=paths))

    def message(self, descriptor: Descriptor, depth: int = 0, plausible: bool = False) -> st.SearchStrategy[Message]:
        key = (descriptor.full_name, depth, plausible)
        if key not in self._cache:
            self._cache[key] = self._message(descriptor, depth, plausible)
        return self._cache[key]

    def _message(self, descriptor: Descriptor, depth: int, plausible: bool) -> st.SearchStrategy[Message]:
        cls = message_factory.GetMessageClass(descriptor)
        if descriptor.full_name == "google.protobuf.Timestamp":
            return self._timestamp(cls, plausible)
        real_oneofs = [o for o in descriptor.oneofs if not (len(o.fields) == 1 and o.name == "_" + o.fields[0].name)]
        in_real_oneof = {fd.name for o in real_oneofs for fd in o.fields}
        plain = [fd for fd in descriptor.fields if fd.name not in in_real_oneof]
        siblings = [fd.message_type for fd in descriptor.fields if fd.message_type is not None and fd.message_type.full_name != "google.protobuf.FieldMask"]

        def value_of(fd: FieldDescriptor, spoil: bool) -> st.SearchStrategy[Any] | None:
            good = plausible and not spoil
            if fd.message_type is not None:
                if fd.message_type.full_name == "google.protobuf.FieldMask":
                    return self.field_mask(message_factory.GetMessageClass(fd.message_type), siblings, good)
                if depth + 1 > self.max_depth:
                    return None
                return self.message(fd.message_type, depth + 1, plausible)
            return self.plausible_scalar(fd) if good else self.scalar(fd)

        # Plausible: a field is left out one time in six and spoilt one time in five.
        present = st.integers(0, 5).map(lambda n: n < 5) if plausible else st.booleans()
        spoilt = st.integers(0, 4).map(lambda n: n == 4) if plausible else st.just(True)

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            msg = cls()
            for fd in plain:
                if draw(present):
                    self._set(draw, msg, fd, value_of(fd, draw(spoilt)), plausible)
            for oneof in real_oneofs:
                chosen = draw(st.sampled_from([*oneof.fields, None] if plausible else [None, *oneof.fields]))
                if chosen is not None:
                    self._set(draw, msg, chosen, value_of(chosen, draw(spoilt)), plausible)
            return msg

        templates = self.templates.get(descriptor.full_name, [])
        if not plausible or not templates:
            return build()

        @st.composite
        def from_template(draw: st.DrawFn) -> Message:
            """A real message of this type (seen while seeding), a field or two spoilt or cleared."""
            msg = cls.FromString(draw(st.sampled_from(templates)))
            for fd in descriptor.fields:
                action = draw(st.integers(0, 9))
                if action >= 8:
                    msg.ClearField(fd.name)
                if action == 8:
                    self._set(draw, msg, fd, value_of(fd, True), plausible)
            return msg

        return st.one_of(from_template(), build())

    def _set(self, draw: st.DrawFn, msg: Message, fd: FieldDescriptor, strategy: st.SearchStrategy[Any] | None, plausible: bool) -> None:
        if strategy is None:
            return
        is_map = fd.message_type is not None and fd.message_type.GetOptions().map_entry
        if is_map:
            key_fd, value_fd = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
            entries = draw(st.lists(st.tuples(self.scalar(key_fd), st.none() if value_fd.message_type else self.scalar(value_fd)), max_size=3))
            container = getattr(msg, fd.name)
            for k, v in entries:
                if value_fd.message_type is not None:
                    container[k].CopyFrom(draw(self.message(value_fd.message_type, self.max_depth)))
                else:
                    container[k] = v
            return
        if fd.is_repeated:
            values = draw(st.lists(strategy, min_size=1, max_size=2) if plausible else self.repeated(fd, strategy))
            container = getattr(msg, fd.name)
            if fd.message_type is not None:
                for v in values:
                    container.add().CopyFrom(v)
            else:
                container.extend(values)
            return
        value = draw(strategy)
        if fd.message_type is not None:
            getattr(msg, fd.name).CopyFrom(value)
        else:
            setattr(msg, fd.name, value)

    def repeated(self, fd: FieldDescriptor, element: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
        """0..3 items usually; duplicates; occasionally many (distinct fresh UUIDs for id lists)."""
        few = st.lists(element, max_size=3)
        duplicates = st.tuples(element, st.integers(2, 5)).map(lambda t: [t[0]] * t[1])
        options = [few, duplicates]
        if fd.cpp_type == FieldDescriptor.CPPTYPE_STRING and _name_is_id(fd.name):
            options.append(st.integers(40, 1200).map(lambda n: [str(uuid.UUID(int=(0x5EED << 64) + i, version=4)) for i in range(n)]))
        else:
            options.append(st.tuples(element, st.integers(40, 400)).map(lambda t: [t[0]] * t[1]))
        return st.one_of(*options)

    # -- whole requests --------------------------------------------------------------------------

    @st.composite
    def _request_message(draw: st.DrawFn, self: RequestStrategies, descriptor: Descriptor) -> Message:  # noqa: N805
        self._base, self._last = draw(st.sampled_from(TIME_BASES)), None
        return draw(st.one_of(self.message(descriptor, plausible=True), self.message(descriptor)))

    def well_formed(self, rpc: Rpc) -> st.SearchStrategy[Request]:
        """Requests that are valid encodings of the request type, plausible or random."""
        return self._request_message(rpc.request_type).map(lambda m: Request(rpc.name, m.SerializeToString(), m, "message"))

    def corrupted(self, rpc: Rpc) -> st.SearchStrategy[Request]:
        """Encodings spoilt on the wire (most no longer decode; an unknown field still does)."""
        return st.tuples(self._request_message(rpc.request_type), st.sampled_from(CORRUPTIONS), st.integers(0, 2**16)).map(lambda t: self._corrupt(rpc, *t))

    def request(self, rpc: Rpc) -> st.SearchStrategy[Request]:
        """Mostly well-formed requests, sometimes corrupted ones."""
        return st.one_of(self.well_formed(rpc), self.well_formed(rpc), self.well_formed(rpc), self.corrupted(rpc))

    def _corrupt(self, rpc: Rpc, message: Message, how: str, salt: int) -> Request:
        return Request.of(rpc, corrupt(rpc.request_type, message, how, salt), how)


# --- systematic single-field mutations of plausible requests ----------------------------------------------

# The time bases a plausible request is rebuilt around: now, and the edges of the calendar
# (0001-01-01T00:00Z, an hour before 9999-12-31T23:59:59Z), and the epoch.
SYSTEMATIC_BASES = (
    (_NOW + timedelta(days=3)).replace(minute=0, second=0),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 22, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
)
NUL_TEXT = "fuzz\x00name"
TEXT_EDGES = (NUL_TEXT, "x" * 10_000, "", "\u202e😀 עברית\U0010ffff")
DATE_EDGES = ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "2026-02-30T00:00:00", "2026-03-29T02:30:00", NUL_TEXT)
ZONE_EDGES = ("Pacific/Kiritimati", "Etc/GMT+12", "Mars/Olympus_Mons", "Europe/Vienna\x00")
TIMESTAMP_EDGES = ((MIN_TIMESTAMP_SECONDS, 0), (MAX_TIMESTAMP_SECONDS, 0), (MAX_TIMESTAMP_SECONDS + 1, 0), (0, 1_000_000_000), (-(2**63), 0))


class Mutations:
    """Deterministic requests of one RPC: a plausible request composed from the tenant's real
    messages (templates) and plausible values, rebuilt around each of SYSTEMATIC_BASES, then
    that request with one field at a time set to each edge value of its type (every own id of
    the field's kind, another tenant's, NUL in text, the edges of the calendar, integer extremes,
    unknown enum numbers, each real field mask path, an empty / duplicated / long list...).
    Then every field changed at once, and ordered so that every field gets its first edge value
    before any field gets its second."""

    def __init__(self, own: Seeded, foreign: Seeded, max_depth: int = 5):
        self.own, self.foreign, self.max_depth = own, foreign, max_depth

    # -- the plausible request -------------------------------------------------------------------

    def _ids(self, seeded: Seeded, fd: FieldDescriptor) -> list[str]:
        return list(seeded.ids_by_kind.get(id_kind(fd.name, fd.containing_type), []))

    def _plausible(self, fd: FieldDescriptor) -> Any:
        cpp, name = fd.cpp_type, fd.name
        if cpp == FieldDescriptor.CPPTYPE_STRING:
            if fd.type == FieldDescriptor.TYPE_BYTES:
                return b"fuzz"
            if _name_is_id(name):
                return (self._ids(self.own, fd) or self.own.ids or [str(uuid.uuid4())])[0]
            if name == "time_zone" or name.endswith("_time_zone"):
                return "Europe/Vienna"
            if _name_is_date(name):
                return "2001-01-01T00:00:00"  # replaced by `rebase`
            if name == "cursor" or name.endswith("_cursor"):
                return ""
            return "ada@example.com" if "email" in name else "fuzz"
        if cpp == FieldDescriptor.CPPTYPE_BOOL:
            return True
        if cpp == FieldDescriptor.CPPTYPE_ENUM:
            return next((v.number for v in fd.enum_type.values if v.number), 0)
        if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
            return 1.0
        if "version" in name:
            return time.time_ns()
        return 10 if name == "limit" else 1

    def _mask_paths(self, parent: Descriptor) -> list[str]:
        paths = []
        for sibling in parent.fields:
            if sibling.message_type is None or sibling.message_type.full_name == "google.protobuf.FieldMask":
                continue
            for fd in sibling.message_type.fields:
                paths.append(fd.name)
                if fd.message_type is not None and not fd.is_repeated and fd.message_type.full_name != "google.protobuf.Timestamp":
                    paths += [f"{fd.name}.{sub.name}" for sub in fd.message_type.fields]
        return paths

    def compose(self, descriptor: Descriptor, depth: int = 0) -> Message:
        """A plausible message: the richest real one of its type when seeding saw one, else
        every field set to a plausible value (the first member of each oneof)."""
        cls = message_factory.GetMessageClass(descriptor)
        templates = self.own.templates.get(descriptor.full_name)
        if depth > 0 and templates:
            return cls.FromString(max(templates, key=len))
        msg = cls()
        if descriptor.full_name == "google.protobuf.Timestamp":
            msg.seconds = int(_NOW.timestamp())
            return msg
        for fd in descriptor.fields:
            oneof = fd.containing_oneof
            if oneof is not None and oneof.fields[0].name != fd.name:
                continue
            if fd.message_type is not None:
                if fd.message_type.GetOptions().map_entry or depth >= self.max_depth:
                    continue
                if fd.message_type.full_name == "google.protobuf.FieldMask":
                    preferred = [p for p in self._mask_paths(descriptor) if p in ("name", "title")] or self._mask_paths(descriptor)[:1]
                    getattr(msg, fd.name).paths.extend(preferred)
                    continue
                value = self.compose(fd.message_type, depth + 1)
                if fd.is_repeated:
                    getattr(msg, fd.name).add().CopyFrom(value)
                else:
                    getattr(msg, fd.name).CopyFrom(value)
            elif fd.is_repeated:
                getattr(msg, fd.name).append(self._plausible(fd))
            else:
                setattr(msg, fd.name, self._plausible(fd))
        return msg

    @staticmethod
    def rebase(message: Message, base: datetime) -> Message:
        """A copy whose instants and local dates follow each other an hour apart from `base`
        (clamped to years 1..9999)."""
        copy = type(message)()
        copy.CopyFrom(message)
        step = [0]

        def next_moment() -> datetime:
            moment = _shift(base, timedelta(hours=step[0]))
            step[0] += 1
            return moment

        def visit(msg: Message) -> None:
            if msg.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
                msg.seconds, msg.nanos = int(next_moment().timestamp()), 0
                return
            for fd, value in msg.ListFields():
                if fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
                    for v in value if fd.is_repeated else [value]:
                        visit(v)
                elif fd.cpp_type == FieldDescriptor.CPPTYPE_STRING and _name_is_date(fd.name) and not fd.is_repeated:
                    setattr(msg, fd.name, next_moment().replace(tzinfo=None).isoformat(timespec="seconds"))

        visit(copy)
        return copy

    # -- one field at a time ---------------------------------------------------------------------

    def _scalar_edges(self, fd: FieldDescriptor, current: Any) -> list[Any]:
        cpp, name = fd.cpp_type, fd.name
        if cpp == FieldDescriptor.CPPTYPE_STRING:
            if fd.type == FieldDescriptor.TYPE_BYTES:
                return [b"", b"\xff" * 10_000]
            if _name_is_id(name):
                own = [i for i in self._ids(self.own, fd) if i != current]
                other_kinds = [i for i in self.own.ids if i not in self._ids(self.own, fd)]
                foreign = self._ids(self.foreign, fd) or self.foreign.ids
                return [*own, *foreign[:1], *other_kinds[:1], current + "\x00", ""]
            if name == "time_zone" or name.endswith("_time_zone"):
                return list(ZONE_EDGES)
            if _name_is_date(name):
                return list(DATE_EDGES)
            if name == "cursor" or name.endswith("_cursor"):
                cursors = self.own.cursors[:2] + self.foreign.cursors[:1]
                return [*cursors, *(c[:-2] + "AA" for c in cursors[:1]), NUL_TEXT]
            if "email" in name:
                return ["ada\x00@example.com", "x" * 400 + "@example.com", *TEXT_EDGES[2:]]
            return list(TEXT_EDGES)
        if cpp == FieldDescriptor.CPPTYPE_BOOL:
            return [not current]
        if cpp == FieldDescriptor.CPPTYPE_ENUM:
            return [*(v.number for v in fd.enum_type.values if v.number != current), 99, -1]
        if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
            return [float("nan"), float("inf"), -1.0]
        if cpp in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64):
            return [-1, 0, 2**63 - 1, -(2**63), 2**31] if cpp == FieldDescriptor.CPPTYPE_INT64 else [0, 2**64 - 1]
        return [-1, 0, 2**31 - 1, -(2**31)] if cpp == FieldDescriptor.CPPTYPE_INT32 else [0, 2**32 - 1]

    def _leaves(self, msg: Message, prefix: str, depth: int) -> Iterator[tuple[str, list[Callable[[Message], None]]]]:
        """(path, mutations) of every field of `msg` (and of the messages it holds), each
        mutation a function that changes that one field of a copy of the root request."""
        descriptor = msg.DESCRIPTOR
        for fd in descriptor.fields:
            path = f"{prefix}{fd.name}"
            is_map = fd.message_type is not None and fd.message_type.GetOptions().map_entry
            if is_map:
                continue
            if fd.message_type is not None and fd.message_type.full_name == "google.protobuf.FieldMask":
                paths = [[p] for p in self._mask_paths(descriptor)] + [["nope"], []]
                yield (
                    path,
                    [_setter(path, lambda m, fd=fd, ps=ps: getattr(m, fd.name).ClearField("paths") or getattr(m, fd.name).paths.extend(ps)) for ps in paths],
                )
                continue
            if fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Timestamp":
                edges = [
                    _setter(path, lambda m, fd=fd, e=e: getattr(m, fd.name).CopyFrom(type(getattr(m, fd.name))(seconds=e[0], nanos=e[1])))
                    for e in TIMESTAMP_EDGES
                ]
                if fd.is_repeated:
                    continue
                yield path, [*edges, _setter(path, lambda m, fd=fd: m.ClearField(fd.name))]
                continue
            if fd.is_repeated:
                container = getattr(msg, fd.name)
                yield (
                    path,
                    [
                        _setter(path, lambda m, fd=fd: m.ClearField(fd.name)),
                        _setter(path, lambda m, fd=fd: _extend(getattr(m, fd.name), list(getattr(m, fd.name))[:1] * 2)),
                        _setter(path, lambda m, fd=fd: _extend(getattr(m, fd.name), list(getattr(m, fd.name))[:1] * 101)),
                    ],
                )
                if len(container) and depth < self.max_depth:
                    if fd.message_type is not None:
                        yield from self._leaves(container[0], f"{path}[0].", depth + 1)
                    else:
                        yield (
                            f"{path}[0]",
                            [_setter(f"{path}[0]", lambda m, fd=fd, v=v: _replace_first(getattr(m, fd.name), v)) for v in self._scalar_edges(fd, container[0])],
                        )
                continue
            if fd.message_type is not None:
                if msg.HasField(fd.name) and depth < self.max_depth:
                    yield from self._leaves(getattr(msg, fd.name), f"{path}.", depth + 1)
                    yield path, [_setter(path, lambda m, fd=fd: m.ClearField(fd.name))]
                elif not msg.HasField(fd.name):
                    composed = self.compose(fd.message_type, depth + 1)
                    yield path, [_setter(path, lambda m, fd=fd, c=composed: getattr(m, fd.name).CopyFrom(c))]
                continue
            current = getattr(msg, fd.name)
            yield path, [_setter(path, lambda m, fd=fd, v=v: setattr(m, fd.name, v)) for v in self._scalar_edges(fd, current)]

    def plausible(self, rpc: Rpc) -> Message:
        """The plausible request of `rpc`, around now."""
        return self.rebase(self.compose(rpc.request_type), SYSTEMATIC_BASES[0])

    def requests(self, rpc: Rpc) -> Iterator[Request]:
        plain = self.compose(rpc.request_type)
        for base in SYSTEMATIC_BASES:
            msg = self.rebase(plain, base)
            yield Request(rpc.name, msg.SerializeToString(), msg, f"plausible, around {base.isoformat(timespec='minutes')}")
        root = self.rebase(plain, SYSTEMATIC_BASES[0])
        leaves = [(path, mutations) for path, mutations in self._leaves(root, "", 0)]
        for which, pick in (("first", 0), ("last", -1)):  # every field changed at once: several bad fields must all be named
            mutated = type(root)()
            mutated.CopyFrom(root)
            for path, mutations in leaves:
                if any(other.startswith(path + ".") for other, _ in leaves):
                    continue  # clearing a message would undo the changes of its fields
                with contextlib.suppress(ValueError, TypeError, IndexError, AttributeError):
                    mutations[pick](mutated)
            yield Request(rpc.name, mutated.SerializeToString(), mutated, f"plausible request with every field at its {which} edge value")
        for round_ in range(max((len(m) for _, m in leaves), default=0)):
            for path, mutations in leaves:
                if round_ < len(mutations):
                    mutated = type(root)()
                    mutated.CopyFrom(root)
                    try:
                        mutations[round_](mutated)
                    except (ValueError, TypeError, IndexError):  # a value the field's type cannot hold
                        continue
                    yield Request(rpc.name, mutated.SerializeToString(), mutated, f"plausible request with {path} changed")


def _setter(path: str, change: Callable[[Message], Any]) -> Callable[[Message], None]:
    """A mutation of the root message: `change` applied to the message holding the field at `path`."""
    steps = _path_steps(path)

    def apply(root: Message) -> None:
        target: Any = root
        for name, sub in steps[:-1]:
            target = getattr(target, name)
            if sub is not None:
                target = target[int(sub)]
        change(target)

    return apply


def _extend(container: Any, values: list[Any]) -> None:
    values = [type(v).FromString(v.SerializeToString()) if isinstance(v, Message) else v for v in values]
    del container[:]
    if values and isinstance(values[0], Message):
        for v in values:
            container.add().CopyFrom(v)
    else:
        container.extend(values)


def _replace_first(container: Any, value: Any) -> None:
    container[0] = value


# --- bodies corrupted on the wire ----------------------------------------------------------------------------

CORRUPTIONS = ("invalid utf-8 in a string field", "truncated", "random bytes", "wrong wire type", "unknown field", "overlong varint", "huge length prefix")


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _string_path(descriptor: Descriptor, salt: int, depth: int = 0) -> list[FieldDescriptor] | None:
    """A path of singular message fields ending at a string field, chosen by `salt`."""
    strings = [fd for fd in descriptor.fields if fd.type == FieldDescriptor.TYPE_STRING]
    nested = [fd for fd in descriptor.fields if fd.message_type is not None and not fd.message_type.GetOptions().map_entry and depth < 3]
    options: list[list[FieldDescriptor]] = [[fd] for fd in strings]
    for fd in nested:
        sub = _string_path(fd.message_type, salt // 7, depth + 1)
        if sub:
            options.append([fd, *sub])
    if not options:
        return None
    return options[salt % len(options)]


def corrupt(descriptor: Descriptor, message: Message, how: str, salt: int) -> bytes:
    """`message`'s encoding, spoilt in the way `how` names (some spoilt bodies still decode: an
    unknown field is legal, and a request without string fields has nothing to spoil)."""
    body = message.SerializeToString()
    first = descriptor.fields[salt % len(descriptor.fields)] if descriptor.fields else None
    if how == "invalid utf-8 in a string field":
        path = _string_path(descriptor, salt)
        if path is None:
            return body + _tag(1, 2) + _varint(2) + b"\xff\xfe"
        inner = _tag(path[-1].number, 2) + _varint(3) + b"\xc3\x28\xff"
        for fd in reversed(path[:-1]):
            inner = _tag(fd.number, 2) + _varint(len(inner)) + inner
        return body + inner
    if how == "truncated":
        return body[: max(0, len(body) - 1 - salt % 3)] if len(body) > 1 else _tag(1, 2) + _varint(10) + b"abc"
    if how == "random bytes":
        return bytes((salt * 7919 + i * 104729) % 256 for i in range(1 + salt % 40))
    if how == "wrong wire type" and first is not None:
        wire = 0 if first.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_BYTES) else 2
        payload = _varint(5) if wire == 0 else _varint(3) + b"abc"
        return body + _tag(first.number, wire) + payload
    if how == "unknown field":
        return body + _tag(1000 + salt % 1000, 2) + _varint(5) + b"hello"
    if how == "overlong varint" and first is not None:
        return body + _tag(first.number, 0) + b"\xff" * 11
    if how == "huge length prefix" and first is not None:
        return body + _tag(first.number, 2) + _varint(2**31 - 1) + b"ab"
    return body + b"\xff"


# --- tally ----------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests sent and status codes answered, per RPC."""

    codes: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, rpc: Rpc, code: grpc.StatusCode) -> None:
        self.codes.setdefault(rpc.name, Counter())[code.name] += 1

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.codes.values())

    def count(self, *codes: str) -> int:
        return sum(c[code] for c in self.codes.values() for code in codes)

    def report(self, title: str) -> str:
        width = max((len(n) for n in self.codes), default=10)
        lines = [
            f"{title}: {self.total} requests, {self.count('UNKNOWN')} UNKNOWN, {self.count('INTERNAL')} INTERNAL, "
            f"{self.count('UNAVAILABLE')} UNAVAILABLE, {self.count('DEADLINE_EXCEEDED')} DEADLINE_EXCEEDED"
        ]
        for name in sorted(self.codes):
            counts = self.codes[name]
            shown = ", ".join(f"{code} {n}" for code, n in counts.most_common())
            lines.append(f"  {name:<{width}} {sum(counts.values()):>6}  {shown}")
        return "\n".join(lines)


def budget(variable: str, default: int) -> int:
    """A request budget from the environment (the long local mode), else `default`."""
    raw = os.environ.get(variable, "").strip()
    return int(raw) if raw else default


def long_mode(variable: str) -> bool:
    return bool(os.environ.get(variable, "").strip())


def describe_failure(exc: BaseException) -> str:
    """An exception from a hypothesis run, with its notes (the falsifying example), every
    sub-exception of a group included."""
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join(describe_failure(sub) for sub in exc.exceptions)
    notes = "\n".join(getattr(exc, "__notes__", []))
    return f"{type(exc).__name__}: {exc}\n{notes}".strip()
