-- depends: 0004_working_hours

-- Occupied time of a schedule: its time off and the time held for its appointments
-- (docs/appointments.md "Double booking"). Bookings holds an appointment's time here
-- (calendar.working_hours.v1.AppointmentHolds) before it commits the booking, and Postgres refuses
-- every overlap that would double-book a staff member, whatever the interleaving of the requests:
--
--   (a) a hold never overlaps another hold of the same schedule;
--   (b) a hold never overlaps time off of the same schedule.
--
-- Time off may overlap time off (two reasons to be away at once harm nobody, and
-- docs/appointments.md has always allowed it), so (b) compares rows of different kinds only.

-- btree_gist: GiST operator classes for plain equality (`tenant_id WITH =`, `schedule_id WITH =`,
-- `kind WITH <>`), which an exclusion constraint needs next to the range's `&&`. It is trusted
-- since PostgreSQL 13, so a user with CREATE on the database (CloudNativePG's application owner)
-- installs it; deploy/k8s/base/postgres/cluster.yaml also creates it when the cluster is made.
-- It goes into `public`, not into this service's schema (the migrations' search_path): an
-- extension belongs to the whole database, a later user elsewhere finds it already there, and
-- dropping one service's schema must not drop it. The constraints below find its operator classes
-- as the default GiST classes of text and uuid, which does not depend on the search_path. Where
-- the database user may not create extensions, an operator runs, once per database and as a user
-- who may: CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE TABLE occupied_time (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    schedule_id  uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('TIME_OFF', 'APPOINTMENT')),
    start        timestamptz NOT NULL,
    "end"        timestamptz NOT NULL,
    -- The span the constraints compare, half-open like every span of the platform: a hold ending
    -- at 10:00 and one starting at 10:00 do not overlap. Derived, so it cannot disagree with the
    -- start and end the statements read and write.
    during       tstzrange   NOT NULL GENERATED ALWAYS AS (tstzrange(start, "end", '[)')) STORED,
    -- The booking an APPOINTMENT row holds time for; never set on time off.
    booking_id   uuid        NULL,
    reason       text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_date timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id),
    CONSTRAINT occupied_time_span_check CHECK ("end" > start),
    CONSTRAINT occupied_time_booking_check CHECK ((kind = 'APPOINTMENT') = (booking_id IS NOT NULL)),
    -- A hold is at most 7 days (domain/holds.py MAX_HOLD) of real time: in hours, which do not
    -- stretch with the session's time zone across a DST change as days would.
    CONSTRAINT occupied_time_hold_check CHECK (kind = 'TIME_OFF' OR (reason = '' AND "end" <= start + interval '168 hours')),
    -- (a) HoldAppointmentTime: two holds of one schedule never overlap, of any lengths. Its index
    -- also finds the holds a refused hold or time off overlaps (their booking ids are named).
    CONSTRAINT occupied_time_holds_excl EXCLUDE USING gist (tenant_id WITH =, schedule_id WITH =, during WITH &&) WHERE (kind = 'APPOINTMENT'),
    -- (b) HoldAppointmentTime and CreateTimeOff: a hold and time off of one schedule never
    -- overlap (two rows of different kinds; there are two kinds). Its index also finds the time
    -- off a refused hold overlaps (`kind = 'TIME_OFF'`), and serves the foreign key.
    CONSTRAINT occupied_time_kinds_excl EXCLUDE USING gist (tenant_id WITH =, schedule_id WITH =, during WITH &&, kind WITH <>)
);

-- One hold per booking: HoldAppointmentTime finds a booking's hold by it (a repeated hold answers
-- it, INSERT ... ON CONFLICT on this index), ReleaseAppointmentTime deletes by it.
CREATE UNIQUE INDEX occupied_time_booking_key ON occupied_time (tenant_id, booking_id) WHERE kind = 'APPOINTMENT';

-- ListExceptions and ListWorkingHours: a schedule's time off overlapping a range, in (start, id)
-- order. Plan (EXPLAIN on thousands of schedules): for each schedule of the request, an Index Scan
-- with Index Cond (tenant_id, schedule_id, start < to) and Filter "end" > from, already in order;
-- the holds are left out of it. DeleteTimeOff finds its row by the primary key.
CREATE INDEX occupied_time_time_off_idx ON occupied_time (tenant_id, schedule_id, start, id) INCLUDE ("end") WHERE kind = 'TIME_OFF';

-- Time off moves here with its ids, so clients holding them can still delete it.
INSERT INTO occupied_time (tenant_id, id, schedule_id, kind, start, "end", reason, created_date)
SELECT tenant_id, id, schedule_id, 'TIME_OFF', start, "end", reason, created_date FROM time_off;

DROP TABLE time_off;
