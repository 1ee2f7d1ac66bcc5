from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingPolicy(_message.Message):
    __slots__ = ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy")
    LIMIT_EARLY_BOOKING_FIELD_NUMBER: _ClassVar[int]
    LIMIT_LATE_BOOKING_FIELD_NUMBER: _ClassVar[int]
    BOOK_AFTER_START_POLICY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_POLICY_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    limit_early_booking: LimitEarlyBookingPolicy
    limit_late_booking: LimitLateBookingPolicy
    book_after_start_policy: BookAfterStartPolicy
    participants_policy: ParticipantsPolicy
    cancellation_policy: CancellationPolicy
    def __init__(self, limit_early_booking: _Optional[_Union[LimitEarlyBookingPolicy, _Mapping]] = ..., limit_late_booking: _Optional[_Union[LimitLateBookingPolicy, _Mapping]] = ..., book_after_start_policy: _Optional[_Union[BookAfterStartPolicy, _Mapping]] = ..., participants_policy: _Optional[_Union[ParticipantsPolicy, _Mapping]] = ..., cancellation_policy: _Optional[_Union[CancellationPolicy, _Mapping]] = ...) -> None: ...

class LimitEarlyBookingPolicy(_message.Message):
    __slots__ = ("enabled", "earliest_booking_in_minutes")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_BOOKING_IN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    earliest_booking_in_minutes: int
    def __init__(self, enabled: _Optional[bool] = ..., earliest_booking_in_minutes: _Optional[int] = ...) -> None: ...

class LimitLateBookingPolicy(_message.Message):
    __slots__ = ("enabled", "latest_booking_in_minutes")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LATEST_BOOKING_IN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    latest_booking_in_minutes: int
    def __init__(self, enabled: _Optional[bool] = ..., latest_booking_in_minutes: _Optional[int] = ...) -> None: ...

class BookAfterStartPolicy(_message.Message):
    __slots__ = ("enabled",)
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    def __init__(self, enabled: _Optional[bool] = ...) -> None: ...

class ParticipantsPolicy(_message.Message):
    __slots__ = ("max_participants_per_booking",)
    MAX_PARTICIPANTS_PER_BOOKING_FIELD_NUMBER: _ClassVar[int]
    max_participants_per_booking: int
    def __init__(self, max_participants_per_booking: _Optional[int] = ...) -> None: ...

class CancellationPolicy(_message.Message):
    __slots__ = ("enabled", "latest_cancellation_in_minutes")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LATEST_CANCELLATION_IN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    latest_cancellation_in_minutes: int
    def __init__(self, enabled: _Optional[bool] = ..., latest_cancellation_in_minutes: _Optional[int] = ...) -> None: ...

class ListBookingPoliciesRequest(_message.Message):
    __slots__ = ("service_ids",)
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListBookingPoliciesResponse(_message.Message):
    __slots__ = ("booking_policies",)
    BOOKING_POLICIES_FIELD_NUMBER: _ClassVar[int]
    booking_policies: _containers.RepeatedCompositeFieldContainer[ServiceBookingPolicy]
    def __init__(self, booking_policies: _Optional[_Iterable[_Union[ServiceBookingPolicy, _Mapping]]] = ...) -> None: ...

class ServiceBookingPolicy(_message.Message):
    __slots__ = ("service_id", "booking_policy", "book_online_disabled")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    BOOK_ONLINE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    booking_policy: BookingPolicy
    book_online_disabled: bool
    def __init__(self, service_id: _Optional[str] = ..., booking_policy: _Optional[_Union[BookingPolicy, _Mapping]] = ..., book_online_disabled: _Optional[bool] = ...) -> None: ...
