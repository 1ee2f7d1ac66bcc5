"""bookings.availability.v1.AvailabilityCalendar: the legacy validation API CreateBooking asks
(docs/rollout.md "How bookings validates").

One rule set: every answer is `validate_booking` (and `course_availability` / `class_time_slot`
for the numbers) of domain/policy.py, the calculation ListCourseEventTimeSlots shows. The two
modes differ only in where capacity comes from:

- `proxy_course_to_new_endpoint` ON for the tenant: the v2 answer, capacity from
  `Event.remaining_capacity` (eventually consistent: the participations pipeline updates it
  after the booking's Kafka event; docs/pipeline.md "Eventual consistency and its bounds").
- OFF: the legacy consistent answer, capacity from bookings itself (QueryBookings: the PENDING and
  CONFIRMED bookings of the course's schedule, or of the class's event, summed), so a booking
  counts the moment CreateBooking returned (docs/rollout.md "Legacy mode"). Each session's open
  spots are its total capacity minus those participants (the participant total of
  docs/pipeline.md "Settled state"; a course's sessions carry no bookings of their own, because
  bookings refuses a slot booking on a course event).

Both read the same inputs (service, policy, sessions, time frame) fresh on every call, with no
cache: validation must see a policy change at once (docs/booking-policies.md "Policies are exact,
capacity is eventual"). A caller that has just read the service itself (bookings, which owns the
catalog) may pass it in the request; it is then not read again (one call less per booking), and
must own the schedule. The
calculation is called directly rather than through `TimeSlots.get_course`: that entrypoint is
gated by `course_availability_enabled` (a tenant outside that rollout would be refused
FEATURE_DISABLED on CreateBooking) and does not return the sessions `validate_booking` needs for
the refusal reason.

Shadow mode (docs/rollout.md "Shadow comparison"): with the toggle OFF and
`AVAILABILITY_SHADOW_COMPARE` on, the v2 answer is computed too, from the same inputs read in
the same concurrent fetch, and compared with the legacy one on `bookable`, `open_spots` and
`refusal_reason`; `availability.calendar.shadow_comparisons` counts comparisons and
`availability.calendar.shadow_mismatches{field}` the differing fields, and a
`bi_event=calendar_shadow_mismatch` log record carries both answers. Since the inputs are
shared, a mismatch is exactly capacity that has not settled yet. The legacy answer is returned;
a failure of the v2 side is logged and counted (`availability.calendar.shadow_errors`), never
returned.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider

from services.availability.application.memo import ServiceMemo
from services.availability.application.ports import AvailabilityInputs, BookingLedger, Toggles, Wanted
from services.availability.domain.model import Offering, ProvidedPolicy, ServiceType, Session, TimeFrame
from services.availability.domain.policy import class_time_slot, course_availability, needed_spots, validate_booking
from services.availability.domain.requests import validate_calendar_request
from services.availability.domain.toggles import PROXY_COURSE_TO_NEW_ENDPOINT
from services.common.errors import InvalidArgument, NotFound

log = structlog.get_logger("availability.calendar")
SHADOW_FIELDS = ("bookable", "open_spots", "refusal_reason")
T = TypeVar("T")


# --- answers (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarAnswer:
    """ScheduleAvailability / SlotAvailability of availability_calendar.proto."""

    total_spots: int
    open_spots: int  # clamped at 0
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    bookable: bool
    refusal_reason: str  # "" when bookable
    min_total_spots_ahead: int = 0  # COURSE only (ScheduleAvailability)
    schedule_id: str = ""  # CLASS only (SlotAvailability): the event's schedule

    def as_log(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Inputs:
    """What one answer is calculated from: for a COURSE all sessions of its schedule and its time
    frame (None when ScheduleTimeFrames was unavailable); for a CLASS exactly the one event."""

    offering: Offering
    sessions: tuple[Session, ...]
    time_frame: TimeFrame | None = None


def answer(now: datetime, inputs: Inputs, number_of_participants: int) -> CalendarAnswer:
    """The domain's decision for this party, mapped to the v1 answer. `bookable` is "no refusal",
    which includes the party size limit (a v1 answer is about this party, not a display slot)."""
    party = needed_spots(number_of_participants)
    offering, sessions = inputs.offering, list(inputs.sessions)
    refusal = validate_booking(now, offering, sessions, inputs.time_frame, party)
    min_total_ahead, schedule_id = 0, ""
    if offering.type is ServiceType.COURSE:
        course = course_availability(now, offering, sessions, inputs.time_frame, party)
        total, open_spots, violations = course.total_capacity, course.open_spots, course.violations
        min_total_ahead = course.min_total_capacity_ahead
    else:
        slot = class_time_slot(now, offering, sessions[0], party)
        total, open_spots, violations = slot.total_capacity, slot.remaining_capacity, slot.violations
        schedule_id = sessions[0].schedule_id
    return CalendarAnswer(
        total_spots=total,
        open_spots=open_spots,
        too_early_to_book=violations.too_early_to_book,
        too_late_to_book=violations.too_late_to_book,
        book_online_disabled=violations.book_online_disabled,
        bookable=refusal is None,
        refusal_reason=refusal.value if refusal is not None else "",
        min_total_spots_ahead=min_total_ahead,
        schedule_id=schedule_id,
    )


def with_booked(inputs: Inputs, booked_participants: int) -> Inputs:
    """The legacy inputs: every session's remaining capacity recomputed from the bookings
    (total capacity − the participants of the PENDING and CONFIRMED bookings on it) instead of the
    pipeline-maintained `Event.remaining_capacity`. Everything else is unchanged."""
    sessions = tuple(dataclasses.replace(s, remaining_capacity=s.total_capacity - booked_participants) for s in inputs.sessions)
    return dataclasses.replace(inputs, sessions=sessions)


def mismatched_fields(legacy: CalendarAnswer, v2: CalendarAnswer) -> list[str]:
    return [f for f in SHADOW_FIELDS if getattr(legacy, f) != getattr(v2, f)]


# --- the use case ----------------------------------------------------------------------------------


class _Metrics:
    def __init__(self, provider: MeterProvider | None) -> None:
        meter = (provider or metrics.get_meter_provider()).get_meter("services.availability.calendar")
        self.requests = meter.create_counter("availability.calendar.requests", description="AvailabilityCalendar answers, by rpc and mode (proxy|legacy)")
        self.comparisons = meter.create_counter("availability.calendar.shadow_comparisons", description="legacy answers compared with the v2 answer, by rpc")
        self.mismatches = meter.create_counter("availability.calendar.shadow_mismatches", description="compared answers that differ, by field and rpc")
        self.errors = meter.create_counter("availability.calendar.shadow_errors", description="v2 shadow answers that could not be computed, by rpc")


class AvailabilityCalendar:
    def __init__(
        self,
        inputs: AvailabilityInputs,
        ledger: BookingLedger,
        toggles: Toggles,
        memo: ServiceMemo,
        *,
        shadow_compare: bool,
        clock: Callable[[], datetime] | None = None,
        meter_provider: MeterProvider | None = None,
    ):
        self._inputs = inputs
        self._ledger = ledger
        self._toggles = toggles
        self._shadow_compare = shadow_compare
        self._clock = clock or (lambda: datetime.now(UTC))
        self._metrics = _Metrics(meter_provider)
        self._memo = memo

    async def schedule_availability(self, tenant: str, schedule_id: str, number_of_participants: int, service: Offering | None = None) -> CalendarAnswer:
        """`service`: the owning service as the caller read it (the request's optional field), used
        instead of reading it again."""
        validate_calendar_request(
            "schedule_id",
            schedule_id,
            number_of_participants,
            service.service_id if service else None,
            service.schedule_id if service else "",
            owned_schedule=schedule_id,
        )
        return await self._answer(
            tenant,
            "GetScheduleAvailability",
            lambda: self._course_inputs(tenant, schedule_id, service),
            lambda: self._ledger.booked_participants(schedule_id=schedule_id),
            number_of_participants,
            {"schedule_id": schedule_id},
        )

    async def slot_availability(self, tenant: str, event_id: str, number_of_participants: int, service: Offering | None = None) -> CalendarAnswer:
        validate_calendar_request("event_id", event_id, number_of_participants, service.service_id if service else None, service.schedule_id if service else "")
        return await self._answer(
            tenant,
            "GetSlotAvailability",
            lambda: self._class_inputs(tenant, event_id, service),
            lambda: self._ledger.booked_participants(event_id=event_id),
            number_of_participants,
            {"event_id": event_id},
        )

    async def _answer(
        self,
        tenant: str,
        rpc: str,
        read_inputs: Callable[[], Awaitable[Inputs]],
        read_booked: Callable[[], Awaitable[int]],
        number_of_participants: int,
        subject: dict[str, str],
    ) -> CalendarAnswer:
        proxy = self._toggles.enabled(PROXY_COURSE_TO_NEW_ENDPOINT, tenant)
        self._metrics.requests.add(1, {"rpc": rpc, "mode": "proxy" if proxy else "legacy"})
        if proxy:
            inputs = await read_inputs()
            return answer(self._clock(), inputs, number_of_participants)

        # Legacy: the bookings are read concurrently with the calendar inputs. Errors of the
        # inputs win (an unknown event is NOT_FOUND even when bookings is away too).
        inputs, booked = await _both(read_inputs(), read_booked())
        now = self._clock()
        legacy = answer(now, with_booked(inputs, booked), number_of_participants)
        if self._shadow_compare:
            self._shadow(tenant, rpc, now, inputs, number_of_participants, legacy, subject)
        return legacy

    def _shadow(self, tenant: str, rpc: str, now: datetime, inputs: Inputs, party: int, legacy: CalendarAnswer, subject: dict[str, str]) -> None:
        try:
            v2 = answer(now, inputs, party)
        except Exception as exc:  # the shadow never fails the answer it shadows
            self._metrics.errors.add(1, {"rpc": rpc})
            log.warning("calendar shadow answer failed", rpc=rpc, tenant_id=tenant, error=repr(exc), **subject)
            return
        self._metrics.comparisons.add(1, {"rpc": rpc})
        fields = mismatched_fields(legacy, v2)
        if not fields:
            return
        for name in fields:
            self._metrics.mismatches.add(1, {"rpc": rpc, "field": name})
        log.warning(
            "bi",
            bi_event="calendar_shadow_mismatch",
            rpc=rpc,
            tenant_id=tenant,
            service_id=inputs.offering.service_id,
            number_of_participants=party,
            fields=fields,
            legacy=legacy.as_log(),
            v2=v2.as_log(),
            **subject,
        )

    # --- inputs ----------------------------------------------------------------------------------

    async def _course_inputs(self, tenant: str, schedule_id: str, given: Offering | None) -> Inputs:
        if given is None:
            service_id = self._memo.service_of(tenant, schedule_id) or await self._inputs.schedule_owner(tenant, schedule_id)
            found = await self._inputs.read(tenant, Wanted(service_ids=(service_id,), course_schedules=(schedule_id,)))
            offering = _one_course_or_class(found.offerings, "schedule", schedule_id)
        else:
            provided, found = await asyncio.gather(
                self._inputs.provided_policies(tenant, (given.service_id,)), self._inputs.read(tenant, Wanted(course_schedules=(schedule_id,)))
            )
            offering = _with_provided(given, provided, "schedule")
        if offering.type is not ServiceType.COURSE:
            raise InvalidArgument.single("schedule_id", f"is the schedule of a {offering.type} service; ask GetSlotAvailability for one of its events")
        if given is None:  # only what the catalog said is remembered, never a caller's word
            self._memo.remember(tenant, offering)
        if found.time_frames_failure is not None:
            log.warning("time frames unavailable; first session taken from the events", schedule_id=schedule_id, error=str(found.time_frames_failure))
        frame = found.time_frames.get(schedule_id) if found.time_frames is not None else None
        return Inputs(offering, tuple(s for s in found.sessions if s.schedule_id == schedule_id), frame)

    async def _class_inputs(self, tenant: str, event_id: str, given: Offering | None) -> Inputs:
        session = await self._inputs.event(tenant, event_id)
        if given is None:
            service_id = self._memo.service_of(tenant, session.schedule_id) or await self._inputs.schedule_owner(tenant, session.schedule_id)
            offering = _one_course_or_class((await self._inputs.read(tenant, Wanted(service_ids=(service_id,)))).offerings, "event", event_id)
        else:
            _require_owner(given, session.schedule_id, "event_id")
            offering = _with_provided(given, await self._inputs.provided_policies(tenant, (given.service_id,)), "event")
        if offering.type is not ServiceType.CLASS:
            raise InvalidArgument.single("event_id", f"is a session of a {offering.type} service; ask GetScheduleAvailability for its schedule")
        if given is None:
            self._memo.remember(tenant, offering)
        return Inputs(offering, (session,))


def _one_course_or_class(offerings: Sequence[Offering], resource: str, resource_id: str) -> Offering:
    if not offerings:  # the owning service was deleted: nothing can be booked on it
        raise NotFound(resource, resource_id)
    return _course_or_class(offerings[0], resource)


def _with_provided(given: Offering, provided: Mapping[str, ProvidedPolicy], resource: str) -> Offering:
    """A caller's service with the policy provider's word on it, when it gave one."""
    policy = provided.get(given.service_id)
    return _course_or_class(policy.applied_to(given) if policy is not None else given, resource)


def _course_or_class(offering: Offering, resource: str) -> Offering:
    if offering.type not in (ServiceType.COURSE, ServiceType.CLASS):
        raise InvalidArgument.single(f"{resource}_id", "belongs to a service that is neither a COURSE nor a CLASS")
    return offering


def _require_owner(service: Offering, schedule_id: str, field: str) -> None:
    """A service a caller passes must own what it asks about: the answer is computed from it."""
    if service.schedule_id != schedule_id:
        raise InvalidArgument.single("service.schedule_id", f"is not the schedule of the {field.removesuffix('_id')} asked about")


async def _both(first: Awaitable[T], second: Awaitable[Any]) -> tuple[T, Any]:
    """Both results, read concurrently; the first's error wins when both fail."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(a, BaseException):
        raise a
    if isinstance(b, BaseException):
        raise b
    return a, b
