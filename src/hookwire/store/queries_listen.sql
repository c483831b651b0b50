-- `hookwire listen`: listeners, their cursors, what they forwarded, and the events they read.

-- name: insert_meta_if_absent --
INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO NOTHING;

-- name: get_listener --
SELECT * FROM listeners WHERE id = :id;

-- name: list_listeners --
SELECT * FROM listeners ORDER BY updated_at DESC, id;

-- name: insert_listener --
INSERT INTO listeners (id, kind, targets, cursor, connected_at, disconnected_at, created_at, updated_at)
VALUES (:id, :kind, :targets, :cursor, :now, NULL, :now, :now)
ON CONFLICT (id) DO NOTHING;

-- name: listener_connected --
UPDATE listeners SET targets = :targets, connected_at = :now, disconnected_at = NULL, updated_at = :now
WHERE id = :id;

-- name: listener_disconnected --
UPDATE listeners SET disconnected_at = :now, updated_at = :now WHERE id = :id;

-- The cursor only moves forward.
-- name: advance_listener --
UPDATE listeners SET cursor = :cursor, updated_at = :now WHERE id = :id AND cursor < :cursor;

-- name: insert_listener_forward --
INSERT INTO listener_forwards (id, listener_id, event_id, url, status, duration_ms, body, error, created_at)
VALUES (:id, :listener_id, :event_id, :url, :status, :duration_ms, :body, :error, :now);

-- name: listener_forwarded --
SELECT id FROM listener_forwards WHERE listener_id = :listener_id AND event_id = :event_id LIMIT 1;

-- name: list_event_forwards --
SELECT * FROM listener_forwards WHERE event_id = :event_id ORDER BY id;

-- name: listen_inbound_after --
SELECT id, source_id, method, path, query, headers, body, event_type, event_id, created_at
FROM inbound_requests
WHERE source_id = :source_id AND status = 'accepted' AND id > :after
ORDER BY id LIMIT :limit;

-- name: listen_inbound_get --
SELECT id, source_id, method, path, query, headers, body, event_type, event_id, created_at
FROM inbound_requests WHERE id = :id AND status = 'accepted';

-- name: listen_inbound_before --
SELECT id, source_id, method, path, query, headers, body, event_type, event_id, created_at
FROM inbound_requests
WHERE source_id = :source_id AND status = 'accepted' AND id <= :before AND created_at >= :since
ORDER BY id DESC LIMIT :limit;

-- name: listen_inbound_latest_id --
SELECT MAX(id) AS id FROM inbound_requests WHERE source_id = :source_id;

-- name: listen_messages_after --
SELECT id, app_id, event_type, event_id, payload, created_at FROM messages
WHERE app_id = :app_id AND id > :after ORDER BY id LIMIT :limit;

-- name: listen_messages_get --
SELECT id, app_id, event_type, event_id, payload, created_at FROM messages WHERE id = :id;

-- name: listen_messages_before --
SELECT id, app_id, event_type, event_id, payload, created_at FROM messages
WHERE app_id = :app_id AND id <= :before AND created_at >= :since
ORDER BY id DESC LIMIT :limit;

-- name: listen_messages_latest_id --
SELECT MAX(id) AS id FROM messages WHERE app_id = :app_id;

-- `hookwire tail`: the details of one announced attempt or inbound request.
-- name: tail_attempt --
SELECT a.id, a.msg_id, a.app_id, a.endpoint_id, a.url, a.status, a.response_status_code,
    a.duration_ms, a.error, m.event_type
FROM attempts a JOIN messages m ON m.id = a.msg_id
WHERE a.id = :id;

-- name: tail_inbound --
SELECT r.id, r.source_id, r.method, r.path, r.status, r.reason, r.event_type, s.name AS source_name
FROM inbound_requests r JOIN sources s ON s.id = r.source_id
WHERE r.id = :id;
