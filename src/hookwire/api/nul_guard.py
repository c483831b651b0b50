"""Refuse a NUL character in the URL path or query with a 422, before routing.

PostgreSQL text cannot hold or compare NUL (the driver raises), while SQLite
accepts it: without this guard `GET /app/a%00b` would be a 500 on one database
and a 404 on the other. JSON bodies get the same rule from the models.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send


class RejectNulInUrl:
    """Pure ASGI middleware: a NUL in the path or the query string is a 422 validation error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = None
            if "\x00" in scope.get("path", ""):
                where = "path"
            elif b"%00" in scope.get("query_string", b""):
                where = "query"
            if where is not None:
                await self._refuse(send, where)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send: Send, where: str) -> None:
        detail = [{"loc": [where], "msg": "must not contain a NUL character", "type": "value_error"}]
        body = orjson.dumps({"code": "validation", "detail": detail})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 422, "headers": headers})
        await send({"type": "http.response.body", "body": body})
