-- Operations: operational webhooks, metrics, retention. See queries.sql for the conventions.

-- name: operational_context --
SELECT e.id AS endpoint_id, e.uid AS endpoint_uid, e.disabled, e.first_failure_at, e.updated_at,
    a.id AS app_id, a.uid AS app_uid, a.source_id
FROM endpoints e JOIN applications a ON a.id = e.app_id
WHERE e.id = :endpoint_id;

-- name: message_event_id --
SELECT event_id FROM messages WHERE id = :id;

-- name: count_operational_targets --
SELECT COUNT(*) AS n FROM endpoints WHERE app_id = :app_id AND disabled = 0;

-- name: endpoint_url --
SELECT url FROM endpoints WHERE id = :id;

-- name: oldest_due --
SELECT COUNT(*) AS depth, MIN(next_attempt_at) AS oldest FROM deliveries
WHERE status = {MessageStatus.PENDING} AND next_attempt_at <= :now;

-- The internal application behind operational endpoints: hidden from application lists.
-- name: insert_operational_app --
INSERT INTO applications (id, uid, name, throttle_rate, metadata, hidden, created_at, updated_at)
VALUES (:id, NULL, 'operational webhooks', NULL, '{}', TRUE, :now, :now)
ON CONFLICT DO NOTHING;

-- name: applied_migrations --
SELECT version FROM schema_migrations;

-- name: disabled_endpoint_count --
SELECT COUNT(*) AS n FROM endpoints WHERE disabled = 1;

-- ----------------------------------------------------------------- retention
-- Old rows are walked in id order (ids sort by creation time) from a watermark kept in meta,
-- so a pass never rescans what an earlier pass purged and needs no index of its own.

-- name: messages_in_id_range --
SELECT id FROM messages WHERE id > :after AND id < :before ORDER BY id LIMIT :limit;

-- name: messages_expunge_due --
SELECT id FROM messages WHERE expunge_at IS NOT NULL AND expunge_at <= :now ORDER BY expunge_at LIMIT :limit;

-- name: purge_message_payloads --
UPDATE messages SET payload = NULL, expunge_at = NULL
WHERE id = ANY(:ids) AND (payload IS NOT NULL OR expunge_at IS NOT NULL);

-- name: purge_attempt_bodies --
UPDATE attempts SET response_body = NULL, response_headers = NULL
WHERE msg_id = ANY(:ids) AND (response_body IS NOT NULL OR response_headers IS NOT NULL);

-- name: inbound_in_id_range --
SELECT id FROM inbound_requests WHERE id > :after AND id < :before ORDER BY id LIMIT :limit;

-- name: purge_inbound_bodies --
UPDATE inbound_requests SET body = :empty, purged_at = :now WHERE id = ANY(:ids) AND purged_at IS NULL;

-- name: set_message_expunge_at --
UPDATE messages SET expunge_at = :expunge_at WHERE id = :id;

-- name: app_message_ids --
SELECT id FROM messages WHERE app_id = :app_id AND id > :after AND payload IS NOT NULL ORDER BY id LIMIT :limit;

-- name: app_messages_by_key --
SELECT id, event_id FROM messages WHERE app_id = :app_id AND (id = ANY(:keys) OR event_id = ANY(:keys));
