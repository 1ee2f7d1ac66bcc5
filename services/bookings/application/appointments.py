"""Booking an appointment: a staff member's time, exclusive (docs/appointments.md "Booking an
appointment", "Double booking").

Three layers keep two appointments of one staff member from overlapping:
1. the application check: availability's `GetAvailabilityTimeSlot` answers with the staff members
   free for the slot, by the same calculation that lists the slots (display = validation);
2. a lock: the booking's id is locked in bookings' database from before its time is held until its
   transaction ends, so nothing frees a hold whose booking may still commit (`_repair`);
3. the database: the time the appointment occupies (buffers included) is held on the staff
   member's schedule in timeframes (`AppointmentHolds`), whose exclusion constraints refuse any
   overlap with another hold or a time off. Of two overlapping requests, of any lengths, at most
   one holds the time; the other is ALREADY_EXISTS SLOT_UNAVAILABLE.

The order of a create: validate; ask availability; hold the time; write the booking and its
announcement in one transaction; if that transaction fails, release the time. A hold without a
booking is left only by a crash between the two: it blocks the time (never a double booking) until
the next request that collides with it finds its booking missing and frees it (`_repair`).
Cancelling or declining frees the time after the change commits; if that release fails the hold
is freed the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.bookings.application.ports import AppointmentHolds, AppointmentSlots, BookingsStore, OccupiedTime
from services.bookings.domain.bookings import (
    SLOT_UNAVAILABLE,
    Booking,
    Change,
    appointment_refusal,
    replay,
    require_max_participants,
    round_robin,
    slot_unavailable,
    with_staff_member,
)
from services.bookings.domain.services import Service
from services.common.errors import AlreadyExists
from services.common.local_time import to_utc
from services.common.logging import get_logger
from services.common.validation import Violations, WireTimestamp, checked_instant

log = get_logger("bookings.appointments")

MAX_STAFF_PER_READ = 50
MAX_READ_DAYS = 400


@dataclass(frozen=True)
class _Held:
    """What holding the time for one staff member came to."""

    booking: Booking | None  # the stored booking, or None when the staff member's time was taken
    taken_by: tuple[str, ...] = ()  # the bookings whose holds were in the way


class Appointments:
    def __init__(self, store: BookingsStore, slots: AppointmentSlots, holds: AppointmentHolds):
        self._store = store
        self._slots = slots
        self._holds = holds

    async def create(self, tenant: str, booking: Booking, service: Service, start: datetime, end: datetime, staff_member_id: str) -> Booking:
        """Books `booking` (validated, not stored) for [start, end) with the given staff member, or
        with the free one round robin picks when none is given."""
        settings = service.appointment
        assert settings is not None  # every APPOINTMENT service has its settings
        require_max_participants(booking.number_of_participants, service.booking_policy.max_participants_per_booking)
        answer = await self._slots.slot(service, start, end, [staff_member_id] if staff_member_id else [])
        refused = appointment_refusal(answer, start, end)
        if refused is not None:
            raise refused
        free = list(answer.available_staff_member_ids)
        async with self._store.read(tenant) as session:
            if len(free) > 1:
                day_start, day_end = _local_day(start, ZoneInfo(service.time_zone))
                free = round_robin(free, await session.appointments_per_staff(free, day_start, day_end))
            staff = await session.staff_members(free)
        before, after = timedelta(minutes=settings.buffer_before_minutes), timedelta(minutes=settings.buffer_after_minutes)
        for candidate in free:
            if candidate not in staff:
                continue  # deleted since availability answered
            appointment = with_staff_member(booking, candidate, start, end, before, after)
            schedule_id = staff[candidate].schedule_id
            held = await self._book(tenant, appointment, schedule_id)
            if held.booking is None and held.taken_by and await self._repair(tenant, held.taken_by):
                held = await self._book(tenant, appointment, schedule_id)
            if held.booking is not None:
                return held.booking
        if booking.idempotency_key is not None:
            # A request with the same key may have taken this very time a moment ago: its replay.
            async with self._store.read(tenant) as session:
                taken = await session.booking_by_idempotency_key(booking.idempotency_key)
            if taken is not None:
                assert booking.request_fingerprint is not None
                return replay(taken, booking.request_fingerprint)
        raise slot_unavailable(start, end)

    async def _book(self, tenant: str, booking: Booking, schedule_id: str) -> _Held:
        """Holds the booking's time on the staff member's schedule and writes the booking; the
        time is released again when the booking's transaction does not commit."""
        time = booking.appointment
        assert time is not None
        held = False
        try:
            async with self._store.write(tenant) as session:
                await session.lock_booking_id(booking.id)
                try:
                    await self._holds.hold(booking.id, schedule_id, time.occupied_start, time.occupied_end)
                except AlreadyExists as taken:
                    if taken.reason != SLOT_UNAVAILABLE:
                        raise
                    return _Held(None, _ids(taken.metadata.get("conflicting_booking_ids", "")))
                held = True
                stored = await session.insert_booking(booking)
                if stored is None:
                    # A concurrent request with the same idempotency key won: its booking holds its
                    # own time, this one's hold goes (below, after this transaction).
                    assert booking.idempotency_key is not None and booking.request_fingerprint is not None
                    taken = await session.booking_by_idempotency_key(booking.idempotency_key)
                    if taken is None:
                        raise RuntimeError(f"idempotency key conflict without a booking holding the key (booking {booking.id})")
                    stored = replay(taken, booking.request_fingerprint)
                else:
                    await session.announce_booking(Change.CREATED, stored)
        except BaseException:
            if held:
                await self._release_quietly(booking.id)
            raise
        if stored.id != booking.id:
            await self._release_quietly(booking.id)
        return _Held(stored)

    async def _repair(self, tenant: str, holders: Sequence[str]) -> bool:
        """Frees the holds in the way whose booking is not active: canceled or declined (its
        release failed) or never committed (a crash after the hold). A holder whose id is locked is
        being written right now and is left alone. True when something was freed."""
        freed = False
        for booking_id in holders:
            async with self._store.write(tenant) as session:
                if not await session.try_lock_booking_id(booking_id):
                    continue
                holder = await session.booking(booking_id)
                if holder is not None and holder.status.holds_time:
                    continue
                # Released under the lock: a booking with this id cannot commit meanwhile.
                freed = await self._holds.release(booking_id) or freed
                log.warning("stale appointment hold freed", booking_id=booking_id, status=holder.status.name if holder else "missing")
        return freed

    async def release(self, booking: Booking) -> None:
        """After a cancel or decline committed: the time is free again. A failure only delays it
        (see `_repair`), so it is logged, never raised: the change itself has happened."""
        await self._release_quietly(booking.id)

    async def _release_quietly(self, booking_id: str) -> None:
        try:
            await asyncio.shield(self._holds.release(booking_id))
        except Exception as err:  # noqa: BLE001 (reported; the hold is freed by `_repair` later)
            log.warning("appointment hold not released", booking_id=booking_id, error=str(err))

    async def occupied_time(
        self, tenant: str, staff_member_ids: Sequence[str], wire_start: WireTimestamp | None, wire_end: WireTimestamp | None
    ) -> list[OccupiedTime]:
        """The active appointments of the staff members whose occupied time overlaps [start, end)."""
        v = Violations()
        if not staff_member_ids:
            v.add("staff_member_ids", f"is required: 1..{MAX_STAFF_PER_READ} staff member ids")
        v.ids("staff_member_ids", list(staff_member_ids), max_items=MAX_STAFF_PER_READ)
        start = checked_instant(v, "from", wire_start, required=True)
        end = checked_instant(v, "to", wire_end, required=True)
        if start is not None and end is not None:
            v.check(start < end <= start + timedelta(days=MAX_READ_DAYS), "to", f"must be after from, at most {MAX_READ_DAYS} days later")
        v.raise_if_any()
        assert start is not None and end is not None
        async with self._store.read(tenant) as session:
            return await session.occupied_time([i.lower() for i in staff_member_ids], start, end)


def _ids(joined: str) -> tuple[str, ...]:
    return tuple(i for i in joined.split(",") if i)


def _local_day(instant: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the local day of `instant` spans in `zone` (23 or 25 hours on a DST change)."""
    day = instant.astimezone(zone).date()
    midnight = datetime.combine(day, time())
    return to_utc(midnight, zone, nonexistent="shift"), to_utc(midnight + timedelta(days=1), zone, nonexistent="shift")
