-- Customer-portal access tokens (app-portal-access). Only a SHA-256 of each token is kept, so a
-- database dump opens no portal; revoked_at set by logout and expire-all.
CREATE TABLE portal_tokens (
    token_hash TEXT PRIMARY KEY,
    app_id {key} NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    session_id TEXT,
    capabilities TEXT NOT NULL,
    feature_flags TEXT,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX portal_tokens_app ON portal_tokens (app_id, session_id);
