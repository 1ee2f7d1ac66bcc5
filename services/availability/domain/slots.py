"""Ordering, filtering and paging of time slots. Pure.

Results are sorted by start time, then event id (docs/platform.md "Availability requests"), a
total order because event ids are unique, so a page boundary can be named by the sort key of its
last slot (the cursor holds it) and paging is stable even when many sessions start at the same
instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from services.availability.domain.model import TimeSlot, require_aware
from services.common.errors import InvalidArgument
from services.common.instants import from_micros, to_micros

SlotKey = tuple[datetime, str]
CURSOR_FIELD = "cursor_paging.cursor"


def slot_sort_key(slot: TimeSlot) -> SlotKey:
    """The sort key: (start, event_id)."""
    return (slot.session.start, slot.session.event_id)


def sort_slots(slots: Iterable[TimeSlot]) -> list[TimeSlot]:
    return sorted(slots, key=slot_sort_key)


def visible(slots: Iterable[TimeSlot], include_non_bookable: bool) -> list[TimeSlot]:
    """All slots, or only the bookable ones when `include_non_bookable` is False (the request field
    defaults to true: the entrypoint passes True when it is unset)."""
    return [s for s in slots if include_non_bookable or s.bookable]


def page_after(slots: Sequence[TimeSlot], after_key: SlotKey | None, limit: int) -> tuple[list[TimeSlot], bool]:
    """The first `limit` slots whose key is greater than `after_key` (all when None), in sort order,
    and whether more follow. `slots` need not be sorted."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if after_key is not None:
        require_aware("after_key start", after_key[0])
    remaining = [s for s in sort_slots(slots) if after_key is None or slot_sort_key(s) > after_key]
    return remaining[:limit], len(remaining) > limit


def encode_key(key: SlotKey) -> list[str]:
    """A sort key as JSON-safe cursor content (services.common.paging stores a list)."""
    start, event_id = key
    require_aware("key start", start)
    return [start.isoformat(), event_id]


def decode_key(raw: list[object]) -> SlotKey:
    """The sort key a cursor holds. Cursors are signed, so a bad one means a cursor of another RPC
    or version: INVALID_ARGUMENT on the cursor, never an internal error."""
    try:
        text, event_id = raw
        if not isinstance(text, str) or not isinstance(event_id, str):
            raise ValueError
        start = datetime.fromisoformat(text)
        require_aware("cursor start", start)
    except (TypeError, ValueError):
        raise InvalidArgument.single(CURSOR_FIELD, "is not a cursor returned by this RPC") from None
    return (start, event_id)


def encode_start_key(start: datetime) -> list[int]:
    """An appointment slot's sort key as cursor content: its start, which is unique among a
    listing's slots (one slot per start; they are all the service's duration long)."""
    require_aware("key start", start)
    return [to_micros(start)]


def decode_start_key(raw: list[object]) -> datetime:
    """The start a cursor of `encode_start_key` holds; INVALID_ARGUMENT on the cursor otherwise."""
    if len(raw) == 1 and isinstance(raw[0], int) and not isinstance(raw[0], bool):
        try:
            return from_micros(raw[0])
        except OverflowError:
            pass
    raise InvalidArgument.single(CURSOR_FIELD, "is not a cursor returned by this RPC")
