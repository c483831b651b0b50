"""The worker's endpoint cache on both real databases: an endpoint's settings are read and
decrypted again exactly when the version its claim saw moved on, and a gone endpoint has no
target (delivery/endpoint_cache.py)."""

from __future__ import annotations

from typing import Any

from hookwire.clock import now_ms
from hookwire.delivery.endpoint_cache import EndpointCache
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint, patch_endpoint
from hookwire.outbound.models import ApplicationIn, EndpointIn, EndpointPatch
from hookwire.runtime import Runtime
from hookwire.store import Row


class CountingReads:
    """The runtime's database, counting the reads the cache makes through it."""

    def __init__(self, rt: Runtime) -> None:
        self._db = rt.db
        self.reads: list[str] = []

    async def fetch(self, name: str, /, **params: Any) -> list[Row]:
        self.reads.append(name)
        return await self._db.fetch(name, **params)


async def _versions(rt: Runtime, ids: list[str]) -> dict[str, int]:
    return {r["id"]: r["version"] for r in await rt.db.fetch("endpoint_versions", ids=ids)}


async def test_an_endpoint_is_read_again_only_when_its_version_moved_on(runtime: Runtime) -> None:
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    kept = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/kept"))
    moved = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/before"))
    cache, db = EndpointCache(runtime.box), CountingReads(runtime)
    ids = [kept.id, moved.id]

    first = await cache.load(db, await _versions(runtime, ids), now_ms())  # type: ignore[arg-type]
    assert {t.url for t in first.values()} == {"http://127.0.0.1:9/kept", "http://127.0.0.1:9/before"}
    assert all(t.keys for t in first.values())  # the signing secrets were opened
    assert db.reads == ["endpoints_for_delivery", "signing_secrets"]

    db.reads.clear()
    again = await cache.load(db, await _versions(runtime, ids), now_ms())  # type: ignore[arg-type]
    assert again == first and db.reads == []  # nothing changed: nothing read

    await patch_endpoint(runtime, app.id, moved.id, EndpointPatch(url="http://127.0.0.1:9/after"))
    after = await cache.load(db, await _versions(runtime, ids), now_ms())  # type: ignore[arg-type]
    assert after[moved.id].url == "http://127.0.0.1:9/after"
    assert after[kept.id] is first[kept.id]  # the unchanged one came from the cache
    assert db.reads == ["endpoints_for_delivery", "signing_secrets"]


async def test_an_endpoint_the_claim_did_not_find_has_no_target(runtime: Runtime) -> None:
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoint = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    cache = EndpointCache(runtime.box)
    loaded = await cache.load(runtime.db, {endpoint.id: 1, "ep_gone": 1}, now_ms())
    assert set(loaded) == {endpoint.id}
