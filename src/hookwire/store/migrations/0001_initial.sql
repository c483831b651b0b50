-- hookwire schema, version 1. One file for both databases: {blob}, {serial_pk} and {key}
-- are the only dialect differences, filled in by store/migrate.py ({key} compares IDs
-- bytewise on PostgreSQL too, so they sort by creation time).
-- Times are integer milliseconds since the Unix epoch in every table.

CREATE TABLE applications (
    id {key} PRIMARY KEY,
    uid TEXT UNIQUE,
    name {key} NOT NULL,
    throttle_rate INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE event_types (
    name {key} PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    deprecated INTEGER NOT NULL DEFAULT 0,
    schemas TEXT,
    group_name TEXT,
    feature_flags TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- headers are sealed (they often carry credentials); version bumps on every change so
-- workers know when their cached, decrypted copy is stale.
CREATE TABLE endpoints (
    id {key} PRIMARY KEY,
    app_id {key} NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    uid TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    throttle_rate INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    event_types TEXT,
    channels TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    headers TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    first_failure_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app_id, uid)
);
CREATE INDEX endpoints_app ON endpoints (app_id, id);

-- The current secret has expires_at NULL; rotated-out secrets keep signing until expires_at.
CREATE TABLE endpoint_secrets (
    id {serial_pk},
    endpoint_id {key} NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets (endpoint_id);

-- The payload is stored once, as the compact JSON bytes that are sent and signed.
CREATE TABLE messages (
    id {key} PRIMARY KEY,
    app_id {key} NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id TEXT,
    idempotency_key TEXT,
    payload {blob},
    channels TEXT,
    tags TEXT,
    created_at BIGINT NOT NULL,
    deliver_at BIGINT
);
CREATE UNIQUE INDEX messages_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX messages_idempotency ON messages (app_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_app ON messages (app_id, id);

-- The queue: one row per message x endpoint. status: 0 success, 1 pending, 2 fail,
-- 3 sending (claimed; next_attempt_at is then the lease expiry), 4 canceled.
CREATE TABLE deliveries (
    id {serial_pk},
    msg_id {key} NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id {key} NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    app_id {key} NOT NULL,
    status SMALLINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    manual INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (msg_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, msg_id);

CREATE TABLE attempts (
    id {key} PRIMARY KEY,
    delivery_id BIGINT NOT NULL,
    msg_id {key} NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id {key} NOT NULL,
    app_id {key} NOT NULL,
    url TEXT NOT NULL,
    status SMALLINT NOT NULL,
    response_status_code INTEGER NOT NULL,
    response_headers TEXT,
    response_body TEXT,
    duration_ms INTEGER NOT NULL,
    trigger_type SMALLINT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

-- Responses replayed for a repeated idempotency-key on POSTs other than messages.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
