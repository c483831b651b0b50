-- Every query hookwire runs. `:name` parameters; see store/queries.py for how a block
-- is rendered per dialect and overridden with [sqlite] / [postgres]. Statuses are named,
-- `{MessageStatus.SENDING}`, and rendered from store/statuses.py.
-- Nullable filter parameters are CAST so PostgreSQL can infer their type.

-- name: get_meta --
SELECT value FROM meta WHERE key = :key;

-- name: set_meta --
INSERT INTO meta (key, value) VALUES (:key, :value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: get_idempotent_response --
SELECT status, body FROM idempotency_keys WHERE key = :key;

-- name: save_idempotent_response --
INSERT INTO idempotency_keys (key, status, body, created_at) VALUES (:key, :status, :body, :now)
ON CONFLICT (key) DO NOTHING;

-- ----------------------------------------------------------------- applications

-- The inserts of uniquely named rows do nothing on a clash (0 rows): the caller checked first,
-- so a clash means a concurrent request won, and it answers 409 instead of a driver error.
-- name: insert_app --
INSERT INTO applications (id, uid, name, throttle_rate, metadata, created_at, updated_at)
VALUES (:id, :uid, :name, :throttle_rate, :metadata, :now, :now)
ON CONFLICT DO NOTHING;

-- name: get_app --
SELECT * FROM applications WHERE id = :key OR uid = :key;

-- Hidden applications (behind an ingest source, or internal) are left out of lists;
-- they are still found by id.
-- name: list_apps_asc --
SELECT * FROM applications WHERE id > :after AND NOT hidden ORDER BY id ASC LIMIT :limit;

-- name: list_apps_desc --
SELECT * FROM applications WHERE id < :before AND NOT hidden ORDER BY id DESC LIMIT :limit;

-- name: update_app --
UPDATE applications SET uid = :uid, name = :name, throttle_rate = :throttle_rate,
    metadata = :metadata, updated_at = :now
WHERE id = :id;

-- name: delete_app --
DELETE FROM applications WHERE id = :id;

-- ----------------------------------------------------------------- event types

-- name: insert_event_type --
INSERT INTO event_types (name, description, archived, deprecated, schemas, group_name, feature_flags,
    created_at, updated_at)
VALUES (:name, :description, :archived, :deprecated, :schemas, :group_name, :feature_flags, :now, :now)
ON CONFLICT DO NOTHING;

-- name: get_event_type --
SELECT * FROM event_types WHERE name = :name;

-- name: list_event_types_asc --
SELECT * FROM event_types WHERE name > :after AND (archived = 0 OR :include_archived = 1)
ORDER BY name ASC LIMIT :limit;

-- name: list_event_types_desc --
SELECT * FROM event_types WHERE name < :before AND (archived = 0 OR :include_archived = 1)
ORDER BY name DESC LIMIT :limit;

-- name: update_event_type --
UPDATE event_types SET description = :description, archived = :archived, deprecated = :deprecated,
    schemas = :schemas, group_name = :group_name, feature_flags = :feature_flags, updated_at = :now
WHERE name = :name;

-- name: delete_event_type --
DELETE FROM event_types WHERE name = :name;

-- ----------------------------------------------------------------- endpoints

-- name: insert_endpoint --
INSERT INTO endpoints (id, app_id, uid, url, description, throttle_rate, disabled, event_types, channels,
    metadata, headers, created_at, updated_at)
VALUES (:id, :app_id, :uid, :url, :description, :throttle_rate, :disabled, :event_types, :channels,
    :metadata, :headers, :now, :now)
ON CONFLICT DO NOTHING;

-- name: get_endpoint --
SELECT * FROM endpoints WHERE app_id = :app_id AND (id = :key OR uid = :key);

-- name: list_endpoints_asc --
SELECT * FROM endpoints WHERE app_id = :app_id AND id > :after ORDER BY id ASC LIMIT :limit;

-- name: list_endpoints_desc --
SELECT * FROM endpoints WHERE app_id = :app_id AND id < :before ORDER BY id DESC LIMIT :limit;

-- name: update_endpoint --
UPDATE endpoints SET uid = :uid, url = :url, description = :description, throttle_rate = :throttle_rate,
    disabled = :disabled, event_types = :event_types, channels = :channels, metadata = :metadata,
    headers = :headers, version = version + 1, updated_at = :now,
    first_failure_at = CASE WHEN :disabled = 0 THEN NULL ELSE first_failure_at END
WHERE id = :id;

-- name: delete_endpoint --
DELETE FROM endpoints WHERE id = :id;

-- name: bump_endpoint_version --
UPDATE endpoints SET version = version + 1, updated_at = :now WHERE id = :id;

-- name: list_fanout_endpoints --
SELECT id, event_types, channels FROM endpoints WHERE app_id = :app_id AND disabled = 0;

-- The application (by id or uid) and its enabled endpoints in one read, for message creation:
-- one row per endpoint, or one row with a NULL endpoint id when it has none; no row: no app.
-- name: get_app_fanout --
SELECT a.id AS app_id, e.id, e.event_types, e.channels, e.version
FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
WHERE a.id = :key OR a.uid = :key;

-- name: insert_endpoint_secret --
INSERT INTO endpoint_secrets (endpoint_id, secret, expires_at, created_at)
VALUES (:endpoint_id, :secret, NULL, :now);

-- name: get_current_secret --
SELECT secret FROM endpoint_secrets WHERE endpoint_id = :endpoint_id AND expires_at IS NULL;

-- name: expire_current_secret --
UPDATE endpoint_secrets SET expires_at = :expires_at
WHERE endpoint_id = :endpoint_id AND expires_at IS NULL;

-- name: purge_expired_secrets --
DELETE FROM endpoint_secrets WHERE endpoint_id = :endpoint_id AND expires_at IS NOT NULL
    AND expires_at <= :now;

-- name: endpoint_stats --
SELECT status, COUNT(*) AS n FROM deliveries
WHERE endpoint_id = :endpoint_id AND created_at >= :since AND created_at < :until
GROUP BY status;

-- name: disable_endpoint --
UPDATE endpoints SET disabled = 1, version = version + 1, updated_at = :now WHERE id = :id;

-- name: mark_endpoint_success --
UPDATE endpoints SET first_failure_at = NULL WHERE id = :id AND first_failure_at IS NOT NULL;

-- name: mark_endpoint_failure --
UPDATE endpoints SET first_failure_at = :now WHERE id = :id AND first_failure_at IS NULL;

-- name: disable_long_failing_endpoint --
UPDATE endpoints SET disabled = 1, version = version + 1, updated_at = :now
WHERE id = :id AND disabled = 0 AND first_failure_at IS NOT NULL AND first_failure_at <= :cutoff;

-- ----------------------------------------------------------------- messages

-- name: insert_message --
INSERT INTO messages (id, app_id, event_type, event_id, idempotency_key, payload, channels, tags,
    created_at, deliver_at, expunge_at)
VALUES (:id, :app_id, :event_type, :event_id, :idempotency_key, :payload, :channels, :tags, :now,
    :deliver_at, :expunge_at)
ON CONFLICT DO NOTHING;

-- name: get_message --
SELECT * FROM messages WHERE app_id = :app_id AND (id = :key OR event_id = :key);

-- name: get_message_by_event_id --
SELECT * FROM messages WHERE app_id = :app_id AND event_id = :event_id;

-- name: get_message_by_idempotency_key --
SELECT * FROM messages WHERE app_id = :app_id AND idempotency_key = :idempotency_key;

-- name: list_messages --
SELECT * FROM messages
WHERE app_id = :app_id AND id < :before AND created_at >= :since AND created_at < :until
    AND (:all_types = 1 OR event_type = ANY(:event_types))
    AND (:channel_like = '' OR channels LIKE :channel_like ESCAPE '\')
    AND (:tag_like = '' OR tags LIKE :tag_like ESCAPE '\')
    AND (:delivery_status < 0 OR EXISTS (
        SELECT 1 FROM deliveries d WHERE d.msg_id = messages.id AND d.status = :delivery_status))
ORDER BY id DESC LIMIT :limit;

-- name: expunge_message_payload --
UPDATE messages SET payload = NULL WHERE app_id = :app_id AND id = :id;

-- ----------------------------------------------------------------- deliveries (the queue)

-- name: insert_delivery --
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
    created_at, updated_at)
VALUES (:msg_id, :endpoint_id, :app_id, {MessageStatus.PENDING}, 0, :next_attempt_at, 0, :now, :now);

-- The fast path of message creation (outbound/messages.py) writes the message and its
-- deliveries in one group-committed write without reading in between: a delivery is inserted
-- only if its message row was (not a duplicate eventId / idempotency key) and its endpoint
-- still exists.
-- name: insert_delivery_if_stored --
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
    created_at, updated_at)
SELECT :msg_id, :endpoint_id, :app_id, {MessageStatus.PENDING}, 0, :next_attempt_at, 0, :now, :now
WHERE EXISTS (SELECT 1 FROM messages WHERE id = :msg_id)
    AND EXISTS (SELECT 1 FROM endpoints WHERE id = :endpoint_id);

-- The same for many messages at once, in one statement: PostgreSQL's group commit of message
-- creation (store/pg_message_batches.py). Each parameter is one column of the batch as an array
-- (the messages' in message order, the deliveries' flattened). A message that collides with a
-- stored eventId / idempotency key, or with an earlier one of the batch, is skipped and so are
-- its deliveries; the ids of the stored messages come back. One statement commits on its own,
-- and the NOTIFY that wakes the workers is sent with that commit when a delivery was queued.
--
-- A message whose deliveries were named from endpoints the API process had read earlier carries
-- that read's `fanout` token (store/pg_fanouts.py): its application's id and each enabled
-- endpoint's id and version. The token is computed again here, in the statement's snapshot; a
-- message whose token no longer matches (its application's endpoints changed, or the application
-- no longer answers to `app_key`) is not stored, and its `app_key` comes back in `changed`.
-- name: insert_messages_batch [postgres] --
WITH changed AS (
    SELECT k.app_key FROM unnest(:check_app_ids::text[], :check_app_keys::text[], :check_fanouts::text[])
        AS k (app_id, app_key, fanout)
    WHERE k.fanout IS DISTINCT FROM (
        SELECT a.id || coalesce(':' || string_agg(e.id || '.' || e.version, ',' ORDER BY e.id COLLATE "C"), '')
        FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
        WHERE a.id = k.app_id AND (a.id = k.app_key OR a.uid = k.app_key)
        GROUP BY a.id
    )
), m AS (
    INSERT INTO messages (id, app_id, event_type, event_id, idempotency_key, payload, channels, tags,
        created_at, deliver_at, expunge_at)
    SELECT u.id, u.app_id, u.event_type, u.event_id, u.idempotency_key, u.payload, u.channels, u.tags,
        u.created_at, u.deliver_at, u.expunge_at
    FROM unnest(:ids::text[], :app_ids::text[], :event_types::text[], :event_ids::text[],
        :idempotency_keys::text[], :payloads::bytea[], :channels::text[], :tags::text[],
        :created_ats::bigint[], :deliver_ats::bigint[], :expunge_ats::bigint[], :app_keys::text[])
        AS u (id, app_id, event_type, event_id, idempotency_key, payload, channels, tags, created_at,
            deliver_at, expunge_at, app_key)
    WHERE NOT EXISTS (SELECT 1 FROM changed WHERE changed.app_key = u.app_key)
    ON CONFLICT DO NOTHING
    RETURNING id
), d AS (
    INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
        created_at, updated_at)
    SELECT q.msg_id, q.endpoint_id, q.app_id, {MessageStatus.PENDING}, 0, q.next_attempt_at, 0, q.now, q.now
    FROM unnest(:delivery_msg_ids::text[], :delivery_endpoint_ids::text[], :delivery_app_ids::text[],
        :delivery_due_ats::bigint[], :delivery_created_ats::bigint[])
        AS q (msg_id, endpoint_id, app_id, next_attempt_at, now)
    WHERE q.msg_id IN (SELECT id FROM m) AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = q.endpoint_id)
    RETURNING 1
), woke AS (
    SELECT pg_notify('hookwire_deliveries', '') FROM (SELECT 1 FROM d LIMIT 1) AS queued
)
SELECT m.id, NULL AS changed FROM m CROSS JOIN (SELECT count(*) FROM woke) AS w
UNION ALL
SELECT NULL, app_key FROM changed;

-- Claim due deliveries: SENDING with the lease expiry as next_attempt_at, so a
-- worker that dies leaves rows that become due again when the lease runs out. Endpoints the
-- worker holds back are skipped: "blocked" ones (at its concurrency cap or out of throttle
-- tokens) for every delivery, "open_circuits" for all but manual ones (resend, recover). The
-- filters are not indexable, so a claim looks only at the `scan` oldest due rows (in
-- deliveries_due order): a backlog held back behind one endpoint costs a bounded scan per
-- claim, not a walk over the whole queue.
-- name: claim_due_deliveries --
UPDATE deliveries SET status = {MessageStatus.SENDING}, next_attempt_at = :lease_until, updated_at = :now
WHERE id IN (
    SELECT id FROM (
        SELECT id, endpoint_id, manual, next_attempt_at FROM deliveries
        WHERE status IN ({MessageStatus.PENDING}, {MessageStatus.SENDING}) AND next_attempt_at <= :now
        ORDER BY next_attempt_at LIMIT :scan
    ) AS due
    WHERE NOT (endpoint_id = ANY(:blocked))
        AND (manual = 1 OR NOT (endpoint_id = ANY(:open_circuits)))
    ORDER BY next_attempt_at LIMIT :limit
)
RETURNING id, msg_id, endpoint_id, app_id, attempts, manual;

-- On PostgreSQL the claim returns each row's message and its endpoint's version as well
-- (store/postgres.py, claim_deliveries), so a worker's claim is one round trip. A message's
-- payload comes on its first row only, so a fan-out does not carry it once per endpoint. The
-- conditions are repeated outside the scan window so that PostgreSQL re-checks them on a row
-- another worker updated between the window and the lock.
--
-- The window's plan must not depend on PostgreSQL's estimates: a worker prepares its claim in
-- its first seconds, and PostgreSQL may keep the generic plan it makes then, costed for an empty
-- queue. Written as `d.id IN (window)` with `d.status IN (...)`, that plan read every due row
-- through deliveries_due and ran the window again for each (a 20,000 backlog drained at 92/s
-- instead of ~4,000/s; tests/store/test_claim_plans.py). So the window is an `ARRAY(...)`, which
-- PostgreSQL computes once, and the re-check compares `status::integer`, which deliveries_due's
-- predicate (status PENDING or SENDING) cannot use, so the window's rows are read by primary key.
-- name: claim_due_deliveries [postgres] --
WITH claimed AS (
    UPDATE deliveries SET status = {MessageStatus.SENDING}, next_attempt_at = :lease_until, updated_at = :now
    WHERE id IN (
        SELECT d.id FROM deliveries AS d
        WHERE d.id = ANY(ARRAY(
                SELECT id FROM deliveries
                WHERE status IN ({MessageStatus.PENDING}, {MessageStatus.SENDING}) AND next_attempt_at <= :now
                ORDER BY next_attempt_at LIMIT :scan
            ))
            AND d.status::integer IN ({MessageStatus.PENDING}, {MessageStatus.SENDING}) AND d.next_attempt_at <= :now
            AND NOT (d.endpoint_id = ANY(:blocked))
            AND (d.manual = 1 OR NOT (d.endpoint_id = ANY(:open_circuits)))
        ORDER BY d.next_attempt_at LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, msg_id, endpoint_id, app_id, attempts, manual
)
SELECT c.id, c.msg_id, c.endpoint_id, c.app_id, c.attempts, c.manual, e.version AS endpoint_version,
    m.id AS message_id, m.event_type,
    CASE WHEN row_number() OVER (PARTITION BY c.msg_id) = 1 THEN m.payload END AS payload
FROM claimed AS c
LEFT JOIN messages AS m ON m.id = c.msg_id
LEFT JOIN endpoints AS e ON e.id = c.endpoint_id;

-- What a claimed batch's endpoints are at now: the worker re-reads an endpoint's settings only
-- when its version moved on (delivery/endpoint_cache.py).
-- name: endpoint_versions --
SELECT id, version FROM endpoints WHERE id = ANY(:ids);

-- name: next_due_at --
SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status IN ({MessageStatus.PENDING}, {MessageStatus.SENDING});

-- name: messages_for_delivery --
SELECT id, event_type, payload FROM messages WHERE id = ANY(:ids);

-- name: endpoints_for_delivery --
SELECT id, url, disabled, headers, version, throttle_rate, transformation_code, transformation_enabled
FROM endpoints WHERE id = ANY(:ids);

-- name: signing_secrets --
SELECT endpoint_id, secret, expires_at FROM endpoint_secrets
WHERE endpoint_id = ANY(:ids) AND (expires_at IS NULL OR expires_at > :now)
ORDER BY endpoint_id, id DESC;

-- name: insert_attempt --
INSERT INTO attempts (id, delivery_id, msg_id, endpoint_id, app_id, url, status, response_status_code,
    response_headers, response_body, duration_ms, trigger_type, error, created_at)
VALUES (:id, :delivery_id, :msg_id, :endpoint_id, :app_id, :url, :status, :response_status_code,
    :response_headers, :response_body, :duration_ms, :trigger_type, :error, :now);

-- The lease expiry a worker claimed a row with is its fencing token: a worker whose lease
-- ran out (and another worker re-claimed the row) changes nothing with these three.
-- name: finish_delivery --
UPDATE deliveries SET status = :status, attempts = attempts + 1, next_attempt_at = :next_attempt_at,
    manual = 0, updated_at = :now
WHERE id = :id AND status = {MessageStatus.SENDING} AND next_attempt_at = :lease;

-- Many-row forms of the worker's writes for SQLite: the rows arrive as one JSON array (see
-- store/sqlite.py); each element holds the same keys as the single-row query's parameters.
-- name: insert_attempt__rows [sqlite] --
INSERT INTO attempts (id, delivery_id, msg_id, endpoint_id, app_id, url, status, response_status_code,
    response_headers, response_body, duration_ms, trigger_type, error, created_at)
SELECT value ->> 'id', value ->> 'delivery_id', value ->> 'msg_id', value ->> 'endpoint_id',
    value ->> 'app_id', value ->> 'url', value ->> 'status', value ->> 'response_status_code',
    value ->> 'response_headers', value ->> 'response_body', value ->> 'duration_ms',
    value ->> 'trigger_type', value ->> 'error', value ->> 'now'
FROM json_each(:rows);

-- A new message's deliveries on SQLite (store_message_for_app): only the endpoint differs from
-- one to the next, so the endpoints arrive as one JSON array of ids. (insert_delivery__rows
-- below would do, but encoding and reading a whole object per delivery cost 10% more CPU per
-- message at fan-out x100: 2,087-2,233 against 2,273-2,987 us, three alternated rounds.)
-- name: insert_message_deliveries [sqlite] --
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
    created_at, updated_at)
SELECT :msg_id, value, :app_id, {MessageStatus.PENDING}, 0, :next_attempt_at, 0, :now, :now
FROM json_each(:endpoint_ids);

-- name: insert_delivery__rows [sqlite] --
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
    created_at, updated_at)
SELECT value ->> 'msg_id', value ->> 'endpoint_id', value ->> 'app_id', {MessageStatus.PENDING}, 0,
    value ->> 'next_attempt_at', 0, value ->> 'now', value ->> 'now'
FROM json_each(:rows);

-- name: finish_delivery__rows [sqlite] --
UPDATE deliveries SET status = r.status, attempts = attempts + 1, next_attempt_at = r.next_attempt_at,
    manual = 0, updated_at = r.now
FROM (
    SELECT value ->> 'id' AS id, value ->> 'status' AS status, value ->> 'lease' AS lease,
        value ->> 'next_attempt_at' AS next_attempt_at, value ->> 'now' AS now
    FROM json_each(:rows)
) AS r
WHERE deliveries.id = r.id AND deliveries.status = {MessageStatus.SENDING} AND deliveries.next_attempt_at = r.lease;

-- A worker's usual record on PostgreSQL as one statement (Database.record_attempts): its attempts,
-- their deliveries' ends (finish_delivery, lease-fenced) and the endpoints that answered well
-- (mark_endpoint_success), each passed as one array per column; an empty array makes its part
-- a no-op (PostgreSQL runs every data-modifying WITH part whether or not anything reads it). The
-- three touch three tables and none reads what another writes, so one statement
-- is the same as the three in a transaction, in one round trip instead of a BEGIN, one
-- statement per row and a COMMIT: about half the CPU per attempt, in PostgreSQL and in the
-- worker alike (docs/benchmarks.md).
-- name: record_attempts [postgres] --
WITH recorded AS (
    INSERT INTO attempts (id, delivery_id, msg_id, endpoint_id, app_id, url, status, response_status_code,
        response_headers, response_body, duration_ms, trigger_type, error, created_at)
    SELECT * FROM unnest(:insert_attempt__id::text[], :insert_attempt__delivery_id::bigint[],
        :insert_attempt__msg_id::text[], :insert_attempt__endpoint_id::text[], :insert_attempt__app_id::text[],
        :insert_attempt__url::text[], :insert_attempt__status::smallint[],
        :insert_attempt__response_status_code::integer[], :insert_attempt__response_headers::text[],
        :insert_attempt__response_body::text[], :insert_attempt__duration_ms::integer[],
        :insert_attempt__trigger_type::smallint[], :insert_attempt__error::text[], :insert_attempt__now::bigint[])
), finished AS (
    UPDATE deliveries SET status = f.status, attempts = deliveries.attempts + 1,
        next_attempt_at = f.next_attempt_at, manual = 0, updated_at = f.now
    FROM unnest(:finish_delivery__id::bigint[], :finish_delivery__status::smallint[],
        :finish_delivery__lease::bigint[], :finish_delivery__next_attempt_at::bigint[],
        :finish_delivery__now::bigint[]) AS f (id, status, lease, next_attempt_at, now)
    WHERE deliveries.id = f.id AND deliveries.status = {MessageStatus.SENDING} AND deliveries.next_attempt_at = f.lease
)
UPDATE endpoints SET first_failure_at = NULL
WHERE id = ANY(:mark_endpoint_success__id::text[]) AND first_failure_at IS NOT NULL;

-- name: cancel_delivery --
UPDATE deliveries SET status = {MessageStatus.CANCELED}, updated_at = :now
WHERE id = :id AND status = {MessageStatus.SENDING} AND next_attempt_at = :lease;

-- name: release_delivery --
UPDATE deliveries SET status = {MessageStatus.PENDING}, next_attempt_at = :now, updated_at = :now
WHERE id = :id AND status = {MessageStatus.SENDING} AND next_attempt_at = :lease;

-- A claimed delivery held back by its endpoint's limits goes back to the queue, due when the
-- endpoint can take it, without counting an attempt.
-- name: defer_delivery --
UPDATE deliveries SET status = {MessageStatus.PENDING}, next_attempt_at = :due, updated_at = :now
WHERE id = :id AND status = {MessageStatus.SENDING} AND next_attempt_at = :lease;

-- Heartbeat: a worker still sending pushes its leases forward; rows it no longer holds are
-- not returned.
-- name: extend_leases --
UPDATE deliveries SET next_attempt_at = :lease_until, updated_at = :now
WHERE id = ANY(:ids) AND status = {MessageStatus.SENDING} AND next_attempt_at = :lease
RETURNING id;

-- name: requeue_delivery --
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
    created_at, updated_at)
VALUES (:msg_id, :endpoint_id, :app_id, {MessageStatus.PENDING}, 0, :now, 1, :now, :now)
ON CONFLICT (msg_id, endpoint_id) DO UPDATE SET status = {MessageStatus.PENDING}, next_attempt_at = :now, manual = 1,
    updated_at = :now;

-- name: recover_failed_deliveries --
UPDATE deliveries SET status = {MessageStatus.PENDING}, next_attempt_at = :now, manual = 1, updated_at = :now
WHERE endpoint_id = :endpoint_id AND status = {MessageStatus.FAIL} AND created_at >= :since AND created_at < :until;

-- Every delivery of an endpoint in a period, with what bulk-replay filters on; messages whose
-- payload was expunged cannot be sent again and are left out.
-- name: list_endpoint_deliveries_for_replay --
SELECT d.msg_id, d.status, m.event_type, m.channels, m.tags,
    (SELECT a.response_status_code FROM attempts a
     WHERE a.msg_id = d.msg_id AND a.endpoint_id = d.endpoint_id ORDER BY a.id DESC LIMIT 1) AS last_code
FROM deliveries d JOIN messages m ON m.id = d.msg_id
WHERE d.endpoint_id = :endpoint_id AND m.created_at >= :since AND m.created_at < :until
    AND m.payload IS NOT NULL
ORDER BY d.msg_id;

-- Messages of the period that an endpoint has no delivery for (replay-missing); the caller
-- applies the routing rules (event types and channels) before queueing them.
-- name: list_undelivered_messages --
SELECT m.id, m.event_type, m.channels FROM messages m
WHERE m.app_id = :app_id AND m.created_at >= :since AND m.created_at < :until
    AND m.payload IS NOT NULL
    AND (:all_types = 1 OR m.event_type = ANY(:event_types))
    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.endpoint_id = :endpoint_id)
ORDER BY m.id;

-- name: delivery_counts --
SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status;

-- ----------------------------------------------------------------- attempts

-- name: list_attempts_by_msg --
SELECT * FROM attempts
WHERE app_id = :app_id AND msg_id = :msg_id AND id < :before
    AND (:endpoint_id = '' OR endpoint_id = :endpoint_id) AND (:status < 0 OR status = :status)
ORDER BY id DESC LIMIT :limit;

-- name: list_attempts_by_endpoint --
SELECT * FROM attempts
WHERE app_id = :app_id AND endpoint_id = :endpoint_id AND id < :before
    AND (:status < 0 OR status = :status)
ORDER BY id DESC LIMIT :limit;

-- name: get_attempt --
SELECT * FROM attempts WHERE app_id = :app_id AND msg_id = :msg_id AND id = :id;

-- name: expunge_attempt_content --
UPDATE attempts SET response_body = NULL, response_headers = NULL
WHERE app_id = :app_id AND msg_id = :msg_id AND id = :id;

-- name: list_attempted_messages --
SELECT d.status AS delivery_status, d.next_attempt_at, m.* FROM deliveries d
JOIN messages m ON m.id = d.msg_id
WHERE d.endpoint_id = :endpoint_id AND d.msg_id < :before AND d.attempts > 0
    AND (:status < 0 OR d.status = :status)
ORDER BY d.msg_id DESC LIMIT :limit;

-- name: list_attempted_destinations --
SELECT d.status AS delivery_status, d.next_attempt_at, e.* FROM deliveries d
JOIN endpoints e ON e.id = d.endpoint_id
WHERE d.msg_id = :msg_id AND d.endpoint_id > :after
ORDER BY d.endpoint_id ASC LIMIT :limit;

-- ----------------------------------------------------------------- background tasks

-- name: insert_background_task --
INSERT INTO background_tasks (id, task, status, data, created_at, updated_at)
VALUES (:id, :task, :status, :data, :now, :now);

-- name: finish_background_task --
UPDATE background_tasks SET status = :status, data = :data, updated_at = :now WHERE id = :id;

-- name: get_background_task --
SELECT * FROM background_tasks WHERE id = :id;

-- Newest first by default, as Svix lists them; NULL filters match everything.
-- name: list_background_tasks_desc --
SELECT * FROM background_tasks
WHERE id < :iterator AND (CAST(:status AS INTEGER) IS NULL OR status = :status)
    AND (CAST(:task AS TEXT) IS NULL OR task = :task)
ORDER BY id DESC LIMIT :limit;

-- name: list_background_tasks_asc --
SELECT * FROM background_tasks
WHERE id > :iterator AND (CAST(:status AS INTEGER) IS NULL OR status = :status)
    AND (CAST(:task AS TEXT) IS NULL OR task = :task)
ORDER BY id LIMIT :limit;

-- ----------------------------------------------------------------- statistics

-- name: count_messages_per_app --
SELECT app_id, COUNT(*) AS n FROM messages
WHERE created_at >= :since AND created_at < :until AND (:all_apps = 1 OR app_id = ANY(:app_ids))
GROUP BY app_id;

-- name: count_attempts_per_app --
SELECT app_id, COUNT(*) AS n FROM attempts
WHERE created_at >= :since AND created_at < :until AND (:all_apps = 1 OR app_id = ANY(:app_ids))
GROUP BY app_id;

-- name: distinct_message_event_types --
SELECT DISTINCT event_type FROM messages;

-- name: all_event_type_names --
SELECT name FROM event_types;

-- ----------------------------------------------------------------- endpoint transformations

-- The version bump makes workers reload the endpoint (and its transformation) on their next batch.
-- name: update_endpoint_transformation --
UPDATE endpoints SET transformation_code = :code, transformation_enabled = :enabled,
    version = version + 1, updated_at = :now
WHERE id = :id;

-- name: all_event_types --
SELECT * FROM event_types ORDER BY name;
