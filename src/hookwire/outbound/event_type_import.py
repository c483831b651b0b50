"""Event types from an OpenAPI document's webhooks (`POST /api/v1/event-type/import/openapi`).

Each entry of the document's `webhooks` (OpenAPI 3.1; `x-webhooks` in 3.0) becomes an event
type named by its key: the description is the operation's `description` (else `summary`), the
schema (version "1") is the JSON request body's schema with local `$ref`s resolved, `deprecated`
is the operation's, and Svix's `x-svix-group-name` / `x-svix-feature-flags` fill the group and
feature flags. `dryRun` only reports; `replaceAll` archives the event types not in the document.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import Field

from hookwire.errors import BadRequest, ValidationFailed
from hookwire.outbound import event_types
from hookwire.outbound.models import EventTypeIn, EventTypePatch, Model
from hookwire.runtime import Runtime

_MAX_REF_DEPTH = 32


class EventTypeImportOpenApiIn(Model):
    dry_run: bool = False
    replace_all: bool = False
    spec: dict[str, Any] | None = None
    spec_raw: str | None = None


class EventTypeFromOpenApi(Model):
    name: str
    description: str
    schemas: dict[str, Any] | None = None
    deprecated: bool
    group_name: str | None = None
    feature_flags: list[str] | None = None


class EventTypeImportOpenApiOutData(Model):
    modified: list[str]
    to_modify: list[EventTypeFromOpenApi] | None = Field(default=None, serialization_alias="to_modify")


class EventTypeImportOpenApiOut(Model):
    data: EventTypeImportOpenApiOutData


def _document(data: EventTypeImportOpenApiIn) -> dict[str, Any]:
    if (data.spec is None) == (data.spec_raw is None):
        raise BadRequest("send exactly one of `spec` (a JSON object) or `specRaw` (YAML or JSON text)")
    if data.spec is not None:
        return data.spec
    try:
        parsed = yaml.safe_load(data.spec_raw or "")
    except yaml.YAMLError as exc:
        raise BadRequest(f"specRaw is neither YAML nor JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(parsed, dict):
        raise BadRequest("specRaw must hold an OpenAPI document (an object)")
    return parsed


def _resolve(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """The node with local `#/...` references replaced by what they point to (bounded depth)."""
    if depth > _MAX_REF_DEPTH:
        raise ValidationFailed.field(["spec"], "schema references nest too deeply (or form a cycle)")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    raise ValidationFailed.field(["spec"], f"unresolvable reference {ref!r}")
                target = target[part]
            return _resolve(target, root, depth + 1)
        return {key: _resolve(value, root, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root, depth + 1) for item in node]
    return node


def event_types_from(document: dict[str, Any]) -> list[EventTypeFromOpenApi]:
    hooks = document.get("webhooks") or document.get("x-webhooks") or {}
    if not isinstance(hooks, dict):
        raise ValidationFailed.field(["spec", "webhooks"], "must be an object of webhook definitions")
    found = []
    for name, item in hooks.items():
        operation = next(
            (item[m] for m in ("post", "put", "patch") if isinstance(item, dict) and m in item), None
        )
        if not isinstance(operation, dict):
            continue
        body = operation.get("requestBody") or {}
        schema = (
            (((body.get("content") or {}).get("application/json") or {}).get("schema"))
            if isinstance(body, dict)
            else None
        )
        flags = operation.get("x-svix-feature-flags")
        found.append(
            EventTypeFromOpenApi(
                name=str(name),
                description=str(operation.get("description") or operation.get("summary") or ""),
                schemas={"1": _resolve(schema, document)} if isinstance(schema, dict) else None,
                deprecated=bool(operation.get("deprecated", False)),
                group_name=operation.get("x-svix-group-name"),
                feature_flags=flags if isinstance(flags, list) else None,
            )
        )
    return found


async def import_openapi(rt: Runtime, data: EventTypeImportOpenApiIn) -> EventTypeImportOpenApiOut:
    found = event_types_from(_document(data))
    checked = []
    for index, item in enumerate(found):
        try:  # the same rules as POST /event-type: a bad name in the document is a 422 naming it
            checked.append(EventTypeIn.model_validate(item.model_dump(by_alias=True)))
        except ValueError as exc:
            raise ValidationFailed.field(["spec", "webhooks", str(index)], f"{item.name!r}: {exc}") from None
    if data.dry_run:
        return EventTypeImportOpenApiOut(data=EventTypeImportOpenApiOutData(modified=[], to_modify=found))
    for event_type in checked:
        await event_types.upsert_event_type(rt, event_type.name, event_type)
    if data.replace_all:
        names = {item.name for item in found}
        listed = await event_types.all_event_type_names(rt)
        for name in sorted(set(listed) - names):
            await event_types.patch_event_type(rt, name, EventTypePatch(archived=True))
    return EventTypeImportOpenApiOut(
        data=EventTypeImportOpenApiOutData(modified=[item.name for item in found])
    )
