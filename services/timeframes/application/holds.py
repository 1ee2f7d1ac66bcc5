"""Appointment holds' use cases (calendar.working_hours.v1.AppointmentHolds, internal; ports in
application/ports.py; docs/appointments.md "Double booking").

Bookings holds the time an appointment occupies before it commits the booking, and releases it
after a cancellation. The store refuses a hold that overlaps another booking's hold or time off of
the same schedule (exclusion constraints, migrations/0005_occupied_time.sql): of two requests for
overlapping time, whatever their lengths and however they interleave, exactly one succeeds. These
use cases only turn the refusal into an answer that names what is in the way. Holds publish
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.common.errors import NotFound
from services.timeframes.application.ports import CalendarStore
from services.timeframes.domain import holds
from services.timeframes.domain.holds import AppointmentHold, HoldInput, HoldWrite, Occupants

# A refused hold names what it overlaps, read after the refusal; if that was released in between
# (a release takes no lock), or the booking's hold elsewhere committed first, the hold is tried
# again, this many times in all.
HOLD_ATTEMPTS = 3


def _new_id() -> str:
    return str(uuid.uuid4())


class AppointmentHolds:
    def __init__(self, store: CalendarStore, new_id: Callable[[], str] = _new_id):
        self._store = store
        self._new_id = new_id

    async def hold(self, tenant: str, command: HoldInput) -> AppointmentHold:
        """HoldAppointmentTime: the hold as stored; the same hold again when the booking holds
        exactly this time already (bookings retries), HOLD_MISMATCH when it holds other time,
        SLOT_UNAVAILABLE (ALREADY_EXISTS) when another booking's hold or time off overlaps it."""
        hold = holds.validate_hold(command)
        async with self._store.write(tenant) as session:
            if await session.lock_occupied_time(hold.schedule_id) is None:
                raise NotFound("schedule", hold.schedule_id)
            occupants = Occupants()
            for _ in range(HOLD_ATTEMPTS):
                held = await session.hold(hold.booking_id)
                if held is not None:
                    return holds.repeated_hold(hold, held)
                written = await session.add_hold(self._new_id(), hold)
                if written is HoldWrite.HELD:
                    return hold
                if written is HoldWrite.OCCUPIED:
                    occupants = await session.occupants(hold.schedule_id, hold.start, hold.end)
                    if occupants.booking_ids or occupants.time_off_ids:
                        break
            raise holds.slot_unavailable(hold, occupants)

    async def release(self, tenant: str, booking_id: str) -> bool:
        """ReleaseAppointmentTime: whether the booking held time (releasing twice is harmless)."""
        booking_id = holds.validate_release(booking_id)
        async with self._store.write(tenant) as session:
            return await session.release_hold(booking_id)
