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
WHERE status = 1 AND next_attempt_at <= :now;

-- The internal application behind operational endpoints: hidden from application lists.
-- name: insert_operational_app --
INSERT INTO applications (id, uid, name, throttle_rate, metadata, hidden, created_at, updated_at)
VALUES (:id, NULL, 'operational webhooks', NULL, '{}', TRUE, :now, :now)
ON CONFLICT DO NOTHING;

-- name: applied_migrations --
SELECT version FROM schema_migrations;

-- name: disabled_endpoint_count --
SELECT COUNT(*) AS n FROM endpoints WHERE disabled = 1;
