"""The event updater's rules: what a batch of participation messages asks to settle. Pure: no I/O.

The participations table is the truth. Per target (the event of class participations, the
schedule of course participations) the database keeps the sum of the active participations'
party sizes with a version, in the transaction of every participation change
(migrations/0004_participant_totals.sql). The updater never applies a delta from a message: it
reads the current totals of the targets its messages name and sends them to timeframes with their
versions. A duplicate, reordered or redelivered message therefore only repeats a write that
timeframes acknowledges as stale, and many messages about one target settle in one write
(docs/pipeline.md "Settled state"; protos/topics/bookings.participation-events.v1.md).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.participations.domain.model import Target


@dataclass(frozen=True)
class ParticipationChanged:
    """What one participation message asks of the updater: settle its target. `booking_committed_at`:
    when the booking change behind it was committed (only measured; None when unknown)."""

    target: Target
    booking_committed_at: datetime | None = None


@dataclass(frozen=True)
class TargetTotal:
    """The participants counted on a target, at the version the database gave that number."""

    target: Target
    participants_total: int
    version: int


class SettleOutcome(enum.Enum):
    APPLIED = "applied"
    STALE = "stale"  # timeframes already holds this version or a newer one: a newer settlement won
    NOT_FOUND = "not_found"  # timeframes has no such event or schedule: nothing to count on
    SETTLED_BEFORE = "settled_before"  # this process already had timeframes acknowledge this version: not sent again


def targets_to_settle(changes: Iterable[ParticipationChanged]) -> list[Target]:
    """Each target once, in the order first named: its current total covers every change of it."""
    return list(dict.fromkeys(change.target for change in changes))


class SettledVersions:
    """The version of each target's total that timeframes is known to hold, at least (it applied
    it, or answered that it holds a newer one), for the most recently settled `capacity` targets.
    A total whose version is not newer need not be sent again: settling is skipped, never wrong,
    since a target forgotten here is only sent once more and acknowledged as stale."""

    def __init__(self, capacity: int = 100_000):
        self._capacity = capacity
        self._held: OrderedDict[tuple[str, Target], int] = OrderedDict()

    def unsettled(self, tenant: str, totals: Sequence[TargetTotal]) -> list[TargetTotal]:
        return [t for t in totals if t.version > self._held.get((tenant, t.target), 0)]

    def held(self, tenant: str, total: TargetTotal) -> None:
        key = (tenant, total.target)
        self._held[key] = max(total.version, self._held.get(key, 0))
        self._held.move_to_end(key)
        if len(self._held) > self._capacity:
            self._held.popitem(last=False)
