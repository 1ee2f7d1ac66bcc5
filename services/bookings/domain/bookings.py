"""Bookings: the entity, the validation of a new booking, and the rules of its life cycle. Pure:
no I/O, no grpc, no clock reads (`now` is a parameter).

A booking is for a whole COURSE (`schedule_id`, the course's schedule) or for one session of a
CLASS (`event_id`). Whether it may be made is not decided here: capacity and the booking policies
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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.bookings.domain.policies import MAX_PARTICIPANTS_PER_BOOKING, CancellationPolicy
from services.bookings.domain.services import Service, ServiceType
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.validation import Violations

RESOURCE = "booking"
MAX_CONTACT_NAME_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 100

# FAILED_PRECONDITION reasons decided by bookings itself (availability's are in `REFUSAL_MESSAGES`).
BOOKING_NOT_PENDING = "BOOKING_NOT_PENDING"
BOOKING_NOT_ACTIVE = "BOOKING_NOT_ACTIVE"
TOO_LATE_TO_CANCEL = "TOO_LATE_TO_CANCEL"
SERVICE_TYPE_NOT_SUPPORTED = "SERVICE_TYPE_NOT_SUPPORTED"
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
    """The `booked_entity` oneof: `slot` (one CLASS event) or `schedule` (a whole COURSE)."""

    SLOT = "slot"
    SCHEDULE = "schedule"


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
    else:
        v.add("booking.booked_entity", "is required: slot.event_id for a CLASS, schedule.schedule_id for a COURSE")
    v.int_range("booking.number_of_participants", draft.number_of_participants, 1, MAX_PARTICIPANTS_PER_BOOKING)
    v.text("booking.contact.name", draft.contact.name, max_len=MAX_CONTACT_NAME_LENGTH)
    v.email("booking.contact.email", draft.contact.email)
    v.text("idempotency_key", draft.idempotency_key, max_len=MAX_IDEMPOTENCY_KEY_LENGTH, required=False)
    v.raise_if_any()


def request_fingerprint(draft: BookingDraft) -> str:
    """A digest of everything the caller asked for (the key itself aside). Two requests with the
    same key are the same request exactly when their fingerprints are equal."""
    canonical = json.dumps(
        [draft.service_id, draft.entity_kind, draft.entity_id, draft.number_of_participants, draft.contact.name, draft.contact.email],
        separators=(",", ":"),
        ensure_ascii=False,
    )
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


def new_booking(draft: BookingDraft, booking_id: str, service: Service) -> Booking:
    """The booking a valid draft makes on `service`, PENDING or CONFIRMED by the service's manual
    approval. The entity must fit the service: a COURSE is booked whole (its own schedule), a
    CLASS by one event (that the event is one of the service's is checked by the caller, which
    reads the event). APPOINTMENT bookings are not supported: FAILED_PRECONDITION
    SERVICE_TYPE_NOT_SUPPORTED (the request is well formed, the service is of the wrong kind)."""
    if service.type is ServiceType.APPOINTMENT:
        raise FailedPrecondition(
            SERVICE_TYPE_NOT_SUPPORTED,
            f"service {service.id} is an APPOINTMENT; only COURSE and CLASS services can be booked",
            {"service_type": service.type.name},
        )
    if service.type is ServiceType.COURSE:
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
        entity_id=draft.entity_id,
        number_of_participants=draft.number_of_participants,
        contact=draft.contact,
        status=BookingStatus.PENDING if service.requires_manual_approval else BookingStatus.CONFIRMED,
        idempotency_key=key,
        request_fingerprint=request_fingerprint(draft) if key else None,
    )


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
