"""/healthz, /readyz and /metrics: what load balancers and Prometheus ask, without a token.

- `/healthz` (liveness): the process answers HTTP. Nothing else is checked, so a database
  outage never makes an orchestrator restart healthy processes.
- `/readyz` (readiness): the database answers and every migration this version knows is
  applied; otherwise 503 with the reason, so a load balancer sends traffic elsewhere.
- `/metrics`: Prometheus exposition; open by default, the admin token with
  HOOKWIRE_METRICS_REQUIRE_TOKEN.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from hookwire.api.deps import get_runtime, token_matches
from hookwire.clock import now_ms
from hookwire.errors import Unauthorized
from hookwire.operations.metrics import StateCollector
from hookwire.runtime import Runtime
from hookwire.store.migrate import load_migrations

router = APIRouter(tags=["Health"])
_READY_TIMEOUT = 2.0


@router.get("/healthz")
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


async def not_ready_reason(rt: Runtime) -> str | None:
    """Why this process should get no traffic, or None when it is ready."""
    try:
        rows = await asyncio.wait_for(rt.db.fetch("applied_migrations"), _READY_TIMEOUT)
    except TimeoutError:
        return f"database did not answer within {_READY_TIMEOUT:g}s"
    except Exception as exc:  # the store's error tree and anything a driver raises while down
        return f"database unreachable: {exc}"
    applied = {int(r["version"]) for r in rows}
    pending = [m.version for m in load_migrations(rt.db.dialect) if m.version not in applied]
    if pending:
        listed = ", ".join(f"{v:04d}" for v in pending)
        return f"migrations pending: {listed} (run `hookwire migrate`)"
    return None


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    reason = await not_ready_reason(get_runtime(request))
    if reason is not None:
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    rt = get_runtime(request)
    if rt.settings.metrics_require_token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given or not rt.settings.api_token or not token_matches(given, rt.settings.api_token):
            raise Unauthorized("/metrics needs the admin token (HOOKWIRE_METRICS_REQUIRE_TOKEN is on)")
    now = now_ms()
    due, disabled = await asyncio.gather(
        rt.db.fetchrow("oldest_due", now=now), rt.db.fetchrow("disabled_endpoint_count")
    )
    oldest = due["oldest"] if due and due["oldest"] is not None else None
    state = StateCollector(
        depth=int(due["depth"]) if due else 0,
        oldest_due_age=max(now - oldest, 0) / 1000 if oldest is not None else 0.0,
        disabled_endpoints=int(disabled["n"]) if disabled else 0,
    )
    body = generate_latest(rt.metrics.exposition_registry([state]))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
