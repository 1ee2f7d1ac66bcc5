import datetime

from services.api.bookings.participations.v3 import participations_pb2 as _participations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParticipationCreated(_message.Message):
    __slots__ = ("participation", "booking_committed_at")
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    BOOKING_COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    booking_committed_at: _timestamp_pb2.Timestamp
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ..., booking_committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ParticipationUpdated(_message.Message):
    __slots__ = ("participation", "previous_party_size", "booking_committed_at")
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PARTY_SIZE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    previous_party_size: int
    booking_committed_at: _timestamp_pb2.Timestamp
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ..., previous_party_size: _Optional[int] = ..., booking_committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ParticipationRemoved(_message.Message):
    __slots__ = ("participation", "booking_committed_at")
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    BOOKING_COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    booking_committed_at: _timestamp_pb2.Timestamp
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ..., booking_committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
