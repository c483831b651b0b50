"""The 1 KB JSON bodies every scenario sends, and Standard Webhooks signing for the ceiling client.

A body may carry `seq` and `sent_at` (wall-clock seconds when the client sent it); the
receiver reads them to measure latency where the webhook lands. Bodies for throughput runs
leave them out so the receiver has nothing to remember. Standard library only: the Celery
baseline imports this module from its own venv.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

BODY_BYTES = 1024
EVENT_TYPE = "invoice.paid"
_BASE = {"type": EVENT_TYPE, "customer": "cus_4Xv1M9q2", "amount": 4200, "currency": "eur"}


def payload(seq: int | None = None, sent_at: float | None = None) -> dict[str, Any]:
    """A webhook payload whose compact JSON is about BODY_BYTES long."""
    data: dict[str, Any] = {}
    if seq is not None:
        data["seq"] = seq
    if sent_at is not None:
        data["sent_at"] = round(sent_at, 6)
    data.update(_BASE)
    size = len(_compact({**data, "notes": ""}))
    data["notes"] = "x" * max(0, BODY_BYTES - size)
    return data


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def payload_bytes(seq: int | None = None, sent_at: float | None = None) -> bytes:
    """The payload as hookwire stores and sends it: compact JSON."""
    return _compact(payload(seq, sent_at))


def message_bytes(seq: int | None = None, sent_at: float | None = None) -> bytes:
    """A `POST /api/v1/app/{app}/msg` request body carrying a 1 KB payload."""
    return _compact({"eventType": EVENT_TYPE, "payload": payload(seq, sent_at)})


def new_secret_key() -> bytes:
    return os.urandom(24)


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, as Standard Webhooks defines it."""
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
