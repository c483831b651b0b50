"""A failed automation run can be run again, from the API (and the dashboard's button uses the same call)."""

from __future__ import annotations

from pathlib import Path

from hookwire.automations import AutomationRunner
from hookwire.runtime import Runtime
from tests.automations.test_runs import (
    FAIL,
    SUCCESS,
    Source,
    _api,
    declare,
    drain,
    only_run,
    script,
    send_event,
)
from tests.automations.test_runs import source as source


async def test_a_failed_run_runs_again_from_the_start_and_the_log_keeps_every_attempt(
    runtime: Runtime,
    source: Source,
    tmp_path: Path,
) -> None:
    flag = tmp_path / "fixed"
    command = script(tmp_path, "flaky", f"sys.exit(0 if os.path.exists({str(flag)!r}) else 4)")
    automations = declare(
        tmp_path, f'name = "deploy"\nsource = "github-main"\nretry_schedule = "50ms"\n{command}'
    )
    await send_event(runtime, source, {"ref": "main"}, *automations)
    await drain(AutomationRunner(runtime, automations))
    failed = await only_run(runtime, "deploy")
    assert (failed.status, failed.attempts) == (FAIL, 2)

    async with _api(runtime) as api:
        flag.write_text("")  # the cause is fixed
        again = await api.post(f"/api/v1/automation/run/{failed.id}/rerun")
        assert again.status_code == 202
        assert (again.json()["status"], again.json()["attempts"]) == (1, 0)
        await drain(AutomationRunner(runtime, automations))
        done = await only_run(runtime, "deploy")
        assert done.status == SUCCESS
        assert [a.exit_code for a in done.attempt_log] == [4, 4, 0]
        twice = await api.post(f"/api/v1/automation/run/{failed.id}/rerun")
        assert twice.status_code == 409
        assert (await api.post("/api/v1/automation/run/nope/rerun")).status_code == 404
