"""Credentials out of anything hookwire prints: one function for every log line and banner."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_MASK = "***"
# libpq accepts the password as a query parameter too (`?password=...`).
_SECRET_PARAMS = frozenset({"password", "sslpassword", "passfile"})
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<pw>[^/]*)@")


def redact_url(url: str) -> str:
    """The URL with its password (in the user info or a `password=` parameter) replaced by `***`.

    Keeps the user, host, port and database, which an operator needs to read a start-up line
    or an error, and never the secret. A URL that cannot be parsed has its user info masked
    wholesale rather than printed as it came."""
    masked = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{_MASK}@", url, count=1)
    try:
        parts = urlsplit(masked)
    except ValueError:
        return _USERINFO.sub(lambda m: f"{m['scheme']}{_MASK}@", url, count=1)
    if not parts.query:
        return masked
    query = [
        (k, _MASK if k.lower() in _SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))
