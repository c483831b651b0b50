"""The HTTP side of the client commands: one call per use, errors turned into exit codes.

A failed call prints the server's `detail` and exits with the documented code, so each command
only says what it wants and never handles HTTP errors itself.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import httpx

from hookwire.cli.client_config import ServerAccess, server_access
from hookwire.cli.exit_codes import AUTH_FAILED, CONFIG_ERROR, FAILED, NOT_FOUND, UNREACHABLE
from hookwire.errors import ConfigError


def connect(url: str | None, token: str | None) -> ApiClient:
    try:
        return ApiClient(server_access(url, token))
    except ConfigError as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(CONFIG_ERROR)


class ApiClient:
    def __init__(self, access: ServerAccess) -> None:
        self.access = access
        self._http = httpx.Client(base_url=access.url, headers=access.headers, timeout=30, trust_env=False)

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The JSON answer (None for 204); on failure, exit with the code that says why."""
        return self._handle(method, path, self._send(method, path, json, params))

    def get_or_none(self, path: str) -> Any:
        """GET that answers None on 404 (an optional lookup)."""
        answer = self._send("GET", path, None, None)
        return None if answer.status_code == 404 else self._handle("GET", path, answer)

    def _send(self, method: str, path: str, json: Any, params: dict[str, Any] | None) -> httpx.Response:
        given = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self._http.request(method, path, json=json, params=given)
        except httpx.HTTPError as exc:
            click.echo(f"hookwire: cannot reach {self.access.url}: {exc}; is the server running?", err=True)
            sys.exit(UNREACHABLE)

    def _handle(self, method: str, path: str, answer: httpx.Response) -> Any:
        if answer.status_code < 400:
            return answer.json() if answer.content else None
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = answer.text
        click.echo(f"hookwire: {method} {path}: {answer.status_code} {detail}", err=True)
        code = {401: AUTH_FAILED, 403: AUTH_FAILED, 404: NOT_FOUND}.get(answer.status_code)
        sys.exit(code or (CONFIG_ERROR if answer.status_code in (400, 409, 422) else FAILED))

    def every(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated list."""
        items: list[dict[str, Any]] = []
        iterator = None
        for _ in range(10_000):  # bounded: 2.5 million items at 250 a page
            page = self.call("GET", path, params={**params, "limit": 250, "iterator": iterator})
            items += page["data"]
            if page.get("done", True) or not page.get("iterator"):
                break
            iterator = page["iterator"]
        return items
