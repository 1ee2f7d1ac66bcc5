from services.api.bookings.catalog.v1 import services_pb2 as _services_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceCreated(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _services_pb2.Service
    def __init__(self, service: _Optional[_Union[_services_pb2.Service, _Mapping]] = ...) -> None: ...

class ServiceUpdated(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _services_pb2.Service
    def __init__(self, service: _Optional[_Union[_services_pb2.Service, _Mapping]] = ...) -> None: ...

class ServiceDeleted(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _services_pb2.Service
    def __init__(self, service: _Optional[_Union[_services_pb2.Service, _Mapping]] = ...) -> None: ...
