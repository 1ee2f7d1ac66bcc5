"""The booking domain rules (services/bookings/domain/bookings.py), table-driven: field
validation, which entity fits which service, the status transitions, the cancellation window, the
comparison of requests that share an idempotency key and the strict capacity rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.bookings.domain.bookings import (
    TRANSITIONS,
    Action,
    AppointmentSlotAnswer,
    Booking,
    BookingDraft,
    BookingStatus,
    Contact,
    EntityKind,
    appointment_refusal,
    cancellation_deadline,
    capacity_refusal,
    new_booking,
    refusal,
    replay,
    request_fingerprint,
    require_cancellable_now,
    require_max_participants,
    round_robin,
    too_late_to_cancel,
    transition,
    validate_change,
    validate_draft,
    with_participants,
)
from services.bookings.domain.policies import BookingPolicy, CancellationPolicy
from services.bookings.domain.services import Service, ServiceType
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.validation import WireTimestamp

SERVICE_ID = "11111111-1111-4111-8111-111111111111"
SCHEDULE_ID = "22222222-2222-4222-8222-222222222222"
EVENT_ID = "33333333-3333-4333-8333-333333333333"
BOOKING_ID = "44444444-4444-4444-8444-444444444444"
F = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def service(kind: ServiceType = ServiceType.COURSE, *, manual: bool = False) -> Service:
    return Service(
        id=SERVICE_ID,
        type=kind,
        name="Pottery",
        default_capacity=10,
        time_zone="Europe/Vienna",
        online_booking_enabled=True,
        requires_manual_approval=manual,
        booking_policy=BookingPolicy().normalized(),
        schedule_id=None if kind is ServiceType.APPOINTMENT else SCHEDULE_ID,
    )


STAFF_ID = "55555555-5555-4555-8555-555555555555"
START, END = WireTimestamp.of(F), WireTimestamp.of(F + 30 * MINUTE)
APPOINTMENT: dict[str, object] = {"entity_kind": "appointment", "entity_id": "", "start": START, "end": END}


def draft(**fields: object) -> BookingDraft:
    values: dict[str, object] = {
        "service_id": SERVICE_ID,
        "entity_kind": "schedule",
        "entity_id": SCHEDULE_ID,
        "number_of_participants": 2,
        "contact": Contact("Ada Lovelace", "ada@example.com"),
    }
    values.update(fields)
    return BookingDraft(**values)  # type: ignore[arg-type]


def booking(status: BookingStatus = BookingStatus.CONFIRMED, participants: int = 2) -> Booking:
    return Booking(BOOKING_ID, SERVICE_ID, EntityKind.SCHEDULE, SCHEDULE_ID, participants, Contact("Ada", "ada@example.com"), status, revision=3)


def violations(exc: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {v.field for v in exc.value.violations}


# --- validation of a new booking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, bad",
    [
        pytest.param({}, set(), id="a valid course booking"),
        pytest.param({"entity_kind": "slot", "entity_id": EVENT_ID}, set(), id="a valid class booking"),
        pytest.param({"service_id": ""}, {"booking.service_id"}, id="service id required"),
        pytest.param({"service_id": "ABCDEF12-1111-4111-8111-111111111111"}, {"booking.service_id"}, id="ids are canonical lowercase UUIDs"),
        pytest.param({"entity_kind": "", "entity_id": ""}, {"booking.booked_entity"}, id="booked entity required"),
        pytest.param({"entity_id": "x"}, {"booking.booked_entity.schedule.schedule_id"}, id="schedule id a UUID"),
        pytest.param({"entity_kind": "slot", "entity_id": ""}, {"booking.booked_entity.slot.event_id"}, id="event id required"),
        pytest.param(APPOINTMENT, set(), id="a valid appointment booking, any staff member"),
        pytest.param(APPOINTMENT | {"staff_member_id": STAFF_ID}, set(), id="a valid appointment booking with a staff member"),
        pytest.param(APPOINTMENT | {"start": None}, {"booking.booked_entity.slot.start_date"}, id="appointment start required"),
        pytest.param(APPOINTMENT | {"end": None}, {"booking.booked_entity.slot.end_date"}, id="appointment end required"),
        pytest.param(APPOINTMENT | {"end": START}, {"booking.booked_entity.slot.end_date"}, id="appointment ends after it starts"),
        pytest.param(APPOINTMENT | {"start": WireTimestamp(-2_208_988_801, 0)}, {"booking.booked_entity.slot.start_date"}, id="start in the instant range"),
        pytest.param(APPOINTMENT | {"start": WireTimestamp(START.seconds, 10**9)}, {"booking.booked_entity.slot.start_date"}, id="start nanos in range"),
        pytest.param(APPOINTMENT | {"entity_id": EVENT_ID}, {"booking.booked_entity.slot.event_id"}, id="an appointment names no event"),
        pytest.param(APPOINTMENT | {"staff_member_id": "x"}, {"booking.booked_entity.slot.staff_member_id"}, id="staff member a UUID"),
        pytest.param({"number_of_participants": 0}, {"booking.number_of_participants"}, id="at least one participant"),
        pytest.param({"number_of_participants": 1001}, {"booking.number_of_participants"}, id="at most 1000 participants"),
        pytest.param({"contact": Contact(" ", "ada@example.com")}, {"booking.contact.name"}, id="name not blank"),
        pytest.param({"contact": Contact("n" * 201, "ada@example.com")}, {"booking.contact.name"}, id="name at most 200 characters"),
        pytest.param({"contact": Contact("Ada", "ada.example.com")}, {"booking.contact.email"}, id="email an address"),
        pytest.param({"idempotency_key": "k" * 100}, set(), id="a key of 100 characters"),
        pytest.param({"idempotency_key": "k" * 101}, {"idempotency_key"}, id="key at most 100 characters"),
        pytest.param({"idempotency_key": "   "}, {"idempotency_key"}, id="key not blank"),
        pytest.param(
            {"service_id": "", "number_of_participants": 0, "contact": Contact("", "")},
            {"booking.service_id", "booking.number_of_participants", "booking.contact.name", "booking.contact.email"},
            id="every bad field at once",
        ),
    ],
)
def test_validation_names_every_bad_field(fields: dict[str, object], bad: set[str]) -> None:
    if not bad:
        validate_draft(draft(**fields))
        return
    with pytest.raises(InvalidArgument) as exc:
        validate_draft(draft(**fields))
    assert violations(exc) == bad


@pytest.mark.parametrize(
    "kind, fields, error, detail",
    [
        pytest.param(
            ServiceType.COURSE, {"entity_kind": "slot", "entity_id": EVENT_ID}, InvalidArgument, "booking.booked_entity", id="a course is booked whole"
        ),
        pytest.param(
            ServiceType.COURSE,
            {"entity_id": EVENT_ID},
            InvalidArgument,
            "booking.booked_entity.schedule.schedule_id",
            id="a course by its own schedule only",
        ),
        pytest.param(ServiceType.CLASS, {}, InvalidArgument, "booking.booked_entity", id="a class is booked by event"),
        pytest.param(ServiceType.APPOINTMENT, {}, InvalidArgument, "booking.booked_entity", id="an appointment is booked by its time"),
        pytest.param(
            ServiceType.CLASS,
            {"entity_kind": "appointment", "entity_id": "", "start": WireTimestamp(1, 0), "end": WireTimestamp(2, 0)},
            InvalidArgument,
            "booking.booked_entity.slot",
            id="a class is not booked by time",
        ),
    ],
)
def test_the_entity_must_fit_the_service(kind: ServiceType, fields: dict[str, object], error: type[Exception], detail: str) -> None:
    with pytest.raises(error) as exc:
        new_booking(draft(**fields), BOOKING_ID, service(kind))
    found = exc.value.reason if isinstance(exc.value, FailedPrecondition) else exc.value.violations[0].field  # type: ignore[attr-defined]
    assert found == detail


@pytest.mark.parametrize(
    "manual, status",
    [pytest.param(True, BookingStatus.PENDING, id="manual approval: pending"), pytest.param(False, BookingStatus.CONFIRMED, id="else confirmed")],
)
def test_a_new_booking_is_pending_only_when_the_service_wants_approval(manual: bool, status: BookingStatus) -> None:
    made = new_booking(draft(), BOOKING_ID, service(manual=manual))
    assert (made.status, made.revision, made.schedule_id, made.event_id) == (status, 1, SCHEDULE_ID, None)


def test_a_class_booking_holds_its_event() -> None:
    made = new_booking(draft(entity_kind="slot", entity_id=EVENT_ID), BOOKING_ID, service(ServiceType.CLASS))
    assert (made.entity_kind, made.event_id, made.schedule_id) == (EntityKind.SLOT, EVENT_ID, None)


# --- idempotency keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second, same",
    [
        pytest.param({}, True, id="the same request"),
        pytest.param({"number_of_participants": 3}, False, id="another party size"),
        pytest.param({"contact": Contact("Ada Lovelace", "ADA@example.com")}, False, id="another email, even by case"),
        pytest.param({"contact": Contact("Ada  Lovelace", "ada@example.com")}, False, id="another name"),
        pytest.param({"entity_kind": "slot", "entity_id": SCHEDULE_ID}, False, id="another kind of entity with the same id"),
        pytest.param({"service_id": "55555555-5555-4555-8555-555555555555"}, False, id="another service"),
        pytest.param({"idempotency_key": "other"}, True, id="the key itself is not part of the request"),
    ],
)
def test_a_key_replays_only_the_request_that_first_used_it(second: dict[str, object], same: bool) -> None:
    first = new_booking(draft(idempotency_key="k"), BOOKING_ID, service())
    assert first.request_fingerprint == request_fingerprint(draft())
    fingerprint = request_fingerprint(draft(**second))
    if same:
        assert replay(first, fingerprint) is first
    else:
        with pytest.raises(InvalidArgument) as exc:
            replay(first, fingerprint)
        assert violations(exc) == {"idempotency_key"}


def test_without_a_key_nothing_is_remembered() -> None:
    made = new_booking(draft(), BOOKING_ID, service())
    assert (made.idempotency_key, made.request_fingerprint) == (None, None)


# --- status transitions -----------------------------------------------------------------------------


TABLE = [
    # action, from status, to status (None: refused with the reason)
    (Action.CONFIRM, BookingStatus.PENDING, BookingStatus.CONFIRMED),
    (Action.CONFIRM, BookingStatus.CONFIRMED, None),
    (Action.CONFIRM, BookingStatus.DECLINED, None),
    (Action.CONFIRM, BookingStatus.CANCELED, None),
    (Action.DECLINE, BookingStatus.PENDING, BookingStatus.DECLINED),
    (Action.DECLINE, BookingStatus.CONFIRMED, None),
    (Action.DECLINE, BookingStatus.DECLINED, None),
    (Action.DECLINE, BookingStatus.CANCELED, None),
    (Action.CANCEL, BookingStatus.PENDING, BookingStatus.CANCELED),
    (Action.CANCEL, BookingStatus.CONFIRMED, BookingStatus.CANCELED),
    (Action.CANCEL, BookingStatus.DECLINED, None),
    (Action.CANCEL, BookingStatus.CANCELED, None),
]


@pytest.mark.parametrize("action, start, end", [pytest.param(a, s, e, id=f"{a.name} {s.name} -> {e.name if e else 'refused'}") for a, s, e in TABLE])
def test_status_transitions(action: Action, start: BookingStatus, end: BookingStatus | None) -> None:
    current = booking(start)
    if end is not None:
        changed = transition(current, action)
        assert (changed.status, changed.revision) == (end, current.revision)  # the repository bumps the revision
        return
    with pytest.raises(FailedPrecondition) as exc:
        transition(current, action)
    assert exc.value.reason == TRANSITIONS[action][1]
    assert exc.value.reason == ("BOOKING_NOT_PENDING" if action in (Action.CONFIRM, Action.DECLINE) else "BOOKING_NOT_ACTIVE")
    assert exc.value.metadata == {"status": start.name}


@pytest.mark.parametrize(
    "status, allowed",
    [(s, s in (BookingStatus.PENDING, BookingStatus.CONFIRMED)) for s in BookingStatus],
    ids=lambda v: v.name if isinstance(v, BookingStatus) else str(v),
)
def test_the_party_size_of_an_active_booking_only_can_change(status: BookingStatus, allowed: bool) -> None:
    if allowed:
        assert with_participants(booking(status), 5).number_of_participants == 5
        return
    with pytest.raises(FailedPrecondition) as exc:
        with_participants(booking(status), 5)
    assert exc.value.reason == "BOOKING_NOT_ACTIVE"


def test_the_new_party_size_must_be_within_bounds_and_the_service_limit() -> None:
    with pytest.raises(InvalidArgument):
        with_participants(booking(), 0)
    require_max_participants(3, 3)
    with pytest.raises(FailedPrecondition) as exc:
        require_max_participants(4, 3)
    assert (exc.value.reason, exc.value.metadata) == ("MAX_PARTICIPANTS_EXCEEDED", {"max_participants_per_booking": "3"})


@pytest.mark.parametrize(
    "booking_id, revision, bad",
    [
        pytest.param(BOOKING_ID, 1, set(), id="valid"),
        pytest.param("", 1, {"booking_id"}, id="id required"),
        pytest.param(BOOKING_ID, 0, {"revision"}, id="revision required"),
        pytest.param("x", -1, {"booking_id", "revision"}, id="both"),
    ],
)
def test_a_change_names_its_booking_and_revision(booking_id: str, revision: int, bad: set[str]) -> None:
    found = validate_change(booking_id, revision)
    if not bad:
        found.raise_if_any()
        return
    with pytest.raises(InvalidArgument) as exc:
        found.raise_if_any()
    assert violations(exc) == bad


# --- the cancellation window -------------------------------------------------------------------------


WINDOW = CancellationPolicy(enabled=True, latest_cancellation_in_minutes=60)


@pytest.mark.parametrize(
    "policy, reference, now, late",
    [
        pytest.param(WINDOW, F, F - 61 * MINUTE, False, id="before the deadline"),
        pytest.param(WINDOW, F, F - 60 * MINUTE, False, id="exactly at the deadline: still allowed (strict)"),
        pytest.param(WINDOW, F, F - 60 * MINUTE + timedelta(seconds=1), True, id="one second after the deadline"),
        pytest.param(WINDOW, F, F + MINUTE, True, id="after the start"),
        pytest.param(CancellationPolicy(False, 60), F, F + MINUTE, False, id="policy disabled: any time"),
        pytest.param(CancellationPolicy(True, 0), F, F - timedelta(seconds=1), False, id="0 minutes: until the start"),
        pytest.param(CancellationPolicy(True, 0), F, F + timedelta(seconds=1), True, id="0 minutes: not after the start"),
        pytest.param(WINDOW, None, F, False, id="no session: nothing to measure from"),
    ],
)
def test_the_cancellation_window(policy: CancellationPolicy, reference: datetime | None, now: datetime, late: bool) -> None:
    assert too_late_to_cancel(now, policy, reference) is late
    if late:
        with pytest.raises(FailedPrecondition) as exc:
            require_cancellable_now(now, policy, reference)
        assert exc.value.reason == "TOO_LATE_TO_CANCEL"
        assert exc.value.metadata == {"latest_cancellation_date": (F - timedelta(minutes=policy.latest_cancellation_in_minutes)).isoformat()}
    else:
        require_cancellable_now(now, policy, reference)


def test_the_deadline_is_the_reference_minus_the_minutes() -> None:
    assert cancellation_deadline(WINDOW, F) == F - 60 * MINUTE
    assert cancellation_deadline(replace(WINDOW, enabled=False), F) is None


# --- availability's refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason, message",
    [
        ("TOO_EARLY_TO_BOOK", "booking is not open yet"),
        ("TOO_LATE_TO_BOOK", "booking has closed"),
        ("BOOK_ONLINE_DISABLED", "the service cannot be booked online"),
        ("CAPACITY_EXCEEDED", "not enough open spots"),
        ("EVENT_CANCELLED", "the event is cancelled"),
        ("MAX_PARTICIPANTS_EXCEEDED", "more participants than the service allows in one booking"),
        ("SOMETHING_NEW", "the booking is not possible now"),
    ],
)
def test_a_refusal_carries_availabilitys_reason(reason: str, message: str) -> None:
    error = refusal(reason, open_spots=1, total_spots=8)
    assert (error.reason, str(error), error.metadata) == (reason, message, {"open_spots": "1", "total_spots": "8"})


# --- strict capacity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "held, requested, capacity, open_spots",
    [
        pytest.param(0, 1, 5, None, id="an empty session takes a booking"),
        pytest.param(4, 1, 5, None, id="the last spot is taken"),
        pytest.param(0, 5, 5, None, id="a party may fill the whole session"),
        pytest.param(3, 2, 5, None, id="a party fits exactly into what is left"),
        pytest.param(5, 1, 5, 0, id="a full session refuses"),
        pytest.param(4, 2, 5, 1, id="a party bigger than what is left is refused whole, not split"),
        pytest.param(0, 6, 5, 5, id="a party bigger than the session is refused"),
        pytest.param(7, 1, 5, 0, id="an overbooked session refuses and shows no open spot, not a negative one"),
        pytest.param(3, 1, 3, 0, id="a capacity lowered to what is held refuses"),
        pytest.param(0, 1, 0, 0, id="no capacity (no session ahead) refuses"),
    ],
)
def test_strict_capacity_admits_a_party_only_when_it_fits_next_to_the_held_spots(held: int, requested: int, capacity: int, open_spots: int | None) -> None:
    refused = capacity_refusal(held=held, requested=requested, capacity=capacity)
    if open_spots is None:
        assert refused is None
        return
    assert refused is not None
    assert (refused.reason, str(refused), refused.metadata) == (
        "CAPACITY_EXCEEDED",
        "not enough open spots",
        {"open_spots": str(open_spots), "total_spots": str(capacity)},
    )


def test_a_strict_refusal_has_the_shape_of_availabilitys_capacity_refusal() -> None:
    strict = capacity_refusal(held=5, requested=1, capacity=5)
    assert strict is not None
    availability = refusal("CAPACITY_EXCEEDED", open_spots=0, total_spots=5)
    assert (strict.reason, str(strict), strict.metadata) == (availability.reason, str(availability), availability.metadata)


# --- appointments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "free, that_day, order",
    [
        pytest.param(["b", "a", "c"], {}, ["a", "b", "c"], id="no appointments yet: a stable order"),
        pytest.param(["a", "b", "c"], {"a": 2, "b": 1}, ["c", "b", "a"], id="fewest appointments that day first"),
        pytest.param(["a", "b", "c"], {"a": 1, "c": 1}, ["b", "a", "c"], id="ties keep the stable order"),
        pytest.param(["a"], {"a": 9}, ["a"], id="the only free one"),
    ],
)
def test_round_robin_shares_the_work(free: list[str], that_day: dict[str, int], order: list[str]) -> None:
    assert round_robin(free, that_day) == order


@pytest.mark.parametrize(
    "answer, error, reason",
    [
        pytest.param(AppointmentSlotAnswer(("s",)), None, None, id="a free staff member: bookable"),
        pytest.param(AppointmentSlotAnswer(("s",), online_disabled=True), FailedPrecondition, "BOOK_ONLINE_DISABLED", id="online booking off"),
        pytest.param(AppointmentSlotAnswer((), too_late=True, booked=True), FailedPrecondition, "TOO_LATE_TO_BOOK", id="the policy refuses before the time"),
        pytest.param(AppointmentSlotAnswer(("s",), too_early=True), FailedPrecondition, "TOO_EARLY_TO_BOOK", id="beyond the horizon"),
        pytest.param(AppointmentSlotAnswer((), booked=True), AlreadyExists, "SLOT_UNAVAILABLE", id="booked by someone else"),
        pytest.param(AppointmentSlotAnswer((), time_off=True), AlreadyExists, "SLOT_UNAVAILABLE", id="time off"),
        pytest.param(AppointmentSlotAnswer((), holiday=True), AlreadyExists, "SLOT_UNAVAILABLE", id="a holiday"),
    ],
)
def test_an_appointment_slot_is_refused_by_policy_first_then_as_taken(answer: AppointmentSlotAnswer, error: type[Exception] | None, reason: str | None) -> None:
    refused = appointment_refusal(answer, F, F + 30 * MINUTE)
    assert (type(refused) if refused is not None else None, getattr(refused, "reason", None)) == (error, reason)


def test_an_appointment_request_fingerprint_includes_its_time_and_staff_member() -> None:
    base = draft(**APPOINTMENT)
    assert request_fingerprint(base) != request_fingerprint(draft(**(APPOINTMENT | {"end": WireTimestamp.of(F + 45 * MINUTE)})))
    assert request_fingerprint(base) != request_fingerprint(draft(**(APPOINTMENT | {"staff_member_id": STAFF_ID})))
    assert request_fingerprint(base) == request_fingerprint(draft(**APPOINTMENT))
