"""`hookwire serve` and `hookwire worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import click
import uvicorn

from hookwire.api.app import create_app
from hookwire.cli.runtime import Opened, open_runtime, open_sender
from hookwire.delivery.worker import DeliveryWorker
from hookwire.ingest.router import IngestRouter
from hookwire.settings import Settings

log = logging.getLogger("hookwire.serve")


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
    the delivery workers finish their in-flight attempts and hand back their leases.

    `on_stop` runs on the first signal, so the workers stop claiming at once instead of
    after the HTTP side has drained."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        from hookwire.cli.main import install_stop_handlers

        def stop() -> None:
            # a second signal stops without waiting for open connections
            self.force_exit = self.should_exit
            self.should_exit = True
            self._on_stop()

        install_stop_handlers(stop)
        yield


async def run_server(settings: Settings) -> None:
    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender) if settings.workers else None
    router = IngestRouter(rt)
    config = uvicorn.Config(
        create_app(rt),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="off",
        loop="none",
        timeout_graceful_shutdown=int(settings.request_timeout) + 1,
    )
    server = _Server(config, on_stop=worker.stop if worker else lambda: None)
    worker_task = asyncio.create_task(worker.run()) if worker else None
    if worker_task:
        worker_task.add_done_callback(lambda task: _worker_ended(task, server))
    router_task = asyncio.create_task(router.run())
    click.echo(_banner(opened), err=True)
    try:
        await server.serve()
    finally:
        try:
            router.stop()
            await router_task
            if worker and worker_task:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
        finally:
            await session.close()
            await rt.db.close()


def _worker_ended(task: asyncio.Task[None], server: uvicorn.Server) -> None:
    """A worker that ends while the server runs has failed: stop serving, so that a supervisor
    restarts the process instead of leaving an API that accepts messages nobody sends."""
    if server.should_exit:
        return
    if not task.cancelled() and task.exception() is not None:
        log.error("the delivery worker failed; stopping", exc_info=task.exception())
    server.should_exit = True


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    from hookwire.cli.main import install_stop_handlers

    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender)
    install_stop_handlers(worker.stop)
    click.echo(f"hookwire worker started (database: {settings.database_url})", err=True)
    try:
        # --burst: deliver what is due now (retries scheduled for later stay queued), then exit.
        await worker.run(burst=burst, burst_horizon=0.0)
    finally:
        await session.close()
        await rt.db.close()
