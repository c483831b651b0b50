"""Alerts reach a person: a Slack-style webhook and a real SMTP server on 127.0.0.1 get readable
text; the exhausted alert is rate-limited per endpoint; the late-deliveries alert fires once
per episode."""

from __future__ import annotations

import asyncio
import email
import json
import threading
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from hookwire.operations.alerting import AlertedEndpoint, Alerter, exhausted_text
from hookwire.operations.monitor import OperationsMonitor
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.runtime import Runtime
from tests.conftest import make_settings
from tests.support.receiver import Receiver
from tests.support.server import free_port


class Mailbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._arrived:
            self.messages.append(email.message_from_bytes(envelope.content))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"got {len(self.messages)} emails, expected {count}")
            return list(self.messages)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _endpoint() -> AlertedEndpoint:
    return AlertedEndpoint(
        endpoint_id="ep_1", url="https://billing.example/hook", app_id="app_1", app_uid="acme", source_id=None
    )


async def test_alert_goes_to_slack_and_email(slack: Receiver, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    settings = make_settings(
        "sqlite:///unused.db",
        alert_webhook_url=slack.url + "/services/T0/B0/x",
        alert_email_to="oncall@example.com",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="hookwire@example.com",
    )
    subject, body = exhausted_text(_endpoint(), msg_id="msg_1", attempts=8, last_status=None, suppressed=0)
    await Alerter(settings).send(subject, body)

    [posted] = slack.wait_for(1)
    text = json.loads(posted.body)["text"]
    assert text.startswith("*hookwire: a message to endpoint ep_1 gave up after 8 attempts*")
    assert "no response (timeout or connection error)" in text and "application acme (app_1)" in text
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"] == subject and mail["To"] == "oncall@example.com"
    assert "https://billing.example/hook" in mail.get_payload()  # type: ignore[operator]


def test_exhausted_alerts_are_rate_limited_per_endpoint() -> None:
    alerter = Alerter(make_settings("sqlite:///unused.db", alert_exhausted_every="1h"))
    assert alerter.exhausted_allowed("ep_1", now=0.0) == (True, 0)
    assert alerter.exhausted_allowed("ep_1", now=60.0) == (False, 0)
    assert alerter.exhausted_allowed("ep_1", now=120.0) == (False, 0)
    assert alerter.exhausted_allowed("ep_2", now=120.0) == (True, 0)  # another endpoint: its own budget
    assert alerter.exhausted_allowed("ep_1", now=3601.0) == (True, 2)  # the next one says 2 were held


async def test_late_deliveries_alert_once_per_episode(runtime: Runtime, slack: Receiver) -> None:
    settings = runtime.settings.with_overrides(alert_webhook_url=slack.url, alert_queue_age="1s")
    rt = Runtime(settings, runtime.db, runtime.box)
    app, _ = await create_app(rt, ApplicationIn(name="Acme"))
    await create_endpoint(rt, app.id, EndpointIn(url=slack.url + "/customer"))
    await create_message(rt, app.id, MessageIn(event_type="a.b", payload={}))  # due now; no worker runs
    monitor = OperationsMonitor(rt)

    await monitor.check_queue_age()  # not late yet
    await asyncio.sleep(1.1)
    await monitor.check_queue_age()
    await monitor.check_queue_age()  # still the same episode: no second alert

    [alert] = slack.wait_for(1)
    assert (
        "deliveries are" in json.loads(alert.body)["text"]
        and "1 deliveries are due" in json.loads(alert.body)["text"]
    )
    await asyncio.sleep(0.3)
    assert len(slack.requests) == 1
