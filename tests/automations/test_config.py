"""Automations as declared: the TOML checks at start, and the pure rules a run is built by."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from hookwire.automations import load_automations
from hookwire.automations.claimed import ClaimedRun
from hookwire.automations.claims import next_state
from hookwire.automations.config import Automation
from hookwire.automations.hook import matches, plan_run, serial_key
from hookwire.automations.process import CommandResult, command_env
from hookwire.errors import ConfigError
from hookwire.settings import load_settings
from hookwire.store.statuses import RunStatus

PYTHON = json.dumps(sys.executable)  # a TOML basic string


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hookwire.toml"
    path.write_text(text)
    return path


def _automation(**fields: Any) -> Automation:
    values: dict[str, Any] = {
        "name": "a",
        "source": "github-main",
        "command": ("true",),
        "working_dir": Path(),
    }
    values.update(fields)
    return Automation(**values)


def test_the_documented_example_loads_beside_the_settings(tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "deploy.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    path = _write(
        tmp_path,
        """
        port = 9000

        [[automations]]
        name = "deploy-on-push"
        source = "github-main"
        event_types = ["push"]
        filter = "ref == 'refs/heads/main'"
        transformation = "{sha: after}"
        command = ["./scripts/deploy.sh", "--fast"]
        timeout = "90s"
        concurrency = 2
        serialize_by = "repository.full_name"
        retry_schedule = "5s,1m,10m"
        working_dir = "."
        env = { DEPLOY_ENV = "prod" }
        """,
    )
    [automation] = load_automations(path)
    assert automation == Automation(
        name="deploy-on-push",
        source="github-main",
        command=(str(script.resolve()), "--fast"),
        working_dir=tmp_path.resolve(),
        timeout=90.0,
        concurrency=2,
        event_types=("push",),
        filter="ref == 'refs/heads/main'",
        transformation="{sha: after}",
        serialize_by="repository.full_name",
        retry_delays=(5.0, 60.0, 600.0),
        env={"DEPLOY_ENV": "prod"},
    )
    assert load_settings(config_file=path, environ={}).port == 9000  # settings skip the tables


def test_defaults_and_a_file_without_automations(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[[automations]]\nname = "n"\nsource = "s"\ncommand = [{PYTHON}]\n')
    [automation] = load_automations(path)
    assert (automation.timeout, automation.concurrency, automation.retry_delays) == (60.0, 1, None)
    assert automation.working_dir == tmp_path.resolve()
    assert load_automations(_write(tmp_path, 'port = 1\n[hookwire]\nhost = "x"\n')) == ()


def test_automations_inside_a_hookwire_table_are_found(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f'[hookwire]\nport = 1\n[[hookwire.automations]]\nname = "n"\nsource = "s"\ncommand = [{PYTHON}]\n',
    )
    assert [a.name for a in load_automations(path)] == ["n"]


GOOD = f'name = "deploy"\nsource = "github-main"\ncommand = [{PYTHON}, "x.py"]\n'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'command = "./deploy.sh --fast"',
            "field 'command' must be a list of arguments (argv), not a string",
        ),
        ("command = []", "field 'command' must be a non-empty list of strings"),
        ('command = ["./missing.sh"]', "field 'command' './missing.sh' is not an executable file"),
        ('source = ""', "field 'source' must be a non-empty string"),
        ('event_types = "push"', "field 'event_types' must be a list of non-empty strings"),
        ('filter = "ref =="', "field 'filter' is not a valid JMESPath expression"),
        ('transformation = "{a: }"', "field 'transformation' is not a valid JMESPath expression"),
        ('serialize_by = "[["', "field 'serialize_by' is not a valid JMESPath expression"),
        ('timeout = "soon"', "field 'timeout' must be a duration"),
        ('timeout = "0s"', "field 'timeout' must be positive"),
        ("concurrency = 0", "field 'concurrency' must be a whole number of at least 1"),
        ('concurrency = "2"', "field 'concurrency' must be a whole number of at least 1"),
        ('retry_schedule = "5s,soon"', "field 'retry_schedule' is invalid"),
        ('working_dir = "no/such/dir"', "field 'working_dir' 'no/such/dir' is not a directory"),
        ('env = { HOOKWIRE_API_TOKEN = "x" }', "field 'env' may not set 'HOOKWIRE_API_TOKEN'"),
        ("env = { PORT = 8080 }", "field 'env' value of 'PORT' must be a string"),
        ('serialise_by = "x"', "unknown field 'serialise_by'"),
    ],
)
def test_a_bad_field_is_refused_naming_the_automation_and_the_field(
    tmp_path: Path, extra: str, message: str
) -> None:
    fields = "\n".join(line for line in GOOD.splitlines() if not line.startswith(extra.split(" ")[0]))
    path = _write(tmp_path, f"[[automations]]\n{fields}\n{extra}\n")
    with pytest.raises(ConfigError) as caught:
        load_automations(path)
    assert "automation 'deploy'" in str(caught.value)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"[[automations]]\n{GOOD}\n[[automations]]\n{GOOD}", "automation 'deploy' is declared twice"),
        ('[[automations]]\nname = "has space"\n', "automations[0]: field 'name' is required"),
        ("[[automations]]\nsource = 's'\n", "automations[0]: field 'name' is required"),
        ("[automations]\nname = 'x'\n", "'automations' must be an array of tables"),
        ("[[automations]\n", "cannot read config file"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_automations(_write(tmp_path, text))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_automations(tmp_path / "absent.toml")


PUSH = {"ref": "refs/heads/main", "after": "abc", "repository": {"full_name": "acme/site"}}


@pytest.mark.parametrize(
    ("fields", "source", "event_type", "expected"),
    [
        ({}, ("src_1", "github-main"), "push", True),
        ({"source": "src_1"}, ("src_1", "github-main"), "push", True),
        ({}, ("src_2", "other"), "push", False),
        ({}, ("src_2", None), "push", False),
        ({"event_types": ("push",)}, ("src_1", "github-main"), "push", True),
        ({"event_types": ("release",)}, ("src_1", "github-main"), "push", False),
        ({"filter": "ref == 'refs/heads/main'"}, ("src_1", "github-main"), "push", True),
        ({"filter": "ref == 'refs/heads/dev'"}, ("src_1", "github-main"), "push", False),
        ({"filter": "length(after) > `5`"}, ("src_1", "github-main"), "push", False),
    ],
)
def test_which_events_an_automation_matches(
    fields: dict[str, Any], source: tuple[str, str | None], event_type: str, expected: bool
) -> None:
    assert matches(_automation(**fields), source[0], source[1], event_type, PUSH) is expected


@pytest.mark.parametrize(
    ("fields", "event", "key"),
    [
        ({}, PUSH, None),
        ({"transformation": "{sha: after}"}, {"sha": "abc"}, None),
        ({"serialize_by": "repository.full_name"}, PUSH, "acme/site"),
        ({"serialize_by": "repository"}, PUSH, '{"full_name":"acme/site"}'),
        ({"serialize_by": "missing"}, PUSH, "null"),  # still serialised: all such runs share one key
    ],
)
def test_the_run_gets_the_transformed_event_and_the_key_of_the_original(
    fields: dict[str, Any], event: Any, key: str | None
) -> None:
    plan = plan_run(_automation(**fields), PUSH)
    assert (json.loads(plan.event), plan.serial_key, plan.error) == (event, key, None)


def test_an_expression_that_fails_on_this_body_is_reported_not_raised() -> None:
    plan = plan_run(_automation(transformation="abs(after)"), PUSH)  # a string has no abs()
    assert plan.error is not None and "cannot build the event" in plan.error


def test_serial_keys_are_strings_as_they_are_and_json_otherwise() -> None:
    assert [serial_key(v) for v in ("a/b", 7, None, [1])] == ["a/b", "7", "null", "[1]"]


def test_the_command_environment_drops_hookwire_settings_and_adds_the_metadata() -> None:
    run = ClaimedRun(
        id="arun_1",
        automation="deploy",
        request_id="req_1",
        source_id="src_1",
        event_type="push",
        event_id=None,
        serial_key=None,
        event="{}",
        attempts=2,
    )
    base = {"PATH": "/bin", "HOOKWIRE_SECRET_KEY": "s3cret", "hookwire_api_token": "t"}
    env = command_env(base, _automation(name="deploy", env={"DEPLOY_ENV": "prod"}), run)
    assert env == {
        "PATH": "/bin",
        "DEPLOY_ENV": "prod",
        "HOOKWIRE_AUTOMATION": "deploy",
        "HOOKWIRE_RUN_ID": "arun_1",
        "HOOKWIRE_ATTEMPT": "3",
        "HOOKWIRE_EVENT_ID": "req_1",  # the provider sent no event id
        "HOOKWIRE_EVENT_TYPE": "push",
        "HOOKWIRE_SOURCE_ID": "src_1",
        "HOOKWIRE_REQUEST_ID": "req_1",
    }


NOW = 1_000_000
OK = CommandResult(0, "", "", 5)
EXIT_1 = CommandResult(1, "", "", 5)
NOT_STARTED = CommandResult(
    None, "", "", 0, error="cannot start './x': No such file or directory", unstartable=True
)
NO_FDS = CommandResult(None, "", "", 0, error="cannot start './x': Too many open files")
TIMED_OUT = CommandResult(-15, "", "", 500, error="timed out after 0.5s; killed the process group")
STOPPED = CommandResult(-15, "", "", 500, error="interrupted", interrupted=True)


@pytest.mark.parametrize(
    ("result", "attempts_made", "status", "delay_ms"),
    [
        (OK, 1, RunStatus.SUCCESS, (0, 0)),
        (OK, 9, RunStatus.SUCCESS, (0, 0)),
        (EXIT_1, 1, RunStatus.PENDING, (800, 1200)),  # the first delay, +-20%
        (EXIT_1, 2, RunStatus.PENDING, (8000, 12000)),
        (EXIT_1, 3, RunStatus.FAIL, (0, 0)),  # the schedule is exhausted
        (NOT_STARTED, 1, RunStatus.FAIL, (0, 0)),  # a poison pill: the same on every retry
        (NO_FDS, 1, RunStatus.PENDING, (800, 1200)),  # local and passing: retried
        (TIMED_OUT, 2, RunStatus.PENDING, (8000, 12000)),
        (TIMED_OUT, 3, RunStatus.FAIL, (0, 0)),
        (STOPPED, 3, RunStatus.PENDING, (0, 0)),  # not its fault: again at once, even exhausted
    ],
)
def test_what_an_attempt_leads_to(
    result: CommandResult, attempts_made: int, status: int, delay_ms: tuple[int, int]
) -> None:
    got_status, due = next_state(result, attempts_made, (1.0, 10.0), NOW)
    assert got_status == status
    assert delay_ms[0] <= due - NOW <= delay_ms[1]
