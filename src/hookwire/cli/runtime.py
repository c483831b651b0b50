"""Opening a Runtime from Settings: database, secret key, admin token, migrations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from hookwire.activity import Activity
from hookwire.delivery.sender import Sender
from hookwire.delivery.ssrf import make_connector
from hookwire.errors import ConfigError
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox, key_file_for, load_or_create_key_file
from hookwire.settings import Settings
from hookwire.store import Database, open_database

_TOKEN_KEY = "admin_token"


@dataclass
class Opened:
    rt: Runtime
    new_token: str | None  # set when the admin token was generated on this start


def _secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    if settings.is_sqlite:
        return load_or_create_key_file(key_file_for(settings.database_url.removeprefix("sqlite:///")))
    raise ConfigError(
        "HOOKWIRE_SECRET_KEY is required with PostgreSQL: every process must use the same key. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )


async def _admin_token(db: Database, box: SecretBox, settings: Settings) -> tuple[str, str | None]:
    """The configured token, or the stored one, or a new one (returned as new on first start)."""
    if settings.api_token:
        return settings.api_token, None
    row = await db.fetchrow("get_meta", key=_TOKEN_KEY)
    if row is not None:
        return box.open(row["value"]), None
    token = "hw_" + secrets.token_urlsafe(32)
    await db.execute("set_meta", key=_TOKEN_KEY, value=box.seal(token))
    row = await db.fetchrow("get_meta", key=_TOKEN_KEY)  # another process may have won the race
    assert row is not None
    stored = box.open(row["value"])
    return stored, token if stored == token else None


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def check_database_location(settings: Settings) -> None:
    """A SQLite file's folder must exist and be a folder: say so instead of a driver traceback."""
    if not settings.is_sqlite:
        return
    folder = _sqlite_path(settings).absolute().parent
    if not folder.exists():
        raise ConfigError(
            f"HOOKWIRE_DATABASE_URL={settings.database_url}: the folder {folder} does not exist; "
            "create it, or point --database-url / HOOKWIRE_DATABASE_URL somewhere else"
        )
    if not folder.is_dir():
        raise ConfigError(
            f"HOOKWIRE_DATABASE_URL={settings.database_url}: {folder} is a file, not a folder; "
            "point --database-url / HOOKWIRE_DATABASE_URL at a path inside a folder"
        )


def require_existing_database(settings: Settings) -> None:
    """Commands that read an existing server's data (`token`) refuse to start a new, empty one."""
    check_database_location(settings)
    if settings.is_sqlite and not _sqlite_path(settings).is_file():
        raise ConfigError(
            f"no hookwire database at {_sqlite_path(settings).absolute()}; run this in the folder "
            "where `hookwire serve` ran, or pass --database-url / set HOOKWIRE_DATABASE_URL to its database"
        )


async def open_runtime(settings: Settings, *, migrate: bool = True) -> Opened:
    box = SecretBox(_secret_key(settings))
    db = await open_database(settings.database_url)
    try:
        if migrate:
            await db.migrate()
        token, new_token = await _admin_token(db, box, settings)
    except BaseException:
        await db.close()
        raise
    rt = Runtime(
        settings.with_overrides(api_token=token), db, box, activity=Activity(settings.log_summary_above)
    )
    return Opened(rt, new_token)


def open_sender(settings: Settings) -> tuple[aiohttp.ClientSession, Sender]:
    """One HTTP session for a worker process: SSRF-guarded, one connection pool per origin.

    No cookie jar: a cookie one endpoint sets must never ride along to a later webhook (and
    skipping the jar saves work on every attempt)."""
    connector = make_connector(allow_private=settings.allow_private_targets, limit=0)
    session = aiohttp.ClientSession(
        connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
    )
    return session, Sender(session, settings.request_timeout)
