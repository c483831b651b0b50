"""Automations as the operator declares them: `[[automations]]` tables in the server's TOML file.

Everything is checked when the file is loaded, so a mistake stops `hookwire serve` at
start with a message naming the automation and the field, never at the first event.
The command is an argv list: hookwire never runs a shell, so the payload is never
interpolated into one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jmespath.exceptions import JMESPathError

from hookwire.errors import ConfigError
from hookwire.ingest.jmes import compile_expression
from hookwire.settings import parse_duration, parse_retry_schedule

DEFAULT_TIMEOUT = "60s"
RESERVED_ENV_PREFIX = "HOOKWIRE_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELDS = frozenset(
    {
        "name",
        "source",
        "event_types",
        "filter",
        "transformation",
        "command",
        "timeout",
        "concurrency",
        "serialize_by",
        "retry_schedule",
        "working_dir",
        "env",
    }
)


@dataclass(frozen=True)
class Automation:
    """One declared automation, validated. `retry_delays` None: the server's retry schedule."""

    name: str
    source: str
    command: tuple[str, ...]
    working_dir: Path
    timeout: float = 60.0
    concurrency: int = 1
    event_types: tuple[str, ...] | None = None
    filter: str | None = None
    transformation: str | None = None
    serialize_by: str | None = None
    retry_delays: tuple[float, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)


class _Fields:
    """Reads one automation's table, raising ConfigError that names the automation and field."""

    def __init__(self, where: str, table: dict[str, Any]) -> None:
        self.where = where
        self.table = table

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: field {name!r} {problem}")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.table.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be a non-empty string, not {value!r}")
        return value

    def strings(self, name: str) -> tuple[str, ...] | None:
        value = self.table.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"must be a list of non-empty strings, not {value!r}")
        return tuple(value)

    def expression(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None:
            try:
                compile_expression(value)
            except JMESPathError as exc:
                raise self.fail(name, f"is not a valid JMESPath expression: {exc}") from None
        return value


def _command(fields: _Fields, working_dir: Path) -> tuple[str, ...]:
    value = fields.table.get("command")
    if value is None:
        raise fields.fail("command", "is required: a list such as ['./deploy.sh', '--fast']")
    if isinstance(value, str):
        raise fields.fail(
            "command",
            "must be a list of arguments (argv), not a string: hookwire never runs a shell; "
            f"write e.g. {value.split()!r}",
        )
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise fields.fail("command", f"must be a non-empty list of strings, not {value!r}")
    if not value[0] or any("\x00" in v for v in value):
        raise fields.fail("command", "must name a program and hold no NUL characters")
    program = value[0]
    if os.sep in program:  # a path: resolved against working_dir and checked now
        path = (working_dir / program).resolve()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise fields.fail("command", f"{program!r} is not an executable file (looked at {path})")
        program = str(path)
    return (program, *value[1:])


def _timeout(fields: _Fields) -> float:
    raw = fields.table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise fields.fail("timeout", f"must be a duration such as '60s' or '10m', not {raw!r}")
    try:
        seconds = parse_duration(str(raw))
    except ConfigError:
        raise fields.fail("timeout", f"must be a duration such as '60s' or '10m', not {raw!r}") from None
    if seconds <= 0:
        raise fields.fail("timeout", "must be positive")
    return seconds


def _concurrency(fields: _Fields) -> int:
    value = fields.table.get("concurrency", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fields.fail("concurrency", f"must be a whole number of at least 1, not {value!r}")
    return value


def _retry_delays(fields: _Fields) -> tuple[float, ...] | None:
    value = fields.table.get("retry_schedule")
    if value is None:
        return None
    if not isinstance(value, str):
        raise fields.fail("retry_schedule", f"must be a string such as '5s,1m,10m', not {value!r}")
    try:
        return parse_retry_schedule(value)
    except ConfigError as exc:
        raise fields.fail("retry_schedule", f"is invalid ({exc})") from None


def _working_dir(fields: _Fields, base: Path) -> Path:
    value = fields.text("working_dir")
    path = (base / value).resolve() if value is not None else base.resolve()
    if not path.is_dir():
        raise fields.fail("working_dir", f"{value!r} is not a directory (looked at {path})")
    return path


def _env(fields: _Fields) -> dict[str, str]:
    value = fields.table.get("env", {})
    if not isinstance(value, dict):
        raise fields.fail("env", f"must be a table of NAME = 'value', not {value!r}")
    for key, item in value.items():
        if not _ENV_NAME.match(key):
            raise fields.fail("env", f"has an invalid variable name {key!r}")
        if key.upper().startswith(RESERVED_ENV_PREFIX):
            raise fields.fail("env", f"may not set {key!r}: HOOKWIRE_* variables are set by hookwire")
        if not isinstance(item, str) or "\x00" in item:
            raise fields.fail("env", f"value of {key!r} must be a string, not {item!r}")
    return dict(value)


def parse_automation(table: Any, index: int, base: Path) -> Automation:
    """One `[[automations]]` table, validated; relative paths are taken from `base`."""
    if not isinstance(table, dict):
        raise ConfigError(f"automations[{index}] must be a table, not {table!r}")
    table = {str(k).replace("-", "_"): v for k, v in table.items()}
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"automations[{index}]: field 'name' is required: 1-64 letters, digits, '-', '_' or '.', "
            f"not {name!r}"
        )
    fields = _Fields(f"automation {name!r}", table)
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"automation {name!r}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(_FIELDS))}"
        )
    working_dir = _working_dir(fields, base)
    return Automation(
        name=name,
        source=fields.text("source", required=True) or "",
        command=_command(fields, working_dir),
        working_dir=working_dir,
        timeout=_timeout(fields),
        concurrency=_concurrency(fields),
        event_types=fields.strings("event_types"),
        filter=fields.expression("filter"),
        transformation=fields.expression("transformation"),
        serialize_by=fields.expression("serialize_by"),
        retry_delays=_retry_delays(fields),
        env=_env(fields),
    )


def parse_automations(data: Mapping[str, Any], base: Path) -> tuple[Automation, ...]:
    """The automations of a parsed TOML document (top level, or inside `[hookwire]`)."""
    section = data.get("hookwire")
    raw = data.get("automations")
    if raw is None and isinstance(section, dict):
        raw = section.get("automations")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("'automations' must be an array of tables: write each one as [[automations]]")
    automations = tuple(parse_automation(table, i, base) for i, table in enumerate(raw))
    seen: set[str] = set()
    for automation in automations:
        if automation.name in seen:
            raise ConfigError(f"automation {automation.name!r} is declared twice; names must be unique")
        seen.add(automation.name)
    return automations


def load_automations(path: str | Path) -> tuple[Automation, ...]:
    """Every automation declared in the TOML file at `path`, validated (ConfigError otherwise)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        return parse_automations(data, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
