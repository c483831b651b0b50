-- Developer tooling: hidden applications and `hookwire listen`.

-- A hidden application is internal plumbing (the one behind each ingest source, or an
-- operator's internal one): it works like any other but is left out of ordinary lists.
ALTER TABLE applications ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE applications SET hidden = TRUE WHERE source_id IS NOT NULL;

-- A `hookwire listen` session, known by a stable id the CLI chooses, so that a listener that
-- comes back gets what arrived while it was away. cursor is the id of the last event (an
-- inbound request, or a message of the application) it has answered; events are read in id
-- order after it.
CREATE TABLE listeners (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    targets TEXT NOT NULL,
    cursor TEXT NOT NULL,
    connected_at BIGINT,
    disconnected_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What the local receiver answered, per forwarded event and listener: shown with the inbound
-- request (or message) in the API. body holds the first 1 KiB of the answer.
CREATE TABLE listener_forwards (
    id {key} PRIMARY KEY,
    listener_id TEXT NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
    event_id {key} NOT NULL,
    url TEXT NOT NULL,
    status INTEGER,
    duration_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX listener_forwards_event ON listener_forwards (event_id, id);
CREATE INDEX listener_forwards_listener ON listener_forwards (listener_id, event_id);
