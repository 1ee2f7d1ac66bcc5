-- depends: 0001_participations

-- When the booking change a participation row reflects was written by the bookings service: the
-- `ce_time` of the booking message (the outbox row's insert time, inside the booking's
-- transaction). The event updater measures `participations.propagation_lag` from it, booking
-- commit -> participant total applied in timeframes. NULL for rows written before this column
-- existed and for messages without a readable `ce_time`: they are simply not measured.
ALTER TABLE participations ADD COLUMN booking_committed_at timestamptz NULL;
