-- Operations: operational webhooks, retention.
--
-- Operational webhook endpoints are endpoints of one internal application, so their events
-- are signed, retried and logged by the same delivery engine. `internal` hides an application
-- from application lists: the operational one, and the hidden applications of ingest sources.
ALTER TABLE applications ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;
UPDATE applications SET internal = 1 WHERE source_id IS NOT NULL;
INSERT INTO applications (id, uid, name, throttle_rate, metadata, internal, created_at, updated_at)
VALUES ('app_0000000000000000000000000op', NULL, 'operational webhooks', NULL, '{}', 1, 0, 0);

-- A message's own retention (payloadRetentionPeriod / payloadRetentionHours): its content is
-- purged at this time (ms) instead of after HOOKWIRE_RETENTION. Only such messages are indexed.
ALTER TABLE messages ADD COLUMN expunge_at BIGINT;
CREATE INDEX messages_expunge_at ON messages (expunge_at) WHERE expunge_at IS NOT NULL;

-- When an inbound request's body was purged by retention (the column itself is NOT NULL).
ALTER TABLE inbound_requests ADD COLUMN purged_at BIGINT;
