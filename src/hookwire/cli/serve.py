"""`hookwire serve` and `hookwire worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import click
import uvicorn

from hookwire.api.app import create_app
from hookwire.cli.runtime import Opened, open_runtime, open_sender
from hookwire.delivery.worker import DeliveryWorker
from hookwire.ingest.router import IngestRouter
from hookwire.settings import Settings


def _banner(opened: Opened) -> str:
    settings = opened.rt.settings
    url = f"http://{settings.host}:{settings.port}"
    lines = [
        f"hookwire is running at {url}  (database: {settings.database_url})",
        f"  API docs:    {url}/docs",
    ]
    if opened.new_token:
        lines.append(f"  admin token: {opened.new_token}   (shown once; `hookwire token` prints it again)")
        token = opened.new_token
    else:
        lines.append("  admin token: run `hookwire token` to print it (or set HOOKWIRE_API_TOKEN)")
        token = "$(hookwire token)"
    if settings.allow_private_targets:
        lines.append("  private targets are ALLOWED (local development): endpoints may point at localhost")
    lines += [
        "  try it:",
        f"    curl -s -X POST {url}/api/v1/app -H 'Authorization: Bearer {token}' \\",
        "         -H 'content-type: application/json' -d '{\"name\": \"My first app\"}'",
    ]
    return "\n".join(lines)


class _Server(uvicorn.Server):
    """uvicorn's server without its signal re-raise: after a graceful SIGTERM/SIGINT, uvicorn
    raises the signal again once the HTTP side is down, which would kill the process before
    the delivery workers finish their in-flight attempts and hand back their leases."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        from hookwire.cli.main import install_stop_handlers

        def stop() -> None:
            # a second signal stops without waiting for open connections
            self.force_exit = self.should_exit
            self.should_exit = True

        install_stop_handlers(stop)
        yield


async def run_server(settings: Settings) -> None:
    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender) if settings.workers else None
    worker_task = asyncio.create_task(worker.run()) if worker else None
    router = IngestRouter(rt)
    router_task = asyncio.create_task(router.run())
    config = uvicorn.Config(
        create_app(rt),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="off",
        loop="none",
        timeout_graceful_shutdown=int(settings.request_timeout) + 1,
    )
    server = _Server(config)
    click.echo(_banner(opened), err=True)
    try:
        await server.serve()
    finally:
        router.stop()
        await router_task
        if worker and worker_task:
            worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
        await session.close()
        await rt.db.close()


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    from hookwire.cli.main import install_stop_handlers

    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender)
    install_stop_handlers(worker.stop)
    click.echo(f"hookwire worker started (database: {settings.database_url})", err=True)
    try:
        await worker.run(burst=burst)
    finally:
        await session.close()
        await rt.db.close()
