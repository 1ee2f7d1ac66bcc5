"""The timeframes service as the event updater uses it: set participant totals of events and of
whole schedules (calendar.events.v3.Events/UpdateParticipantTotals, scope `internal`).

The updater runs outside any RPC, so no caller's token is bound: every call carries a
short-lived `internal` token of the message's tenant, minted here. An outage of timeframes
(unavailable, timing out, overloaded...) raises `DependencyUnavailable`, which the consumer runner
treats as transient: the messages are retried until timeframes is back, never dead-lettered.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.api.calendar.events.v3 import events_pb2, events_pb2_grpc
from services.common.auth import ServiceTokens
from services.common.clients import Channel, call_dependency
from services.participations.domain.model import Target, TargetKind
from services.participations.domain.totals import SettleOutcome, TargetTotal

DEPENDENCY = "timeframes"
_EVENTS = "calendar.events.v3.Events"
# Safe to repeat: a versioned write (a repeated version is acknowledged as stale).
RETRYABLE = [(_EVENTS, "UpdateParticipantTotals")]
MAX_TOTALS_PER_CALL = 500  # UpdateParticipantTotals' limit
_OUTCOMES = {events_pb2.APPLIED: SettleOutcome.APPLIED, events_pb2.STALE: SettleOutcome.STALE, events_pb2.NOT_FOUND: SettleOutcome.NOT_FOUND}


class TimeframesTotals:
    def __init__(self, channel: Channel, tokens: ServiceTokens):
        self._events = events_pb2_grpc.EventsStub(channel)
        self._tokens = tokens

    async def update_totals(self, tenant_id: str, totals: Sequence[TargetTotal]) -> dict[Target, SettleOutcome]:
        """Sets every total at its version; what timeframes did with each (applied, stale: it holds
        a newer version, not found: no such event or schedule in the tenant)."""
        outcomes: dict[Target, SettleOutcome] = {}
        metadata = [("authorization", f"Bearer {self._tokens.for_tenant(tenant_id)}")]
        for start in range(0, len(totals), MAX_TOTALS_PER_CALL):
            chunk = totals[start : start + MAX_TOTALS_PER_CALL]
            request = events_pb2.UpdateParticipantTotalsRequest()
            for total in chunk:
                entries = request.events if total.target.kind is TargetKind.EVENT else request.schedules
                entries.add(id=total.target.id, participants_total=total.participants_total, version=total.version)
            response = await call_dependency(DEPENDENCY, self._events.UpdateParticipantTotals(request, metadata=metadata))
            for kind, results in ((TargetKind.EVENT, response.events), (TargetKind.SCHEDULE, response.schedules)):
                for result in results:
                    outcomes[Target(kind, result.id)] = _OUTCOMES[result.outcome]
        return outcomes
