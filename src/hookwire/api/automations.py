"""/api/v1/automation: the automation log, and re-running a failed run (automations are declared in
the config file)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import RunStatusParam
from hookwire.api.responses import json_response
from hookwire.automations.log import AutomationRunDetailOut, get_run, list_runs, rerun
from hookwire.outbound.models import ListResponse
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/automation", tags=["Automations (hookwire)"], route_class=StrictJsonRoute)


@router.get("/run", response_model=ListResponse)
async def list_automation_runs(
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    automation: str | None = None,
    status: RunStatusParam | None = None,
) -> Response:
    """Automation runs, newest first; filter by automation name and status
    (success, pending, fail or running, by name or as 0-3)."""
    result = await list_runs(rt, limit=limit, iterator=iterator, automation=automation, status=status)
    return json_response(result)


@router.get("/run/{run_id}", response_model=AutomationRunDetailOut)
async def get_automation_run(run_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    """One run with the event its command got on stdin and every attempt: exit code, the first
    64 KiB of stdout and stderr, duration and error."""
    return json_response(await get_run(rt, run_id))


@router.post("/run/{run_id}/rerun", response_model=AutomationRunDetailOut, status_code=202)
async def rerun_automation_run(run_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    """Run a failed run again from the start, now (409 for a run that did not fail)."""
    return json_response(await rerun(rt, run_id), 202)
