"""The console script as a new user meets it: first start, the token, migrate, clear config errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.support.server import free_port, serve_until_healthy_then_stop


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(extra)
    return env


def _hookwire(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookwire", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_first_serve_prints_url_and_token_once_and_token_command_repeats_it(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "hookwire", "serve", "--port", str(port)]
    ran = serve_until_healthy_then_stop(command, port=port, cwd=tmp_path, env=_env())
    banner = ran.stderr
    assert ran.returncode == 0, banner
    assert f"http://127.0.0.1:{port}" in banner
    token_line = next(line for line in banner.splitlines() if "admin token:" in line)
    token = token_line.split("admin token:")[1].split()[0]
    assert token.startswith("hw_")
    assert f"Bearer {token}" in banner  # the copy-paste curl example
    assert "private targets" not in banner  # `hookwire serve` alone keeps the safe default

    key_file = tmp_path / "hookwire.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    printed = _hookwire("token", cwd=tmp_path)
    assert printed.stdout.strip() == token


def test_migrate_reports_what_it_applied(tmp_path: Path) -> None:
    first = _hookwire("migrate", cwd=tmp_path)
    second = _hookwire("migrate", cwd=tmp_path)
    assert first.returncode == 0 and "0001_initial" in first.stdout
    assert second.stdout.strip() == "schema is up to date"


def test_postgres_without_secret_key_fails_with_the_fix(tmp_path: Path) -> None:
    result = _hookwire(
        "serve", cwd=tmp_path, HOOKWIRE_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test"
    )
    assert result.returncode == 2
    assert "HOOKWIRE_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_fails_before_serving_and_names_it(tmp_path: Path) -> None:
    result = _hookwire("serve", cwd=tmp_path, HOOKWIRE_RETRY_SCHEDULE="5s,later")
    assert result.returncode == 2
    assert "duration" in result.stderr and "Traceback" not in result.stderr
