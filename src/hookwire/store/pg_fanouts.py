"""The endpoints an API process last read per application, checked by the write that uses them.

Why: a `POST …/msg` names its deliveries from its application's enabled endpoints. On
PostgreSQL that read was a round trip of its own before each batched insert (shared between
identical concurrent reads, still about one read per batch): measured end to end with 2 API +
2 worker processes, leaving it out cut the API processes' CPU per message by a tenth and
PostgreSQL's by as much.

How: what `get_app_fanout` returned is kept per application key (its id or uid), with a token
that names the application and each enabled endpoint's id and version. A message stored from
kept endpoints carries the token into `insert_messages_batch`, which computes it again in the
statement's own snapshot and stores nothing for a message whose token no longer matches. Every
change that can change where a message goes adds or removes an enabled endpoint or bumps its
version (created, deleted, disabled, enabled, filters or channels changed), and deleting the
application or giving its uid away makes the application part fail, so a create never goes out
to yesterday's endpoints: the caller reads again and stores with what it read, as without the
cache. The statement's snapshot starts after the request arrived, so a change committed before
a `POST` (in any process) is always seen by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookwire.store.database import Row, app_fanout

_KEEP = 1024  # applications kept per process; the oldest read goes first


@dataclass(frozen=True, slots=True)
class Fanout:
    app_id: str
    endpoints: list[Row]
    token: str


def fanout_token(app_id: str, endpoints: list[Row]) -> str:
    """`insert_messages_batch` builds the same text: `app:ep.version,ep.version` sorted by
    endpoint id (ids are ASCII, so Python's order is the database's "C" collation)."""
    parts = [f"{e['id']}.{e['version']}" for e in sorted(endpoints, key=lambda e: str(e["id"]))]
    return f"{app_id}:{','.join(parts)}" if parts else app_id


class Fanouts:
    def __init__(self) -> None:
        self._kept: dict[str, Fanout] = {}

    def get(self, app_key: str) -> Fanout | None:
        return self._kept.get(app_key)

    def keep(self, app_key: str, rows: list[Row]) -> Fanout | None:
        """The application and endpoints of `get_app_fanout`'s rows, kept for next time
        (None: no such application, nothing kept)."""
        found = app_fanout(rows)
        if found is None:
            self._kept.pop(app_key, None)
            return None
        app_id, endpoints = found
        fanout = Fanout(app_id, endpoints, fanout_token(app_id, endpoints))
        self._kept.pop(app_key, None)
        if len(self._kept) >= _KEEP:
            del self._kept[next(iter(self._kept))]
        self._kept[app_key] = fanout
        return fanout

    def forget(self, app_key: str) -> None:
        self._kept.pop(app_key, None)
