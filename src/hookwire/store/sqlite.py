"""SQLite: one writer connection owns every write transaction; reads use their own connection.

WAL lets the reader run beside the writer; `busy_timeout` covers a second process
(a `hookwire migrate` next to a running server). Wake-ups are in-process: a
transaction that queued deliveries calls the listeners after it commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from hookwire.store.database import Row, WakeupCallback
from hookwire.store.migrate import load_migrations
from hookwire.store.queries import Query, load_queries

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


def _bind(query: Query, params: dict[str, Any]) -> dict[str, Any]:
    bound = {}
    for name in query.params:
        value = params[name]
        bound[name] = orjson.dumps(value).decode() if isinstance(value, list | tuple) else value
    return bound


class _Runner:
    """Runs named queries on one aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection, queries: dict[str, Query]) -> None:
        self._conn = conn
        self._queries = queries
        self.notified = False

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        query = self._queries[name]
        async with self._conn.execute(query.sql, _bind(query, params)) as cursor:
            return list(await cursor.fetchall())  # type: ignore[arg-type]

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        query = self._queries[name]
        async with self._conn.execute(query.sql, _bind(query, params)) as cursor:
            return await cursor.fetchone()  # type: ignore[return-value]

    async def execute(self, name: str, /, **params: Any) -> int:
        query = self._queries[name]
        async with self._conn.execute(query.sql, _bind(query, params)) as cursor:
            return cursor.rowcount

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            query = self._queries[name]
            await self._conn.executemany(query.sql, [_bind(query, row) for row in rows])

    async def notify_deliveries(self) -> None:
        self.notified = True


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._queries = load_queries("sqlite")
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._listeners: list[WakeupCallback] = []

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        db = cls(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db._writer = await db._connect()
        db._reader = await db._connect()
        return db

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = _dict_factory  # type: ignore[assignment]
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        return conn

    def _read_runner(self) -> _Runner:
        assert self._reader is not None, "database is closed"
        return _Runner(self._reader, self._queries)

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        return await self._read_runner().fetch(name, **params)

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None:
        return await self._read_runner().fetchrow(name, **params)

    async def execute(self, name: str, /, **params: Any) -> int:
        async with self.transaction() as tx:
            return await tx.execute(name, **params)

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(name, rows)

    async def notify_deliveries(self) -> None:
        self._wake()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Runner]:
        assert self._writer is not None, "database is closed"
        async with self._write_lock:
            runner = _Runner(self._writer, self._queries)
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield runner
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")
        if runner.notified:
            self._wake()

    def _wake(self) -> None:
        for callback in self._listeners:
            callback()

    async def listen_deliveries(self, callback: WakeupCallback) -> None:
        self._listeners.append(callback)

    async def migrate(self) -> list[str]:
        assert self._writer is not None
        applied: list[str] = []
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                )
                async with conn.execute("SELECT version FROM schema_migrations") as cursor:
                    done = {row["version"] for row in await cursor.fetchall()}
                for migration in load_migrations("sqlite"):
                    if migration.version in done:
                        continue
                    for statement in _split_statements(migration.sql):
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER) * 1000)",
                        (migration.version, migration.name),
                    )
                    applied.append(f"{migration.version:04d}_{migration.name}")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
        return applied

    async def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None


def _split_statements(sql: str) -> list[str]:
    """Statements of a migration file (they hold no `;` inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
