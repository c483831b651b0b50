-- The rest of the Svix API: background tasks (what recover, replay, bulk replay, the
-- statistics and the expunges did, and their counts) and endpoint transformations.

-- status: 0 running, 1 finished, 2 failed. data is the task's JSON result (counts, errors).
CREATE TABLE background_tasks (
    id {key} PRIMARY KEY,
    task TEXT NOT NULL,
    status SMALLINT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX background_tasks_status ON background_tasks (status, id);

-- An endpoint's JavaScript transformation (Svix's `handler(webhook)`), run only when enabled.
ALTER TABLE endpoints ADD COLUMN transformation_code TEXT;
ALTER TABLE endpoints ADD COLUMN transformation_enabled INTEGER NOT NULL DEFAULT 0;
