-- depends: 0003_bookings

-- Strict capacity (bookings.catalog.v1.Service.strict_capacity): CreateBooking and party-size
-- increases of the service count the PENDING and CONFIRMED bookings of the booked schedule or
-- event inside their own transaction and refuse rather than overbook. Off for every existing
-- service and by default, so they keep the eventually consistent capacity of seed 000. The default
-- is a constant, so the column is added without rewriting the table.
ALTER TABLE services
    ADD COLUMN strict_capacity boolean NOT NULL DEFAULT false,
    -- An APPOINTMENT slot is exclusive already; only CLASS and COURSE sessions share a capacity.
    ADD CONSTRAINT services_strict_capacity_shares_sessions CHECK (NOT strict_capacity OR type IN ('CLASS', 'COURSE'));

-- The strict count (the sum of number_of_participants of one schedule's or one event's PENDING and
-- CONFIRMED bookings, under that entity's advisory lock) is served by the existing
-- bookings_by_schedule_and_creation and bookings_by_event_and_creation: their (tenant_id,
-- schedule_id | event_id) prefix finds exactly the entity's bookings, and status and size are read
-- from those rows. No covering index is added for it: the entity being booked right now has its
-- newest rows on recently written pages, which an index-only scan visits anyway (they are not
-- all-visible yet), while the index would cost every booking insert of every service, flagged or
-- not, one more index entry, and would turn party-size changes into non-HOT updates.
