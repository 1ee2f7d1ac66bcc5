"""AvailabilityCalendar (application/calendar_v1.py) with fakes of its ports: the v1 answer is the
domain's decision, the proxy toggle picks the capacity source (event vs bookings), the shadow
comparison counts and logs mismatches without changing the answer, and errors keep their
precedence. Plus the v1 protobuf mapping of the entrypoint."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from services.api.bookings.availability.v1 import availability_calendar_pb2
from services.availability.application.calendar_v1 import AvailabilityCalendar, CalendarAnswer, Inputs, answer, mismatched_fields, with_booked
from services.availability.application.memo import ServiceMemo
from services.availability.domain.model import ProvidedPolicy, ServiceType
from services.availability.domain.toggles import PROXY_COURSE_TO_NEW_ENDPOINT
from services.availability.mapping import schedule_availability_proto, slot_availability_proto
from services.common.errors import DependencyUnavailable, InvalidArgument, NotFound
from tests.unit.availability.fakes import FakeInputs, FakeToggles
from tests.unit.availability.helpers import CLASS_SCHEDULE, CLASS_SERVICE, COURSE_SCHEDULE, COURSE_SERVICE, DAY, HOUR, F, course, klass, policy, session, weekly

TENANT = "tenant-a"
NOW = F - DAY
EVENT_ID = "55555555-5555-4555-8555-555555555555"


# --- the answer (pure) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, party, expected",
    [
        pytest.param(
            Inputs(course(), tuple(weekly((4, 6, 5))), None), 1, CalendarAnswer(10, 4, False, False, False, True, "", 10), id="course: the fullest session"
        ),
        pytest.param(
            Inputs(course(policy(max_participants=10)), tuple(weekly((4, 6, 5))), None),
            5,
            CalendarAnswer(10, 4, False, False, False, False, "CAPACITY_EXCEEDED", 10),
            id="course: party too big",
        ),
        pytest.param(
            Inputs(course(policy(max_participants=2)), tuple(weekly()), None),
            3,
            CalendarAnswer(10, 10, False, False, False, False, "MAX_PARTICIPANTS_EXCEEDED", 10),
            id="over the party limit is not bookable",
        ),
        pytest.param(
            Inputs(course(policy(early=60)), tuple(weekly()), None),
            1,
            CalendarAnswer(10, 10, True, False, False, False, "TOO_EARLY_TO_BOOK", 10),
            id="too early",
        ),
        pytest.param(
            Inputs(course(online=False), tuple(weekly((0, 0, 0))), None),
            1,
            CalendarAnswer(10, 0, False, False, True, False, "BOOK_ONLINE_DISABLED", 10),
            id="policy before capacity",
        ),
        pytest.param(
            Inputs(klass(), (session(F, 3, schedule=CLASS_SCHEDULE),), None),
            0,
            CalendarAnswer(10, 3, False, False, False, True, "", schedule_id=CLASS_SCHEDULE),
            id="class: 0 means 1",
        ),
        pytest.param(
            Inputs(klass(), (session(F, -2, schedule=CLASS_SCHEDULE),), None),
            1,
            CalendarAnswer(10, 0, False, False, False, False, "CAPACITY_EXCEEDED", schedule_id=CLASS_SCHEDULE),
            id="overbooked shows 0 open",
        ),
        pytest.param(
            Inputs(klass(), (session(F, 5, schedule=CLASS_SCHEDULE, cancelled=True),), None),
            1,
            CalendarAnswer(10, 5, False, False, False, False, "EVENT_CANCELLED", schedule_id=CLASS_SCHEDULE),
            id="class event cancelled",
        ),
        pytest.param(
            Inputs(klass(policy(late=60 * 48)), (session(F, 5, schedule=CLASS_SCHEDULE),), None),
            1,
            CalendarAnswer(10, 5, False, True, False, False, "TOO_LATE_TO_BOOK", schedule_id=CLASS_SCHEDULE),
            id="class too late",
        ),
    ],
)
def test_the_answer_is_the_domain_decision(inputs: Inputs, party: int, expected: CalendarAnswer) -> None:
    assert answer(NOW, inputs, party) == expected


def test_a_course_answer_names_the_smallest_total_capacity_of_the_sessions_ahead() -> None:
    # The started session (6) and the cancelled one (3) no longer limit the course; 8 does.
    sessions = (session(NOW - HOUR, total=6), session(F, total=12), session(F + DAY, total=8), session(F + 2 * DAY, total=3, cancelled=True))
    found = answer(NOW, Inputs(course(policy(after_start=True)), sessions, None), 1)
    assert (found.min_total_spots_ahead, found.total_spots) == (8, 12)


def test_legacy_capacity_is_total_minus_the_booked_participants_on_every_session() -> None:
    inputs = Inputs(course(), tuple(weekly((10, 9, 10))), None)
    legacy = with_booked(inputs, 7)
    assert [s.remaining_capacity for s in legacy.sessions] == [3, 3, 3]
    assert [replace(s, remaining_capacity=0) for s in legacy.sessions] == [replace(s, remaining_capacity=0) for s in inputs.sessions]
    assert (legacy.offering, legacy.time_frame) == (inputs.offering, inputs.time_frame)


@pytest.mark.parametrize(
    "v2, fields",
    [
        pytest.param({}, [], id="equal"),
        pytest.param({"open_spots": 9, "total_spots": 99}, ["open_spots"], id="total spots are not compared"),
        pytest.param({"bookable": False, "refusal_reason": "CAPACITY_EXCEEDED", "open_spots": 0}, ["bookable", "open_spots", "refusal_reason"], id="all three"),
    ],
)
def test_the_shadow_compares_bookable_open_spots_and_the_reason(v2: dict[str, Any], fields: list[str]) -> None:
    legacy = CalendarAnswer(10, 4, False, False, False, True, "")
    assert mismatched_fields(legacy, replace(legacy, **v2)) == fields


# --- the use case with fakes -------------------------------------------------------------------------


@dataclass
class FakeLedger:
    booked: int = 0
    error: Exception | None = None
    asked: list[dict[str, str]] = field(default_factory=list)

    async def booked_participants(self, *, schedule_id: str = "", event_id: str = "") -> int:
        self.asked.append({"schedule_id": schedule_id, "event_id": event_id})
        if self.error is not None:
            raise self.error
        return self.booked


@dataclass
class Setup:
    inputs: FakeInputs
    ledger: FakeLedger
    toggles: FakeToggles
    reader: InMemoryMetricReader
    calendar: AvailabilityCalendar

    def proxy(self, on: bool) -> None:
        (self.toggles.on.add if on else self.toggles.on.discard)((PROXY_COURSE_TO_NEW_ENDPOINT, TENANT))

    def counters(self) -> dict[tuple[str, tuple[tuple[str, Any], ...]], int]:
        found: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    for point in metric.data.data_points:
                        found[(metric.name, tuple(sorted(point.attributes.items())))] = point.value  # type: ignore[attr-defined]
        return found


def make(*, shadow: bool = True, remaining: int = 10, booked: int = 0) -> Setup:
    course_sessions = [session(F + timedelta(days=7 * i), remaining, event_id=f"c{i}") for i in range(3)]
    class_session = session(F, remaining, schedule=CLASS_SCHEDULE, event_id=EVENT_ID)
    inputs = FakeInputs([course(policy(max_participants=10)), klass()], [*course_sessions, class_session])
    reader = InMemoryMetricReader()
    ledger, toggles = FakeLedger(booked), FakeToggles()
    calendar = AvailabilityCalendar(
        inputs, ledger, toggles, ServiceMemo(), shadow_compare=shadow, clock=lambda: NOW, meter_provider=MeterProvider(metric_readers=[reader])
    )
    return Setup(inputs, ledger, toggles, reader, calendar)


async def test_proxy_on_answers_from_the_event_capacity_without_reading_bookings() -> None:
    s = make(remaining=6, booked=9)
    s.proxy(True)

    found = await s.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1)

    assert (found.open_spots, found.bookable) == (6, True)
    assert s.ledger.asked == []
    assert s.counters()[("availability.calendar.requests", (("mode", "proxy"), ("rpc", "GetScheduleAvailability")))] == 1


async def test_proxy_off_answers_from_the_bookings_of_the_schedule_or_the_event() -> None:
    s = make(remaining=10, booked=9)

    course_answer = await s.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 2)
    class_answer = await s.calendar.slot_availability(TENANT, EVENT_ID, 1)

    assert (course_answer.open_spots, course_answer.refusal_reason) == (1, "CAPACITY_EXCEEDED")
    assert (class_answer.open_spots, class_answer.bookable) == (1, True)
    assert s.ledger.asked == [{"schedule_id": COURSE_SCHEDULE, "event_id": ""}, {"schedule_id": "", "event_id": EVENT_ID}]


async def test_the_shadow_counts_every_comparison_and_each_mismatched_field() -> None:
    s = make(remaining=10, booked=0)
    await s.calendar.slot_availability(TENANT, EVENT_ID, 1)  # settled: equal
    s.ledger.booked = 10  # a booking the pipeline has not counted on the event yet

    with structlog.testing.capture_logs() as logs:
        legacy = await s.calendar.slot_availability(TENANT, EVENT_ID, 1)

    assert (legacy.bookable, legacy.open_spots, legacy.refusal_reason) == (False, 0, "CAPACITY_EXCEEDED")  # the legacy answer is returned
    counters = s.counters()
    assert counters[("availability.calendar.shadow_comparisons", (("rpc", "GetSlotAvailability"),))] == 2
    for name in ("bookable", "open_spots", "refusal_reason"):
        assert counters[("availability.calendar.shadow_mismatches", (("field", name), ("rpc", "GetSlotAvailability")))] == 1
    (record,) = [r for r in logs if r.get("bi_event") == "calendar_shadow_mismatch"]
    assert (record["tenant_id"], record["event_id"], record["service_id"], record["fields"]) == (
        TENANT,
        EVENT_ID,
        CLASS_SERVICE,
        ["bookable", "open_spots", "refusal_reason"],
    )
    assert (record["legacy"]["open_spots"], record["v2"]["open_spots"], record["v2"]["bookable"]) == (0, 10, True)


async def test_without_shadow_compare_nothing_is_compared() -> None:
    s = make(shadow=False, booked=10)
    with structlog.testing.capture_logs() as logs:
        await s.calendar.slot_availability(TENANT, EVENT_ID, 1)
    assert not any(name.startswith("availability.calendar.shadow") for name, _ in s.counters())
    assert not [r for r in logs if r.get("bi_event")]


async def test_an_unknown_event_wins_over_an_unreachable_bookings() -> None:
    s = make()
    s.ledger.error = DependencyUnavailable("bookings", "UNAVAILABLE")
    with pytest.raises(NotFound):
        await s.calendar.slot_availability(TENANT, "77777777-7777-4777-8777-777777777777", 1)
    with pytest.raises(DependencyUnavailable):  # the legacy answer needs the bookings
        await s.calendar.slot_availability(TENANT, EVENT_ID, 1)
    s.proxy(True)
    assert (await s.calendar.slot_availability(TENANT, EVENT_ID, 1)).bookable  # the proxied one does not


async def test_the_wrong_rpc_for_the_service_type_names_the_field() -> None:
    s = make()
    with pytest.raises(InvalidArgument) as exc:
        await s.calendar.schedule_availability(TENANT, CLASS_SCHEDULE, 1)
    assert exc.value.violations[0].field == "schedule_id"
    with pytest.raises(InvalidArgument) as exc:
        await s.calendar.slot_availability(TENANT, "c0", 1)
    assert exc.value.violations[0].field == "event_id"


async def test_a_deleted_service_makes_its_schedule_unknown() -> None:
    s = make()
    s.inputs.delete(COURSE_SERVICE)
    with pytest.raises(NotFound):
        await s.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1)


async def test_time_frames_down_falls_back_to_the_first_session() -> None:
    s = make()
    s.inputs.frames_down = True
    assert (await s.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1)).bookable


async def test_a_schedules_owner_is_looked_up_once() -> None:
    s = make()
    for _ in range(3):
        await s.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1)
    assert s.inputs.calls["schedule_owner"] == 1


@pytest.mark.parametrize("party", [-1, 10_001])
async def test_the_party_size_is_validated(party: int) -> None:
    with pytest.raises(InvalidArgument) as exc:
        await make().calendar.schedule_availability(TENANT, COURSE_SCHEDULE, party)
    assert [v.field for v in exc.value.violations] == ["number_of_participants"]


# --- a service the caller passes --------------------------------------------------------------------


async def test_a_service_the_caller_passes_is_answered_from_without_reading_it_again() -> None:
    setup = make(remaining=4)
    setup.proxy(True)
    assert (await setup.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 2, course(policy(max_participants=10)))).open_spots == 4
    assert (await setup.calendar.slot_availability(TENANT, EVENT_ID, 2, klass(policy(max_participants=2)))).schedule_id == CLASS_SCHEDULE
    assert (setup.inputs.service_reads, setup.inputs.calls["schedule_owner"]) == (0, 0)


async def test_the_policy_providers_word_overrides_a_passed_service() -> None:
    setup = make()
    setup.proxy(True)
    setup.inputs.provided[COURSE_SERVICE] = ProvidedPolicy(online_booking_enabled=False, policy=policy())
    found = await setup.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1, course())
    assert (found.book_online_disabled, found.refusal_reason) == (True, "BOOK_ONLINE_DISABLED")


@pytest.mark.parametrize("ask", ["schedule", "slot"])
async def test_a_passed_service_must_own_what_is_asked_about(ask: str) -> None:
    setup = make()
    setup.proxy(True)
    other = replace(klass(), schedule_id="99999999-9999-4999-8999-999999999999")
    with pytest.raises(InvalidArgument) as exc:
        if ask == "schedule":
            await setup.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1, other)
        else:
            await setup.calendar.slot_availability(TENANT, EVENT_ID, 1, other)
    assert [v.field for v in exc.value.violations] == ["service.schedule_id"]


@pytest.mark.parametrize("ask, field", [("schedule", "schedule_id"), ("slot", "event_id")])
async def test_a_passed_appointment_service_is_refused_on_the_field_asked_about(ask: str, field: str) -> None:
    setup = make()
    setup.proxy(True)
    appointment = replace(course() if ask == "schedule" else klass(), type=ServiceType.APPOINTMENT)
    with pytest.raises(InvalidArgument) as exc:
        if ask == "schedule":
            await setup.calendar.schedule_availability(TENANT, COURSE_SCHEDULE, 1, appointment)
        else:
            await setup.calendar.slot_availability(TENANT, EVENT_ID, 1, appointment)
    assert [v.field for v in exc.value.violations] == [field]


# --- the v1 protobuf mapping ---------------------------------------------------------------------------


def test_the_answer_maps_to_both_v1_messages() -> None:
    found = CalendarAnswer(
        total_spots=8,
        open_spots=3,
        too_early_to_book=True,
        too_late_to_book=False,
        book_online_disabled=True,
        bookable=False,
        refusal_reason="X",
        min_total_spots_ahead=6,
    )
    expected = {
        "total_spots": 8,
        "open_spots": 3,
        "bookable": False,
        "refusal_reason": "X",
        "booking_policy_violations": availability_calendar_pb2.BookingPolicyViolations(too_early_to_book=True, book_online_disabled=True),
    }
    assert schedule_availability_proto(found) == availability_calendar_pb2.ScheduleAvailability(**expected, min_total_spots_ahead=6)
    assert slot_availability_proto(found) == availability_calendar_pb2.SlotAvailability(**expected)
