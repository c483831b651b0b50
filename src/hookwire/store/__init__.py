"""Storage: one schema and one set of named queries on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any, TypeVar

from hookwire.store.database import Database, Executor, Row

T = TypeVar("T")


def typed(row_type: type[T], rows: Iterable[Row]) -> list[T]:
    """Rows as typed records (frozen dataclasses): a query's columns are the record's fields,
    by name, so a query and its record that drift apart fail at the first row, not later on a
    missing key."""
    make: Any = row_type
    return [make(**row) for row in rows]


def typed_part(row_type: type[T], row: Row) -> T:
    """The record of one table inside a joined row (`SELECT d.status AS delivery_status, m.*`):
    the record's fields are read by name, the join's extra columns are left to the caller."""
    make: Any = row_type
    return make(**{f.name: row[f.name] for f in fields(make)})


def typed_one(row_type: type[T], row: Row | None) -> T | None:
    """One row as a typed record (see `typed`), or None."""
    return None if row is None else typed(row_type, (row,))[0]


async def open_database(url: str) -> Database:
    """Open the database named by HOOKWIRE_DATABASE_URL (`sqlite:///PATH` or `postgresql://...`)."""
    if url.startswith("sqlite:///"):
        from hookwire.store.sqlite import SqliteDatabase

        return await SqliteDatabase.open(url.removeprefix("sqlite:///"))
    from hookwire.store.postgres import PostgresDatabase

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return await PostgresDatabase.open(dsn)


__all__ = ["Database", "Executor", "Row", "open_database", "typed", "typed_one", "typed_part"]
