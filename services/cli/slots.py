"""Availability answers in words, for people: why a slot is not bookable, the local time of a
slot, spots and the booking window. Pure: no I/O and no calls (it reads protobuf messages).

Instants in the words ("closed Mon 1 Dec 17:00") are shown in the response's time zone, the
zone the table's local times are in, so a person compares like with like.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from services.api.bookings.availability.v2 import availability_time_slots_pb2 as appointment_pb2
from services.api.bookings.availability.v2 import time_slots_pb2
from services.common.timestamps import to_instant

NO = "-"


def instant_of(message: Message, field: str) -> datetime | None:
    """The aware UTC instant of the Timestamp `message.field`, None when it is unset."""
    if not message.HasField(field):
        return None
    ts: timestamp_pb2.Timestamp = getattr(message, field)
    return to_instant(ts)


def moment(instant: datetime, zone: ZoneInfo, now: datetime) -> str:
    """`Mon 1 Dec 17:00` in `zone`; the year is added when it is not the current one there."""
    local = instant.astimezone(zone)
    year = f" {local.year}" if local.year != now.astimezone(zone).year else ""
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M}"


def _abbreviation(local: datetime, zone: ZoneInfo) -> str:
    # A wall time in the fall-back hour is read as its first occurrence (fold=0), as the server does.
    return local.replace(tzinfo=zone, fold=0).tzname() or zone.key


def local_span(start_text: str, end_text: str, zone: ZoneInfo) -> str:
    """`Tue 2026-12-01 18:00–19:30 CET` from the local ISO date-times of a slot; the end date is
    repeated when the session ends on another day, and each zone abbreviation shown when a clock
    change falls inside the session. Unreadable text is shown as it came."""
    try:
        start = datetime.fromisoformat(start_text)
        end = datetime.fromisoformat(end_text)
    except ValueError:
        return f"{start_text}–{end_text}"
    head = f"{start:%a %Y-%m-%d %H:%M}"
    tail = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %Y-%m-%d %H:%M}"
    first, last = _abbreviation(start, zone), _abbreviation(end, zone)
    if first == last:
        return f"{head}–{tail} {first}"
    return f"{head} {first}–{tail} {last}"


def spots(remaining: int, total: int) -> str:
    """`3/12`: open spots (clamped at 0) of the capacity."""
    return f"{max(0, remaining)}/{total}"


def sessions_left(remaining: int, total: int) -> str:
    """`8/10`: sessions not started yet of the course's non-cancelled sessions."""
    return f"{remaining}/{total}"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _capacity(needed: int, remaining: int | None, course: bool) -> str:
    if remaining is None:  # the course as a whole, open spots unknown
        return "fully booked" if needed == 1 else f"not enough spots for a party of {needed}"
    if remaining <= 0:
        return "fully booked"
    if remaining < needed:
        return f"only {remaining} spot{'' if remaining == 1 else 's'} left for a party of {needed}"
    if course:  # this session has room; a course is booked whole, so another one decides
        return "another session is fully booked" if needed == 1 else f"another session has fewer than {needed} spots"
    return "not enough spots"


def why_not(
    violations: time_slots_pb2.BookingPolicyViolations,
    reasons: time_slots_pb2.NonBookableReasons,
    *,
    zone: ZoneInfo,
    now: datetime,
    party: int = 0,
    remaining: int | None = None,
    sessions_left: int | None = None,
    course: bool = True,
) -> list[str]:
    """Why a slot (or a course) cannot be booked, in words; empty when nothing stands in the way.

    A cancelled or started session is explained by that alone (the course-wide reasons do not
    change anything about it). Otherwise, in this order: online booking off, not open yet (opens
    ...), too late to book (closed ... when that moment has passed), then capacity for the party
    (`party` 0 means 1): `remaining` is this session's open spots, None for a course as a whole.
    """
    phrases = []
    if reasons.event_cancelled:
        phrases.append("cancelled")
    if reasons.event_started:
        phrases.append("already started")
    if phrases:
        return phrases
    phrases = policy_phrases(violations, zone=zone, now=now, sessions_left=sessions_left)
    if reasons.no_remaining_capacity:
        phrases.append(_capacity(max(1, party), remaining, course))
    if not phrases and reasons.violates_booking_policy:
        phrases.append("a booking policy forbids it")
    return phrases


def policy_phrases(violations: time_slots_pb2.BookingPolicyViolations, *, zone: ZoneInfo, now: datetime, sessions_left: int | None = None) -> list[str]:
    """The booking policies that forbid booking now, in words: online booking off, not open yet
    (opens ...), too late to book (closed ... when that moment has passed)."""
    phrases = []
    if violations.book_online_disabled:
        phrases.append("online booking off")
    if violations.too_early_to_book:
        opens = instant_of(violations, "earliest_booking_date")
        phrases.append(f"not open yet (opens {moment(opens, zone, now)})" if opens else "not open yet")
    if violations.too_late_to_book:
        closed = instant_of(violations, "latest_booking_date")
        if closed is not None and closed <= now:
            phrases.append(f"too late to book (closed {moment(closed, zone, now)})")
        elif closed is None and sessions_left == 0:
            phrases.append("too late to book (no sessions left)")
        else:
            phrases.append("too late to book")
    return phrases


_APPOINTMENT_REASONS = (("booked", "booked"), ("time_off", "time off"), ("holiday", "holiday"), ("calendar_conflict", "calendar conflict"))


def appointment_why_not(slot: appointment_pb2.AvailabilityTimeSlot, *, zone: ZoneInfo, now: datetime) -> list[str]:
    """Why an appointment slot cannot be booked, in words; empty when nothing stands in the way.
    The policies first, then what holds the staff members' time (when nobody is free, the
    reasons of all of them together: `booked; time off`)."""
    phrases = policy_phrases(slot.booking_policy_violations, zone=zone, now=now)
    reasons = slot.non_bookable_reasons
    phrases += [words for field, words in _APPOINTMENT_REASONS if getattr(reasons, field)]
    if not phrases and reasons.violates_booking_policy:
        phrases.append("a booking policy forbids it")
    return phrases


# Why a date has no bookable slot (ListAvailabilityDates), in words.
DATE_REASONS = {
    appointment_pb2.NO_SERVICE_HOURS: "no working hours",
    appointment_pb2.FULLY_BOOKED: "fully booked",
    appointment_pb2.CALENDAR_CONFLICT: "calendar conflict",
    appointment_pb2.HOLIDAY: "holiday",
    appointment_pb2.TIME_OFF: "time off",
    appointment_pb2.TOO_LATE: "too late to book",
    appointment_pb2.TOO_EARLY: "not open yet",
    appointment_pb2.BOOK_ONLINE_DISABLED: "online booking off",
}


def date_reason(reason: int) -> str:
    return DATE_REASONS.get(reason, "not bookable")


def why_not_text(bookable: bool, phrases: list[str]) -> str:
    """The table cell: `-` when bookable, the phrases joined, or `not bookable` without any."""
    if bookable:
        return NO
    return "; ".join(phrases) or "not bookable"


def booking_window(violations: time_slots_pb2.BookingPolicyViolations, zone: ZoneInfo, now: datetime, first_start: datetime | None) -> str:
    """`Mon 30 Nov 18:00 → Tue 1 Dec 17:00`: when booking opens and closes. Without an early
    limit it is open `any time`; without a late limit a course closes when its first session
    starts (unless it may be booked after the start, which sets the closing moment)."""
    opens = instant_of(violations, "earliest_booking_date")
    closes = instant_of(violations, "latest_booking_date")
    start = moment(opens, zone, now) if opens else "any time"
    if closes is not None:
        end = moment(closes, zone, now)
    elif first_start is not None:
        end = f"first session starts ({moment(first_start, zone, now)})"
    else:
        end = "no sessions"
    return f"{start} → {end}"
