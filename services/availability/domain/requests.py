"""What availability's requests must hold before anything is read: every bad field named at once
(docs/errors.md), as timeframes' domain/commands.py does for its commands. The rules return or raise
the violations; paging is checked beside them by the use case (it needs the cursor key)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.availability.domain.model import AppointmentShape, Offering, ServiceType
from services.availability.domain.time_range import LocalRange, local_dates_violations
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.validation import Violations

MAX_PARTY = 10_000  # the largest party a request may ask open spots for
MAX_APPOINTMENT_RANGE = timedelta(days=31)  # ListAvailabilityTimeSlots
MAX_APPOINTMENT_DATES = 62  # ListAvailabilityDates, both dates included


@dataclass(frozen=True)
class SlotQuery:
    """A ListCourseEventTimeSlots / ListEventTimeSlots request."""

    service_ids: tuple[str, ...]
    from_local_date: str
    to_local_date: str
    time_zone: str
    include_non_bookable: bool
    min_bookable_capacity: int
    limit: int
    cursor: str


def slot_query_violations(query: SlotQuery) -> Violations:
    """The filters, the party size, the whole range (presence, syntax, order, 365 days) and the time
    zone, before any dependency is read. The range rules compare local wall times, so an unset zone
    is checked with a stand-in; the business zone it defaults to is resolved once services are read."""
    v = Violations()
    v.ids("service_ids", list(query.service_ids))
    v.int_range("min_bookable_capacity", query.min_bookable_capacity, 0, MAX_PARTY)
    try:
        LocalRange.resolve(query.from_local_date, query.to_local_date, query.time_zone or "UTC")
    except InvalidArgument as exc:
        for violation in exc.violations:
            v.add(violation.field, violation.description)
    return v


def validate_course_lookup(*, event_id: str, schedule_id: str, time_zone: str, min_bookable_capacity: int) -> None:
    """GetCourseEventTimeSlot: the course by exactly one of its sessions or its schedule."""
    v = Violations()
    if bool(event_id) == bool(schedule_id):
        v.add("by", "set exactly one of event_id or schedule_id")
    else:
        v.id("event_id" if event_id else "schedule_id", event_id or schedule_id)
    v.time_zone("time_zone", time_zone, required=False)
    v.int_range("min_bookable_capacity", min_bookable_capacity, 0, MAX_PARTY)
    v.raise_if_any()


def validate_class_lookup(*, event_id: str, time_zone: str, min_bookable_capacity: int) -> None:
    """GetEventTimeSlot."""
    v = Violations()
    v.id("event_id", event_id)
    v.time_zone("time_zone", time_zone, required=False)
    v.int_range("min_bookable_capacity", min_bookable_capacity, 0, MAX_PARTY)
    v.raise_if_any()


def validate_calendar_request(
    field: str, value: str, number_of_participants: int, given_service_id: str | None, given_schedule_id: str, owned_schedule: str | None = None
) -> None:
    """AvailabilityCalendar (v1): the schedule or event asked about, the party, and a service the
    caller passes (`given_service_id` None: none passed), which must own `owned_schedule` when that
    is known (an event's schedule is only known once the event is read)."""
    v = Violations()
    v.id(field, value)
    v.int_range("number_of_participants", number_of_participants, 0, MAX_PARTY)
    if given_service_id is not None:
        v.id("service.id", given_service_id)
        if owned_schedule is not None:
            v.check(given_schedule_id == owned_schedule, "service.schedule_id", "is not the schedule asked about")
    v.raise_if_any()


def check_requested_offerings(offerings: Sequence[Offering], requested: Sequence[str], kind: ServiceType, field: str) -> None:
    """Requested ids must be live services of the tenant (NotFound otherwise), of the endpoint's
    type (every other one named)."""
    by_id = {o.service_id: o for o in offerings}
    v = Violations()
    for i, service_id in enumerate(requested):
        offering = by_id.get(service_id)
        if offering is None:
            raise NotFound("service", service_id)
        if offering.type is not kind:
            hint = "ListEventTimeSlots" if kind is ServiceType.COURSE else "ListCourseEventTimeSlots"
            v.add(f"{field}[{i}]" if field == "service_ids" else field, f"is a {offering.type} service, not a {kind}; use {hint}")
    v.raise_if_any()


# --- appointments (bookings.availability.v2.AvailabilityTimeSlots) ---------------------------------


@dataclass(frozen=True)
class AppointmentSlotQuery:
    """A ListAvailabilityTimeSlots request."""

    service_id: str
    from_local_date: str
    to_local_date: str
    time_zone: str
    staff_member_ids: tuple[str, ...]
    include_non_bookable: bool
    limit: int
    cursor: str


def appointment_slot_query_violations(query: AppointmentSlotQuery) -> Violations:
    """The service, the staff filter, the range (as the course listings read it, at most 31 days)
    and the zone, before anything is read; paging is checked beside them by the use case."""
    v = Violations()
    v.id("service_id", query.service_id)
    v.ids("staff_member_ids", list(query.staff_member_ids))
    try:
        # An unset zone defaults to the service's, known once it is read: a stand-in meanwhile.
        LocalRange.resolve(query.from_local_date, query.to_local_date, query.time_zone or "UTC", max_range=MAX_APPOINTMENT_RANGE)
    except InvalidArgument as exc:
        for violation in exc.violations:
            v.add(violation.field, violation.description)
    return v


@dataclass(frozen=True)
class AppointmentDatesQuery:
    """A ListAvailabilityDates request."""

    service_id: str
    from_local_date: str
    to_local_date: str
    time_zone: str
    staff_member_ids: tuple[str, ...]


def validate_appointment_dates_query(query: AppointmentDatesQuery) -> tuple[date, date]:
    """The first and last local date (both inclusive, at most 62), every bad field named at once."""
    v = Violations()
    v.id("service_id", query.service_id)
    v.ids("staff_member_ids", list(query.staff_member_ids))
    dates = local_dates_violations(query.from_local_date, query.to_local_date, query.time_zone or "UTC", max_dates=MAX_APPOINTMENT_DATES, violations=v)
    v.raise_if_any()
    assert dates is not None
    return dates


@dataclass(frozen=True)
class AppointmentSlotLookup:
    """A GetAvailabilityTimeSlot request; `start` and `end` are a Timestamp's (seconds, nanos), None
    when unset."""

    service_id: str
    start: tuple[int, int] | None
    end: tuple[int, int] | None
    time_zone: str
    staff_member_ids: tuple[str, ...]


def validate_appointment_slot_lookup(lookup: AppointmentSlotLookup) -> tuple[datetime, datetime]:
    """The slot's start and end instants, in the platform's instant range, end after start."""
    v = Violations()
    v.id("service_id", lookup.service_id)
    v.ids("staff_member_ids", list(lookup.staff_member_ids))
    v.time_zone("time_zone", lookup.time_zone, required=False)
    start = _required_instant(v, "start_date", lookup.start)
    end = _required_instant(v, "end_date", lookup.end)
    if start is not None and end is not None:
        v.check(end > start, "end_date", "must be after start_date")
    v.raise_if_any()
    assert start is not None and end is not None
    return start, end


def _required_instant(v: Violations, field: str, value: tuple[int, int] | None) -> datetime | None:
    if value is None:
        v.add(field, "is required")
        return None
    return v.instant(field, *value)


_SLOTS_OF = {ServiceType.COURSE: "ListCourseEventTimeSlots", ServiceType.CLASS: "ListEventTimeSlots"}


def check_appointment_offering(offering: Offering | None, service_id: str) -> tuple[Offering, AppointmentShape]:
    """The requested service and its appointment settings: NotFound unless it is a live service of
    the tenant, InvalidArgument on `service_id` unless it is an APPOINTMENT. The catalog requires
    the settings of every APPOINTMENT; one without them is refused as not set up, never guessed."""
    if offering is None:
        raise NotFound("service", service_id)
    if offering.type is not ServiceType.APPOINTMENT:
        hint = f"; use {_SLOTS_OF[offering.type]}" if offering.type in _SLOTS_OF else ""
        raise InvalidArgument.single("service_id", f"is a {offering.type} service, not an APPOINTMENT{hint}")
    if offering.appointment is None:
        raise FailedPrecondition("APPOINTMENT_NOT_SET_UP", "the service has no appointment settings (duration, buffers, slot interval)")
    return offering, offering.appointment


def check_staff_filter(requested: Sequence[str], offering_staff: Collection[str]) -> None:
    """Each requested staff member must offer the service, else InvalidArgument on
    `staff_member_ids[i]`. Another tenant's staff member is not one of the service's either, and
    gets the same answer as an id nobody has. The description names service_id: the refusal is
    relative to it, and could not be judged while it was bad."""
    v = Violations()
    for i, staff_member_id in enumerate(requested):
        v.check(staff_member_id in offering_staff, f"staff_member_ids[{i}]", "is not a staff member offering the service of service_id")
    v.raise_if_any()
