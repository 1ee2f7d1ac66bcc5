import datetime

from services.api.common.v1 import paging_pb2 as _paging_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingPolicyViolations(_message.Message):
    __slots__ = ("too_early_to_book", "too_late_to_book", "book_online_disabled", "earliest_booking_date", "latest_booking_date")
    TOO_EARLY_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    TOO_LATE_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    BOOK_ONLINE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_BOOKING_DATE_FIELD_NUMBER: _ClassVar[int]
    LATEST_BOOKING_DATE_FIELD_NUMBER: _ClassVar[int]
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    earliest_booking_date: _timestamp_pb2.Timestamp
    latest_booking_date: _timestamp_pb2.Timestamp
    def __init__(self, too_early_to_book: _Optional[bool] = ..., too_late_to_book: _Optional[bool] = ..., book_online_disabled: _Optional[bool] = ..., earliest_booking_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., latest_booking_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NonBookableReasons(_message.Message):
    __slots__ = ("no_remaining_capacity", "violates_booking_policy", "event_cancelled", "event_started")
    NO_REMAINING_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    VIOLATES_BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    EVENT_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    EVENT_STARTED_FIELD_NUMBER: _ClassVar[int]
    no_remaining_capacity: bool
    violates_booking_policy: bool
    event_cancelled: bool
    event_started: bool
    def __init__(self, no_remaining_capacity: _Optional[bool] = ..., violates_booking_policy: _Optional[bool] = ..., event_cancelled: _Optional[bool] = ..., event_started: _Optional[bool] = ...) -> None: ...

class CourseEventTimeSlot(_message.Message):
    __slots__ = ("service_id", "schedule_id", "event_id", "local_start_date", "local_end_date", "bookable", "remaining_capacity", "total_capacity", "booking_policy_violations", "non_bookable_reasons", "past", "total_sessions", "remaining_sessions")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_END_DATE_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    NON_BOOKABLE_REASONS_FIELD_NUMBER: _ClassVar[int]
    PAST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    schedule_id: str
    event_id: str
    local_start_date: str
    local_end_date: str
    bookable: bool
    remaining_capacity: int
    total_capacity: int
    booking_policy_violations: BookingPolicyViolations
    non_bookable_reasons: NonBookableReasons
    past: bool
    total_sessions: int
    remaining_sessions: int
    def __init__(self, service_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., event_id: _Optional[str] = ..., local_start_date: _Optional[str] = ..., local_end_date: _Optional[str] = ..., bookable: _Optional[bool] = ..., remaining_capacity: _Optional[int] = ..., total_capacity: _Optional[int] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., non_bookable_reasons: _Optional[_Union[NonBookableReasons, _Mapping]] = ..., past: _Optional[bool] = ..., total_sessions: _Optional[int] = ..., remaining_sessions: _Optional[int] = ...) -> None: ...

class CourseAvailability(_message.Message):
    __slots__ = ("service_id", "schedule_id", "bookable", "booking_policy_violations", "non_bookable_reasons", "open_spots", "total_capacity", "total_sessions", "remaining_sessions", "first_event_start_date", "last_event_end_date")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    NON_BOOKABLE_REASONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_END_DATE_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    schedule_id: str
    bookable: bool
    booking_policy_violations: BookingPolicyViolations
    non_bookable_reasons: NonBookableReasons
    open_spots: int
    total_capacity: int
    total_sessions: int
    remaining_sessions: int
    first_event_start_date: _timestamp_pb2.Timestamp
    last_event_end_date: _timestamp_pb2.Timestamp
    def __init__(self, service_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., bookable: _Optional[bool] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., non_bookable_reasons: _Optional[_Union[NonBookableReasons, _Mapping]] = ..., open_spots: _Optional[int] = ..., total_capacity: _Optional[int] = ..., total_sessions: _Optional[int] = ..., remaining_sessions: _Optional[int] = ..., first_event_start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_event_end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCourseEventTimeSlotsRequest(_message.Message):
    __slots__ = ("service_ids", "from_local_date", "to_local_date", "time_zone", "include_non_bookable", "min_bookable_capacity", "cursor_paging")
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NON_BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    from_local_date: str
    to_local_date: str
    time_zone: str
    include_non_bookable: bool
    min_bookable_capacity: int
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, service_ids: _Optional[_Iterable[str]] = ..., from_local_date: _Optional[str] = ..., to_local_date: _Optional[str] = ..., time_zone: _Optional[str] = ..., include_non_bookable: _Optional[bool] = ..., min_bookable_capacity: _Optional[int] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class ListCourseEventTimeSlotsResponse(_message.Message):
    __slots__ = ("time_slots", "time_zone", "paging_metadata")
    TIME_SLOTS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    time_slots: _containers.RepeatedCompositeFieldContainer[CourseEventTimeSlot]
    time_zone: str
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, time_slots: _Optional[_Iterable[_Union[CourseEventTimeSlot, _Mapping]]] = ..., time_zone: _Optional[str] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class GetCourseEventTimeSlotRequest(_message.Message):
    __slots__ = ("event_id", "schedule_id", "time_zone", "min_bookable_capacity")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    schedule_id: str
    time_zone: str
    min_bookable_capacity: int
    def __init__(self, event_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., time_zone: _Optional[str] = ..., min_bookable_capacity: _Optional[int] = ...) -> None: ...

class GetCourseEventTimeSlotResponse(_message.Message):
    __slots__ = ("time_slot", "course", "time_zone")
    TIME_SLOT_FIELD_NUMBER: _ClassVar[int]
    COURSE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    time_slot: CourseEventTimeSlot
    course: CourseAvailability
    time_zone: str
    def __init__(self, time_slot: _Optional[_Union[CourseEventTimeSlot, _Mapping]] = ..., course: _Optional[_Union[CourseAvailability, _Mapping]] = ..., time_zone: _Optional[str] = ...) -> None: ...

class EventTimeSlot(_message.Message):
    __slots__ = ("service_id", "schedule_id", "event_id", "local_start_date", "local_end_date", "bookable", "remaining_capacity", "total_capacity", "booking_policy_violations", "non_bookable_reasons")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_END_DATE_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    NON_BOOKABLE_REASONS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    schedule_id: str
    event_id: str
    local_start_date: str
    local_end_date: str
    bookable: bool
    remaining_capacity: int
    total_capacity: int
    booking_policy_violations: BookingPolicyViolations
    non_bookable_reasons: NonBookableReasons
    def __init__(self, service_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., event_id: _Optional[str] = ..., local_start_date: _Optional[str] = ..., local_end_date: _Optional[str] = ..., bookable: _Optional[bool] = ..., remaining_capacity: _Optional[int] = ..., total_capacity: _Optional[int] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., non_bookable_reasons: _Optional[_Union[NonBookableReasons, _Mapping]] = ...) -> None: ...

class ListEventTimeSlotsRequest(_message.Message):
    __slots__ = ("service_ids", "from_local_date", "to_local_date", "time_zone", "include_non_bookable", "min_bookable_capacity", "cursor_paging")
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_LOCAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NON_BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_PAGING_FIELD_NUMBER: _ClassVar[int]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    from_local_date: str
    to_local_date: str
    time_zone: str
    include_non_bookable: bool
    min_bookable_capacity: int
    cursor_paging: _paging_pb2.CursorPaging
    def __init__(self, service_ids: _Optional[_Iterable[str]] = ..., from_local_date: _Optional[str] = ..., to_local_date: _Optional[str] = ..., time_zone: _Optional[str] = ..., include_non_bookable: _Optional[bool] = ..., min_bookable_capacity: _Optional[int] = ..., cursor_paging: _Optional[_Union[_paging_pb2.CursorPaging, _Mapping]] = ...) -> None: ...

class ListEventTimeSlotsResponse(_message.Message):
    __slots__ = ("time_slots", "time_zone", "paging_metadata")
    TIME_SLOTS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PAGING_METADATA_FIELD_NUMBER: _ClassVar[int]
    time_slots: _containers.RepeatedCompositeFieldContainer[EventTimeSlot]
    time_zone: str
    paging_metadata: _paging_pb2.PagingMetadata
    def __init__(self, time_slots: _Optional[_Iterable[_Union[EventTimeSlot, _Mapping]]] = ..., time_zone: _Optional[str] = ..., paging_metadata: _Optional[_Union[_paging_pb2.PagingMetadata, _Mapping]] = ...) -> None: ...

class GetEventTimeSlotRequest(_message.Message):
    __slots__ = ("event_id", "time_zone", "min_bookable_capacity")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    time_zone: str
    min_bookable_capacity: int
    def __init__(self, event_id: _Optional[str] = ..., time_zone: _Optional[str] = ..., min_bookable_capacity: _Optional[int] = ...) -> None: ...

class GetEventTimeSlotResponse(_message.Message):
    __slots__ = ("time_slot", "time_zone")
    TIME_SLOT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    time_slot: EventTimeSlot
    time_zone: str
    def __init__(self, time_slot: _Optional[_Union[EventTimeSlot, _Mapping]] = ..., time_zone: _Optional[str] = ...) -> None: ...
