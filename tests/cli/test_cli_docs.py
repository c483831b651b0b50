"""docs/cli.md against the click commands: every command has a section, every flag of a command is
in its section, every flag a section names exists, and the exit codes are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from hookwire.cli import exit_codes
from hookwire.cli.main import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _sections() -> dict[str, str]:
    parts = re.split(r"^## hookwire (\S+)\n", DOC.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _flags(command: click.Command) -> set[str]:
    return {
        flag
        for param in command.params
        if isinstance(param, click.Option)
        for flag in (*param.opts, *param.secondary_opts)
    }


PUBLIC = sorted(name for name, command in main.commands.items() if not command.hidden)


def test_every_command_has_a_section_and_every_section_a_command() -> None:
    assert set(_sections()) == set(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_a_section_names_exactly_the_flags_of_its_command(name: str) -> None:
    text = _sections()[name]
    real = _flags(main.commands[name])
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
    assert named - real == set(), f"hookwire {name}: documented flags that do not exist"
    assert {f for f in real if f.startswith("--")} - named == set(), f"hookwire {name}: undocumented flags"
    assert "--json" in real, f"hookwire {name} takes no --json"


def test_exit_codes_table_matches_the_code() -> None:
    table = dict(re.findall(r"^\| (\d) \| (.+) \|$", DOC.read_text(), flags=re.M))
    codes = {v for k, v in vars(exit_codes).items() if k.isupper() and isinstance(v, int)}
    assert {int(c) for c in table} == codes
