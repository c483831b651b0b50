"""SQLite: one writer connection owns every write; reads use their own connection.

Each connection has its own thread. Reads always run there, and so does anything that may
wait: a write while another process holds SQLite's write lock (waiting up to `busy_timeout`),
a multi-statement `transaction()`, a migration, and the WAL checkpoint (its own connection,
every half second, so no commit copies the WAL back into the database file and syncs it).

Writes that arrive together are committed together (group commit): `write()` queues
its statements, and one transaction applies every queued group, each inside its own
savepoint so one group's failure never touches another's. Under load that turns hundreds
of small transactions into one commit. When no other process is writing, that transaction
runs right on the event loop: a batch is a few hundred microseconds of SQLite work, less
than the two thread hops it would cost, each waiting for the GIL behind the busy loop.
Wake-ups are in-process: a write that queued deliveries calls the listeners after it commits.

The sqlite3 module takes and drops the GIL for every row it binds or steps. A many-row
write therefore uses the query's `<name>__rows` variant where one exists: the rows go in
as one JSON array and SQLite unpacks them with `json_each`, so binding 100 rows costs one
`orjson.dumps` and one step instead of 100 of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from hookwire.errors import ConstraintViolation, DatabaseUnavailable, StoreError
from hookwire.store.database import (
    ALONE,
    DELIVERIES_CHANNEL,
    AttemptsRecord,
    ClaimedBatch,
    DeliveriesFor,
    Row,
    Step,
    StoredMessage,
    WakeupCallback,
    WakeupTurn,
    app_fanout,
)
from hookwire.store.migrate import load_migrations
from hookwire.store.queries import Query, load_queries
from hookwire.store.shared_reads import read_key

T = TypeVar("T")
log = logging.getLogger("hookwire.store")

_BUSY_TIMEOUT = "PRAGMA busy_timeout=10000"
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    _BUSY_TIMEOUT,
    # 32 MiB of page cache per connection (SQLite's default is 2 MiB): a queue of a million
    # deliveries keeps its hot index pages in memory instead of re-reading them every claim.
    "PRAGMA cache_size=-32768",
    "PRAGMA foreign_keys=ON",
)
# The writer connection does not wait for SQLite's lock by itself (see _write_groups), and does
# not checkpoint the WAL inside its commits (a checkpoint writes and syncs the database file;
# the checkpoint connection does that on its own thread, every _CHECKPOINT_EVERY seconds).
_NO_WAIT = "PRAGMA busy_timeout=0"
_WRITER_PRAGMAS = (_NO_WAIT, "PRAGMA wal_autocheckpoint=0")
_CHECKPOINT_EVERY = 0.5
# While another process holds the write lock, the writer tries again on the event loop after
# 0.2, 0.4 and 0.8 ms before it hands the batch to its thread, where SQLite's busy handler
# sleeps 1, 2, 5, 10 ms... between tries.
_FIRST_PAUSE, _LAST_PAUSE = 0.0002, 0.0008
_MAX_GROUP = 512

# What one group of a group commit is: statements (row counts back) or a function of the
# connection run inside the transaction (its result back, and whether it queued deliveries). A
# function also gets the transaction's memo, where it may keep what it read for the next
# function of the same transaction; the memo is emptied whenever statements of another kind of
# group run, since they may change what was read.
_STEPS, _CALL = "steps", "call"
Call = Callable[[sqlite3.Connection, dict[Any, Any]], tuple[Any, bool]]


class _DictFactory:
    """Rows as dicts; the column names are worked out once per result set, not per row."""

    __slots__ = ("_description", "_names")

    def __init__(self) -> None:
        self._description: Any = None
        self._names: tuple[str, ...] = ()

    def __call__(self, cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
        description = cursor.description
        if description is not self._description:
            self._description = description
            self._names = tuple(col[0] for col in description)
        return dict(zip(self._names, row, strict=True))


def _bind(query: Query, params: dict[str, Any]) -> dict[str, Any]:
    bound = {}
    for name in query.params:
        value = params[name]
        bound[name] = orjson.dumps(value).decode() if isinstance(value, list | tuple) else value
    return bound


class _Connection:
    """One sqlite3 connection, used only from its own thread."""

    def __init__(self, path: str, name: str, pragmas: tuple[str, ...] = ()) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hookwire-sqlite-{name}")
        self._path = path
        self._pragmas = _PRAGMAS + pragmas
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.row_factory = _DictFactory()
            for pragma in self._pragmas:
                conn.execute(pragma)
            return conn

        self._conn = await asyncio.get_running_loop().run_in_executor(self._thread, connect)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection itself, for a caller that holds the database's write lock (the
        writer's inline attempt, on the event loop's thread)."""
        assert self._conn is not None, "database is closed"
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        assert conn is not None, "database is closed"
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, conn)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def close(self) -> None:
        if self._conn is not None:
            await self.run(lambda c: c.close())
            self._conn = None
        self._thread.shutdown(wait=True)


def _apply(conn: sqlite3.Connection, queries: dict[str, Query], steps: Sequence[Step]) -> list[int]:
    counts = []
    for name, params in steps:
        query = queries[name]
        if isinstance(params, list):
            batch = queries.get(f"{name}__rows") if len(params) > 1 else None
            if batch is not None:
                cursor = conn.execute(batch.sql, {"rows": orjson.dumps(params).decode()})
            elif params:
                cursor = conn.executemany(query.sql, [_bind(query, p) for p in params])
            else:
                cursor = None
        else:
            cursor = conn.execute(query.sql, _bind(query, params))
        counts.append(cursor.rowcount if cursor is not None else 0)
    return counts


def _is_busy(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_BUSY


def _begin_waiting(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE on the writer connection, waiting up to busy_timeout for another
    process's write to end (on the writer's thread: the event loop never waits for it)."""
    conn.execute(_BUSY_TIMEOUT)
    try:
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute(_NO_WAIT)


def _apply_groups(
    conn: sqlite3.Connection, queries: dict[str, Query], groups: list[tuple[Any, str]], *, wait: bool
) -> list[Any] | None:
    """One transaction for every group, each in a savepoint of its own; None, with nothing
    done, when another process is writing and `wait` is false.

    A group's result is its row counts, its function's result, or the exception that rolled
    it back (that group's only)."""
    results: list[Any] = []
    if wait:
        _begin_waiting(conn)
    else:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                return None
            raise
    memo: dict[Any, Any] = {}
    try:
        for work, kind in groups:
            conn.execute("SAVEPOINT grp")
            try:
                if kind == _CALL:
                    results.append(work(conn, memo))
                else:
                    memo.clear()
                    results.append(_apply(conn, queries, work))
            except Exception as exc:
                conn.execute("ROLLBACK TO grp")
                results.append(exc)
            conn.execute("RELEASE grp")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results


class _QueuedRead:
    """A read waiting for (or running on) the reader thread, which identical reads may join
    until the thread starts it (`started` is set on the thread, before the statement runs)."""

    __slots__ = ("shared", "started", "task")

    def __init__(self) -> None:
        self.started = False
        self.shared = False  # joined: every caller gets copies of the rows
        self.task: asyncio.Task[list[Row]]


class _Runner:
    """Runs named queries on one connection, one thread hop per statement."""

    def __init__(self, conn: _Connection, queries: dict[str, Query]) -> None:
        self._conn = conn
        self._queries = queries
        self.notified = False

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        query = self._queries[name]
        bound = _bind(query, params)
        return await self._conn.run(lambda c: c.execute(query.sql, bound).fetchall())

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        query = self._queries[name]
        bound = _bind(query, params)
        return await self._conn.run(lambda c: c.execute(query.sql, bound).fetchone())

    async def execute(self, name: str, /, **params: Any) -> int:
        return (await self._conn.run(lambda c: _apply(c, self._queries, [(name, params)])))[0]

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._conn.run(lambda c: _apply(c, self._queries, [(name, list(rows))]))

    async def notify_deliveries(self) -> None:
        self.notified = True


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._queries = load_queries("sqlite")
        self._writer = _Connection(path, "writer", _WRITER_PRAGMAS)
        self._reader = _Connection(path, "reader")
        self._checkpointer = _Connection(path, "checkpoint")
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointed_at = 0.0
        self._write_lock = asyncio.Lock()
        self._listeners: list[WakeupCallback] = []
        self._channels: dict[str, list[Callable[[str], None]]] = {}
        self._relay: WakeupCallback | None = None
        self._pending: list[tuple[Any, str, bool, asyncio.Future[Any]]] = []
        self._group_writer: asyncio.Task[None] | None = None
        self._queued_reads: dict[tuple[Any, ...], _QueuedRead] = {}

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        db = cls(path)
        if path != ":memory:":
            _create_private(Path(path))
        await db._writer.open()
        await db._reader.open()
        await db._checkpointer.open()
        return db

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        """Rows of a read. Identical reads (same query, same parameters) that arrive while one
        is still waiting for the reader thread share it: it has not started, so it sees
        everything committed before any of them arrived, as each would have on its own. Under
        load that is one thread hop for the burst of message creates of one application
        (`get_app_fanout`) instead of one each. Each caller gets its own copies of the rows."""
        key = read_key(name, params)
        if key is None:
            return await _Runner(self._reader, self._queries).fetch(name, **params)
        read = self._queued_reads.get(key)
        if read is not None and not read.started:
            read.shared = True
        else:
            read = self._queue_read(key, name, params)
        rows = await asyncio.shield(read.task)  # a caller that leaves does not cancel the others
        return [dict(row) for row in rows] if read.shared else rows

    def _queue_read(self, key: tuple[Any, ...], name: str, params: dict[str, Any]) -> _QueuedRead:
        query = self._queries[name]
        bound = _bind(query, params)
        read = _QueuedRead()

        def run(conn: sqlite3.Connection) -> list[Row]:
            read.started = True
            return conn.execute(query.sql, bound).fetchall()

        def done(task: asyncio.Task[list[Row]]) -> None:
            if self._queued_reads.get(key) is read:
                del self._queued_reads[key]
            if not task.cancelled():
                task.exception()  # retrieved: the callers that still wait re-raise it

        read.task = asyncio.create_task(self._reader.run(run))
        read.task.add_done_callback(done)
        self._queued_reads[key] = read
        return read

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        return await _Runner(self._reader, self._queries).fetchrow(name, **params)

    async def execute(self, name: str, /, **params: Any) -> int:
        return (await self.write([(name, params)]))[0]

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        await self.write([(name, list(rows))])

    async def notify_deliveries(self) -> None:
        self._wake()

    async def write(self, steps: Sequence[Step], *, notify: bool = False) -> list[int]:
        """Apply the steps atomically (grouped with concurrent writes); row counts per step."""
        counts: list[int] = await self._enqueue(steps, _STEPS, notify=notify)
        return counts

    async def record_attempts(self, record: AttemptsRecord) -> None:
        await self.write(record.steps())

    async def claim_deliveries(self, **params: Any) -> ClaimedBatch:
        queries = self._queries
        claim_query, messages_query = queries["claim_due_deliveries"], queries["messages_for_delivery"]
        versions_query = queries["endpoint_versions"]

        def claim(conn: sqlite3.Connection, _memo: dict[Any, Any]) -> tuple[ClaimedBatch, bool]:
            claimed = conn.execute(claim_query.sql, _bind(claim_query, params)).fetchall()
            if not claimed:
                return ClaimedBatch([], [], {}), False
            msg_ids = sorted({d["msg_id"] for d in claimed})
            endpoint_ids = sorted({d["endpoint_id"] for d in claimed})
            messages = conn.execute(messages_query.sql, _bind(messages_query, {"ids": msg_ids})).fetchall()
            versions = conn.execute(versions_query.sql, _bind(versions_query, {"ids": endpoint_ids}))
            return ClaimedBatch(claimed, messages, {r["id"]: r["version"] for r in versions}), False

        batch: ClaimedBatch = await self._enqueue(claim, _CALL, notify=False)
        return batch

    async def store_message(self, message: Row, deliveries: list[Row]) -> bool:
        inserted, _ = await self.write(
            [("insert_message", message), ("insert_delivery_if_stored", deliveries)], notify=bool(deliveries)
        )
        return inserted == 1

    async def store_message_for_app(
        self, app_key: str, message: Row, deliveries_for: DeliveriesFor
    ) -> StoredMessage:
        """The application's endpoints are read in the group commit's transaction that stores
        the message (once per application and commit): no read of its own per create, and the
        read sees exactly what the write commits against."""
        queries = self._queries
        fanout_query, insert_query = queries["get_app_fanout"], queries["insert_message"]
        deliveries_query = queries["insert_message_deliveries"]

        def store(conn: sqlite3.Connection, memo: dict[Any, Any]) -> tuple[StoredMessage, bool]:
            key = ("get_app_fanout", app_key)  # the creates of one commit read an app's endpoints once
            if key not in memo:
                read = conn.execute(fanout_query.sql, _bind(fanout_query, {"key": app_key}))
                memo[key] = app_fanout(read.fetchall())
            fanout = memo[key]
            if fanout is None:
                return StoredMessage(None, False), False
            app_id, endpoints = fanout
            row = _bind(insert_query, {**message, "app_id": app_id})
            if conn.execute(insert_query.sql, row).rowcount != 1:
                return StoredMessage(app_id, False), False
            deliveries = deliveries_for(app_id, endpoints)
            if deliveries:  # rows of one message: only the endpoint differs
                first = deliveries[0]
                ids = orjson.dumps([d["endpoint_id"] for d in deliveries]).decode()
                conn.execute(
                    deliveries_query.sql,
                    {
                        "msg_id": first["msg_id"],
                        "app_id": first["app_id"],
                        "next_attempt_at": first["next_attempt_at"],
                        "now": first["now"],
                        "endpoint_ids": ids,
                    },
                )
            return StoredMessage(app_id, True), bool(deliveries)

        stored: StoredMessage = await self._enqueue(store, _CALL, notify=False)
        return stored

    async def _enqueue(self, work: Sequence[Step] | Call, kind: str, *, notify: bool) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((work, kind, notify, future))
        if self._group_writer is None or self._group_writer.done():
            self._group_writer = asyncio.create_task(self._write_groups())
        return await future

    async def _write_groups(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_MAX_GROUP], self._pending[_MAX_GROUP:]
            groups = [(work, kind) for work, kind, _, _ in batch]
            try:
                async with self._write_lock:
                    results = self._apply_inline(groups)
                    pause = _FIRST_PAUSE
                    while results is None and pause <= _LAST_PAUSE:  # another process is writing:
                        await asyncio.sleep(pause)  # its transactions last a millisecond or so
                        pause *= 2
                        results = self._apply_inline(groups)
                    if results is None:  # still writing: wait for it on the thread
                        results = await self._writer.run(
                            lambda c, g=groups: _apply_groups(c, self._queries, g, wait=True)  # type: ignore[misc]
                        )
                        assert results is not None  # it waited for the lock
                self._after_commit()
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            woke = False
            for (_, kind, notify, future), result in zip(batch, results, strict=True):
                failed = isinstance(result, BaseException)
                if kind == _CALL and not failed:
                    result, queued = result
                else:
                    queued = notify and not failed
                woke = woke or queued
                if future.cancelled():  # its caller left; what it wrote is committed all the same
                    continue
                if isinstance(result, sqlite3.Error):
                    error = translate(result)
                    error.__cause__ = result
                    future.set_exception(error)
                elif failed:
                    future.set_exception(result)
                else:
                    future.set_result(result)
            if woke:
                self._wake()

    def _apply_inline(self, groups: list[tuple[Any, str]]) -> list[Any] | None:
        """The groups applied right here on the event loop's thread, or None when SQLite's lock
        is taken. A batch is a few hundred microseconds of SQLite work, less than the two thread
        hops it used to cost (each one waiting for the GIL behind the busy event loop); with the
        lock free and no checkpoint in the commit, nothing in it waits on the disk or on
        another process."""
        try:
            results = _apply_groups(self._writer.conn, self._queries, groups, wait=False)
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        return results

    def _after_commit(self) -> None:
        """Start a passive checkpoint on its own thread if the last one is old enough: it
        copies committed pages from the WAL to the database file (and syncs it) beside the
        writers and readers instead of inside a commit."""
        now = time.monotonic()
        running = self._checkpoint is not None and not self._checkpoint.done()
        if running or now - self._checkpointed_at < _CHECKPOINT_EVERY or self.path == ":memory:":
            return
        self._checkpointed_at = now
        self._checkpoint = asyncio.create_task(self._checkpoint_wal())

    async def _checkpoint_wal(self) -> None:
        try:
            await self._checkpointer.run(lambda c: c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
        except StoreError as exc:  # the next one, half a second on, tries again
            cause = exc.__cause__
            if isinstance(cause, sqlite3.Error) and _is_busy(cause):  # another process's checkpoint
                log.debug("WAL checkpoint skipped: %s", exc)
            else:  # a full disk, an I/O error: the operator needs to hear of it
                log.warning("WAL checkpoint failed: %s", exc)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Runner]:
        async with self._write_lock:
            runner = _Runner(self._writer, self._queries)
            await self._writer.run(_begin_waiting)
            try:
                yield runner
            except BaseException:
                await self._writer.run(lambda c: c.execute("ROLLBACK"))
                raise
            await self._writer.run(lambda c: c.execute("COMMIT"))
        if runner.notified:
            self._wake()

    def _wake(self) -> None:
        self.wake_listeners()
        if self._relay is not None:
            self._relay()

    def wake_listeners(self) -> None:
        """Wake this process's listeners, as a local commit that queued deliveries does. A
        cross-process event link calls it when another process on the same file committed."""
        for callback in self._listeners:
            callback()

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """`callback(payload)` on every `notify()` on `channel` (in this process: SQLite has one)."""
        if channel == DELIVERIES_CHANNEL:
            self._listeners.append(lambda: callback(""))
        else:
            self._channels.setdefault(channel, []).append(callback)

    async def notify(self, channel: str, payload: str = "") -> None:
        if channel == DELIVERIES_CHANNEL:
            self._wake()
        for callback in self._channels.get(channel, ()):
            callback(payload)

    def relay_wakeups(self, callback: WakeupCallback) -> None:
        """Also call `callback` after each local commit that queued deliveries, so an event
        link can tell the other processes (which then call `wake_listeners`, not this)."""
        self._relay = callback

    async def listen_deliveries(self, callback: WakeupCallback, *, turn: WakeupTurn = ALONE) -> None:
        self._listeners.append(callback)  # in-process and unpaced: `turn` is PostgreSQL's

    async def migrate(self) -> list[str]:
        def apply(conn: sqlite3.Connection) -> list[str]:
            applied: list[str] = []
            _begin_waiting(conn)
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                )
                done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
                for migration in load_migrations("sqlite"):
                    if migration.version in done:
                        continue
                    for statement in _split_statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER) * 1000)",
                        (migration.version, migration.name),
                    )
                    applied.append(f"{migration.version:04d}_{migration.name}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return applied

        async with self._write_lock:
            return await self._writer.run(apply)

    async def close(self) -> None:
        if self._group_writer is not None:
            await asyncio.gather(self._group_writer, return_exceptions=True)
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        await self._writer.close()
        await self._reader.close()
        await self._checkpointer.close()


# Primary result codes that say the database is busy or its file cannot be used right now.
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def translate(exc: sqlite3.Error) -> StoreError:
    """sqlite3's error as hookwire's (errors.py's tree): every call into the driver ends here."""
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintViolation(str(exc))
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _UNAVAILABLE_CODES:
        return DatabaseUnavailable(f"SQLite is unavailable: {exc}")
    return StoreError(str(exc))


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600), before SQLite does.

    It holds the admin token's ciphertext, payloads and request logs; SQLite would create it
    world-readable under the usual umask. Its -wal and -shm files take the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # an existing one keeps the mode its operator gave it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _split_statements(sql: str) -> list[str]:
    """Statements of a migration file (they hold no `;` inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
