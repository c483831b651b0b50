-- Operations: retention. (Operational webhook endpoints belong to an internal, hidden
-- application that is created on first use; see operations/operational_endpoints.py.)

-- A message's own retention (payloadRetentionPeriod / payloadRetentionHours): its content is
-- purged at this time (ms) instead of after HOOKWIRE_RETENTION. Only such messages are indexed.
ALTER TABLE messages ADD COLUMN expunge_at BIGINT;
CREATE INDEX messages_expunge_at ON messages (expunge_at) WHERE expunge_at IS NOT NULL;

-- When an inbound request's body was purged by retention (the column itself is NOT NULL).
ALTER TABLE inbound_requests ADD COLUMN purged_at BIGINT;
