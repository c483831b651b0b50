"""Settings: precedence, validation with a message that names the fix, and documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookwire.errors import ConfigError
from hookwire.settings import SETTINGS, load_settings, parse_retry_schedule

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_defaults_match_the_documented_contract() -> None:
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///./hookwire.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8040)
    assert settings.allow_private_targets is False
    assert settings.retry_delays == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert settings.request_timeout == 15
    assert settings.base_url == "http://127.0.0.1:8040"
    assert settings.endpoint_concurrency == 50
    assert (settings.circuit_breaker_failures, settings.circuit_breaker_cooldown) == (5, 5.0)


def test_flags_beat_environment_beat_toml_beat_defaults(tmp_path: Path) -> None:
    config = tmp_path / "hookwire.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nretry_schedule = "1s"\n')
    env = {"HOOKWIRE_PORT": "9100", "HOOKWIRE_ALLOW_PRIVATE_TARGETS": "true"}
    settings = load_settings(config_file=config, environ=env, flags={"port": 9200, "host": None})
    assert settings.port == 9200
    assert settings.host == "0.0.0.0"
    assert settings.allow_private_targets is True
    assert settings.retry_delays == (1,)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOOKWIRE_PORT": "eighty"}, "HOOKWIRE_PORT"),
        ({"HOOKWIRE_ALLOW_PRIVATE_TARGETS": "maybe"}, "boolean"),
        ({"HOOKWIRE_RETRY_SCHEDULE": "5s,soon"}, "duration"),
        ({"HOOKWIRE_DATABASE_URL": "mysql://x"}, "sqlite:///PATH or postgresql"),
        ({"HOOKWIRE_ENDPOINT_CONCURRENCY": "0"}, "HOOKWIRE_ENDPOINT_CONCURRENCY=0 must be at least 1"),
        ({"HOOKWIRE_CIRCUIT_BREAKER_FAILURES": "-1"}, "HOOKWIRE_CIRCUIT_BREAKER_FAILURES=-1 must not be"),
        ({"HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN": "-5"}, "HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN=-5.0 must be"),
        ({"HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN": "nan"}, "HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN=nan must be"),
        ({"HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN": "soon"}, "HOOKWIRE_CIRCUIT_BREAKER_COOLDOWN"),
    ],
)
def test_invalid_values_fail_with_a_message_naming_the_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_toml_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "hookwire.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(config_file=config, environ={})


def test_retry_schedule_units() -> None:
    assert parse_retry_schedule("500ms,5s,5m,2h,1d") == (0.5, 5, 300, 7200, 86400)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented(setting: object) -> None:
    assert f"`{setting.env}`" in DOCS.read_text()  # type: ignore[attr-defined]
