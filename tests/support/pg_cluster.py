"""A PostgreSQL cluster of the test's own (initdb in a temp dir, a free port), for tests that
stop the database. The shared server at 127.0.0.1:5432 is never touched.

As root (CI containers), the cluster runs as the `postgres` user: initdb refuses root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.server import free_port


def postgres_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def cluster_unavailable_reason() -> str | None:
    if postgres_bin("initdb") is None or postgres_bin("pg_ctl") is None:
        return "initdb/pg_ctl not found (looked in /usr/lib/postgresql/*/bin and PATH)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the cluster as"
    return None


class OwnCluster:
    """`start()`, `stop_immediately()` (a crash, as `pg_ctl stop -m immediate`), `start()` again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hookwire-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as_postgres, *argv], check=True, capture_output=True, timeout=timeout, cwd=self.dir
        )

    def init(self) -> OwnCluster:
        initdb = postgres_bin("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl is not None
        # fsync off: the operating system stays up, so what PostgreSQL wrote survives its own
        # crash; synchronous_commit stays on, or a crash would lose acknowledged commits.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop_immediately(self) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        if pg_ctl is not None and (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as_postgres, pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
