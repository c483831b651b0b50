"""Adds the dashboard, the portal, their static files and the offline API docs to the app."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from hookwire.ui import (
    live,
    pages_apps,
    pages_automations,
    pages_catalogue,
    pages_home,
    pages_messages,
    pages_sources,
    portal_api,
    portal_pages,
)

_DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>hookwire API {title}</title>
{head}</head><body>{body}</body></html>"""

_SWAGGER_HEAD = '<link rel="stylesheet" href="/ui/static/vendor/swagger-ui-5.35.0.css">'
_SWAGGER_BODY = """<div id="swagger-ui"></div>
<script src="/ui/static/vendor/swagger-ui-bundle-5.35.0.js"></script>
<script src="/ui/static/docs-swagger.js"></script>"""
_REDOC_BODY = """<redoc spec-url="/openapi.json"></redoc>
<script src="/ui/static/vendor/redoc-2.5.4.standalone.js"></script>"""


def install(app: FastAPI) -> None:
    """Mount /ui, /portal, /docs and /redoc (the app must be created with docs_url=None)."""
    app.mount("/ui/static", StaticFiles(packages=[("hookwire.ui", "static")]), name="ui-static")
    for module in (
        pages_home,
        pages_apps,
        pages_messages,
        pages_catalogue,
        pages_sources,
        pages_automations,
        live,
        portal_api,
        portal_pages,
    ):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/ui", status_code=307)

    @app.get("/docs", include_in_schema=False)
    async def swagger(_: Request) -> Response:
        return HTMLResponse(_DOCS.format(title="(Swagger UI)", head=_SWAGGER_HEAD, body=_SWAGGER_BODY))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(_: Request) -> Response:
        return HTMLResponse(_DOCS.format(title="(ReDoc)", head="", body=_REDOC_BODY))
