"""How the user can run `hookwire` again from this shell: the name the hints print.

After `make serve` the console script lives in `.venv/bin/`, which is not on PATH; a hint that
says `hookwire token` would then fail with "command not found"."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def _relative(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def hookwire_command() -> str:
    """`hookwire` when that name on PATH is this program, else the path of the script that runs."""
    script = Path(sys.argv[0]).absolute()
    on_path = shutil.which("hookwire")
    if script.name == "hookwire":
        if on_path and Path(on_path).resolve() == script.resolve():
            return "hookwire"
        return _relative(script)
    if on_path:
        return "hookwire"
    return f"{_relative(Path(sys.executable))} -m hookwire"


def path_hint() -> str | None:
    """One line on putting `hookwire` on PATH, when it is not."""
    command = hookwire_command()
    if command == "hookwire":
        return None
    if command.endswith("/bin/hookwire"):
        activate = command.removesuffix("/hookwire") + "/activate"
        return f"`hookwire` is not on your PATH: run `source {activate}` (or use {command})"
    return f"`hookwire` is not on your PATH: use `{command}`"
