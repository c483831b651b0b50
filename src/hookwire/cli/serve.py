"""`hookwire serve` and `hookwire worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator

import click
import uvicorn

from hookwire.api.app import create_app
from hookwire.cli.command_name import hookwire_command, path_hint
from hookwire.cli.http_server import raise_open_file_limit, server_config
from hookwire.cli.ports import bind_listen_socket
from hookwire.cli.runtime import Opened, open_runtime, open_sender
from hookwire.delivery.worker import DeliveryWorker
from hookwire.ingest.automations import Automation, AutomationRunner, make_automation_hook
from hookwire.ingest.router import IngestRouter
from hookwire.redact import redact_url
from hookwire.settings import Settings

log = logging.getLogger("hookwire.serve")


def _banner(opened: Opened) -> str:
    settings = opened.rt.settings
    url = f"http://{settings.host}:{settings.port}"
    command = hookwire_command()
    lines = [
        f"hookwire is running at {url}  (database: {redact_url(settings.database_url)})",
        f"  API docs:    {url}/docs",
    ]
    if opened.new_token:
        lines.append(f"  admin token: {opened.new_token}   (shown once; `{command} token` prints it again)")
        token = opened.new_token
    else:
        lines.append(f"  admin token: run `{command} token` to print it (or set HOOKWIRE_API_TOKEN)")
        token = f"$({command} token)"
    if settings.allow_private_targets:
        lines.append("  private targets are ALLOWED (local development): endpoints may point at localhost")
    hint = path_hint()
    if hint:
        lines.append(f"  {hint}")
    lines += [
        "  try it:",
        # double quotes: the shell must expand $(hookwire token) when this is pasted
        f'    curl -s -X POST {url}/api/v1/app -H "Authorization: Bearer {token}" \\',
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


async def run_server(settings: Settings, automations: tuple[Automation, ...] = ()) -> None:
    listen_socket = bind_listen_socket(settings.host, settings.port)  # a taken port fails first
    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender) if settings.workers else None
    # Every serve process routes, so every one queues automation runs; runs execute where workers run.
    runner = None
    if settings.workers and automations:
        runner = AutomationRunner(rt, automations, environ=os.environ)
    router = IngestRouter(rt, hooks=(make_automation_hook(automations),) if automations else ())
    config = server_config(create_app(rt), settings)

    def stop_workers() -> None:
        if worker:
            worker.stop()
        if runner:
            runner.stop()

    server = _Server(config, on_stop=stop_workers)
    background: list[asyncio.Task[None]] = []
    if worker:
        background.append(asyncio.create_task(worker.run()))
    if runner:
        background.append(asyncio.create_task(runner.run()))
    for task in background:
        task.add_done_callback(lambda task: _worker_ended(task, server))
    router_task = asyncio.create_task(router.run())
    click.echo(_banner(opened), err=True)
    try:
        await server.serve(sockets=[listen_socket])
    finally:
        try:
            router.stop()
            await router_task
            stop_workers()
            await asyncio.gather(*background, return_exceptions=True)
        finally:
            await session.close()
            await rt.db.close()


def _worker_ended(task: asyncio.Task[None], server: uvicorn.Server) -> None:
    """A worker that ends while the server runs has failed: stop serving, so that a supervisor
    restarts the process instead of leaving an API that accepts messages nobody sends."""
    if server.should_exit:
        return
    if not task.cancelled() and task.exception() is not None:
        log.error("a worker (deliveries or automations) failed; stopping", exc_info=task.exception())
    server.should_exit = True


async def run_worker(
    settings: Settings, automations: tuple[Automation, ...] = (), *, burst: bool = False
) -> None:
    from hookwire.cli.main import install_stop_handlers

    raise_open_file_limit()  # outbound connections need descriptors too
    opened = await open_runtime(settings)
    rt = opened.rt
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender)
    runner = AutomationRunner(rt, automations, environ=os.environ) if automations else None

    def stop() -> None:
        worker.stop()
        if runner:
            runner.stop()

    install_stop_handlers(stop)
    click.echo(f"hookwire worker started (database: {redact_url(settings.database_url)})", err=True)
    try:
        # --burst: run what is due now (retries scheduled for later stay queued), then exit.
        tasks = [asyncio.create_task(worker.run(burst=burst, burst_horizon=0.0))]
        if runner:
            tasks.append(asyncio.create_task(runner.run(burst=burst, burst_horizon=0.0)))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop()  # one failed (or a burst finished): the others stop too
        await asyncio.gather(*tasks)
    finally:
        await session.close()
        await rt.db.close()
