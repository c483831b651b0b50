"""The schema and the named queries, checked against both real databases."""

from __future__ import annotations

import re

import pytest

from hookwire.store import open_database
from hookwire.store.migrate import load_migrations
from hookwire.store.queries import load_queries

TABLES = {
    "applications",
    "event_types",
    "endpoints",
    "endpoint_secrets",
    "messages",
    "deliveries",
    "attempts",
    "meta",
    "schema_migrations",
    "background_tasks",
}


async def _tables(db: object, dialect: str) -> set[str]:
    if dialect == "sqlite":
        rows = await db._reader.run(  # type: ignore[attr-defined]
            lambda c: c.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        )
        return {row["name"] for row in rows}
    async with db._pool.acquire() as conn:  # type: ignore[attr-defined]
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}


async def test_migrations_create_the_declared_tables_and_are_idempotent(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        await db.migrate()
        assert await db.migrate() == []
        assert await _tables(db, db.dialect) >= TABLES
    finally:
        await db.close()


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_migrations_render_every_placeholder(dialect: str) -> None:
    for migration in load_migrations(dialect):
        assert "{" not in migration.sql.replace("'{}'", ""), migration.name


async def test_every_named_query_is_valid_sql_on_its_database(database_url: str) -> None:
    """Each query is prepared by the real database, so a typo fails here, not in production."""
    db = await open_database(database_url)
    try:
        await db.migrate()
        queries = load_queries(db.dialect)
        assert {"claim_due_deliveries", "insert_message", "insert_delivery"} <= set(queries)
        if db.dialect == "sqlite":
            for query in queries.values():
                params = {name: None for name in query.params}
                await db._reader.run(lambda c, q=query, p=params: c.execute("EXPLAIN " + q.sql, p))  # type: ignore[attr-defined]
        else:
            async with db._pool.acquire() as conn:  # type: ignore[attr-defined]
                for query in queries.values():
                    await conn.prepare(query.sql)
    finally:
        await db.close()


def test_postgres_queries_use_numbered_parameters_and_sqlite_expands_lists() -> None:
    pg = load_queries("postgres")["messages_for_delivery"]
    lite = load_queries("sqlite")["messages_for_delivery"]
    assert "= ANY($1)" in pg.sql and pg.params == ("ids",)
    assert "json_each(:ids)" in lite.sql
    claim_pg = load_queries("postgres")["claim_due_deliveries"].sql
    assert "SKIP LOCKED" in claim_pg
    assert "SKIP LOCKED" not in load_queries("sqlite")["claim_due_deliveries"].sql


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_no_query_takes_a_parameter_from_a_comment(dialect: str) -> None:
    """A comment above a `-- name:` line belongs to the block before it, so `:x` in a comment
    would become a parameter that every caller of that query must pass."""
    for query in load_queries(dialect).values():
        code = "\n".join(line for line in query.sql.splitlines() if not line.strip().startswith("--"))
        if dialect == "sqlite":
            used = {name for name in query.params if f":{name}" in code}
        else:
            used = {name for i, name in enumerate(query.params, 1) if re.search(rf"\${i}(?!\d)", code)}
        assert used == set(query.params), query.name
