"""Time held on a schedule for an appointment (calendar.working_hours.v1.AppointmentHolds,
docs/appointments.md "Double booking"): the commands as received, their validation, and the
refusals of time that is occupied. Pure: no I/O, no protobuf.

The database keeps holds and time off of one schedule apart (migrations/0005_occupied_time.sql);
this module only names what a refused request ran into.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from services.common.errors import AlreadyExists, FailedPrecondition
from services.common.validation import Violations
from services.timeframes.domain.commands import WireTimestamp, checked_id, checked_instant

# An appointment with its buffers; longer is a mistake of the caller (and the table refuses it).
MAX_HOLD = timedelta(days=7)
# A refusal names at most this many occupants of each kind (sorted): enough to act on, and a
# status's metadata travels in trailers, which a client takes up to 8 KiB of.
MAX_NAMED_OCCUPANTS = 20

SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
TIME_OCCUPIED = "TIME_OCCUPIED"
HOLD_MISMATCH = "HOLD_MISMATCH"


@dataclass(frozen=True)
class HoldInput:
    """An AppointmentHold message as it arrived; timestamps are None when unset."""

    booking_id: str
    schedule_id: str
    start: WireTimestamp | None
    end: WireTimestamp | None


@dataclass(frozen=True)
class AppointmentHold:
    """The half-open span [start, end) of a schedule held for a booking (one hold per booking)."""

    booking_id: str
    schedule_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Occupants:
    """What occupies a span of a schedule: bookings' holds and time off, each sorted by id and
    cut to MAX_NAMED_OCCUPANTS (`more` when some were left out)."""

    booking_ids: tuple[str, ...] = ()
    time_off_ids: tuple[str, ...] = ()
    more: bool = False


class HoldWrite(Enum):
    """What storing a hold did."""

    HELD = "HELD"
    OCCUPIED = "OCCUPIED"  # another booking's hold or time off overlaps it
    BOOKING_HOLDS_TIME = "BOOKING_HOLDS_TIME"  # a hold of the same booking committed first


def validate_hold(hold: HoldInput) -> AppointmentHold:
    v = Violations()
    booking_id = checked_id(v, "hold.booking_id", hold.booking_id)
    schedule_id = checked_id(v, "hold.schedule_id", hold.schedule_id)
    start = checked_instant(v, "hold.start", hold.start, required=True)
    end = checked_instant(v, "hold.end", hold.end, required=True)
    if start is not None and end is not None and v.check(end > start, "hold.end", "must be after start"):
        v.check(end - start <= MAX_HOLD, "hold.end", f"must be at most {MAX_HOLD.days} days after start")
    v.raise_if_any()
    assert start is not None and end is not None
    return AppointmentHold(booking_id, schedule_id, start, end)


def validate_release(booking_id: str) -> str:
    v = Violations()
    canonical = checked_id(v, "booking_id", booking_id)
    v.raise_if_any()
    return canonical


def _metadata(occupants: Occupants, *, time_off: bool) -> dict[str, str]:
    metadata = {"conflicting_booking_ids": ",".join(occupants.booking_ids)}
    if time_off:
        metadata["conflicting_time_off_ids"] = ",".join(occupants.time_off_ids)
    if occupants.more:
        metadata["more_conflicts"] = "true"
    return metadata


def slot_unavailable(hold: AppointmentHold, occupants: Occupants) -> AlreadyExists:
    """HoldAppointmentTime over another booking's hold or time off."""
    return AlreadyExists(
        "appointment_hold",
        hold.booking_id,
        reason=SLOT_UNAVAILABLE,
        metadata=_metadata(occupants, time_off=True),
        message=(
            f"schedule {hold.schedule_id!r} is occupied from {hold.start.isoformat()} to {hold.end.isoformat()}: "
            f"{len(occupants.booking_ids)} other bookings' holds and {len(occupants.time_off_ids)} time off overlap it"
            + (" (and more)" if occupants.more else "")
        ),
    )


def time_occupied(schedule_id: str, start: datetime, end: datetime, occupants: Occupants) -> FailedPrecondition:
    """CreateTimeOff over time held for appointments: the bookings must move first."""
    return FailedPrecondition(
        TIME_OCCUPIED,
        f"schedule {schedule_id!r} holds time for {len(occupants.booking_ids)}{' or more' if occupants.more else ''} appointments "
        f"between {start.isoformat()} and {end.isoformat()}; move or cancel them first",
        _metadata(occupants, time_off=False),
    )


def repeated_hold(requested: AppointmentHold, held: AppointmentHold) -> AppointmentHold:
    """The answer to a hold for a booking that already holds time: the same hold again (a retry),
    or HOLD_MISMATCH when the booking holds other time."""
    if held == requested:
        return held
    raise FailedPrecondition(
        HOLD_MISMATCH,
        f"booking {held.booking_id!r} already holds schedule {held.schedule_id!r} from {held.start.isoformat()} to {held.end.isoformat()}; "
        "release it before holding other time",
        {"held_schedule_id": held.schedule_id, "held_start": held.start.isoformat(), "held_end": held.end.isoformat()},
    )
