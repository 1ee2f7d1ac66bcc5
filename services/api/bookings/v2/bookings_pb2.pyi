import datetime

from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_STATUS_UNSPECIFIED: _ClassVar[BookingStatus]
    PENDING: _ClassVar[BookingStatus]
    CONFIRMED: _ClassVar[BookingStatus]
    DECLINED: _ClassVar[BookingStatus]
    CANCELED: _ClassVar[BookingStatus]
    COMPLETED: _ClassVar[BookingStatus]
    NO_SHOW: _ClassVar[BookingStatus]
BOOKING_STATUS_UNSPECIFIED: BookingStatus
PENDING: BookingStatus
CONFIRMED: BookingStatus
DECLINED: BookingStatus
CANCELED: BookingStatus
COMPLETED: BookingStatus
NO_SHOW: BookingStatus

class BookedEntity(_message.Message):
    __slots__ = ("slot", "schedule")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    slot: Slot
    schedule: ScheduleItem
    def __init__(self, slot: _Optional[_Union[Slot, _Mapping]] = ..., schedule: _Optional[_Union[ScheduleItem, _Mapping]] = ...) -> None: ...

class Slot(_message.Message):
    __slots__ = ("event_id", "start_date", "end_date", "staff_member_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    staff_member_id: str
    def __init__(self, event_id: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., staff_member_id: _Optional[str] = ...) -> None: ...

class ScheduleItem(_message.Message):
    __slots__ = ("schedule_id",)
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    def __init__(self, schedule_id: _Optional[str] = ...) -> None: ...

class ContactDetails(_message.Message):
    __slots__ = ("name", "email")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    email: str
    def __init__(self, name: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class Booking(_message.Message):
    __slots__ = ("id", "service_id", "booked_entity", "number_of_participants", "contact", "status", "revision", "created_date", "updated_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKED_ENTITY_FIELD_NUMBER: _ClassVar[int]
    NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    service_id: str
    booked_entity: BookedEntity
    number_of_participants: int
    contact: ContactDetails
    status: BookingStatus
    revision: int
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., service_id: _Optional[str] = ..., booked_entity: _Optional[_Union[BookedEntity, _Mapping]] = ..., number_of_participants: _Optional[int] = ..., contact: _Optional[_Union[ContactDetails, _Mapping]] = ..., status: _Optional[_Union[BookingStatus, str]] = ..., revision: _Optional[int] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateBookingRequest(_message.Message):
    __slots__ = ("booking", "idempotency_key")
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    idempotency_key: str
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreateBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class GetBookingRequest(_message.Message):
    __slots__ = ("booking_id",)
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    def __init__(self, booking_id: _Optional[str] = ...) -> None: ...

class GetBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class QueryBookingsRequest(_message.Message):
    __slots__ = ("service_ids", "schedule_ids", "event_ids", "statuses", "cursor_paging", "staff_member_ids")
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    schedule_ids: _containers.RepeatedScalarFieldContainer[str]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[BookingStatus]
    cursor_paging: _paging_pb2.CursorPaging
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_ids: _Optional[_Iterable[str]] = ..., schedule_ids: _Optional[_Iterable[str]] = ..., event_ids: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[BookingStatus, str]]] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ..., staff_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class QueryBookingsResponse(_message.Message):
    __slots__ = ("bookings", "paging_metadata")
    BOOKINGS_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    bookings: _containers.RepeatedCompositeFieldContainer[Booking]
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, bookings: _Optional[_Iterable[_Union[Booking, _Mapping]]] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class ConfirmBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class ConfirmBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class DeclineBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class DeclineBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class CancelBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class CancelBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class UpdateNumberOfParticipantsRequest(_message.Message):
    __slots__ = ("booking_id", "revision", "number_of_participants")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    number_of_participants: int
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ..., number_of_participants: _Optional[int] = ...) -> None: ...

class UpdateNumberOfParticipantsResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...
