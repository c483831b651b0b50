"""Which code was measured: the git commit, whether `src/` had uncommitted changes, and a hash of it.

hookwire is installed editable, so a run measures whatever `src/` holds while it runs.
The hash is taken at the start and at the end; when they differ, `src/` changed during
the run and its figures may come from different versions of the code, which the report
says.
"""

from __future__ import annotations

import hashlib
import subprocess

from benchmarks.processes import REPO

SOURCE = REPO / "src" / "hookwire"


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".sql"):
            digest.update(str(path.relative_to(SOURCE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def provenance() -> dict[str, object]:
    return {
        "commit": _git("rev-parse", "--short", "HEAD") or None,
        "src_uncommitted_changes": bool(_git("status", "--porcelain", "--", "src")),
        "src_hash": source_hash(),
    }
