"""Automations end to end, on SQLite and PostgreSQL: real events through receive() and the router,
real commands (small Python scripts run with sys.executable), real process groups.

Runners are driven with `run(burst=True)` under a deadline; the commands record what they saw
into files, and the tests read those files and the automation log (through the API).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from hookwire.api import automations as automations_api
from hookwire.api.errors import install_error_handlers
from hookwire.automations import (
    Automation,
    AutomationRunner,
    get_run,
    list_runs,
    load_automations,
    make_automation_hook,
)
from hookwire.automations.claims import claim_due_runs
from hookwire.clock import now_ms
from hookwire.ingest.models import IngestSourceIn
from hookwire.ingest.receive import receive
from hookwire.ingest.router import IngestRouter
from hookwire.ingest.sources import create_source
from hookwire.runtime import Runtime
from hookwire.store import open_database
from hookwire.store.statuses import RunStatus

DEADLINE = 30.0
SUCCESS, PENDING, FAIL, RUNNING = RunStatus.SUCCESS, RunStatus.PENDING, RunStatus.FAIL, RunStatus.RUNNING
EVENT_TYPE = "generic-webhook.event"


@dataclasses.dataclass
class Source:
    id: str
    token: str


@pytest.fixture
async def source(runtime: Runtime) -> Source:
    out = await create_source(
        runtime, IngestSourceIn(name="GitHub", uid="github-main", type="generic-webhook", config={})
    )
    return Source(out.id, out.ingest_url.rsplit("/", 1)[1])


@pytest.fixture
async def second_runtime(runtime: Runtime) -> AsyncIterator[Runtime]:
    """Another handle on the same database, as a second server process would have."""
    db = await open_database(runtime.settings.database_url)
    try:
        yield dataclasses.replace(runtime, db=db)
    finally:
        await db.close()


def declare(tmp_path: Path, *tables: str) -> tuple[Automation, ...]:
    path = tmp_path / "hookwire.toml"
    path.write_text("\n".join(f"[[automations]]\n{table}" for table in tables))
    return load_automations(path)


def script(tmp_path: Path, name: str, code: str) -> str:
    """A Python script as a TOML command array, run with this interpreter."""
    path = tmp_path / f"{name}.py"
    path.write_text("import json, os, sys, time\n" + code)
    return f"command = [{json.dumps(sys.executable)}, {json.dumps(str(path))}, {json.dumps(str(tmp_path))}]"


async def send_event(rt: Runtime, source: Source, body: dict[str, Any], *automations: Automation) -> str:
    """One accepted event, through the receive path and the router; returns its request id."""
    answer = await receive(
        rt,
        token=source.token,
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json"},
        body=orjson.dumps(body),
    )
    assert answer.status == 200, answer.body
    assert await IngestRouter(rt, hooks=(make_automation_hook(automations),)).route_due() == 1
    return str(orjson.loads(answer.body)["id"])


async def drain(*runners: AutomationRunner) -> None:
    await asyncio.wait_for(asyncio.gather(*(r.run(burst=True) for r in runners)), DEADLINE)


async def only_run(rt: Runtime, automation: str) -> Any:
    listed = await list_runs(rt, limit=None, iterator=None, automation=automation)
    [run] = listed.data
    return await get_run(rt, run.id)


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(tmp_path.glob("out-*.json"))]


RECORD = """
event = json.load(sys.stdin)
env = {k: v for k, v in os.environ.items() if k.startswith("HOOKWIRE_")}
start = time.time()
time.sleep(float(os.environ.get("NAP", "0")))
record = {"event": event, "env": env, "start": start, "end": time.time(), "cwd": os.getcwd(),
          "deploy_env": os.environ.get("DEPLOY_ENV"), "lang": os.environ.get("LANG")}
with open(os.path.join(sys.argv[1], "out-" + env["HOOKWIRE_RUN_ID"] + ".json"), "w") as f:
    json.dump(record, f)
print("deployed", event)
print("a warning", file=sys.stderr)
"""


async def test_the_command_gets_the_event_on_stdin_and_its_metadata_in_the_environment(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "record", RECORD)
    automations = declare(
        tmp_path,
        f"""name = "deploy-on-push"
source = "github-main"
event_types = ["{EVENT_TYPE}"]
filter = "ref == 'refs/heads/main'"
transformation = "{{sha: after, repo: repository.full_name}}"
serialize_by = "repository.full_name"
{command}
env = {{ DEPLOY_ENV = "prod" }}""",
        f'name = "other-types"\nsource = "github-main"\nevent_types = ["release"]\n{command}',
        f'name = "other-source"\nsource = "src_nope"\n{command}',
        f'name = "broken-transformation"\nsource = "{source.id}"\ntransformation = "abs(after)"\n{command}',
    )
    push = {"ref": "refs/heads/main", "after": "abc123", "repository": {"full_name": "acme/site"}}
    request_id = await send_event(runtime, source, push, *automations)
    await send_event(runtime, source, {**push, "ref": "refs/heads/dev"}, *automations)
    environ = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOOKWIRE_SECRET_KEY": "leak"}

    await drain(AutomationRunner(runtime, automations, environ=environ))

    [seen] = records(tmp_path)
    assert seen["event"] == {"sha": "abc123", "repo": "acme/site"}
    run = await only_run(runtime, "deploy-on-push")
    assert seen["env"] == {
        "HOOKWIRE_EVENT_ID": request_id,  # a generic webhook has no provider event id
        "HOOKWIRE_EVENT_TYPE": EVENT_TYPE,
        "HOOKWIRE_SOURCE_ID": source.id,
        "HOOKWIRE_REQUEST_ID": request_id,
        "HOOKWIRE_AUTOMATION": "deploy-on-push",
        "HOOKWIRE_ATTEMPT": "1",
        "HOOKWIRE_RUN_ID": run.id,
    }
    assert (seen["deploy_env"], seen["lang"], seen["cwd"]) == ("prod", "C.UTF-8", str(tmp_path.resolve()))
    assert (run.status, run.attempts, run.serial_key, run.event) == (SUCCESS, 1, "acme/site", seen["event"])
    [attempt] = run.attempt_log
    assert attempt.exit_code == 0 and attempt.error is None
    assert attempt.stdout == "deployed {'sha': 'abc123', 'repo': 'acme/site'}\n"
    assert attempt.stderr == "a warning\n"
    # Events that do not match queue nothing; an expression failing on the body is a logged failure.
    names = sorted(r.automation for r in (await list_runs(runtime, limit=None, iterator=None)).data)
    assert names == ["broken-transformation", "broken-transformation", "deploy-on-push"]
    broken = await list_runs(runtime, limit=None, iterator=None, automation="broken-transformation")
    for listed in broken.data:
        detail = await get_run(runtime, listed.id)
        assert detail.status == FAIL
        assert detail.attempt_log[0].error is not None
        assert "cannot build the event" in detail.attempt_log[0].error


FLAKY = """
counter = os.path.join(sys.argv[1], "count")
n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(n))
print("try", n, "attempt", os.environ["HOOKWIRE_ATTEMPT"])
if n == 1:
    print("boom", file=sys.stderr)
    sys.exit(1)
"""


def _api(rt: Runtime) -> httpx.AsyncClient:
    app = FastAPI()
    app.state.rt = rt
    install_error_handlers(app)
    app.include_router(automations_api.router)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hookwire",
        headers={"Authorization": f"Bearer {rt.settings.api_token}"},
    )


async def test_a_failing_command_is_retried_and_every_attempt_is_in_the_log(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    automations = declare(
        tmp_path,
        'name = "flaky"\nsource = "github-main"\nretry_schedule = "100ms"\n'
        + script(tmp_path, "flaky", FLAKY),
    )
    await send_event(runtime, source, {"n": 1}, *automations)

    await drain(AutomationRunner(runtime, automations))

    async with _api(runtime) as api:
        listed = (await api.get("/api/v1/automation/run", params={"automation": "flaky"})).json()
        [run] = listed["data"]
        assert (run["status"], run["statusText"], run["attempts"]) == (SUCCESS, "success", 2)
        detail = (await api.get(f"/api/v1/automation/run/{run['id']}")).json()
        first, second = detail["attemptLog"]
        assert (first["exitCode"], first["stdout"], first["stderr"]) == (1, "try 1 attempt 1\n", "boom\n")
        assert (second["exitCode"], second["stdout"], second["stderr"]) == (0, "try 2 attempt 2\n", "")
        assert first["error"] is None and first["durationMs"] >= 0
        assert detail["event"] == {"n": 1}
        failed = await api.get("/api/v1/automation/run", params={"status": FAIL})
        assert failed.json()["data"] == []
        assert (await api.get("/api/v1/automation/run/arun_nope")).status_code == 404
        anonymous = await api.get("/api/v1/automation/run", headers={"Authorization": ""})
        assert anonymous.status_code == 401


async def test_a_command_that_keeps_failing_fails_once_the_schedule_is_exhausted(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "fail", "print('no'); sys.exit(3)")
    automations = declare(
        tmp_path, f'name = "doomed"\nsource = "github-main"\nretry_schedule = "50ms"\n{command}'
    )
    await send_event(runtime, source, {}, *automations)

    await drain(AutomationRunner(runtime, automations))

    run = await only_run(runtime, "doomed")
    assert (run.status, run.attempts) == (FAIL, 2)
    assert [(a.exit_code, a.stdout) for a in run.attempt_log] == [(3, "no\n"), (3, "no\n")]


HANG = """
child = __import__("subprocess").Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(os.path.join(sys.argv[1], "grandchild.pid"), "w").write(str(child.pid))
print("started", flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def test_a_timeout_kills_the_whole_process_group_and_is_recorded(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "hang", HANG)
    automations = declare(
        tmp_path, f'name = "slow"\nsource = "github-main"\ntimeout = "500ms"\nretry_schedule = ""\n{command}'
    )
    await send_event(runtime, source, {}, *automations)

    started = time.monotonic()
    await drain(AutomationRunner(runtime, automations))

    assert time.monotonic() - started < 10
    run = await only_run(runtime, "slow")
    assert (run.status, run.attempts) == (FAIL, 1)
    [attempt] = run.attempt_log
    assert attempt.exit_code == -15  # SIGTERM
    assert attempt.error == "timed out after 0.5s; killed the process group"
    assert attempt.stdout == "started\n"
    assert 500 <= attempt.duration_ms < 8000
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not _alive(grandchild)


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


async def test_runs_with_the_same_serial_key_never_overlap_across_runners_while_other_keys_do(
    runtime: Runtime, second_runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    automations = declare(
        tmp_path,
        f"""name = "deploy"
source = "github-main"
serialize_by = "repo"
concurrency = 4
env = {{ NAP = "0.3" }}
{script(tmp_path, "record", RECORD)}""",
    )
    for n, repo in enumerate(["a", "b", "a", "b", "a"]):
        await send_event(runtime, source, {"repo": repo, "n": n}, *automations)

    await drain(AutomationRunner(runtime, automations), AutomationRunner(second_runtime, automations))

    seen = records(tmp_path)
    assert sorted(r["event"]["n"] for r in seen) == [0, 1, 2, 3, 4]
    for key in ("a", "b"):
        same = [r for r in seen if r["event"]["repo"] == key]
        assert not any(_overlap(x, y) for i, x in enumerate(same) for y in same[i + 1 :]), same
    assert any(_overlap(x, y) for x in seen for y in seen if x["event"]["repo"] != y["event"]["repo"])


async def test_an_automation_never_runs_more_commands_at_once_than_its_concurrency(
    runtime: Runtime, second_runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    automations = declare(
        tmp_path,
        'name = "pair"\nsource = "github-main"\nconcurrency = 2\nenv = { NAP = "0.3" }\n'
        + script(tmp_path, "record", RECORD),
    )
    for n in range(5):
        await send_event(runtime, source, {"n": n}, *automations)

    await drain(AutomationRunner(runtime, automations), AutomationRunner(second_runtime, automations))

    seen = records(tmp_path)
    assert len(seen) == 5
    at_once = max(sum(1 for r in seen if r["start"] <= s["start"] < r["end"]) for s in seen)
    assert at_once == 2


async def test_stopping_the_runner_kills_a_running_command_and_queues_the_run_again(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "hang", HANG)
    automations = declare(tmp_path, f'name = "long"\nsource = "github-main"\ntimeout = "60s"\n{command}')
    await send_event(runtime, source, {}, *automations)
    runner = AutomationRunner(runtime, automations, stop_grace=0.1)
    task = asyncio.create_task(runner.run())
    deadline = time.monotonic() + DEADLINE
    while not (tmp_path / "grandchild.pid").exists():
        assert time.monotonic() < deadline, "the command never started"
        await asyncio.sleep(0.02)

    runner.stop()
    await asyncio.wait_for(task, DEADLINE)

    run = await only_run(runtime, "long")
    assert (run.status, run.attempts) == (PENDING, 1)
    [attempt] = run.attempt_log
    assert attempt.exit_code == -15
    assert attempt.error is not None and attempt.error.startswith("interrupted")


async def test_claims_racing_from_many_processes_keep_serial_keys_and_concurrency(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "noop", "")
    automations = declare(
        tmp_path,
        f'name = "serial"\nsource = "github-main"\nserialize_by = "repo"\nconcurrency = 10\n{command}',
        f'name = "capped"\nsource = "github-main"\nconcurrency = 3\n{command}',
    )
    for n in range(6):
        await send_event(runtime, source, {"repo": "a", "n": n}, *automations)
    handles = [await open_database(runtime.settings.database_url) for _ in range(8)]
    try:
        now = now_ms()
        by_name = {a.name: a for a in automations}
        claims = await asyncio.gather(
            *(claim_due_runs(db, by_name, now=now, lease_until=now + 60_000) for db in handles)
        )
    finally:
        for db in handles:
            await db.close()

    claimed = Counter(run.automation for claim in claims for run in claim)
    assert claimed == {"serial": 1, "capped": 3}


async def test_a_command_that_cannot_start_fails_its_run_with_the_reason_and_others_still_run(
    runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    command = script(tmp_path, "record", RECORD)
    gone = tmp_path / "deploy.sh"
    gone.write_text("#!/bin/sh\n")
    gone.chmod(0o755)
    automations = declare(
        tmp_path,
        f'name = "missing-binary"\nsource = "github-main"\ncommand = ["{gone}"]',
        f'name = "works"\nsource = "github-main"\n{command}',
    )
    gone.unlink()  # removed after the server started, e.g. by a deploy
    await send_event(runtime, source, {"n": 1}, *automations)
    await send_event(runtime, source, {"n": 2}, *automations)

    await drain(AutomationRunner(runtime, automations, environ={"PATH": os.defpath}))

    assert sorted(r["event"]["n"] for r in records(tmp_path)) == [1, 2]
    broken = await list_runs(runtime, limit=None, iterator=None, automation="missing-binary")
    assert len(broken.data) == 2
    for listed in broken.data:
        run = await get_run(runtime, listed.id)
        [attempt] = run.attempt_log  # failed at once: retrying cannot make the file appear
        assert run.status == FAIL and attempt.exit_code is None
        assert attempt.error is not None and "No such file or directory" in attempt.error
