"""A real webhook receiver: a threaded HTTP server on 127.0.0.1 that records requests.

Responses are scripted: `receiver.respond(500, 500, 200)` answers the next three
requests with those statuses (then 200 forever); `wait_for(n)` blocks until n
requests arrived, bounded by a timeout, so tests never sleep blindly. `max_in_flight` is
the most requests it was handling at once (from arrival until its answer is sent).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of new connections beyond that waited
    # for the client's SYN retry (1 s), which a worker's endpoint limits read as a slow endpoint.
    request_queue_size = 128


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        self.default = Reply()
        self.in_flight = 0
        self.max_in_flight = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._cond:
                    reply = receiver._script.popleft() if receiver._script else receiver.default
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                if reply.delay:
                    time.sleep(reply.delay)
                record = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.time(),
                )
                with receiver._cond:
                    receiver.requests.append(record)
                    receiver.in_flight -= 1  # before answering: the client cannot be any faster
                    receiver._cond.notify_all()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, *replies: int | Reply) -> None:
        with self._cond:
            for reply in replies:
                self._script.append(reply if isinstance(reply, Reply) else Reply(status=reply))

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"receiver got {len(self.requests)} requests, expected {count}")
                self._cond.wait(remaining)
            return list(self.requests)
