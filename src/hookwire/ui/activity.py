"""An endpoint's recent activity (health badge, sparkline, newest attempts), for dashboard and portal."""

from __future__ import annotations

from typing import Any

from hookwire.outbound import attempts, endpoints, overview
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus
from hookwire.ui.chart import sparkline


def status_filter(raw: str) -> MessageStatus | None:
    """A status from a query string; anything else means no filter."""
    known = raw.isdigit() and int(raw) in MessageStatus._value2member_map_
    return MessageStatus(int(raw)) if known else None


async def endpoint_activity(
    rt: Runtime, app_id: str, endpoint_id: str, status: str, limit: int = 20
) -> dict[str, Any]:
    """The template context of `endpoint_activity.html`."""
    endpoint = await endpoints.get_endpoint(rt, app_id, endpoint_id)
    health = (await overview.endpoint_health(rt, app_id, [endpoint]))[endpoint.id]
    listed = await attempts.list_by_endpoint(
        rt, app_id, endpoint.id, limit=limit, iterator=None, status=status_filter(status)
    )
    return {"endpoint": endpoint, "health": health, "sparkline": sparkline, "attempts": listed.data}
