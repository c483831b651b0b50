"""Decrypted endpoint settings for the worker, refreshed when the endpoint's version changes.

Every claim reads its endpoints' versions with it (`Database.claim_deliveries`); an
endpoint's row is read again, and its secrets and headers decrypted, only when its version
moved on (every change to an endpoint, its secrets or its transformation bumps it) or a
rotated-out secret expired.

An endpoint whose stored settings cannot be opened (a secret sealed with another
HOOKWIRE_SECRET_KEY, a corrupt row) comes back with `broken` set to the reason, so the
worker fails its deliveries with that reason instead of failing the whole claimed batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from hookwire.delivery.signing import secret_key_bytes
from hookwire.delivery.transformations import Transformation
from hookwire.errors import StoreError
from hookwire.secretbox import SecretBox
from hookwire.store import Executor


@dataclass(frozen=True)
class EndpointTarget:
    id: str
    url: str
    disabled: bool
    version: int
    headers: dict[str, str]
    keys: tuple[bytes, ...]  # newest first
    refresh_at: int  # ms; when a rotated-out key expires and must stop signing
    throttle_rate: int | None = None  # messages per second; None: unthrottled
    broken: str | None = None  # why this endpoint's settings cannot be used; None: usable
    transformation: Transformation | None = None  # only when enabled


def _transformation(box: SecretBox, row: dict[str, object]) -> Transformation | None:
    sealed = row.get("transformation_code")
    if not row.get("transformation_enabled") or not isinstance(sealed, str):
        return None
    stored = orjson.loads(box.open(sealed))
    return Transformation(code=stored["code"], variables=stored.get("variables") or {})


class EndpointCache:
    def __init__(self, box: SecretBox) -> None:
        self._box = box
        self._targets: dict[str, EndpointTarget] = {}

    async def load(self, db: Executor, versions: Mapping[str, int], now: int) -> dict[str, EndpointTarget]:
        """The targets of the endpoints in `versions` (id -> the version the claim saw); an
        endpoint missing there is gone and has no target."""
        found: dict[str, EndpointTarget] = {}
        stale: list[str] = []
        for endpoint_id, version in versions.items():
            cached = self._targets.get(endpoint_id)
            if cached is None or cached.version != version or cached.refresh_at <= now:
                stale.append(endpoint_id)
            else:
                found[endpoint_id] = cached
        if not stale:
            return found
        stale.sort()
        rows = await db.fetch("endpoints_for_delivery", ids=stale)
        secrets: dict[str, list[tuple[bytes, int | None]]] = {}
        broken: dict[str, str] = {}
        for s in await db.fetch("signing_secrets", ids=stale, now=now):
            try:
                key = secret_key_bytes(self._box.open(s["secret"]))
            except (StoreError, ValueError) as exc:
                broken[s["endpoint_id"]] = f"the endpoint's signing secret cannot be used: {exc}"
                continue
            secrets.setdefault(s["endpoint_id"], []).append((key, s["expires_at"]))
        for row in rows:
            keys = secrets.get(row["id"], [])
            expiries = [e for _, e in keys if e is not None]
            try:
                headers = orjson.loads(self._box.open(row["headers"]))
            except (StoreError, ValueError) as exc:
                headers = {}
                broken.setdefault(row["id"], f"the endpoint's headers cannot be used: {exc}")
            try:
                transformation = _transformation(self._box, row)
            except (StoreError, ValueError, KeyError, TypeError) as exc:
                transformation = None
                broken.setdefault(row["id"], f"the endpoint's transformation cannot be used: {exc}")
            self._targets[row["id"]] = EndpointTarget(
                id=row["id"],
                url=row["url"],
                disabled=bool(row["disabled"]),
                version=row["version"],
                headers=headers,
                keys=tuple(k for k, _ in keys),
                # a broken endpoint is read again on the next claim: the key may be fixed by then
                refresh_at=now if row["id"] in broken else (min(expiries) if expiries else 2**62),
                throttle_rate=row["throttle_rate"],
                broken=broken.get(row["id"]),
                transformation=transformation,
            )
            found[row["id"]] = self._targets[row["id"]]
        return found
