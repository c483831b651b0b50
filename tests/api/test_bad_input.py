"""Bad input over raw HTTP: every mistake is a clear 4xx `{"code", "detail"}`, and nothing stored is lost.

Each test seeds an application, an event type, an endpoint and a message, sends a
table of bad requests to the live server, checks every answer (status, Svix's error
shape, no traceback), and then checks that the seeded data reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from svix.api import ApplicationIn, Svix
from svix.exceptions import HTTPValidationError

from tests.support.server import HookwireProcess

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] | None = None


@dataclass(frozen=True)
class Seeded:
    app: str
    endpoint: str
    msg: str


@pytest.fixture
def api(server: HookwireProcess) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url + "/api/v1", headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def seeded(api: httpx.Client) -> Seeded:
    def ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()  # type: ignore[no-any-return]

    ok(api.post("/event-type", json={"name": "invoice.paid", "description": "paid"}))
    app = ok(api.post("/app", json={"name": "Acme", "uid": "acme", "metadata": {"plan": "pro"}}))
    endpoint = ok(
        api.post(
            "/app/acme/endpoint",
            json={
                "url": "http://127.0.0.1:1/hook",
                "uid": "hook",
                "secret": SECRET,
                "headers": {"X-Team": "finance"},
                "eventTypes": ["invoice.paid"],
            },
        )
    )
    msg = ok(
        api.post("/app/acme/msg", json={"eventType": "invoice.paid", "eventId": "evt-1", "payload": {"a": 1}})
    )
    return Seeded(app["id"], endpoint["id"], msg["id"])


def _snapshot(api: httpx.Client) -> dict[str, Any]:
    """Everything the seed stored, as the API shows it (minus what the delivery worker changes)."""
    paths = [
        "/app",
        "/app/acme",
        "/event-type?include_archived=true",
        "/app/acme/endpoint",
        "/app/acme/endpoint/hook/secret",
        "/app/acme/endpoint/hook/headers",
        "/app/acme/msg?with_content=true",
        "/app/acme/msg/evt-1",
    ]
    return {path: api.get(path).json() for path in paths}


def _check_error(response: httpx.Response, status: int) -> str | None:
    """None when `response` is the expected Svix-shaped error; else what is wrong with it."""
    where = f"{response.request.method} {response.request.url.path}?{response.request.url.query.decode()}"
    if response.status_code != status:
        return f"{where}: expected {status}, got {response.status_code}: {response.text[:300]}"
    if "traceback" in response.text.lower():
        return f"{where}: answer carries a traceback"
    try:
        body = response.json()
    except ValueError:
        return f"{where}: answer is not JSON: {response.text[:300]}"
    if set(body) != {"code", "detail"} or not isinstance(body["code"], str) or not body["code"]:
        return f"{where}: not {{code, detail}}: {body}"
    if status == 422:
        shape_ok = isinstance(body["detail"], list) and body["detail"]
        for item in body["detail"] if shape_ok else ():
            shape_ok = shape_ok and set(item) == {"loc", "msg", "type"} and isinstance(item["loc"], list)
        if not shape_ok or body["code"] != "validation":
            return f"{where}: 422 detail is not a list of {{loc, msg, type}}: {body}"
    elif not isinstance(body["detail"], str) or not body["detail"]:
        return f"{where}: detail should explain the error: {body}"
    return None


def _run(api: httpx.Client, cases: list[Case]) -> None:
    problems = []
    for case in cases:
        response = api.request(
            case.method, case.path, json=case.json, content=case.content, params=case.params
        )
        problem = _check_error(response, case.status)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def test_malformed_json_is_400_and_wrong_types_or_missing_fields_are_422(
    api: httpx.Client, seeded: Seeded, svix: Svix
) -> None:
    before = _snapshot(api)
    json_header = {"content-type": "application/json"}
    not_json = [
        b'{"name": "x",',
        b'{"eventType": "invoice.paid", "payload": {"a": NaN}}',
        b'{"eventType": "invoice.paid", "payload": {"a": Infinity}}',
        b'{"eventType": "invoice.paid", "payload": {"a": "\\ud800"}}',  # a lone surrogate
        b'{"name": "\xff"}',  # not UTF-8
    ]
    for path in ("/app", "/app/acme/endpoint", "/app/acme/msg", "/event-type"):
        for body in not_json:
            broken = api.post(path, content=body, headers=json_header)
            assert _check_error(broken, 400) is None, _check_error(broken, 400)
            assert broken.json()["code"] == "bad_request"
    deep: Any = 1
    for _ in range(300):
        deep = {"a": deep}
    too_deep = api.post("/app/acme/msg", json={"eventType": "invoice.paid", "payload": deep})
    assert _check_error(too_deep, 422) is None, _check_error(too_deep, 422)
    _run(
        api,
        [
            Case("POST", "/app", 422, json=[1, 2]),
            Case("POST", "/app", 422, json="a string"),
            Case("POST", "/app", 422, json={"name": 5}),
            Case("POST", "/app", 422, json={"name": ""}),
            Case("POST", "/app", 422, json={"name": "x", "metadata": {"a": 1}}),
            Case("POST", "/app", 422, json={"name": "x", "throttleRate": 10**12}),
            Case("POST", "/app", 422, json={"name": "x", "uid": "has space"}),
            Case("PUT", "/app/acme", 422, json={"uid": "acme"}),
            Case("PATCH", "/app/acme", 422, json={"name": None}),
            Case("PATCH", "/app/acme", 422, json={"metadata": None}),
            Case("PUT", "/app/not%20a%20uid", 422, json={"name": "x"}),
            Case("POST", "/event-type", 422, json={"name": "has space", "description": "x"}),
            Case("PUT", "/event-type/has%20space", 422, json={"description": "x"}),
            Case("PATCH", "/event-type/invoice.paid", 422, json={"archived": "yes please"}),
            Case("POST", "/app/acme/endpoint", 422, json={"description": "no url"}),
            Case("POST", "/app/acme/endpoint", 422, json={"url": 5}),
            Case("POST", "/app/acme/endpoint", 422, json={"url": "http://x.test", "eventTypes": "a"}),
            Case("POST", "/app/acme/endpoint", 422, json={"url": "http://x.test", "channels": ["a b"]}),
            Case("POST", "/app/acme/endpoint", 422, json={"url": "http://x.test", "eventTypes": ["nope"]}),
            Case("PUT", "/app/acme/endpoint/hook", 422, json={"uid": "hook"}),
            Case("PATCH", "/app/acme/endpoint/hook", 422, json={"url": None}),
            Case("PATCH", "/app/acme/endpoint/hook", 422, json={"disabled": None}),
            Case("PATCH", "/app/acme/endpoint/hook", 422, json={"disabled": "sometimes"}),
            Case("PUT", "/app/acme/endpoint/hook/headers", 422, json={"headers": ["X-A"]}),
            Case("POST", "/app/acme/endpoint/hook/secret/rotate", 422, json={"gracePeriodSeconds": "soon"}),
            Case("POST", "/app/acme/endpoint/hook/recover", 422, json={}),
            Case("POST", "/app/acme/endpoint/hook/recover", 422, json={"since": "yesterday"}),
            Case(
                "POST", "/app/acme/endpoint/hook/replay-missing", 422, json={"until": "2024-01-01T00:00:00Z"}
            ),
            Case("POST", "/app/acme/endpoint/hook/send-example", 422, json={}),
            Case("POST", "/app/acme/msg", 422, json={"payload": {}}),
            Case("POST", "/app/acme/msg", 422, json={"eventType": "invoice.paid"}),
            Case("POST", "/app/acme/msg", 422, json={"eventType": "invoice.paid", "payload": "text"}),
            Case("POST", "/app/acme/msg", 422, json={"eventType": "has space", "payload": {}}),
            Case("POST", "/app/acme/msg", 422, json={"eventType": "a", "payload": {}, "eventId": "a b"}),
            Case("POST", "/app/acme/msg", 422, json={"eventType": "a", "payload": {}, "channels": "eu"}),
            Case(
                "POST",
                "/app/new%20app/msg",
                422,
                json={"eventType": "a", "payload": {}, "application": {"name": "x"}},
            ),
        ],
    )
    missing = api.post("/app", json={"uid": "x"}).json()["detail"]
    assert missing == [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]
    with pytest.raises(HTTPValidationError) as rejected:  # the SDK parses the 422 detail list
        svix.application.create(ApplicationIn(name=""))
    assert rejected.value.status_code == 422 and rejected.value.detail[0].loc == ["body", "name"]
    assert _snapshot(api) == before


def test_unknown_ids_are_404(api: httpx.Client, seeded: Seeded) -> None:
    before = _snapshot(api)
    a, e, m = "/app/acme", "/app/acme/endpoint/hook", "/app/acme/msg/evt-1"
    since = {"since": "2020-01-01T00:00:00Z"}
    _run(
        api,
        [
            Case("GET", "/app/app_nope", 404),
            Case("PATCH", "/app/nope", 404, json={"name": "x"}),
            Case("DELETE", "/app/nope", 404),
            Case("GET", "/event-type/no.such.type", 404),
            Case("PATCH", "/event-type/no.such.type", 404, json={"description": "x"}),
            Case("DELETE", "/event-type/no.such.type", 404),
            Case("GET", "/app/nope/endpoint", 404),
            Case("POST", "/app/nope/endpoint", 404, json={"url": "http://x.test"}),
            Case("GET", f"{a}/endpoint/ep_nope", 404),
            Case("PATCH", f"{a}/endpoint/nope", 404, json={"description": "x"}),
            Case("DELETE", f"{a}/endpoint/nope", 404),
            Case("GET", f"{a}/endpoint/nope/secret", 404),
            Case("POST", f"{a}/endpoint/nope/secret/rotate", 404, json={}),
            Case("GET", f"{a}/endpoint/nope/headers", 404),
            Case("PUT", f"{a}/endpoint/nope/headers", 404, json={"headers": {}}),
            Case("PATCH", f"{a}/endpoint/nope/headers", 404, json={"headers": {}}),
            Case("GET", f"{a}/endpoint/nope/stats", 404),
            Case("POST", f"{a}/endpoint/nope/recover", 404, json=since),
            Case("POST", f"{a}/endpoint/nope/replay-missing", 404, json=since),
            Case("POST", f"{a}/endpoint/nope/send-example", 404, json={"eventType": "invoice.paid"}),
            Case("POST", f"{e}/send-example", 404, json={"eventType": "no.such.type"}),
            Case("GET", "/app/nope/msg", 404),
            Case("POST", "/app/nope/msg", 404, json={"eventType": "invoice.paid", "payload": {}}),
            Case("GET", f"{a}/msg/msg_nope", 404),
            Case("DELETE", f"{a}/msg/msg_nope/content", 404),
            Case("GET", f"{a}/attempt/msg/msg_nope", 404),
            Case("GET", f"{a}/attempt/msg/evt-1", 404, params={"endpoint_id": "nope"}),
            Case("GET", f"{a}/attempt/endpoint/nope", 404),
            Case("GET", f"{a}/endpoint/nope/msg", 404),
            Case("GET", f"{a}/msg/msg_nope/endpoint", 404),
            Case("GET", f"{m}/attempt/atmpt_nope", 404),
            Case("DELETE", f"{m}/attempt/atmpt_nope/content", 404),
            Case("POST", f"{m}/endpoint/nope/resend", 404),
            Case("POST", f"{a}/msg/msg_nope/endpoint/hook/resend", 404),
            Case("GET", "/no/such/route", 404),
        ],
    )
    assert _snapshot(api) == before


def test_body_over_one_mebibyte_is_413_with_or_without_content_length(
    api: httpx.Client, seeded: Seeded
) -> None:
    before = _snapshot(api)
    big = b'{"eventType": "invoice.paid", "payload": {"blob": "' + b"x" * MIB + b'"}}'

    def chunks(body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    headers = {"content-type": "application/json"}
    sized = api.post("/app/acme/msg", content=big, headers=headers)
    assert _check_error(sized, 413) is None, _check_error(sized, 413)
    assert sized.json()["code"] == "payload_too_large"
    streamed = api.post("/app/acme/msg", content=chunks(big), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert _check_error(streamed, 413) is None, _check_error(streamed, 413)
    assert _snapshot(api) == before

    small = b'{"eventType": "invoice.paid", "payload": {"blob": "' + b"x" * (MIB - 100) + b'"}}'
    accepted = api.post("/app/acme/msg", content=chunks(small), headers=headers)
    assert accepted.status_code == 202, accepted.text[:300]
    assert len(api.get("/app/acme/msg").json()["data"]) == 2


def test_invalid_urls_secrets_and_reserved_headers_are_422(api: httpx.Client, seeded: Seeded) -> None:
    before = _snapshot(api)
    endpoints, hook = "/app/acme/endpoint", "/app/acme/endpoint/hook"
    cases = [
        Case("POST", endpoints, 422, json={"url": url})
        for url in ("ftp://x", "not a url", "http://user@host", "http://user:pw@host", "", "http://")
    ]
    cases += [
        Case("PATCH", hook, 422, json={"url": "ftp://x"}),
        Case("PUT", hook, 422, json={"url": "http://user@host"}),
    ]
    for secret in ("whsec_short", "whsec_" + "!" * 40, "not-base64-at-all-" * 3, ""):
        cases += [
            Case("POST", endpoints, 422, json={"url": "http://x.test", "secret": secret}),
            Case("POST", f"{hook}/secret/rotate", 422, json={"key": secret}),
            Case("PATCH", hook, 422, json={"secret": secret}),
        ]
    for name in ("webhook-id", "Content-Type", "svix-signature", "Webhook-Signature", "host", "bad name"):
        cases += [
            Case("POST", endpoints, 422, json={"url": "http://x.test", "headers": {name: "v"}}),
            Case("PUT", f"{hook}/headers", 422, json={"headers": {name: "v"}}),
            Case("PATCH", f"{hook}/headers", 422, json={"headers": {name: "v"}}),
        ]
    cases.append(Case("PUT", f"{hook}/headers", 422, json={"headers": {"X-A": "line\r\nbreak"}}))
    _run(api, cases)
    secret_error = api.post(f"{hook}/secret/rotate", json={"key": "whsec_short"}).json()["detail"][0]
    assert secret_error["loc"] == ["body", "key"]
    assert _snapshot(api) == before


def test_missing_or_wrong_token_is_401_and_health_needs_none(server: HookwireProcess, seeded: Seeded) -> None:
    url = server.url + "/api/v1"
    assert httpx.get(url + "/health").status_code == 204
    for headers in (
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": "Basic dGVzdA=="},
        {"authorization": "Bearer"},
    ):
        for method, path in (
            ("GET", "/app"),
            ("POST", "/app"),
            ("DELETE", "/app/acme"),
            ("GET", "/app/acme/msg"),
        ):
            response = httpx.request(method, url + path, headers=headers, json={"name": "sneaky"})
            assert _check_error(response, 401) is None, _check_error(response, 401)
            assert response.json()["code"] == "authentication_failed"
    apps = httpx.get(url + "/app", headers={"authorization": f"Bearer {server.token}"}).json()["data"]
    assert [a["uid"] for a in apps] == ["acme"]


def test_duplicate_uids_and_names_are_409_and_keep_the_first(
    server: HookwireProcess, api: httpx.Client, seeded: Seeded
) -> None:
    other_app = api.post("/app", json={"name": "Other", "uid": "other"}).json()["id"]
    other_ep = api.post("/app/acme/endpoint", json={"url": "http://x.test", "uid": "other-hook"}).json()["id"]
    before = _snapshot(api)
    _run(
        api,
        [
            Case("POST", "/app", 409, json={"name": "Copy", "uid": "acme"}),
            Case("POST", "/app", 409, json={"name": "Copy", "uid": seeded.app}),
            Case("PATCH", f"/app/{other_app}", 409, json={"uid": "acme"}),
            Case("PUT", "/app/other", 409, json={"name": "Other", "uid": "acme"}),
            Case("POST", "/app/acme/endpoint", 409, json={"url": "http://x.test", "uid": "hook"}),
            Case("PATCH", f"/app/acme/endpoint/{other_ep}", 409, json={"uid": "hook"}),
            Case("POST", "/event-type", 409, json={"name": "invoice.paid", "description": "again"}),
        ],
    )
    assert _snapshot(api) == before
    assert api.get("/app/other").json()["name"] == "Other"

    # The same when the duplicates arrive at once: one is created, the others are 409s (not 500s).
    headers = {"authorization": f"Bearer {server.token}"}
    racing = [
        ("/app", {"name": "Racer", "uid": "racer"}),
        ("/app/acme/endpoint", {"url": "http://x.test", "uid": "racer"}),
        ("/event-type", {"name": "race.won", "description": "x"}),
    ]
    for path, body in racing:

        def post(_: int, path: str = path, body: dict[str, str] = body) -> int:
            return httpx.post(f"{server.url}/api/v1{path}", json=body, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = sorted(pool.map(post, range(12)))
        assert statuses == [201] + [409] * 11, (path, statuses)


def test_out_of_range_limits_and_mistyped_query_parameters_are_422(api: httpx.Client, seeded: Seeded) -> None:
    before = _snapshot(api)
    a, e, m = "/app/acme", "/app/acme/endpoint/hook", "/app/acme/msg/evt-1"
    lists = ["/app", "/event-type", f"{a}/endpoint", f"{a}/msg", f"{e}/msg", f"{m}/endpoint"]
    lists += [f"{a}/attempt/endpoint/hook", f"{a}/attempt/msg/evt-1"]
    cases = [
        Case("GET", path, 422, params={"limit": limit})
        for path in lists
        for limit in ("0", "1000", "-1", "ten")
    ]
    cases += [
        Case("GET", "/app", 422, params={"order": "sideways"}),
        Case("GET", f"{a}/endpoint", 422, params={"order": "random"}),
        Case("GET", "/event-type", 422, params={"include_archived": "maybe"}),
        Case("DELETE", "/event-type/invoice.paid", 422, params={"expunge": "perhaps"}),
        Case("GET", f"{a}/msg", 422, params={"with_content": "sometimes"}),
        Case("GET", f"{a}/msg", 422, params={"before": "not-a-date"}),
        Case("GET", f"{a}/msg", 422, params={"after": "2024-13-45"}),
        Case("GET", m, 422, params={"with_content": "perhaps"}),
        Case("GET", f"{e}/stats", 422, params={"since": "last week"}),
        Case("GET", f"{a}/attempt/endpoint/hook", 422, params={"status": "9"}),
        Case("GET", f"{a}/attempt/msg/evt-1", 422, params={"status": "loud"}),
        Case("GET", f"{e}/msg", 422, params={"status": "99999999999"}),
        Case("POST", "/app", 422, params={"get_if_exists": "kinda"}, json={"name": "x"}),
    ]
    _run(api, cases)
    detail = api.get("/app", params={"limit": "0"}).json()["detail"]
    assert [d["loc"] for d in detail] == [["query", "limit"]]
    assert _snapshot(api) == before


def test_nul_characters_are_refused_alike_on_both_databases(api: httpx.Client, seeded: Seeded) -> None:
    before = _snapshot(api)
    _run(
        api,
        [
            Case("POST", "/app", 422, json={"name": "nul\u0000name"}),
            Case("PATCH", "/app/acme", 422, json={"name": "nul\u0000"}),
            Case("POST", "/event-type", 422, json={"name": "ok.name", "description": "\u0000"}),
            Case("POST", "/app/acme/endpoint", 422, json={"url": "http://x.test", "description": "\u0000"}),
            Case("PUT", "/app/acme/endpoint/hook/headers", 422, json={"headers": {"X-A": "\u0000"}}),
            Case("GET", "/app/ac%00me", 422),
            Case("GET", "/app/acme/msg", 422, params={"channel": "eu\u0000"}),
            Case("GET", "/app/acme/msg", 422, params={"iterator": "\u0000"}),
        ],
    )
    assert _snapshot(api) == before
