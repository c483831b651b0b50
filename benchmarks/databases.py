"""Fresh databases for each hookwire run: a new SQLite file, or a new PostgreSQL database.

PostgreSQL databases are created on `BENCH_POSTGRES_URL` (default
postgresql://postgres@127.0.0.1:5432/postgres), named `hookwire_bench_<random>`, and
dropped when the run ends, whatever happened in between.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_sqlite_url(workdir: Path, name: str) -> str:
    directory = workdir / f"sqlite-{name}-{uuid.uuid4().hex[:6]}"
    directory.mkdir(parents=True)
    return f"sqlite:///{directory}/hookwire.db"


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _url_for(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"cannot connect to {ADMIN_URL}: {exc}"
    await conn.close()
    return None


@asynccontextmanager
async def fresh_postgres(label: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped on exit."""
    name = f"hookwire_bench_{label}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield _url_for(name)
    finally:
        conn = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


_STATUS_NAMES = {0: "success", 1: "pending", 2: "fail", 3: "sending", 4: "canceled"}


async def delivery_status_counts(database_url: str) -> dict[str, int]:
    """How many deliveries are in each state (after a drain: all should be `success`)."""
    sql = "SELECT status, COUNT(*) FROM deliveries GROUP BY status"
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(sqlite_path(database_url), timeout=30)
        try:
            rows = conn.execute(sql).fetchall()
        finally:
            conn.close()
    else:
        pg = await asyncpg.connect(database_url, timeout=10)
        try:
            rows = [tuple(r) for r in await pg.fetch(sql)]
        finally:
            await pg.close()
    return {_STATUS_NAMES.get(status, str(status)): n for status, n in rows}
