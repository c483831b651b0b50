"""Event types through the svix SDK: the catalogue, archiving on delete, expunge."""

from __future__ import annotations

import pytest
from svix.api import (
    EventTypeDeleteOptions,
    EventTypeIn,
    EventTypeListOptions,
    EventTypePatch,
    EventTypeUpsertIn,
    Svix,
)
from svix.exceptions import HttpError


def _names(svix: Svix, **options: object) -> list[str]:
    return [e.name for e in svix.event_type.list(EventTypeListOptions(**options)).data]  # type: ignore[arg-type]


def test_deleted_event_type_is_archived_and_hidden_until_expunged(svix: Svix) -> None:
    schemas = {"1": {"type": "object", "examples": [{"amount": 1}]}}
    created = svix.event_type.create(
        EventTypeIn(name="invoice.paid", description="Paid", schemas=schemas, group_name="billing")
    )
    assert (created.name, created.description, created.archived, created.deprecated) == (
        "invoice.paid",
        "Paid",
        False,
        False,
    )
    assert created.schemas == schemas and created.group_name == "billing"
    assert svix.event_type.get("invoice.paid") == created
    svix.event_type.create(EventTypeIn(name="user.created", description="Signed up"))

    replaced = svix.event_type.upsert("invoice.paid", EventTypeUpsertIn(description="Paid in full"))
    assert (replaced.description, replaced.schemas, replaced.created_at) == (
        "Paid in full",
        None,
        created.created_at,
    )
    new = svix.event_type.upsert("invoice.voided", EventTypeUpsertIn(description="Voided"))
    assert new.name == "invoice.voided"
    patched = svix.event_type.patch("user.created", EventTypePatch(deprecated=True))
    assert (patched.deprecated, patched.description) == (True, "Signed up")
    assert _names(svix) == ["invoice.paid", "invoice.voided", "user.created"]
    assert _names(svix, limit=2) == ["invoice.paid", "invoice.voided"]

    svix.event_type.delete("user.created")
    assert svix.event_type.get("user.created").archived is True
    assert _names(svix) == ["invoice.paid", "invoice.voided"]
    assert _names(svix, include_archived=True) == ["invoice.paid", "invoice.voided", "user.created"]

    svix.event_type.delete("user.created", EventTypeDeleteOptions(expunge=True))
    with pytest.raises(HttpError) as gone:
        svix.event_type.get("user.created")
    assert gone.value.status_code == 404
    assert _names(svix, include_archived=True) == ["invoice.paid", "invoice.voided"]
