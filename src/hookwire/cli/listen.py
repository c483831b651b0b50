"""`hookwire listen`: forward a source's inbound requests, or an application's messages, to a
local URL, and never lose one.

The CLI holds a WebSocket to the server (`/api/v1/listen`), pings it every few seconds, and when
the connection is lost it says so once, reconnects with backoff capped at 5 s, and says so
again when it is back. The server keeps a cursor per listener, so what arrived meanwhile comes
after the reconnect, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

import click
import httpx
import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hookwire.cli.client_config import ServerAccess, server_access
from hookwire.cli.exit_codes import AUTH_FAILED, CONFIG_ERROR, NOT_FOUND, OK, UNREACHABLE, for_refusal
from hookwire.cli.forwarding import ForwardRules, forward, parse_header, parse_path_map
from hookwire.cli.terminal import Printer
from hookwire.errors import ConfigError
from hookwire.settings import parse_duration

PING_INTERVAL = 5.0  # a dead connection is noticed within about two intervals
BACKOFF_CAP = 5.0
FORWARD_TIMEOUT = 60.0


class Refused(Exception):
    """The server refused the listener (token, unknown source or application): do not retry."""

    def __init__(self, code: str, detail: str, exit_code: int) -> None:
        super().__init__(detail)
        self.code, self.detail, self.exit_code = code, detail, exit_code


@dataclass(frozen=True)
class ListenOptions:
    access: ServerAccess
    sources: tuple[str, ...]
    app: str | None
    rules: ForwardRules
    events: tuple[str, ...]
    name: str
    replay: int | None
    since: float | None
    skip_verify: bool

    def start_frame(self, *, first: bool) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "start", "name": self.name, "events": list(self.events)}
        if self.app:
            frame["app"] = self.app
        else:
            frame["sources"] = list(self.sources)
        if first:  # history is replayed once, not on every reconnect
            if self.replay is not None:
                frame["replay"] = self.replay
            if self.since is not None:
                frame["since"] = self.since
        return frame


class Backoff:
    """0.25 s, 0.5 s, 1 s, 2 s, 4 s, then 5 s between attempts; reset once connected."""

    def __init__(self) -> None:
        self.delay = 0.25

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, BACKOFF_CAP)
        return delay

    def reset(self) -> None:
        self.delay = 0.25


async def run_listener(options: ListenOptions, printer: Printer) -> int:
    backoff = Backoff()
    first, lost = True, False
    rules = options.rules
    async with httpx.AsyncClient(
        verify=not options.skip_verify, timeout=FORWARD_TIMEOUT, follow_redirects=False, trust_env=False
    ) as client:
        while True:
            try:
                async with websockets.connect(
                    options.access.ws_url + "/api/v1/listen",
                    additional_headers=options.access.headers,
                    ping_interval=PING_INTERVAL,
                    ping_timeout=PING_INTERVAL,
                    open_timeout=10,
                    max_size=None,
                ) as ws:
                    await ws.send(orjson.dumps(options.start_frame(first=first)).decode())
                    ready = _check(orjson.loads(await ws.recv()))
                    if ready.get("secret"):
                        rules = ForwardRules(rules.forward_to, rules.path_map, rules.headers, ready["secret"])
                    if first:
                        _print_ready(printer, options, ready)
                    elif lost:
                        printer.note(f"connected to {options.access.url} again; forwarding", "green")
                    first, lost = False, False
                    backoff.reset()
                    async for raw in ws:
                        frame = _check(orjson.loads(raw))
                        if frame.get("type") != "event":
                            continue
                        result = await forward(client, frame, rules)
                        printer.event(
                            status=result.status,
                            method=str(frame.get("method") if frame.get("kind") != "app" else "POST"),
                            url=result.url,
                            duration_ms=result.duration_ms,
                            event_type=frame.get("eventType"),
                            event_id=str(frame["id"]),
                            error=result.error,
                            extra={"replay": True} if frame.get("replay") else None,
                        )
                        await ws.send(orjson.dumps(result.frame(str(frame["id"]))).decode())
            except Refused:
                raise
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    raise Refused(
                        "authentication_failed", "the server refused the token", AUTH_FAILED
                    ) from None
                lost = _lost(printer, options, lost, first, f"server answered {exc.response.status_code}")
            except ConnectionClosed as exc:
                refused = for_refusal(exc.rcvd.code if exc.rcvd else None)
                if refused is not None:
                    reason = exc.rcvd.reason if exc.rcvd else ""
                    raise Refused("refused", reason or "the server refused the listener", refused) from None
                lost = _lost(printer, options, lost, first, _reason(exc))
            except (OSError, InvalidHandshake, TimeoutError, orjson.JSONDecodeError) as exc:
                lost = _lost(printer, options, lost, first, _reason(exc))
            await asyncio.sleep(backoff.next())


def _check(frame: Any) -> dict[str, Any]:
    if not isinstance(frame, dict):
        return {}
    if frame.get("type") == "error":
        code = str(frame.get("code"))
        exit_code = {"authentication_failed": AUTH_FAILED, "not_found": NOT_FOUND}.get(code, CONFIG_ERROR)
        raise Refused(code, str(frame.get("detail")), exit_code)
    return frame


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        return (
            "the connection closed"
            if exc.rcvd is None
            else f"the server closed the connection ({exc.rcvd.code})"
        )
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def _lost(printer: Printer, options: ListenOptions, lost: bool, first: bool, reason: str) -> bool:
    """One line when the connection goes (or cannot be made at start), none while retrying."""
    if not lost:
        what = "cannot reach" if first else "lost the connection to"
        printer.note(
            f"{what} {options.access.url} ({reason}); retrying every few seconds "
            "(nothing is lost: events wait on the server)",
            "yellow",
        )
    return True


def _print_ready(printer: Printer, options: ListenOptions, ready: dict[str, Any]) -> None:
    names = ", ".join(f"{t['name']} ({t['id']})" for t in ready.get("targets", []))
    what = "application" if options.app else ("sources" if len(options.sources) > 1 else "source")
    target = options.rules.forward_to
    printer.note(f"Ready! Forwarding {what} {names} to {target}  (listener {ready.get('listenerId')})")
    if ready.get("secret"):
        printer.note(f"Your webhook signing secret is {ready['secret']} (^C to quit)")
    else:
        printer.note("(^C to quit)")


def _options(
    sources: tuple[str, ...],
    app: str | None,
    forward_to: str,
    events: str | None,
    path_map: tuple[str, ...],
    headers: tuple[str, ...],
    name: str | None,
    replay: int | None,
    since: str | None,
    skip_verify: bool,
    access: ServerAccess,
) -> ListenOptions:
    if bool(sources) == bool(app):
        raise click.UsageError("give --source SRC (one or more) or --app APP")
    if not forward_to.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--forward-to")
    try:
        rules = ForwardRules(forward_to, parse_path_map(path_map), [parse_header(h) for h in headers])
        since_seconds = parse_duration(since) if since else None
    except (ValueError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from None
    if replay is not None and replay < 0:
        raise click.BadParameter("must not be negative", param_hint="--replay")
    event_types = tuple(e.strip() for e in (events or "").split(",") if e.strip() and e.strip() != "*")
    # The same listener (and cursor) on every run from this machine to this local URL.
    default_name = f"{socket.gethostname()} {forward_to}"
    return ListenOptions(
        access, sources, app, rules, event_types, name or default_name, replay, since_seconds, skip_verify
    )


@click.command()
@click.option("--source", "sources", multiple=True, metavar="SRC", help="source id or uid (repeatable)")
@click.option("--app", metavar="APP", help="application id or uid: act as its endpoint while running")
@click.option("--forward-to", metavar="URL", help="local URL that gets every event")
@click.option("--events", metavar="TYPES", help="only these event types, comma-separated; * wildcards")
@click.option(
    "--path-map", multiple=True, metavar="TYPE=/PATH", help="send these types to another local path"
)
@click.option("-H", "--header", "headers", multiple=True, metavar="'K: V'", help="add a header (repeatable)")
@click.option("--skip-verify", is_flag=True, help="accept a self-signed TLS certificate on --forward-to")
@click.option("--output", type=click.Choice(["compact", "json"]), default="compact", help="line format")
@click.option("--json", "as_json", is_flag=True, help="same as --output json")
@click.option("--replay", type=int, metavar="N", help="first re-forward the last N events")
@click.option(
    "--since", metavar="DURATION", help="first re-forward the events of the last DURATION (10m, 2h)"
)
@click.option("--name", help="listener name: listeners with different names each get every event")
@click.option("--print-secret", is_flag=True, help="print the whsec_ secret --app signs with, and exit")
@click.option("--url", help="server URL (HOOKWIRE_URL, or `hookwire login`)")
@click.option("--token", help="API token (HOOKWIRE_TOKEN, or `hookwire login`)")
def listen(
    sources: tuple[str, ...],
    app: str | None,
    forward_to: str | None,
    events: str | None,
    path_map: tuple[str, ...],
    headers: tuple[str, ...],
    skip_verify: bool,
    output: str,
    as_json: bool,
    replay: int | None,
    since: str | None,
    name: str | None,
    print_secret: bool,
    url: str | None,
    token: str | None,
) -> None:
    """Forward a source's webhooks (or an application's messages) to a local URL.

    Runs until ^C or SIGTERM. Events that arrive while it is away are forwarded, in order,
    when it is back.
    """
    try:
        access = server_access(url, token)
    except ConfigError as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(CONFIG_ERROR)
    if print_secret:
        sys.exit(_print_secret(access))
    if not forward_to:
        raise click.UsageError("--forward-to URL is required (the local receiver)")
    options = _options(
        sources, app, forward_to, events, path_map, headers, name, replay, since, skip_verify, access
    )
    printer = Printer("json" if as_json else output)
    sys.exit(_run_until_signal(options, printer))


def _print_secret(access: ServerAccess) -> int:
    try:
        answer = httpx.get(access.url + "/api/v1/listen/secret", headers=access.headers, timeout=10)
    except httpx.HTTPError as exc:
        click.echo(f"hookwire: cannot reach {access.url}: {exc}", err=True)
        return UNREACHABLE
    if answer.status_code == 401:
        click.echo("hookwire: the server refused the token (HOOKWIRE_TOKEN or `hookwire login`)", err=True)
        return AUTH_FAILED
    click.echo(answer.json()["key"])
    return OK


def _run_until_signal(options: ListenOptions, printer: Printer) -> int:
    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await run_listener(options, printer)
        except asyncio.CancelledError:
            printer.note("stopped")
            return OK
        except Refused as exc:
            printer.note(f"hookwire: {exc.detail}", "red")
            return exc.exit_code

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return OK
