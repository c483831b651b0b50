"""The status column of every table, one `IntEnum` per table.

Python names a status (`MessageStatus.SENDING`), and so does the SQL: `queries*.sql` writes
`{MessageStatus.SENDING}`, which `store/queries.py` renders from these classes when it loads
the queries. There is no other place a status number is written (the migrations, applied
once, are history and keep the numbers they were written with).
"""

from __future__ import annotations

from enum import IntEnum


class MessageStatus(IntEnum):
    """`deliveries` and `attempts` (one message to one endpoint, and each try of it): Svix's
    MessageStatus, plus `CANCELED` for a delivery its endpoint's transformation chose not to send.
    A `SENDING` delivery is leased: its `next_attempt_at` holds the lease expiry."""

    SUCCESS = 0
    PENDING = 1
    FAIL = 2
    SENDING = 3
    CANCELED = 4


class RunStatus(IntEnum):
    """`automation_runs`. A `RUNNING` run is leased, like a sending delivery."""

    SUCCESS = 0
    PENDING = 1
    FAIL = 2
    RUNNING = 3


class TaskStatus(IntEnum):
    """`background_tasks` (replay, recover, stats, ...), as Svix's BackgroundTaskStatus."""

    RUNNING = 0
    FINISHED = 1
    FAILED = 2


SQL_ENUMS: dict[str, type[IntEnum]] = {e.__name__: e for e in (MessageStatus, RunStatus, TaskStatus)}
