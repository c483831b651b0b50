"""Query parameters shared by the list routes, parsed the way the Svix SDK sends them."""

from __future__ import annotations

from typing import Literal

Order = Literal["ascending", "descending"]


def split_list(value: str | None) -> list[str] | None:
    """The SDK sends lists comma-joined (`event_types=a,b`); repeated keys work too."""
    if not value:
        return None
    return [part for part in value.split(",") if part]
