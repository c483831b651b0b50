"""The webhook receiver: a minimal HTTP/1.1 server on 127.0.0.1 that answers 200 to every POST.

Run as its own process (`python -m benchmarks.receiver --port N`) on uvloop. It keeps
connections alive, counts POSTs, remembers the first and last arrival, and records
`(path, seq, arrival, sent_at)` for every first arrival of a payload carrying `"seq"` and
`"sent_at"` (the paced clients put them there), so latency is measured where the
webhook lands. A POST to a path starting with `/hang` is never answered: the connection
is held until the client gives up (or 120 s pass), which is how a dead endpoint looks.

Control requests are GETs under `/_`: `/_stats` (counts, JSON), `/_samples` (the recorded
arrivals, then forgotten) and `/_reset`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

_OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_SEQ = re.compile(rb'"seq":(\d+)')
_SENT_AT = re.compile(rb'"sent_at":([0-9.]+)')
HANG_LIMIT_SECONDS = 120.0


class Tally:
    """What arrived since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.posts = 0
        self.hung = 0
        self.duplicates = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.samples: list[tuple[str, int, float, float]] = []
        self._seen: set[tuple[str, int]] = set()

    def record(self, path: str, body: bytes) -> None:
        now = time.time()
        self.posts += 1
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        seq = _SEQ.search(body)
        sent = _SENT_AT.search(body)
        if seq is None or sent is None:
            return
        key = (path, int(seq.group(1)))
        if key in self._seen:
            self.duplicates += 1
            return
        self._seen.add(key)
        self.samples.append((path, key[1], now, float(sent.group(1))))

    def stats(self) -> dict[str, object]:
        return {
            "posts": self.posts,
            "hung": self.hung,
            "duplicates": self.duplicates,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    def take_samples(self) -> list[tuple[str, int, float, float]]:
        samples, self.samples = self.samples, []
        return samples


class Connection(asyncio.Protocol):
    """One keep-alive connection: parse requests with a Content-Length body, answer each."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._buffer = bytearray()
        self._head: bytes | None = None
        self._need = 0
        self._hanging = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def data_received(self, data: bytes) -> None:
        if self._hanging:
            return
        self._buffer += data
        while True:
            if self._head is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self._head = bytes(self._buffer[:end])
                del self._buffer[: end + 4]
                match = _CONTENT_LENGTH.search(self._head)
                self._need = int(match.group(1)) if match else 0
            if len(self._buffer) < self._need:
                return
            body = bytes(self._buffer[: self._need])
            del self._buffer[: self._need]
            head, self._head = self._head, None
            self._answer(head, body)
            if self._hanging:
                return

    def _answer(self, head: bytes, body: bytes) -> None:
        assert self._transport is not None
        line = head.split(b"\r\n", 1)[0].split(b" ")
        method, path = line[0], line[1].decode("latin-1") if len(line) > 1 else "/"
        if method == b"GET" and path.startswith("/_"):
            self._transport.write(self._control(path))
        elif path.startswith("/hang"):
            self._hanging = True
            self._tally.hung += 1
            asyncio.get_running_loop().call_later(HANG_LIMIT_SECONDS, self._transport.close)
        else:
            self._tally.record(path, body)
            self._transport.write(_OK)

    def _control(self, path: str) -> bytes:
        if path == "/_stats":
            payload: object = self._tally.stats()
        elif path == "/_samples":
            payload = self._tally.take_samples()
        elif path == "/_reset":
            self._tally.reset()
            payload = {}
        else:
            return _NOT_FOUND
        body = json.dumps(payload).encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode() + body


async def serve(port: int) -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(tally), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # the receiver still works, only slower
        asyncio.run(serve(args.port))
    else:
        uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
