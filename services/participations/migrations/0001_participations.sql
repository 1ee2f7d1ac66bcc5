-- Participations: a booking's claim on capacity, and the participant totals the event updater
-- settled. Every key starts with tenant_id, so a query only reaches its own tenant's rows through
-- an index.

-- One row per booking ever seen (the consumer upserts by booking id). `active` is false for a
-- canceled or declined booking: the row stays as a tombstone holding the booking revision, so a
-- late, older message of the booking ("created" after "canceled") can never bring it back.
CREATE TABLE participations (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    id               uuid        NOT NULL,
    booking_id       uuid        NOT NULL,
    service_id       text        NOT NULL DEFAULT '' CHECK (char_length(service_id) <= 100),
    -- Exactly one target: the event (class session) or the schedule (every session of a course).
    event_id         uuid        NULL,
    schedule_id      uuid        NULL,
    party_size       integer     NOT NULL CHECK (party_size >= 0),
    active           boolean     NOT NULL,
    -- The booking revision this row reflects; a message is applied only when its revision is greater.
    booking_revision bigint      NOT NULL CHECK (booking_revision >= 1),
    created_date     timestamptz NOT NULL,
    updated_date     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT participations_one_target CHECK ((event_id IS NULL) <> (schedule_id IS NULL))
);

-- The consumer's upsert by booking id; QueryParticipations by booking_ids.
CREATE UNIQUE INDEX participations_booking_key ON participations (tenant_id, booking_id);
-- The event updater's sums (Σ party_size of the active participations of an event and of its
-- schedule) and QueryParticipations by event_ids / schedule_ids: only active rows, with the size
-- included, so a sum is an index-only scan.
CREATE INDEX participations_event_idx ON participations (tenant_id, event_id) INCLUDE (party_size) WHERE active AND event_id IS NOT NULL;
CREATE INDEX participations_schedule_idx ON participations (tenant_id, schedule_id) INCLUDE (party_size) WHERE active AND schedule_id IS NOT NULL;
-- QueryParticipations without filters: a tenant's active participations, keyset-paged in
-- (created_date, id) order.
CREATE INDEX participations_created_idx ON participations (tenant_id, created_date, id) WHERE active;

-- The event updater's per-event serialization point. Each recomputation of an event locks its
-- row, reads the sum, takes the next version and commits; the version goes with the total to
-- calendar.events.v3.Events/UpdateEventParticipants, which refuses versions not greater than the
-- stored one, so a slower, older recomputation can never overwrite a newer one.
CREATE TABLE event_totals (
    tenant_id          text        NOT NULL CHECK (tenant_id <> ''),
    event_id           uuid        NOT NULL,
    version            bigint      NOT NULL DEFAULT 0 CHECK (version >= 0),
    -- The last total computed (what was sent with `version`); informative, never added to.
    participants_total integer     NOT NULL DEFAULT 0 CHECK (participants_total >= 0),
    updated_date       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
