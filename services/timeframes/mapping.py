"""Domain -> protobuf mapping of events, one place for both of its users: the gRPC entrypoints
and the outbox (the `calendar.event-events.v1` messages carry the same `calendar.events.v3.Event`
the API returns); the `calendar.working-hours-events.v1` messages; and proto <-> domain of working
hours and appointment holds (calendar.working_hours.v1)."""

from __future__ import annotations

from datetime import datetime

from services.api.calendar.event_events.v1 import event_events_pb2
from services.api.calendar.events.v3 import events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2
from services.api.calendar.working_hours.v1 import working_hours_pb2 as hours_pb2
from services.api.calendar.working_hours_events.v1 import working_hours_events_pb2
from services.common import topics
from services.common.outbox import OutboxMessage
from services.common.timestamps import set_timestamp, to_timestamp
from services.common.weekly_rules import WeeklyRule
from services.timeframes.domain import working_hours as wh
from services.timeframes.domain.commands import WireTimestamp
from services.timeframes.domain.holds import AppointmentHold, HoldInput
from services.timeframes.domain.model import Count, Event, EventChange, EventStatus, Schedule, ScheduleStatus

_EVENT_MESSAGES = {
    EventChange.CREATED: topics.EVENT_CREATED,
    EventChange.UPDATED: topics.EVENT_UPDATED,
    EventChange.CANCELLED: topics.EVENT_CANCELLED,
    EventChange.PARTICIPANTS_UPDATED: topics.EVENT_PARTICIPANTS_UPDATED,
}
_EVENT_STATUS = {EventStatus.CONFIRMED: events_pb2.CONFIRMED, EventStatus.CANCELLED: events_pb2.CANCELLED}
_SCHEDULE_STATUS = {ScheduleStatus.ACTIVE: schedules_pb2.ACTIVE, ScheduleStatus.CANCELLED: schedules_pb2.CANCELLED}


def event_to_proto(event: Event) -> events_pb2.Event:
    return set_event_proto(events_pb2.Event(), event)


def set_event_proto(message: events_pb2.Event, event: Event) -> events_pb2.Event:
    """Fill `message` (fresh, or `response.events.add()`) with the event, timestamps set in place:
    cheaper than messages built apart and copied into the response (bench/README.md, "Measurements
    behind code choices"), and QueryEvents is the heaviest of the reads availability waits for."""
    message.id = event.id
    message.schedule_id = event.schedule_id
    set_timestamp(message.start, event.start)
    set_timestamp(message.end, event.end)
    message.time_zone = event.time_zone
    message.total_capacity = event.total_capacity
    message.participants_total = event.participants_total
    message.remaining_capacity = event.remaining_capacity
    parts = message.participant_parts
    _set_count(parts.event, event.participants.event)
    _set_count(parts.schedule, event.participants.schedule)
    _set_count(parts.legacy, event.participants.legacy)
    message.status = _EVENT_STATUS[event.status]
    message.revision = event.revision
    message.title = event.title
    set_timestamp(message.created_date, event.created_date)
    set_timestamp(message.updated_date, event.updated_date)
    return message


def _set_count(message: events_pb2.ParticipantCount, count: Count) -> None:
    message.total = count.total
    message.version = count.version


def event_message(tenant_id: str, change: EventChange, event: Event) -> OutboxMessage:
    """The integration event of one event's change: the whole event as of the change, keyed by
    its id."""
    message_type = _EVENT_MESSAGES[change]
    return OutboxMessage.of(tenant_id, topics.EVENT_EVENTS, message_type, event.id, message_type.message(event=event_to_proto(event)))


def schedule_to_proto(schedule: Schedule) -> schedules_pb2.Schedule:
    return schedules_pb2.Schedule(
        id=schedule.id,
        name=schedule.name,
        external_id=schedule.external_id,
        time_zone=schedule.time_zone,
        default_capacity=schedule.default_capacity,
        status=_SCHEDULE_STATUS[schedule.status],
        revision=schedule.revision,
        created_date=to_timestamp(schedule.created_date),
        participants_total=schedule.participants.total,
    )


def schedule_participants_message(tenant_id: str, schedule: Schedule) -> OutboxMessage:
    """The participants booked on a whole schedule changed (and with them every event's
    remaining capacity): one message for the schedule, keyed by its id."""
    message = event_events_pb2.ScheduleParticipantsUpdated(schedule=schedule_to_proto(schedule), participants_version=schedule.participants.version)
    return OutboxMessage.of(tenant_id, topics.EVENT_EVENTS, topics.SCHEDULE_PARTICIPANTS_UPDATED, schedule.id, message)


_WORKING_HOURS_PARTS = {
    wh.WorkingHoursPart.WEEKLY_RULES: working_hours_events_pb2.WEEKLY_RULES,
    wh.WorkingHoursPart.TIME_OFF: working_hours_events_pb2.TIME_OFF,
    wh.WorkingHoursPart.EXTRA_HOURS: working_hours_events_pb2.EXTRA_HOURS,
    wh.WorkingHoursPart.HOLIDAYS: working_hours_events_pb2.HOLIDAYS,
}


def working_hours_message(tenant_id: str, schedule_id: str, part: wh.WorkingHoursPart, changed_at: datetime) -> OutboxMessage:
    """A schedule's working hours changed: which part and when, not the new state (consumers read
    the hours again, so redelivery and reordering are harmless), keyed by the schedule id."""
    message = working_hours_events_pb2.WorkingHoursChanged(schedule_id=schedule_id, part=_WORKING_HOURS_PARTS[part], changed_at=to_timestamp(changed_at))
    return OutboxMessage.of(tenant_id, topics.WORKING_HOURS_EVENTS, topics.WORKING_HOURS_CHANGED, schedule_id, message)


# --- working hours -------------------------------------------------------------------------------


def weekly_rule_input(message: hours_pb2.WeeklyRule) -> wh.WeeklyRuleInput:
    return wh.WeeklyRuleInput(message.day_of_week, message.start_time, message.end_time, message.effective_from, message.effective_to)


def weekly_rule_to_proto(rule: WeeklyRule) -> hours_pb2.WeeklyRule:
    message = hours_pb2.WeeklyRule()
    _set_weekly_rule(message, rule)
    return message


_WireMessage = hours_pb2.TimeOff | hours_pb2.ExtraHours | hours_pb2.ListExceptionsRequest | hours_pb2.ListWorkingHoursRequest | hours_pb2.AppointmentHold


def _wire(message: _WireMessage, field: str) -> WireTimestamp | None:
    if not message.HasField(field):
        return None
    ts = getattr(message, field)
    return WireTimestamp(ts.seconds, ts.nanos)


def span_input(message: hours_pb2.TimeOff | hours_pb2.ExtraHours) -> wh.SpanInput:
    return wh.SpanInput(_wire(message, "start"), _wire(message, "end"), message.reason)


def exceptions_range(message: hours_pb2.ListExceptionsRequest | hours_pb2.ListWorkingHoursRequest) -> tuple[WireTimestamp | None, WireTimestamp | None]:
    return _wire(message, "from"), _wire(message, "to")


def time_off_to_proto(span: wh.Span) -> hours_pb2.TimeOff:
    return hours_pb2.TimeOff(id=span.id, schedule_id=span.schedule_id, start=to_timestamp(span.start), end=to_timestamp(span.end), reason=span.reason)


def extra_hours_to_proto(span: wh.Span) -> hours_pb2.ExtraHours:
    return hours_pb2.ExtraHours(id=span.id, schedule_id=span.schedule_id, start=to_timestamp(span.start), end=to_timestamp(span.end), reason=span.reason)


def holiday_to_proto(holiday: wh.Holiday) -> hours_pb2.Holiday:
    return hours_pb2.Holiday(id=holiday.id, schedule_id=holiday.schedule_id, local_date=holiday.local_date.isoformat(), reason=holiday.reason)


def set_schedule_working_hours(message: hours_pb2.ScheduleWorkingHours, hours: wh.ScheduleWorkingHours) -> None:
    """Fill `message` (`response.schedules.add()`) in place: ListWorkingHours is on availability's
    hot path (as set_event_proto)."""
    message.schedule_id = hours.schedule_id
    message.time_zone = hours.time_zone
    for rule in hours.rules:
        _set_weekly_rule(message.rules.add(), rule)
    for span in hours.time_off:
        _set_span(message.time_off.add(), span)
    for span in hours.extra_hours:
        _set_span(message.extra_hours.add(), span)
    for holiday in hours.holidays:
        added = message.holidays.add()
        added.id = holiday.id
        added.schedule_id = holiday.schedule_id
        added.local_date = holiday.local_date.isoformat()
        added.reason = holiday.reason


def _set_weekly_rule(message: hours_pb2.WeeklyRule, rule: WeeklyRule) -> None:
    message.day_of_week = rule.day_of_week
    message.start_time = wh.format_time(rule.start)
    message.end_time = wh.format_time(rule.end)
    if rule.effective_from:
        message.effective_from = rule.effective_from.isoformat()
    if rule.effective_to:
        message.effective_to = rule.effective_to.isoformat()


def _set_span(message: hours_pb2.TimeOff | hours_pb2.ExtraHours, span: wh.Span) -> None:
    message.id = span.id
    message.schedule_id = span.schedule_id
    set_timestamp(message.start, span.start)
    set_timestamp(message.end, span.end)
    message.reason = span.reason


# --- appointment holds ---------------------------------------------------------------------------


def hold_input(message: hours_pb2.AppointmentHold) -> HoldInput:
    return HoldInput(message.booking_id, message.schedule_id, _wire(message, "start"), _wire(message, "end"))


def hold_to_proto(hold: AppointmentHold) -> hours_pb2.AppointmentHold:
    return hours_pb2.AppointmentHold(booking_id=hold.booking_id, schedule_id=hold.schedule_id, start=to_timestamp(hold.start), end=to_timestamp(hold.end))
