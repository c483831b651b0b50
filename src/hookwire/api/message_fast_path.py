"""`POST /api/v1/app/{app_id}/msg` without FastAPI's per-request machinery, for the common request.

Why: a profile of the API process under load (docs/benchmarks.md) showed FastAPI's routing
(matching every route of every router in turn), dependency injection and request validation
taking more CPU than creating the message itself. The hot route is also the simplest one.

This route sits first in the app's route list. It answers a request itself only when it is the
plain, valid case: the admin bearer token, no query string, a JSON body that `MessageIn`
accepts, an `idempotency-key` within bounds. Anything else (a wrong token, a malformed body,
`with_content`, ...) is handed, body and all, to the FastAPI route, so every error answer and
every option stays exactly what the documented route does. The OpenAPI document comes from the
FastAPI route; this one is not in it. What both do with a valid request is one function,
`accept_message`, so they cannot drift apart. The durability rule is unchanged: the 202 is
sent after `create_message` has committed the message and its deliveries.

The front door (`HookwireApp`, the FastAPI app's own `__call__`) goes one step further: a
POST to this path is offered to `serve_front` before FastAPI's middleware stack runs (its
error, telemetry and body-limit layers, then ours), because a profile of the SQLite end-to-end
run showed those layers at a third of the API process's busy time for this route. It does
inline what our middleware does for a request (body size limit, NUL guard, request count and
duration, the request log line, error answers through the app's own exception handlers, a 500
for a bug) and hands anything else, with the body read so far, to the full stack.
"""

from __future__ import annotations

import inspect
import logging
import re
import time

import orjson
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookwire.api.deps import token_matches
from hookwire.api.errors import error_body
from hookwire.api.responses import json_response
from hookwire.events import MESSAGE_CREATED
from hookwire.outbound import messages
from hookwire.outbound.models import MessageIn
from hookwire.runtime import Runtime

log = logging.getLogger("hookwire.api")

PATH = "/api/v1/app/{app_id}/msg"
_PATH = re.compile(r"^/api/v1/app/([^/]+)/msg$")
_MAX_IDEMPOTENCY_KEY = 256  # the FastAPI route's Header(max_length=256)


async def accept_message(
    rt: Runtime, app_id: str, data: MessageIn, idempotency_key: str | None, *, with_content: bool = True
) -> Response:
    """Create the message (committed with its deliveries), announce it, answer 202."""
    message, created = await messages.create_message(rt, app_id, data, idempotency_key=idempotency_key)
    if created:
        rt.events.publish(MESSAGE_CREATED, {"msgId": message.id})
    if not with_content:
        message = message.model_copy(update={"payload": {}})
    return json_response(message, 202)


def _is_json(content_type: bytes | None) -> bool:
    """What FastAPI reads as a JSON body: application/json or +json. Without a content type
    FastAPI (0.165) does not parse the body, and answers 422: the documented route decides."""
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class MessageCreateFastPath(BaseRoute):
    def __init__(self, rt: Runtime, full_route: APIRoute) -> None:
        self._rt = rt
        self._full = full_route

    @classmethod
    def for_router_routes(cls, rt: Runtime, routes: list[BaseRoute]) -> MessageCreateFastPath:
        full = next(
            r for r in routes if isinstance(r, APIRoute) and r.path == PATH and "POST" in (r.methods or ())
        )
        return cls(rt, full)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = _PATH.match(scope["path"])
            if found is not None:
                return Match.FULL, {"path_params": {"app_id": found.group(1)}}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = await _read_body(receive)
        data, key = self._plain_case(scope, body) if not more else (None, None)
        if data is None:
            await self._hand_over(scope, body, receive, send)
            return
        response = await accept_message(self._rt, scope["path_params"]["app_id"], data, key)
        await response(scope, receive, send)

    async def serve_front(self, scope: Scope, receive: Receive, send: Send, full: ASGIApp) -> bool:
        """Answer a plain create before any middleware runs; False (nothing read, nothing sent)
        when the request is not a candidate, and `full` (the whole stack) answers anything else
        that is not plain, with the body replayed."""
        path: str = scope["path"]
        found = _PATH.match(path)
        if found is None or "\x00" in path or scope.get("query_string"):
            return False
        if self._rt.metrics.tracer is not None:  # CountRequests opens a span per request
            return False
        length = next((v for n, v in scope["headers"] if n == b"content-length"), None)
        limit = self._rt.settings.max_payload_bytes
        if length is None or not length.isdigit() or int(length) > limit:
            return False  # chunked, or too big: the stack's BodySizeLimit decides
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit or not message.get("more_body", False):
                break
        done = messages[-1]
        plain = done["type"] == "http.request" and not done.get("more_body", False) and size <= limit
        body = b"".join(m.get("body", b"") for m in messages) if plain else b""
        data, key = self._plain_case(scope, body) if plain else (None, None)
        if data is None:
            await full(scope, _replaying(messages, receive), send)
            return True
        scope["path_params"] = {"app_id": found.group(1)}
        started = time.perf_counter()
        status = 500
        try:
            response = await accept_message(self._rt, found.group(1), data, key)
        except Exception as exc:
            response = await self._error_response(scope, exc)
        status = response.status_code
        try:
            await response(scope, receive, send)
        finally:
            metrics = self._rt.metrics
            metrics.api_requests.labels("POST", PATH, str(status)).inc()
            metrics.api_seconds.labels(PATH).observe(time.perf_counter() - started)
            self._rt.activity.request("POST", path, status, (time.perf_counter() - started) * 1000)
        return True

    async def _error_response(self, scope: Scope, exc: Exception) -> Response:
        """What the stack answers for `exc`: the app's handler for its type (ApiError: 404, 409;
        DatabaseUnavailable: 503), or CatchUnexpected's logged 500."""
        app = scope.get("app")
        handlers = app.exception_handlers if isinstance(app, FastAPI) else {}
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None and cls is not Exception:
                response = handler(Request(scope), exc)
                if inspect.isawaitable(response):
                    response = await response
                assert isinstance(response, Response)
                return response
        log.error("unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
        body = orjson.dumps(error_body("internal_error", "internal server error; see the server log"))
        return Response(body, status_code=500, media_type="application/json")

    def _plain_case(self, scope: Scope, body: bytes) -> tuple[MessageIn | None, str | None]:
        """The validated message and idempotency key, or (None, None) for anything else."""
        if scope.get("query_string"):
            return None, None
        auth = content_type = key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"content-type":
                content_type = value
            elif name == b"idempotency-key":
                if key is not None:
                    return None, None
                key = value
        expected = self._rt.settings.api_token
        if auth is None or expected is None or not _is_json(content_type):
            return None, None
        scheme, _, token = auth.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token or not token_matches(token, expected):
            return None, None
        if key is not None and (len(key) > _MAX_IDEMPOTENCY_KEY or not key.isascii()):
            return None, None
        try:
            data = MessageIn.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError, ValueError, TypeError):
            return None, None
        return data, None if key is None else key.decode()

    async def _hand_over(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """Let the FastAPI route answer, with the body it would have read."""
        match, child = self._full.matches(scope)
        if match is not Match.FULL:  # unreachable while both routes share the path
            await Response(status_code=404)(scope, receive, send)
            return
        scope.update(child)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._full.handle(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body (the size guard has already read and bounded it); `more` if the client left."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` for an app that must see the request from its start: what was read, then the rest."""
    queued = list(messages)

    async def replay() -> Message:
        return queued.pop(0) if queued else await receive()

    return replay


class HookwireApp(FastAPI):
    """The FastAPI app with the front door of the plain `POST …/msg` (see the module)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            fast = self.router.routes[0] if self.router.routes else None
            if isinstance(fast, MessageCreateFastPath):
                scope["app"] = self
                if await fast.serve_front(scope, receive, send, super().__call__):
                    return
        await super().__call__(scope, receive, send)
