"""bookings.v2.Bookings/QueryBookings as the AvailabilityCalendar's `BookingLedger`: the legacy
(consistent) availability -> bookings read (docs/rollout.md "Legacy mode"), called with the
service's `internal` token for the caller's tenant."""

from __future__ import annotations

from services.api.bookings.v2 import bookings_pb2, bookings_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.clients import Channel, call_dependency

BOOKINGS = bookings_pb2.DESCRIPTOR.services_by_name["Bookings"].full_name
LEDGER_RETRYABLE = [(BOOKINGS, "QueryBookings")]
_ACTIVE = [bookings_pb2.PENDING, bookings_pb2.CONFIRMED]
_PAGE = 1000


class QueryBookingsLedger:
    """`BookingLedger` over bookings.v2.Bookings/QueryBookings."""

    def __init__(self, channel: Channel):
        self._stub = bookings_pb2_grpc.BookingsStub(channel)

    async def booked_participants(self, *, schedule_id: str = "", event_id: str = "") -> int:
        total = 0
        cursor = ""
        while True:
            request = bookings_pb2.QueryBookingsRequest(
                schedule_ids=[schedule_id] if schedule_id else [],
                event_ids=[event_id] if event_id else [],
                statuses=_ACTIVE,
                cursor_paging=paging_pb2.CursorPaging(limit=_PAGE, cursor=cursor),
            )
            response = await call_dependency("bookings", self._stub.QueryBookings(request))
            total += sum(b.number_of_participants for b in response.bookings)
            if not response.paging_metadata.has_next:
                return total
            cursor = response.paging_metadata.cursors.next
