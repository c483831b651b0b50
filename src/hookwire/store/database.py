"""The Database interface: one set of named queries, two drivers.

`SqliteDatabase` (one writer connection that owns every write
transaction, one reader connection, WAL) and `PostgresDatabase` (an asyncpg pool,
LISTEN/NOTIFY) both implement this. Rows come back as plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple, Protocol

Row = dict[str, Any]
WakeupCallback = Callable[[], None]


class WakeupTurn(NamedTuple):
    """A worker's place among the `workers` of one `hookwire serve`: on PostgreSQL they take
    their wake-ups in turn (store/pg_wakeups.py). `slot` counts from 0."""

    slot: int
    workers: int


ALONE = WakeupTurn(0, 1)
NotifyCallback = Callable[[str], None]  # called with a notification's payload
# The channel the store notifies when deliveries (or routing, or automation runs) may be due.
DELIVERIES_CHANNEL = "hookwire_deliveries"
# One statement of a write(): a named query with its parameters, or a list of parameter sets
# to run it once per set (executemany).
Step = tuple[str, dict[str, Any] | list[dict[str, Any]]]
# The delivery rows (`insert_delivery_if_stored`'s parameters) of a new message, given its
# application's id and that application's enabled endpoints (`get_app_fanout`'s rows). They
# differ only in their endpoint (SQLite inserts them as one statement over the endpoint ids).
DeliveriesFor = Callable[[str, list[Row]], list[Row]]


class StoredMessage(NamedTuple):
    """What `store_message_for_app` did."""

    app_id: str | None  # None: there is no such application, and nothing was written
    stored: bool  # False: its eventId or idempotency key was already taken


class AttemptsRecord(NamedTuple):
    """A worker's record of the attempts it finished since its last one, written atomically
    by `Database.record_attempts`."""

    attempts: list[Row]  # insert_attempt's parameters, one row per attempt made
    finished: list[Row]  # finish_delivery's: each attempt's delivery, ended or due again (fenced)
    succeeded: list[str]  # endpoints that answered well: their failure streak ends
    failing: list[str]  # endpoints that failed and did not also answer well
    gone: list[str]  # endpoints that answered 410 Gone: disabled
    deferred: list[Row]  # defer_delivery's: handed back without an attempt (fenced)
    now: int  # ms
    cutoff: int  # a failing endpoint whose first failure is this old or older is disabled

    def rare_steps(self) -> list[tuple[str, list[Row]]]:
        """The record's writes beyond the usual three (attempts, their deliveries' ends, the
        endpoints that answered well), which a batch that only succeeded does not have."""
        steps: list[tuple[str, list[Row]]] = [
            ("mark_endpoint_failure", [{"id": e, "now": self.now} for e in self.failing]),
            (
                "disable_long_failing_endpoint",
                [{"id": e, "now": self.now, "cutoff": self.cutoff} for e in self.failing],
            ),
            ("disable_endpoint", [{"id": e, "now": self.now} for e in self.gone]),
            ("defer_delivery", self.deferred),
        ]
        return [(name, rows) for name, rows in steps if rows]

    def steps(self) -> list[Step]:
        """The whole record as `Database.write` steps."""
        usual: list[tuple[str, list[Row]]] = [
            ("insert_attempt", self.attempts),
            ("finish_delivery", self.finished),
            ("mark_endpoint_success", [{"id": e} for e in self.succeeded]),
        ]
        steps: list[Step] = [(name, rows) for name, rows in usual if rows]
        steps.extend(self.rare_steps())
        return steps


class ClaimedBatch(NamedTuple):
    """What `claim_deliveries` claimed, with what the worker needs to send it."""

    deliveries: list[Row]  # claim_due_deliveries' columns, one row per claimed delivery
    messages: list[Row]  # their messages still stored, once each (messages_for_delivery's columns)
    endpoint_versions: dict[str, int]  # their endpoints still stored: id -> version


def app_fanout(rows: list[Row]) -> tuple[str, list[Row]] | None:
    """The application and its enabled endpoints, from `get_app_fanout`'s rows (None: no such
    application). An id and another application's uid could both match: the first one wins."""
    if not rows:
        return None
    app_id = rows[0]["app_id"]
    return app_id, [r for r in rows if r["app_id"] == app_id and r["id"] is not None]


class Executor(Protocol):
    """What a transaction (or the database outside one) can run."""

    async def fetch(self, name: str, /, **params: Any) -> list[Row]: ...

    async def fetchrow(self, name: str, /, **params: Any) -> Row | None: ...

    async def execute(self, name: str, /, **params: Any) -> int: ...

    async def executemany(self, name: str, /, rows: Sequence[dict[str, Any]]) -> None: ...

    async def notify_deliveries(self) -> None:
        """Wake delivery workers once this work is committed (NOTIFY on PostgreSQL)."""
        ...


class Database(Executor, Protocol):
    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Executor]: ...

    async def write(self, steps: Sequence[Step], *, notify: bool = False) -> list[int]:
        """Apply the steps atomically and return each one's row count (on PostgreSQL, a
        many-row step reports the number of parameter sets: asyncpg counts no rows there).

        The fast path for writes that need no reads inside the transaction: SQLite
        commits concurrent calls together, PostgreSQL runs them on a pooled connection.
        `notify` wakes delivery workers after the commit.  A step that breaks a constraint (a foreign
        key to a deleted row, a duplicate) raises `ConstraintViolation` on both databases.
        """
        ...

    async def claim_deliveries(self, **params: Any) -> ClaimedBatch:
        """Claim due deliveries (`claim_due_deliveries`' parameters), committed, and read their
        messages and their endpoints' versions in the same round: SQLite in the claim's
        transaction, on the event loop when its lock is free (no thread hop for the reads);
        PostgreSQL in one statement (its `claim_due_deliveries` joins them on). A claim used to
        cost three round trips, one write and two reads, for every batch a worker took."""
        ...

    async def record_attempts(self, record: AttemptsRecord) -> None:
        """Write a worker's record in one transaction. The usual record (attempts, their
        deliveries' ends, endpoints that answered well) is most of a worker's writes: SQLite
        commits it with concurrent writes; PostgreSQL runs it as one statement
        (`record_attempts` in queries.sql) instead of a transaction of three many-row steps,
        about half the CPU per attempt in the worker and in PostgreSQL alike."""
        ...

    async def store_message(self, message: Row, deliveries: list[Row]) -> bool:
        """Insert a message (`insert_message`'s parameters) and its deliveries
        (`insert_delivery_if_stored`'s), committed, waking the workers if any delivery was queued.
        False when its eventId or idempotency key is already taken: then nothing is written.

        Concurrent calls share one commit: SQLite's group commit; on PostgreSQL one statement
        for all of them (pg_message_batches.py). A constraint violation (the application or an
        endpoint deleted meanwhile) raises `ConstraintViolation` for that call only."""
        ...

    async def store_message_for_app(
        self, app_key: str, message: Row, deliveries_for: DeliveriesFor
    ) -> StoredMessage:
        """`store_message` for the application `app_key` (its id or uid): `message` without
        its `app_id`, and `deliveries_for(app_id, endpoints)` names the deliveries once the
        application's endpoints are read. SQLite reads them inside the group commit's
        transaction, on the writer thread, so a message create costs one thread hop instead of
        two; PostgreSQL reads them first (identical concurrent reads shared) and then joins the
        batched statement."""
        ...

    async def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        ...

    async def listen_deliveries(self, callback: WakeupCallback, *, turn: WakeupTurn = ALONE) -> None:
        """Call `callback` whenever new deliveries may be due (any process on PostgreSQL);
        `turn` paces PostgreSQL's wake-ups among the workers of one `hookwire serve`."""
        ...

    async def listen(self, channel: str, callback: NotifyCallback) -> None:
        """Call `callback(payload)` for every `notify(channel, payload)`: from any process on
        PostgreSQL (LISTEN, reconnecting by itself), in-process on SQLite."""
        ...

    async def notify(self, channel: str, payload: str = "") -> None:
        """Send `payload` to every listener of `channel` (PostgreSQL: NOTIFY, at most ~8 KB)."""
        ...

    async def close(self) -> None: ...
