-- depends: 0003_participant_totals

-- Working hours of a schedule (calendar.working_hours.v1.WorkingHours, docs/appointments.md
-- "Working hours"): weekly rules, time off, extra hours and holidays. Keys start with tenant_id,
-- and each row's foreign key to its schedule includes it, so no row can hang off another tenant's
-- schedule.

-- Local wall-clock rules, stored as given (a rule keeps its local time across a DST change).
-- SetWeeklyRules deletes a schedule's rows and inserts the new set, numbered by `position`.
CREATE TABLE weekly_rules (
    tenant_id      text     NOT NULL,
    schedule_id    uuid     NOT NULL,
    position       smallint NOT NULL CHECK (position BETWEEN 0 AND 49),
    day_of_week    smallint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),
    start_time     time     NOT NULL,
    end_time       time     NOT NULL,
    effective_from date     NULL,
    effective_to   date     NULL,
    -- ListWeeklyRules and SetWeeklyRules' delete read a schedule's rules by this key; it also
    -- serves the foreign key.
    PRIMARY KEY (tenant_id, schedule_id, position),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id),
    CONSTRAINT weekly_rules_times_check CHECK (end_time > start_time),
    CONSTRAINT weekly_rules_effective_check CHECK (effective_to >= effective_from)
);

CREATE TABLE time_off (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    schedule_id  uuid        NOT NULL,
    start        timestamptz NOT NULL,
    "end"        timestamptz NOT NULL,
    reason       text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_date timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id),
    CONSTRAINT time_off_span_check CHECK ("end" > start)
);

-- ListExceptions: a schedule's time off overlapping a range, in (start, id) order; also serves
-- the foreign key and DeleteTimeOff's schedule filter.
CREATE INDEX time_off_schedule_start_idx ON time_off (tenant_id, schedule_id, start, id) INCLUDE ("end");

CREATE TABLE extra_hours (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    schedule_id  uuid        NOT NULL,
    start        timestamptz NOT NULL,
    "end"        timestamptz NOT NULL,
    reason       text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_date timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id),
    CONSTRAINT extra_hours_span_check CHECK ("end" > start)
);

-- ListExceptions: a schedule's extra hours overlapping a range, in (start, id) order; also
-- serves the foreign key.
CREATE INDEX extra_hours_schedule_start_idx ON extra_hours (tenant_id, schedule_id, start, id) INCLUDE ("end");

CREATE TABLE holidays (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    schedule_id  uuid        NOT NULL,
    local_date   date        NOT NULL,
    reason       text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_date timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id)
);

-- One holiday per schedule and date (CreateHoliday: INSERT ... ON CONFLICT on this index);
-- ListExceptions reads a schedule's holidays between two local dates by it; it also serves the
-- foreign key.
CREATE UNIQUE INDEX holidays_schedule_date_key ON holidays (tenant_id, schedule_id, local_date);
