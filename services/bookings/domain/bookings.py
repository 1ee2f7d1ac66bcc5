"""Bookings: the entity, the validation of a new booking, and the rules of its life cycle. Pure:
no I/O, no grpc, no clock reads (`now` is a parameter).

A booking is for a whole COURSE (`schedule_id`, the course's schedule), for one session of a
CLASS (`event_id`), or for a staff member's time (an APPOINTMENT: `appointment`, docs/appointments.md
"Booking an appointment"). Whether it may be made is not decided here: capacity and the booking policies
are availability's one rule set (docs/booking-policies.md "One rule set for display and
validation"), asked through `bookings.availability.v1.AvailabilityCalendar` by the application
layer. What is decided here is everything that does not need another service: field validation,
which entity fits which service type, the status transitions, the cancellation window and
idempotency-key replays, and the strict capacity rule (`capacity_refusal`), which a
strict-capacity service's writes apply to the participants counted in their own transaction
instead of availability's eventual capacity.

Status transitions (every one bumps `revision` and is announced on `bookings.booking-events.v1`):

    CreateBooking        -> PENDING (service requires manual approval) | CONFIRMED
    ConfirmBooking       PENDING -> CONFIRMED                 else BOOKING_NOT_PENDING
    DeclineBooking       PENDING -> DECLINED                  else BOOKING_NOT_PENDING
    CancelBooking        PENDING | CONFIRMED -> CANCELED      else BOOKING_NOT_ACTIVE
                         (and not after the cancellation deadline: TOO_LATE_TO_CANCEL)
    UpdateNumberOf...    PENDING | CONFIRMED, same status     else BOOKING_NOT_ACTIVE

DECLINED and CANCELED are final.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.bookings.domain.policies import MAX_PARTICIPANTS_PER_BOOKING, CancellationPolicy
from services.bookings.domain.services import Service, ServiceType
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.validation import Violations, WireTimestamp, checked_instant

RESOURCE = "booking"
MAX_CONTACT_NAME_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 100

# FAILED_PRECONDITION reasons decided by bookings itself (availability's are in `REFUSAL_MESSAGES`).
BOOKING_NOT_PENDING = "BOOKING_NOT_PENDING"
BOOKING_NOT_ACTIVE = "BOOKING_NOT_ACTIVE"
TOO_LATE_TO_CANCEL = "TOO_LATE_TO_CANCEL"
# ALREADY_EXISTS reason: the appointment's time is taken (by a booking, a time off, a holiday).
SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
MAX_PARTICIPANTS_EXCEEDED = "MAX_PARTICIPANTS_EXCEEDED"
CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"  # availability's, and the strict capacity rule's

# The refusal reasons of the AvailabilityCalendar contract (availability_calendar.proto,
# `refusal_reason`), which CreateBooking reports as its own FAILED_PRECONDITION reason. The codes
# are the contract; the messages are what a person reads next to them.
REFUSAL_MESSAGES = {
    "EVENT_CANCELLED": "the event is cancelled",
    "BOOK_ONLINE_DISABLED": "the service cannot be booked online",
    "TOO_EARLY_TO_BOOK": "booking is not open yet",
    "TOO_LATE_TO_BOOK": "booking has closed",
    MAX_PARTICIPANTS_EXCEEDED: "more participants than the service allows in one booking",
    CAPACITY_EXCEEDED: "not enough open spots",
}


class BookingStatus(enum.IntEnum):
    """The wire numbers of bookings.v2.BookingStatus; the database stores the names."""

    PENDING = 1  # awaits the business's approval; holds its spots like a confirmed booking
    CONFIRMED = 2
    DECLINED = 3
    CANCELED = 4
    COMPLETED = 5  # an appointment that took place
    NO_SHOW = 6  # an appointment whose client did not come

    @property
    def holds_time(self) -> bool:
        """An appointment in this status keeps its staff member's time: every status but the
        canceled and declined ones (a past appointment's time stays as it was used)."""
        return self not in (BookingStatus.CANCELED, BookingStatus.DECLINED)

    @property
    def active(self) -> bool:
        """Holds spots: every booking but the canceled and declined ones counts (docs/pipeline.md
        "Which bookings hold capacity")."""
        return self in (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class Change(enum.StrEnum):
    """What a write did: names the `bookings.booking-events.v1` message it publishes."""

    CREATED = "created"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELED = "canceled"
    NUMBER_OF_PARTICIPANTS_UPDATED = "number_of_participants_updated"


class EntityKind(enum.StrEnum):
    """What is booked: `slot` (one CLASS event), `schedule` (a whole COURSE) or `appointment` (a
    staff member's time; on the wire a `slot` with start_date, end_date and staff_member_id)."""

    SLOT = "slot"
    SCHEDULE = "schedule"
    APPOINTMENT = "appointment"


@dataclass(frozen=True)
class AppointmentTime:
    """An appointment's time with its staff member, and the time it occupies: [start − buffer
    before, end + buffer after) with the service's buffers as they were when it was booked (later
    changes of the service do not move existing appointments)."""

    staff_member_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class BookingDraft:
    """CreateBooking as received, not yet validated. `entity_kind` is "" when the oneof is unset."""

    service_id: str = ""
    entity_kind: str = ""
    entity_id: str = ""
    number_of_participants: int = 0
    contact: Contact = Contact("", "")
    idempotency_key: str = ""
    # An APPOINTMENT's slot (entity_kind "appointment"): its instants and, optionally, the staff
    # member (empty: any available one).
    start: WireTimestamp | None = None
    end: WireTimestamp | None = None
    staff_member_id: str = ""


@dataclass(frozen=True)
class Booking:
    id: str
    service_id: str
    entity_kind: EntityKind
    entity_id: str  # the schedule id (COURSE) or the event id (CLASS)
    number_of_participants: int
    contact: Contact
    status: BookingStatus
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    idempotency_key: str | None = None
    # Digest of the creating request (`request_fingerprint`), kept with the key to tell a replay
    # of the same request from a reuse of the key for another one.
    request_fingerprint: str | None = None
    appointment: AppointmentTime | None = None  # set exactly for APPOINTMENT bookings

    @property
    def schedule_id(self) -> str | None:
        return self.entity_id if self.entity_kind is EntityKind.SCHEDULE else None

    @property
    def event_id(self) -> str | None:
        return self.entity_id if self.entity_kind is EntityKind.SLOT else None


# --- creating ----------------------------------------------------------------------------------------


def validate_draft(draft: BookingDraft) -> None:
    """InvalidArgument naming every bad field of a CreateBooking request (proto paths)."""
    v = Violations()
    v.id("booking.service_id", draft.service_id)
    if draft.entity_kind == EntityKind.SLOT:
        v.id("booking.booked_entity.slot.event_id", draft.entity_id)
    elif draft.entity_kind == EntityKind.SCHEDULE:
        v.id("booking.booked_entity.schedule.schedule_id", draft.entity_id)
    elif draft.entity_kind == EntityKind.APPOINTMENT:
        appointment_span(v, draft)
        v.check(not draft.entity_id, "booking.booked_entity.slot.event_id", "must be empty for an appointment (start_date and end_date name its time)")
        v.id("booking.booked_entity.slot.staff_member_id", draft.staff_member_id, required=False)
    else:
        v.add(
            "booking.booked_entity",
            "is required: slot.event_id for a CLASS, slot.start_date and slot.end_date for an APPOINTMENT, schedule.schedule_id for a COURSE",
        )
    v.int_range("booking.number_of_participants", draft.number_of_participants, 1, MAX_PARTICIPANTS_PER_BOOKING)
    v.text("booking.contact.name", draft.contact.name, max_len=MAX_CONTACT_NAME_LENGTH)
    v.email("booking.contact.email", draft.contact.email)
    v.text("idempotency_key", draft.idempotency_key, max_len=MAX_IDEMPOTENCY_KEY_LENGTH, required=False)
    v.raise_if_any()


def appointment_span(v: Violations, draft: BookingDraft) -> tuple[datetime, datetime] | None:
    """An appointment's start and end instants, or None with every bad one named in `v`."""
    start = checked_instant(v, "booking.booked_entity.slot.start_date", draft.start, required=True)
    end = checked_instant(v, "booking.booked_entity.slot.end_date", draft.end, required=True)
    if start is None or end is None:
        return None
    if not v.check(end > start, "booking.booked_entity.slot.end_date", "must be after start_date"):
        return None
    return start, end


def request_fingerprint(draft: BookingDraft) -> str:
    """A digest of everything the caller asked for (the key itself aside). Two requests with the
    same key are the same request exactly when their fingerprints are equal."""
    fields: list[object] = [draft.service_id, draft.entity_kind, draft.entity_id, draft.number_of_participants, draft.contact.name, draft.contact.email]
    if draft.entity_kind == EntityKind.APPOINTMENT:
        # Only appointments add their fields, so the fingerprints of stored class and course
        # bookings stay what they were.
        fields += [_wire(draft.start), _wire(draft.end), draft.staff_member_id]
    canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(existing: Booking, fingerprint: str) -> Booking:
    """The booking an idempotency key already created, if `fingerprint` is the request that
    created it; InvalidArgument (`idempotency_key`) when the key is reused for another request.

    The booking is returned as it is now (it may have been confirmed or canceled since): the key
    names the booking, not a snapshot of the first answer.
    """
    if existing.request_fingerprint != fingerprint:
        raise InvalidArgument.single(
            "idempotency_key", "was already used for a different booking request; use a new key for a new booking, or repeat the original request exactly"
        )
    return existing


def _wire(value: WireTimestamp | None) -> list[int] | None:
    return None if value is None else [value.seconds, value.nanos]


def new_booking(draft: BookingDraft, booking_id: str, service: Service) -> Booking:
    """The booking a valid draft makes on `service`, PENDING or CONFIRMED by the service's manual
    approval. The entity must fit the service: a COURSE is booked whole (its own schedule), a
    CLASS by one event (that the event is one of the service's is checked by the caller, which
    reads the event), an APPOINTMENT by its time (`with_staff_member` then names whose)."""
    if service.type is ServiceType.APPOINTMENT:
        if draft.entity_kind != EntityKind.APPOINTMENT:
            raise InvalidArgument.single("booking.booked_entity", "an APPOINTMENT is booked by its time: set slot.start_date and slot.end_date")
    elif draft.entity_kind == EntityKind.APPOINTMENT:
        raise InvalidArgument.single(
            "booking.booked_entity.slot", f"start_date and end_date book an APPOINTMENT; service {service.id} is a {service.type.name}"
        )
    elif service.type is ServiceType.COURSE:
        if draft.entity_kind != EntityKind.SCHEDULE:
            raise InvalidArgument.single("booking.booked_entity", "a COURSE is booked whole: set schedule.schedule_id to the course's schedule")
        if draft.entity_id != service.schedule_id:
            raise InvalidArgument.single("booking.booked_entity.schedule.schedule_id", f"is not the schedule of service {service.id} ({service.schedule_id})")
    elif draft.entity_kind != EntityKind.SLOT:
        raise InvalidArgument.single("booking.booked_entity", "a CLASS is booked by session: set slot.event_id to one of its events")
    key = draft.idempotency_key or None
    return Booking(
        id=booking_id,
        service_id=service.id,
        entity_kind=EntityKind(draft.entity_kind),
        entity_id=draft.entity_id if draft.entity_kind != EntityKind.APPOINTMENT else "",
        number_of_participants=draft.number_of_participants,
        contact=draft.contact,
        status=BookingStatus.PENDING if service.requires_manual_approval else BookingStatus.CONFIRMED,
        idempotency_key=key,
        request_fingerprint=request_fingerprint(draft) if key else None,
    )


def with_staff_member(booking: Booking, staff_member_id: str, start: datetime, end: datetime, buffer_before: timedelta, buffer_after: timedelta) -> Booking:
    """The appointment booking with its staff member and the time it occupies."""
    time = AppointmentTime(staff_member_id, start, end, start - buffer_before, end + buffer_after)
    return replace(booking, entity_id=staff_member_id, appointment=time)


def round_robin(free: Sequence[str], appointments_that_day: Mapping[str, int]) -> list[str]:
    """The order in which the free staff members are offered an appointment booked without one
    named: fewest appointments on the appointment's local day first, then a stable order (the id),
    so the work is shared and ties always break the same way."""
    return sorted(free, key=lambda staff: (appointments_that_day.get(staff, 0), staff))


@dataclass(frozen=True)
class AppointmentSlotAnswer:
    """Availability's word on one appointment slot (bookings.availability.v2 AvailabilityTimeSlot):
    the staff members free for it (of those asked about), the booking policies it violates now,
    and why the others are not free."""

    available_staff_member_ids: tuple[str, ...]
    too_early: bool = False
    too_late: bool = False
    online_disabled: bool = False
    booked: bool = False
    time_off: bool = False
    holiday: bool = False
    calendar_conflict: bool = False


def appointment_refusal(answer: AppointmentSlotAnswer, start: datetime, end: datetime) -> FailedPrecondition | AlreadyExists | None:
    """Why the slot cannot be booked now, or None. A booking policy refuses first, as for classes
    and courses (FAILED_PRECONDITION with the same reasons); a slot nobody is free for is taken
    (ALREADY_EXISTS SLOT_UNAVAILABLE), whatever holds it."""
    for violated, reason in (
        (answer.online_disabled, "BOOK_ONLINE_DISABLED"),
        (answer.too_late, "TOO_LATE_TO_BOOK"),
        (answer.too_early, "TOO_EARLY_TO_BOOK"),
    ):
        if violated:
            return FailedPrecondition(reason, REFUSAL_MESSAGES[reason])
    if answer.available_staff_member_ids:
        return None
    why = [
        name
        for name, held in (
            ("booked", answer.booked),
            ("time_off", answer.time_off),
            ("holiday", answer.holiday),
            ("calendar_conflict", answer.calendar_conflict),
        )
        if held
    ]
    return slot_unavailable(start, end, "the slot is not available: no staff member is free for it", why)


def slot_unavailable(
    start: datetime, end: datetime, message: str = "the slot was just taken: no staff member is free for it any more", why: Sequence[str] = ()
) -> AlreadyExists:
    """ALREADY_EXISTS SLOT_UNAVAILABLE: another booking, a time off or a holiday holds the time
    (also when it was taken between availability's answer and the hold, by a concurrent booking
    or time off)."""
    metadata = {"start_date": start.isoformat(), "end_date": end.isoformat()} | ({"reasons": ",".join(why)} if why else {})
    return AlreadyExists("appointment slot", f"{start.isoformat()}/{end.isoformat()}", reason=SLOT_UNAVAILABLE, metadata=metadata, message=message)


def refusal(reason: str, *, open_spots: int, total_spots: int) -> FailedPrecondition:
    """The FAILED_PRECONDITION of an availability refusal, its reason the contract's code."""
    message = REFUSAL_MESSAGES.get(reason, "the booking is not possible now")
    return FailedPrecondition(reason, message, {"open_spots": str(open_spots), "total_spots": str(total_spots)})


def capacity_refusal(*, held: int, requested: int, capacity: int) -> FailedPrecondition | None:
    """Strict capacity: `requested` more participants fit on an entity whose PENDING and CONFIRMED
    bookings hold `held` of its `capacity` spots, or the refusal CreateBooking reports for
    availability's capacity (CAPACITY_EXCEEDED with the open and total spots). `held` may already
    exceed the capacity (bookings made before the service became strict, or a capacity lowered
    since): then nothing more fits, and the open spots are 0."""
    if held + requested <= capacity:
        return None
    return refusal(CAPACITY_EXCEEDED, open_spots=max(0, capacity - held), total_spots=capacity)


# --- changing ----------------------------------------------------------------------------------------


def validate_change(booking_id: str, revision: int) -> Violations:
    """The fields every change RPC has; the caller adds its own and raises."""
    v = Violations()
    v.id("booking_id", booking_id)
    v.check(revision >= 1, "revision", "is required: the revision of the booking the change is based on")
    return v


def validate_number_of_participants(value: int) -> None:
    v = Violations()
    v.int_range("number_of_participants", value, 1, MAX_PARTICIPANTS_PER_BOOKING)
    v.raise_if_any()


class Action(enum.StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"
    CANCEL = "cancel"
    UPDATE_PARTICIPANTS = "update the number of participants of"


# Which statuses each action accepts, and the reason it refuses the others with.
TRANSITIONS: dict[Action, tuple[frozenset[BookingStatus], str]] = {
    Action.CONFIRM: (frozenset({BookingStatus.PENDING}), BOOKING_NOT_PENDING),
    Action.DECLINE: (frozenset({BookingStatus.PENDING}), BOOKING_NOT_PENDING),
    Action.CANCEL: (frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED}), BOOKING_NOT_ACTIVE),
    Action.UPDATE_PARTICIPANTS: (frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED}), BOOKING_NOT_ACTIVE),
}
_TARGET = {Action.CONFIRM: BookingStatus.CONFIRMED, Action.DECLINE: BookingStatus.DECLINED, Action.CANCEL: BookingStatus.CANCELED}


def require_status(booking: Booking, action: Action) -> None:
    allowed, reason = TRANSITIONS[action]
    if booking.status not in allowed:
        names = " or ".join(sorted(s.name for s in allowed))
        raise FailedPrecondition(
            reason,
            f"cannot {action.value} booking {booking.id}: it is {booking.status.name}, not {names}",
            {"status": booking.status.name},
        )


def transition(booking: Booking, action: Action) -> Booking:
    """The booking after CONFIRM, DECLINE or CANCEL (the revision is the repository's to bump)."""
    require_status(booking, action)
    return replace(booking, status=_TARGET[action])


def with_participants(booking: Booking, number_of_participants: int) -> Booking:
    require_status(booking, Action.UPDATE_PARTICIPANTS)
    validate_number_of_participants(number_of_participants)
    return replace(booking, number_of_participants=number_of_participants)


def require_max_participants(number_of_participants: int, max_participants_per_booking: int) -> None:
    """A party size increase is checked against the service's limit here, for the new size (the
    capacity check of the increase asks availability for the added participants only)."""
    if number_of_participants > max_participants_per_booking:
        raise FailedPrecondition(
            MAX_PARTICIPANTS_EXCEEDED,
            f"{number_of_participants} participants is more than the service allows in one booking ({max_participants_per_booking})",
            {"max_participants_per_booking": str(max_participants_per_booking)},
        )


def cancellation_deadline(policy: CancellationPolicy, reference: datetime | None) -> datetime | None:
    """The last instant a booking can be canceled: the reference time (a course's first session
    start, a class's event start) minus `latest_cancellation_in_minutes`; None when the policy is
    disabled or there is no reference (no session at all)."""
    if not policy.enabled or reference is None:
        return None
    return reference - timedelta(minutes=policy.latest_cancellation_in_minutes)


def too_late_to_cancel(now: datetime, policy: CancellationPolicy, reference: datetime | None) -> bool:
    """Strict, like the booking limits: at exactly the deadline cancelling is still allowed."""
    deadline = cancellation_deadline(policy, reference)
    return deadline is not None and now > deadline


def require_cancellable_now(now: datetime, policy: CancellationPolicy, reference: datetime | None) -> None:
    if too_late_to_cancel(now, policy, reference):
        deadline = cancellation_deadline(policy, reference)
        assert deadline is not None
        raise FailedPrecondition(
            TOO_LATE_TO_CANCEL,
            f"cancellation closed {policy.latest_cancellation_in_minutes} minutes before the start, at {deadline.isoformat()}",
            {"latest_cancellation_date": deadline.isoformat()},
        )
