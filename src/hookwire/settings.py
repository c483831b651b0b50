"""One Settings object: defaults < TOML file < `HOOKWIRE_*` environment < command-line flags.

Every setting is declared once below with its name, default and help text; the CLI
builds flags from the same declarations and `docs/configuration.md` lists them (a
test keeps the two in step). Nothing below the CLI reads `os.environ`.
"""

from __future__ import annotations

import math
import os
import re
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
        raise ConfigError("delays must not be negative")
    return delays


LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingError(ConfigError):
    """An invalid value of one setting. `load_settings` names it the way the user gave it
    (`port` in the TOML file, `HOOKWIRE_PORT`, `--port`), so the message points at the line to fix."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"HOOKWIRE_{setting.upper()} {problem}")


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
        "processes",
        "HOOKWIRE_PROCESSES",
        0,
        "processes `serve` runs under one supervisor (API and workers apart); 0 = one per CPU, "
        "1 = everything in one process",
        int,
    ),
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
        10.0,
        "how long a claimed delivery stays with a worker that stopped heart-beating (a live worker "
        "extends it every third of it), so a crashed worker's deliveries go out again within it",
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
    # --- HTTP front door (cli/http_server.py)
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
    # ---- operations: alerting, metrics, retention (docs/operations.md)
    Setting(
        "alert_webhook_url",
        "HOOKWIRE_ALERT_WEBHOOK_URL",
        None,
        "Slack or Teams incoming-webhook URL that gets a readable alert when an endpoint is disabled, "
        "a message is exhausted or deliveries fall behind",
    ),
    Setting(
        "alert_email_to", "HOOKWIRE_ALERT_EMAIL_TO", None, "address(es) that get the same alerts by email"
    ),
    Setting("smtp_host", "HOOKWIRE_SMTP_HOST", "localhost", "SMTP server for email alerts"),
    Setting("smtp_port", "HOOKWIRE_SMTP_PORT", 25, "SMTP port for email alerts", int),
    Setting("smtp_from", "HOOKWIRE_SMTP_FROM", "hookwire@localhost", "sender address of email alerts"),
    Setting(
        "alert_exhausted_every",
        "HOOKWIRE_ALERT_EXHAUSTED_EVERY",
        "1h",
        "at most one message.attempt.exhausted alert per endpoint in this time",
    ),
    Setting(
        "alert_queue_age",
        "HOOKWIRE_ALERT_QUEUE_AGE",
        "15m",
        "alert when the oldest due delivery has waited longer than this (0 turns it off)",
    ),
    Setting(
        "metrics_require_token",
        "HOOKWIRE_METRICS_REQUIRE_TOKEN",
        False,
        "/metrics asks for the admin token (Prometheus: bearer_token) instead of answering anyone",
        bool,
    ),
    Setting(
        "metrics_per_endpoint",
        "HOOKWIRE_METRICS_PER_ENDPOINT",
        False,
        "add an endpoint label to delivery metrics (one series per endpoint: only for few endpoints)",
        bool,
    ),
    Setting(
        "metrics_dir",
        "HOOKWIRE_METRICS_DIR",
        None,
        "directory shared by the processes of one machine so /metrics sums them "
        "(prometheus_client multiprocess mode); unset: each process reports its own",
    ),
    Setting(
        "retention",
        "HOOKWIRE_RETENTION",
        "30d",
        "purge message payloads and attempt bodies older than this (0 keeps them forever)",
    ),
    Setting(
        "ingest_retention",
        "HOOKWIRE_INGEST_RETENTION",
        "30d",
        "purge the bodies of received (inbound) requests older than this (0 keeps them forever)",
    ),
    # developer tooling: what serve and worker print
    Setting(
        "log_format",
        "HOOKWIRE_LOG_FORMAT",
        "auto",
        "auto (compact and coloured on a terminal, JSON lines otherwise), text or json",
    ),
    Setting(
        "log_summary_above",
        "HOOKWIRE_LOG_SUMMARY_ABOVE",
        50,
        "above this many lines in a second, print a sum every 5 s instead of one line each",
        int,
    ),
    # --- dashboard and customer portal
    Setting(
        "portal_frame_ancestors",
        "HOOKWIRE_PORTAL_FRAME_ANCESTORS",
        "'self'",
        "origins allowed to embed the customer portal in an iframe (CSP frame-ancestors), space-separated",
    ),
    Setting(
        "portal_display_name",
        "HOOKWIRE_PORTAL_DISPLAY_NAME",
        "Webhooks",
        "title shown in the customer portal",
    ),
    Setting(
        "portal_logo_url", "HOOKWIRE_PORTAL_LOGO_URL", None, "logo image URL shown in the customer portal"
    ),
    Setting(
        "portal_primary_color",
        "HOOKWIRE_PORTAL_PRIMARY_COLOR",
        "#1d4ed8",
        "the portal's accent colour (#rrggbb); pick one with 4.5:1 contrast against white",
    ),
    Setting("portal_theme", "HOOKWIRE_PORTAL_THEME", "auto", "portal colour scheme: light, dark or auto"),
    Setting(
        "ui_max_streams",
        "HOOKWIRE_UI_MAX_STREAMS",
        100,
        "most live-update (SSE) streams the dashboard and portal serve at once; more get 503",
        int,
    ),
    Setting(
        "transformation_time_limit",
        "HOOKWIRE_TRANSFORMATION_TIME_LIMIT",
        0.5,
        "CPU seconds one run of an endpoint's JavaScript transformation may take before it is stopped",
        float,
    ),
    Setting(
        "transformation_memory_limit",
        "HOOKWIRE_TRANSFORMATION_MEMORY_LIMIT",
        32 * 1024 * 1024,
        "bytes of memory one run of an endpoint's JavaScript transformation may use",
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
    processes: int = 0
    worker_concurrency: int = 200
    endpoint_concurrency: int = 50
    circuit_breaker_failures: int = 5
    circuit_breaker_cooldown: float = 5.0
    lease_seconds: float = 10.0
    poll_interval: float = 1.0
    disable_after: str = "5d"
    log_level: str = "info"
    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 4096
    alert_webhook_url: str | None = None
    alert_email_to: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "hookwire@localhost"
    alert_exhausted_every: str = "1h"
    alert_queue_age: str = "15m"
    metrics_require_token: bool = False
    metrics_per_endpoint: bool = False
    metrics_dir: str | None = None
    retention: str = "30d"
    ingest_retention: str = "30d"
    log_format: str = "auto"
    log_summary_above: int = 50
    portal_frame_ancestors: str = "'self'"
    portal_display_name: str = "Webhooks"
    portal_logo_url: str | None = None
    portal_primary_color: str = "#1d4ed8"
    portal_theme: str = "auto"
    ui_max_streams: int = 100
    transformation_time_limit: float = 0.5
    transformation_memory_limit: int = 32 * 1024 * 1024
    retry_delays: tuple[float, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        durations = (
            "disable_after",
            "alert_exhausted_every",
            "alert_queue_age",
            "retention",
            "ingest_retention",
        )
        parsers = [("retry_schedule", parse_retry_schedule), *((name, parse_duration) for name in durations)]
        for name, parse in parsers:
            try:
                parse(getattr(self, name))
            except SettingError:
                raise
            except ConfigError as exc:
                raise SettingError(name, f"is invalid: {exc}") from None
        object.__setattr__(self, "retry_delays", parse_retry_schedule(self.retry_schedule))
        if self.log_level.lower() not in LOG_LEVELS:
            raise SettingError("log_level", f"is not a log level; use one of {', '.join(LOG_LEVELS)}")
        if self.log_format not in ("auto", "text", "json"):
            raise SettingError("log_format", "is not a log format; use auto, text or json")
        if self.log_summary_above < 1:
            raise SettingError("log_summary_above", "must be at least 1")
        if self.worker_concurrency < 1:
            raise SettingError("worker_concurrency", "must be at least 1")
        if not 0 < self.port < 65536:
            raise SettingError("port", "is not a TCP port; use 1-65535")
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
        if self.processes < 0:
            raise ConfigError(f"HOOKWIRE_PROCESSES={self.processes} must be 0 (one per CPU) or more")
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

        if not re.fullmatch(r"#[0-9a-fA-F]{6}", self.portal_primary_color):
            raise ConfigError(f"HOOKWIRE_PORTAL_PRIMARY_COLOR={self.portal_primary_color!r} must be #rrggbb")
        if self.portal_theme not in ("light", "dark", "auto"):
            raise ConfigError(f"HOOKWIRE_PORTAL_THEME={self.portal_theme!r} must be light, dark or auto")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def disable_after_seconds(self) -> float:
        return parse_duration(self.disable_after)

    @property
    def alert_exhausted_every_seconds(self) -> float:
        return parse_duration(self.alert_exhausted_every)

    @property
    def alert_queue_age_seconds(self) -> float:
        return parse_duration(self.alert_queue_age)

    @property
    def retention_seconds(self) -> float:
        return parse_duration(self.retention)

    @property
    def ingest_retention_seconds(self) -> float:
        return parse_duration(self.ingest_retention)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    if raw is None:
        return None
    try:
        if setting.kind is bool:
            return raw if isinstance(raw, bool) else _parse_bool(str(raw))
        if setting.kind in (int, float) and isinstance(raw, bool):
            raise ValueError(raw)  # TOML `port = true` is not 1
        return setting.kind(raw)
    except (TypeError, ValueError, ConfigError):
        kind = {"bool": "boolean (true or false)", "int": "whole number", "float": "number"}
        expected = kind.get(setting.kind.__name__, setting.kind.__name__)
        raise ConfigError(f"{origin} is not a valid {expected}") from None


def _spelled(name: str, raw: Any, source: str, config_file: str | Path | None) -> str:
    """A setting and its value as the user wrote them: TOML key and file, variable, or flag."""
    if source == "toml":
        return f"{name} = {raw!r} (in {config_file})"
    if source == "env":
        return f"HOOKWIRE_{name.upper()}={raw}"
    return f"--{name.replace('_', '-')} {raw}"


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults < TOML file < environment < flags (None means unset)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
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
            values[name], sources[name] = raw, "toml"
    for setting in SETTINGS:
        if setting.env in env:
            values[setting.name], sources[setting.name] = env[setting.env], "env"
    for name, raw in (flags or {}).items():
        if raw is not None:
            values[name], sources[name] = raw, "flag"
    by_name = {s.name: s for s in SETTINGS}

    def spelled(name: str) -> str:
        if name not in sources:
            return f"{name} (default)"
        return _spelled(name, values[name], sources[name], config_file)

    coerced = {name: _coerce(by_name[name], raw, spelled(name)) for name, raw in values.items()}
    try:
        return Settings(**coerced)
    except SettingError as exc:
        raise ConfigError(f"{spelled(exc.setting)} {exc.problem}") from None


assert {s.name for s in SETTINGS} == {f.name for f in fields(Settings)} - {"retry_delays"}
