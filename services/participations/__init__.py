"""Participations: turns bookings into participations and keeps each session's participant total.

    bookings.booking-events.v1 ──(group participations.bookings-consumer)──> participations table
        + outbox ──relay──> bookings.participation-events.v1
    bookings.participation-events.v1, calendar.event-events.v1 ──(group participations.event-updater)──>
        recompute Σ party_size per affected event ──UpdateEventParticipants(total, version)──> timeframes

- `domain/model.py`   the participation rule (latest booking revision wins; tombstones)
- `domain/totals.py`  affected events, the total formula, settlement versions
- `handlers.py`       the use cases: apply a booking, settle events, read participations
- `entrypoints/`      Kafka consumers (events.py) and the gRPC read API (grpc.py)
- `adapters/`         Postgres (participations, event_totals, outbox) and the timeframes client
"""
