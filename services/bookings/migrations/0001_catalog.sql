-- The service catalog: what a business offers and its booking policy.
--
-- Every row belongs to one tenant and every query filters by tenant_id first; the primary key
-- starts with it so no read can reach another tenant's rows through an index either.
CREATE TABLE services (
    tenant_id                text        NOT NULL,
    id                       uuid        NOT NULL,
    type                     text        NOT NULL CHECK (type IN ('APPOINTMENT', 'CLASS', 'COURSE')),
    name                     text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- 1..10000 for CLASS and COURSE; 0 (unset) allowed for APPOINTMENT, whose capacity is exclusive.
    default_capacity         integer     NOT NULL CHECK (default_capacity BETWEEN 0 AND 10000),
    time_zone                text        NOT NULL,
    online_booking_enabled   boolean     NOT NULL,
    requires_manual_approval boolean     NOT NULL,
    -- The booking policy as one JSON document mirroring bookings.policies.v1.BookingPolicy in its
    -- normalized form (every sub-policy present, snake_case proto field names, e.g.
    -- {"limit_early_booking": {"enabled": true, "earliest_booking_in_minutes": 1440}, ...}).
    -- JSONB rather than columns because the policy is only ever read and written whole with its
    -- service and never filtered on, and the SPI grows by adding sub-policies: a key missing
    -- from an older document reads as that sub-policy's default (disabled), exactly the
    -- contract's meaning of an absent sub-policy, so new sub-policies need no backfill. Ranges
    -- are enforced by the domain validation before any write.
    booking_policy           jsonb       NOT NULL CHECK (jsonb_typeof(booking_policy) = 'object'),
    -- The calendar.schedules.v3 schedule (owned by timeframes; opaque id) of a CLASS or COURSE.
    schedule_id              text        NULL,
    revision                 bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: a deleted service is NOT_FOUND and absent from queries, but stays referable
    -- by bookings already made on it.
    deleted_at               timestamptz NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT services_schedule_matches_type CHECK ((type = 'APPOINTMENT') = (schedule_id IS NULL))
);

-- GetService / UpdateService / DeleteService / ListBookingPolicies and the service_ids filter of
-- QueryServices: the primary key (tenant_id, id).

-- QueryServices without a type filter: the tenant's live services in (created_at, id) keyset order.
CREATE INDEX services_by_creation ON services (tenant_id, created_at, id) WHERE deleted_at IS NULL;

-- QueryServices filtered by type (one or a few of the three types), in the same order.
CREATE INDEX services_by_type_and_creation ON services (tenant_id, type, created_at, id) WHERE deleted_at IS NULL;

-- A schedule belongs to exactly one service.
CREATE UNIQUE INDEX services_schedule ON services (tenant_id, schedule_id) WHERE schedule_id IS NOT NULL;
