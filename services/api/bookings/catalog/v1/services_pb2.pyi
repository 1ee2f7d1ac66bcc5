import datetime

from services.api.bookings.policies.v1 import booking_policy_pb2 as _booking_policy_pb2
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

class ServiceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_TYPE_UNSPECIFIED: _ClassVar[ServiceType]
    APPOINTMENT: _ClassVar[ServiceType]
    CLASS: _ClassVar[ServiceType]
    COURSE: _ClassVar[ServiceType]
SERVICE_TYPE_UNSPECIFIED: ServiceType
APPOINTMENT: ServiceType
CLASS: ServiceType
COURSE: ServiceType

class Service(_message.Message):
    __slots__ = ("id", "type", "name", "schedule_id", "default_capacity", "time_zone", "online_booking_enabled", "booking_policy", "revision", "requires_manual_approval", "created_date", "updated_date", "strict_capacity", "appointment", "staff_member_ids")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    ONLINE_BOOKING_ENABLED_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_MANUAL_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    STRICT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: ServiceType
    name: str
    schedule_id: str
    default_capacity: int
    time_zone: str
    online_booking_enabled: bool
    booking_policy: _booking_policy_pb2.BookingPolicy
    revision: int
    requires_manual_approval: bool
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    strict_capacity: bool
    appointment: AppointmentSettings
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[ServiceType, str]] = ..., name: _Optional[str] = ..., schedule_id: _Optional[str] = ..., default_capacity: _Optional[int] = ..., time_zone: _Optional[str] = ..., online_booking_enabled: _Optional[bool] = ..., booking_policy: _Optional[_Union[_booking_policy_pb2.BookingPolicy, _Mapping]] = ..., revision: _Optional[int] = ..., requires_manual_approval: _Optional[bool] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., strict_capacity: _Optional[bool] = ..., appointment: _Optional[_Union[AppointmentSettings, _Mapping]] = ..., staff_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AppointmentSettings(_message.Message):
    __slots__ = ("duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "slot_interval_minutes")
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BUFFER_BEFORE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BUFFER_AFTER_MINUTES_FIELD_NUMBER: _ClassVar[int]
    SLOT_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    def __init__(self, duration_minutes: _Optional[int] = ..., buffer_before_minutes: _Optional[int] = ..., buffer_after_minutes: _Optional[int] = ..., slot_interval_minutes: _Optional[int] = ...) -> None: ...

class CreateServiceRequest(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ...) -> None: ...

class CreateServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ...) -> None: ...

class GetServiceRequest(_message.Message):
    __slots__ = ("service_id",)
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    def __init__(self, service_id: _Optional[str] = ...) -> None: ...

class GetServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ...) -> None: ...

class QueryServicesRequest(_message.Message):
    __slots__ = ("service_ids", "types", "cursor_paging")
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[ServiceType]
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, service_ids: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[_Union[ServiceType, str]]] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class QueryServicesResponse(_message.Message):
    __slots__ = ("services", "paging_metadata")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[Service]
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class UpdateServiceRequest(_message.Message):
    __slots__ = ("service", "mask")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    service: Service
    mask: _field_mask_pb2.FieldMask
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ...) -> None: ...

class DeleteServiceRequest(_message.Message):
    __slots__ = ("service_id", "revision")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    revision: int
    def __init__(self, service_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class DeleteServiceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
