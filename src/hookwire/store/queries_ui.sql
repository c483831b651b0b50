-- Queries for the dashboard's overview and the customer portal's tokens.

-- name: overview_attempt_buckets --
-- Attempts since `since_id` (an ID floor, so the primary key does the range), grouped by `bucket_ms`.
SELECT created_at / :bucket_ms AS bucket, COUNT(*) AS n,
       SUM(CASE WHEN status = {MessageStatus.SUCCESS} THEN 1 ELSE 0 END) AS ok
FROM attempts WHERE id >= :since_id
GROUP BY bucket;

-- name: overview_endpoint_buckets --
SELECT endpoint_id, created_at / :bucket_ms AS bucket, COUNT(*) AS n,
       SUM(CASE WHEN status = {MessageStatus.SUCCESS} THEN 1 ELSE 0 END) AS ok
FROM attempts WHERE id >= :since_id AND app_id = :app_id
GROUP BY endpoint_id, bucket;

-- name: overview_last_attempts --
-- The newest attempt of each of the app's endpoints (the health badge).
SELECT a.endpoint_id, a.status, a.response_status_code, a.created_at
FROM attempts a
JOIN (SELECT endpoint_id, MAX(id) AS id FROM attempts WHERE app_id = :app_id GROUP BY endpoint_id) last
  ON last.id = a.id;

-- name: overview_queue --
SELECT COUNT(*) AS depth,
       MIN(CASE WHEN next_attempt_at <= :now THEN next_attempt_at END) AS oldest_due
FROM deliveries WHERE status IN ({MessageStatus.PENDING}, {MessageStatus.SENDING});

-- name: overview_troubled_endpoints --
SELECT e.id, e.app_id, e.url, e.disabled, e.first_failure_at, a.name AS app_name
FROM endpoints e JOIN applications a ON a.id = e.app_id
WHERE e.disabled = 1 OR e.first_failure_at IS NOT NULL
ORDER BY e.disabled DESC, e.first_failure_at
LIMIT :limit;

-- name: overview_recent_rejects --
SELECT r.id, r.source_id, r.reason, r.created_at, s.name AS source_name
FROM inbound_requests r JOIN sources s ON s.id = r.source_id
WHERE r.status = 'rejected' AND r.id >= :since_id
ORDER BY r.id DESC
LIMIT :limit;

-- name: insert_portal_token --
INSERT INTO portal_tokens (token_hash, app_id, session_id, capabilities, feature_flags, expires_at, created_at)
VALUES (:token_hash, :app_id, :session_id, :capabilities, :feature_flags, :expires_at, :now);

-- name: get_portal_token --
SELECT t.*, a.name AS app_name, a.uid AS app_uid
FROM portal_tokens t JOIN applications a ON a.id = t.app_id
WHERE t.token_hash = :token_hash;

-- name: revoke_portal_token --
UPDATE portal_tokens SET revoked_at = :now WHERE token_hash = :token_hash AND revoked_at IS NULL;

-- name: expire_portal_tokens --
-- Tokens of the app (of the given sessions, or all when `all_sessions` is 1) end at `expires_at`.
UPDATE portal_tokens SET expires_at = :expires_at
WHERE app_id = :app_id AND expires_at > :expires_at AND revoked_at IS NULL
  AND (:all_sessions = 1 OR session_id = ANY(:session_ids));

-- name: rerun_failed_automation_run --
-- A failed run starts over: due now, with a fresh retry schedule. Other statuses are left alone.
UPDATE automation_runs SET status = {RunStatus.PENDING}, attempts = 0, next_attempt_at = :now, updated_at = :now
WHERE id = :id AND status = {RunStatus.FAIL};
