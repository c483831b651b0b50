"""`hookwire resend`, `hookwire recover` and `hookwire replay`: send again what failed or never
went, one request per endpoint (or message), with a progress bar on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import click
import orjson
from rich.console import Console
from rich.progress import Progress

from hookwire.cli.api_client import ApiClient, connect
from hookwire.cli.exit_codes import CONFIG_ERROR, OK
from hookwire.errors import ConfigError
from hookwire.settings import parse_duration

url_option = click.option("--url", help="server URL (HOOKWIRE_URL, or `hookwire login`)")
token_option = click.option("--token", help="API token (HOOKWIRE_TOKEN, or `hookwire login`)")
json_option = click.option("--json", "as_json", is_flag=True, help="print what was queued as JSON")


def _q(value: str) -> str:
    return quote(value, safe="")


def run_with_progress(
    label: str, items: Sequence[Any], step: Callable[[Any], dict[str, Any]], *, as_json: bool
) -> list[dict[str, Any]]:
    """Call step(item) for each item, with a progress bar on stderr when it is a terminal."""
    results = []
    console = Console(file=sys.stderr)
    with Progress(console=console, disable=as_json or not console.is_terminal, transient=False) as progress:
        task = progress.add_task(label, total=len(items))
        for item in items:
            results.append(step(item))
            progress.advance(task)
    return results


def _since(value: str) -> str:
    try:
        seconds = parse_duration(value)
    except ConfigError as exc:
        click.echo(f"hookwire: --since {exc}", err=True)
        sys.exit(CONFIG_ERROR)
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _endpoints(client: ApiClient, app: str, endpoint: tuple[str, ...]) -> list[str]:
    if endpoint:
        return list(endpoint)
    return [e["id"] for e in client.every(f"/api/v1/app/{_q(app)}/endpoint")]


def _report(results: list[dict[str, Any]], as_json: bool, summary: str) -> None:
    if as_json:
        click.echo(orjson.dumps(results))
    else:
        click.echo(summary)
    sys.exit(OK)


def _window_command(action: str, verb: str, doc: str) -> click.Command:
    @click.command(action if action != "replay-missing" else "replay", help=doc)
    @click.option("--app", required=True, metavar="APP", help="application id or uid")
    @click.option("--endpoint", multiple=True, metavar="EP", help="only these endpoints (default: all)")
    @click.option("--since", required=True, metavar="DURATION", help="how far back: 30m, 2h, 1d")
    @json_option
    @url_option
    @token_option
    def command(
        app: str, endpoint: tuple[str, ...], since: str, as_json: bool, url: str | None, token: str | None
    ) -> None:
        client = connect(url, token)
        start = _since(since)
        targets = _endpoints(client, app, endpoint)

        def step(ep: str) -> dict[str, Any]:
            path = f"/api/v1/app/{_q(app)}/endpoint/{_q(ep)}/{action}"
            task = client.call("POST", path, json={"since": start})
            return {"endpointId": ep, "task": task}

        results = run_with_progress(f"{verb} since {since}", targets, step, as_json=as_json)
        _report(results, as_json, f"{verb}: queued for {len(results)} endpoint(s) since {start}")

    return command


recover = _window_command(
    "recover", "recover", "Send again every failed message of the last DURATION (per endpoint)."
)
replay = _window_command(
    "replay-missing",
    "replay",
    "Send the messages an endpoint never got (e.g. created while it was disabled).",
)


@click.command()
@click.argument("msg_ids", nargs=-1, required=True)
@click.option("--app", required=True, metavar="APP", help="application id or uid")
@click.option(
    "--endpoint", multiple=True, metavar="EP", help="only these endpoints (default: those it went to)"
)
@json_option
@url_option
@token_option
def resend(
    msg_ids: tuple[str, ...],
    app: str,
    endpoint: tuple[str, ...],
    as_json: bool,
    url: str | None,
    token: str | None,
) -> None:
    """Send messages again to their endpoints, now."""
    client = connect(url, token)
    pairs = []
    for msg in msg_ids:
        targets = endpoint or [d["id"] for d in client.every(f"/api/v1/app/{_q(app)}/msg/{_q(msg)}/endpoint")]
        pairs += [(msg, ep) for ep in targets]

    def step(pair: tuple[str, str]) -> dict[str, Any]:
        msg, ep = pair
        client.call("POST", f"/api/v1/app/{_q(app)}/msg/{_q(msg)}/endpoint/{_q(ep)}/resend")
        return {"msgId": msg, "endpointId": ep}

    results = run_with_progress("resend", pairs, step, as_json=as_json)
    _report(results, as_json, f"resent {len(msg_ids)} message(s) to {len(results)} destination(s)")
