"""API rough edges a new user hit: one ingest prefix, the hidden application behind a source,
and statuses by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hookwire.api.app import create_app
from hookwire.runtime import Runtime


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime)),
        base_url="http://hookwire",
        headers={"Authorization": f"Bearer {runtime.settings.api_token}"},
    ) as client:
        yield client


async def test_a_source_names_its_hidden_application_which_ordinary_lists_leave_out(
    api: httpx.AsyncClient,
) -> None:
    mine = (await api.post("/api/v1/app", json={"name": "billing"})).json()
    source = (await api.post("/ingest/api/v1/source", json={"name": "Stripe live", "type": "stripe"})).json()

    listed = (await api.get("/api/v1/app")).json()["data"]
    assert [app["id"] for app in listed] == [mine["id"]]
    descending = (await api.get("/api/v1/app", params={"order": "descending"})).json()["data"]
    assert [app["id"] for app in descending] == [mine["id"]]
    hidden = await api.get(f"/api/v1/app/{source['appId']}")
    assert hidden.status_code == 200 and hidden.json()["name"] == "source Stripe live"


async def test_the_old_ingest_prefix_redirects_to_the_canonical_one(api: httpx.AsyncClient) -> None:
    source = (await api.post("/ingest/api/v1/source", json={"name": "bin", "type": "generic-webhook"})).json()
    old = await api.get(f"/api/v1/ingest/source/{source['id']}/request", params={"limit": 5})
    assert old.status_code == 308
    assert old.headers["location"] == f"/ingest/api/v1/source/{source['id']}/request?limit=5"
    followed = await api.get(f"/api/v1/ingest/source/{source['id']}/request", follow_redirects=True)
    assert followed.status_code == 200 and followed.json()["data"] == []
    schema = (await api.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path.startswith("/api/v1/ingest")]


async def test_status_filters_take_names_as_well_as_numbers(api: httpx.AsyncClient) -> None:
    for status in ("failed", "fail", "FAIL", "2", "success", "pending"):
        answer = await api.get("/api/v1/automation/run", params={"status": status})
        assert answer.status_code == 200, (status, answer.text)
    app = (await api.post("/api/v1/app", json={"name": "a"})).json()
    endpoint = (
        await api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": "https://example.com/hook"})
    ).json()
    message = (await api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": "x", "payload": {}})).json()
    for path in (
        f"/api/v1/app/{app['id']}/attempt/endpoint/{endpoint['id']}",
        f"/api/v1/app/{app['id']}/attempt/msg/{message['id']}",
        f"/api/v1/app/{app['id']}/endpoint/{endpoint['id']}/msg",
    ):
        for status in ("failed", "pending", "1"):
            answer = await api.get(path, params={"status": status})
            assert answer.status_code == 200, (path, status, answer.text)
    wrong = await api.get("/api/v1/automation/run", params={"status": "loud"})
    assert wrong.status_code == 422
    assert "success, pending, fail, running" in wrong.text
