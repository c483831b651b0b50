"""Browser sessions for the dashboard: a signed session cookie, CSRF tokens, and cookie flags.

The operator session is stateless: the cookie carries its expiry and a MAC keyed by
the admin token, so changing the admin token signs every browser out. CSRF uses a
random per-browser token in its own HttpOnly cookie that every state-changing form
(hidden field) or script request (`X-CSRF-Token` header) must repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

from hookwire.settings import Settings

SESSION_COOKIE = "hw_session"
CSRF_COOKIE = "hw_csrf"
PORTAL_COOKIE = "hw_portal"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"hookwire-ui-session\0" + (settings.api_token or "").encode()).digest()


def _mac(settings: Settings, text: str) -> str:
    return hmac.new(_key(settings), text.encode(), hashlib.sha256).hexdigest()


def new_session(settings: Settings) -> str:
    expires = int(time.time()) + SESSION_SECONDS
    body = f"{expires}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_mac(settings, body)}"


def session_valid(settings: Settings, cookie: str | None) -> bool:
    if not cookie or settings.api_token is None:
        return False
    body, _, mac = cookie.rpartition(".")
    expires, _, _ = body.partition(".")
    if not expires.isdigit() or int(expires) <= time.time():
        return False
    return hmac.compare_digest(mac, _mac(settings, body))


def is_https(request: Request, settings: Settings) -> bool:
    """Behind HTTPS: the public URL says so, or the proxy in front says so."""
    if (settings.public_url or "").lower().startswith("https://"):
        return True
    return request.headers.get("x-forwarded-proto", "").lower() == "https" or request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
        path="/",
    )


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a new one is made (and set by `remember_csrf`) when missing."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 20:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def remember_csrf(request: Request, response: Response, settings: Settings) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        set_cookie(response, request, settings, CSRF_COOKIE, new, 30 * 86400)


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
