-- Ingest: sources, captured requests, routes. See queries.sql for the conventions.

-- name: insert_source --
INSERT INTO sources (id, uid, name, type, config, metadata, token_hash, token, app_id, created_at, updated_at)
VALUES (:id, :uid, :name, :type, :config, :metadata, :token_hash, :token, :app_id, :now, :now);

-- name: insert_source_app --
INSERT INTO applications (id, uid, name, throttle_rate, metadata, source_id, hidden, created_at, updated_at)
VALUES (:id, NULL, :name, NULL, '{}', :source_id, TRUE, :now, :now);

-- name: get_source --
SELECT * FROM sources WHERE id = :key OR uid = :key;

-- name: get_source_by_token_hash --
SELECT * FROM sources WHERE token_hash = :token_hash;

-- name: sources_backed_by_app --
SELECT id, uid FROM sources WHERE app_id = :app_id ORDER BY id;

-- name: list_sources_asc --
SELECT * FROM sources WHERE id > :after ORDER BY id ASC LIMIT :limit;

-- name: list_sources_desc --
SELECT * FROM sources WHERE id < :before ORDER BY id DESC LIMIT :limit;

-- name: update_source --
UPDATE sources SET uid = :uid, name = :name, type = :type, config = :config, metadata = :metadata,
    updated_at = :now
WHERE id = :id;

-- name: update_source_token --
UPDATE sources SET token_hash = :token_hash, token = :token, updated_at = :now WHERE id = :id;

-- name: delete_source --
DELETE FROM sources WHERE id = :id;

-- name: delete_source_app --
DELETE FROM applications WHERE id = :id AND source_id IS NOT NULL;

-- name: insert_inbound_request --
INSERT INTO inbound_requests (id, source_id, method, path, query, headers, body, status, reason, event_id,
    event_type, routed_at, created_at)
VALUES (:id, :source_id, :method, :path, :query, :headers, :body, :status, :reason, :event_id, :event_type,
    :routed_at, :now)
ON CONFLICT DO NOTHING;

-- name: list_inbound_requests --
SELECT * FROM inbound_requests
WHERE source_id = :source_id AND id < :before AND (:status = '' OR status = :status)
ORDER BY id DESC LIMIT :limit;

-- name: get_inbound_request --
SELECT * FROM inbound_requests WHERE source_id = :source_id AND id = :id;

-- name: unrouted_requests --
SELECT r.id, r.source_id, r.headers, r.body, r.event_id, r.event_type, r.created_at,
    s.type AS source_type, s.uid AS source_uid, s.app_id AS source_app_id
FROM inbound_requests r
JOIN sources s ON s.id = r.source_id
WHERE r.status = 'accepted' AND r.routed_at IS NULL
ORDER BY r.created_at LIMIT :limit;

-- name: mark_request_routed --
UPDATE inbound_requests SET routed_at = :now WHERE id = :id;

-- name: mark_request_failed --
UPDATE inbound_requests SET status = 'failed', reason = :reason, routed_at = :now
WHERE id = :id AND status = 'accepted' AND routed_at IS NULL;

-- name: list_source_endpoints --
SELECT id, event_types, channels, filter, transformation FROM endpoints
WHERE app_id = :app_id AND disabled = 0;

-- name: insert_app_route --
INSERT INTO app_routes (id, source_id, app_id, event_types, event_type_map, event_type_prefix, filter,
    transformation, created_at)
VALUES (:id, :source_id, :app_id, :event_types, :event_type_map, :event_type_prefix, :filter,
    :transformation, :now);

-- name: list_app_routes --
SELECT * FROM app_routes WHERE source_id = :source_id ORDER BY id;

-- name: get_app_route --
SELECT * FROM app_routes WHERE source_id = :source_id AND id = :id;

-- name: delete_app_route --
DELETE FROM app_routes WHERE source_id = :source_id AND id = :id;

-- name: set_endpoint_routing --
UPDATE endpoints SET filter = :filter, transformation = :transformation, version = version + 1,
    updated_at = :now
WHERE id = :id;

-- name: unrouted_requests [postgres] --
SELECT r.id, r.source_id, r.headers, r.body, r.event_id, r.event_type, r.created_at,
    s.type AS source_type, s.uid AS source_uid, s.app_id AS source_app_id
FROM inbound_requests r
JOIN sources s ON s.id = r.source_id
WHERE r.status = 'accepted' AND r.routed_at IS NULL
ORDER BY r.created_at LIMIT :limit
FOR UPDATE OF r SKIP LOCKED;

-- name: insert_forward_message --
INSERT INTO messages (id, app_id, event_type, event_id, idempotency_key, payload, content_type, channels, tags,
    created_at, deliver_at)
VALUES (:id, :app_id, :event_type, :event_id, NULL, :payload, :content_type, NULL, NULL, :now, NULL)
ON CONFLICT DO NOTHING;
