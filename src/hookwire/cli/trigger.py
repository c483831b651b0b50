"""`hookwire trigger EVENT_TYPE --app APP`: send one event, to see it arrive.

The payload is --data (JSON, or @file.json), else the event type's first example from its
schema, else a built-in sample; --set a.b=1 then changes single fields.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import orjson

from hookwire.cli.api_client import ApiClient, connect
from hookwire.cli.exit_codes import OK


def sample_payload(event_type: str, now: datetime) -> dict[str, Any]:
    """What `trigger` sends for an event type without an example."""
    return {
        "type": event_type,
        "id": f"evt_sample_{int(now.timestamp())}",
        "createdAt": now.isoformat().replace("+00:00", "Z"),
        "data": {"object": event_type.split(".")[0], "sample": True},
    }


def example_of(event_type: dict[str, Any] | None) -> Any:
    """The first example in the event type's newest schema, if it has one."""
    schemas = (event_type or {}).get("schemas") or {}
    for version in sorted(schemas, key=lambda v: (len(v), v), reverse=True):
        schema = schemas[version]
        if isinstance(schema, dict) and schema.get("examples"):
            return schema["examples"][0]
        if isinstance(schema, dict) and "example" in schema:
            return schema["example"]
    return None


def apply_set(payload: Any, assignment: str) -> Any:
    """`a.b=1` sets payload["a"]["b"] = 1 (the value is JSON when it parses, else a string)."""
    path, sep, raw = assignment.partition("=")
    if not sep or not path:
        raise click.BadParameter(f"{assignment!r}: use a.b=value", param_hint="--set")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    if not isinstance(payload, dict):
        raise click.BadParameter("the payload is not a JSON object", param_hint="--set")
    node = payload
    *parents, last = path.split(".")
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value
    return payload


def _data(value: str) -> Any:
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None


@click.command()
@click.argument("event_type")
@click.option("--app", required=True, metavar="APP", help="application id or uid")
@click.option(
    "--data", metavar="JSON|@FILE", help="the payload (default: the event type's example, or a sample)"
)
@click.option(
    "--set", "assignments", multiple=True, metavar="A.B=VALUE", help="change one field (repeatable)"
)
@click.option("--json", "as_json", is_flag=True, help="print the created message as JSON")
@click.option("--url", help="server URL (HOOKWIRE_URL, or `hookwire login`)")
@click.option("--token", help="API token (HOOKWIRE_TOKEN, or `hookwire login`)")
def trigger(
    event_type: str,
    app: str,
    data: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
    url: str | None,
    token: str | None,
) -> None:
    """Send one EVENT_TYPE message to an application's endpoints."""
    client: ApiClient = connect(url, token)
    if data is not None:
        payload, origin = _data(data), "--data"
    else:
        example = example_of(client.get_or_none(f"/api/v1/event-type/{quote(event_type, safe='')}"))
        if example is not None:
            payload, origin = example, "the event type's example"
        else:
            payload, origin = sample_payload(event_type, datetime.now(UTC)), "a built-in sample"
    for assignment in assignments:
        payload = apply_set(payload, assignment)
    message = client.call(
        "POST", f"/api/v1/app/{quote(app, safe='')}/msg", json={"eventType": event_type, "payload": payload}
    )
    if as_json:
        click.echo(orjson.dumps(message))
    else:
        click.echo(f"sent {event_type} to {app} as {message['id']} (payload: {origin})")
    sys.exit(OK)
