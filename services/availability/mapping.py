"""The other services' messages as availability's domain objects (the catalog's services and
policies, the calendar's events and time frames), at the edges only: the adapters map what they
read, the entrypoints what a caller passes."""

from __future__ import annotations

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.timeframes.v3 import timeframes_pb2
from services.availability.domain.model import BookingPolicy, Offering, ParticipantCount, ParticipantParts, ProvidedPolicy, ServiceType, Session, TimeFrame
from services.common.timestamps import to_instant

SERVICE_TYPES = {
    services_pb2.SERVICE_TYPE_UNSPECIFIED: ServiceType.UNSPECIFIED,
    services_pb2.APPOINTMENT: ServiceType.APPOINTMENT,
    services_pb2.COURSE: ServiceType.COURSE,
    services_pb2.CLASS: ServiceType.CLASS,
}
PROTO_SERVICE_TYPES = {v: k for k, v in SERVICE_TYPES.items()}


def policy_from_proto(policy: booking_policy_pb2.BookingPolicy) -> BookingPolicy:
    # An absent sub-policy is disabled (proto3 defaults); in particular a provider that omits
    # book_after_start_policy disables booking after start (seed 000, "Graceful Degradation").
    return BookingPolicy(
        limit_early_booking_enabled=policy.limit_early_booking.enabled,
        earliest_booking_in_minutes=policy.limit_early_booking.earliest_booking_in_minutes,
        limit_late_booking_enabled=policy.limit_late_booking.enabled,
        latest_booking_in_minutes=policy.limit_late_booking.latest_booking_in_minutes,
        book_after_start_enabled=policy.HasField("book_after_start_policy") and policy.book_after_start_policy.enabled,
        max_participants_per_booking=policy.participants_policy.max_participants_per_booking or 1,
        cancellation_enabled=policy.cancellation_policy.enabled,
        latest_cancellation_in_minutes=policy.cancellation_policy.latest_cancellation_in_minutes,
    )


def offering_from_proto(service: services_pb2.Service, provided: booking_policy_pb2.ServiceBookingPolicy | None = None) -> Offering:
    """The service as availability sees it, with the policy provider's answer when it gave one."""
    offering = Offering(
        service_id=service.id,
        type=SERVICE_TYPES.get(service.type, ServiceType.UNSPECIFIED),  # a value newer than this code: no type it knows
        schedule_id=service.schedule_id,
        time_zone=service.time_zone,
        online_booking_enabled=service.online_booking_enabled,
        policy=policy_from_proto(service.booking_policy),
    )
    return provided_policy_from_proto(provided).applied_to(offering) if provided is not None else offering


def provided_policy_from_proto(provided: booking_policy_pb2.ServiceBookingPolicy) -> ProvidedPolicy:
    return ProvidedPolicy(online_booking_enabled=not provided.book_online_disabled, policy=policy_from_proto(provided.booking_policy))


def session_from_proto(event: events_pb2.Event) -> Session:
    return Session(
        event_id=event.id,
        schedule_id=event.schedule_id,
        start=to_instant(event.start),
        end=to_instant(event.end),
        total_capacity=event.total_capacity,
        remaining_capacity=event.remaining_capacity,
        cancelled=event.status == events_pb2.CANCELLED,
        participants=_parts_from_proto(event.participant_parts) if event.HasField("participant_parts") else None,
    )


def _parts_from_proto(parts: events_pb2.ParticipantParts) -> ParticipantParts:
    return ParticipantParts(
        event=ParticipantCount(parts.event.total, parts.event.version),
        schedule=ParticipantCount(parts.schedule.total, parts.schedule.version),
        legacy=ParticipantCount(parts.legacy.total, parts.legacy.version),
    )


def time_frame_from_proto(frame: timeframes_pb2.ScheduleTimeFrame) -> TimeFrame:
    return TimeFrame(
        schedule_id=frame.schedule_id,
        first_event_start=to_instant(frame.first_event_start_date) if frame.HasField("first_event_start_date") else None,
        last_event_end=to_instant(frame.last_event_end_date) if frame.HasField("last_event_end_date") else None,
        event_count=frame.event_count,
    )
