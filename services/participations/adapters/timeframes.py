"""The timeframes (calendar) service as the event updater uses it: find the events a
participation affects (calendar.events.v3.Events/QueryEvents) and set their participant totals
(UpdateEventParticipants, scope `internal`).

The updater runs outside any RPC, so no caller's token is bound: every call carries a
short-lived `internal` token of the message's tenant, minted here. An outage of timeframes
(unavailable, timing out, overloaded...) raises `DependencyUnavailable`, which the consumer runner
treats as transient: the message is retried until timeframes is back, never dead-lettered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import ServiceTokens
from services.common.clients import Channel, call_dependency
from services.common.errors import NotFound
from services.participations.domain.totals import EventLookup, EventRef

DEPENDENCY = "timeframes"
_EVENTS = "calendar.events.v3.Events"
# Safe to repeat: a read, and a versioned write (a repeated version is acknowledged as stale).
RETRYABLE = [(_EVENTS, "QueryEvents"), (_EVENTS, "UpdateEventParticipants")]
PAGE = 1000  # QueryEvents' largest page: a course has tens to hundreds of sessions


class TimeframesEvents:
    def __init__(self, channel: Channel, tokens: ServiceTokens):
        self._events = events_pb2_grpc.EventsStub(channel)
        self._tokens = tokens

    def _metadata(self, tenant_id: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self._tokens.for_tenant(tenant_id)}")]

    async def events(self, tenant_id: str, lookup: EventLookup) -> AsyncIterator[EventRef]:
        """Every event of the lookup, following the cursor to the last page."""
        request = events_pb2.QueryEventsRequest(
            event_ids=list(lookup.event_ids),
            schedule_ids=list(lookup.schedule_ids),
            include_cancelled=lookup.include_cancelled,
            cursor_paging=paging_pb2.CursorPaging(limit=PAGE),
        )
        while True:
            response = await call_dependency(DEPENDENCY, self._events.QueryEvents(request, metadata=self._metadata(tenant_id)))
            for event in response.events:
                yield EventRef(event.id, event.schedule_id)
            if not (response.paging_metadata.has_next and response.paging_metadata.cursors.next):
                return
            request.cursor_paging.cursor = response.paging_metadata.cursors.next

    async def update_participants(self, tenant_id: str, event_id: str, participants_total: int, version: int) -> bool | None:
        """Sets the event's total at `version`: True when applied, False when timeframes already
        holds a newer version (the newer settlement read a newer sum), None when the event does
        not exist (there is nothing to count on)."""
        request = events_pb2.UpdateEventParticipantsRequest(event_id=event_id, participants_total=participants_total, version=version)
        call = self._events.UpdateEventParticipants(request, metadata=self._metadata(tenant_id))
        try:
            response = await call_dependency(DEPENDENCY, call, not_found=("event", event_id))
        except NotFound:
            return None
        return bool(response.applied)
