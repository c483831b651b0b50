"""The relay ceiling: what a bare Python relay does on the end-to-end path, with no durability.

`python -m benchmarks.relay --port N --target URL` runs one process on uvloop: an aiohttp
server takes `POST /api/v1/app/{app}/msg` (JSON decoded, a message id made, answered `202`
with the message as JSON, like hookwire), puts it on an in-memory queue, and sender tasks
take from the queue, sign it (Standard Webhooks HMAC, like hookwire) and POST it to the target
with a keep-alive aiohttp client. Nothing is stored, nothing is retried: it is the speed of the
front door plus the HTTP client in one Python process, the ceiling of the end-to-end scenario.
`GET /health` answers 204.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import aiohttp
from aiohttp import web

from benchmarks.payloads import new_secret_key, signature

SENDERS = 64


def _build(target: str, queue: asyncio.Queue[tuple[str, bytes]]) -> web.Application:
    counter = 0

    async def create_message(request: web.Request) -> web.Response:
        nonlocal counter
        body = await request.json()
        counter += 1
        msg_id = f"msg_relay{os.getpid()}_{counter}"
        payload = json.dumps(body["payload"], separators=(",", ":")).encode()
        queue.put_nowait((msg_id, payload))
        answer = {
            "id": msg_id,
            "eventType": body["eventType"],
            "payload": body["payload"],
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return web.json_response(answer, status=202)

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/api/v1/app/{app}/msg", create_message)
    app.router.add_get("/health", health)
    return app


async def _send(
    session: aiohttp.ClientSession, target: str, key: bytes, queue: asyncio.Queue[tuple[str, bytes]]
) -> None:
    while True:
        msg_id, body = await queue.get()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, msg_id, timestamp, body),
        }
        try:
            async with session.post(target, data=body, headers=headers) as response:
                await response.read()
        except aiohttp.ClientError:
            queue.put_nowait((msg_id, body))  # one more try; the bench fails loudly if it is lost


async def main(port: int, target: str) -> None:
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    key = new_secret_key()
    connector = aiohttp.TCPConnector(limit=SENDERS)
    async with aiohttp.ClientSession(connector=connector) as session:
        senders = [asyncio.create_task(_send(session, target, key, queue)) for _ in range(SENDERS)]
        runner = web.AppRunner(_build(target, queue), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        try:
            await asyncio.Event().wait()
        finally:
            for task in senders:
                task.cancel()
            await runner.cleanup()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    uvloop.run(main(args.port, args.target))
