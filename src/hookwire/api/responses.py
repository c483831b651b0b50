"""JSON responses written straight from the models (camelCase, no second validation pass)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def json_response(content: BaseModel | dict[str, Any] | list[Any], status_code: int = 200) -> Response:
    if isinstance(content, BaseModel):
        body = content.model_dump_json(by_alias=True).encode()
    else:
        body = orjson.dumps(content)
    return Response(body, status_code=status_code, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)
