"""PostgreSQL through an asyncpg pool; LISTEN/NOTIFY wakes workers in every process.

Many API and worker processes on many machines share one database: the claim
query uses `FOR UPDATE SKIP LOCKED`, and a transaction that queues deliveries sends
`pg_notify('hookwire_deliveries')`, which PostgreSQL delivers on commit. `listen()` and
`notify()` carry any other channel the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg

from hookwire.errors import ConstraintViolation, DatabaseUnavailable, StoreError
from hookwire.redact import redact_url
from hookwire.store.database import (
    ALONE,
    DELIVERIES_CHANNEL,
    AttemptsRecord,
    ClaimedBatch,
    DeliveriesFor,
    NotifyCallback,
    Row,
    Step,
    StoredMessage,
    WakeupCallback,
    WakeupTurn,
)
from hookwire.store.migrate import load_migrations
from hookwire.store.pg_fanouts import Fanouts
from hookwire.store.pg_listener import Listener
from hookwire.store.pg_message_batches import FanoutChanged, MessageBatches
from hookwire.store.pg_wakeups import PacedWakeups
from hookwire.store.queries import Query, load_queries
from hookwire.store.shared_reads import SharedReads, read_key

log = logging.getLogger(__name__)
CHANNEL = DELIVERIES_CHANNEL
_CLAIMED_COLUMNS = ("id", "msg_id", "endpoint_id", "app_id", "attempts", "manual")  # claim_due_deliveries
_MIGRATION_LOCK = 0x686F6F6B  # "hook": advisory lock id held while migrating


# Errors that say the server is away, restarting or out of connections: never about a row.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


@contextmanager
def translated() -> Iterator[None]:
    """asyncpg's errors as hookwire's, for every call into the driver (errors.py's tree)."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise ConstraintViolation(str(exc)) from exc
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"PostgreSQL is unavailable: {exc or type(exc).__name__}") from exc
    except asyncpg.InterfaceError as exc:
        if "closed" in str(exc) or "connection" in str(exc):  # the connection died under the call
            raise DatabaseUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        raise StoreError(str(exc)) from exc
    except asyncpg.PostgresError as exc:
        raise StoreError(str(exc)) from exc


# The many-row parts of `record_attempts` (queries.sql), one array per column of each one-row query.
_RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "insert_attempt": (
        "id",
        "delivery_id",
        "msg_id",
        "endpoint_id",
        "app_id",
        "url",
        "status",
        "response_status_code",
        "response_headers",
        "response_body",
        "duration_ms",
        "trigger_type",
        "error",
        "now",
    ),
    "finish_delivery": ("id", "status", "lease", "next_attempt_at", "now"),
}


def _record_params(record: AttemptsRecord) -> dict[str, list[Any]]:
    parts = {"insert_attempt": record.attempts, "finish_delivery": record.finished}
    params = {
        f"{name}__{column}": [row[column] for row in parts[name]]
        for name, columns in _RECORD_COLUMNS.items()
        for column in columns
    }
    params["mark_endpoint_success__id"] = record.succeeded
    return params


def _args(query: Query, params: dict[str, Any]) -> list[Any]:
    return [list(v) if isinstance(v, tuple) else v for v in (params[name] for name in query.params)]


class _Runner:
    def __init__(self, conn: Any, queries: dict[str, Query]) -> None:
        self._conn = conn
        self._queries = queries

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        query = self._queries[name]
        with translated():
            return [dict(r) for r in await self._conn.fetch(query.sql, *_args(query, params))]

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        query = self._queries[name]
        with translated():
            row = await self._conn.fetchrow(query.sql, *_args(query, params))
        return None if row is None else dict(row)

    async def execute(self, name: str, /, **params: Any) -> int:
        query = self._queries[name]
        with translated():
            status: str = await self._conn.execute(query.sql, *_args(query, params))
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            query = self._queries[name]
            with translated():
                await self._conn.executemany(query.sql, [_args(query, row) for row in rows])

    async def notify_deliveries(self) -> None:
        with translated():
            await self._conn.execute(f"SELECT pg_notify('{CHANNEL}', '')")


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, dsn: str, pool: asyncpg.Pool, batch_pool: asyncpg.Pool) -> None:
        self.dsn = dsn
        self._pool = pool
        self._batch_pool = batch_pool
        self._queries = load_queries("postgres")
        self._listener = Listener(dsn)
        self._message_batches = MessageBatches(self)
        self._fanouts = Fanouts()
        self._paced: list[PacedWakeups] = []
        self._shared_reads = SharedReads(lambda name, params: self._runner().fetch(name, **params))

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        """Beside the pool, one connection (opened when first used) for the batched message
        insert, which is never more than one statement at a time (pg_message_batches.py). It
        uses PostgreSQL's generic plan every time: on its own, PostgreSQL plans the statement
        again on every run, because the plan for arrays of unknown length looks dearer than
        one for the lengths at hand, and that planning doubled its server CPU (measured:
        ~830 against ~400 µs for a batch of five)."""
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {redact_url(dsn)}: {exc}") from exc
        assert pool is not None
        batch_pool = asyncpg.create_pool(
            dsn, min_size=0, max_size=1, reset=_keep_session, init=_generic_plans
        )  # with min_size=0 nothing connects until the first batch
        return cls(dsn, pool, await batch_pool)

    def _runner(self) -> _Runner:
        return _Runner(self._pool, self._queries)

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        """Identical reads that arrive while one is in flight go together next (shared_reads.py)."""
        key = read_key(name, params)
        if key is None:
            return await self._runner().fetch(name, **params)
        return await self._shared_reads.fetch(key, name, params)

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        return await self._runner().fetchrow(name, **params)

    async def execute(self, name: str, /, **params: Any) -> int:
        return await self._runner().execute(name, **params)

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        await self._runner().executemany(name, rows)

    async def notify_deliveries(self) -> None:
        await self._runner().notify_deliveries()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Runner]:
        with translated():  # acquiring, BEGIN and COMMIT reach the server too
            async with self._pool.acquire() as conn, conn.transaction():
                yield _Runner(conn, self._queries)

    async def write(self, steps: Sequence[Step], *, notify: bool = False) -> list[int]:
        counts = []
        async with self.transaction() as tx:
            for name, params in steps:
                if isinstance(params, list):
                    await tx.executemany(name, params)
                    counts.append(len(params))
                else:
                    counts.append(await tx.execute(name, **params))
            if notify:
                await tx.notify_deliveries()
        return counts

    async def record_attempts(self, record: AttemptsRecord) -> None:
        """The usual record as one statement, on its own; with failures, disables or
        hand-backs, that statement and their steps in one transaction."""
        params = _record_params(record)
        rare = record.rare_steps()
        if not rare:
            await self._runner().execute("record_attempts", **params)
            return
        async with self.transaction() as tx:
            await tx.execute("record_attempts", **params)
            for name, rows in rare:
                await tx.executemany(name, rows)

    async def write_message_batch(self, **params: Any) -> list[Row]:
        """`insert_messages_batch` on the connection kept for it (see `open`)."""
        return await _Runner(self._batch_pool, self._queries).fetch("insert_messages_batch", **params)

    async def claim_deliveries(self, **params: Any) -> ClaimedBatch:
        rows = await self._runner().fetch("claim_due_deliveries", **params)
        deliveries: list[Row] = []
        messages: dict[str, Row] = {}
        versions: dict[str, int] = {}
        for row in rows:
            deliveries.append({name: row[name] for name in _CLAIMED_COLUMNS})
            if row["endpoint_version"] is not None:
                versions[row["endpoint_id"]] = row["endpoint_version"]
            msg_id = row["message_id"]
            # the payload is on one row of each message (NULL on every row once expunged)
            if msg_id is not None and (row["payload"] is not None or msg_id not in messages):
                messages[msg_id] = {"id": msg_id, "event_type": row["event_type"], "payload": row["payload"]}
        return ClaimedBatch(deliveries, list(messages.values()), versions)

    async def store_message(self, message: Row, deliveries: list[Row]) -> bool:
        """Grouped with concurrent calls into one statement (pg_message_batches.py)."""
        return await self._message_batches.store(message, deliveries)

    async def store_message_for_app(
        self, app_key: str, message: Row, deliveries_for: DeliveriesFor
    ) -> StoredMessage:
        """The endpoints this process read last time are used again, and the batched statement
        checks that they still hold (pg_fanouts.py); when they do not, they are read again."""
        kept = self._fanouts.get(app_key)
        if kept is not None:
            row = {**message, "app_id": kept.app_id}
            deliveries = deliveries_for(kept.app_id, kept.endpoints)
            try:
                stored = await self._message_batches.store(row, deliveries, fanout=(app_key, kept.token))
            except FanoutChanged:
                self._fanouts.forget(app_key)
            else:
                return StoredMessage(kept.app_id, stored)
        fanout = self._fanouts.keep(app_key, await self.fetch("get_app_fanout", key=app_key))
        if fanout is None:
            return StoredMessage(None, False)
        row = {**message, "app_id": fanout.app_id}
        stored = await self.store_message(row, deliveries_for(fanout.app_id, fanout.endpoints))
        return StoredMessage(fanout.app_id, stored)

    async def listen(self, channel: str, callback: NotifyCallback) -> None:
        """`callback(payload)` on every NOTIFY on `channel`, from any process; the LISTEN
        connection reconnects by itself after the server restarts (pg_listener.py)."""
        await self._listener.listen(channel, callback)

    async def notify(self, channel: str, payload: str = "") -> None:
        with translated():
            await self._pool.execute("SELECT pg_notify($1, $2)", channel, payload)

    async def listen_deliveries(self, callback: WakeupCallback, *, turn: WakeupTurn = ALONE) -> None:
        """Wake-ups paced (pg_wakeups.py): every API process notifies with every batch it
        commits, and every listening process hears each one."""
        paced = PacedWakeups(callback, turn=turn)
        self._paced.append(paced)
        await self.listen(CHANNEL, lambda _payload: paced())

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                )
                done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for migration in load_migrations("postgres"):
                    if migration.version in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at) "
                            "VALUES ($1, $2, (extract(epoch from now()) * 1000)::bigint)",
                            migration.version,
                            migration.name,
                        )
                    applied.append(f"{migration.version:04d}_{migration.name}")
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        return applied

    async def close(self) -> None:
        await self._message_batches.close()
        await self._shared_reads.close()
        await self._listener.close()
        for paced in self._paced:
            paced.close()
        await asyncio.wait_for(asyncio.gather(self._batch_pool.close(), self._pool.close()), timeout=10)


async def _generic_plans(conn: asyncpg.Connection) -> None:
    """The batch connection's set-up (see `PostgresDatabase.open`). A server before
    PostgreSQL 12 has no `plan_cache_mode`: it then plans as it always does."""
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
    except asyncpg.PostgresError as exc:
        log.info("PostgreSQL keeps its own plan choice for batched inserts: %s", exc)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """What the pool runs when a connection comes back: nothing beyond asyncpg's own cleanup,
    which always ends an open transaction. asyncpg's default also sends `RESET ALL; UNLISTEN *;
    CLOSE ALL; pg_advisory_unlock_all()`, one more round trip per use, which was a fifth of the
    API's CPU per message on PostgreSQL (py-spy, docs/benchmarks.md). Pool connections hold no
    such state here: LISTEN uses its own connections, the migration lock is released in a
    `finally`, and no query changes a session setting."""
