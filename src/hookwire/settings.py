"""One Settings object: defaults < TOML file < `HOOKWIRE_*` environment < command-line flags.

Every setting is declared once below with its name, default and help text; the CLI
builds flags from the same declarations and `docs/configuration.md` lists them (a
test keeps the two in step). Nothing below the CLI reads `os.environ`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hookwire.errors import ConfigError
from hookwire.redact import redact_url

DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in `text` such as `500ms`, `5s`, `30m`, `2h`, `1d` or a bare number of seconds."""
    value = text.strip().lower()
    for unit in ("ms", "s", "m", "h", "d"):
        if value.endswith(unit) and value[: -len(unit)].replace(".", "", 1).isdigit():
            return float(value[: -len(unit)]) * _UNITS[unit]
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{text!r} is not a duration; use forms like 5s, 5m, 2h") from None


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """The delays after the immediate first attempt, e.g. `5s,5m,30m` -> (5, 300, 1800)."""
    parts = [p for p in text.split(",") if p.strip()]
    delays = tuple(parse_duration(p) for p in parts)
    if any(d < 0 for d in delays):
        raise ConfigError("HOOKWIRE_RETRY_SCHEDULE: delays must not be negative")
    return delays


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{text!r} is not a boolean; use true or false")


@dataclass(frozen=True)
class Setting:
    """The declaration of one setting: where it comes from and what it means."""

    name: str
    env: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "HOOKWIRE_DATABASE_URL",
        "sqlite:///./hookwire.db",
        "sqlite:///PATH or postgresql://user@host:port/db",
    ),
    Setting("host", "HOOKWIRE_HOST", "127.0.0.1", "address `serve` listens on"),
    Setting("port", "HOOKWIRE_PORT", 8040, "port `serve` listens on", int),
    Setting(
        "api_token",
        "HOOKWIRE_API_TOKEN",
        None,
        "admin bearer token; generated on first start and printed once when unset",
    ),
    Setting(
        "public_url",
        "HOOKWIRE_PUBLIC_URL",
        None,
        "base of ingest URLs and portal links (default http://HOST:PORT)",
    ),
    Setting(
        "allow_private_targets",
        "HOOKWIRE_ALLOW_PRIVATE_TARGETS",
        False,
        "allow delivery to loopback/private/link-local addresses (local development, tests)",
        bool,
    ),
    Setting(
        "retry_schedule",
        "HOOKWIRE_RETRY_SCHEDULE",
        DEFAULT_RETRY_SCHEDULE,
        "delays after the immediate first attempt, comma-separated (5s, 5m, 2h, ...)",
    ),
    Setting(
        "secret_key",
        "HOOKWIRE_SECRET_KEY",
        None,
        "key that encrypts endpoint secrets at rest; SQLite: generated beside the database file; "
        "PostgreSQL: required, the same for every process",
    ),
    Setting(
        "request_timeout",
        "HOOKWIRE_REQUEST_TIMEOUT",
        15.0,
        "seconds a delivery attempt may take in total",
        float,
    ),
    Setting(
        "max_payload_bytes",
        "HOOKWIRE_MAX_PAYLOAD_BYTES",
        1024 * 1024,
        "largest request body the API accepts (413 above it)",
        int,
    ),
    Setting("workers", "HOOKWIRE_WORKERS", True, "run delivery workers inside `serve`", bool),
    Setting(
        "worker_concurrency",
        "HOOKWIRE_WORKER_CONCURRENCY",
        200,
        "deliveries one worker process sends at once",
        int,
    ),
    Setting(
        "endpoint_concurrency",
        "HOOKWIRE_ENDPOINT_CONCURRENCY",
        50,
        "most attempts in flight to one endpoint per worker process",
        int,
    ),
    Setting(
        "circuit_breaker_failures",
        "HOOKWIRE_CIRCUIT_BREAKER_FAILURES",
        5,
        "consecutive failed attempts that open an endpoint's circuit; 0 turns the breaker off",
        int,
    ),
    Setting(
        "circuit_breaker_cooldown",
        "HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN",
        5.0,
        "seconds an open circuit waits before one probe; doubles after each failed probe, up to 300",
        float,
    ),
    Setting(
        "lease_seconds",
        "HOOKWIRE_LEASE_SECONDS",
        60.0,
        "how long a claimed delivery stays with its worker before another may take it",
        float,
    ),
    Setting(
        "poll_interval",
        "HOOKWIRE_POLL_INTERVAL",
        1.0,
        "safety-net poll for due deliveries when no wake-up arrives (seconds)",
        float,
    ),
    Setting(
        "disable_after",
        "HOOKWIRE_DISABLE_AFTER",
        "5d",
        "disable an endpoint that has failed without a success for this long",
    ),
    Setting("log_level", "HOOKWIRE_LOG_LEVEL", "info", "debug, info, warning or error"),
    Setting(
        "max_header_bytes",
        "HOOKWIRE_MAX_HEADER_BYTES",
        64 * 1024,
        "largest request line + headers the HTTP server reads (431 and close above it)",
        int,
    ),
    Setting(
        "header_timeout",
        "HOOKWIRE_HEADER_TIMEOUT",
        10.0,
        "seconds a client has to send a complete request head before the connection is closed",
        float,
    ),
    Setting(
        "keep_alive_timeout",
        "HOOKWIRE_KEEP_ALIVE_TIMEOUT",
        5.0,
        "seconds an idle keep-alive connection stays open",
        float,
    ),
    Setting(
        "max_connections",
        "HOOKWIRE_MAX_CONNECTIONS",
        4096,
        "open HTTP connections per process; past it new connections get a 503 and are closed",
        int,
    ),
)


@dataclass(frozen=True)
class Settings:
    """Validated configuration, built once at start and passed down."""

    database_url: str = "sqlite:///./hookwire.db"
    host: str = "127.0.0.1"
    port: int = 8040
    api_token: str | None = None
    public_url: str | None = None
    allow_private_targets: bool = False
    retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    secret_key: str | None = None
    request_timeout: float = 15.0
    max_payload_bytes: int = 1024 * 1024
    workers: bool = True
    worker_concurrency: int = 200
    endpoint_concurrency: int = 50
    circuit_breaker_failures: int = 5
    circuit_breaker_cooldown: float = 5.0
    lease_seconds: float = 60.0
    poll_interval: float = 1.0
    disable_after: str = "5d"
    log_level: str = "info"
    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 4096
    retry_delays: tuple[float, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "retry_delays", parse_retry_schedule(self.retry_schedule))
        parse_duration(self.disable_after)
        if not (self.database_url.startswith("sqlite:///") or self.database_url.startswith("postgres")):
            raise ConfigError(
                f"HOOKWIRE_DATABASE_URL={redact_url(self.database_url)!r} is not supported; "
                "use sqlite:///PATH or postgresql://user@host:port/db"
            )
        if self.max_header_bytes < 1024:
            raise ConfigError(f"HOOKWIRE_MAX_HEADER_BYTES={self.max_header_bytes} must be at least 1024")
        if self.header_timeout <= 0 or self.keep_alive_timeout <= 0:
            raise ConfigError("HOOKWIRE_HEADER_TIMEOUT and HOOKWIRE_KEEP_ALIVE_TIMEOUT must be positive")
        if self.max_connections < 1:
            raise ConfigError(f"HOOKWIRE_MAX_CONNECTIONS={self.max_connections} must be at least 1")
        if self.request_timeout <= 0:
            raise ConfigError("HOOKWIRE_REQUEST_TIMEOUT must be positive")
        if self.endpoint_concurrency < 1:
            raise ConfigError(f"HOOKWIRE_ENDPOINT_CONCURRENCY={self.endpoint_concurrency} must be at least 1")
        if self.circuit_breaker_failures < 0:
            raise ConfigError(
                f"HOOKWIRE_CIRCUIT_BREAKER_FAILURES={self.circuit_breaker_failures} must not be "
                "negative; use 0 to turn the circuit breaker off"
            )
        if not 0 <= self.circuit_breaker_cooldown < math.inf:  # also refuses nan
            raise ConfigError(
                f"HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN={self.circuit_breaker_cooldown} must be a "
                "non-negative number of seconds"
            )

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def disable_after_seconds(self) -> float:
        return parse_duration(self.disable_after)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)


def _coerce(setting: Setting, raw: Any) -> Any:
    if raw is None:
        return None
    if setting.kind is bool:
        return raw if isinstance(raw, bool) else _parse_bool(str(raw))
    try:
        return setting.kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{setting.env}={raw!r} is not a valid {setting.kind.__name__}") from None


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults < TOML file < environment < flags (None means unset)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(Path(config_file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
        section = data.get("hookwire", data)
        declared = {s.name for s in SETTINGS}
        for key, raw in section.items():
            if isinstance(raw, dict | list):
                continue  # tables and arrays of tables belong to other features (automations, ...)
            name = key.replace("-", "_")
            if name not in declared:
                raise ConfigError(f"unknown setting {key!r} in {config_file}")
            values[name] = raw
    for setting in SETTINGS:
        if setting.env in env:
            values[setting.name] = env[setting.env]
    for name, raw in (flags or {}).items():
        if raw is not None:
            values[name] = raw
    by_name = {s.name: s for s in SETTINGS}
    coerced = {name: _coerce(by_name[name], raw) for name, raw in values.items()}
    return Settings(**coerced)


assert {s.name for s in SETTINGS} == {f.name for f in fields(Settings)} - {"retry_delays"}
