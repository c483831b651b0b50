"""/api/v1/health: liveness, including a round trip to the database."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import get_runtime
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response, no_content
from hookwire.errors import DatabaseUnavailable, StoreError
from hookwire.runtime import Runtime

router = APIRouter(tags=["Health"], route_class=StrictJsonRoute)

_DATABASE_TIMEOUT = 2.0  # a health check answers within this even while the database hangs


@router.get("/api/v1/health", status_code=204)
async def health(rt: Runtime = Depends(get_runtime)) -> Response:
    """204 when the database answers; 503 `database_unavailable` with the reason when not, so a
    load balancer takes the instance out and an operator reads why."""
    try:
        await asyncio.wait_for(rt.db.fetchrow("get_meta", key="health"), _DATABASE_TIMEOUT)
    except (StoreError, TimeoutError) as exc:
        reason = f"no answer within {_DATABASE_TIMEOUT:g}s" if isinstance(exc, TimeoutError) else str(exc)
        response = json_response(
            {"code": "database_unavailable", "detail": f"database unreachable: {reason}"}, 503
        )
        response.headers["retry-after"] = str(DatabaseUnavailable.retry_after)
        return response
    return no_content()
