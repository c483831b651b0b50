"""Exit codes of every hookwire command (documented in docs/cli.md; scripts rely on them)."""

from __future__ import annotations

OK = 0
FAILED = 1  # the command ran and the answer is "no" (e.g. `verify`: the signature is not valid)
CONFIG_ERROR = 2  # a setting, flag or argument is wrong; the message names the fix
AUTH_FAILED = 3  # the server refused the token
NOT_FOUND = 4  # the source, application or other resource named does not exist
UNREACHABLE = 5  # the server could not be reached

# The close codes `/api/v1/listen` and `/api/v1/tail` refuse a connection with. The server sends
# an error frame first, but a client still sending its start frame may see only the close.
_REFUSALS = {4401: AUTH_FAILED, 4404: NOT_FOUND, 4400: CONFIG_ERROR}


def for_refusal(close_code: int | None) -> int | None:
    """The exit code for a WebSocket closed as a refusal, or None for an ordinary disconnect."""
    return _REFUSALS.get(close_code) if close_code is not None else None
