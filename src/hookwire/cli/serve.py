"""`hookwire serve` and `hookwire worker`: the long-running processes.

`serve` on a machine with more than one CPU (or with `--processes N`, N > 1) is a supervisor
(`cli/supervisor.py`) whose children run `run_server` (the API, no workers) and `run_worker`
(deliveries and automation runs); with one process, `run_server` does everything itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterator

import click
import uvicorn

from hookwire.activity import start_activity_log, stop_activity_log
from hookwire.api.app import create_app
from hookwire.automations import Automation, AutomationRunner, make_automation_hook
from hookwire.cli import heap
from hookwire.cli.banner import banner
from hookwire.cli.http_server import raise_open_file_limit, server_config
from hookwire.cli.ports import bind_listen_socket
from hookwire.cli.runtime import open_runtime, open_sender
from hookwire.delivery.worker import DeliveryWorker
from hookwire.event_links import open_event_link
from hookwire.ingest.router import IngestRouter
from hookwire.operations.monitor import OperationsMonitor
from hookwire.operations.tracing import start_tracing
from hookwire.redact import redact_url
from hookwire.settings import Settings
from hookwire.store.database import ALONE, WakeupTurn

log = logging.getLogger("hookwire.serve")


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


async def run_server(
    settings: Settings,
    automations: tuple[Automation, ...] = (),
    *,
    listen_fd: int | None = None,
    event_hub: str | None = None,
) -> None:
    """The API (and, with `settings.workers`, the delivery workers) in this process. Under a
    supervisor, `listen_fd` is the supervisor's listening socket, shared by every API child, and
    `event_hub` the socket of its event hub (SQLite)."""
    child = listen_fd is not None
    if child:
        listen_socket = socket.socket(fileno=listen_fd)
    else:
        listen_socket = bind_listen_socket(settings.host, settings.port)  # a taken port fails first
    opened = await open_runtime(settings, migrate=not child)
    rt = opened.rt
    link = await open_event_link(rt, event_hub)
    rt.metrics.tracer = start_tracing("hookwire", os.environ)
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
        if monitor:
            monitor.stop()

    server = _Server(config, on_stop=stop_workers)
    background: list[asyncio.Task[None]] = []
    if worker:
        background.append(asyncio.create_task(worker.run()))
    if runner:
        background.append(asyncio.create_task(runner.run()))
    monitor = OperationsMonitor(rt, limits=worker.limits) if worker else None
    if monitor:
        background.append(asyncio.create_task(monitor.run()))
    for task in background:
        task.add_done_callback(lambda task: _worker_ended(task, server))
    router_task = asyncio.create_task(router.run())
    activity_log = start_activity_log(rt.activity, rt.events)  # this process's attempts and inbound
    if not child:
        click.echo(banner(opened), err=True)
    heap.settle()
    try:
        await server.serve(sockets=[listen_socket])
    finally:
        await stop_activity_log(activity_log)
        try:
            router.stop()
            await router_task
            stop_workers()
            await asyncio.gather(*background, return_exceptions=True)
        finally:
            await session.close()
            if link is not None:
                await link.close()
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
    settings: Settings,
    automations: tuple[Automation, ...] = (),
    *,
    burst: bool = False,
    event_hub: str | None = None,
    migrate: bool = True,
    turn: WakeupTurn = ALONE,
) -> None:
    from hookwire.cli.main import install_stop_handlers

    raise_open_file_limit()  # outbound connections need descriptors too
    opened = await open_runtime(settings, migrate=migrate)
    rt = opened.rt
    link = await open_event_link(rt, event_hub)
    rt.metrics.tracer = start_tracing("hookwire", os.environ)
    session, sender = open_sender(rt.settings)
    worker = DeliveryWorker(rt, sender, turn=turn)
    runner = AutomationRunner(rt, automations, environ=os.environ) if automations else None
    monitor = OperationsMonitor(rt, limits=worker.limits)

    def stop() -> None:
        worker.stop()
        monitor.stop()
        if runner:
            runner.stop()

    install_stop_handlers(stop)
    if migrate:  # a supervisor's child says nothing: the supervisor printed the banner
        click.echo(f"hookwire worker started (database: {redact_url(settings.database_url)})", err=True)
    activity_log = start_activity_log(rt.activity, rt.events)
    heap.settle()
    try:
        # --burst: run what is due now (retries scheduled for later stay queued), then exit.
        tasks = [asyncio.create_task(worker.run(burst=burst, burst_horizon=0.0))]
        if runner:
            tasks.append(asyncio.create_task(runner.run(burst=burst, burst_horizon=0.0)))
        monitoring = asyncio.create_task(monitor.run())
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop()  # one failed (or a burst finished): the others stop too
        await asyncio.gather(*tasks, monitoring)
    finally:
        await stop_activity_log(activity_log)
        await session.close()
        if link is not None:
            await link.close()
        await rt.db.close()
