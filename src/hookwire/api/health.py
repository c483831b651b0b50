"""/api/v1/health: liveness, including a round trip to the database."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import get_runtime
from hookwire.api.responses import json_response, no_content
from hookwire.runtime import Runtime

router = APIRouter(tags=["Health"])


@router.get("/api/v1/health", status_code=204)
async def health(rt: Runtime = Depends(get_runtime)) -> Response:
    try:
        await rt.db.fetchrow("get_meta", key="health")
    except Exception as exc:  # the database is down: say so instead of a 500
        return json_response({"code": "unhealthy", "detail": f"database unreachable: {exc}"}, 503)
    return no_content()
