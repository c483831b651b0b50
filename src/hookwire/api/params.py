"""Query parameters shared by the list routes, parsed the way the Svix SDK sends them."""

from __future__ import annotations

from typing import Literal

Order = Literal["ascending", "descending"]


def split_list(values: list[str] | None) -> list[str] | None:
    """The SDK sends lists comma-joined (`event_types=a,b`); repeated keys (`?event_types=a&event_types=b`)
    work too, so the route declares the parameter as a list and this flattens both forms."""
    if not values:
        return None
    parts = [part for value in values for part in value.split(",") if part]
    return parts or None
