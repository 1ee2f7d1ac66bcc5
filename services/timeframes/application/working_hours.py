"""Working hours' use cases (calendar.working_hours.v1.WorkingHours; ports in
application/ports.py). Each validates its command completely (domain/working_hours.py) before
touching the store, then reads, or writes in exactly one `store.write(tenant)` transaction.

A schedule is the tenant's or unknown: another tenant's schedule is NOT_FOUND exactly as one that
does not exist (the session filters every statement by its tenant). Working hours change no event.

Every write that changes a schedule's hours announces it with
`session.record_working_hours_changed(schedule_id, part)` in its transaction: one
`calendar.working-hours-events.v1` message, on which availability drops the hours it cached. A
refused write, or one that changes nothing (the rules the schedule has), announces nothing.

Time off is occupied time, kept apart from the time held for appointments by the store
(application/holds.py, docs/appointments.md "Double booking"): time off over a hold is refused
(TIME_OCCUPIED, naming the bookings).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.common.errors import AlreadyExists, NotFound
from services.common.weekly_rules import WeeklyRule
from services.timeframes.application.ports import CalendarSession, CalendarStore
from services.timeframes.domain import working_hours as wh
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.holds import Occupants, time_occupied
from services.timeframes.domain.model import Schedule

TIME_OFF = "time_off"
EXTRA_HOURS = "extra_hours"
_PARTS = {TIME_OFF: wh.WorkingHoursPart.TIME_OFF, EXTRA_HOURS: wh.WorkingHoursPart.EXTRA_HOURS}
# A refused time off names the holds in its way, read after the refusal; if they were released
# in between (a release takes no lock), the insert is tried again, this many times in all.
OCCUPIED_ATTEMPTS = 3


def _new_id() -> str:
    return str(uuid.uuid4())


async def _schedule(session: CalendarSession, schedule_id: str) -> Schedule:
    schedule = await session.schedule(schedule_id)
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    return schedule


class WorkingHours:
    def __init__(self, store: CalendarStore, new_id: Callable[[], str] = _new_id):
        self._store = store
        self._new_id = new_id

    # --- weekly rules ----------------------------------------------------------------------------

    async def set_weekly_rules(self, tenant: str, schedule_id: str, rules: list[wh.WeeklyRuleInput]) -> list[WeeklyRule]:
        command = wh.validate_set_weekly_rules(schedule_id, rules)
        async with self._store.write(tenant) as session:
            # Locked, so two concurrent replacements of one schedule's rules run one after the other.
            if await session.lock_schedule(command.schedule_id) is None:
                raise NotFound("schedule", command.schedule_id)
            # The rules the schedule has, in whatever order, change nothing: not stored again, not
            # announced (a cache would be dropped for nothing). Valid rule sets hold no duplicates.
            if set(await session.weekly_rules(command.schedule_id)) != set(command.rules):
                await session.replace_weekly_rules(command.schedule_id, command.rules)
                await session.record_working_hours_changed(command.schedule_id, wh.WorkingHoursPart.WEEKLY_RULES)
        return sorted(command.rules, key=wh.rule_sort_key)

    async def list_weekly_rules(self, tenant: str, schedule_id: str) -> list[WeeklyRule]:
        schedule_id = wh.validate_schedule_id(schedule_id)
        async with self._store.read(tenant) as session:
            await _schedule(session, schedule_id)
            rules = await session.weekly_rules(schedule_id)
        return sorted(rules, key=wh.rule_sort_key)

    # --- time off and extra hours ----------------------------------------------------------------

    async def create_span(self, tenant: str, kind: str, schedule_id: str, span: wh.SpanInput) -> wh.Span:
        """CreateTimeOff (kind TIME_OFF) and CreateExtraHours (EXTRA_HOURS)."""
        new = wh.validate_new_span(schedule_id, kind, span)
        async with self._store.write(tenant) as session:
            if kind == EXTRA_HOURS:
                await _schedule(session, new.schedule_id)
                extra = await session.add_extra_hours(self._new_id(), new)
                await session.record_working_hours_changed(new.schedule_id, wh.WorkingHoursPart.EXTRA_HOURS)
                return extra
            if await session.lock_occupied_time(new.schedule_id) is None:
                raise NotFound("schedule", new.schedule_id)
            occupants = Occupants()
            for _ in range(OCCUPIED_ATTEMPTS):
                created = await session.add_time_off(self._new_id(), new)
                if created is not None:
                    await session.record_working_hours_changed(new.schedule_id, wh.WorkingHoursPart.TIME_OFF)
                    return created
                occupants = await session.occupants(new.schedule_id, new.start, new.end)
                if occupants.booking_ids:
                    break
            raise time_occupied(new.schedule_id, new.start, new.end, occupants)

    async def delete_span(self, tenant: str, kind: str, schedule_id: str, span_id: str) -> None:
        schedule_id, span_id = wh.validate_delete(schedule_id, f"{kind}_id", span_id)
        async with self._store.write(tenant) as session:
            await _schedule(session, schedule_id)
            if not await session.delete_span(kind, schedule_id, span_id):
                raise NotFound(kind, span_id)
            await session.record_working_hours_changed(schedule_id, _PARTS[kind])

    # --- holidays --------------------------------------------------------------------------------

    async def create_holiday(self, tenant: str, schedule_id: str, local_date: str, reason: str) -> wh.Holiday:
        new = wh.validate_new_holiday(schedule_id, local_date, reason)
        async with self._store.write(tenant) as session:
            await _schedule(session, new.schedule_id)
            holiday = await session.add_holiday(self._new_id(), new)
            if holiday is None:
                raise AlreadyExists("holiday", f"{new.schedule_id}/{new.local_date.isoformat()}")
            await session.record_working_hours_changed(new.schedule_id, wh.WorkingHoursPart.HOLIDAYS)
            return holiday

    async def delete_holiday(self, tenant: str, schedule_id: str, holiday_id: str) -> None:
        schedule_id, holiday_id = wh.validate_delete(schedule_id, "holiday_id", holiday_id)
        async with self._store.write(tenant) as session:
            await _schedule(session, schedule_id)
            if not await session.delete_holiday(schedule_id, holiday_id):
                raise NotFound("holiday", holiday_id)
            await session.record_working_hours_changed(schedule_id, wh.WorkingHoursPart.HOLIDAYS)

    # --- exceptions ------------------------------------------------------------------------------

    async def list_exceptions(self, tenant: str, schedule_id: str, start: WireTimestamp | None, end: WireTimestamp | None) -> wh.Exceptions:
        """Time off and extra hours overlapping [from, to), and the holidays on the schedule's
        local dates that [from, to) touches."""
        query = wh.validate_exceptions_range(schedule_id, start, end)
        async with self._store.read(tenant) as session:
            schedule = await _schedule(session, query.schedule_id)
            first, last = wh.local_dates(query.start, query.end, ZoneInfo(schedule.time_zone))
            return wh.Exceptions(
                time_off=await session.spans(TIME_OFF, query.schedule_id, query.start, query.end),
                extra_hours=await session.spans(EXTRA_HOURS, query.schedule_id, query.start, query.end),
                holidays=await session.holidays(query.schedule_id, first, last),
            )

    # --- several schedules at once ---------------------------------------------------------------

    async def list_working_hours(
        self, tenant: str, schedule_ids: list[str], start: WireTimestamp | None, end: WireTimestamp | None
    ) -> list[wh.ScheduleWorkingHours]:
        """ListWorkingHours, on availability's hot path: one statement for all schedules, in the
        order of `schedule_ids`; the first of them that is not the tenant's is NOT_FOUND."""
        query = wh.validate_working_hours_query(schedule_ids, start, end)
        # Holidays are local dates. A zone's offset is less than a day (Python allows no more), so
        # an instant's local date is within a day of its UTC date: these dates hold every
        # schedule's, which are cut exactly below.
        first = query.start.date() - timedelta(days=1)
        last = (query.end - timedelta(microseconds=1)).date() + timedelta(days=1)
        async with self._store.read(tenant) as session:
            found = await session.working_hours(query.schedule_ids, query.start, query.end, first, last)
        answer = []
        for schedule_id in query.schedule_ids:
            hours = found.get(schedule_id)
            if hours is None:
                raise NotFound("schedule", schedule_id)
            local_first, local_last = wh.local_dates(query.start, query.end, ZoneInfo(hours.time_zone))
            answer.append(
                dataclasses.replace(
                    hours,
                    rules=sorted(hours.rules, key=wh.rule_sort_key),
                    holidays=[h for h in hours.holidays if local_first <= h.local_date <= local_last],
                )
            )
        return answer
