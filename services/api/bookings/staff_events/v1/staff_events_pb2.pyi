from services.api.bookings.staff.v1 import staff_members_pb2 as _staff_members_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StaffMemberCreated(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _staff_members_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_staff_members_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class StaffMemberUpdated(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _staff_members_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_staff_members_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class StaffMemberDeleted(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _staff_members_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_staff_members_pb2.StaffMember, _Mapping]] = ...) -> None: ...
