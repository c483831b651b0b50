"""How the client commands print: one compact line per event, coloured on a terminal, or one JSON
object per line for scripts (`--output json` / `--json`).

Event lines go to stdout; connection news (ready, lost, back) to stderr, so a script that
reads stdout gets only events.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text


def status_style(status: int | None) -> str:
    """Green for 2xx, cyan for 3xx, yellow for 4xx, red for 5xx and for no answer at all."""
    if status is None or status >= 500:
        return "bold red"
    if status >= 400:
        return "yellow"
    if status >= 300:
        return "cyan"
    return "green"


class Printer:
    def __init__(self, output: str = "compact") -> None:
        self.json = output == "json"
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)

    def event(
        self,
        *,
        status: int | None,
        method: str,
        url: str,
        duration_ms: int | None,
        event_type: str | None,
        event_id: str,
        error: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """`time  [status] METHOD url  (N ms)  event_type  id`."""
        if self.json:
            record = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "status": status,
                "method": method,
                "url": url,
                "durationMs": duration_ms,
                "eventType": event_type,
                "id": event_id,
                "error": error,
                **(extra or {}),
            }
            sys.stdout.write(orjson.dumps(record).decode() + "\n")
            sys.stdout.flush()
            return
        line = Text(time.strftime("%H:%M:%S") + "  ")
        line.append(f"[{status if status is not None else 'ERR'}]", style=status_style(status))
        line.append(f" {method} {url}")
        if duration_ms is not None:
            line.append(f"  ({duration_ms} ms)", style="dim")
        line.append(f"  {event_type or '-'}  {event_id}")
        if error:
            line.append(f"  {error}", style="red")
        self.out.print(line)

    def note(self, message: str, style: str | None = None) -> None:
        """Connection news for people, on stderr (also in JSON mode: stdout stays events only)."""
        self.err.print(Text(message, style=style or ""))
