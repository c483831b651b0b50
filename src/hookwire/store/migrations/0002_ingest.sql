-- Ingest: sources that receive provider webhooks, and every request they captured.
-- A source forwards through the delivery engine: its ingest endpoints are endpoints of a
-- hidden application (applications.source_id marks it), so forwards are signed, retried
-- and logged exactly like outbound messages.

ALTER TABLE applications ADD COLUMN source_id TEXT;

-- The payload of a forwarded request is the provider's raw body; its content type goes too.
ALTER TABLE messages ADD COLUMN content_type TEXT;

-- Per-destination filter (JMESPath predicate) and transformation (JMESPath projection).
ALTER TABLE endpoints ADD COLUMN filter TEXT;
ALTER TABLE endpoints ADD COLUMN transformation TEXT;

-- config is sealed (it holds the provider's signing secret); the ingest token is found by
-- its SHA-256 and shown from its sealed copy.
CREATE TABLE sources (
    id {key} PRIMARY KEY,
    uid TEXT UNIQUE,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    config TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    token_hash TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    app_id {key} NOT NULL REFERENCES applications(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every request a source received, stored before it is answered. status: accepted,
-- duplicate, rejected (failed verification), challenge (a handshake). routed_at is set
-- once the router has turned an accepted request into forwards, messages and runs.
CREATE TABLE inbound_requests (
    id {key} PRIMARY KEY,
    source_id {key} NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    headers TEXT NOT NULL,
    body {blob} NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    event_id TEXT,
    event_type TEXT,
    routed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX inbound_requests_dedupe ON inbound_requests (source_id, event_id)
    WHERE status = 'accepted' AND event_id IS NOT NULL;
CREATE INDEX inbound_requests_source ON inbound_requests (source_id, id);
CREATE INDEX inbound_requests_unrouted ON inbound_requests (created_at)
    WHERE status = 'accepted' AND routed_at IS NULL;

-- Route accepted events of a source into an outbound application as messages.
CREATE TABLE app_routes (
    id {key} PRIMARY KEY,
    source_id {key} NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    app_id {key} NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    event_types TEXT,
    event_type_map TEXT NOT NULL DEFAULT '{}',
    event_type_prefix TEXT NOT NULL DEFAULT '',
    filter TEXT,
    transformation TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX app_routes_source ON app_routes (source_id);

-- Automations (declared in the server's TOML config, never through the API): one run per
-- accepted event and automation, queued like a delivery. event is what the command gets on
-- stdin (the transformed event JSON). serial_key serialises the runs of one automation that
-- share it (one at a time per key). status as deliveries: 0 success, 1 pending, 2 fail,
-- 3 running (next_attempt_at is then the lease expiry).
CREATE TABLE automation_runs (
    id {key} PRIMARY KEY,
    automation TEXT NOT NULL,
    request_id {key} NOT NULL REFERENCES inbound_requests(id) ON DELETE CASCADE,
    source_id {key} NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT,
    serial_key TEXT,
    event TEXT NOT NULL,
    status SMALLINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (automation, request_id)
);
CREATE INDEX automation_runs_due ON automation_runs (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX automation_runs_serial ON automation_runs (automation, serial_key) WHERE status IN (1, 3);
CREATE INDEX automation_runs_by_automation ON automation_runs (automation, id);

-- One row per time the command was started (or failed to start): exit_code is NULL when it
-- never ran; stdout and stderr hold at most the first 64 KiB of each.
CREATE TABLE automation_attempts (
    id {key} PRIMARY KEY,
    run_id {key} NOT NULL REFERENCES automation_runs(id) ON DELETE CASCADE,
    exit_code INTEGER,
    stdout TEXT NOT NULL,
    stderr TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX automation_attempts_run ON automation_attempts (run_id, id);
