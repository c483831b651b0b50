"""Salesforce Outbound Messaging: a SOAP 1.1 POST with no signature to check.

Authenticity rests on the `OrganizationId` in the message matching
`config["organizationId"]` (plus, outside this module, a secret path in the endpoint URL
or Salesforce's client certificate). The body is parsed with the stdlib's expat directly
so that any DTD is refused before it is read: no entity expansion ("billion laughs"), no
external entities. The dedupe id is the comma-joined `Notification/Id`s.

Salesforce retries until it gets `<Ack>true</Ack>`, so `verify` does not set a challenge:
the caller stores the message first, then answers with `salesforce_ack()`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat

from hookwire.ingest.providers.base import Challenge, InboundRequest, Verdict, reject, utf8

XSI_TYPE = "http://www.w3.org/2001/XMLSchema-instance type"
ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>'
    b"</soapenv:Body>"
    b"</soapenv:Envelope>"
)


def salesforce_ack() -> Challenge:
    """The SOAP response that tells Salesforce the notifications were received."""
    return Challenge(status=200, content_type="text/xml; charset=utf-8", body=ACK)


class _DeclarationRefused(Exception):
    """Raised from an expat handler to stop parsing at a DTD or entity declaration."""


@dataclass
class OutboundMessage:
    organization_ids: list[str] = field(default_factory=list)
    notification_ids: list[str] = field(default_factory=list)
    object_types: list[str] = field(default_factory=list)
    notification_count: int = 0


def parse_outbound_message(body: bytes) -> OutboundMessage | None:
    """The ids in a `notifications` SOAP body; `None` for malformed XML or any DTD."""
    message = OutboundMessage()
    stack: list[tuple[str, list[str]]] = []  # (local element name, its text pieces)

    def refuse(*_: object) -> NoReturn:
        raise _DeclarationRefused

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        parent = stack[-1][0] if stack else ""
        if local == "sObject" and parent == "Notification" and XSI_TYPE in attributes:
            message.object_types.append(attributes[XSI_TYPE].rpartition(":")[2])
        stack.append((local, []))

    def end(name: str) -> None:
        local, pieces = stack.pop()
        parent = stack[-1][0] if stack else ""
        if local == "OrganizationId" and parent == "notifications":
            message.organization_ids.append("".join(pieces).strip())
        elif local == "Id" and parent == "Notification":
            message.notification_ids.append("".join(pieces).strip())
        elif local == "Notification" and parent == "notifications":
            message.notification_count += 1

    def text(data: str) -> None:
        if stack:
            stack[-1][1].append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _DeclarationRefused, RecursionError):
        return None
    return message


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    expected = config.get("organizationId")
    if not isinstance(expected, str) or not expected:
        return reject("config has no organizationId")
    message = parse_outbound_message(request.body)
    if message is None:
        return reject("body is not a well-formed SOAP message without a DTD")
    if len(set(message.organization_ids)) != 1:
        return reject("message must carry exactly one OrganizationId")
    if not hmac.compare_digest(utf8(message.organization_ids[0]), utf8(expected)):
        return reject("OrganizationId does not match")
    ids = message.notification_ids
    if not ids or len(ids) != message.notification_count or not all(ids):
        return reject("every Notification must carry one Id")
    event_type = ",".join(dict.fromkeys(message.object_types)) or None
    return Verdict(ok=True, event_id=",".join(ids), event_type=event_type)
