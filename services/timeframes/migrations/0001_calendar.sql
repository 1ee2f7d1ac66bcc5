-- Calendar: schedules and their events (sessions). Every row belongs to a tenant, and every key
-- starts with tenant_id, so a query can only reach its own tenant's rows through an index and a
-- foreign key can never join one tenant's event to another tenant's schedule.

CREATE TABLE schedules (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    id               uuid        NOT NULL,
    name             text        NOT NULL DEFAULT '' CHECK (char_length(name) <= 200),
    -- The owner's reference (e.g. the catalog service id); NULL when none was given.
    external_id      text        NULL CHECK (external_id <> '' AND char_length(external_id) <= 100),
    time_zone        text        NOT NULL,
    default_capacity integer     NOT NULL CHECK (default_capacity BETWEEN 1 AND 10000),
    status           text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'CANCELLED')),
    revision         bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_date     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- CreateSchedule is retry-safe: a second create with the same external_id returns the first
-- schedule (INSERT ... ON CONFLICT on this index), even when both requests race.
CREATE UNIQUE INDEX schedules_external_id_key ON schedules (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE events (
    tenant_id            text        NOT NULL,
    id                   uuid        NOT NULL,
    schedule_id          uuid        NOT NULL,
    start                timestamptz NOT NULL,
    "end"                timestamptz NOT NULL,
    time_zone            text        NOT NULL,
    title                text        NOT NULL DEFAULT '' CHECK (char_length(title) <= 200),
    total_capacity       integer     NOT NULL CHECK (total_capacity BETWEEN 1 AND 10000),
    -- Written by the participations pipeline (UpdateEventParticipants); a write is applied only
    -- when its version is greater than participants_version, so late retries never roll back.
    participants_total   integer     NOT NULL DEFAULT 0 CHECK (participants_total >= 0),
    participants_version bigint      NOT NULL DEFAULT 0 CHECK (participants_version >= 0),
    status               text        NOT NULL DEFAULT 'CONFIRMED' CHECK (status IN ('CONFIRMED', 'CANCELLED')),
    revision             bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_date         timestamptz NOT NULL DEFAULT now(),
    updated_date         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id),
    CONSTRAINT events_span_check CHECK ("end" > start AND "end" <= start + interval '7 days')
);

-- QueryEvents by schedule(s), keyset-paged in (start, id) order; also serves the foreign key.
CREATE INDEX events_schedule_start_idx ON events (tenant_id, schedule_id, start, id);
-- QueryEvents without a schedule filter (a tenant's calendar between two dates).
CREATE INDEX events_start_idx ON events (tenant_id, start, id);
-- ListScheduleTimeFrames: min(start), max("end"), count(*) of a schedule's non-cancelled events,
-- answered by an index-only scan of this partial covering index.
CREATE INDEX events_time_frame_idx ON events (tenant_id, schedule_id, start) INCLUDE ("end") WHERE status = 'CONFIRMED';
