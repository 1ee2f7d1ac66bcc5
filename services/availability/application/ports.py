"""What availability's use cases need from outside, as domain objects. Implemented at the edge:
the inputs over the catalog and the calendar through the Redis cache (inputs.py), the toggles
kept in Redis (toggles.py), the bookings ledger over QueryBookings (bookings.py), the
appointment inputs over the catalog, the staff, their working hours and their appointments
(appointments.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.availability.domain.appointments import StaffCalendar, StaffMember
from services.availability.domain.model import Interval, Offering, ProvidedPolicy, ServiceType, Session, TimeFrame
from services.common.errors import DependencyUnavailable


@dataclass(frozen=True)
class Wanted:
    """What one calculation reads, all at once.

    - offerings: those of `service_ids` (whatever their type, so the caller can name a wrong
      one), or every live one of `of_type` when no ids are given;
    - every session of each of `course_schedules`, and their time frames;
    - the sessions of each of `class_schedules` starting in `window` [start, end).
    """

    service_ids: Sequence[str] = ()
    of_type: ServiceType | None = None
    course_schedules: Sequence[str] = ()
    class_schedules: Sequence[str] = ()
    window: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class Found:
    """What was read for a `Wanted`. `offerings`: those that exist, in the order asked for;
    `sessions`: the course schedules' then the class schedules', each with the participant counts
    announced since it was read applied (domain/participants.py); `time_frames`: by schedule, None
    when ScheduleTimeFrames was unavailable (`time_frames_failure` says why): the calculation then
    takes the first session from the events (docs/booking-policies.md "Time frames unavailable")."""

    offerings: list[Offering]
    sessions: list[Session]
    time_frames: dict[str, TimeFrame] | None
    time_frames_failure: DependencyUnavailable | None = None


class AvailabilityInputs(Protocol):
    """The catalog's offerings and the calendar's sessions and time frames of one tenant."""

    async def read(self, tenant: str, wanted: Wanted) -> Found: ...

    async def event(self, tenant: str, event_id: str) -> Session:
        """NotFound when the tenant has no such event."""
        ...

    async def schedule_owner(self, tenant: str, schedule_id: str) -> str:
        """The id of the catalog service that owns the schedule; NotFound when none does."""
        ...

    async def provided_policies(self, tenant: str, service_ids: Sequence[str]) -> dict[str, ProvidedPolicy]:
        """The booking policy provider's answers, by service (none when the catalog is the
        provider: its policy is the service's own)."""
        ...


class Toggles(Protocol):
    """Feature toggles per tenant (domain/toggles.py names them)."""

    def enabled(self, toggle: str, tenant_id: str) -> bool: ...


class BookingLedger(Protocol):
    async def booked_participants(self, *, schedule_id: str = "", event_id: str = "") -> int:
        """Σ number_of_participants of the PENDING and CONFIRMED bookings of the schedule (course
        bookings) or of the event (class bookings). DependencyUnavailable when bookings is away."""
        ...


class AppointmentReading(Protocol):
    """What one request reads of an APPOINTMENT service of one tenant: the service (`offering`: the
    live service of that id whatever its type, None when there is none, with its appointment
    settings and staff and the policy provider's answer applied), then, as the request needs them,
    its staff members, their working hours and the occupied time of their appointments.

    How fresh each is (docs/appointments.md "What is read, and how fresh"): the staff members and
    their working hours may come from availability's cache, dropped when they change; the occupied
    time is read on every call, never cached, so once CreateBooking has returned no answer offers
    that slot again."""

    @property
    def offering(self) -> Offering | None: ...

    async def staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        """Those of the ids that are the tenant's staff members."""
        ...

    async def working_hours(self, staff: Sequence[StaffMember], window: Interval) -> list[StaffCalendar]:
        """Each staff member's calendar for `window`, without appointments: their schedule's
        rules, and the extra hours, time off and holidays touching the window (maybe more)."""
        ...

    async def occupied_time(self, staff: Sequence[StaffMember], window: Interval) -> dict[str, tuple[Interval, ...]]:
        """The occupied time of the staff members' appointments overlapping `window` (buffers
        included), by staff member id, read now."""
        ...


class AppointmentInputs(Protocol):
    async def reading(self, tenant: str, service_id: str, *, fresh_service: bool) -> AppointmentReading:
        """A request's reads of the service of that id: the service through availability's cache
        unless `fresh_service` (a booking's validation must see a policy change at once)."""
        ...
