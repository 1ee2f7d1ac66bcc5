"""What the server runtime checks in every request before a handler sees it (docs/errors.md).

- The body must decode as the method's request message. The runtime receives raw bytes and
  decodes them itself, after authentication, so a truncated field or a string that is not UTF-8
  is the caller's mistake (INVALID_ARGUMENT naming the field), not an UNKNOWN raised by the
  generated handler before any check ran.
- No text field may contain NUL (U+0000): Postgres cannot store it in `text`, and no name,
  title, email or key of this platform has a use for it. Checked once here for every string of
  every request, so a new field is covered without anyone remembering to.

Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from services.common.errors import FieldViolation, InvalidArgument

_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def decode_request(message_class: type[Message], body: bytes) -> Message:
    """The request decoded and its text checked, or InvalidArgument naming the bad field."""
    try:
        request = message_class.FromString(body)
    except DecodeError:
        field, description = locate_undecodable(message_class.DESCRIPTOR, body)
        raise InvalidArgument.single(field, description) from None
    # A NUL character is encoded as a zero byte; most requests have none at all, so the walk over
    # every string runs only when one is there.
    if b"\x00" in body:
        violations = nul_violations(request)
        if violations:
            raise InvalidArgument(violations)
    return request


def nul_violations(message: Message, prefix: str = "") -> list[FieldViolation]:
    """Every string field (nested and repeated included) that contains U+0000, by proto path."""
    found: list[FieldViolation] = []
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        is_repeated = field.is_repeated
        if field.type == _STRING:
            items = enumerate(value) if is_repeated else ((None, value),)
            found += [FieldViolation(_at(path, i), "must not contain NUL (U+0000) characters") for i, text in items if "\x00" in text]
        elif field.type == _MESSAGE and field.message_type.GetOptions().map_entry:
            found += _map_nul_violations(field, value, path)
        elif field.type == _MESSAGE:
            if is_repeated:
                for i, item in enumerate(value):
                    found += nul_violations(item, f"{path}[{i}].")
            else:
                found += nul_violations(value, f"{path}.")
    return found


def _map_nul_violations(field: FieldDescriptor, entries: Any, path: str) -> list[FieldViolation]:
    """A map field's keys and values, as `labels["key"]` (AIP-161's map key syntax)."""
    found: list[FieldViolation] = []
    value_field = field.message_type.fields_by_name["value"]
    for key, value in entries.items():
        at = f"{path}[{json.dumps(key)}]"
        if isinstance(key, str) and "\x00" in key:
            found.append(FieldViolation(path, "must not contain NUL (U+0000) characters in a key"))
        if value_field.type == _STRING and "\x00" in value:
            found.append(FieldViolation(at, "must not contain NUL (U+0000) characters"))
        elif value_field.type == _MESSAGE:
            found += nul_violations(value, f"{at}.")
    return found


class _Truncated(Exception):
    pass


def locate_undecodable(descriptor: Descriptor, body: bytes) -> tuple[str, str]:
    """(field path, why) for a body that does not decode as `descriptor`'s message: the first
    field whose bytes are cut short or whose text is not UTF-8, found by walking the wire format.
    The path is empty when the damage is not inside a field this message declares."""
    located = _walk(descriptor, memoryview(body), "")
    if located is not None:
        return located
    return "", f"the request body is not a valid {descriptor.full_name} message"


def _walk(descriptor: Descriptor, data: memoryview, prefix: str) -> tuple[str, str] | None:
    seen: dict[int, int] = {}
    pos = 0
    while pos < len(data):
        try:
            tag, pos = _varint(data, pos)
        except _Truncated:
            return None
        number, wire_type = tag >> 3, tag & 7
        field = descriptor.fields_by_number.get(number)
        path = ""
        if field is not None:
            index = seen.get(number, 0)
            seen[number] = index + 1
            path = prefix + _at(field.name, index if field.is_repeated else None)
        try:
            if wire_type == 0:
                _, pos = _varint(data, pos)
            elif wire_type == 1:
                pos = _skip(data, pos, 8)
            elif wire_type == 5:
                pos = _skip(data, pos, 4)
            elif wire_type == 2:
                length, pos = _varint(data, pos)
                start, pos = pos, min(pos + length, len(data))
                payload = data[start:pos]
                if field is not None and field.type == _STRING:
                    try:
                        str(payload, "utf-8")
                    except UnicodeDecodeError:
                        return path, "is not valid UTF-8 text"
                elif field is not None and field.type == _MESSAGE:
                    # A message cut short is walked as far as it goes, to blame the deepest field.
                    inner = _walk(field.message_type, payload, f"{path}.")
                    if inner is not None:
                        return inner
                if start + length > len(data):
                    raise _Truncated
            else:  # groups (3, 4) are not used by proto3; 6 and 7 do not exist
                return (path, "is not encoded as its declared type") if path else None
        except _Truncated:
            return (path, "is cut short (the request body ends inside it)") if path else None
    return None


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Truncated
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _skip(data: memoryview, pos: int, length: int) -> int:
    if pos + length > len(data):
        raise _Truncated
    return pos + length


def _at(path: str, index: int | None) -> str:
    return path if index is None else f"{path}[{index}]"
