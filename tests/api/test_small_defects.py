"""Small defects that must stay fixed: 409 instead of 500 on a delete, strict JSON on every route,
credentials never printed, private database and key files."""

from __future__ import annotations

import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from hookwire.api.app import create_app
from hookwire.api.json_body import StrictJsonRoute
from hookwire.redact import redact_url
from hookwire.runtime import Runtime
from hookwire.ui.routing import PageRoute
from tests.api.test_bad_input import _check_error, api  # noqa: F401  (api is a fixture)
from tests.conftest import _require_postgres
from tests.support.postgres import PostgresTemplate
from tests.support.server import HookwireProcess


def test_deleting_the_application_behind_a_source_is_409_naming_the_source(
    api: httpx.Client,  # noqa: F811
    server: HookwireProcess,
) -> None:
    admin = {"authorization": f"Bearer {server.token}"}
    made = httpx.post(
        f"{server.url}/ingest/api/v1/source",
        headers=admin,
        json={"name": "shop", "uid": "shop-main", "type": "generic-webhook", "config": {}},
    )
    assert made.status_code == 201, made.text
    backing = made.json()["appId"]  # a source delivers through an application of its own
    refused = api.delete(f"/app/{backing}")
    assert _check_error(refused, 409) is None, _check_error(refused, 409)
    assert "shop-main" in refused.json()["detail"]
    assert api.get(f"/app/{backing}").status_code == 200
    # Deleting the source takes its application with it.
    assert httpx.delete(f"{server.url}/ingest/api/v1/source/shop-main", headers=admin).status_code == 204
    assert api.get(f"/app/{backing}").status_code == 404


def test_ingest_routes_refuse_non_json_numbers_and_lone_surrogates(server: HookwireProcess) -> None:
    admin = {"authorization": f"Bearer {server.token}", "content-type": "application/json"}
    for body in (
        b'{"name": "s", "type": "generic-webhook", "config": {"x": "\\ud800"}}',
        b'{"name": "s", "type": "generic-webhook", "config": {}, "metadata": {"a": NaN}}',
    ):
        answer = httpx.post(f"{server.url}/ingest/api/v1/source", headers=admin, content=body)
        assert _check_error(answer, 400) is None, _check_error(answer, 400)
    listed = httpx.get(f"{server.url}/ingest/api/v1/source", headers=admin).json()
    assert listed["data"] == []


async def test_every_route_of_the_app_parses_bodies_as_strict_json(runtime: Runtime) -> None:
    def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            included = getattr(route, "original_router", None)  # how FastAPI keeps an included router
            if included is not None:
                yield from api_routes(included.routes)

    routes = list(api_routes(create_app(runtime).router.routes))
    # Routes that take a body; the dashboard's HTML pages take form posts, never JSON.
    json_routes = [r for r in routes if r.methods - {"GET", "HEAD"} and not isinstance(r, PageRoute)]
    assert len(json_routes) > 30
    assert [r.path for r in json_routes if not isinstance(r, StrictJsonRoute)] == []


def test_redact_url_hides_passwords_and_keeps_what_an_operator_needs() -> None:
    assert redact_url("postgresql://hw:s3cret@db:5432/hw") == "postgresql://hw:***@db:5432/hw"
    assert redact_url("postgresql://hw:p@ss@db/hw") == "postgresql://hw:***@db/hw"
    assert (
        redact_url("postgresql://db/hw?user=hw&password=s3cret") == "postgresql://db/hw?user=hw&password=***"
    )
    assert redact_url("postgresql://hw@db/hw") == "postgresql://hw@db/hw"
    assert redact_url("sqlite:///./hookwire.db") == "sqlite:///./hookwire.db"


@pytest.fixture
def pg_url_with_password(pg_template: PostgresTemplate | None) -> Iterator[str]:
    """A cloned test database, addressed with a password (trust auth ignores it)."""
    template = _require_postgres(pg_template)
    name = f"hw_test_{uuid.uuid4().hex[:12]}"
    url = template.clone(name)
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    yield f"{scheme}://{user.split(':', 1)[0]}:not-the-password@{host}"
    template.drop_clone(name)


def test_the_worker_banner_never_prints_the_database_password(
    pg_url_with_password: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with HookwireProcess(pg_url_with_password, command="worker", log=log) as proc:
        deadline = time.monotonic() + 30
        while "worker started" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.terminate()
    printed = log.read_text()
    assert "worker started" in printed
    assert "not-the-password" not in printed and ":***@" in printed


def test_sqlite_database_and_key_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hookwire.db"
    db.parent.mkdir()
    with HookwireProcess(f"sqlite:///{db}", HOOKWIRE_SECRET_KEY="") as proc:
        assert httpx.get(f"{proc.url}/api/v1/app", headers={"authorization": "Bearer test-token"}).is_success
        files = [db, Path(f"{db}.key"), Path(f"{db}-wal")]
        modes = {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files}
    assert modes == {f.name: "0o600" for f in files}
