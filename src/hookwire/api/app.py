"""The ASGI application: every router, the error mapping and the request guards."""

from __future__ import annotations

from fastapi import FastAPI

from hookwire import __version__, ui
from hookwire.api import (
    applications,
    attempts,
    automations,
    background_tasks,
    endpoints,
    environment,
    event_types,
    health,
    inbound,
    ingest_extras,
    ingest_sources,
    listen,
    message_expunge,
    messages,
    operational_webhooks,
    portal_auth,
    tail,
    transformations,
)
from hookwire.api.errors import CatchUnexpected, install_error_handlers
from hookwire.api.limits import BodySizeLimit
from hookwire.api.message_fast_path import HookwireApp, MessageCreateFastPath
from hookwire.api.nul_guard import RejectNulInUrl
from hookwire.api.request_log import RequestLog
from hookwire.operations import probes
from hookwire.operations.http_metrics import CountRequests
from hookwire.runtime import Runtime


def create_app(rt: Runtime) -> FastAPI:
    """The HTTP app over an open Runtime (the CLI owns opening and closing it)."""
    app = HookwireApp(
        title="hookwire",
        version=__version__,
        description="Self-hosted webhook infrastructure. The outbound API is wire-compatible with Svix.",
        docs_url=None,  # /docs and /redoc come from hookwire.ui, with vendored assets (offline)
        redoc_url=None,
    )
    app.state.rt = rt
    app.state.listen_sessions = {}  # `hookwire listen` connections of this process, by listener id
    install_error_handlers(app)
    outbound = (health, applications, event_types, endpoints, messages, attempts)
    svix_rest = (background_tasks, transformations, environment, message_expunge, operational_webhooks)
    tools = (portal_auth, ingest_sources, ingest_extras, automations, listen, tail, inbound)
    for module in (*outbound, *svix_rest, *tools):
        app.include_router(module.router)
    app.include_router(transformations.ingest_router)
    app.include_router(ingest_extras.old_prefix_router)
    app.include_router(probes.router)  # /healthz, /readyz, /metrics
    # first in line: the plain POST .../msg skips FastAPI's routing and injection (see the module)
    app.router.routes.insert(0, MessageCreateFastPath.for_router_routes(rt, messages.router.routes))
    ui.install(app)
    # The last one added runs first: CatchUnexpected wraps everything, so even a bug in a guard
    # is answered with JSON.
    app.add_middleware(RejectNulInUrl)
    app.add_middleware(RequestLog, activity=rt.activity)
    app.add_middleware(BodySizeLimit, max_bytes=rt.settings.max_payload_bytes)
    app.add_middleware(CatchUnexpected)
    app.add_middleware(CountRequests, metrics=rt.metrics)  # outermost: counts every answer, 500s too
    return app
