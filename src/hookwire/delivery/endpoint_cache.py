"""Decrypted endpoint settings for the worker, refreshed when the endpoint's version changes.

Every claimed batch re-reads the endpoints' small rows (url, version, sealed
headers); decryption, the costly part, happens only when the version changed or a
rotated-out secret expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from hookwire.delivery.signing import secret_key_bytes
from hookwire.delivery.transformations import Transformation
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

    async def load(self, db: Executor, endpoint_ids: Iterable[str], now: int) -> dict[str, EndpointTarget]:
        ids = sorted(set(endpoint_ids))
        rows = await db.fetch("endpoints_for_delivery", ids=ids)
        stale = [
            r["id"]
            for r in rows
            if (cached := self._targets.get(r["id"])) is None
            or cached.version != r["version"]
            or cached.refresh_at <= now
        ]
        secrets: dict[str, list[tuple[bytes, int | None]]] = {}
        if stale:
            for s in await db.fetch("signing_secrets", ids=stale, now=now):
                key = secret_key_bytes(self._box.open(s["secret"]))
                secrets.setdefault(s["endpoint_id"], []).append((key, s["expires_at"]))
        found: dict[str, EndpointTarget] = {}
        for row in rows:
            if row["id"] in stale:
                keys = secrets.get(row["id"], [])
                expiries = [e for _, e in keys if e is not None]
                self._targets[row["id"]] = EndpointTarget(
                    id=row["id"],
                    url=row["url"],
                    disabled=bool(row["disabled"]),
                    version=row["version"],
                    headers=orjson.loads(self._box.open(row["headers"])),
                    keys=tuple(k for k, _ in keys),
                    refresh_at=min(expiries) if expiries else 2**62,
                    throttle_rate=row["throttle_rate"],
                    transformation=_transformation(self._box, row),
                )
            found[row["id"]] = self._targets[row["id"]]
        return found
