-- depends: 0004_strict_capacity

-- Appointments (docs/appointments.md): staff members (bookings.staff.v1.StaffMembers), the relation
-- between APPOINTMENT services and the staff who offer them, the services' appointment settings,
-- and the columns an appointment booking fills. As everywhere, the tenant leads every key and
-- every index, and every foreign key includes it, so no row can point at another tenant's.

-- A person whose time APPOINTMENT services book. Every change bumps `revision` and writes its
-- bookings.staff-events.v1 message to the outbox in the same transaction.
CREATE TABLE staff_members (
    tenant_id   text        NOT NULL,
    id          uuid        NOT NULL,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- '' when none was given; the format is checked by the domain validation.
    email       text        NOT NULL DEFAULT '' CHECK (char_length(email) <= 320),
    time_zone   text        NOT NULL,
    -- The calendar.schedules.v3 schedule holding the working hours (owned by timeframes; opaque id),
    -- created with the staff member, its external_id the staff member's id.
    schedule_id text        NOT NULL,
    revision    bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Soft delete, as for services: a deleted staff member is NOT_FOUND and absent from queries,
    -- but stays referable by the appointments booked with them.
    deleted_at  timestamptz NULL,
    PRIMARY KEY (tenant_id, id)
);

-- GetStaffMember / UpdateStaffMember / DeleteStaffMember, the staff_member_ids filter of
-- QueryStaffMembers and the check of a service's staff_member_ids: the primary key (tenant_id, id).

-- QueryStaffMembers: the tenant's live staff members in (created_at, id) keyset order.
CREATE INDEX staff_members_by_creation ON staff_members (tenant_id, created_at, id) WHERE deleted_at IS NULL;

-- A schedule belongs to exactly one staff member.
CREATE UNIQUE INDEX staff_members_schedule ON staff_members (tenant_id, schedule_id);

-- The relation APPOINTMENT service <-> staff member, stored once: it is both Service.staff_member_ids
-- and StaffMember.service_ids. Links of live rows only: deleting either side removes its links.
CREATE TABLE service_staff (
    tenant_id       text NOT NULL,
    service_id      uuid NOT NULL,
    staff_member_id uuid NOT NULL,
    -- Service.staff_member_ids (a service's staff, sorted) on every read of a service, and
    -- replacing a service's staff (CreateService / UpdateService / DeleteService).
    PRIMARY KEY (tenant_id, service_id, staff_member_id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_member_id) REFERENCES staff_members (tenant_id, id)
);

-- StaffMember.service_ids (a staff member's services, sorted) on every read of a staff member,
-- replacing a staff member's services (Create/Update/DeleteStaffMember), and the service_ids
-- filter of QueryStaffMembers.
CREATE INDEX service_staff_by_staff_member ON service_staff (tenant_id, staff_member_id, service_id);

-- bookings.catalog.v1.AppointmentSettings, one nullable column each: set for APPOINTMENT services,
-- NULL for CLASS and COURSE (the CHECK below). Minutes, with the ranges of services.proto; a slot
-- interval of 0 means "the duration".
ALTER TABLE services
    ADD COLUMN appointment_duration_minutes      integer NULL CHECK (appointment_duration_minutes BETWEEN 5 AND 1440),
    ADD COLUMN appointment_buffer_before_minutes integer NULL CHECK (appointment_buffer_before_minutes BETWEEN 0 AND 1440),
    ADD COLUMN appointment_buffer_after_minutes  integer NULL CHECK (appointment_buffer_after_minutes BETWEEN 0 AND 1440),
    ADD COLUMN appointment_slot_interval_minutes integer NULL
        CHECK (appointment_slot_interval_minutes = 0 OR appointment_slot_interval_minutes BETWEEN 5 AND 1440);

-- APPOINTMENT services created before appointment settings existed get the defaults the settings
-- would have needed then: 60-minute appointments, a slot every 60 minutes (interval 0, the
-- duration), no buffers. Their owners can change them with UpdateService.
UPDATE services
   SET appointment_duration_minutes = 60, appointment_buffer_before_minutes = 0,
       appointment_buffer_after_minutes = 0, appointment_slot_interval_minutes = 0
 WHERE type = 'APPOINTMENT';

ALTER TABLE services
    ADD CONSTRAINT services_appointment_settings_match_type CHECK (
        CASE WHEN type = 'APPOINTMENT'
             THEN appointment_duration_minutes IS NOT NULL AND appointment_buffer_before_minutes IS NOT NULL
                  AND appointment_buffer_after_minutes IS NOT NULL AND appointment_slot_interval_minutes IS NOT NULL
             ELSE appointment_duration_minutes IS NULL AND appointment_buffer_before_minutes IS NULL
                  AND appointment_buffer_after_minutes IS NULL AND appointment_slot_interval_minutes IS NULL
        END
    );

-- What an appointment booking holds: the staff member booked and the appointment's span. NULL for
-- course and class bookings; all three or none. Appointment bookings themselves (CreateBooking of
-- an APPOINTMENT service) fill them; they are added here because DeleteStaffMember already asks
-- whether a staff member has appointments ahead.
ALTER TABLE bookings
    ADD COLUMN staff_member_id uuid        NULL,
    ADD COLUMN start_date      timestamptz NULL,
    ADD COLUMN end_date        timestamptz NULL,
    ADD CONSTRAINT bookings_appointment_all_or_none CHECK (
        (staff_member_id IS NULL) = (start_date IS NULL) AND (start_date IS NULL) = (end_date IS NULL)
    ),
    ADD CONSTRAINT bookings_appointment_span CHECK (end_date > start_date),
    ADD CONSTRAINT bookings_staff_member_fkey FOREIGN KEY (tenant_id, staff_member_id) REFERENCES staff_members (tenant_id, id);

-- DeleteStaffMember's refusal: does the staff member have a PENDING or CONFIRMED appointment that
-- ends after now (the range end_date > now on the staff member's rows; status is read from those
-- few rows).
CREATE INDEX bookings_by_staff_and_end ON bookings (tenant_id, staff_member_id, end_date) WHERE staff_member_id IS NOT NULL;
