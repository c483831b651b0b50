"""`msg/precheck/active`: would a message of this type (and channels) reach any endpoint?

Lets a sender skip building a costly payload nobody would receive. It uses the same
routing rules and the same endpoint query as message creation, so the answer cannot
drift from what `POST /msg` would actually do.
"""

from __future__ import annotations

from collections.abc import Sequence

from hookwire.outbound.applications import require_app
from hookwire.outbound.endpoints import json_list
from hookwire.outbound.routing import select_endpoints
from hookwire.runtime import Runtime


async def has_active_endpoint(
    rt: Runtime, app_key: str, event_type: str, channels: Sequence[str] | None
) -> bool:
    app = await require_app(rt.db, app_key)
    endpoints = await rt.db.fetch("list_fanout_endpoints", app_id=app.id)
    candidates = ((e["id"], json_list(e["event_types"]), json_list(e["channels"])) for e in endpoints)
    return bool(select_endpoints(candidates, event_type, channels))
