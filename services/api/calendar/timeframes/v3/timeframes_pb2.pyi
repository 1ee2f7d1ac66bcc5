import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScheduleTimeFrame(_message.Message):
    __slots__ = ("schedule_id", "first_event_start_date", "last_event_end_date", "event_count")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_END_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    first_event_start_date: _timestamp_pb2.Timestamp
    last_event_end_date: _timestamp_pb2.Timestamp
    event_count: int
    def __init__(self, schedule_id: _Optional[str] = ..., first_event_start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_event_end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_count: _Optional[int] = ...) -> None: ...

class ListScheduleTimeFramesRequest(_message.Message):
    __slots__ = ("schedule_ids",)
    SCHEDULE_IDS_FIELD_NUMBER: _ClassVar[int]
    schedule_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, schedule_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListScheduleTimeFramesResponse(_message.Message):
    __slots__ = ("time_frames",)
    TIME_FRAMES_FIELD_NUMBER: _ClassVar[int]
    time_frames: _containers.RepeatedCompositeFieldContainer[ScheduleTimeFrame]
    def __init__(self, time_frames: _Optional[_Iterable[_Union[ScheduleTimeFrame, _Mapping]]] = ...) -> None: ...
