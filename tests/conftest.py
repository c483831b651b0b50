"""Shared fixtures: real databases (SQLite file, PostgreSQL), real HTTP receivers, real servers.

PostgreSQL tests use `HOOKWIRE_TEST_DATABASE_URL` (default
postgresql://postgres@127.0.0.1:5432/test). Each test gets its own database cloned
from a migrated template, so tests stay isolated and fast. Without PostgreSQL
those tests skip and say why; with CI=true they fail instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from hookwire.settings import Settings
from hookwire.store import open_database
from tests.support.postgres import PostgresTemplate, postgres_unavailable_reason
from tests.support.receiver import Receiver

TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"
DATABASES = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[PostgresTemplate | None]:
    reason = postgres_unavailable_reason()
    if reason is not None:
        yield None
        return
    template = PostgresTemplate.create()
    yield template
    template.drop()


def _require_postgres(template: PostgresTemplate | None) -> PostgresTemplate:
    if template is None:
        reason = postgres_unavailable_reason()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(f"PostgreSQL not available: {reason}")
    return template


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: object, pg_template: PostgresTemplate | None
) -> Iterator[str]:
    """A fresh, migrated database of each kind (the test runs once per database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hookwire.db"
        return
    template = _require_postgres(pg_template)
    name = f"hw_test_{uuid.uuid4().hex[:12]}"
    url = template.clone(name)
    yield url
    template.drop_clone(name)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "allow_private_targets": True,
        "secret_key": TEST_SECRET_KEY,
        "api_token": "test-token",
        "retry_schedule": "100ms,200ms",
        "poll_interval": 0.2,
        "lease_seconds": 5.0,
        "request_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    settings = make_settings(database_url)
    db = await open_database(database_url)
    await db.migrate()
    try:
        yield Runtime(settings, db, SecretBox(TEST_SECRET_KEY))
    finally:
        await db.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    with Receiver() as server:
        yield server
