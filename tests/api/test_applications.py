"""Applications through the svix SDK: create, read by id and uid, list, upsert, patch, delete."""

from __future__ import annotations

import pytest
from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    ApplicationPatch,
    Ordering,
    Svix,
)
from svix.exceptions import HttpError


def test_application_lifecycle_by_id_and_uid(svix: Svix) -> None:
    svix.health.get()
    app = svix.application.create(
        ApplicationIn(name="Acme", uid="acme", throttle_rate=10, metadata={"plan": "pro"})
    )
    assert app.id.startswith("app_")
    assert (app.uid, app.name, app.throttle_rate, app.metadata) == ("acme", "Acme", 10, {"plan": "pro"})
    assert svix.application.get(app.id) == app
    assert svix.application.get("acme") == app

    again = svix.application.get_or_create(ApplicationIn(name="Other name", uid="acme"))
    assert again.id == app.id and again.name == "Acme"
    fresh = svix.application.get_or_create(ApplicationIn(name="Fresh", uid="fresh"))
    assert fresh.id != app.id and svix.application.get("fresh").name == "Fresh"

    replaced = svix.application.upsert("acme", ApplicationIn(name="Acme Inc"))
    assert (replaced.id, replaced.uid, replaced.name) == (app.id, "acme", "Acme Inc")
    assert replaced.throttle_rate is None and replaced.metadata == {}
    created = svix.application.upsert("new-by-put", ApplicationIn(name="Put"))
    assert created.uid == "new-by-put" and svix.application.get("new-by-put").id == created.id

    patched = svix.application.patch(app.id, ApplicationPatch(metadata={"tier": "gold"}))
    assert (patched.name, patched.metadata) == ("Acme Inc", {"tier": "gold"})
    renamed = svix.application.patch("acme", ApplicationPatch(uid="acme-2", throttle_rate=5))
    assert (renamed.uid, renamed.throttle_rate, renamed.name) == ("acme-2", 5, "Acme Inc")
    assert renamed.updated_at >= app.updated_at

    svix.application.delete("acme-2")
    for key in (app.id, "acme-2"):
        with pytest.raises(HttpError) as missing:
            svix.application.get(key)
        assert missing.value.status_code == 404 and missing.value.code == "not_found"
    assert {a.id for a in svix.application.list().data} == {fresh.id, created.id}


def test_application_list_pages_with_limit_iterator_and_order(svix: Svix) -> None:
    # IDs sort by creation time (to the millisecond); lists are ordered by ID.
    ids = sorted(svix.application.create(ApplicationIn(name=f"app {i}")).id for i in range(5))

    def walk(order: Ordering) -> list[str]:
        seen: list[str] = []
        iterator = None
        for _ in range(10):
            page = svix.application.list(ApplicationListOptions(limit=2, iterator=iterator, order=order))
            assert len(page.data) <= 2
            seen += [a.id for a in page.data]
            if page.done:
                return seen
            iterator = page.iterator
        raise AssertionError("pagination never reported done")

    assert walk(Ordering.ASCENDING) == ids
    assert walk(Ordering.DESCENDING) == ids[::-1]
    everything = svix.application.list(ApplicationListOptions(limit=5))
    assert everything.done and [a.id for a in everything.data] == ids
