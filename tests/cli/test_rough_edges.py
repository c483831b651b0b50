"""Regression tests for the rough edges a new user hit on a first afternoon with hookwire."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.server import free_port, serve_until_healthy_then_stop

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "hookwire"  # the console script a `make serve` venv has


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(extra)
    return env


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=60
    )


def _serve_banner(cwd: Path, port: int, **env: str) -> str:
    command = [str(SCRIPT), "serve", "--port", str(port)]
    return serve_until_healthy_then_stop(command, port=port, cwd=cwd, env=_env(**env)).stderr


def test_taken_port_fails_before_the_banner_and_token_and_names_the_settings(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "--port" in result.stderr and "HOOKWIRE_PORT" in result.stderr
    assert "hookwire is running" not in result.stderr and "admin token" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "hookwire.db").exists()  # no token was generated for a server that never ran


def test_start_hint_quotes_the_token_command_so_the_shell_expands_it(tmp_path: Path) -> None:
    _serve_banner(tmp_path, free_port(), PATH="/usr/bin:/bin")  # first start: the token is shown
    banner = _serve_banner(tmp_path, free_port(), PATH="/usr/bin:/bin")  # later: the hint runs the command
    curl = next(line for line in banner.splitlines() if "curl" in line)
    # `hookwire` is not on this PATH, so the hint names the script that is, inside double quotes
    assert f'-H "Authorization: Bearer $({SCRIPT} token)"' in curl or (
        f'-H "Authorization: Bearer $({os.path.relpath(SCRIPT, tmp_path)} token)"' in curl
    )
    assert "/bin/activate" in banner  # and how to put it on PATH

    # pasted into a shell, the hint's token command prints the real token
    token = subprocess.run(
        ["sh", "-c", f'echo "$({SCRIPT} token)"'], cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert token.stdout.strip().startswith("hw_")


def test_make_serve_says_how_to_get_hookwire_on_path() -> None:
    dry = subprocess.run(["make", "-n", "serve"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "source .venv/bin/activate" in dry.stdout


def test_token_in_a_folder_without_a_database_refuses_instead_of_creating_one(tmp_path: Path) -> None:
    result = _run("token", cwd=tmp_path)
    assert result.returncode == 2
    assert "no hookwire database at" in result.stderr and "--database-url" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database, no key file


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('port = "abc"', "port = 'abc' (in "),
        ('retry_schedule = "5x"', "retry_schedule = '5x' (in "),
        ("worker_concurrency = 0", "worker_concurrency = 0 (in "),
        ('log_level = "loud"', "log_level = 'loud' (in "),
    ],
)
def test_toml_errors_name_the_toml_key(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "hookwire.toml"
    config.write_text(toml + "\n")
    result = _run("migrate", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "HOOKWIRE_" not in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_log_level_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = _run("migrate", cwd=tmp_path, HOOKWIRE_LOG_LEVEL="loud")
    assert result.returncode == 2
    assert "HOOKWIRE_LOG_LEVEL=loud is not a log level" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "migrate", "worker"])
def test_sqlite_path_in_a_missing_or_non_folder_names_the_setting(tmp_path: Path, command: str) -> None:
    (tmp_path / "afile").write_text("")
    for url, reason in (("sqlite:///nope/x.db", "does not exist"), ("sqlite:///afile/x.db", "is a file")):
        result = _run(command, cwd=tmp_path, HOOKWIRE_DATABASE_URL=url)
        assert result.returncode == 2, result.stderr
        assert reason in result.stderr and "HOOKWIRE_DATABASE_URL" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "nope").exists()


def test_zero_worker_concurrency_is_refused(tmp_path: Path) -> None:
    result = _run("worker", "--concurrency", "0", cwd=tmp_path)
    assert result.returncode == 2 and "--worker-concurrency 0 must be at least 1" in result.stderr


def test_license_is_an_spdx_string_so_setuptools_does_not_warn() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]  # the first to read SPDX strings
