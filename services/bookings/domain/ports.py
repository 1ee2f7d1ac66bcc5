"""What the catalog and bookings need from the outside world, as protocols the adapters implement (and
unit tests fake). Every repository method acts on the tenant of the current request only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.bookings.domain.bookings import Booking, BookingStatus, Change
from services.bookings.domain.services import Service, ServiceType


@dataclass(frozen=True)
class ServiceFilter:
    service_ids: tuple[str, ...] = ()  # empty: any
    types: tuple[ServiceType, ...] = ()  # empty: any


@dataclass(frozen=True)
class SortKey:
    """Position in the (created_at, id) order QueryServices pages through."""

    created_at: datetime
    id: str


class ServiceRepository(Protocol):
    # Reads: deleted services are invisible, as if they never existed.
    async def get(self, service_id: str) -> Service | None: ...

    async def get_many(self, service_ids: Sequence[str]) -> dict[str, Service]: ...

    async def query(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]: ...

    # Writes: each is one transaction (where the outbox row will be written too).
    async def create(self, service: Service) -> Service: ...

    async def update(self, service: Service, expected_revision: int) -> Service:
        """Stores `service` at `expected_revision + 1`; NotFound, or RevisionMismatch if the
        stored revision is no longer `expected_revision`."""
        ...

    async def delete(self, service_id: str, expected_revision: int | None) -> Service:
        """Soft-deletes; NotFound, or RevisionMismatch when `expected_revision` is given and stale."""
        ...


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


class BookingRepository(Protocol):
    async def get(self, booking_id: str) -> Booking | None: ...

    async def by_idempotency_key(self, key: str) -> Booking | None: ...

    async def query(self, where: BookingFilter, after: SortKey | None, limit: int) -> list[Booking]:
        """In (created_at, id) order, after `after`."""
        ...

    async def create(self, booking: Booking, *, capacity: int | None = None) -> tuple[Booking, bool]:
        """Stores the booking with its BookingCreated event in one transaction: (stored, True).
        When another booking already holds its idempotency key (a concurrent or earlier request
        with the same key), nothing is written: (that booking, False).

        With a `capacity` (a strict-capacity service) the transaction first serialises with every
        other strict write on the booked entity, answers a key already taken as above without any
        check, and raises `capacity_refusal` of the participants the entity's PENDING and
        CONFIRMED bookings hold, writing nothing, when the booking does not fit."""
        ...

    async def update(self, booking: Booking, expected_revision: int, change: Change, previous_participants: int, *, capacity: int | None = None) -> Booking:
        """Stores `booking` at `expected_revision + 1` with the event of `change`, in one
        transaction; NotFound, or RevisionMismatch if the stored revision moved on. With a
        `capacity` (a party size increase on a strict-capacity service) the new size must fit
        next to the entity's other PENDING and CONFIRMED bookings, checked as `create` does."""
        ...


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
