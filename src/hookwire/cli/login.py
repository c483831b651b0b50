"""`hookwire login`: remember the server URL and token for the client commands.

The file lives in the user's config directory (platformdirs; HOOKWIRE_CONFIG_DIR moves it) with
mode 0600, since it holds the admin token. HOOKWIRE_URL and HOOKWIRE_TOKEN override it.
"""

from __future__ import annotations

import sys

import click
import httpx
import orjson

from hookwire.cli.client_config import DEFAULT_URL, save_login
from hookwire.cli.exit_codes import AUTH_FAILED, OK, UNREACHABLE


@click.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, help="the hookwire server")
@click.option("--token", help="admin token (`hookwire token` on the server prints it); asked for if absent")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def login(url: str, token: str | None, as_json: bool) -> None:
    """Check the URL and token against the server, then store them for the client commands."""
    if not token:
        token = click.prompt("admin token", hide_input=True)
    assert token is not None
    url = url.rstrip("/")
    try:
        answer = httpx.get(
            f"{url}/api/v1/app", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as exc:
        click.echo(f"hookwire: cannot reach {url}: {exc}; is `hookwire serve` running there?", err=True)
        sys.exit(UNREACHABLE)
    if answer.status_code == 401:
        click.echo(
            "hookwire: the server refused this token; `hookwire token` on the server prints it", err=True
        )
        sys.exit(AUTH_FAILED)
    path = save_login(url, token)
    if as_json:
        click.echo(orjson.dumps({"url": url, "file": str(path)}))
    else:
        click.echo(f"logged in to {url}; saved in {path} (mode 0600)")
    sys.exit(OK)
