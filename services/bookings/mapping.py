"""Domain <-> protobuf mapping of the catalog, of staff members and of bookings, one place for both
of their users: the gRPC entrypoints (requests and responses) and the outbox (the
`catalog.service-events.v1` messages carry the same `bookings.catalog.v1.Service` the API returns,
the `bookings.staff-events.v1` messages the same `bookings.staff.v1.StaffMember`, the
`bookings.booking-events.v1` messages the same `bookings.v2.Booking`)."""

from __future__ import annotations

from google.protobuf.message import Message

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.bookings.staff.v1 import staff_members_pb2
from services.api.bookings.v2 import bookings_pb2
from services.bookings.application.ports import OccupiedTime
from services.bookings.domain.bookings import Booking, BookingDraft, Change, Contact, EntityKind
from services.bookings.domain.policies import (
    BookAfterStart,
    BookingPolicy,
    CancellationPolicy,
    LimitEarlyBooking,
    LimitLateBooking,
    ParticipantsPolicy,
)
from services.bookings.domain.services import AppointmentSettings, Service, ServiceChange, ServiceDraft
from services.bookings.domain.staff import StaffMember, StaffMemberChange, StaffMemberDraft
from services.common import topics
from services.common.outbox import OutboxMessage
from services.common.timestamps import set_timestamp
from services.common.validation import WireTimestamp

_SERVICE_EVENTS = {ServiceChange.CREATED: topics.SERVICE_CREATED, ServiceChange.UPDATED: topics.SERVICE_UPDATED, ServiceChange.DELETED: topics.SERVICE_DELETED}


def service_event(tenant_id: str, change: ServiceChange, service: Service) -> OutboxMessage:
    """The integration event of a catalog write: the whole service as of the change, keyed by its id."""
    message_type = _SERVICE_EVENTS[change]
    return OutboxMessage.of(tenant_id, topics.SERVICE_EVENTS, message_type, service.id, message_type.message(service=service_to_proto(service)))


def draft_from_proto(msg: services_pb2.Service) -> ServiceDraft:
    """The caller-settable fields; output-only ones (id, schedule_id, revision, dates) are dropped."""
    return ServiceDraft(
        type=int(msg.type),
        name=msg.name,
        default_capacity=msg.default_capacity,
        time_zone=msg.time_zone,
        online_booking_enabled=msg.online_booking_enabled,
        requires_manual_approval=msg.requires_manual_approval,
        booking_policy=policy_from_proto(msg.booking_policy),
        strict_capacity=msg.strict_capacity,
        appointment=appointment_from_proto(msg.appointment) if msg.HasField("appointment") else None,
        staff_member_ids=tuple(msg.staff_member_ids),
    )


def appointment_from_proto(msg: services_pb2.AppointmentSettings) -> AppointmentSettings:
    return AppointmentSettings(
        duration_minutes=msg.duration_minutes,
        buffer_before_minutes=msg.buffer_before_minutes,
        buffer_after_minutes=msg.buffer_after_minutes,
        slot_interval_minutes=msg.slot_interval_minutes,
    )


def policy_from_proto(msg: booking_policy_pb2.BookingPolicy) -> BookingPolicy:
    """An absent sub-policy reads as its zero value, which is exactly its meaning in the contract:
    disabled (and a max party size of 0, the default)."""
    early, late = msg.limit_early_booking, msg.limit_late_booking
    cancellation = msg.cancellation_policy
    return BookingPolicy(
        limit_early_booking=LimitEarlyBooking(early.enabled, early.earliest_booking_in_minutes),
        limit_late_booking=LimitLateBooking(late.enabled, late.latest_booking_in_minutes),
        book_after_start_policy=BookAfterStart(msg.book_after_start_policy.enabled),
        participants_policy=ParticipantsPolicy(msg.participants_policy.max_participants_per_booking),
        cancellation_policy=CancellationPolicy(cancellation.enabled, cancellation.latest_cancellation_in_minutes),
    )


def policy_to_proto(policy: BookingPolicy) -> booking_policy_pb2.BookingPolicy:
    """Every sub-policy is sent, disabled ones included, so a consumer never has to guess defaults."""
    return booking_policy_pb2.BookingPolicy(
        limit_early_booking=booking_policy_pb2.LimitEarlyBookingPolicy(
            enabled=policy.limit_early_booking.enabled,
            earliest_booking_in_minutes=policy.limit_early_booking.earliest_booking_in_minutes,
        ),
        limit_late_booking=booking_policy_pb2.LimitLateBookingPolicy(
            enabled=policy.limit_late_booking.enabled,
            latest_booking_in_minutes=policy.limit_late_booking.latest_booking_in_minutes,
        ),
        book_after_start_policy=booking_policy_pb2.BookAfterStartPolicy(enabled=policy.book_after_start_policy.enabled),
        participants_policy=booking_policy_pb2.ParticipantsPolicy(max_participants_per_booking=policy.max_participants_per_booking),
        cancellation_policy=booking_policy_pb2.CancellationPolicy(
            enabled=policy.cancellation_policy.enabled,
            latest_cancellation_in_minutes=policy.cancellation_policy.latest_cancellation_in_minutes,
        ),
    )


def service_to_proto(service: Service) -> services_pb2.Service:
    msg = services_pb2.Service(
        id=service.id,
        type=int(service.type),  # type: ignore[arg-type]
        name=service.name,
        schedule_id=service.schedule_id or "",
        default_capacity=service.default_capacity,
        time_zone=service.time_zone,
        online_booking_enabled=service.online_booking_enabled,
        booking_policy=policy_to_proto(service.booking_policy),
        revision=service.revision,
        requires_manual_approval=service.requires_manual_approval,
        strict_capacity=service.strict_capacity,
        staff_member_ids=service.staff_member_ids,
    )
    if service.appointment is not None:
        settings = service.appointment
        msg.appointment.CopyFrom(
            services_pb2.AppointmentSettings(
                duration_minutes=settings.duration_minutes,
                buffer_before_minutes=settings.buffer_before_minutes,
                buffer_after_minutes=settings.buffer_after_minutes,
                slot_interval_minutes=settings.slot_interval_minutes,
            )
        )
    if service.created_at is not None:
        set_timestamp(msg.created_date, service.created_at)
    if service.updated_at is not None:
        set_timestamp(msg.updated_date, service.updated_at)
    return msg


# --- staff members -------------------------------------------------------------------------------

_STAFF_EVENTS = {
    StaffMemberChange.CREATED: topics.STAFF_MEMBER_CREATED,
    StaffMemberChange.UPDATED: topics.STAFF_MEMBER_UPDATED,
    StaffMemberChange.DELETED: topics.STAFF_MEMBER_DELETED,
}


def staff_member_event(tenant_id: str, change: StaffMemberChange, staff_member: StaffMember) -> OutboxMessage:
    """The integration event of a staff write: the whole staff member as of the change, keyed by its id."""
    message_type = _STAFF_EVENTS[change]
    message = message_type.message(staff_member=staff_member_to_proto(staff_member))
    return OutboxMessage.of(tenant_id, topics.STAFF_EVENTS, message_type, staff_member.id, message)


def staff_member_draft_from_proto(msg: staff_members_pb2.StaffMember) -> StaffMemberDraft:
    """The caller-settable fields; output-only ones (id, schedule_id, revision, dates) are dropped."""
    return StaffMemberDraft(name=msg.name, email=msg.email, time_zone=msg.time_zone, service_ids=tuple(msg.service_ids))


def staff_member_to_proto(staff_member: StaffMember) -> staff_members_pb2.StaffMember:
    msg = staff_members_pb2.StaffMember(
        id=staff_member.id,
        name=staff_member.name,
        email=staff_member.email,
        time_zone=staff_member.time_zone,
        schedule_id=staff_member.schedule_id,
        service_ids=staff_member.service_ids,
        revision=staff_member.revision,
    )
    if staff_member.created_at is not None:
        set_timestamp(msg.created_date, staff_member.created_at)
    if staff_member.updated_at is not None:
        set_timestamp(msg.updated_date, staff_member.updated_at)
    return msg


# --- bookings ------------------------------------------------------------------------------------

_BOOKING_EVENTS = {
    Change.CREATED: topics.BOOKING_CREATED,
    Change.CONFIRMED: topics.BOOKING_CONFIRMED,
    Change.DECLINED: topics.BOOKING_DECLINED,
    Change.CANCELED: topics.BOOKING_CANCELED,
    Change.NUMBER_OF_PARTICIPANTS_UPDATED: topics.BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED,
}


def booking_event(tenant_id: str, change: Change, booking: Booking, previous_participants: int = 0) -> OutboxMessage:
    """The integration event of a booking write: the whole booking as of the change, keyed by its
    id (so one booking's events stay in order on one partition)."""
    message_type = _BOOKING_EVENTS[change]
    message = message_type.message(booking=booking_to_proto(booking))
    if change is Change.NUMBER_OF_PARTICIPANTS_UPDATED:
        message.previous_number_of_participants = previous_participants  # type: ignore[attr-defined]
    return OutboxMessage.of(tenant_id, topics.BOOKING_EVENTS, message_type, booking.id, message)


def booking_draft_from_proto(request: bookings_pb2.CreateBookingRequest) -> BookingDraft:
    """The caller-settable fields; output-only ones (id, status, revision, dates) are dropped."""
    msg = request.booking
    kind = msg.booked_entity.WhichOneof("item") or ""
    slot = msg.booked_entity.slot
    start = end = None
    if kind == "slot" and (slot.HasField("start_date") or slot.HasField("end_date") or slot.staff_member_id):
        # An appointment's time; an event_id beside it is reported by the validation.
        entity_kind, entity_id = EntityKind.APPOINTMENT.value, slot.event_id
        start, end = wire_timestamp(slot, "start_date"), wire_timestamp(slot, "end_date")
    elif kind == "slot":
        entity_kind, entity_id = EntityKind.SLOT.value, slot.event_id
    elif kind == "schedule":
        entity_kind, entity_id = EntityKind.SCHEDULE.value, msg.booked_entity.schedule.schedule_id
    else:
        entity_kind, entity_id = "", ""
    return BookingDraft(
        service_id=msg.service_id,
        entity_kind=entity_kind,
        entity_id=entity_id,
        number_of_participants=msg.number_of_participants,
        contact=Contact(msg.contact.name, msg.contact.email),
        idempotency_key=request.idempotency_key,
        start=start,
        end=end,
        staff_member_id=slot.staff_member_id if entity_kind == EntityKind.APPOINTMENT.value else "",
    )


def booking_to_proto(booking: Booking) -> bookings_pb2.Booking:
    msg = bookings_pb2.Booking(
        id=booking.id,
        service_id=booking.service_id,
        number_of_participants=booking.number_of_participants,
        contact=bookings_pb2.ContactDetails(name=booking.contact.name, email=booking.contact.email),
        status=int(booking.status),  # type: ignore[arg-type]
        revision=booking.revision,
    )
    if booking.entity_kind is EntityKind.SCHEDULE:
        msg.booked_entity.schedule.schedule_id = booking.entity_id
    elif booking.appointment is not None:
        slot = msg.booked_entity.slot
        slot.staff_member_id = booking.appointment.staff_member_id
        set_timestamp(slot.start_date, booking.appointment.start)
        set_timestamp(slot.end_date, booking.appointment.end)
    else:
        msg.booked_entity.slot.event_id = booking.entity_id
    if booking.created_at is not None:
        set_timestamp(msg.created_date, booking.created_at)
    if booking.updated_at is not None:
        set_timestamp(msg.updated_date, booking.updated_at)
    return msg


def occupied_time_to_proto(occupied: OccupiedTime) -> staff_members_pb2.OccupiedTime:
    msg = staff_members_pb2.OccupiedTime(staff_member_id=occupied.staff_member_id, booking_id=occupied.booking_id, service_id=occupied.service_id)
    set_timestamp(msg.start, occupied.start)
    set_timestamp(msg.end, occupied.end)
    set_timestamp(msg.occupied_start, occupied.occupied_start)
    set_timestamp(msg.occupied_end, occupied.occupied_end)
    return msg


def wire_timestamp(message: Message, field: str) -> WireTimestamp | None:
    """A Timestamp field as it arrived (its range is the domain's to check), None when unset."""
    if not message.HasField(field):
        return None
    value = getattr(message, field)
    return WireTimestamp(value.seconds, value.nanos)
