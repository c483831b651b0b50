"""PostgreSQL for tests: a migrated template database, cloned per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hookwire.store import open_database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("HOOKWIRE_TEST_DATABASE_URL", DEFAULT_URL)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def postgres_unavailable_reason() -> str | None:
    """None when PostgreSQL answers at HOOKWIRE_TEST_DATABASE_URL, else why not."""

    async def probe() -> None:
        conn = await asyncpg.connect(admin_url(), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"cannot connect to {admin_url()} ({type(exc).__name__}: {exc})"
    return None


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class PostgresTemplate:
    name: str

    @classmethod
    def create(cls) -> PostgresTemplate:
        name = f"hw_template_{uuid.uuid4().hex[:8]}"

        async def build() -> None:
            await _admin(f'CREATE DATABASE "{name}"')
            db = await open_database(with_database(admin_url(), name))
            try:
                await db.migrate()
            finally:
                await db.close()

        asyncio.run(build())
        return cls(name)

    def clone(self, name: str) -> str:
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        return with_database(admin_url(), name)

    def drop_clone(self, name: str) -> None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop(self) -> None:
        self.drop_clone(self.name)
