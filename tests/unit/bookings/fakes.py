"""The bookings service's storage in memory, for the use-case tests: an implementation of
application/ports.py `BookingsStore` with the real one's behaviour that the use cases rely on.
Rows are kept per tenant; a write session's changes (rows and announcements) take effect only when
its block ends without an error, as a transaction commits or rolls back."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from services.bookings.application.ports import BookingFilter, OccupiedTime, ServiceFilter, SortKey, StaffFilter
from services.bookings.domain.bookings import AppointmentSlotAnswer, Booking, BookingStatus, Change
from services.bookings.domain.services import Service, ServiceChange
from services.bookings.domain.staff import StaffMember, StaffMemberChange
from services.common.errors import AlreadyExists, DependencyUnavailable, NotFound, RevisionMismatch

CREATED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
Announced = tuple[Change | ServiceChange | StaffMemberChange, str, int]
Link = tuple[str, str, str]  # (tenant, service id, staff member id)


@dataclass
class FakeStore:
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    bookings: dict[tuple[str, str], Booking] = field(default_factory=dict)
    staff: dict[tuple[str, str], StaffMember] = field(default_factory=dict)
    links: set[Link] = field(default_factory=set)  # the relation service <-> staff member
    # Staff members with a PENDING or CONFIRMED appointment ahead: (tenant, id).
    busy_staff: set[tuple[str, str]] = field(default_factory=set)
    # What committed writes announced (the outbox): (change, id, previous participants).
    announced: list[Announced] = field(default_factory=list)
    # Per write transaction, committed or not: whether it took the relation's lock.
    relation_locked: list[bool] = field(default_factory=list)
    # Per write transaction, committed or not: whether it took a booked entity's lock (strict capacity).
    locked: list[bool] = field(default_factory=list)
    lose_race_to: Booking | None = None  # the next insert finds its idempotency key taken by this booking
    clock: Iterator[int] = field(default_factory=itertools.count)
    locked_booking_ids: set[str] = field(default_factory=set)  # held by a write in progress (another request)
    fail_next_insert: Exception | None = None  # the next insert_booking raises it

    def add_service(self, tenant_id: str, service: Service) -> None:
        self.services[(tenant_id, service.id)] = service

    def bookings_of(self, tenant_id: str) -> dict[str, Booking]:
        return {i: b for (t, i), b in self.bookings.items() if t == tenant_id}

    @contextlib.asynccontextmanager
    async def read(self, tenant_id: str) -> AsyncIterator[FakeSession]:
        yield FakeSession(self, tenant_id)

    @contextlib.asynccontextmanager
    async def write(self, tenant_id: str) -> AsyncIterator[FakeSession]:
        self.locked.append(False)
        self.relation_locked.append(False)
        session = FakeSession(self, tenant_id, dict(self.services), dict(self.bookings), dict(self.staff), set(self.links))
        yield session
        self.services, self.bookings = session.service_rows, session.booking_rows
        self.staff, self.links = session.staff_rows, session.link_rows
        self.announced += session.announced

    def created_at(self) -> datetime:
        return CREATED_FROM + timedelta(seconds=next(self.clock))


class FakeSession:
    def __init__(
        self,
        store: FakeStore,
        tenant_id: str,
        services: dict[tuple[str, str], Service] | None = None,
        bookings: dict[tuple[str, str], Booking] | None = None,
        staff: dict[tuple[str, str], StaffMember] | None = None,
        links: set[Link] | None = None,
    ):
        self._store = store
        self._tenant = tenant_id
        self.service_rows = store.services if services is None else services
        self.booking_rows = store.bookings if bookings is None else bookings
        self.staff_rows = store.staff if staff is None else staff
        self.link_rows = store.links if links is None else links
        self.announced: list[Announced] = []

    # --- the catalog (a service's staff_member_ids come from the links, as in the real store) -----

    def _with_staff(self, service: Service | None) -> Service | None:
        if service is None:
            return None
        staff = sorted(m for t, s, m in self.link_rows if t == self._tenant and s == service.id)
        return replace(service, staff_member_ids=tuple(staff))

    async def service(self, service_id: str) -> Service | None:
        return self._with_staff(self.service_rows.get((self._tenant, service_id)))

    async def services(self, service_ids: Sequence[str]) -> dict[str, Service]:
        return {i: s for i in service_ids if (s := await self.service(i)) is not None}

    async def query_services(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]:
        found = [service for (t, i) in list(self.service_rows) if t == self._tenant and (service := await self.service(i)) is not None]
        found = [s for s in found if (not where.service_ids or s.id in where.service_ids) and (not where.types or s.type in where.types)]
        found.sort(key=lambda s: (s.created_at, s.id))
        if after:
            found = [s for s in found if (s.created_at, s.id) > (after.created_at, after.id)]
        return found[:limit]

    async def insert_service(self, service: Service) -> Service:
        now = self._store.created_at()
        stored = replace(service, created_at=now, updated_at=now, staff_member_ids=())
        self.service_rows[(self._tenant, service.id)] = stored
        return stored

    async def update_service(self, service: Service, expected_revision: int) -> Service:
        current = await self._current_service(service.id, expected_revision)
        self.service_rows[(self._tenant, service.id)] = replace(service, revision=current.revision + 1)
        stored = await self.service(service.id)
        assert stored is not None
        return stored

    async def delete_service(self, service_id: str, expected_revision: int | None) -> Service:
        current = await self._current_service(service_id, expected_revision)
        del self.service_rows[(self._tenant, service_id)]
        return replace(current, revision=current.revision + 1)

    async def announce_service(self, change: ServiceChange, service: Service) -> None:
        self.announced.append((change, service.id, 0))

    # --- staff members ---------------------------------------------------------------------------

    async def staff_member(self, staff_member_id: str) -> StaffMember | None:
        member = self.staff_rows.get((self._tenant, staff_member_id))
        if member is None:
            return None
        services = sorted(s for t, s, m in self.link_rows if t == self._tenant and m == staff_member_id)
        return replace(member, service_ids=tuple(services))

    async def staff_members(self, staff_member_ids: Sequence[str]) -> dict[str, StaffMember]:
        return {i: m for i in staff_member_ids if (m := await self.staff_member(i)) is not None}

    async def query_staff_members(self, where: StaffFilter, after: SortKey | None, limit: int) -> list[StaffMember]:
        found = [m for (t, i) in list(self.staff_rows) if t == self._tenant and (m := await self.staff_member(i)) is not None]
        found = [
            m
            for m in found
            if (not where.staff_member_ids or m.id in where.staff_member_ids) and (not where.service_ids or set(m.service_ids) & set(where.service_ids))
        ]
        found.sort(key=lambda m: (m.created_at, m.id))
        if after:
            found = [m for m in found if (m.created_at, m.id) > (after.created_at, after.id)]
        return found[:limit]

    async def insert_staff_member(self, staff_member: StaffMember) -> StaffMember:
        now = self._store.created_at()
        stored = replace(staff_member, created_at=now, updated_at=now, service_ids=())
        self.staff_rows[(self._tenant, staff_member.id)] = stored
        return stored

    async def update_staff_member(self, staff_member: StaffMember, expected_revision: int) -> StaffMember:
        current = await self._current_staff_member(staff_member.id, expected_revision)
        self.staff_rows[(self._tenant, staff_member.id)] = replace(staff_member, revision=current.revision + 1)
        stored = await self.staff_member(staff_member.id)
        assert stored is not None
        return stored

    async def delete_staff_member(self, staff_member_id: str, expected_revision: int | None) -> StaffMember:
        current = await self._current_staff_member(staff_member_id, expected_revision)
        del self.staff_rows[(self._tenant, staff_member_id)]
        return replace(current, revision=current.revision + 1)

    async def has_future_appointments(self, staff_member_id: str, now: datetime) -> bool:
        return (self._tenant, staff_member_id) in self._store.busy_staff

    async def announce_staff_member(self, change: StaffMemberChange, staff_member: StaffMember) -> None:
        self.announced.append((change, staff_member.id, 0))

    async def _current_staff_member(self, staff_member_id: str, expected_revision: int | None) -> StaffMember:
        current = await self.staff_member(staff_member_id)
        if current is None:
            raise NotFound("staff member", staff_member_id)
        if expected_revision is not None and current.revision != expected_revision:
            raise RevisionMismatch("staff member", staff_member_id, expected_revision, current.revision)
        return current

    # --- the relation ------------------------------------------------------------------------------

    async def lock_service_staff(self) -> None:
        self._store.relation_locked[-1] = True

    async def link_services_to_staff_member(self, staff_member_id: str, service_ids: Sequence[str]) -> list[str]:
        assert self._store.relation_locked[-1], "links are written under the relation lock"
        before = {s for t, s, m in self.link_rows if t == self._tenant and m == staff_member_id}
        self.link_rows -= {(self._tenant, s, staff_member_id) for s in before}
        self.link_rows |= {(self._tenant, s, staff_member_id) for s in service_ids}
        return sorted(before ^ set(service_ids))

    async def link_staff_to_service(self, service_id: str, staff_member_ids: Sequence[str]) -> list[str]:
        assert self._store.relation_locked[-1], "links are written under the relation lock"
        before = {m for t, s, m in self.link_rows if t == self._tenant and s == service_id}
        self.link_rows -= {(self._tenant, service_id, m) for m in before}
        self.link_rows |= {(self._tenant, service_id, m) for m in staff_member_ids}
        return sorted(before ^ set(staff_member_ids))

    async def touch_services(self, service_ids: Sequence[str]) -> list[Service]:
        touched = []
        for service_id in sorted(service_ids):
            if (service := await self.service(service_id)) is not None:
                self.service_rows[(self._tenant, service_id)] = replace(service, revision=service.revision + 1)
                touched.append(replace(service, revision=service.revision + 1))
        return touched

    async def touch_staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        touched = []
        for staff_member_id in sorted(staff_member_ids):
            if (member := await self.staff_member(staff_member_id)) is not None:
                self.staff_rows[(self._tenant, staff_member_id)] = replace(member, revision=member.revision + 1)
                touched.append(replace(member, revision=member.revision + 1))
        return touched

    async def _current_service(self, service_id: str, expected_revision: int | None) -> Service:
        current = await self.service(service_id)
        if current is None:
            raise NotFound("service", service_id)
        if expected_revision is not None and current.revision != expected_revision:
            raise RevisionMismatch("service", service_id, expected_revision, current.revision)
        return current

    # --- bookings ----------------------------------------------------------------------------------

    async def booking(self, booking_id: str) -> Booking | None:
        return self.booking_rows.get((self._tenant, booking_id))

    async def booking_by_idempotency_key(self, key: str) -> Booking | None:
        return next((b for (t, _), b in self.booking_rows.items() if t == self._tenant and b.idempotency_key == key), None)

    async def query_bookings(self, where: BookingFilter, after: SortKey | None, limit: int) -> list[Booking]:
        return sorted((b for (t, _), b in self.booking_rows.items() if t == self._tenant), key=lambda b: (b.created_at, b.id))[:limit]

    async def insert_booking(self, booking: Booking) -> Booking | None:
        if self._store.fail_next_insert is not None:
            failure, self._store.fail_next_insert = self._store.fail_next_insert, None
            raise failure
        if self._store.lose_race_to is not None:
            winner, self._store.lose_race_to = self._store.lose_race_to, None
            self.booking_rows[(self._tenant, winner.id)] = winner
            return None
        if booking.idempotency_key is not None and await self.booking_by_idempotency_key(booking.idempotency_key) is not None:
            return None
        stored = replace(booking, created_at=self._store.created_at())
        self.booking_rows[(self._tenant, booking.id)] = stored
        return stored

    async def update_booking(self, booking: Booking, expected_revision: int) -> Booking:
        current = await self.booking(booking.id)
        if current is None:
            raise NotFound("booking", booking.id)
        if current.revision != expected_revision:
            raise RevisionMismatch("booking", booking.id, expected_revision, current.revision)
        stored = replace(booking, revision=expected_revision + 1)
        self.booking_rows[(self._tenant, booking.id)] = stored
        return stored

    async def lock_entity(self, booking: Booking) -> None:
        self._store.locked[-1] = True

    async def lock_booking_id(self, booking_id: str) -> None:
        assert booking_id not in self._store.locked_booking_ids, "would wait for another request"

    async def try_lock_booking_id(self, booking_id: str) -> bool:
        return booking_id not in self._store.locked_booking_ids

    def _appointments(self, staff_member_ids: Sequence[str]) -> list[Booking]:
        return [
            b
            for (t, _), b in self.booking_rows.items()
            if t == self._tenant and b.appointment is not None and b.appointment.staff_member_id in staff_member_ids and b.status in ACTIVE
        ]

    async def appointments_per_staff(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for b in self._appointments(staff_member_ids):
            assert b.appointment is not None
            if start <= b.appointment.start < end:
                counts[b.appointment.staff_member_id] = counts.get(b.appointment.staff_member_id, 0) + 1
        return counts

    async def occupied_time(self, staff_member_ids: Sequence[str], start: datetime, end: datetime) -> list[OccupiedTime]:
        found = []
        for b in self._appointments(staff_member_ids):
            t = b.appointment
            assert t is not None
            if t.occupied_end > start and t.occupied_start < end:
                found.append(OccupiedTime(t.staff_member_id, b.id, b.service_id, t.start, t.end, t.occupied_start, t.occupied_end))
        return sorted(found, key=lambda o: (o.staff_member_id, o.occupied_start, o.booking_id))

    async def participants_held(self, booking: Booking) -> int:
        others = (b for (t, i), b in self.booking_rows.items() if t == self._tenant and b.entity_id == booking.entity_id and i != booking.id)
        return sum(b.number_of_participants for b in others if b.status in ACTIVE)

    async def announce_booking(self, change: Change, booking: Booking, previous_participants: int = 0) -> None:
        self.announced.append((change, booking.id, previous_participants))


ACTIVE = frozenset(s for s in BookingStatus if s.active)


@dataclass
class FakeHolds:
    """Timeframes' appointment holds: the time held per schedule, refusing overlaps (half-open) as
    its exclusion constraints do; time off is given as holds of the `time_off:` kind."""

    held: dict[str, tuple[str, datetime, datetime]] = field(default_factory=dict)  # holder -> (schedule, start, end)
    unreachable: bool = False
    released: list[str] = field(default_factory=list)

    async def hold(self, booking_id: str, schedule_id: str, start: datetime, end: datetime) -> None:
        if self.unreachable:
            raise DependencyUnavailable("timeframes", "UNAVAILABLE: down")
        if self.held.get(booking_id) == (schedule_id, start, end):
            return
        in_the_way = sorted(h for h, (s, a, b) in self.held.items() if s == schedule_id and a < end and start < b)
        if in_the_way:
            bookings = [h for h in in_the_way if not h.startswith("time_off:")]
            time_off = [h.removeprefix("time_off:") for h in in_the_way if h.startswith("time_off:")]
            metadata = {"conflicting_booking_ids": ",".join(bookings), "conflicting_time_off_ids": ",".join(time_off)}
            raise AlreadyExists("appointment hold", booking_id, reason="SLOT_UNAVAILABLE", metadata=metadata)
        self.held[booking_id] = (schedule_id, start, end)

    async def release(self, booking_id: str) -> bool:
        if self.unreachable:
            raise DependencyUnavailable("timeframes", "UNAVAILABLE: down")
        self.released.append(booking_id)
        return self.held.pop(booking_id, None) is not None


@dataclass
class FakeAppointmentSlots:
    """Availability's answer for an appointment slot: `free` staff members (of those asked about),
    or `answer` as given."""

    free: tuple[str, ...] = ()
    answer: AppointmentSlotAnswer | None = None
    asked: list[tuple[datetime, datetime, tuple[str, ...]]] = field(default_factory=list)

    async def slot(self, service: Service, start: datetime, end: datetime, staff_member_ids: Sequence[str]) -> AppointmentSlotAnswer:
        self.asked.append((start, end, tuple(staff_member_ids)))
        if self.answer is not None:
            return self.answer
        free = tuple(s for s in self.free if not staff_member_ids or s in staff_member_ids)
        return AppointmentSlotAnswer(free, booked=not free)
