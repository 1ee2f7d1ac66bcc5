import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WeeklyRule(_message.Message):
    __slots__ = ("day_of_week", "start_time", "end_time", "effective_from", "effective_to")
    DAY_OF_WEEK_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TO_FIELD_NUMBER: _ClassVar[int]
    day_of_week: int
    start_time: str
    end_time: str
    effective_from: str
    effective_to: str
    def __init__(self, day_of_week: _Optional[int] = ..., start_time: _Optional[str] = ..., end_time: _Optional[str] = ..., effective_from: _Optional[str] = ..., effective_to: _Optional[str] = ...) -> None: ...

class TimeOff(_message.Message):
    __slots__ = ("id", "schedule_id", "start", "end", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ExtraHours(_message.Message):
    __slots__ = ("id", "schedule_id", "start", "end", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Holiday(_message.Message):
    __slots__ = ("id", "schedule_id", "local_date", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    schedule_id: str
    local_date: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., local_date: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SetWeeklyRulesRequest(_message.Message):
    __slots__ = ("schedule_id", "rules")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    rules: _containers.RepeatedCompositeFieldContainer[WeeklyRule]
    def __init__(self, schedule_id: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[WeeklyRule, _Mapping]]] = ...) -> None: ...

class SetWeeklyRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[WeeklyRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[WeeklyRule, _Mapping]]] = ...) -> None: ...

class ListWeeklyRulesRequest(_message.Message):
    __slots__ = ("schedule_id",)
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    def __init__(self, schedule_id: _Optional[str] = ...) -> None: ...

class ListWeeklyRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[WeeklyRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[WeeklyRule, _Mapping]]] = ...) -> None: ...

class CreateTimeOffRequest(_message.Message):
    __slots__ = ("schedule_id", "time_off")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    time_off: TimeOff
    def __init__(self, schedule_id: _Optional[str] = ..., time_off: _Optional[_Union[TimeOff, _Mapping]] = ...) -> None: ...

class CreateTimeOffResponse(_message.Message):
    __slots__ = ("time_off",)
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    time_off: TimeOff
    def __init__(self, time_off: _Optional[_Union[TimeOff, _Mapping]] = ...) -> None: ...

class DeleteTimeOffRequest(_message.Message):
    __slots__ = ("schedule_id", "time_off_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_OFF_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    time_off_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., time_off_id: _Optional[str] = ...) -> None: ...

class DeleteTimeOffResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateExtraHoursRequest(_message.Message):
    __slots__ = ("schedule_id", "extra_hours")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    EXTRA_HOURS_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    extra_hours: ExtraHours
    def __init__(self, schedule_id: _Optional[str] = ..., extra_hours: _Optional[_Union[ExtraHours, _Mapping]] = ...) -> None: ...

class CreateExtraHoursResponse(_message.Message):
    __slots__ = ("extra_hours",)
    EXTRA_HOURS_FIELD_NUMBER: _ClassVar[int]
    extra_hours: ExtraHours
    def __init__(self, extra_hours: _Optional[_Union[ExtraHours, _Mapping]] = ...) -> None: ...

class DeleteExtraHoursRequest(_message.Message):
    __slots__ = ("schedule_id", "extra_hours_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    EXTRA_HOURS_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    extra_hours_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., extra_hours_id: _Optional[str] = ...) -> None: ...

class DeleteExtraHoursResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateHolidayRequest(_message.Message):
    __slots__ = ("schedule_id", "holiday")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    holiday: Holiday
    def __init__(self, schedule_id: _Optional[str] = ..., holiday: _Optional[_Union[Holiday, _Mapping]] = ...) -> None: ...

class CreateHolidayResponse(_message.Message):
    __slots__ = ("holiday",)
    HOLIDAY_FIELD_NUMBER: _ClassVar[int]
    holiday: Holiday
    def __init__(self, holiday: _Optional[_Union[Holiday, _Mapping]] = ...) -> None: ...

class DeleteHolidayRequest(_message.Message):
    __slots__ = ("schedule_id", "holiday_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    holiday_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., holiday_id: _Optional[str] = ...) -> None: ...

class DeleteHolidayResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListExceptionsRequest(_message.Message):
    __slots__ = ("schedule_id", "to")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    to: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class ListExceptionsResponse(_message.Message):
    __slots__ = ("time_off", "extra_hours", "holidays")
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    EXTRA_HOURS_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    time_off: _containers.RepeatedCompositeFieldContainer[TimeOff]
    extra_hours: _containers.RepeatedCompositeFieldContainer[ExtraHours]
    holidays: _containers.RepeatedCompositeFieldContainer[Holiday]
    def __init__(self, time_off: _Optional[_Iterable[_Union[TimeOff, _Mapping]]] = ..., extra_hours: _Optional[_Iterable[_Union[ExtraHours, _Mapping]]] = ..., holidays: _Optional[_Iterable[_Union[Holiday, _Mapping]]] = ...) -> None: ...

class ListWorkingHoursRequest(_message.Message):
    __slots__ = ("schedule_ids", "to")
    SCHEDULE_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    schedule_ids: _containers.RepeatedScalarFieldContainer[str]
    to: _timestamp_pb2.Timestamp
    def __init__(self, schedule_ids: _Optional[_Iterable[str]] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class ScheduleWorkingHours(_message.Message):
    __slots__ = ("schedule_id", "time_zone", "rules", "time_off", "extra_hours", "holidays")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    EXTRA_HOURS_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    time_zone: str
    rules: _containers.RepeatedCompositeFieldContainer[WeeklyRule]
    time_off: _containers.RepeatedCompositeFieldContainer[TimeOff]
    extra_hours: _containers.RepeatedCompositeFieldContainer[ExtraHours]
    holidays: _containers.RepeatedCompositeFieldContainer[Holiday]
    def __init__(self, schedule_id: _Optional[str] = ..., time_zone: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[WeeklyRule, _Mapping]]] = ..., time_off: _Optional[_Iterable[_Union[TimeOff, _Mapping]]] = ..., extra_hours: _Optional[_Iterable[_Union[ExtraHours, _Mapping]]] = ..., holidays: _Optional[_Iterable[_Union[Holiday, _Mapping]]] = ...) -> None: ...

class ListWorkingHoursResponse(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[ScheduleWorkingHours]
    def __init__(self, schedules: _Optional[_Iterable[_Union[ScheduleWorkingHours, _Mapping]]] = ...) -> None: ...

class AppointmentHold(_message.Message):
    __slots__ = ("booking_id", "schedule_id", "start", "end")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, booking_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HoldAppointmentTimeRequest(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: AppointmentHold
    def __init__(self, hold: _Optional[_Union[AppointmentHold, _Mapping]] = ...) -> None: ...

class HoldAppointmentTimeResponse(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: AppointmentHold
    def __init__(self, hold: _Optional[_Union[AppointmentHold, _Mapping]] = ...) -> None: ...

class ReleaseAppointmentTimeRequest(_message.Message):
    __slots__ = ("booking_id",)
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    def __init__(self, booking_id: _Optional[str] = ...) -> None: ...

class ReleaseAppointmentTimeResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: bool
    def __init__(self, released: _Optional[bool] = ...) -> None: ...
