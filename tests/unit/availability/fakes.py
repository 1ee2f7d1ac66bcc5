"""In-memory stand-ins for availability's ports (application/ports.py), holding domain objects, for
the use cases' unit tests. Each counts the reads it answered, so a test can say what was read."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.availability.application.ports import Found, Wanted
from services.availability.domain.appointments import StaffCalendar, StaffMember
from services.availability.domain.model import Interval, Offering, ProvidedPolicy, Session, TimeFrame
from services.common.errors import DependencyUnavailable, NotFound
from tests.unit.availability.helpers import frame_of


@dataclass
class FakeInputs:
    """One tenant's catalog and calendar. `owners` defaults to each offering owning its schedule;
    `provided`: the policy provider's answers; `frames_down`: ScheduleTimeFrames unavailable."""

    offerings: list[Offering]
    sessions: list[Session]
    provided: dict[str, ProvidedPolicy] = field(default_factory=dict)
    frames_down: bool = False
    owners: dict[str, str] = field(default_factory=dict)
    reads: list[Wanted] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.owners = self.owners or {o.schedule_id: o.service_id for o in self.offerings}

    async def read(self, tenant: str, wanted: Wanted) -> Found:
        self.reads.append(wanted)
        by_id = {o.service_id: o for o in self.offerings}
        if wanted.service_ids:
            offerings = [by_id[s] for s in wanted.service_ids if s in by_id]
        elif wanted.of_type is not None:
            offerings = [o for o in self.offerings if o.type is wanted.of_type]
        else:
            offerings = []
        offerings = [self.provided[o.service_id].applied_to(o) if o.service_id in self.provided else o for o in offerings]
        sessions = [s for schedule in wanted.course_schedules for s in self._of(schedule)]
        if wanted.window is not None and wanted.window[0] < wanted.window[1]:
            start, end = wanted.window
            sessions += [s for schedule in wanted.class_schedules for s in self._of(schedule) if start <= s.start < end]
        frames: dict[str, TimeFrame] | None = {s: frame_of(self._of(s), s) for s in wanted.course_schedules}
        failure = None
        if self.frames_down and wanted.course_schedules:
            frames, failure = None, DependencyUnavailable("time_frames", "UNAVAILABLE")
        return Found(offerings, sessions, frames, failure)

    async def event(self, tenant: str, event_id: str) -> Session:
        self.calls["event"] += 1
        found = next((s for s in self.sessions if s.event_id == event_id), None)
        if found is None:
            raise NotFound("event", event_id)
        return found

    async def schedule_owner(self, tenant: str, schedule_id: str) -> str:
        self.calls["schedule_owner"] += 1
        if schedule_id not in self.owners:
            raise NotFound("schedule", schedule_id)
        return self.owners[schedule_id]

    async def provided_policies(self, tenant: str, service_ids: Sequence[str]) -> dict[str, ProvidedPolicy]:
        self.calls["provided_policies"] += 1
        return {s: self.provided[s] for s in service_ids if s in self.provided}

    def _of(self, schedule_id: str) -> list[Session]:
        return sorted((s for s in self.sessions if s.schedule_id == schedule_id), key=lambda s: s.start)

    @property
    def service_reads(self) -> int:
        """Reads that asked the catalog for offerings."""
        return sum(1 for w in self.reads if w.service_ids or w.of_type is not None)

    def delete(self, service_id: str) -> None:
        """The service is deleted from the catalog; its schedule still names it as its owner."""
        self.offerings = [o for o in self.offerings if o.service_id != service_id]


@dataclass
class FakeToggles:
    on: set[tuple[str, str]] = field(default_factory=set)

    def enabled(self, toggle: str, tenant_id: str) -> bool:
        return (toggle, tenant_id) in self.on


@dataclass
class FakeAppointmentInputs:
    """One tenant's (`tenant`) appointment services, staff members and their whole calendars
    (`calendars_by_staff`, by staff member); another tenant finds nothing. The working hours and
    the occupied time are answered cut to the window asked, as the real reads do (time off, extra
    hours and appointments overlapping it), so a test sees what a too narrow window would miss.
    `reads` records each read: ("offering", service id, fresh), ("staff", ids), ("hours", ids,
    window), ("occupied", ids, window)."""

    tenant: str
    offerings: list[Offering]
    staff: list[StaffMember]
    calendars_by_staff: dict[str, StaffCalendar]
    reads: list[tuple[object, ...]] = field(default_factory=list)

    async def reading(self, tenant: str, service_id: str, *, fresh_service: bool) -> FakeReading:
        self.reads.append(("offering", service_id, fresh_service))
        offering = next((o for o in self.offerings if o.service_id == service_id), None) if tenant == self.tenant else None
        return FakeReading(self, tenant, offering)

    def read_kinds(self) -> list[object]:
        return [read[0] for read in self.reads]

    def windows(self, kind: str) -> list[Interval]:
        """The windows of every read of that kind ("hours" or "occupied"), in order."""
        return [read[2] for read in self.reads if read[0] == kind]  # type: ignore[misc]


@dataclass
class FakeReading:
    inputs: FakeAppointmentInputs
    tenant: str
    offering: Offering | None

    async def staff_members(self, staff_member_ids: Sequence[str]) -> list[StaffMember]:
        self.inputs.reads.append(("staff", tuple(staff_member_ids)))
        return [m for m in self.inputs.staff if m.staff_member_id in staff_member_ids] if self.tenant == self.inputs.tenant else []

    async def working_hours(self, staff: Sequence[StaffMember], window: Interval) -> list[StaffCalendar]:
        self.inputs.reads.append(("hours", tuple(m.staff_member_id for m in staff), window))
        assert self.tenant == self.inputs.tenant, "working hours of staff members read for another tenant"
        return [dataclasses.replace(_cut(self.inputs.calendars_by_staff[m.staff_member_id], window), appointments=()) for m in staff]

    async def occupied_time(self, staff: Sequence[StaffMember], window: Interval) -> dict[str, tuple[Interval, ...]]:
        self.inputs.reads.append(("occupied", tuple(m.staff_member_id for m in staff), window))
        assert self.tenant == self.inputs.tenant, "occupied time of staff members read for another tenant"
        return {m.staff_member_id: _cut(self.inputs.calendars_by_staff[m.staff_member_id], window).appointments for m in staff}


def _cut(calendar: StaffCalendar, window: Interval) -> StaffCalendar:
    return dataclasses.replace(
        calendar,
        extra_hours=tuple(i for i in calendar.extra_hours if i.overlaps(window)),
        time_off=tuple(i for i in calendar.time_off if i.overlaps(window)),
        appointments=tuple(i for i in calendar.appointments if i.overlaps(window)),
    )
