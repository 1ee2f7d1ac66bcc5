"""The appointment use cases (bookings.availability.v2.AvailabilityTimeSlots): read, then one pure
calculation (domain/appointments.py, docs/appointments.md).

What a request reads (application/ports.py `AppointmentReading`), each as fresh as what it decides
needs:
1. the service: its type, policy, appointment settings and staff. The listings read it through
   availability's cache, where it is dropped on the catalog's change events, staff and settings
   included; GetAvailabilityTimeSlot, which CreateBooking asks to validate a booking, reads it
   fresh, so that a policy change is validated at once;
2. those staff members (their schedules, and whether they still offer the service) and their
   working hours, through the cache too, dropped on the staff's and the working hours' change
   events: a time off created a moment ago and not yet seen is still refused to a booking by the
   database (timeframes' hold against time off), so no double booking comes from it;
3. the occupied time of their appointments, on every request and never cached: once CreateBooking
   has returned, no answer offers that slot again.

Only the instants an answer needs are read: a page of slots its first week, and the rest of the
range only when the page is not full by then; the month view its range, and the months after it
only when the range has no bookable date.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.availability.application.observability import SlotObservations
from services.availability.application.ports import AppointmentInputs, AppointmentReading
from services.availability.domain.appointments import (
    AppointmentSlot,
    DatesView,
    StaffCalendar,
    StaffMember,
    dates_view,
    dates_window,
    first_bookable_date,
    first_slots,
    page_parts,
    reading_window,
    search_chunks,
    search_until,
    slot_at,
    with_appointments,
)
from services.availability.domain.model import AppointmentShape, Interval, Offering
from services.availability.domain.requests import (
    MAX_APPOINTMENT_RANGE,
    AppointmentDatesQuery,
    AppointmentSlotLookup,
    AppointmentSlotQuery,
    appointment_slot_query_violations,
    check_appointment_offering,
    check_staff_filter,
    validate_appointment_dates_query,
    validate_appointment_slot_lookup,
)
from services.availability.domain.slots import decode_start_key, encode_start_key
from services.availability.domain.time_range import LocalRange
from services.common.errors import DependencyUnavailable, NotFound
from services.common.paging import CursorCodec, query_fingerprint


@dataclass(frozen=True)
class AppointmentSlotPage:
    """ListAvailabilityTimeSlots' answer; `offering` is the service the slots were cut for (its
    policy gives each slot's booking window)."""

    slots: list[AppointmentSlot]
    offering: Offering
    zone: ZoneInfo
    next_cursor: str
    has_next: bool


@dataclass(frozen=True)
class AppointmentSlotView:
    """GetAvailabilityTimeSlot's answer."""

    slot: AppointmentSlot
    offering: Offering
    zone: ZoneInfo


@dataclass(frozen=True)
class AppointmentDates:
    """ListAvailabilityDates' answer."""

    view: DatesView
    zone: ZoneInfo


class AppointmentSlots:
    def __init__(self, inputs: AppointmentInputs, cursors: CursorCodec, clock: Callable[[], datetime] | None = None):
        self._inputs = inputs
        self._cursors = cursors
        self._clock = clock or (lambda: datetime.now(UTC))
        self._observe = SlotObservations()

    async def list_slots(self, tenant: str, query: AppointmentSlotQuery) -> AppointmentSlotPage:
        rpc = "ListAvailabilityTimeSlots"
        started = time.perf_counter()
        try:
            after, limit, fingerprint = self._page(tenant, rpc, query)
            reading = await self._inputs.reading(tenant, query.service_id, fresh_service=False)
            offering, shape = check_appointment_offering(reading.offering, query.service_id)
            zone = ZoneInfo(query.time_zone or offering.time_zone)
            window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key, max_range=MAX_APPOINTMENT_RANGE)
            staff = await self._staff(reading, offering, query.staff_member_ids)
            now = self._clock()
            shown: list[AppointmentSlot] = []
            for start, end in page_parts(window.start_utc, window.end_utc, after) if staff else ():
                calendars = await self._calendars(reading, staff, reading_window(start, end))
                # One more than the page: whether another page follows.
                count = limit + 1 - len(shown)
                shown += first_slots(calendars, shape, offering, start, end, now, count=count, bookable_only=not query.include_non_bookable)
                if len(shown) > limit:
                    break
            slots, has_next = shown[:limit], len(shown) > limit
            next_cursor = self._cursors.encode(encode_start_key(slots[-1].slot.start), fingerprint) if has_next else ""
            return AppointmentSlotPage(slots, offering, zone, next_cursor, has_next)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, rpc, exc)
            raise
        finally:
            self._observe.answered(rpc, started)

    async def get_slot(self, tenant: str, lookup: AppointmentSlotLookup) -> AppointmentSlotView:
        """The slot with exactly that start and end, as the listings show it, with the service read
        fresh: CreateBooking validates an appointment by it. NotFound when it is on no asked staff
        member's grid."""
        rpc = "GetAvailabilityTimeSlot"
        started = time.perf_counter()
        try:
            start, end = validate_appointment_slot_lookup(lookup)
            reading = await self._inputs.reading(tenant, lookup.service_id, fresh_service=True)
            offering, shape = check_appointment_offering(reading.offering, lookup.service_id)
            zone = ZoneInfo(lookup.time_zone or offering.time_zone)
            staff = await self._staff(reading, offering, lookup.staff_member_ids)
            # Another length than the service's is on nobody's grid: only the staff filter to check.
            if not staff or end - start != shape.duration:
                raise NotFound("time slot", f"{start.isoformat()}/{end.isoformat()}")
            calendars = await self._calendars(reading, staff, reading_window(start, end))
            slot = slot_at(calendars, shape, offering, start, end, self._clock())
            if slot is None:
                raise NotFound("time slot", f"{start.isoformat()}/{end.isoformat()}")
            return AppointmentSlotView(slot, offering, zone)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, rpc, exc)
            raise
        finally:
            self._observe.answered(rpc, started)

    async def list_dates(self, tenant: str, query: AppointmentDatesQuery) -> AppointmentDates:
        """The month view: the range read and summarised; `next_available_date` searched after it
        only when it has no bookable date."""
        rpc = "ListAvailabilityDates"
        started = time.perf_counter()
        try:
            first, last = validate_appointment_dates_query(query)
            reading = await self._inputs.reading(tenant, query.service_id, fresh_service=False)
            offering, shape = check_appointment_offering(reading.offering, query.service_id)
            zone = ZoneInfo(query.time_zone or offering.time_zone)
            staff = await self._staff(reading, offering, query.staff_member_ids)
            now = self._clock()
            calendars = await self._calendars(reading, staff, reading_window(*dates_window(first, last, zone))) if staff else []
            view = dates_view(calendars, shape, offering, zone, first, last, now)
            if view.next_available is None and staff:
                chunks = search_chunks(last, search_until(offering, zone, first, now), zone, now)
                view = DatesView(view.dates, await self._search(reading, staff, shape, offering, zone, chunks, now))
            return AppointmentDates(view, zone)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, rpc, exc)
            raise
        finally:
            self._observe.answered(rpc, started)

    async def _search(
        self,
        reading: AppointmentReading,
        staff: Sequence[StaffMember],
        shape: AppointmentShape,
        offering: Offering,
        zone: ZoneInfo,
        chunks: Sequence[tuple[date, date]],
        now: datetime,
    ) -> date | None:
        """The first date of the months `chunks` with a bookable slot. The working hours of all of
        them are read at once (they come from the cache); the occupied time of a month only when
        its hours offer a slot that the appointments could still take away, so that staff without
        hours for months cost no read of their appointments."""
        if not chunks:
            return None
        hours = await reading.working_hours(staff, reading_window(*dates_window(chunks[0][0], chunks[-1][1], zone)))
        for first, last in chunks:
            if first_bookable_date(hours, shape, offering, zone, first, last, now) is None:
                continue  # nothing bookable even before appointments
            occupied = await reading.occupied_time(staff, reading_window(*dates_window(first, last, zone)))
            found = first_bookable_date(with_appointments(hours, occupied), shape, offering, zone, first, last, now)
            if found is not None:
                return found
        return None

    async def _staff(self, reading: AppointmentReading, offering: Offering, requested: Sequence[str]) -> list[StaffMember]:
        """The requested staff members (all the service's when none is), each checked to offer the
        service. A staff member the cached service still lists but whose own record no longer names
        it is left out."""
        listed = set(offering.staff_member_ids)
        wanted = [s for s in (requested or offering.staff_member_ids) if s in listed]
        members = await reading.staff_members(wanted) if wanted else []
        offering_staff = [m for m in members if offering.service_id in m.service_ids]
        check_staff_filter(requested, {m.staff_member_id for m in offering_staff})
        return offering_staff

    async def _calendars(self, reading: AppointmentReading, staff: Sequence[StaffMember], window: Interval) -> list[StaffCalendar]:
        """The staff members' calendars for `window`: their working hours and their appointments,
        read concurrently."""
        hours, occupied = await asyncio.gather(reading.working_hours(staff, window), reading.occupied_time(staff, window))
        return with_appointments(hours, occupied)

    def _page(self, tenant: str, rpc: str, query: AppointmentSlotQuery) -> tuple[datetime | None, int, str]:
        """The request's filters and paging checked together (every bad field in one answer), as the
        course listings do: the page's start after which to continue, its size, and the cursor's
        fingerprint (the tenant and every filter)."""
        v = appointment_slot_query_violations(query)
        fingerprint = query_fingerprint(
            tenant,
            rpc,
            query.service_id,
            query.from_local_date,
            query.to_local_date,
            query.time_zone,
            sorted(query.staff_member_ids),
            query.include_non_bookable,
        )
        page = self._cursors.add_page(v, query.limit, query.cursor, None if v else fingerprint)
        v.raise_if_any()
        assert page is not None
        return (decode_start_key(page.after) if page.after is not None else None), page.limit, fingerprint
