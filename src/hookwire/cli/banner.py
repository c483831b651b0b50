"""What `hookwire serve` prints on start: where it runs, the admin token once, a first request."""

from __future__ import annotations

from hookwire.cli.runtime import Opened


def banner(opened: Opened) -> str:
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
