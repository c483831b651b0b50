"""How answers leave a real `hookwire serve`: whole, in order, on a connection that stays usable.

The HTTP/1.1 cases client libraries lean on, past the front door's own protocol
(`cli/http_server.py`): a HEAD request (a head and no body), pipelined requests,
`Expect: 100-continue`, an answer that closes the connection, and a stream whose head must
arrive before its first event. Raw sockets, so nothing between the test and the server
buffers or retries. (A front door that sends a response's head and body in one write, tried
for speed, has to pass these too.)
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.support.server import HookwireProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookwireProcess]:
    tmp = tmp_path_factory.mktemp("writes")
    with HookwireProcess(f"sqlite:///{tmp}/hookwire.db", log=tmp / "hookwire.log") as proc:
        yield proc


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _read_head(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str]]:
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in buffer:
        assert time.monotonic() < deadline, f"no complete head within 10 s: {bytes(buffer)!r}"
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a complete head: {bytes(buffer)!r}"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


def read_response(sock: socket.socket, buffer: bytearray, *, head_only: bool = False) -> Response:
    """One response off `sock` (leftover bytes stay in `buffer` for the next one)."""
    status, headers = _read_head(sock, buffer)
    length = 0 if head_only else int(headers.get("content-length", "0"))
    deadline = time.monotonic() + 10
    while len(buffer) < length:
        assert time.monotonic() < deadline, "the body did not arrive within 10 s"
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return Response(status, headers, body)


def request(method: str, path: str, token: str, body: bytes = b"", extra: str = "") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def connect(server: HookwireProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@pytest.fixture(scope="module")
def app_id(server: HookwireProcess) -> str:
    with connect(server) as sock:
        sock.sendall(request("POST", "/api/v1/app", server.token, orjson.dumps({"name": "writes"})))
        created = read_response(sock, bytearray())
    assert created.status == 201, created.body
    return str(orjson.loads(created.body)["id"])


def test_a_head_request_gets_its_head_and_the_connection_goes_on(
    server: HookwireProcess, app_id: str
) -> None:
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(request("HEAD", f"/api/v1/app/{app_id}", server.token))
        head = read_response(sock, buffer, head_only=True)
        assert head.status in (200, 405)  # whatever the route says, it is said at once
        sock.sendall(request("GET", f"/api/v1/app/{app_id}", server.token))
        after = read_response(sock, buffer)
        assert after.status == 200 and orjson.loads(after.body)["id"] == app_id


def test_pipelined_requests_are_answered_whole_and_in_order(server: HookwireProcess, app_id: str) -> None:
    path = f"/api/v1/app/{app_id}/msg"
    batch = b"".join(
        [
            request("POST", path, server.token, orjson.dumps({"eventType": "a.b", "payload": {"n": 1}})),
            request("GET", "/api/v1/app/app_does_not_exist", server.token),
            request("POST", path, server.token, orjson.dumps({"eventType": "a.b", "payload": {"n": 2}})),
            request("POST", path, server.token, b"{not json"),
        ]
    )
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(batch)
        answers = [read_response(sock, buffer) for _ in range(4)]
    assert [a.status for a in answers] == [202, 404, 202, 400]
    assert orjson.loads(answers[0].body)["payload"] == {"n": 1}
    assert orjson.loads(answers[2].body)["payload"] == {"n": 2}
    assert orjson.loads(answers[1].body)["code"]  # a JSON error, whole
    assert buffer == b""  # nothing more than the four answers


def test_expect_100_continue_is_answered_before_the_body_is_sent(
    server: HookwireProcess, app_id: str
) -> None:
    body = orjson.dumps({"eventType": "a.b", "payload": {"n": 3}})
    with connect(server) as sock:
        buffer = bytearray()
        head = request("POST", f"/api/v1/app/{app_id}/msg", server.token, body, "expect: 100-continue\r\n")
        sock.sendall(head[: -len(body)])
        interim = read_response(sock, buffer, head_only=True)
        assert interim.status == 100
        sock.sendall(body)
        accepted = read_response(sock, buffer)
    assert accepted.status == 202 and orjson.loads(accepted.body)["payload"] == {"n": 3}


def test_an_answer_that_closes_the_connection_arrives_whole_first(
    server: HookwireProcess, app_id: str
) -> None:
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(request("GET", f"/api/v1/app/{app_id}", server.token, extra="connection: close\r\n"))
        answer = read_response(sock, buffer)
        assert answer.status == 200 and orjson.loads(answer.body)["id"] == app_id
        assert sock.recv(1) == b""  # then closed


def test_a_stream_sends_its_head_before_any_event(server: HookwireProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:  # an operator session, as a browser gets it
        page = client.get("/ui/signin").text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf, "the sign-in page carries no CSRF token"
        signed = client.post("/ui/signin", data={"csrf": csrf.group(1), "token": server.token, "next": "/ui"})
        assert signed.status_code == 303
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    with connect(server) as sock:
        sock.sendall(f"GET /ui/events HTTP/1.1\r\nhost: 127.0.0.1\r\ncookie: {cookie}\r\n\r\n".encode())
        buffer = bytearray()
        status, headers = _read_head(sock, buffer)  # before any event has happened
        assert status == 200
        assert headers["content-type"].startswith("text/event-stream")
