"""Configuration that moves between installations, through the official svix SDK: event types
from an OpenAPI document, environment export from one hookwire and import into another, and the
dashboard link of an ingest source."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from svix.api import (
    EnvironmentIn,
    EventTypeImportOpenApiIn,
    EventTypeIn,
    IngestSourceConsumerPortalAccessIn,
    IngestSourceIn,
    Svix,
    SvixOptions,
)
from svix.exceptions import HTTPValidationError

from tests.support.server import HookwireProcess

OPENAPI_YAML = """
openapi: 3.1.0
info: {title: Shop, version: "1"}
webhooks:
  order.created:
    post:
      description: An order was placed
      x-svix-group-name: order
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Order"}
  order.legacy:
    post:
      summary: The old order event
      deprecated: true
components:
  schemas:
    Order:
      type: object
      properties: {id: {type: string}, total: {type: integer}}
      required: [id]
"""


def test_openapi_import_then_export_and_import_into_another_installation(svix: Svix, tmp_path: Path) -> None:
    svix.event_type.create(EventTypeIn(name="stale.type", description="not in the document"))
    dry = svix.event_type.import_openapi(EventTypeImportOpenApiIn(spec_raw=OPENAPI_YAML, dry_run=True))
    assert dry.data.modified == [] and [t.name for t in dry.data.to_modify or []] == [
        "order.created",
        "order.legacy",
    ]
    assert [t.name for t in svix.event_type.list().data] == ["stale.type"]

    done = svix.event_type.import_openapi(EventTypeImportOpenApiIn(spec_raw=OPENAPI_YAML, replace_all=True))
    assert done.data.modified == ["order.created", "order.legacy"]
    created = svix.event_type.get("order.created")
    assert created.description == "An order was placed" and created.group_name == "order"
    assert created.schemas == {
        "1": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "total": {"type": "integer"}},
            "required": ["id"],
        }
    }
    assert svix.event_type.get("order.legacy").deprecated
    assert svix.event_type.get("stale.type").archived

    exported = svix.environment.export()
    assert [t.name for t in exported.event_types] == ["order.created", "order.legacy", "stale.type"]
    assert exported.connectors == []

    with HookwireProcess(f"sqlite:///{tmp_path}/other.db", log=tmp_path / "other.log") as other_server:
        other = Svix(other_server.token, SvixOptions(server_url=other_server.url, retry_schedule=[]))
        payload = EnvironmentIn(
            event_types=[
                EventTypeIn(
                    name=t.name,
                    description=t.description,
                    schemas=t.schemas,
                    archived=t.archived,
                    deprecated=t.deprecated,
                    group_name=t.group_name,
                )
                for t in exported.event_types
            ],
            settings=exported.settings,
        )
        other.environment.import_(payload)
        other.environment.import_(payload)  # importing twice changes nothing
        copied = {t.name: t for t in other.event_type.list().data}
        assert set(copied) == {"order.created", "order.legacy"}  # archived ones are not listed
        assert copied["order.created"].schemas == created.schemas
        assert other.event_type.get("stale.type").archived

        with pytest.raises(HTTPValidationError):
            other.environment.import_(EnvironmentIn(connectors=[{"name": "x", "transformation": "y"}]))  # type: ignore[list-item]


def test_source_dashboard_link_points_at_its_request_view(svix: Svix, server: HookwireProcess) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="bin", type="generic-webhook", config={}))  # type: ignore[arg-type]
    access = svix.ingest.authentication.consumer_portal_access(
        source.id, IngestSourceConsumerPortalAccessIn(expiry=3600, read_only=True)
    )
    assert access.url == f"{server.url}/ui/sources/{source.id}"
    assert access.token
    unknown = httpx.post(
        f"{server.url}/ingest/api/v1/source/nope/dashboard",
        json={},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert unknown.status_code == 404
