from services.api.bookings.participations.v3 import participations_pb2 as _participations_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParticipationCreated(_message.Message):
    __slots__ = ("participation",)
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ...) -> None: ...

class ParticipationUpdated(_message.Message):
    __slots__ = ("participation", "previous_party_size")
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PARTY_SIZE_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    previous_party_size: int
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ..., previous_party_size: _Optional[int] = ...) -> None: ...

class ParticipationRemoved(_message.Message):
    __slots__ = ("participation",)
    PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    participation: _participations_pb2.Participation
    def __init__(self, participation: _Optional[_Union[_participations_pb2.Participation, _Mapping]] = ...) -> None: ...
