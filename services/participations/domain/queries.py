"""Validation of the read API's requests (bookings.participations.v3.Participations). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.validation import Violations


@dataclass(frozen=True)
class ParticipationQuery:
    """A participation matches when its target is among `event_ids` or `schedule_ids` (when
    either is given: a participation has one target, so the two lists are alternatives) and its
    booking is among `booking_ids` (when given). No filter at all lists the tenant's
    participations. Only active participations exist for readers: a canceled or declined
    booking has none."""

    event_ids: tuple[str, ...] = ()
    schedule_ids: tuple[str, ...] = ()
    booking_ids: tuple[str, ...] = ()

    def fingerprint_parts(self) -> list[object]:
        return [sorted(self.event_ids), sorted(self.schedule_ids), sorted(self.booking_ids)]


def validate_participation_id(value: str) -> str:
    v = Violations()
    v.id("participation_id", value)
    v.raise_if_any()
    return value


def validate_query(event_ids: list[str], schedule_ids: list[str], booking_ids: list[str]) -> ParticipationQuery:
    v = Violations()
    v.ids("event_ids", event_ids)
    v.ids("schedule_ids", schedule_ids)
    v.ids("booking_ids", booking_ids)
    v.raise_if_any()
    return ParticipationQuery(tuple(event_ids), tuple(schedule_ids), tuple(booking_ids))
