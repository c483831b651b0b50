"""/in/{token}: where providers send webhooks. Any method, any path suffix."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.api.deps import get_runtime
from hookwire.api.json_body import StrictJsonRoute
from hookwire.ingest.receive import receive

router = APIRouter(tags=["Ingest receive"], route_class=StrictJsonRoute)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/in/{token}", methods=METHODS, include_in_schema=False)
@router.api_route("/in/{token}/{path:path}", methods=METHODS, include_in_schema=False)
async def inbound(request: Request, token: str, path: str = "") -> Response:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    answer = await receive(
        get_runtime(request),
        token=token,
        method=request.method,
        path=f"/{path}" if path else "",
        query=request.url.query,
        headers=headers,
        body=await request.body(),
    )
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)
