"""Jinja2 templates and the filters every page uses (times, JSON, statuses)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from hookwire.ui.security import csrf_token, remember_csrf

_env = Environment(
    loader=PackageLoader("hookwire.ui", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _as_datetime(value: datetime | int | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value / 1000, UTC)


def timestamp(value: datetime | int | float | None) -> Markup:
    """A <time> in UTC; the page's script rewrites it to the viewer's zone and adds "3 min ago"."""
    moment = _as_datetime(value)
    if moment is None:
        return Markup("—")
    iso = moment.isoformat().replace("+00:00", "Z")
    text = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup(f'<time datetime="{escape(iso)}">{escape(text)}</time>')


def pretty(value: Any) -> str:
    """JSON indented for reading; text that is not JSON is shown as it is."""
    if isinstance(value, bytes | str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def age(ms: int | None, now_ms: int) -> str:
    """A short duration like '3 min' or '2 h'."""
    if ms is None:
        return "—"
    seconds = max(0, (now_ms - ms) // 1000)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


_env.filters.update(ts=timestamp, pretty=pretty, percent=percent)
_env.globals.update(age=age)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    rt = request.app.state.rt
    page = _env.get_template(template).render(
        request=request, csrf=csrf_token(request), settings=rt.settings, **context
    )
    response = HTMLResponse(page, status_code=status_code)
    remember_csrf(request, response, rt.settings)
    return response
