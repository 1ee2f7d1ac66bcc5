-- depends: 0001_calendar

-- Participants split by where they were booked (calendar.events.v3.Events/UpdateParticipantTotals):
-- on an event itself (a class session) and on a whole schedule (a course). A course booking then
-- changes one row, the schedule's, however many sessions the course has; every event reads its
-- schedule's number with its own (adapters/postgres.py joins them), so `participants_total` and
-- `remaining_capacity` of each event stay what the contract says.
--
-- Each part carries the version it was settled with; a write is applied only when its version
-- is greater, so late and repeated writes never roll a number back.
ALTER TABLE events
    ADD COLUMN event_participants         integer NOT NULL DEFAULT 0 CHECK (event_participants >= 0),
    ADD COLUMN event_participants_version bigint  NOT NULL DEFAULT 0 CHECK (event_participants_version >= 0);

ALTER TABLE schedules
    ADD COLUMN schedule_participants         integer NOT NULL DEFAULT 0 CHECK (schedule_participants >= 0),
    ADD COLUMN schedule_participants_version bigint  NOT NULL DEFAULT 0 CHECK (schedule_participants_version >= 0);

-- Expand, then contract: events.participants_total / participants_version keep the single total
-- per event that UpdateEventParticipants writes (the pipeline before this split). An event counts
-- it only while neither split part of it has been settled (domain/model.py `Participants`), so
-- during a rolling upgrade old and new updaters never count anyone twice. Both columns go once no
-- deployment calls UpdateEventParticipants any more.
COMMENT ON COLUMN events.participants_total IS 'legacy single total (UpdateEventParticipants); counted only while event_participants_version and the schedule''s schedule_participants_version are 0';
