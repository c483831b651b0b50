"""hookwire under test: `python -m hookwire serve` / `worker` subprocesses, and the API calls to set up.

Every process gets the same benchmark settings (a fixed token and secret key, private
targets allowed because the receiver is on 127.0.0.1, warnings only) plus what the
scenario overrides. Nothing here reads hookwire's internals: set-up goes through the
public API, like a customer's code would.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks.processes import Process, Supervisor, free_port

TOKEN = "hw_benchmark_token_0123456789"
SECRET_KEY = "benchmark-secret-key-0123456789abcdefghijklmnop"


def hookwire_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a hookwire process: inherited, minus any HOOKWIRE_* the shell had."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(
        {
            "HOOKWIRE_DATABASE_URL": database_url,
            "HOOKWIRE_HOST": "127.0.0.1",
            "HOOKWIRE_API_TOKEN": TOKEN,
            "HOOKWIRE_SECRET_KEY": SECRET_KEY,
            "HOOKWIRE_ALLOW_PRIVATE_TARGETS": "true",
            "HOOKWIRE_LOG_LEVEL": "warning",
        }
    )
    env.update(overrides)
    return env


def _argv(supervisor: Supervisor, name: str, command: str) -> list[str]:
    """`python -m hookwire COMMAND`, under cProfile when the run profiles (`--profile`)."""
    if supervisor.profile_dir is None:
        return [sys.executable, "-m", "hookwire", command]
    out = supervisor.profile_dir / f"{supervisor.unique_name(name)}.prof"
    return [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "hookwire", command]


@dataclass
class Api:
    """A running `hookwire serve` and an HTTP session to call it with."""

    process: Process
    url: str
    session: aiohttp.ClientSession

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}

    def messages_url(self, app_id: str) -> str:
        return f"{self.url}/api/v1/app/{app_id}/msg"

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{self.url}{path}", json=body, headers=self.headers) as response:
            data: dict[str, Any] = await response.json(content_type=None)
            if response.status >= 300:
                raise RuntimeError(f"POST {path} answered {response.status}: {data}")
            return data

    async def create_app(self, name: str) -> str:
        return str((await self._post("/api/v1/app", {"name": name, "uid": name}))["id"])

    async def create_endpoints(self, app_id: str, urls: list[str]) -> list[str]:
        ids = []
        for url in urls:
            ids.append(str((await self._post(f"/api/v1/app/{app_id}/endpoint", {"url": url}))["id"]))
        return ids

    async def stop(self) -> int | None:
        await self.session.close()
        return await asyncio.to_thread(self.process.stop)


async def start_serve(supervisor: Supervisor, database_url: str, *, workers: bool, **env: str) -> Api:
    """`hookwire serve` on a free port; returns once `/api/v1/health` answers."""
    port = free_port()
    overrides = {"HOOKWIRE_PORT": str(port), "HOOKWIRE_WORKERS": "true" if workers else "false", **env}
    name = "hookwire-serve" if workers else "hookwire-serve-no-workers"
    env_all = hookwire_env(database_url, **overrides)
    process = supervisor.start(name, _argv(supervisor, name, "serve"), env_all)
    url = f"http://127.0.0.1:{port}"
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not process.running():
            await session.close()
            raise RuntimeError(f"hookwire serve exited at start:\n{process.log_tail()}")
        try:
            async with session.get(f"{url}/api/v1/health") as response:
                if response.status in (200, 204):
                    return Api(process, url, session)
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    await session.close()
    raise RuntimeError(f"hookwire serve did not become healthy within 60s:\n{process.log_tail()}")


async def set_up_app(
    supervisor: Supervisor, database_url: str, name: str, urls: list[str]
) -> tuple[str, list[str], Process]:
    """An app with one endpoint per URL, made through a short-lived `hookwire serve` (workers
    off), so secrets are sealed as in production. Returns the app and endpoint IDs and the
    stopped serve process (for its peak RSS)."""
    api = await start_serve(supervisor, database_url, workers=False)
    try:
        app_id = await api.create_app(name)
        endpoints = await api.create_endpoints(app_id, urls)
    finally:
        await api.stop()
    return app_id, endpoints, api.process


def start_worker(supervisor: Supervisor, database_url: str, **env: str) -> Process:
    """`hookwire worker` (not `--burst`: the scenario stops it once the receiver has everything)."""
    name = "hookwire-worker"
    return supervisor.start(name, _argv(supervisor, name, "worker"), hookwire_env(database_url, **env))
