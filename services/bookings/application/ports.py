"""What the catalog's and the bookings' use cases need from the outside world, as protocols the
adapters implement (and unit tests fake): storage, whose sessions are bound to one tenant
(adapters/postgres.py), timeframes and availability (adapters/timeframes.py, adapters/availability.py)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.bookings.domain.bookings import AppointmentSlotAnswer, Booking, BookingStatus, Change
from services.bookings.domain.services import Service, ServiceChange, ServiceType
from services.bookings.domain.staff import StaffMember, StaffMemberChange


@dataclass(frozen=True)
class ServiceFilter:
    service_ids: tuple[str, ...] = ()  # empty: any
    types: tuple[ServiceType, ...] = ()  # empty: any


@dataclass(frozen=True)
class StaffFilter:
    staff_member_ids: tuple[str, ...] = ()  # empty: any
    service_ids: tuple[str, ...] = ()  # empty: any; else staff members offering any of them


@dataclass(frozen=True)
class SortKey:
    """Position in the (created_at, id) order QueryServices, QueryStaffMembers and QueryBookings
    page through."""

    created_at: datetime
    id: str


class Schedules(Protocol):
    """calendar.schedules.v3.Schedules, hosted by timeframes."""

    async def create_schedule(self, *, external_id: str, name: str, time_zone: str, default_capacity: int) -> str:
        """Creates the schedule (or returns the one already created with `external_id`) and
        returns its id. DependencyUnavailable when timeframes cannot answer."""
        ...


# --- bookings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingFilter:
    """QueryBookings filters; an empty tuple means any. Filters of different fields all apply."""

    service_ids: tuple[str, ...] = ()
    schedule_ids: tuple[str, ...] = ()  # bookings of a whole course (booked_entity.schedule)
    event_ids: tuple[str, ...] = ()  # bookings of one class event (booked_entity.slot)
    statuses: tuple[BookingStatus, ...] = ()
    staff_member_ids: tuple[str, ...] = ()  # appointments of these staff members


@dataclass(frozen=True)
class OccupiedTime:
    """An appointment that holds a staff member's time (bookings.staff.v1 OccupiedTime)."""

    staff_member_id: str
    booking_id: str
    service_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime


class BookingsSession(Protocol):
    """Storage bound to one tenant. A write session is one transaction: the services, bookings and
    announcements it writes commit together, or not at all. The use cases decide which change to
    announce; the adapter turns it into its outbox message (mapping.py)."""

    # --- the catalog (deleted services are invisible, as if they never existed) -----------------

    async def service(self, service_id: str) -> Service | None: ...

    async def services(self, service_ids: Sequence[str]) -> dict[str, Service]: ...

    async def query_services(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]: ...

    async def insert_service(self, service: Service) -> Service:
        """Stores the service without its staff (link_staff_to_service adds them)."""
        ...

    async def update_service(self, service: Service, expected_revision: int) -> Service:
        """Stores `service` at `expected_revision + 1`; NotFound, or RevisionMismatch if the
        stored revision is no longer `expected_revision`."""
        ...

    async def delete_service(self, service_id: str, expected_revision: int | None) -> Service:
        """Soft-deletes; NotFound, or RevisionMismatch when `expected_revision` is given and stale."""
        ...

    async def announce_service(self, change: ServiceChange, service: Service) -> None:
        """Its catalog.service-events.v1 message, published after the commit (and only if it commits)."""
        ...

    # --- staff members (deleted ones are invisible, as deleted services are) ---------------------

    async def staff_member(self, staff_member_id: str) -> StaffMember | None: ...

    async def staff_members(self, staff_member_ids: Sequence[str]) -> dict[str, StaffMember]: ...

    async def query_staff_members(self, where: StaffFilter, after: SortKey | None, limit: int) -> list[StaffMember]:
        """In (created_at, id) order, after `after`."""
        ...

    async def insert_staff_member(self, staff_member: StaffMember) -> StaffMember:
        """Stores the staff member without its services (link_services_to_staff_member adds them)."""
        ...

    async def update_staff_member(self, staff_member: StaffMember, expected_revision: int) -> StaffMember:
        """Stores name, email and time zone at `expected_revision + 1`; NotFound, or
        RevisionMismatch if the stored revision is no longer `expected_revision`."""
        ...

    async def delete_staff_member(self, staff_member_id: str, expected_revision: int | None) -> StaffMember:
        """Soft-deletes, holding the row so that no appointment of the staff member can be booked
        until this transaction ends; NotFound, or RevisionMismatch when `expected_revision` is
        given and stale."""
        ...

    async def has_future_appointments(self, staff_member_id: str, now: datetime) -> bool:
        """Whether the staff member has a PENDING or CONFIRMED appointment ending after `now`."""
        ...

    async def announce_staff_member(self, change: StaffMemberChange, staff_member: StaffMember) -> None:
        """Its bookings.staff-events.v1 message, published after the commit (and only if it commits)."""
        ...

    # --- the relation service <-> staff member (stored once, read from both sides) --------------

    async def lock_service_staff(self) -> None:
        """Holds, until the transaction ends, the tenant's lock on the relation: every write that
        changes links takes it before any row lock, so two of them never interleave (nor deadlock
        on each other's rows) and what one checked stays true until it commits."""
        ...

    async def link_services_to_staff_member(self, staff_member_id: str, service_ids: Sequence[str]) -> list[str]:
        """Makes `service_ids` the staff member's services; returns the services whose staff list
        this changed (links added or removed), sorted."""
        ...

    async def link_staff_to_service(self, service_id: str, staff_member_ids: Sequence[str]) -> list[str]:
        """Makes `staff_member_ids` the service's staff; returns the staff members whose service
        list this changed, sorted."""
        ...

    async def touch_services(self, service_ids: Sequence[str]) -> list[Service]:
        """Bumps the revision of these live services (locked in id order) because their staff list
        changed; returns them as now stored."""
        ...

    async def touch_staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        """Bumps the revision of these live staff members (locked in id order) because their
        service list changed; returns them as now stored."""
        ...

    # --- bookings ----------------------------------------------------------------------------------

    async def booking(self, booking_id: str) -> Booking | None: ...

    async def booking_by_idempotency_key(self, key: str) -> Booking | None: ...

    async def query_bookings(self, where: BookingFilter, after: SortKey | None, limit: int) -> list[Booking]:
        """In (created_at, id) order, after `after`."""
        ...

    async def insert_booking(self, booking: Booking) -> Booking | None:
        """The stored booking; None, writing nothing, when another booking already holds its
        idempotency key (a concurrent or earlier request with the same key)."""
        ...

    async def update_booking(self, booking: Booking, expected_revision: int) -> Booking:
        """Stores `booking` at `expected_revision + 1`; NotFound, or RevisionMismatch if the
        stored revision moved on."""
        ...

    async def lock_entity(self, booking: Booking) -> None:
        """Waits until no other transaction that locked the booking's entity (its schedule or
        event) is in progress, and holds the lock until this one ends: strict capacity's count and
        write are one step per entity."""
        ...

    async def participants_held(self, booking: Booking) -> int:
        """The participants of the entity's PENDING and CONFIRMED bookings but `booking`'s own."""
        ...

    async def announce_booking(self, change: Change, booking: Booking, previous_participants: int = 0) -> None:
        """Its bookings.booking-events.v1 message, published after the commit (and only if it commits)."""
        ...

    # --- appointments ------------------------------------------------------------------------------

    async def lock_booking_id(self, booking_id: str) -> None:
        """Holds a lock on the booking id until this transaction ends: while an appointment's time
        is held and its booking written, nothing may take its hold for a stale one."""
        ...

    async def try_lock_booking_id(self, booking_id: str) -> bool:
        """The same lock, without waiting: False when another transaction holds it."""
        ...

    async def appointments_per_staff(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        """How many active appointments each staff member has starting in [start, end)."""
        ...

    async def occupied_time(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> list[OccupiedTime]:
        """The active appointments of the staff members whose occupied time overlaps [start, end),
        by staff member, occupied start, then booking id."""
        ...


class BookingsStore(Protocol):
    def read(self, tenant_id: str) -> AbstractAsyncContextManager[BookingsSession]: ...

    def write(self, tenant_id: str) -> AbstractAsyncContextManager[BookingsSession]: ...


@dataclass(frozen=True)
class AvailabilityAnswer:
    """bookings.availability.v1 ScheduleAvailability / SlotAvailability, as validation needs it."""

    bookable: bool
    open_spots: int
    total_spots: int
    refusal_reason: str  # empty when bookable
    # The most participants the booked entity holds, which strict capacity counts against: the
    # event's total (a class's `total_spots`), or the smallest total of the sessions still ahead
    # (a course's `min_total_spots_ahead`: its booking takes a spot on each).
    capacity: int
    # A slot's answer: the schedule its event belongs to ("" from an availability that does not
    # say, an older release: the caller then reads the event itself).
    schedule_id: str = ""


class NotAClassSession(Exception):
    """Availability refused to answer for an event as a class session: it belongs to a course, or
    to a service that is neither a class nor a course."""


class Availability(Protocol):
    """bookings.availability.v1.AvailabilityCalendar (hosted by availability). Both raise
    DependencyUnavailable when availability cannot answer, NotFound for an unknown id. `service` is
    the booked service as just read here: availability answers from it instead of reading it again."""

    async def schedule(self, schedule_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer: ...

    async def slot(self, event_id: str, number_of_participants: int, service: Service) -> AvailabilityAnswer:
        """Also NotAClassSession."""
        ...


class AppointmentSlots(Protocol):
    """bookings.availability.v2.AvailabilityTimeSlots.GetAvailabilityTimeSlot (hosted by
    availability): the same calculation that lists appointment slots decides whether one may be
    booked. InvalidArgument naming the booking's field when [start, end) is not a slot of the
    service or a staff member asked about does not offer it; DependencyUnavailable when
    availability cannot answer."""

    async def slot(self, service: Service, start: datetime, end: datetime, staff_member_ids: Sequence[str]) -> AppointmentSlotAnswer: ...


class AppointmentHolds(Protocol):
    """calendar.working_hours.v1.AppointmentHolds (hosted by timeframes): the time appointments
    occupy on their staff member's schedule, where the database refuses overlaps."""

    async def hold(self, booking_id: str, schedule_id: str, start: datetime, end: datetime) -> None:
        """Conflict SLOT_UNAVAILABLE (metadata `conflicting_booking_ids`, `conflicting_time_off_ids`)
        when the time overlaps another hold or a time off; repeating the same hold is a no-op."""
        ...

    async def release(self, booking_id: str) -> bool:
        """Frees the booking's hold; False when it had none."""
        ...


@dataclass(frozen=True)
class CalendarEvent:
    id: str
    schedule_id: str
    start: datetime
    cancelled: bool


class Calendar(Protocol):
    """The reads of calendar.events.v3 / calendar.timeframes.v3 (timeframes) bookings needs."""

    async def event(self, event_id: str) -> CalendarEvent | None:
        """None when the event does not exist (in this tenant)."""
        ...

    async def first_session_start(self, schedule_id: str) -> datetime | None:
        """F of a course: ScheduleTimeFrames' first_event_start_date, or the first event's start
        when time frames cannot answer; None when the schedule has no non-cancelled event."""
        ...
