"""The appointment use cases (bookings.availability.v2.AvailabilityTimeSlots): read, then one pure
calculation (domain/appointments.py, docs/appointments.md).

The reads, each as fresh as what it decides needs:
1. the service: its type, policy, appointment settings and staff. The listings read it through
   availability's cache, where it is dropped on the catalog's change events, staff and settings
   included; GetAvailabilityTimeSlot, which CreateBooking asks to validate a booking, reads it
   fresh, so that what is shown is what is validated;
2. those staff members, fresh: their schedules, and whether they still offer the service;
3. concurrently, their working hours and the occupied time of their appointments, fresh on every
   request and never cached: once CreateBooking has returned, no answer offers that slot again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.availability.application.observability import SlotObservations
from services.availability.application.ports import AppointmentInputs
from services.availability.domain.appointments import (
    AppointmentSlot,
    DatesView,
    StaffCalendar,
    dates_view,
    dates_window,
    reading_window,
    search_until,
    slot_at,
    slots_page,
)
from services.availability.domain.model import Interval, Offering
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
            offering, shape = check_appointment_offering(await self._inputs.offering(tenant, query.service_id, fresh=False), query.service_id)
            zone = ZoneInfo(query.time_zone or offering.time_zone)
            window = LocalRange.resolve(query.from_local_date, query.to_local_date, zone.key, max_range=MAX_APPOINTMENT_RANGE)
            calendars = await self._calendars(tenant, offering, query.staff_member_ids, reading_window(window.start_utc, window.end_utc))
            slots, has_next = slots_page(
                calendars,
                shape,
                offering,
                window.start_utc,
                window.end_utc,
                self._clock(),
                after=after,
                limit=limit,
                bookable_only=not query.include_non_bookable,
            )
            next_cursor = self._cursors.encode(encode_start_key(slots[-1].slot.start), fingerprint) if has_next else ""
            return AppointmentSlotPage(slots, offering, zone, next_cursor, has_next)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, rpc, exc)
            raise
        finally:
            self._observe.answered(rpc, started)

    async def get_slot(self, tenant: str, lookup: AppointmentSlotLookup) -> AppointmentSlotView:
        """The slot with exactly that start and end, read fresh: CreateBooking validates an
        appointment by it. NotFound when it is on no asked staff member's grid."""
        rpc = "GetAvailabilityTimeSlot"
        started = time.perf_counter()
        try:
            start, end = validate_appointment_slot_lookup(lookup)
            offering, shape = check_appointment_offering(await self._inputs.offering(tenant, lookup.service_id, fresh=True), lookup.service_id)
            zone = ZoneInfo(lookup.time_zone or offering.time_zone)
            # Another length than the service's is on nobody's grid: only the staff filter to check.
            window = reading_window(start, end) if end - start == shape.duration else None
            calendars = await self._calendars(tenant, offering, lookup.staff_member_ids, window)
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
        """The month view. The dates after the range that next_available_date may be are read with
        it, in the same two calls (working hours and occupied time), up to the booking horizon and
        at most 366 dates from the first."""
        rpc = "ListAvailabilityDates"
        started = time.perf_counter()
        try:
            first, last = validate_appointment_dates_query(query)
            offering, shape = check_appointment_offering(await self._inputs.offering(tenant, query.service_id, fresh=False), query.service_id)
            zone = ZoneInfo(query.time_zone or offering.time_zone)
            until = search_until(offering, zone, first, self._clock())
            window = reading_window(*dates_window(first, max(last, until), zone))
            calendars = await self._calendars(tenant, offering, query.staff_member_ids, window)
            return AppointmentDates(dates_view(calendars, shape, offering, zone, first, last, until, self._clock()), zone)
        except DependencyUnavailable as exc:
            self._observe.dependency_failed(tenant, rpc, exc)
            raise
        finally:
            self._observe.answered(rpc, started)

    async def _calendars(self, tenant: str, offering: Offering, requested: Sequence[str], window: Interval | None) -> list[StaffCalendar]:
        """The calendars of the requested staff members (all the service's when none is), each
        checked to offer the service; `window` None: only that check. A staff member the cached
        service still lists but who no longer offers it is left out: the staff read is fresh."""
        listed = set(offering.staff_member_ids)
        wanted = [s for s in (requested or offering.staff_member_ids) if s in listed]
        members = await self._inputs.staff_members(tenant, wanted) if wanted else []
        offering_staff = [m for m in members if offering.service_id in m.service_ids]
        check_staff_filter(requested, {m.staff_member_id for m in offering_staff})
        if window is None or not offering_staff:
            return []
        return await self._inputs.calendars(tenant, offering_staff, window)

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
