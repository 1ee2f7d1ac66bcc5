"""The demo tenant `make run` loads, through the public gRPC API only (the same calls as the
`bookings` CLI), so it also shows that the stack works end to end.

Idempotent across runs: services are found by name and reused; the course gets its sessions only
when its schedule has none yet (it is anchored to the day of the first run, so a later run must
not add a second, shifted series); the class gets only the daily sessions of the next 14 days
that it does not have yet (cancelled ones count as present, so a cancellation sticks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from services.api.bookings.catalog.v1 import services_pb2
from services.api.bookings.policies.v1 import booking_policy_pb2 as policy_pb2
from services.api.calendar.events.v3 import events_pb2
from services.cli import timeseries
from services.cli.client import DEFAULT_SCOPES, Client, instant, timestamp
from services.common.auth import mint_token

DEMO_TENANT = "demo"
TIME_ZONE = "Europe/Vienna"
COURSE_NAME = "Demo course: Pottery basics"
CLASS_NAME = "Demo class: Morning yoga"
COURSE_SESSIONS, COURSE_PAST_SESSIONS, COURSE_AT, COURSE_MINUTES = 10, 2, time(18, 0), 90
CLASS_DAYS, CLASS_AT, CLASS_MINUTES = 14, time(7, 30), 60


@dataclass(frozen=True)
class DemoSummary:
    tenant: str
    course_service_id: str
    course_schedule_id: str
    class_service_id: str
    class_schedule_id: str
    course_events_created: int
    course_event_count: int  # non-cancelled sessions on the course's schedule
    class_events_created: int
    class_event_count: int

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        return [
            self.tenant,
            f"  {COURSE_NAME}: service {self.course_service_id}, schedule {self.course_schedule_id} "
            f"({self.course_event_count} sessions, {self.course_events_created} created now)",
            f"  {CLASS_NAME}: service {self.class_service_id}, schedule {self.class_schedule_id} "
            f"({self.class_event_count} sessions, {self.class_events_created} created now)",
        ]


def _course() -> services_pb2.Service:
    return services_pb2.Service(
        type=services_pb2.COURSE,
        name=COURSE_NAME,
        default_capacity=12,
        time_zone=TIME_ZONE,
        online_booking_enabled=True,
        booking_policy=policy_pb2.BookingPolicy(
            limit_late_booking=policy_pb2.LimitLateBookingPolicy(enabled=True, latest_booking_in_minutes=60),
            book_after_start_policy=policy_pb2.BookAfterStartPolicy(enabled=True),
            participants_policy=policy_pb2.ParticipantsPolicy(max_participants_per_booking=2),
            cancellation_policy=policy_pb2.CancellationPolicy(enabled=True, latest_cancellation_in_minutes=24 * 60),
        ),
    )


def _class() -> services_pb2.Service:
    return services_pb2.Service(type=services_pb2.CLASS, name=CLASS_NAME, default_capacity=15, time_zone=TIME_ZONE, online_booking_enabled=True)


def _ensure_service(client: Client, wanted: services_pb2.Service) -> services_pb2.Service:
    for service in client.iter_services(types=[wanted.type]):
        if service.name == wanted.name:
            return service
    return client.create_service(wanted).service


def _events(schedule_id: str, series: list[timeseries.Occurrence]) -> list[events_pb2.Event]:
    return [events_pb2.Event(schedule_id=schedule_id, start=timestamp(o.start), end=timestamp(o.end)) for o in series]


def course_series(now: datetime) -> list[timeseries.Occurrence]:
    """10 weekly 90-minute sessions at 18:00 Vienna time, exactly 2 of them started before `now`:
    the first is 14 days before the next 18:00 (today's, or tomorrow's once today's has begun)."""
    tz = timeseries.zone(TIME_ZONE)
    next_session = timeseries.next_wall_time(now, tz, COURSE_AT)
    first = next_session - timedelta(weeks=COURSE_PAST_SESSIONS)
    return timeseries.series(first, tz, timedelta(minutes=COURSE_MINUTES), COURSE_SESSIONS, timeseries.Interval(7, "d"))


def class_series(now: datetime) -> list[timeseries.Occurrence]:
    """Daily 60-minute sessions at 07:30 Vienna time for 14 days, starting today (local)."""
    tz = timeseries.zone(TIME_ZONE)
    first = datetime.combine(timeseries.to_local(now, tz).date(), CLASS_AT)
    return timeseries.series(first, tz, timedelta(minutes=CLASS_MINUTES), CLASS_DAYS, timeseries.Interval(1, "d"))


def load_demo(
    bookings_address: str,
    timeframes_address: str,
    jwt_secret: str,
    now: datetime | None = None,
    tenant: str = DEMO_TENANT,
    timeout: float = 10.0,
) -> DemoSummary:
    """Creates (or finds) the demo course and class of `tenant` and their sessions.
    Raises services.cli.client.CallError when a call fails."""
    now = now or datetime.now(UTC)
    token = mint_token(jwt_secret, tenant_id=tenant, scopes=DEFAULT_SCOPES, subject="devstack:demo", ttl_seconds=600)
    with Client(bookings_address=bookings_address, timeframes_address=timeframes_address, token=token, timeout=timeout) as client:
        course = _ensure_service(client, _course())
        course_created = 0
        if not client.query_events(schedule_ids=[course.schedule_id], include_cancelled=True, limit=1).events:
            course_created = len(client.bulk_create_events(_events(course.schedule_id, course_series(now))).events)

        yoga = _ensure_service(client, _class())
        wanted = class_series(now)
        existing = {
            instant(e.start)
            for e in client.iter_events(
                schedule_ids=[yoga.schedule_id],
                from_date=timestamp(wanted[0].start),
                to_date=timestamp(wanted[-1].start + timedelta(seconds=1)),
                include_cancelled=True,
            )
        }
        missing = [o for o in wanted if o.start not in existing]
        class_created = len(client.bulk_create_events(_events(yoga.schedule_id, missing)).events) if missing else 0

        frames = {f.schedule_id: f for f in client.list_time_frames([course.schedule_id, yoga.schedule_id]).time_frames}
    return DemoSummary(
        tenant=tenant,
        course_service_id=course.id,
        course_schedule_id=course.schedule_id,
        class_service_id=yoga.id,
        class_schedule_id=yoga.schedule_id,
        course_events_created=course_created,
        course_event_count=frames[course.schedule_id].event_count,
        class_events_created=class_created,
        class_event_count=frames[yoga.schedule_id].event_count,
    )
