-- Transactional outbox (services/common/outbox.py): the integration events a service publishes to
-- Kafka, in the service's own schema. A row is inserted by `outbox.record` in the same transaction
-- as the change it announces, so an event exists if and only if its change committed; the relay
-- publishes it afterwards and sets `published_at` once the broker acknowledged it.
--
-- Applied before a publishing service's own migrations (services/common/db.py `migrate`, with
-- `publishes=True`). The services of the first wave created this same table in their own
-- `0002_outbox` migration, which their databases keep in their history; hence IF NOT EXISTS,
-- which makes this file a no-op there. A later change of the table is a new file here.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial   PRIMARY KEY,
    tenant_id    text        NOT NULL,
    topic        text        NOT NULL,
    -- Kafka message key: the aggregate id, so one entity's events stay in order on one partition.
    key          text        NOT NULL,
    -- CloudEvents attributes (binary mode headers, protos/topics/README.md). ce_id is fixed here,
    -- so a message published twice (at least once delivery) carries the same id both times.
    ce_type      text        NOT NULL,
    ce_id        uuid        NOT NULL,
    ce_subject   text        NOT NULL,
    ce_time      timestamptz NOT NULL,
    -- The serialized protobuf message named by ce_type.
    payload      bytea       NOT NULL,
    -- W3C trace context of the writing request, so one trace runs from the RPC to the consumers.
    traceparent  text        NULL,
    tracestate   text        NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL
) WITH (
    -- Every row is inserted, updated once and deleted a day later: vacuum it often.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 1000
);

-- The relay's claim (SELECT ... WHERE published_at IS NULL ORDER BY id LIMIT n FOR UPDATE SKIP
-- LOCKED) and the backlog gauge. Only unpublished rows are indexed, so the index stays tiny no
-- matter how many published rows await the clean-up.
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- The clean-up of published rows older than the retention (created_at < cutoff). Rows are
-- appended in time order, so a BRIN index finds the old block ranges at almost no write cost.
CREATE INDEX IF NOT EXISTS outbox_created_at ON outbox USING brin (created_at);
