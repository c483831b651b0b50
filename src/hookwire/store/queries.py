"""Named SQL: every query hookwire runs lives in `queries*.sql` as a `-- name: x --` block.

Queries are written once, in portable SQL with `:param` placeholders. A block named
`-- name: x [postgres] --` or `[sqlite]` overrides `x` for one dialect where the two
really differ (claiming with SKIP LOCKED, NOTIFY). Rendering per dialect:

* PostgreSQL: `:param` becomes `$n` (asyncpg's style);
* SQLite: `= ANY(:ids)` becomes `IN (SELECT value FROM json_each(:ids))`, and list
  parameters are passed as JSON, so one query text serves list filters on both;
* both: a named status, `{MessageStatus.SENDING}`, becomes its number (`store/statuses.py`),
  and a name that does not exist fails the load, so a typo cannot reach a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from hookwire.store.statuses import SQL_ENUMS

_BLOCK = re.compile(r"^--\s*name:\s*([a-z_0-9]+)(?:\s*\[(sqlite|postgres)\])?\s*--\s*$", re.M)
_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_][a-zA-Z0-9_]*)")
_ANY = re.compile(r"=\s*ANY\(\s*:([a-zA-Z_][a-zA-Z0-9_]*)\s*\)")
_STATUS = re.compile(r"\{([A-Z][A-Za-z]*)\.([A-Z_]+)\}")


def _status(match: re.Match[str]) -> str:
    enum, member = match.group(1), match.group(2)
    if enum not in SQL_ENUMS or member not in SQL_ENUMS[enum].__members__:
        raise ValueError(f"queries*.sql names an unknown status {{{enum}.{member}}}")
    return str(SQL_ENUMS[enum][member].value)


@dataclass(frozen=True)
class Query:
    """One rendered query: its text for the driver and the parameter names in order."""

    name: str
    sql: str
    params: tuple[str, ...]


def _render(name: str, sql: str, dialect: str) -> Query:
    sql = _STATUS.sub(_status, sql)
    if dialect == "sqlite":
        sql = _ANY.sub(r"IN (SELECT value FROM json_each(:\1))", sql)
        return Query(name, sql, tuple(dict.fromkeys(_PARAM.findall(sql))))
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return Query(name, _PARAM.sub(number, sql), tuple(order))


def load_queries(dialect: str) -> dict[str, Query]:
    """All named queries from queries.sql and queries_*.sql (one file per domain), for `dialect`."""
    package = resources.files("hookwire.store")
    files = sorted(
        entry.name
        for entry in package.iterdir()
        if entry.name.startswith("queries") and entry.name.endswith(".sql")
    )
    text = "\n".join(package.joinpath(name).read_text() for name in files)
    matches = list(_BLOCK.finditer(text))
    generic: dict[str, str] = {}
    override: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip().rstrip(";")
        name, only = match.group(1), match.group(2)
        if only is None:
            generic[name] = body
        elif only == dialect:
            override[name] = body
    merged = {**generic, **override}
    return {name: _render(name, sql, dialect) for name, sql in merged.items()}
