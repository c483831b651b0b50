"""ASGI middleware that counts HTTP requests by method, route template and status code.

The route is the template (`/api/v1/app/{app_id}/msg`), never the concrete path, so the
number of series stays bounded by the number of routes; requests that match none are
`unmatched`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookwire.operations.metrics import Metrics


class CountRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        tracer = self._metrics.tracer
        span = tracer.start_span(f"{scope['method']} request") if tracer is not None else None
        try:
            await self._app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if span is not None:
                span.update_name(f"{scope['method']} {template}")
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                span.end()
            self._metrics.api_requests.labels(scope["method"], template, str(status)).inc()
            self._metrics.api_seconds.labels(template).observe(time.perf_counter() - started)
