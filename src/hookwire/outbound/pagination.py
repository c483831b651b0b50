"""Cursor pagination as Svix does it: `limit`, `iterator`, and `done` in the answer.

The iterator is the key of the last item returned; the next page starts after it
(or before it, for newest-first lists). Fetching one extra row tells us `done`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hookwire.errors import ValidationFailed
from hookwire.outbound.models import ListResponse

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
HIGHEST_KEY = "~"  # sorts after every ID and name character we allow


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed(
            [
                {
                    "loc": ["query", "limit"],
                    "msg": f"limit must be between 1 and {MAX_LIMIT}",
                    "type": "value_error",
                }
            ]
        )
    return limit


def page(rows: Sequence[R], limit: int, key: str, convert: Callable[[R], T]) -> ListResponse:
    """The ListResponse for `rows` (dicts or typed records) fetched with LIMIT limit + 1."""
    items = rows[:limit]
    done = len(rows) <= limit
    iterator = None
    if items:
        last: Any = items[-1]
        iterator = str(last[key] if isinstance(last, dict) else getattr(last, key))
    return ListResponse(data=[convert(r) for r in items], iterator=iterator, done=done)
