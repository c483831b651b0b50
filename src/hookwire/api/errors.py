"""Every error becomes Svix's JSON shape here, once: `{"code": ..., "detail": ...}`.

Validation problems are 422 with a list of `{loc, msg, type}`; a body that is not
JSON at all is 400; a database that is away or busy is 503 with `Retry-After`;
anything unexpected is logged and answered with a 500 JSON body that carries no
traceback.

Unexpected errors are caught by `CatchUnexpected`, not by an `Exception` handler:
Starlette re-raises after running such a handler, and uvicorn then drops the
keep-alive connection, so the client's next request on it would fail too.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookwire.api.responses import json_response
from hookwire.errors import ApiError, DatabaseUnavailable

log = logging.getLogger("hookwire.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, detail: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail}


def _clean(errors: list[Any]) -> list[dict[str, Any]]:
    cleaned = []
    for err in errors:
        cleaned.append(
            {
                # Svix's ValidationError.loc is a list of strings: a list index is "0", not 0.
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return cleaned


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(error_body(exc.code, exc.detail), exc.status_code)


class _DatabaseUnavailableHandler:
    """503 with Retry-After: the database is away or busy, so the client should come back,
    and nothing about its request was wrong (a 500 would say hookwire is broken).

    Logged once per interval with the number answered meanwhile, not once per request."""

    def __init__(self, interval: float = 5.0) -> None:
        self._interval = interval
        self._logged_at = -math.inf
        self._since = 0

    async def __call__(self, _: Request, exc: Exception) -> Response:
        assert isinstance(exc, DatabaseUnavailable)
        self._since += 1
        now = time.monotonic()
        if now - self._logged_at >= self._interval:
            log.warning("answered %d request(s) with 503 since the last report: %s", self._since, exc)
            self._logged_at, self._since = now, 0
        response = json_response(error_body("database_unavailable", str(exc)), 503)
        response.headers["retry-after"] = str(exc.retry_after)
        return response


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            message = err.get("ctx", {}).get("error", "invalid JSON")
            return json_response(error_body("bad_request", f"request body is not valid JSON: {message}"), 400)
    return json_response(error_body("validation", _clean(errors)), 422)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return json_response(error_body(code, exc.detail), exc.status_code)


class CatchUnexpected:
    """Pure ASGI middleware: a bug becomes a logged 500 JSON answer, and the connection stays usable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # nothing sensible can follow a half-sent response
                raise
            body = orjson.dumps(error_body("internal_error", "internal server error; see the server log"))
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    """Map ApiError, validation and HTTP errors to JSON (add CatchUnexpected as the outer middleware)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DatabaseUnavailable, _DatabaseUnavailableHandler())
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
