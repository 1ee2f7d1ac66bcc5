import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkingHoursPart(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKING_HOURS_PART_UNSPECIFIED: _ClassVar[WorkingHoursPart]
    WEEKLY_RULES: _ClassVar[WorkingHoursPart]
    TIME_OFF: _ClassVar[WorkingHoursPart]
    EXTRA_HOURS: _ClassVar[WorkingHoursPart]
    HOLIDAYS: _ClassVar[WorkingHoursPart]
WORKING_HOURS_PART_UNSPECIFIED: WorkingHoursPart
WEEKLY_RULES: WorkingHoursPart
TIME_OFF: WorkingHoursPart
EXTRA_HOURS: WorkingHoursPart
HOLIDAYS: WorkingHoursPart

class WorkingHoursChanged(_message.Message):
    __slots__ = ("schedule_id", "part", "changed_at")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    part: WorkingHoursPart
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., part: _Optional[_Union[WorkingHoursPart, str]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
