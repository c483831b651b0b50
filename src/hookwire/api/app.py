"""The ASGI application: every router, the error mapping and the body size limit."""

from __future__ import annotations

from fastapi import FastAPI

from hookwire import __version__
from hookwire.api import applications, attempts, endpoints, event_types, health, messages
from hookwire.api.errors import install_error_handlers
from hookwire.api.limits import BodySizeLimit
from hookwire.runtime import Runtime


def create_app(rt: Runtime) -> FastAPI:
    """The HTTP app over an open Runtime (the CLI owns opening and closing it)."""
    app = FastAPI(
        title="hookwire",
        version=__version__,
        description="Self-hosted webhook infrastructure. The outbound API is wire-compatible with Svix.",
    )
    app.state.rt = rt
    install_error_handlers(app)
    for module in (health, applications, event_types, endpoints, messages, attempts):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=rt.settings.max_payload_bytes)
    return app
