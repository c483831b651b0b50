"""Exit codes of every hookwire command (documented in docs/cli.md; scripts rely on them)."""

from __future__ import annotations

OK = 0
FAILED = 1  # the command ran and the answer is "no" (e.g. `verify`: the signature is not valid)
CONFIG_ERROR = 2  # a setting, flag or argument is wrong; the message names the fix
AUTH_FAILED = 3  # the server refused the token
NOT_FOUND = 4  # the source, application or other resource named does not exist
UNREACHABLE = 5  # the server could not be reached
