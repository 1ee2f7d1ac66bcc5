from services.api.calendar.events.v3 import events_pb2 as _events_pb2
from services.api.calendar.schedules.v3 import schedules_pb2 as _schedules_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventCreated(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class EventUpdated(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class EventCancelled(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class EventParticipantsUpdated(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class ScheduleParticipantsUpdated(_message.Message):
    __slots__ = ("schedule", "participants_version")
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_VERSION_FIELD_NUMBER: _ClassVar[int]
    schedule: _schedules_pb2.Schedule
    participants_version: int
    def __init__(self, schedule: _Optional[_Union[_schedules_pb2.Schedule, _Mapping]] = ..., participants_version: _Optional[int] = ...) -> None: ...
