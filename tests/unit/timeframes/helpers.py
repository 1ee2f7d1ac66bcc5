"""Builders shared by the timeframes unit tests."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import InvalidArgument
from services.timeframes.domain.commands import EventInput, WireTimestamp
from services.timeframes.domain.model import Count, Event, EventStatus, Participants

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
SCHEDULE_ID = str(uuid.uuid4())
EVENT_ID = str(uuid.uuid4())


def wire(instant: datetime) -> WireTimestamp:
    return WireTimestamp.of(instant)


def event_input(**changes: object) -> EventInput:
    """A valid event of one hour on SCHEDULE_ID; `changes` override fields."""
    valid = EventInput(
        schedule_id=SCHEDULE_ID,
        start=wire(T0),
        end=wire(T0 + timedelta(hours=1)),
        time_zone="Europe/Vienna",
        total_capacity=10,
        title="Pottery",
    )
    return dataclasses.replace(valid, **changes)  # type: ignore[arg-type]


def stored_event(**changes: object) -> Event:
    valid = Event(
        id=EVENT_ID,
        schedule_id=SCHEDULE_ID,
        start=T0,
        end=T0 + timedelta(hours=1),
        time_zone="Europe/Vienna",
        title="Pottery",
        total_capacity=10,
        participants=Participants(),
        status=EventStatus.CONFIRMED,
        revision=1,
        created_date=T0 - timedelta(days=1),
        updated_date=T0 - timedelta(days=1),
    )
    return dataclasses.replace(valid, **changes)  # type: ignore[arg-type]


def booked(total: int, version: int = 1) -> Participants:
    """Participants booked on the event itself, settled at `version`."""
    return Participants(event=Count(total, version))


def violations_of(exc: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.description for v in exc.value.violations}
