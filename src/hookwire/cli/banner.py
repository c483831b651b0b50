"""What `hookwire serve` prints on start: where it runs, the admin token once, a first request."""

from __future__ import annotations

from hookwire.cli.command_name import hookwire_command, path_hint
from hookwire.cli.runtime import Opened
from hookwire.redact import redact_url


def banner(opened: Opened) -> str:
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
