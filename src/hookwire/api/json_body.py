"""Request bodies parsed with orjson: strict JSON, the same rules as the JSON hookwire stores.

FastAPI parses bodies with the standard library, which accepts `NaN` and
`Infinity` (not JSON; they would be stored as null) and lone UTF-16 surrogates
(`"\\ud800"`, which no UTF-8 encoder or PostgreSQL accepts, so the write failed
with a 500). orjson refuses all of them while parsing; its `JSONDecodeError` is the
standard library's, so `api/errors.py` answers 400 as for any malformed body.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response


class _StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """Route class for the API routers: the body is read as strict JSON (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_json_handler(request: Request) -> Response:
            return await handler(_StrictJsonRequest(request.scope, request.receive))

        return strict_json_handler
