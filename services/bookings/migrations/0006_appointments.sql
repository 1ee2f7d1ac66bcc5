-- depends: 0005_staff_members

-- Appointment bookings (docs/appointments.md "Booking an appointment"): a booking of an
-- APPOINTMENT service names its staff member and its time (staff_member_id, start_date, end_date,
-- added with the staff members in 0005) and the time it occupies, the appointment widened by the
-- service's buffers as they were when it was booked. Bookings is the truth of which appointments
-- exist; the time itself is held on the staff member's schedule in timeframes, where the database
-- keeps holds and time off apart (docs/appointments.md "Double booking").
ALTER TABLE bookings
    ADD COLUMN occupied_start timestamptz NULL,
    ADD COLUMN occupied_end   timestamptz NULL,
    -- A booking is of exactly one thing: a course's schedule, a class's event, or a staff
    -- member's time.
    DROP CONSTRAINT bookings_one_entity,
    ADD CONSTRAINT bookings_one_entity CHECK (num_nonnulls(schedule_id, event_id, staff_member_id) = 1),
    ADD CONSTRAINT bookings_appointment_occupies_its_time CHECK (
        (staff_member_id IS NULL AND occupied_start IS NULL AND occupied_end IS NULL)
        OR (staff_member_id IS NOT NULL AND occupied_start <= start_date AND start_date < end_date AND end_date <= occupied_end)
    ),
    -- COMPLETED and NO_SHOW: an appointment that took place, or whose client did not come.
    DROP CONSTRAINT bookings_status_check,
    ADD CONSTRAINT bookings_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'DECLINED', 'CANCELED', 'COMPLETED', 'NO_SHOW'));

-- ListOccupiedTime (availability's slot calculation, on every appointment listing): the active
-- appointments of some staff members whose occupied time ends after `from` and starts before `to`.
-- Keyed by the end so that the scan starts at `from` and never reads the staff member's past;
-- the start bound is checked on the included columns.
CREATE INDEX bookings_active_appointments_by_staff ON bookings (tenant_id, staff_member_id, occupied_end)
    INCLUDE (occupied_start, start_date, end_date, service_id)
    WHERE staff_member_id IS NOT NULL AND status IN ('PENDING', 'CONFIRMED');
