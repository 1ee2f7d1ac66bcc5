import datetime

from services.api.bookings.availability.v2 import time_slots_pb2 as _time_slots_pb2
from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DateUnavailableReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATE_UNAVAILABLE_REASON_UNSPECIFIED: _ClassVar[DateUnavailableReason]
    NO_SERVICE_HOURS: _ClassVar[DateUnavailableReason]
    FULLY_BOOKED: _ClassVar[DateUnavailableReason]
    CALENDAR_CONFLICT: _ClassVar[DateUnavailableReason]
    HOLIDAY: _ClassVar[DateUnavailableReason]
    TIME_OFF: _ClassVar[DateUnavailableReason]
    TOO_LATE: _ClassVar[DateUnavailableReason]
    TOO_EARLY: _ClassVar[DateUnavailableReason]
    BOOK_ONLINE_DISABLED: _ClassVar[DateUnavailableReason]
DATE_UNAVAILABLE_REASON_UNSPECIFIED: DateUnavailableReason
NO_SERVICE_HOURS: DateUnavailableReason
FULLY_BOOKED: DateUnavailableReason
CALENDAR_CONFLICT: DateUnavailableReason
HOLIDAY: DateUnavailableReason
TIME_OFF: DateUnavailableReason
TOO_LATE: DateUnavailableReason
TOO_EARLY: DateUnavailableReason
BOOK_ONLINE_DISABLED: DateUnavailableReason

class AppointmentNonBookableReasons(_message.Message):
    __slots__ = ("booked", "time_off", "calendar_conflict", "holiday", "violates_booking_policy")
    BOOKED_FIELD_NUMBER: _ClassVar[int]
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_CONFLICT_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_FIELD_NUMBER: _ClassVar[int]
    VIOLATES_BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    booked: bool
    time_off: bool
    calendar_conflict: bool
    holiday: bool
    violates_booking_policy: bool
    def __init__(self, booked: _Optional[bool] = ..., time_off: _Optional[bool] = ..., calendar_conflict: _Optional[bool] = ..., holiday: _Optional[bool] = ..., violates_booking_policy: _Optional[bool] = ...) -> None: ...

class AvailabilityTimeSlot(_message.Message):
    __slots__ = ("service_id", "local_start_date", "local_end_date", "bookable", "total_capacity", "remaining_capacity", "available_staff_member_ids", "booking_policy_violations", "non_bookable_reasons", "start_date", "end_date")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_END_DATE_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    NON_BOOKABLE_REASONS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    local_start_date: str
    local_end_date: str
    bookable: bool
    total_capacity: int
    remaining_capacity: int
    available_staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    booking_policy_violations: _time_slots_pb2.BookingPolicyViolations
    non_bookable_reasons: AppointmentNonBookableReasons
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    def __init__(self, service_id: _Optional[str] = ..., local_start_date: _Optional[str] = ..., local_end_date: _Optional[str] = ..., bookable: _Optional[bool] = ..., total_capacity: _Optional[int] = ..., remaining_capacity: _Optional[int] = ..., available_staff_member_ids: _Optional[_Iterable[str]] = ..., booking_policy_violations: _Optional[_Union[_time_slots_pb2.BookingPolicyViolations, _Mapping]] = ..., non_bookable_reasons: _Optional[_Union[AppointmentNonBookableReasons, _Mapping]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AvailabilityDate(_message.Message):
    __slots__ = ("local_date", "bookable_slots", "unavailable_reason")
    LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    local_date: str
    bookable_slots: int
    unavailable_reason: DateUnavailableReason
    def __init__(self, local_date: _Optional[str] = ..., bookable_slots: _Optional[int] = ..., unavailable_reason: _Optional[_Union[DateUnavailableReason, str]] = ...) -> None: ...

class ListAvailabilityTimeSlotsRequest(_message.Message):
    __slots__ = ("service_id", "from_local_date", "to_local_date", "time_zone", "staff_member_ids", "include_non_bookable", "cursor_paging")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NON_BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    from_local_date: str
    to_local_date: str
    time_zone: str
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    include_non_bookable: bool
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, service_id: _Optional[str] = ..., from_local_date: _Optional[str] = ..., to_local_date: _Optional[str] = ..., time_zone: _Optional[str] = ..., staff_member_ids: _Optional[_Iterable[str]] = ..., include_non_bookable: _Optional[bool] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class ListAvailabilityTimeSlotsResponse(_message.Message):
    __slots__ = ("time_slots", "time_zone", "paging_metadata")
    TIME_SLOTS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    time_slots: _containers.RepeatedCompositeFieldContainer[AvailabilityTimeSlot]
    time_zone: str
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, time_slots: _Optional[_Iterable[_Union[AvailabilityTimeSlot, _Mapping]]] = ..., time_zone: _Optional[str] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class GetAvailabilityTimeSlotRequest(_message.Message):
    __slots__ = ("service_id", "start_date", "end_date", "time_zone", "staff_member_ids")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    time_zone: str
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_id: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., staff_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAvailabilityTimeSlotResponse(_message.Message):
    __slots__ = ("time_slot", "time_zone")
    TIME_SLOT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    time_slot: AvailabilityTimeSlot
    time_zone: str
    def __init__(self, time_slot: _Optional[_Union[AvailabilityTimeSlot, _Mapping]] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ListAvailabilityDatesRequest(_message.Message):
    __slots__ = ("service_id", "from_local_date", "to_local_date", "time_zone", "staff_member_ids")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    from_local_date: str
    to_local_date: str
    time_zone: str
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_id: _Optional[str] = ..., from_local_date: _Optional[str] = ..., to_local_date: _Optional[str] = ..., time_zone: _Optional[str] = ..., staff_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAvailabilityDatesResponse(_message.Message):
    __slots__ = ("dates", "next_available_date", "time_zone")
    DATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_AVAILABLE_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    dates: _containers.RepeatedCompositeFieldContainer[AvailabilityDate]
    next_available_date: str
    time_zone: str
    def __init__(self, dates: _Optional[_Iterable[_Union[AvailabilityDate, _Mapping]]] = ..., next_available_date: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...
