"""Participations: turns bookings into participations and keeps each session's participant total.

    bookings.booking-events.v1 ──(group participations.bookings-consumer)──> participations table
        (+ the target's participant total, same transaction) + outbox ──relay──> bookings.participation-events.v1
    bookings.participation-events.v1 ──(group participations.event-updater, in batches)──>
        current totals of the named targets ──UpdateParticipantTotals(events, schedules)──> timeframes

- `domain/model.py`   the participation rule (latest booking revision wins; tombstones)
- `domain/totals.py`  what a batch of participation messages asks to settle
- `application/`      the use cases (participations.py: apply a booking, settle totals, read
                      participations) and the ports they need (ports.py)
- `entrypoints/`      Kafka consumers (events.py) and the gRPC read API (grpc.py)
- `adapters/`         Postgres (participations, participant totals, outbox) and the timeframes client
"""
