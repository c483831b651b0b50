"""What the delivery worker works on, as it comes out of the store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery the worker holds under a lease (`claim_due_deliveries`)."""

    id: int
    msg_id: str
    endpoint_id: str
    app_id: str
    attempts: int  # made before this one
    manual: int  # 1: a resend or recovery, which an open circuit lets through


@dataclass(frozen=True, slots=True)
class MessageToSend:
    """The message of a claimed delivery (`messages_for_delivery`); payload None once expunged."""

    id: str
    event_type: str
    payload: bytes | None
