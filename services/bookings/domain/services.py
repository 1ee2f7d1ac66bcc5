"""The catalog's Service entity and the rules for creating and changing it. Pure: no I/O.

Validation names every bad field by its proto path (`service.name`,
`service.booking_policy.limit_early_booking.earliest_booking_in_minutes`, `mask.paths[1]`) and
collects all of them before failing, so a caller fixes its request in one round trip.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.bookings.domain.policies import MAX_PARTICIPANTS_PER_BOOKING, BookingPolicy, validate_booking_policy
from services.common.validation import Violations

MAX_NAME_LENGTH = 200
MAX_CAPACITY = 10_000
MAX_STAFF_MEMBERS = 100
# AppointmentSettings' bounds (services.proto): durations, buffers and intervals of at most a day.
MIN_DURATION_MINUTES, MAX_MINUTES = 5, 1440

# Paths UpdateService accepts in its mask (services.proto). Each replaces the whole field: a
# `booking_policy` in the mask with no policy in the request resets the policy to its defaults,
# `staff_member_ids` replaces the service's whole list of staff.
UPDATABLE_PATHS = (
    "name",
    "default_capacity",
    "time_zone",
    "online_booking_enabled",
    "booking_policy",
    "requires_manual_approval",
    "strict_capacity",
    "appointment",
    "staff_member_ids",
)
_OUTPUT_ONLY_PATHS = frozenset({"id", "schedule_id", "revision", "created_date", "updated_date"})


class ServiceChange(enum.StrEnum):
    """What a catalog write did: names the `catalog.service-events.v1` message it publishes."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class ServiceType(enum.IntEnum):
    """What is booked. The numbers are the wire values of bookings.catalog.v1.ServiceType, which
    protobuf rules keep stable; the database stores the names."""

    APPOINTMENT = 1  # a slot from staff availability; exclusive capacity
    CLASS = 2  # one session; shared capacity per session
    COURSE = 3  # a whole schedule of sessions; shared capacity per session

    @property
    def has_schedule(self) -> bool:
        """CLASS and COURSE sessions live on a calendar schedule created with the service."""
        return self in (ServiceType.CLASS, ServiceType.COURSE)


@dataclass(frozen=True)
class AppointmentSettings:
    """How an APPOINTMENT's slots are cut from its staff's working hours (docs/appointments.md "Slots")."""

    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    slot_interval_minutes: int = 0  # 0: a slot starts every `duration_minutes`


@dataclass(frozen=True)
class ServiceDraft:
    """The caller-settable fields of a service as received, not yet validated. `type` is the
    wire number (0 = unspecified; an unknown number is kept so it can be reported)."""

    type: int = 0
    name: str = ""
    default_capacity: int = 0
    time_zone: str = ""
    online_booking_enabled: bool = False
    requires_manual_approval: bool = False
    booking_policy: BookingPolicy = field(default_factory=BookingPolicy)
    strict_capacity: bool = False
    appointment: AppointmentSettings | None = None  # None: not sent
    staff_member_ids: tuple[str, ...] = ()  # as sent, repeats included (the validation reports them)


@dataclass(frozen=True)
class Service:
    id: str
    type: ServiceType
    name: str
    # 1..10000 for CLASS and COURSE; for an APPOINTMENT (exclusive, one booking per slot) it is
    # optional (0) and only bounds the party size.
    default_capacity: int
    time_zone: str
    online_booking_enabled: bool
    requires_manual_approval: bool
    booking_policy: BookingPolicy  # always normalized
    # CLASS and COURSE only: CreateBooking counts the entity's bookings in its own transaction
    # and refuses rather than overbook; off, capacity is eventually consistent
    # (docs/pipeline.md "Where strict capacity differs").
    strict_capacity: bool = False
    schedule_id: str | None = None  # set for CLASS and COURSE
    appointment: AppointmentSettings | None = None  # set for APPOINTMENT only
    # APPOINTMENT only: who offers it, sorted. The relation is stored once (table service_staff)
    # and is also each staff member's `service_ids`.
    staff_member_ids: tuple[str, ...] = ()
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def draft(self) -> ServiceDraft:
        return ServiceDraft(
            type=int(self.type),
            name=self.name,
            default_capacity=self.default_capacity,
            time_zone=self.time_zone,
            online_booking_enabled=self.online_booking_enabled,
            requires_manual_approval=self.requires_manual_approval,
            booking_policy=self.booking_policy,
            strict_capacity=self.strict_capacity,
            appointment=self.appointment,
            staff_member_ids=self.staff_member_ids,
        )


@dataclass(frozen=True)
class UpdateServiceCommand:
    service_id: str
    revision: int  # the revision the caller read; the change applies only at that revision
    paths: Sequence[str]  # the field mask
    patch: ServiceDraft  # values of the fields named in `paths`; the others are ignored


def new_service(draft: ServiceDraft, service_id: str) -> Service:
    """A new service at revision 1, or InvalidArgument naming every bad field. Output-only
    fields a caller sets on create (id, schedule_id, revision, dates) never reach the draft.
    Whether each staff member id names a staff member of the tenant is the use case's check
    (it needs the store)."""
    v = Violations()
    service_type = _validate(draft, v)
    v.raise_if_any()
    assert service_type is not None
    return Service(
        id=service_id,
        type=service_type,
        name=draft.name,
        default_capacity=draft.default_capacity,
        time_zone=draft.time_zone,
        online_booking_enabled=draft.online_booking_enabled,
        requires_manual_approval=draft.requires_manual_approval,
        booking_policy=draft.booking_policy.normalized(),
        strict_capacity=draft.strict_capacity,
        appointment=draft.appointment,
        staff_member_ids=tuple(sorted(draft.staff_member_ids)),
    )


def check_update_request(command: UpdateServiceCommand) -> None:
    """What can be checked without the current service: id, revision and mask."""
    v = Violations()
    v.id("service.id", command.service_id)
    v.check(command.revision > 0, "service.revision", "is required: the revision of the service the change is based on")
    if not command.paths:
        v.add("mask", f"is required: name the fields to change, among {', '.join(UPDATABLE_PATHS)}")
    for i, path in enumerate(command.paths):
        if path == "type":
            v.add(f"mask.paths[{i}]", "type cannot be changed; create a new service instead")
        elif path in _OUTPUT_ONLY_PATHS:
            v.add(f"mask.paths[{i}]", f"{path} is output only and cannot be changed")
        elif path not in UPDATABLE_PATHS:
            v.add(f"mask.paths[{i}]", f"{path[:64]!r} is not an updatable field; allowed: {', '.join(UPDATABLE_PATHS)}")
    v.raise_if_any()


def apply_update(current: Service, command: UpdateServiceCommand) -> Service:
    """`current` with the masked fields of the patch applied, validated as a whole (a change may
    be valid alone yet conflict with a field it leaves as is). The revision is left to the
    repository, which bumps it only if `current.revision` is still the stored one.

    Changing default_capacity or time_zone does not rewrite the schedule or its existing
    events in timeframes: sessions already created keep the capacity and time zone they were
    created with (timeframes has no UpdateSchedule; events are changed one by one there).
    """
    paths = set(command.paths)
    values = {name: getattr(command.patch, name) for name in UPDATABLE_PATHS if name in paths}
    merged = replace(current.draft(), **values)

    # A max party size above the capacity is reported on the field the caller changed.
    blame_capacity = "default_capacity" in paths and "booking_policy" not in paths
    v = Violations()
    _validate(merged, v, blame_capacity=blame_capacity)
    v.raise_if_any()
    return replace(
        current,
        name=merged.name,
        default_capacity=merged.default_capacity,
        time_zone=merged.time_zone,
        online_booking_enabled=merged.online_booking_enabled,
        requires_manual_approval=merged.requires_manual_approval,
        booking_policy=merged.booking_policy.normalized(),
        strict_capacity=merged.strict_capacity,
        appointment=merged.appointment,
        staff_member_ids=tuple(sorted(merged.staff_member_ids)),
    )


def parse_service_type(v: Violations, name: str, value: int) -> ServiceType | None:
    if value == 0:
        v.add(name, "is required: APPOINTMENT, CLASS or COURSE")
        return None
    try:
        return ServiceType(value)
    except ValueError:
        v.add(name, f"{value} is not a service type: APPOINTMENT, CLASS or COURSE")
        return None


def _validate(draft: ServiceDraft, v: Violations, *, blame_capacity: bool = False) -> ServiceType | None:
    service_type = parse_service_type(v, "service.type", draft.type)
    v.text("service.name", draft.name, max_len=MAX_NAME_LENGTH)

    capacity = draft.default_capacity
    if service_type is not None and service_type.has_schedule:
        if capacity == 0:
            capacity_ok = v.check(False, "service.default_capacity", f"is required for {service_type.name}: 1..{MAX_CAPACITY} participants per session")
        else:
            capacity_ok = v.check(1 <= capacity <= MAX_CAPACITY, "service.default_capacity", f"must be between 1 and {MAX_CAPACITY}")
    else:
        capacity_ok = v.check(0 <= capacity <= MAX_CAPACITY, "service.default_capacity", f"must be between 1 and {MAX_CAPACITY}, or 0 (unset)")

    v.time_zone("service.time_zone", draft.time_zone)
    # An APPOINTMENT slot is exclusive already: there is no shared capacity to count.
    v.check(
        not (draft.strict_capacity and service_type is ServiceType.APPOINTMENT),
        "service.strict_capacity",
        "applies to CLASS and COURSE services only (an APPOINTMENT slot is exclusive already)",
    )

    policy = draft.booking_policy
    validate_booking_policy(policy, v, "service.booking_policy")
    requested = policy.participants_policy.max_participants_per_booking
    party_size_ok = requested == 0 or 1 <= requested <= MAX_PARTICIPANTS_PER_BOOKING
    # One booking can never hold more participants than a session has spots.
    if capacity_ok and party_size_ok and capacity > 0 and policy.max_participants_per_booking > capacity:
        if blame_capacity:
            v.add(
                "service.default_capacity",
                f"must be at least booking_policy.participants_policy.max_participants_per_booking ({policy.max_participants_per_booking})",
            )
        else:
            v.add("service.booking_policy.participants_policy.max_participants_per_booking", f"must not exceed default_capacity ({capacity})")

    if service_type is None or service_type is ServiceType.APPOINTMENT:
        # Also without a valid type: settings or ids that are bad are bad for any type, so they
        # are named now rather than after the type is repaired.
        if draft.appointment is not None:
            validate_appointment_settings(draft.appointment, v, "service.appointment")
        v.ids("service.staff_member_ids", list(draft.staff_member_ids), max_items=MAX_STAFF_MEMBERS)
    if service_type is ServiceType.APPOINTMENT:
        v.check(draft.appointment is not None, "service.appointment", "is required for type APPOINTMENT: at least duration_minutes")
    elif service_type is not None:
        # Courses and classes run on their own schedule's sessions, not on staff working hours.
        v.check(draft.appointment is None, "service.appointment", "applies to services of type APPOINTMENT only")
        v.check(not draft.staff_member_ids, "service.staff_member_ids", "applies to services of type APPOINTMENT only")
    return service_type


def validate_appointment_settings(settings: AppointmentSettings, v: Violations, prefix: str) -> None:
    v.int_range(f"{prefix}.duration_minutes", settings.duration_minutes, MIN_DURATION_MINUTES, MAX_MINUTES)
    v.int_range(f"{prefix}.buffer_before_minutes", settings.buffer_before_minutes, 0, MAX_MINUTES)
    v.int_range(f"{prefix}.buffer_after_minutes", settings.buffer_after_minutes, 0, MAX_MINUTES)
    interval = settings.slot_interval_minutes
    v.check(
        interval == 0 or MIN_DURATION_MINUTES <= interval <= MAX_MINUTES,
        f"{prefix}.slot_interval_minutes",
        f"must be 0 (the duration) or between {MIN_DURATION_MINUTES} and {MAX_MINUTES}",
    )
