"""Use cases of bookings (bookings.v2.Bookings): validate, ask availability, store with the event.

Order of every write, so that a rejected or failed request leaves nothing behind: validate the
request completely; read what it is about; ask the other services (availability, timeframes),
which only read; then one transaction (`store.write(tenant)`) writes the booking and announces
its change. Nothing is written
before the last step, so a refusal (FAILED_PRECONDITION), an unreachable dependency
(UNAVAILABLE) or a stale revision (ABORTED) changes nothing.

Decisions (the contract leaves them open):
- Availability validation (docs/rollout.md "How bookings validates"): CreateBooking asks
  `AvailabilityCalendar.GetScheduleAvailability(schedule, party)` for a COURSE and
  `GetSlotAvailability(event, party)` for a CLASS, and refuses with the answer's `refusal_reason`.
  Whether that capacity is consistent (bookings summed) or eventually consistent
  (`Event.remaining_capacity`) is availability's `proxy_course_to_new_endpoint` toggle.
- A party size increase is validated like a create of the added participants: the new size must
  be within the service's `max_participants_per_booking` (MAX_PARTICIPANTS_EXCEEDED, checked
  here), and availability must accept `new - old` more participants now (so the booking policies
  apply as to a new booking: no additions after booking has closed, and capacity for the added
  ones only, since the booking's current participants already hold their spots). A decrease
  needs no check and is allowed whenever the booking is active.
- Strict capacity (`Service.strict_capacity`, CLASS and COURSE, off by default): availability is
  still asked, for its policy refusals and for the capacity (`AvailabilityAnswer.capacity`), but
  its CAPACITY_EXCEEDED is not taken. The writing transaction counts the entity's bookings under
  a per-entity lock instead (`capacity_refusal`), so concurrent requests never overbook and a
  cancellation frees its spots at once. Availability reports capacity last, so when that is its
  refusal no policy refused. A replay of an idempotency key is answered from storage, never
  counted against itself (a concurrent duplicate is found under the lock). Services without the
  flag write as before: no lock, no count.
- An idempotency key reused with a different request is INVALID_ARGUMENT on `idempotency_key`
  (the client has a bug to fix, as with any bad field), not ALREADY_EXISTS: the booking the key
  names is not what this request asked for.
- APPOINTMENT bookings are made by application/appointments.py (exclusive time, held in
  timeframes); this module dispatches to it and frees the time when one is canceled or declined.
  Their party size is bounded by the policy only: the staff member's time is theirs whatever the
  size. Their cancellation window is measured from the appointment's start.
- The cancellation policy applies to PENDING and CONFIRMED bookings alike (both hold spots).
  A booking whose class event was cancelled (or whose service was deleted) can always be
  canceled: there is nothing left to protect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.bookings.application.appointments import Appointments
from services.bookings.application.ports import (
    Availability,
    AvailabilityAnswer,
    BookingFilter,
    BookingsSession,
    BookingsStore,
    Calendar,
    NotAClassSession,
    SortKey,
)
from services.bookings.domain.bookings import (
    CAPACITY_EXCEEDED,
    RESOURCE,
    Action,
    Booking,
    BookingDraft,
    BookingStatus,
    Change,
    EntityKind,
    appointment_span,
    capacity_refusal,
    new_booking,
    refusal,
    replay,
    request_fingerprint,
    require_cancellable_now,
    require_max_participants,
    transition,
    validate_change,
    validate_draft,
    with_participants,
)
from services.bookings.domain.policies import MAX_PARTICIPANTS_PER_BOOKING
from services.bookings.domain.services import Service, ServiceType
from services.common.errors import InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec, instant_key, parse_instant_key, query_fingerprint
from services.common.validation import Violations

_SLOT_FIELD = "booking.booked_entity.slot.event_id"
_CHANGES = {Action.CONFIRM: Change.CONFIRMED, Action.DECLINE: Change.DECLINED, Action.CANCEL: Change.CANCELED}


@dataclass(frozen=True)
class BookingPage:
    bookings: list[Booking]
    next_cursor: str  # empty on the last page

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)


class Bookings:
    def __init__(
        self,
        store: BookingsStore,
        availability: Availability,
        calendar: Calendar,
        cursors: CursorCodec,
        appointments: Appointments,
        *,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._store = store
        self._availability = availability
        self._calendar = calendar
        self._cursors = cursors
        self._appointments = appointments
        self._new_id = new_id
        self._clock = clock

    # --- create ----------------------------------------------------------------------------------

    async def create(self, tenant: str, draft: BookingDraft) -> Booking:
        validate_draft(draft)
        async with self._store.read(tenant) as session:
            # A replay is answered from storage, without asking availability again: the booking
            # exists whatever capacity says now.
            existing = await session.booking_by_idempotency_key(draft.idempotency_key) if draft.idempotency_key else None
            service = await session.service(draft.service_id) if existing is None else None
        if existing is not None:
            return replay(existing, request_fingerprint(draft))
        if service is None:
            raise NotFound("service", draft.service_id)
        booking = new_booking(draft, self._new_id(), service)
        if booking.entity_kind is EntityKind.APPOINTMENT:
            span = appointment_span(Violations(), draft)
            assert span is not None  # validate_draft checked it
            return await self._appointments.create(tenant, booking, service, *span, draft.staff_member_id.lower())
        capacity = await self._validate(service, booking, booking.number_of_participants)
        async with self._store.write(tenant) as session:
            if capacity is not None:
                await session.lock_entity(booking)
                if booking.idempotency_key is not None:
                    # A concurrent request with this key for this entity held the lock first and
                    # has committed: this is its replay, answered without counting it against itself.
                    taken = await session.booking_by_idempotency_key(booking.idempotency_key)
                    if taken is not None:
                        return _replay(taken, booking)
                await _require_room(session, booking, capacity)
            stored = await session.insert_booking(booking)
            if stored is None:
                # A concurrent request with the same key won the insert (unique index); this one
                # wrote nothing and answers with that booking, or refuses a different request.
                assert booking.idempotency_key is not None
                taken = await session.booking_by_idempotency_key(booking.idempotency_key)
                if taken is None:  # the conflicting row vanished: bookings are never deleted
                    raise RuntimeError(f"idempotency key conflict without a booking holding the key (booking {booking.id})")
                return _replay(taken, booking)
            await session.announce_booking(Change.CREATED, stored)
        return stored

    async def _validate(self, service: Service, booking: Booking, number_of_participants: int) -> int | None:
        """Refuses (FAILED_PRECONDITION with availability's reason) unless availability accepts
        `number_of_participants` more participants on the booking's entity now. For a strict
        capacity service, the capacity its write must count against (None for the others)."""
        if booking.schedule_id is not None:
            answer = await self._availability.schedule(booking.schedule_id, number_of_participants, service)
        else:
            answer = await self._slot(service, booking.event_id, number_of_participants)
        _require_bookable(answer, strict_capacity=service.strict_capacity)
        return answer.capacity if service.strict_capacity else None

    async def _slot(self, service: Service, event_id: str, number_of_participants: int) -> AvailabilityAnswer:
        """Availability's answer for a class event, which must be a session of this service's
        schedule: checked before the answer's refusal, so a wrong event is reported as such even
        when availability refuses it. Availability names the event's schedule (and answers
        NOT_FOUND for an unknown event), so the event is read here only from an availability that
        does not say."""
        try:
            answer = await self._availability.slot(event_id, number_of_participants, service)
        except NotAClassSession:
            raise InvalidArgument.single(_SLOT_FIELD, f"is not an event of service {service.id}") from None
        schedule_id = answer.schedule_id
        if not schedule_id:
            event = await self._calendar.event(event_id)
            if event is None:
                raise NotFound("event", event_id)
            schedule_id = event.schedule_id
        if schedule_id != service.schedule_id:
            raise InvalidArgument.single(_SLOT_FIELD, f"is not an event of service {service.id}")
        return answer

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, tenant: str, booking_id: str) -> Booking:
        v = Violations()
        v.id("booking_id", booking_id)
        v.raise_if_any()
        async with self._store.read(tenant) as session:
            booking = await session.booking(booking_id)
        if booking is None:
            raise NotFound(RESOURCE, booking_id)
        return booking

    async def query(
        self,
        tenant: str,
        service_ids: Sequence[str],
        schedule_ids: Sequence[str],
        event_ids: Sequence[str],
        statuses: Sequence[int],
        limit: int,
        cursor: str,
        staff_member_ids: Sequence[str] = (),
    ) -> BookingPage:
        v = Violations()
        v.ids("service_ids", list(service_ids))
        v.ids("schedule_ids", list(schedule_ids))
        v.ids("event_ids", list(event_ids))
        v.ids("staff_member_ids", list(staff_member_ids))
        parsed: list[BookingStatus] = []
        for i, status in enumerate(statuses):
            try:
                parsed.append(BookingStatus(status))
            except ValueError:
                v.add(f"statuses[{i}]", f"{status} is not a booking status: {', '.join(s.name for s in BookingStatus)}")
        v.check(len(set(statuses)) == len(statuses), "statuses", "must not repeat a status")
        where = BookingFilter(
            service_ids=tuple(sorted(service_ids)),
            schedule_ids=tuple(sorted(schedule_ids)),
            event_ids=tuple(sorted(event_ids)),
            statuses=tuple(sorted(parsed)),
            staff_member_ids=tuple(sorted(i.lower() for i in staff_member_ids)),
        )
        # The cursor is bound to the tenant and the filters; the page size may change between pages.
        fingerprint = query_fingerprint(
            "bookings.v2.QueryBookings",
            tenant,
            where.service_ids,
            where.schedule_ids,
            where.event_ids,
            [s.name for s in where.statuses],
            *([where.staff_member_ids] if where.staff_member_ids else []),  # older cursors stay valid
        )
        page = self._cursors.add_page(v, limit, cursor, None if v else fingerprint)
        v.raise_if_any()
        assert page is not None
        after = SortKey(*parse_instant_key(page.after)) if page.after is not None else None
        async with self._store.read(tenant) as session:
            rows = await session.query_bookings(where, after, page.limit + 1)
        return BookingPage(*self._cursors.paginate(rows, page, fingerprint, _key))

    # --- changes ---------------------------------------------------------------------------------

    async def confirm(self, tenant: str, booking_id: str, revision: int) -> Booking:
        return await self._transition(tenant, booking_id, revision, Action.CONFIRM)

    async def decline(self, tenant: str, booking_id: str, revision: int) -> Booking:
        return await self._transition(tenant, booking_id, revision, Action.DECLINE)

    async def cancel(self, tenant: str, booking_id: str, revision: int) -> Booking:
        return await self._transition(tenant, booking_id, revision, Action.CANCEL)

    async def _transition(self, tenant: str, booking_id: str, revision: int, action: Action) -> Booking:
        validate_change(booking_id, revision).raise_if_any()
        current = await self._current(tenant, booking_id, revision)
        changed = transition(current, action)
        if action is Action.CANCEL:
            await self._require_cancellable(tenant, current)
        stored = await self._store_change(tenant, current, changed, revision, _CHANGES[action])
        if stored.appointment is not None and not stored.status.holds_time:
            await self._appointments.release(stored)
        return stored

    async def update_number_of_participants(self, tenant: str, booking_id: str, revision: int, number_of_participants: int) -> Booking:
        v = validate_change(booking_id, revision)
        v.int_range("number_of_participants", number_of_participants, 1, MAX_PARTICIPANTS_PER_BOOKING)
        v.raise_if_any()
        current = await self._current(tenant, booking_id, revision)
        changed = with_participants(current, number_of_participants)
        if changed == current:
            return current  # nothing changes: no new revision, no event
        added = number_of_participants - current.number_of_participants
        capacity = None
        if added > 0:
            service = await self._service(tenant, current.service_id)
            require_max_participants(number_of_participants, service.booking_policy.max_participants_per_booking)
            if current.appointment is None:
                capacity = await self._validate(service, current, added)
        return await self._store_change(tenant, current, changed, revision, Change.NUMBER_OF_PARTICIPANTS_UPDATED, capacity=capacity)

    async def _store_change(self, tenant: str, current: Booking, changed: Booking, revision: int, change: Change, *, capacity: int | None = None) -> Booking:
        """One transaction: the changed booking at `revision + 1` and its announcement. With a
        `capacity` (a party size increase on a strict-capacity service) the new size must fit next
        to the entity's other active bookings, checked under the entity's lock as on a create."""
        async with self._store.write(tenant) as session:
            if capacity is not None:
                await session.lock_entity(changed)
                await _require_room(session, changed, capacity)
            stored = await session.update_booking(changed, revision)
            await session.announce_booking(change, stored, current.number_of_participants)
        return stored

    async def _current(self, tenant: str, booking_id: str, revision: int) -> Booking:
        async with self._store.read(tenant) as session:
            current = await session.booking(booking_id)
        if current is None:
            raise NotFound(RESOURCE, booking_id)
        if current.revision != revision:
            # Checked before the rules: the change was decided on another version. The store
            # checks again atomically (UPDATE ... WHERE revision = n).
            raise RevisionMismatch(RESOURCE, booking_id, revision, current.revision)
        return current

    async def _require_cancellable(self, tenant: str, booking: Booking) -> None:
        async with self._store.read(tenant) as session:
            service = await session.service(booking.service_id)
        if service is None or not service.booking_policy.cancellation_policy.enabled:
            return
        reference = await self._reference_time(service, booking)
        require_cancellable_now(self._clock(), service.booking_policy.cancellation_policy, reference)

    async def _reference_time(self, service: Service, booking: Booking) -> datetime | None:
        """A course's cancellation window is measured from its first session, a class's from its
        event (docs/booking-policies.md "Cancellation window"). None (no limit) for a cancelled or
        vanished class event."""
        if booking.appointment is not None:
            return booking.appointment.start
        if service.type is ServiceType.COURSE and booking.schedule_id is not None:
            return await self._calendar.first_session_start(booking.schedule_id)
        if booking.event_id is not None:
            event = await self._calendar.event(booking.event_id)
            return None if event is None or event.cancelled else event.start
        return None

    async def _service(self, tenant: str, service_id: str) -> Service:
        async with self._store.read(tenant) as session:
            service = await session.service(service_id)
        if service is None:
            raise NotFound("service", service_id)
        return service


def _require_bookable(answer: AvailabilityAnswer, *, strict_capacity: bool) -> None:
    if answer.bookable or (strict_capacity and answer.refusal_reason == CAPACITY_EXCEEDED):
        return
    if not answer.refusal_reason:
        # The contract gives every not-bookable answer a reason; one without is a bug there.
        raise RuntimeError("availability answered not bookable without a refusal_reason")
    raise refusal(answer.refusal_reason, open_spots=answer.open_spots, total_spots=answer.total_spots)


async def _require_room(session: BookingsSession, booking: Booking, capacity: int) -> None:
    """Under the entity's lock: the strict capacity refusal unless `booking`, at its size, fits next
    to the entity's other active bookings (counted in this statement's snapshot, which includes
    every earlier lock holder's commit)."""
    held = await session.participants_held(booking)
    refused = capacity_refusal(held=held, requested=booking.number_of_participants, capacity=capacity)
    if refused is not None:
        raise refused


def _replay(stored: Booking, request: Booking) -> Booking:
    assert request.request_fingerprint is not None  # a booking with an idempotency key has one
    return replay(stored, request.request_fingerprint)


def _key(booking: Booking) -> list[object]:
    assert booking.created_at is not None  # read back from the database
    return instant_key(booking.created_at, booking.id)
