"""Microsoft Graph change notifications: no signature, a shared `clientState` instead.

Creating or renewing a subscription sends `?validationToken=<token>` (Microsoft documents
POST; some guides say GET, so both are accepted) and expects 200 `text/plain` with the
URL-decoded token within 10 s. Notifications are POSTs of `{"value": [...]}`; when
`config["secret"]` is set, every item's `clientState` must equal it. Rich notifications'
JWT `validationTokens` are not checked here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    Challenge,
    InboundRequest,
    Verdict,
    config_secret,
    json_object,
    query_params,
    reject,
    string_at,
    utf8,
)


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    params = query_params(request.url)
    if params is None:
        return reject("URL cannot be parsed")
    if "validationToken" in params:
        return Verdict(
            ok=True, event_type="validation", challenge=Challenge.text(params["validationToken"][0])
        )
    notifications = (json_object(request.body) or {}).get("value")
    if not isinstance(notifications, list) or not notifications:
        return reject('body is not a {"value": [...]} change notification')
    secret = config_secret(config)
    if secret is not None:
        for item in notifications:
            client_state = string_at(item, "clientState")
            if client_state is None or not hmac.compare_digest(utf8(client_state), utf8(secret)):
                return reject("clientState does not match")
    ids = [i for i in (string_at(item, "id") for item in notifications) if i]
    kinds = (string_at(item, "changeType") or string_at(item, "lifecycleEvent") for item in notifications)
    event_type = ",".join(dict.fromkeys(k for k in kinds if k)) or None
    return Verdict(ok=True, event_id=",".join(ids) or None, event_type=event_type)
