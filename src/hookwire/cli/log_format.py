"""How serve and worker lines look: compact and coloured on a terminal, JSON lines otherwise
(for log collectors), chosen by HOOKWIRE_LOG_FORMAT (auto, text, json) or `--json`."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

import orjson

_COLOURS = {logging.DEBUG: "\x1b[2m", logging.WARNING: "\x1b[33m", logging.ERROR: "\x1b[1;31m"}
_RESET = "\x1b[0m"
# attributes every LogRecord has; anything else was passed in `extra` and goes into the JSON line
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class CompactFormatter(logging.Formatter):
    """`14:02:11  message`, warnings yellow and errors red when colour is on."""

    def __init__(self, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = f"{time.strftime('%H:%M:%S', time.localtime(record.created))}  {record.getMessage()}"
        if record.levelno >= logging.WARNING and record.name != "hookwire.activity":
            text += f"  ({record.levelname.lower()}, {record.name})"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        colour = _COLOURS.get(record.levelno) if self.colour else None
        return f"{colour}{text}{_RESET}" if colour else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    as_json = log_format == "json" or (log_format == "auto" and not out.isatty())
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if as_json else CompactFormatter(colour=out.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
