"""Cross-process transports for the event channel (`hookwire.events`).

A link registers itself as a forwarder of the local channel (every local `publish` goes out)
and hands every event from another process to the local channel's `deliver`, so publishers and
readers keep the in-process interface and never care where an event came from.

- PostgreSQL: NOTIFY/LISTEN on the `hookwire_events` channel (`postgres_notify`), which also
  reaches processes on other machines, through the database's own reconnecting LISTEN
  connection (`store/pg_listener.py`). Worker wake-ups keep their own channel
  (`hookwire_deliveries`), sent by the committing transaction itself.
- SQLite: the supervisor's Unix socket (`socket_hub`); every child of one `hookwire serve`
  connects, and a line one child writes is fanned out to the others. A commit that queued
  deliveries is announced as `delivery.due`, which wakes the workers of the other processes.

Either link sends an event only to processes that have a reader for its topic (interest.py).
"""

from __future__ import annotations

from typing import Protocol

from hookwire.runtime import Runtime


class EventLink(Protocol):
    def sends(self, topic: str) -> bool:
        """Whether an event of `topic` published here now goes to another process (one that
        announced a reader for it; see interest.py)."""
        ...

    async def close(self) -> None: ...


async def open_event_link(rt: Runtime, hub_path: str | None) -> EventLink | None:
    """The link this process needs: PostgreSQL always has one; SQLite only under a supervisor
    (one process alone needs none)."""
    if not rt.settings.is_sqlite:
        from hookwire.event_links.postgres_notify import PostgresEventLink

        return await PostgresEventLink.open(rt.events, rt.db)
    if hub_path is None:
        return None
    from hookwire.event_links.socket_hub import SocketEventLink
    from hookwire.store.sqlite import SqliteDatabase

    assert isinstance(rt.db, SqliteDatabase)
    return await SocketEventLink.open(rt.events, rt.db, hub_path)
