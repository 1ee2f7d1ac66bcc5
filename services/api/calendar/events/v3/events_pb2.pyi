import datetime

from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_STATUS_UNSPECIFIED: _ClassVar[EventStatus]
    CONFIRMED: _ClassVar[EventStatus]
    CANCELLED: _ClassVar[EventStatus]

class ParticipantTotalOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPANT_TOTAL_OUTCOME_UNSPECIFIED: _ClassVar[ParticipantTotalOutcome]
    APPLIED: _ClassVar[ParticipantTotalOutcome]
    STALE: _ClassVar[ParticipantTotalOutcome]
    NOT_FOUND: _ClassVar[ParticipantTotalOutcome]
EVENT_STATUS_UNSPECIFIED: EventStatus
CONFIRMED: EventStatus
CANCELLED: EventStatus
PARTICIPANT_TOTAL_OUTCOME_UNSPECIFIED: ParticipantTotalOutcome
APPLIED: ParticipantTotalOutcome
STALE: ParticipantTotalOutcome
NOT_FOUND: ParticipantTotalOutcome

class Event(_message.Message):
    __slots__ = ("id", "schedule_id", "start", "end", "time_zone", "total_capacity", "participants_total", "remaining_capacity", "status", "revision", "title", "created_date", "updated_date", "participant_parts")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REMAINING_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_PARTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    time_zone: str
    total_capacity: int
    participants_total: int
    remaining_capacity: int
    status: EventStatus
    revision: int
    title: str
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    participant_parts: ParticipantParts
    def __init__(self, id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., total_capacity: _Optional[int] = ..., participants_total: _Optional[int] = ..., remaining_capacity: _Optional[int] = ..., status: _Optional[_Union[EventStatus, str]] = ..., revision: _Optional[int] = ..., title: _Optional[str] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., participant_parts: _Optional[_Union[ParticipantParts, _Mapping]] = ...) -> None: ...

class ParticipantParts(_message.Message):
    __slots__ = ("event", "schedule", "legacy")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    LEGACY_FIELD_NUMBER: _ClassVar[int]
    event: ParticipantCount
    schedule: ParticipantCount
    legacy: ParticipantCount
    def __init__(self, event: _Optional[_Union[ParticipantCount, _Mapping]] = ..., schedule: _Optional[_Union[ParticipantCount, _Mapping]] = ..., legacy: _Optional[_Union[ParticipantCount, _Mapping]] = ...) -> None: ...

class ParticipantCount(_message.Message):
    __slots__ = ("total", "version")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    total: int
    version: int
    def __init__(self, total: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class CreateEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class CreateEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class BulkCreateEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class BulkCreateEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class UpdateEventRequest(_message.Message):
    __slots__ = ("event", "mask")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    event: Event
    mask: _field_mask_pb2.FieldMask
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class CancelEventRequest(_message.Message):
    __slots__ = ("event_id", "revision")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    revision: int
    def __init__(self, event_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class CancelEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class QueryEventsRequest(_message.Message):
    __slots__ = ("schedule_ids", "event_ids", "from_date", "to_date", "include_cancelled", "cursor_paging")
    SCHEDULE_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    schedule_ids: _containers.RepeatedScalarFieldContainer[str]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    from_date: _timestamp_pb2.Timestamp
    to_date: _timestamp_pb2.Timestamp
    include_cancelled: bool
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, schedule_ids: _Optional[_Iterable[str]] = ..., event_ids: _Optional[_Iterable[str]] = ..., from_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_cancelled: _Optional[bool] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class QueryEventsResponse(_message.Message):
    __slots__ = ("events", "paging_metadata")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class UpdateEventParticipantsRequest(_message.Message):
    __slots__ = ("event_id", "participants_total", "version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    participants_total: int
    version: int
    def __init__(self, event_id: _Optional[str] = ..., participants_total: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class UpdateEventParticipantsResponse(_message.Message):
    __slots__ = ("event", "applied")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    event: Event
    applied: bool
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., applied: _Optional[bool] = ...) -> None: ...

class ParticipantTotal(_message.Message):
    __slots__ = ("id", "participants_total", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    participants_total: int
    version: int
    def __init__(self, id: _Optional[str] = ..., participants_total: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class UpdateParticipantTotalsRequest(_message.Message):
    __slots__ = ("events", "schedules")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ParticipantTotal]
    schedules: _containers.RepeatedCompositeFieldContainer[ParticipantTotal]
    def __init__(self, events: _Optional[_Iterable[_Union[ParticipantTotal, _Mapping]]] = ..., schedules: _Optional[_Iterable[_Union[ParticipantTotal, _Mapping]]] = ...) -> None: ...

class ParticipantTotalResult(_message.Message):
    __slots__ = ("id", "outcome")
    ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    id: str
    outcome: ParticipantTotalOutcome
    def __init__(self, id: _Optional[str] = ..., outcome: _Optional[_Union[ParticipantTotalOutcome, str]] = ...) -> None: ...

class UpdateParticipantTotalsResponse(_message.Message):
    __slots__ = ("events", "schedules")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ParticipantTotalResult]
    schedules: _containers.RepeatedCompositeFieldContainer[ParticipantTotalResult]
    def __init__(self, events: _Optional[_Iterable[_Union[ParticipantTotalResult, _Mapping]]] = ..., schedules: _Optional[_Iterable[_Union[ParticipantTotalResult, _Mapping]]] = ...) -> None: ...
