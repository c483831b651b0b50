"""Query parameters shared by the list routes, parsed the way the Svix SDK sends them."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Annotated, Literal

from pydantic import BeforeValidator

from hookwire.store.statuses import MessageStatus, RunStatus

Order = Literal["ascending", "descending"]


def split_list(values: list[str] | None) -> list[str] | None:
    """The SDK sends lists comma-joined (`event_types=a,b`); repeated keys (`?event_types=a&event_types=b`)
    work too, so the route declares the parameter as a list and this flattens both forms."""
    if not values:
        return None
    parts = [part for value in values for part in value.split(",") if part]
    return parts or None


_STATUS_ALIASES = {"failed": "fail", "failure": "fail", "succeeded": "success", "successful": "success"}


def status_from_name(enum: type[IntEnum]) -> Callable[[object], object]:
    """A query-string status as a name (`failed`, `fail`, `Pending`) or as its number.

    People type names; the Svix SDK sends numbers. Both are accepted wherever a status filter is,
    and an unknown name is a 422 that lists the names."""

    def parse(value: object) -> object:
        if not isinstance(value, str) or value.strip().lstrip("-").isdigit():
            return value
        key = _STATUS_ALIASES.get(value.strip().lower(), value.strip().lower())
        for member in enum:
            if member.name.lower() == key:
                return member.value
        names = ", ".join(m.name.lower() for m in enum)
        raise ValueError(f"unknown status {value!r}; use one of {names} (or their numbers)")

    return parse


MessageStatusParam = Annotated[MessageStatus, BeforeValidator(status_from_name(MessageStatus))]
RunStatusParam = Annotated[RunStatus, BeforeValidator(status_from_name(RunStatus))]
