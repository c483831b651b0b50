"""`hookwire tail`: follow delivery attempts and inbound requests live, one coloured line each.

A failed attempt is red, a 4xx yellow, a success green; an inbound request shows how the source
judged it (accepted, duplicate, rejected). It reconnects by itself like `hookwire listen`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

import click
import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from hookwire.cli.client_config import ServerAccess, server_access
from hookwire.cli.exit_codes import AUTH_FAILED, CONFIG_ERROR, NOT_FOUND, OK, for_refusal
from hookwire.cli.listen import PING_INTERVAL, Backoff
from hookwire.cli.terminal import Printer
from hookwire.errors import ConfigError

_INBOUND_STATUS = {"accepted": 200, "duplicate": 200, "challenge": 200, "rejected": 401}


def print_line(printer: Printer, line: dict[str, Any]) -> None:
    if line.get("type") == "attempt":
        status = line.get("status")
        if line.get("failed") and status is not None and status < 300:
            status = None  # a "success" code the engine still counted as failed (should not happen)
        printer.event(
            status=status,
            method="POST",
            url=str(line.get("url")),
            duration_ms=line.get("durationMs"),
            event_type=line.get("eventType"),
            event_id=str(line.get("id")),
            error=line.get("error"),
            extra={"kind": "attempt", "attemptId": line.get("attemptId"), "failed": line.get("failed")},
        )
    elif line.get("type") == "inbound":
        printer.event(
            status=_INBOUND_STATUS.get(str(line.get("result")), 400),
            method=str(line.get("method")),
            url=f"{line.get('source')} {line.get('path') or '/'} ({line.get('result')})",
            duration_ms=None,
            event_type=line.get("eventType"),
            event_id=str(line.get("id")),
            error=line.get("error") if line.get("failed") else None,
            extra={"kind": "inbound", "sourceId": line.get("sourceId"), "failed": line.get("failed")},
        )
    elif line.get("type") == "overflow":
        printer.note(str(line.get("detail")), "yellow")


async def follow(access: ServerAccess, start: dict[str, Any], printer: Printer) -> int:
    backoff, first, lost = Backoff(), True, False
    while True:
        try:
            async with websockets.connect(
                access.ws_url + "/api/v1/tail",
                additional_headers=access.headers,
                ping_interval=PING_INTERVAL,
                ping_timeout=PING_INTERVAL,
                open_timeout=10,
            ) as ws:
                await ws.send(orjson.dumps(start).decode())
                async for raw in ws:
                    line = orjson.loads(raw)
                    if line.get("type") == "error":
                        printer.note(f"hookwire: {line.get('detail')}", "red")
                        code = line.get("code")
                        return (
                            AUTH_FAILED
                            if code == "authentication_failed"
                            else (NOT_FOUND if code == "not_found" else CONFIG_ERROR)
                        )
                    if line.get("type") == "ready":
                        if first:
                            printer.note(f"following {access.url} (^C to quit)")
                        elif lost:
                            printer.note(f"connected to {access.url} again", "green")
                        first, lost = False, False
                        backoff.reset()
                        continue
                    print_line(printer, line)
        except ConnectionClosed as exc:
            refused = for_refusal(exc.rcvd.code if exc.rcvd else None)
            if refused is not None:
                printer.note(f"hookwire: {exc.rcvd.reason if exc.rcvd else ''}", "red")
                return refused
            lost = _lost(printer, access, lost, exc)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            lost = _lost(printer, access, lost, exc)
        await asyncio.sleep(backoff.next())


def _lost(printer: Printer, access: ServerAccess, lost: bool, exc: BaseException) -> bool:
    """One line when the connection goes, none while retrying."""
    if not lost:
        printer.note(f"lost the connection to {access.url} ({exc}); retrying", "yellow")
    return True


@click.command()
@click.option("--app", metavar="APP", help="only this application's attempts")
@click.option("--source", metavar="SRC", help="only this source's inbound requests")
@click.option("--status", type=click.Choice(["failed", "success"]), help="only failed, or only successful")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--url", help="server URL (HOOKWIRE_URL, or `hookwire login`)")
@click.option("--token", help="API token (HOOKWIRE_TOKEN, or `hookwire login`)")
def tail(
    app: str | None, source: str | None, status: str | None, as_json: bool, url: str | None, token: str | None
) -> None:
    """Follow delivery attempts and inbound requests as they happen."""
    if app and source:
        raise click.UsageError("give --app or --source, not both")
    try:
        access = server_access(url, token)
    except ConfigError as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(CONFIG_ERROR)
    start = {"type": "start", "app": app, "source": source, "status": status}
    printer = Printer("json" if as_json else "compact")

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        try:
            return await follow(access, start, printer)
        except asyncio.CancelledError:
            return OK

    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
