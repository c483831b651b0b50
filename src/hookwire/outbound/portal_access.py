"""Customer-portal access: app-scoped, expiring, revocable tokens with Svix's capabilities.

`app-portal-access` hands out a token for one application. Only its SHA-256 is stored,
so the token itself exists only in the link given to the caller. Every portal request
looks the hash up again, so logout and expire-all take effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import orjson
from pydantic import Field

from hookwire.clock import now_ms
from hookwire.errors import NotFound, Unauthorized
from hookwire.outbound.applications import get_or_create_in_tx, require_app
from hookwire.outbound.models import ApplicationIn, Model
from hookwire.runtime import Runtime

TOKEN_PREFIX = "appsk_"
DEFAULT_EXPIRY_SECONDS = 7 * 86400


class Capability(StrEnum):
    VIEW_BASE = "ViewBase"
    VIEW_ENDPOINT_SECRET = "ViewEndpointSecret"
    MANAGE_ENDPOINT_SECRET = "ManageEndpointSecret"
    MANAGE_TRANSFORMATIONS = "ManageTransformations"
    CREATE_ATTEMPTS = "CreateAttempts"
    MANAGE_ENDPOINT = "ManageEndpoint"


# What holding one capability also grants (Svix: managing an endpoint includes its secret).
_IMPLIES = {
    Capability.MANAGE_ENDPOINT_SECRET: {Capability.VIEW_ENDPOINT_SECRET},
    Capability.MANAGE_ENDPOINT: {Capability.VIEW_ENDPOINT_SECRET, Capability.MANAGE_ENDPOINT_SECRET},
}


class PortalAccessIn(Model):
    application: ApplicationIn | None = None
    expiry: int | None = Field(default=None, ge=3600, le=DEFAULT_EXPIRY_SECONDS)
    feature_flags: list[str] | None = Field(default=None, max_length=25)
    capabilities: list[Capability] | None = None
    read_only: bool | None = None
    session_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9@_-]+$")


class PortalAccessOut(Model):
    url: str
    token: str


class TokenExpireIn(Model):
    expiry: int | None = Field(default=None, ge=0, le=259200)
    session_ids: list[str] | None = Field(default=None, max_length=1000)


@dataclass(frozen=True)
class PortalGrant:
    """What a valid portal token allows: one application, some capabilities, some feature flags."""

    app_id: str
    app_name: str
    capabilities: frozenset[Capability]
    feature_flags: frozenset[str] | None
    expires_at_ms: int
    token_hash: str

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def granted(capabilities: list[Capability] | None, read_only: bool | None) -> frozenset[Capability]:
    """None or an empty list means every capability; readOnly means ViewBase only."""
    if read_only:
        return frozenset({Capability.VIEW_BASE})
    chosen = set(capabilities) if capabilities else set(Capability)
    for capability in list(chosen):
        chosen |= _IMPLIES.get(capability, set())
    return frozenset(chosen | {Capability.VIEW_BASE})


async def issue(rt: Runtime, app_key: str, data: PortalAccessIn) -> PortalAccessOut:
    """A new portal token for the application (created first when `application` is given)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = now_ms()
    async with rt.db.transaction() as tx:
        if data.application is not None:
            app = await get_or_create_in_tx(tx, app_key, data.application)
        else:
            app = await require_app(tx, app_key)
        await tx.execute(
            "insert_portal_token",
            token_hash=token_hash(token),
            app_id=app.id,
            session_id=data.session_id,
            capabilities=orjson.dumps(sorted(granted(data.capabilities, data.read_only))).decode(),
            feature_flags=orjson.dumps(data.feature_flags).decode() if data.feature_flags else None,
            expires_at=now + (data.expiry or DEFAULT_EXPIRY_SECONDS) * 1000,
            now=now,
        )
    return PortalAccessOut(url=f"{rt.settings.base_url}/portal/login#key={token}", token=token)


async def authenticate(rt: Runtime, token: str) -> PortalGrant:
    """The grant of a live token; Unauthorized when it is unknown, expired or revoked."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("not a portal token")
    digest = token_hash(token)
    row = await rt.db.fetchrow("get_portal_token", token_hash=digest)
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now_ms():
        raise Unauthorized("the portal link has expired or was revoked; ask for a new one")
    flags = orjson.loads(row["feature_flags"]) if row["feature_flags"] else None
    return PortalGrant(
        app_id=row["app_id"],
        app_name=row["app_name"],
        capabilities=frozenset(Capability(c) for c in orjson.loads(row["capabilities"])),
        feature_flags=frozenset(flags) if flags is not None else None,
        expires_at_ms=row["expires_at"],
        token_hash=digest,
    )


async def logout(rt: Runtime, token: str) -> None:
    """End this one token (the caller's own)."""
    grant = await authenticate(rt, token)
    await rt.db.execute("revoke_portal_token", token_hash=grant.token_hash, now=now_ms())


async def expire_all(rt: Runtime, app_key: str, data: TokenExpireIn) -> None:
    """End the application's tokens after `expiry` seconds (now by default), or only some sessions'."""
    app = await require_app(rt.db, app_key)
    await rt.db.execute(
        "expire_portal_tokens",
        app_id=app.id,
        expires_at=now_ms() + (data.expiry or 0) * 1000,
        all_sessions=0 if data.session_ids else 1,
        session_ids=data.session_ids or [],
    )


def require(grant: PortalGrant, capability: Capability) -> None:
    """A missing capability looks like a missing route: the portal never shows what it cannot do."""
    if not grant.can(capability):
        raise NotFound(f"this portal session cannot do that ({capability.value} is not granted)")
