-- depends: 0003_booking_committed_at

-- The participants counted on each target, kept by the database in the transaction of every
-- participation change: per event (class participations) and per schedule (course
-- participations, counted on every session by timeframes), the sum of the active participations'
-- party sizes and a version. The event updater reads these rows and sends them to timeframes
-- (calendar.events.v3.Events/UpdateParticipantTotals), so settling costs the same however many
-- participations a target has, and a course booking settles one number, not one per session.
--
-- A trigger keeps them, not the application: every write of `participations`, by any release of
-- the service (two run side by side during a rolling upgrade) or by hand, moves the sum with it,
-- in the same transaction. The rows are a maintained aggregate of `participations`, which stays
-- the truth: `participants_total` = sum(party_size) of the target's active rows, always.
CREATE TABLE participant_totals (
    tenant_id          text        NOT NULL CHECK (tenant_id <> ''),
    target_kind        text        NOT NULL CHECK (target_kind IN ('event', 'schedule')),
    target_id          uuid        NOT NULL,
    participants_total integer     NOT NULL CHECK (participants_total >= 0),
    -- Greater for every change of the row, and at least the clock in microseconds: timeframes
    -- keeps the greatest version it was sent, so a late or repeated settlement never rolls a total
    -- back, and versions stay ahead of what timeframes holds even after this table is restored
    -- from an older backup.
    version            bigint      NOT NULL CHECK (version > 0),
    updated_date       timestamptz NOT NULL DEFAULT now(),
    -- The updater's read of the targets a batch of participation messages names.
    PRIMARY KEY (tenant_id, target_kind, target_id)
);

-- Both functions run with this schema's search path, whoever's session fires the trigger. A
-- participation that leaves (delta < 0) was counted when it came, so its row exists: updated,
-- never inserted (the CHECK would refuse a negative row before ON CONFLICT could merge it).
CREATE FUNCTION add_participants(tenant text, event_id uuid, schedule_id uuid, delta integer) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    kind text := CASE WHEN event_id IS NOT NULL THEN 'event' ELSE 'schedule' END;
    target uuid := coalesce(event_id, schedule_id);
    clock bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
BEGIN
    IF delta >= 0 THEN
        INSERT INTO participant_totals AS t (tenant_id, target_kind, target_id, participants_total, version)
        VALUES (tenant, kind, target, delta, clock)
        ON CONFLICT (tenant_id, target_kind, target_id) DO UPDATE
        SET participants_total = t.participants_total + EXCLUDED.participants_total,
            version = greatest(t.version + 1, EXCLUDED.version),
            updated_date = now();
        RETURN;
    END IF;
    UPDATE participant_totals AS t
    SET participants_total = t.participants_total + delta, version = greatest(t.version + 1, clock), updated_date = now()
    WHERE t.tenant_id = tenant AND t.target_kind = kind AND t.target_id = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'participant total of % % (tenant %) was never counted', kind, target, tenant;
    END IF;
END
$$;

CREATE FUNCTION count_participants() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.active THEN
        PERFORM add_participants(OLD.tenant_id, OLD.event_id, OLD.schedule_id, -OLD.party_size);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.active THEN
        PERFORM add_participants(NEW.tenant_id, NEW.event_id, NEW.schedule_id, NEW.party_size);
    END IF;
    RETURN NULL;
END
$$;

-- No writes between the sums below and the trigger that keeps them from now on (the migration
-- runs in one transaction; the lock waits for writers in flight and holds new ones back).
LOCK TABLE participations IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO participant_totals (tenant_id, target_kind, target_id, participants_total, version)
SELECT tenant_id, CASE WHEN event_id IS NOT NULL THEN 'event' ELSE 'schedule' END, coalesce(event_id, schedule_id), sum(party_size),
       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
FROM participations
WHERE active
GROUP BY tenant_id, event_id, schedule_id;

CREATE TRIGGER participations_count AFTER INSERT OR DELETE ON participations
    FOR EACH ROW EXECUTE FUNCTION count_participants();
-- A change that moves no participant (PENDING -> CONFIRMED: only the revision) touches no total.
CREATE TRIGGER participations_recount AFTER UPDATE ON participations
    FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.party_size IS DISTINCT FROM NEW.party_size
          OR OLD.event_id IS DISTINCT FROM NEW.event_id OR OLD.schedule_id IS DISTINCT FROM NEW.schedule_id)
    EXECUTE FUNCTION count_participants();

-- event_totals (0001) was the per-event serialization point of the updater before these totals;
-- an updater of the previous release may still use it during the upgrade. Dropped a release later.
COMMENT ON TABLE event_totals IS 'unused since 0004_participant_totals; drop in the next release';
