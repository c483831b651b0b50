"""The operations monitor: runs beside the delivery workers and turns recorded attempts into
operational webhooks, alerts and metrics.

It reads `attempt.recorded` from the event channel (never polls for attempts) and acts on the
attempts its own process recorded, so with several worker processes each attempt is handled
once. Per attempt:

- the 4th failed attempt of a delivery: `message.attempt.failing`;
- a failed attempt that ends its delivery: `message.attempt.exhausted` (+ an alert, rate-limited
  per endpoint);
- a success after 4 or more failed attempts: `message.attempt.recovered`;
- a failed attempt after which the endpoint is disabled (5 days of failure, or 410 Gone):
  `endpoint.disabled` with `trigger: automatic` (+ an alert).

Endpoints of an ingest source get the `ingest.*` events instead. Attempts to operational
endpoints themselves emit nothing, so a dead operational endpoint cannot feed itself.

It also runs the retention job (retention.py). Every few seconds it looks at the oldest due
delivery, for the queue-age alert, and sets the open-circuits gauge from the worker's limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from hookwire.clock import now_ms
from hookwire.delivery.limits import EndpointLimits
from hookwire.events import ATTEMPT_RECORDED, SubscriptionOverflow
from hookwire.operations import alerting
from hookwire.operations.alerting import Alerter
from hookwire.operations.attempt_facts import PROCESS_ORIGIN
from hookwire.operations.event_types import (
    ATTEMPT_EXHAUSTED,
    ATTEMPT_FAILING,
    ATTEMPT_RECOVERED,
    ENDPOINT_DISABLED,
    FAILING_AFTER_ATTEMPTS,
    INGEST_ATTEMPT_EXHAUSTED,
    INGEST_ATTEMPT_FAILING,
    INGEST_ATTEMPT_RECOVERED,
    INGEST_ENDPOINT_DISABLED,
    OPERATIONAL_APP_ID,
)
from hookwire.operations.operational_webhooks import (
    EndpointRef,
    Owner,
    attempt_data,
    disabled_data,
    emit,
    iso,
)
from hookwire.operations.retention import RetentionJob
from hookwire.runtime import Runtime
from hookwire.store import Row
from hookwire.store.statuses import MessageStatus

log = logging.getLogger("hookwire.operations")

_GONE = 410
_QUEUE_CHECK_SECONDS = 5.0
_MAX_TRACKED = 10_000


class OperationsMonitor:
    """Run with `run()` until `stop()`; one per process that runs delivery workers."""

    def __init__(
        self, rt: Runtime, alerter: Alerter | None = None, limits: EndpointLimits | None = None
    ) -> None:
        self._rt = rt
        self._limits = limits  # the worker's, for the open-circuits gauge
        self._alerter = alerter or Alerter(rt.settings)
        self._stopping = asyncio.Event()
        # endpoint id -> ms before which it cannot have been disabled for long failure
        self._disable_check_after: dict[str, int] = {}
        self._alerted: set[str] = set()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        retention = RetentionJob(self._rt)
        tasks = [
            asyncio.create_task(self._attempts()),
            asyncio.create_task(self._every_few_seconds()),
            asyncio.create_task(retention.run()),
        ]
        try:
            await self._stopping.wait()
        finally:
            retention.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ attempts

    async def _attempts(self) -> None:
        while True:
            # this process's own attempts only: another process handles its own
            sub = self._rt.events.subscribe({ATTEMPT_RECORDED}, maxsize=10_000, remote=False)
            try:
                async for event in sub:
                    try:
                        await self.handle_attempt(event.data)
                    except Exception:
                        log.exception(
                            "operational handling of attempt %s failed", event.data.get("attemptId")
                        )
            except SubscriptionOverflow:
                log.warning("operations monitor fell behind; some operational events were skipped")
            finally:
                sub.close()

    async def handle_attempt(self, data: dict[str, Any]) -> None:
        """Emit the operational events one recorded attempt means (see the module docstring)."""
        if data.get("appId") == OPERATIONAL_APP_ID or data.get("origin") != PROCESS_ORIGIN:
            return  # about an operational endpoint, or recorded (and handled) by another process
        number, success = int(data["attemptNumber"]), data["status"] == MessageStatus.SUCCESS
        kinds: list[tuple[str, str]] = []  # (outbound type, ingest type)
        if success:
            if number > FAILING_AFTER_ATTEMPTS:
                kinds.append((ATTEMPT_RECOVERED, INGEST_ATTEMPT_RECOVERED))
        else:
            if number == FAILING_AFTER_ATTEMPTS:
                kinds.append((ATTEMPT_FAILING, INGEST_ATTEMPT_FAILING))
            if data.get("exhausted"):
                kinds.append((ATTEMPT_EXHAUSTED, INGEST_ATTEMPT_EXHAUSTED))
        may_be_disabled = not success and self._may_be_disabled(data)
        if not kinds and not may_be_disabled:
            return
        ctx = await self._rt.db.fetchrow("operational_context", endpoint_id=data["endpointId"])
        if ctx is None:
            return  # deleted meanwhile
        app = Owner(ctx["app_id"], ctx["app_uid"], ctx["source_id"])
        if kinds:
            await self._attempt_events(data, app, kinds)
        if may_be_disabled:
            await self._check_disabled(data, app, ctx)

    async def _attempt_events(self, data: dict[str, Any], app: Owner, kinds: list[tuple[str, str]]) -> None:
        msg = await self._rt.db.fetchrow("message_event_id", id=data["msgId"])
        last = {
            "id": data["attemptId"],
            "responseStatusCode": data["responseStatusCode"],
            "timestamp": iso(data["timestamp"]),
        }
        payload = attempt_data(app, data["endpointId"], data["msgId"], msg["event_id"] if msg else None, last)
        for outbound, ingest in kinds:
            kind = ingest if app.source_id is not None else outbound
            await emit(self._rt, kind, payload, key=data["attemptId"])
            if outbound == ATTEMPT_EXHAUSTED:
                await self._alert_exhausted(data, app)

    def _may_be_disabled(self, data: dict[str, Any]) -> bool:
        """Whether this failure may have disabled its endpoint: cheap, so only those are looked up."""
        if data["responseStatusCode"] == _GONE:
            return True
        return bool(data["timestamp"] >= self._disable_check_after.get(data["endpointId"], 0))

    async def _check_disabled(self, data: dict[str, Any], app: Owner, ctx: Row) -> None:
        endpoint_id = data["endpointId"]
        if not ctx["disabled"]:
            window = int(self._rt.settings.disable_after_seconds * 1000)
            first = ctx["first_failure_at"] if ctx["first_failure_at"] is not None else data["timestamp"]
            if len(self._disable_check_after) >= _MAX_TRACKED:
                self._disable_check_after.clear()
            self._disable_check_after[endpoint_id] = first + window
            return
        self._disable_check_after.pop(endpoint_id, None)
        endpoint = EndpointRef(endpoint_id, ctx["endpoint_uid"])
        payload = disabled_data(app, endpoint, fail_since=ctx["first_failure_at"], trigger="automatic")
        kind = INGEST_ENDPOINT_DISABLED if app.source_id is not None else ENDPOINT_DISABLED
        # Keyed by the disabling change: every process that sees it stores one event.
        await emit(self._rt, kind, payload, key=f"{endpoint_id}.{ctx['updated_at']}")
        if self._alerter.enabled and self._first_sighting(f"disabled.{endpoint_id}.{ctx['updated_at']}"):
            subject, body = alerting.disabled_text(
                await self._alerted_endpoint(endpoint_id, app),
                fail_since=ctx["first_failure_at"],
                last_status=data["responseStatusCode"],
                base_url=self._rt.settings.base_url,
            )
            await self._alerter.send(subject, body)

    def _first_sighting(self, key: str) -> bool:
        """In-process de-duplication of alerts (a disable seen by two failed attempts in flight)."""
        if key in self._alerted:
            return False
        if len(self._alerted) >= _MAX_TRACKED:
            self._alerted.clear()
        self._alerted.add(key)
        return True

    async def _alert_exhausted(self, data: dict[str, Any], app: Owner) -> None:
        if not self._alerter.enabled:
            return
        allowed, suppressed = self._alerter.exhausted_allowed(data["endpointId"], time.monotonic())
        if not allowed:
            return
        subject, body = alerting.exhausted_text(
            await self._alerted_endpoint(data["endpointId"], app),
            msg_id=data["msgId"],
            attempts=int(data["attemptNumber"]),
            last_status=data["responseStatusCode"],
            suppressed=suppressed,
        )
        await self._alerter.send(subject, body)

    async def _alerted_endpoint(self, endpoint_id: str, app: Owner) -> alerting.AlertedEndpoint:
        row = await self._rt.db.fetchrow("endpoint_url", id=endpoint_id)
        return alerting.AlertedEndpoint(
            endpoint_id=endpoint_id,
            url=str(row["url"]) if row else "(deleted)",
            app_id=app.id,
            app_uid=app.uid,
            source_id=app.source_id,
        )

    # ------------------------------------------------------------------ queue age

    async def _every_few_seconds(self) -> None:
        alerting_on = self._alerter.enabled and self._rt.settings.alert_queue_age_seconds > 0
        while True:
            if self._limits is not None:
                _, open_circuits = self._limits.exclusions(time.time())
                self._rt.metrics.open_circuits.set(len(open_circuits))
            if alerting_on:
                try:
                    await self.check_queue_age()
                except Exception:
                    log.exception("checking the age of due deliveries failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), _QUEUE_CHECK_SECONDS)
                return

    async def check_queue_age(self) -> None:
        now = now_ms()
        row = await self._rt.db.fetchrow("oldest_due", now=now)
        if row is None or row["oldest"] is None:
            self._alerter.queue_age_crossed(0.0)
            return
        age = (now - row["oldest"]) / 1000
        if self._alerter.queue_age_crossed(age):
            subject, body = alerting.queue_age_text(
                age_seconds=age,
                threshold_seconds=self._rt.settings.alert_queue_age_seconds,
                depth=int(row["depth"]),
            )
            await self._alerter.send(subject, body)
