-- depends: 0001_catalog

-- Bookings (bookings.v2.Bookings): a whole COURSE (its schedule) or one session of a CLASS (an
-- event), for a party of `number_of_participants`. Every change bumps `revision` and writes its
-- bookings.booking-events.v1 message to the outbox in the same transaction.
--
-- As everywhere, the tenant leads the primary key and every index, and every query filters by it.
CREATE TABLE bookings (
    tenant_id              text        NOT NULL,
    id                     uuid        NOT NULL,
    -- The catalog service booked. Services are only ever soft-deleted, so the reference holds.
    service_id             uuid        NOT NULL,
    -- Exactly one of the two: the calendar schedule of a COURSE booking, the event of a CLASS
    -- booking (timeframes' ids, opaque here).
    schedule_id            text        NULL,
    event_id               text        NULL,
    number_of_participants integer     NOT NULL CHECK (number_of_participants BETWEEN 1 AND 1000),
    contact_name           text        NOT NULL CHECK (char_length(contact_name) BETWEEN 1 AND 200),
    contact_email          text        NOT NULL CHECK (char_length(contact_email) BETWEEN 3 AND 320),
    status                 text        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'DECLINED', 'CANCELED')),
    -- CreateBooking's optional idempotency key (unique per tenant, below) and the digest of the
    -- request that used it first: a replay must match it, a reuse for another request is refused.
    idempotency_key        text        NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 100),
    request_fingerprint    text        NULL,
    revision               bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id),
    CONSTRAINT bookings_one_entity CHECK ((schedule_id IS NULL) <> (event_id IS NULL)),
    CONSTRAINT bookings_key_has_fingerprint CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL))
);

-- GetBooking and every change RPC: the primary key (tenant_id, id).

-- CreateBooking's idempotency: the same key in a tenant names one booking. The insert is
-- `ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`, so of
-- concurrent requests with one key exactly one inserts and the others read its booking.
CREATE UNIQUE INDEX bookings_idempotency_key ON bookings (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- QueryBookings pages in (created_at, id) keyset order. Without an entity filter: all of the
-- tenant's bookings, or those of some statuses.
CREATE INDEX bookings_by_creation ON bookings (tenant_id, created_at, id);
CREATE INDEX bookings_by_status_and_creation ON bookings (tenant_id, status, created_at, id);

-- QueryBookings by service.
CREATE INDEX bookings_by_service_and_creation ON bookings (tenant_id, service_id, created_at, id);

-- QueryBookings by schedule (course bookings) and by event (class bookings). Availability's legacy
-- consistent capacity (AvailabilityCalendar with the proxy toggle off) reads the PENDING and
-- CONFIRMED bookings of one schedule or one event through these on every booking validation; the
-- status filter is applied to the few rows of one schedule or event.
CREATE INDEX bookings_by_schedule_and_creation ON bookings (tenant_id, schedule_id, created_at, id) WHERE schedule_id IS NOT NULL;
CREATE INDEX bookings_by_event_and_creation ON bookings (tenant_id, event_id, created_at, id) WHERE event_id IS NOT NULL;
