"""Every Kafka topic of the platform, declared once: its name, what its key is, and the protobuf
message behind each `ce_type`. Producers take the topic and the `ce_type` from here when they
write to their outbox; consumers route and decode with the same declarations; the local broker
creates the topics from them (services/devstack/stack.py). The reviewed contract of each topic is
protos/topics/<name>.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from google.protobuf.message import Message

from services.api.bookings.booking_events.v1 import booking_events_pb2
from services.api.bookings.participation_events.v1 import participation_events_pb2
from services.api.bookings.staff_events.v1 import staff_events_pb2
from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.working_hours_events.v1 import working_hours_events_pb2
from services.api.catalog.service_events.v1 import service_events_pb2

M = TypeVar("M", bound=Message)

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class MessageType(Generic[M]):
    """One kind of message of a topic: its CloudEvents `ce_type` and the protobuf it carries."""

    ce_type: str
    message: type[M]

    def parse(self, value: bytes) -> M:
        """The message; protobuf's DecodeError when the bytes are not one."""
        return self.message.FromString(value)


@dataclass(frozen=True)
class Topic:
    name: str
    key: str  # what the message key is, e.g. "booking id" (one entity's messages keep their order)
    message_types: tuple[MessageType[Message], ...]
    local_partitions: int  # on the embedded broker; production counts are in deploy/k8s/base/kafka/topics.yaml
    _by_ce_type: Mapping[str, MessageType[Message]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_ce_type", {t.ce_type: t for t in self.message_types})

    def message_type(self, ce_type: str) -> MessageType[Message] | None:
        """None for a type this code does not know (a newer producer's): consumers skip those."""
        return self._by_ce_type.get(ce_type)

    @property
    def dlq(self) -> str:
        """Where a message no consumer of the topic can process goes, with the error."""
        return self.name + DLQ_SUFFIX


# --- bookings.booking-events.v1 (bookings -> participations) ------------------------------------------------
BOOKING_CREATED = MessageType("bookings.booking.created.v1", booking_events_pb2.BookingCreated)
BOOKING_CONFIRMED = MessageType("bookings.booking.confirmed.v1", booking_events_pb2.BookingConfirmed)
BOOKING_DECLINED = MessageType("bookings.booking.declined.v1", booking_events_pb2.BookingDeclined)
BOOKING_CANCELED = MessageType("bookings.booking.canceled.v1", booking_events_pb2.BookingCanceled)
BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED = MessageType(
    "bookings.booking.number_of_participants_updated.v1", booking_events_pb2.BookingNumberOfParticipantsUpdated
)
BOOKING_EVENTS = Topic(
    "bookings.booking-events.v1",
    key="booking id",
    message_types=(BOOKING_CREATED, BOOKING_CONFIRMED, BOOKING_DECLINED, BOOKING_CANCELED, BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED),
    local_partitions=12,
)

# --- bookings.participation-events.v1 (participations -> its own event updater) -----------------------------
PARTICIPATION_CREATED = MessageType("bookings.participation.created.v1", participation_events_pb2.ParticipationCreated)
PARTICIPATION_UPDATED = MessageType("bookings.participation.updated.v1", participation_events_pb2.ParticipationUpdated)
PARTICIPATION_REMOVED = MessageType("bookings.participation.removed.v1", participation_events_pb2.ParticipationRemoved)
PARTICIPATION_EVENTS = Topic(
    "bookings.participation-events.v1",
    key="participation id",
    message_types=(PARTICIPATION_CREATED, PARTICIPATION_UPDATED, PARTICIPATION_REMOVED),
    local_partitions=12,
)

# --- calendar.event-events.v1 (timeframes -> availability) ---------------------------------------------------
EVENT_CREATED = MessageType("calendar.event.created.v1", event_events_pb2.EventCreated)
EVENT_UPDATED = MessageType("calendar.event.updated.v1", event_events_pb2.EventUpdated)
EVENT_CANCELLED = MessageType("calendar.event.cancelled.v1", event_events_pb2.EventCancelled)
EVENT_PARTICIPANTS_UPDATED = MessageType("calendar.event.participants_updated.v1", event_events_pb2.EventParticipantsUpdated)
SCHEDULE_PARTICIPANTS_UPDATED = MessageType("calendar.schedule.participants_updated.v1", event_events_pb2.ScheduleParticipantsUpdated)
EVENT_EVENTS = Topic(
    "calendar.event-events.v1",
    key="event id (schedule id for calendar.schedule.participants_updated.v1)",
    message_types=(EVENT_CREATED, EVENT_UPDATED, EVENT_CANCELLED, EVENT_PARTICIPANTS_UPDATED, SCHEDULE_PARTICIPANTS_UPDATED),
    local_partitions=12,
)

# --- catalog.service-events.v1 (bookings' catalog -> availability) ---------------------------------------------
SERVICE_CREATED = MessageType("catalog.service.created.v1", service_events_pb2.ServiceCreated)
SERVICE_UPDATED = MessageType("catalog.service.updated.v1", service_events_pb2.ServiceUpdated)
SERVICE_DELETED = MessageType("catalog.service.deleted.v1", service_events_pb2.ServiceDeleted)
SERVICE_EVENTS = Topic(
    "catalog.service-events.v1",
    key="service id",
    message_types=(SERVICE_CREATED, SERVICE_UPDATED, SERVICE_DELETED),
    local_partitions=3,
)

# --- bookings.staff-events.v1 (bookings' staff members -> availability's cache) ------------------------------
STAFF_MEMBER_CREATED = MessageType("bookings.staff_member.created.v1", staff_events_pb2.StaffMemberCreated)
STAFF_MEMBER_UPDATED = MessageType("bookings.staff_member.updated.v1", staff_events_pb2.StaffMemberUpdated)
STAFF_MEMBER_DELETED = MessageType("bookings.staff_member.deleted.v1", staff_events_pb2.StaffMemberDeleted)
STAFF_EVENTS = Topic(
    "bookings.staff-events.v1",
    key="staff member id",
    message_types=(STAFF_MEMBER_CREATED, STAFF_MEMBER_UPDATED, STAFF_MEMBER_DELETED),
    local_partitions=3,
)

# --- calendar.working-hours-events.v1 (timeframes' working hours -> availability's cache) ---------------------
WORKING_HOURS_CHANGED = MessageType("calendar.working_hours.changed.v1", working_hours_events_pb2.WorkingHoursChanged)
WORKING_HOURS_EVENTS = Topic(
    "calendar.working-hours-events.v1",
    key="schedule id",
    message_types=(WORKING_HOURS_CHANGED,),
    local_partitions=3,
)

ALL: tuple[Topic, ...] = (BOOKING_EVENTS, PARTICIPATION_EVENTS, EVENT_EVENTS, SERVICE_EVENTS, STAFF_EVENTS, WORKING_HOURS_EVENTS)
