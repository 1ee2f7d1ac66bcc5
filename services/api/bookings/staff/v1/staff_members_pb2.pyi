import datetime

from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StaffMember(_message.Message):
    __slots__ = ("id", "name", "email", "time_zone", "schedule_id", "service_ids", "revision", "created_date", "updated_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    email: str
    time_zone: str
    schedule_id: str
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    revision: int
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., time_zone: _Optional[str] = ..., schedule_id: _Optional[str] = ..., service_ids: _Optional[_Iterable[str]] = ..., revision: _Optional[int] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: StaffMember
    def __init__(self, staff_member: _Optional[_Union[StaffMember, _Mapping]] = ...) -> None: ...

class CreateStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: StaffMember
    def __init__(self, staff_member: _Optional[_Union[StaffMember, _Mapping]] = ...) -> None: ...

class GetStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member_id",)
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    staff_member_id: str
    def __init__(self, staff_member_id: _Optional[str] = ...) -> None: ...

class GetStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: StaffMember
    def __init__(self, staff_member: _Optional[_Union[StaffMember, _Mapping]] = ...) -> None: ...

class QueryStaffMembersRequest(_message.Message):
    __slots__ = ("staff_member_ids", "service_ids", "cursor_paging")
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, staff_member_ids: _Optional[_Iterable[str]] = ..., service_ids: _Optional[_Iterable[str]] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class QueryStaffMembersResponse(_message.Message):
    __slots__ = ("staff_members", "paging_metadata")
    STAFF_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    staff_members: _containers.RepeatedCompositeFieldContainer[StaffMember]
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, staff_members: _Optional[_Iterable[_Union[StaffMember, _Mapping]]] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class UpdateStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member", "mask")
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    staff_member: StaffMember
    mask: _field_mask_pb2.FieldMask
    def __init__(self, staff_member: _Optional[_Union[StaffMember, _Mapping]] = ..., mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: StaffMember
    def __init__(self, staff_member: _Optional[_Union[StaffMember, _Mapping]] = ...) -> None: ...

class DeleteStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member_id", "revision")
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    staff_member_id: str
    revision: int
    def __init__(self, staff_member_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class DeleteStaffMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOccupiedTimeRequest(_message.Message):
    __slots__ = ("staff_member_ids", "to")
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    to: _timestamp_pb2.Timestamp
    def __init__(self, staff_member_ids: _Optional[_Iterable[str]] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class OccupiedTime(_message.Message):
    __slots__ = ("staff_member_id", "booking_id", "service_id", "start", "end", "occupied_start", "occupied_end")
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    OCCUPIED_START_FIELD_NUMBER: _ClassVar[int]
    OCCUPIED_END_FIELD_NUMBER: _ClassVar[int]
    staff_member_id: str
    booking_id: str
    service_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    occupied_start: _timestamp_pb2.Timestamp
    occupied_end: _timestamp_pb2.Timestamp
    def __init__(self, staff_member_id: _Optional[str] = ..., booking_id: _Optional[str] = ..., service_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occupied_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occupied_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOccupiedTimeResponse(_message.Message):
    __slots__ = ("occupied_time",)
    OCCUPIED_TIME_FIELD_NUMBER: _ClassVar[int]
    occupied_time: _containers.RepeatedCompositeFieldContainer[OccupiedTime]
    def __init__(self, occupied_time: _Optional[_Iterable[_Union[OccupiedTime, _Mapping]]] = ...) -> None: ...
