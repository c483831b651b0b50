"""Storage: one schema and one set of named queries on SQLite or PostgreSQL."""

from __future__ import annotations

from hookwire.store.database import Database, Executor, Row


async def open_database(url: str) -> Database:
    """Open the database named by HOOKWIRE_DATABASE_URL (`sqlite:///PATH` or `postgresql://...`)."""
    if url.startswith("sqlite:///"):
        from hookwire.store.sqlite import SqliteDatabase

        return await SqliteDatabase.open(url.removeprefix("sqlite:///"))
    from hookwire.store.postgres import PostgresDatabase

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return await PostgresDatabase.open(dsn)


__all__ = ["Database", "Executor", "Row", "open_database"]
