import datetime

from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Participation(_message.Message):
    __slots__ = ("id", "booking_id", "service_id", "event_id", "schedule_id", "party_size", "booking_revision", "created_date", "updated_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    PARTY_SIZE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    booking_id: str
    service_id: str
    event_id: str
    schedule_id: str
    party_size: int
    booking_revision: int
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., booking_id: _Optional[str] = ..., service_id: _Optional[str] = ..., event_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., party_size: _Optional[int] = ..., booking_revision: _Optional[int] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetParticipationRequest(_message.Message):
    __slots__ = ("participation_id",)
    PARTICIPATION_ID_FIELD_NUMBER: _ClassVar[int]
    participation_id: str
    def __init__(self, participation_id: _Optional[str] = ...) -> None: ...

class GetParticipationResponse(_message.Message):
    __slots__ = ("participation",)
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    participation: Participation
    def __init__(self, participation: _Optional[_Union[Participation, _Mapping]] = ...) -> None: ...

class QueryParticipationsRequest(_message.Message):
    __slots__ = ("event_ids", "schedule_ids", "booking_ids", "cursor_paging")
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_IDS_FIELD_NUMBER: _ClassVar[int]
    BOOKING_IDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    schedule_ids: _containers.RepeatedScalarFieldContainer[str]
    booking_ids: _containers.RepeatedScalarFieldContainer[str]
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ..., schedule_ids: _Optional[_Iterable[str]] = ..., booking_ids: _Optional[_Iterable[str]] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class QueryParticipationsResponse(_message.Message):
    __slots__ = ("participations", "paging_metadata")
    PARTICIPATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    participations: _containers.RepeatedCompositeFieldContainer[Participation]
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, participations: _Optional[_Iterable[_Union[Participation, _Mapping]]] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...
