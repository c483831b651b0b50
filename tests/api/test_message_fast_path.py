"""The fast path of `POST /api/v1/app/{app}/msg` answers exactly what the documented route does.

Two apps over one database: the real one (fast path first in line) and one with the fast path
taken out. Every request in the table goes to both; status, content type, error bodies and the
message fields must match (ids and timestamps differ by nature and are compared by shape).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hookwire.api.app import create_app
from hookwire.api.message_fast_path import MessageCreateFastPath
from hookwire.runtime import Runtime

TOKEN_HEADER = "Authorization"


@pytest.fixture
async def both(runtime: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    fast_app = create_app(runtime)
    plain_app = create_app(runtime)
    assert isinstance(plain_app.router.routes[0], MessageCreateFastPath)
    plain_app.router.routes.pop(0)
    auth = {TOKEN_HEADER: f"Bearer {runtime.settings.api_token}"}
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fast_app), base_url="http://h", headers=auth
        ) as fast,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=plain_app), base_url="http://h", headers=auth
        ) as plain,
    ):
        app_id = (await fast.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})).json()["id"]
        await fast.post(f"/api/v1/app/{app_id}/endpoint", json={"url": "https://example.com/hook"})
        yield fast, plain, app_id


def _shape(response: httpx.Response) -> tuple[int, str | None, Any]:
    body: Any = response.json() if response.content else None
    if response.status_code == 202:
        body = {k: (type(v).__name__ if k in ("id", "timestamp") else v) for k, v in body.items()}
    return response.status_code, response.headers.get("content-type"), body


class _chunks:
    """A body sent without Content-Length (chunked), new for each request."""

    def __init__(self, *parts: bytes) -> None:
        self._parts = parts

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            yield part


CASES: list[tuple[str, dict[str, Any]]] = [
    ("plain", {"json": {"eventType": "order.paid", "payload": {"n": 1}}}),
    (
        "all fields",
        {"json": {"eventType": "order.paid", "payload": {"a": [1, 2]}, "channels": ["eu"], "tags": ["t"]}},
    ),
    ("by uid", {"json": {"eventType": "order.paid", "payload": {}}, "path": "/api/v1/app/acme/msg"}),
    ("unknown app", {"json": {"eventType": "order.paid", "payload": {}}, "path": "/api/v1/app/nope/msg"}),
    (
        "with_content=false",
        {"json": {"eventType": "order.paid", "payload": {"n": 1}}, "params": {"with_content": "false"}},
    ),
    ("bad event type", {"json": {"eventType": "no spaces allowed", "payload": {}}}),
    ("payload missing", {"json": {"eventType": "order.paid"}}),
    ("not JSON", {"content": b"{nope", "headers": {"content-type": "application/json"}}),
    (
        "NaN",
        {
            "content": b'{"eventType":"a","payload":{"x":NaN}}',
            "headers": {"content-type": "application/json"},
        },
    ),
    (
        "text/plain body",
        {"content": b'{"eventType":"a","payload":{}}', "headers": {"content-type": "text/plain"}},
    ),
    (
        "wrong token",
        {"json": {"eventType": "order.paid", "payload": {}}, "headers": {TOKEN_HEADER: "Bearer nope"}},
    ),
    (
        "not bearer",
        {"json": {"eventType": "order.paid", "payload": {}}, "headers": {TOKEN_HEADER: "Basic abc"}},
    ),
    (
        "key too long",
        {"json": {"eventType": "order.paid", "payload": {}}, "headers": {"idempotency-key": "k" * 300}},
    ),
    (
        "body over the limit",
        {
            "content": b'{"eventType":"a","payload":{"x":"' + b"y" * (1024 * 1024) + b'"}}',
            "headers": {"content-type": "application/json"},
        },
    ),
    (
        "chunked body",
        {
            "content": _chunks(b'{"eventType":"a",', b'"payload":{"n":1}}'),
            "headers": {"content-type": "application/json"},
        },
    ),
    ("no content type", {"content": b'{"eventType":"a","payload":{"n":1}}'}),
    ("NUL in the path", {"json": {"eventType": "a", "payload": {}}, "path": "/api/v1/app/a%00b/msg"}),
]


@pytest.mark.parametrize(("name", "request_args"), CASES, ids=[c[0] for c in CASES])
async def test_fast_path_answers_like_the_documented_route(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, str], name: str, request_args: dict[str, Any]
) -> None:
    fast, plain, app_id = both
    args = dict(request_args)
    path = args.pop("path", f"/api/v1/app/{app_id}/msg")
    assert _shape(await fast.post(path, **args)) == _shape(await plain.post(path, **args))


async def test_an_idempotency_key_returns_the_first_message_on_both_paths(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, str],
) -> None:
    fast, plain, app_id = both
    body = {"eventType": "order.paid", "payload": {"n": 7}}
    first = await fast.post(f"/api/v1/app/{app_id}/msg", json=body, headers={"idempotency-key": "k1"})
    again = await plain.post(f"/api/v1/app/{app_id}/msg", json=body, headers={"idempotency-key": "k1"})
    third = await fast.post(f"/api/v1/app/{app_id}/msg", json=body, headers={"idempotency-key": "k1"})
    assert first.status_code == again.status_code == third.status_code == 202
    assert first.json()["id"] == again.json()["id"] == third.json()["id"]


async def test_the_openapi_document_still_describes_message_creation(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, str],
) -> None:
    fast, plain, _ = both
    documented = (await fast.get("/openapi.json")).json()
    assert documented == (await plain.get("/openapi.json")).json()
    assert "post" in documented["paths"]["/api/v1/app/{app_id}/msg"]


async def test_a_taken_event_id_is_the_same_conflict_on_both_paths(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, str],
) -> None:
    fast, plain, app_id = both
    body = {"eventType": "order.paid", "eventId": "evt-1", "payload": {}}
    assert (await fast.post(f"/api/v1/app/{app_id}/msg", json=body)).status_code == 202
    on_fast = await fast.post(f"/api/v1/app/{app_id}/msg", json=body)
    on_plain = await plain.post(f"/api/v1/app/{app_id}/msg", json=body)
    assert on_fast.status_code == 409
    assert _shape(on_fast) == _shape(on_plain)
