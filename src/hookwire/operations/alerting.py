"""Alerts that need no code: a readable message to a Slack or Teams incoming webhook and/or
by email, when an endpoint is disabled, when a message's retries are exhausted (at most once
per endpoint per HOOKWIRE_ALERT_EXHAUSTED_EVERY), and when the oldest due delivery has waited
longer than HOOKWIRE_ALERT_QUEUE_AGE.

Both channels take plain text: Slack and Teams incoming webhooks accept `{"text": ...}`.
The alert URL is the operator's own configuration, so it is not subject to the SSRF guard
that protects customer endpoints. A failed alert is logged; it never stops delivery.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp

from hookwire.clock import to_datetime
from hookwire.settings import Settings

log = logging.getLogger("hookwire.alerts")

_TIMEOUT = 10.0


def _when(ms: int | None) -> str:
    return to_datetime(ms).strftime("%Y-%m-%d %H:%M:%S UTC") if ms is not None else "unknown"


def _status(last_status: int | None) -> str:
    return f"HTTP {last_status}" if last_status else "no response (timeout or connection error)"


@dataclass(frozen=True)
class AlertedEndpoint:
    """The endpoint an alert is about, as a person needs to recognise it."""

    endpoint_id: str
    url: str
    app_id: str
    app_uid: str | None
    source_id: str | None

    @property
    def owner(self) -> str:
        if self.source_id is not None:
            return f"source {self.source_id}"
        return f"application {self.app_uid} ({self.app_id})" if self.app_uid else f"application {self.app_id}"


def disabled_text(
    ep: AlertedEndpoint, *, fail_since: int | None, last_status: int | None, base_url: str
) -> tuple[str, str]:
    """(subject, body) of the alert for an endpoint hookwire disabled by itself."""
    subject = f"hookwire: endpoint {ep.endpoint_id} was disabled"
    body = (
        f"hookwire disabled endpoint {ep.endpoint_id} of {ep.owner}.\n"
        f"URL: {ep.url}\n"
        f"It has failed without a single success since {_when(fail_since)}; "
        f"last attempt: {_status(last_status)}.\n"
        "No further messages are sent to it until it is enabled again "
        f'(PATCH {base_url}/api/v1/app/{ep.app_id}/endpoint/{ep.endpoint_id} with {{"disabled": false}}), '
        "then recover what it missed with POST .../recover."
    )
    return subject, body


def exhausted_text(
    ep: AlertedEndpoint, *, msg_id: str, attempts: int, last_status: int | None, suppressed: int
) -> tuple[str, str]:
    """(subject, body) of the alert for a message whose retries ran out."""
    subject = f"hookwire: a message to endpoint {ep.endpoint_id} gave up after {attempts} attempts"
    more = (
        f"\n{suppressed} more message(s) to this endpoint were exhausted since the last alert."
        if suppressed
        else ""
    )
    body = (
        f"Message {msg_id} of {ep.owner} was not delivered to endpoint {ep.endpoint_id} ({ep.url}): "
        f"all {attempts} attempts failed, the last with {_status(last_status)}.{more}\n"
        "Resend it once the endpoint works again (POST .../msg/{msg}/endpoint/{endpoint}/resend)."
    )
    return subject, body


def queue_age_text(*, age_seconds: float, threshold_seconds: float, depth: int) -> tuple[str, str]:
    subject = f"hookwire: deliveries are {age_seconds:.0f}s late"
    body = (
        f"The oldest due delivery has waited {age_seconds:.0f} seconds (alert threshold "
        f"{threshold_seconds:.0f}s); {depth} deliveries are due. Workers may be down, too few, "
        "or held back by slow endpoints."
    )
    return subject, body


class Alerter:
    """Sends alert texts to the configured channels; rate-limits the per-endpoint ones."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession | None = None) -> None:
        self._settings = settings
        self._session = session
        self._last_exhausted: dict[str, float] = {}  # endpoint id -> monotonic time of last alert
        self._suppressed: dict[str, int] = {}
        self._queue_alerted = False

    @property
    def enabled(self) -> bool:
        return bool(self._settings.alert_webhook_url or self._settings.alert_email_to)

    def exhausted_allowed(self, endpoint_id: str, now: float) -> tuple[bool, int]:
        """Whether an exhausted alert for this endpoint may go now, and how many were held back."""
        last = self._last_exhausted.get(endpoint_id)
        if last is not None and now - last < self._settings.alert_exhausted_every_seconds:
            self._suppressed[endpoint_id] = self._suppressed.get(endpoint_id, 0) + 1
            return False, 0
        if len(self._last_exhausted) > 10_000:  # bounded: forget the oldest half
            for key in sorted(self._last_exhausted, key=self._last_exhausted.__getitem__)[:5000]:
                del self._last_exhausted[key]
        self._last_exhausted[endpoint_id] = now
        return True, self._suppressed.pop(endpoint_id, 0)

    def queue_age_crossed(self, age_seconds: float) -> bool:
        """True once when the oldest due delivery goes past the threshold; re-armed below it."""
        threshold = self._settings.alert_queue_age_seconds
        if threshold <= 0:
            return False
        if age_seconds <= threshold:
            self._queue_alerted = False
            return False
        if self._queue_alerted:
            return False
        self._queue_alerted = True
        return True

    async def send(self, subject: str, body: str) -> None:
        """Send to every configured channel; failures are logged, never raised."""
        jobs = []
        if self._settings.alert_webhook_url:
            jobs.append(self._post(f"*{subject}*\n{body}"))
        if self._settings.alert_email_to:
            jobs.append(asyncio.to_thread(self._mail, subject, body))
        for result in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("sending an alert failed: %s", result)

    async def _post(self, text: str) -> None:
        url = self._settings.alert_webhook_url
        assert url
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.post(
                url, json={"text": text}, timeout=aiohttp.ClientTimeout(total=_TIMEOUT)
            ) as resp:
                if resp.status >= 300:
                    raise RuntimeError(f"alert webhook answered HTTP {resp.status}")
        finally:
            if self._session is None:
                await session.close()

    def _mail(self, subject: str, body: str) -> None:
        s = self._settings
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = s.smtp_from
        message["To"] = s.alert_email_to
        message.set_content(body)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=_TIMEOUT) as smtp:
            smtp.send_message(message)
