"""Request dependencies: the Runtime, and the admin bearer token check."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hookwire.errors import Unauthorized
from hookwire.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="the admin token printed by `hookwire serve`")


def get_runtime(request: Request) -> Runtime:
    return request.app.state.rt


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of digests, so neither length nor content leaks."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


async def require_admin(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Runtime:
    rt = get_runtime(request)
    expected = rt.settings.api_token
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    if expected is None or not token_matches(credentials.credentials, expected):
        raise Unauthorized("invalid token")
    return rt
