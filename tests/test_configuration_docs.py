"""docs/configuration.md against the code: every documented flag and setting exists, and every
existing one is documented (a new user copied eleven flags from it that did not exist)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from hookwire.cli.main import main
from hookwire.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def _table() -> dict[str, list[str]]:
    """The settings table: environment variable -> its cells."""
    rows = {}
    for line in DOCS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `HOOKWIRE_"):
            assert len(cells) == 5, (
                f"a settings row needs 5 cells (env, TOML key, flag, default, meaning): {line}"
            )
            rows[cells[0].strip("`")] = cells
    return rows


def _real_flags() -> dict[str, dict[str, set[str]]]:
    """Setting name -> flag spelling -> the commands that take it, read from the click commands."""
    names = {s.name for s in SETTINGS}
    found: dict[str, dict[str, set[str]]] = {}
    for command_name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and param.name in names:
                for flag in (*param.opts, *param.secondary_opts):
                    found.setdefault(param.name, {}).setdefault(flag, set()).add(command_name)
    return found


def _documented_flags(cell: str) -> dict[str, set[str]]:
    """`--a`/`--no-a` (serve, worker); `--b` (worker) -> {flag: commands}."""
    documented: dict[str, set[str]] = {}
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        if part == "—":
            continue
        match = re.fullmatch(r"(.+?) \(([a-z, -]+)\)", part)
        assert match, f"flag cell should read `--flag` (command, ...): {part!r}"
        commands = {c.strip() for c in match.group(2).split(",")}
        for flag in re.findall(r"`(--[a-z0-9-]+)`", match.group(1)):
            documented[flag] = commands
    return documented


def test_every_setting_has_a_row_and_every_row_is_a_setting() -> None:
    rows = _table()
    assert set(rows) == {s.env for s in SETTINGS}, "rows without a setting, or settings without a row"
    for setting in SETTINGS:
        assert rows[setting.env][1] == f"`{setting.name}`", (
            f"{setting.env}: TOML key should be {setting.name}"
        )


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_documented_flags_are_exactly_the_real_flags(setting: object) -> None:
    name, env = setting.name, setting.env  # type: ignore[attr-defined]
    documented = _documented_flags(_table()[env][2])
    real = _real_flags().get(name, {})
    missing = set(documented) - set(real)
    assert not missing, f"{env}: documented flags that do not exist: {sorted(missing)}"
    undocumented = set(real) - set(documented)
    assert not undocumented, f"{env}: flags that exist but are not documented: {sorted(undocumented)}"
    for flag, commands in real.items():
        assert documented[flag] == commands, f"{flag}: documented for {documented[flag]}, taken by {commands}"


def test_every_flag_the_page_names_exists() -> None:
    every = {"--help", "--version"} | {
        flag
        for command in main.commands.values()
        for param in command.params
        if isinstance(param, click.Option)
        for flag in (*param.opts, *param.secondary_opts)
    }
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", DOCS.read_text()))
    assert named - every == set()
