from services.api.bookings.catalog.v1 import services_pb2 as _services_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingPolicyViolations(_message.Message):
    __slots__ = ("too_early_to_book", "too_late_to_book", "book_online_disabled")
    TOO_EARLY_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    TOO_LATE_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    BOOK_ONLINE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    def __init__(self, too_early_to_book: _Optional[bool] = ..., too_late_to_book: _Optional[bool] = ..., book_online_disabled: _Optional[bool] = ...) -> None: ...

class GetScheduleAvailabilityRequest(_message.Message):
    __slots__ = ("schedule_id", "number_of_participants", "service")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    number_of_participants: int
    service: _services_pb2.Service
    def __init__(self, schedule_id: _Optional[str] = ..., number_of_participants: _Optional[int] = ..., service: _Optional[_Union[_services_pb2.Service, _Mapping]] = ...) -> None: ...

class ScheduleAvailability(_message.Message):
    __slots__ = ("total_spots", "open_spots", "booking_policy_violations", "bookable", "refusal_reason", "min_total_spots_ahead")
    TOTAL_SPOTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_TOTAL_SPOTS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    total_spots: int
    open_spots: int
    booking_policy_violations: BookingPolicyViolations
    bookable: bool
    refusal_reason: str
    min_total_spots_ahead: int
    def __init__(self, total_spots: _Optional[int] = ..., open_spots: _Optional[int] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., bookable: _Optional[bool] = ..., refusal_reason: _Optional[str] = ..., min_total_spots_ahead: _Optional[int] = ...) -> None: ...

class GetScheduleAvailabilityResponse(_message.Message):
    __slots__ = ("availability",)
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    availability: ScheduleAvailability
    def __init__(self, availability: _Optional[_Union[ScheduleAvailability, _Mapping]] = ...) -> None: ...

class GetSlotAvailabilityRequest(_message.Message):
    __slots__ = ("event_id", "number_of_participants", "service")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    number_of_participants: int
    service: _services_pb2.Service
    def __init__(self, event_id: _Optional[str] = ..., number_of_participants: _Optional[int] = ..., service: _Optional[_Union[_services_pb2.Service, _Mapping]] = ...) -> None: ...

class SlotAvailability(_message.Message):
    __slots__ = ("total_spots", "open_spots", "booking_policy_violations", "bookable", "refusal_reason", "schedule_id")
    TOTAL_SPOTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    total_spots: int
    open_spots: int
    booking_policy_violations: BookingPolicyViolations
    bookable: bool
    refusal_reason: str
    schedule_id: str
    def __init__(self, total_spots: _Optional[int] = ..., open_spots: _Optional[int] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., bookable: _Optional[bool] = ..., refusal_reason: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class GetSlotAvailabilityResponse(_message.Message):
    __slots__ = ("availability",)
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    availability: SlotAvailability
    def __init__(self, availability: _Optional[_Union[SlotAvailability, _Mapping]] = ...) -> None: ...
