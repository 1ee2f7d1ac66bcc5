from services.api.bookings.v2 import bookings_pb2 as _bookings_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingCreated(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _bookings_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_bookings_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingConfirmed(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _bookings_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_bookings_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingDeclined(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _bookings_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_bookings_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingCanceled(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _bookings_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_bookings_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingNumberOfParticipantsUpdated(_message.Message):
    __slots__ = ("booking", "previous_number_of_participants")
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    booking: _bookings_pb2.Booking
    previous_number_of_participants: int
    def __init__(self, booking: _Optional[_Union[_bookings_pb2.Booking, _Mapping]] = ..., previous_number_of_participants: _Optional[int] = ...) -> None: ...
