"""What availability's requests must hold before anything is read: every bad field named at once
(docs/errors.md), as timeframes' domain/commands.py does for its commands. The rules return or raise
the violations; paging is checked beside them by the use case (it needs the cursor key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.availability.domain.model import Offering, ServiceType
from services.availability.domain.time_range import LocalRange
from services.common.errors import InvalidArgument, NotFound
from services.common.validation import Violations

MAX_PARTY = 10_000  # the largest party a request may ask open spots for


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
