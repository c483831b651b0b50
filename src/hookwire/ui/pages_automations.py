"""Automation runs (commands declared in the config file, run for inbound events): log and re-run."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.automations import log as automation_log
from hookwire.runtime import Runtime
from hookwire.store.statuses import RunStatus
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator

router = APIRouter(prefix="/ui/automations", route_class=PageRoute, include_in_schema=False)


@router.get("")
async def runs(request: Request, rt: Runtime = Depends(operator), status: str = "") -> Response:
    chosen = (
        RunStatus(int(status)) if status.isdigit() and int(status) in RunStatus._value2member_map_ else None
    )
    listed = await automation_log.list_runs(rt, limit=50, iterator=None, status=chosen)
    return render(request, "automations.html", nav="Automations", runs=listed.data, status=status)


@router.get("/{run_id}")
async def run_page(request: Request, run_id: str, rt: Runtime = Depends(operator)) -> Response:
    run = await automation_log.get_run(rt, run_id)
    return render(request, "automation_run.html", nav="Automations", run=run)


@router.post("/{run_id}/rerun")
async def rerun(
    request: Request, run_id: str, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    """The same operation as `POST /api/v1/automation/run/{run_id}/rerun`."""
    await automation_log.rerun(rt, run_id)
    return RedirectResponse(f"/ui/automations/{run_id}", status_code=303)
