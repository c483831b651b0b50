"""The one exception tree of hookwire.

    HookwireError
     ├── ConfigError             a setting is missing or invalid (raised at start, before serving)
     ├── TransformationFailed    an endpoint's JavaScript transformation threw, ran too long, or returned junk
     ├── StoreError              the database failed in a way the caller cannot fix
     │    ├── ConstraintViolation  a write broke a constraint (a row it refers to is gone)
     │    └── DatabaseUnavailable  the database cannot be reached or is busy: retry later (503)
     └── ApiError                a request cannot be served; carries the HTTP status and Svix error code
          ├── BadRequest         400  {"code": "bad_request", ...}
          ├── Unauthorized       401  {"code": "authentication_failed", ...}
          ├── NotFound           404  {"code": "not_found", ...}
          ├── Conflict           409  {"code": "conflict", ...}
          ├── PayloadTooLarge    413  {"code": "payload_too_large", ...}
          ├── ValidationFailed   422  {"code": "validation", ...}
          └── TooManyRequests    429  {"code": "rate_limited", ...}

Lower libraries' exceptions are translated where they are caught; `api/errors.py`
turns an `ApiError` into the `{"code", "detail"}` JSON body once, for every route.
"""

from __future__ import annotations

from typing import Any


class HookwireError(Exception):
    """Base of every error hookwire raises on purpose."""


class ConfigError(HookwireError):
    """A setting is missing or invalid; the message names the setting and the fix."""


class TransformationFailed(HookwireError):
    """An endpoint's transformation could not produce a request; the message says why (recorded on
    the attempt by the worker, answered as 422 by `transformation/simulate`)."""


class StoreError(HookwireError):
    """The database failed in a way the caller cannot fix."""


class ConstraintViolation(StoreError):
    """A `write()` broke a constraint: a row it refers to is gone, or it duplicates one.

    Both drivers raise this one type, so a use-case can decide what the conflict means
    without knowing which database it runs on."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached, is restarting, or is busy or failing its disk I/O.

    Both drivers translate their own errors of this kind (asyncpg connection errors,
    SQLite BUSY/LOCKED/IOERR/CANTOPEN/FULL) into this one type at the store boundary. It
    is about the system, never about a row: the API answers 503 with Retry-After, and the
    queue loops retry the batch instead of failing the rows in it."""

    retry_after = 1  # seconds a client should wait before trying again


class ApiError(HookwireError):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        self.detail = detail if detail is not None else self.code
        if code is not None:
            self.code = code
        super().__init__(str(self.detail))


class BadRequest(ApiError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status_code = 401
    code = "authentication_failed"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class ValidationFailed(ApiError):
    """422 with Svix's validation shape: detail is a list of {loc, msg, type}."""

    status_code = 422
    code = "validation"

    @classmethod
    def field(cls, loc: list[str | int], msg: str, type_: str = "value_error") -> ValidationFailed:
        return cls([{"loc": ["body", *(str(part) for part in loc)], "msg": msg, "type": type_}])


class TooManyRequests(ApiError):
    status_code = 429
    code = "rate_limited"
