-- Automations: runs queued by the router, claimed and run by AutomationRunner, and their
-- attempts. See queries.sql for the conventions; a RUNNING run is leased like a SENDING
-- delivery (next_attempt_at is then the lease expiry).

-- name: insert_automation_run --
INSERT INTO automation_runs (id, automation, request_id, source_id, event_type, event_id, serial_key, event,
    status, attempts, next_attempt_at, created_at, updated_at)
VALUES (:id, :automation, :request_id, :source_id, :event_type, :event_id, :serial_key, :event, :status, 0,
    :now, :now, :now)
ON CONFLICT DO NOTHING;

-- Which of these automations have runs due now (pending, or running with a lapsed lease).
-- name: due_automation_runs --
SELECT automation, COUNT(*) AS n FROM automation_runs
WHERE automation = ANY(:names) AND status IN ({RunStatus.PENDING}, {RunStatus.RUNNING}) AND next_attempt_at <= :now
GROUP BY automation;

-- name: next_automation_run_due --
SELECT MIN(next_attempt_at) AS due FROM automation_runs
WHERE automation = ANY(:names) AND status IN ({RunStatus.PENDING}, {RunStatus.RUNNING});

-- Claims are serialised (an advisory lock on PostgreSQL; on SQLite the writer's BEGIN
-- IMMEDIATE already is one), so the concurrency count and the serial-key check below see
-- every claim committed before them, in any process.
-- name: lock_automation_claims --
SELECT 1 AS locked;

-- name: lock_automation_claims [postgres] --
SELECT pg_advisory_xact_lock(1752134002) IS NULL AS locked;

-- name: count_running_automation_runs --
SELECT COUNT(*) AS n FROM automation_runs
WHERE automation = :automation AND status = {RunStatus.RUNNING} AND next_attempt_at > :now;

-- Claim due runs of one automation, marking them running with the lease expiry as
-- next_attempt_at. A run with a serial key is claimable only when no run of the automation
-- with that key is running under a live lease and no earlier run with it is due, so at
-- most one per key runs at a time, the oldest first.
-- name: claim_automation_runs --
UPDATE automation_runs SET status = {RunStatus.RUNNING}, next_attempt_at = :lease_until, updated_at = :now
WHERE id IN (
    SELECT r.id FROM automation_runs r
    WHERE r.automation = :automation AND r.status IN ({RunStatus.PENDING}, {RunStatus.RUNNING}) AND r.next_attempt_at <= :now
        AND (r.serial_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM automation_runs o
            WHERE o.automation = r.automation AND o.serial_key = r.serial_key AND o.id <> r.id
                AND o.status IN ({RunStatus.PENDING}, {RunStatus.RUNNING})
                AND ((o.status = {RunStatus.RUNNING} AND o.next_attempt_at > :now) OR (o.next_attempt_at <= :now AND o.id < r.id))
        ))
    ORDER BY r.next_attempt_at, r.id LIMIT :limit
)
RETURNING id, automation, request_id, source_id, event_type, event_id, serial_key, event, attempts;

-- name: claim_automation_runs [postgres] --
UPDATE automation_runs SET status = {RunStatus.RUNNING}, next_attempt_at = :lease_until, updated_at = :now
WHERE id IN (
    SELECT r.id FROM automation_runs r
    WHERE r.automation = :automation AND r.status IN ({RunStatus.PENDING}, {RunStatus.RUNNING}) AND r.next_attempt_at <= :now
        AND (r.serial_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM automation_runs o
            WHERE o.automation = r.automation AND o.serial_key = r.serial_key AND o.id <> r.id
                AND o.status IN ({RunStatus.PENDING}, {RunStatus.RUNNING})
                AND ((o.status = {RunStatus.RUNNING} AND o.next_attempt_at > :now) OR (o.next_attempt_at <= :now AND o.id < r.id))
        ))
    ORDER BY r.next_attempt_at, r.id LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
RETURNING id, automation, request_id, source_id, event_type, event_id, serial_key, event, attempts;

-- Heartbeat: a runner whose command is still running pushes its leases forward; runs it no
-- longer holds are not returned.
-- name: extend_automation_leases --
UPDATE automation_runs SET next_attempt_at = :lease_until, updated_at = :now
WHERE id = ANY(:ids) AND status = {RunStatus.RUNNING} AND next_attempt_at = :lease
RETURNING id;

-- The lease a runner claimed a run with fences its end: a runner that lost the run (its
-- lease ran out and another runner claimed it) changes nothing, though its attempt is kept.
-- name: finish_automation_run --
UPDATE automation_runs SET status = :status, attempts = attempts + 1, next_attempt_at = :next_attempt_at,
    updated_at = :now
WHERE id = :id AND status = {RunStatus.RUNNING} AND next_attempt_at = :lease;

-- A run handed back without an attempt counted: due later (defer) or now (release, a clean stop).
-- name: defer_automation_run --
UPDATE automation_runs SET status = {RunStatus.PENDING}, next_attempt_at = :due, updated_at = :now
WHERE id = :id AND status = {RunStatus.RUNNING} AND next_attempt_at = :lease;

-- name: release_automation_run --
UPDATE automation_runs SET status = {RunStatus.PENDING}, next_attempt_at = :now, updated_at = :now
WHERE id = :id AND status = {RunStatus.RUNNING} AND next_attempt_at = :lease;

-- name: insert_automation_attempt --
INSERT INTO automation_attempts (id, run_id, exit_code, stdout, stderr, duration_ms, error, created_at)
VALUES (:id, :run_id, :exit_code, :stdout, :stderr, :duration_ms, :error, :now);

-- name: list_automation_runs --
SELECT * FROM automation_runs
WHERE id < :before AND (:automation = '' OR automation = :automation) AND (:status < 0 OR status = :status)
ORDER BY id DESC LIMIT :limit;

-- name: get_automation_run --
SELECT * FROM automation_runs WHERE id = :id;

-- name: list_automation_attempts --
SELECT * FROM automation_attempts WHERE run_id = :run_id ORDER BY id;
