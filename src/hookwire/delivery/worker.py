"""The delivery worker: claim due deliveries, send them, record attempts, schedule retries.

The deliveries table is the queue, worked with the queue core (`hookwire.queue`). A
worker claims a batch (marking the rows `MessageStatus.SENDING`, with next_attempt_at
holding the lease expiry) and sends each one concurrently. One recorder task writes the
attempts and new delivery states in batched transactions and, while sends are in flight,
pushes their leases forward (a heartbeat), so a slow endpoint never lets a live worker's
row be claimed twice.

A worker that dies loses nothing: without the heartbeat its leases run out and the
rows become due again. Every write that ends a claim is fenced by the lease value
the worker holds, so a worker that lost a row (its lease ran out) cannot overwrite
the state another worker wrote; its attempt is still recorded.

Capacity counts claimed rows until their attempt is recorded, so at most
`concurrency` deliveries are sent-but-unrecorded at any moment: that bounds the
duplicates a crash can cause. Wake-ups come from commits (in-process on SQLite,
LISTEN/NOTIFY on PostgreSQL), from the recorder when capacity frees up, and from
retries this worker scheduled; a slow poll is the safety net.

Per-endpoint limits (`limits.py`: concurrency cap, throttle, circuit breaker) are asked
before each claim, so deliveries to a held-back endpoint are not claimed at all. A claimed
delivery whose endpoint is at its concurrency cap waits in memory (it keeps its lease and
a capacity slot) and starts as soon as a response from that endpoint comes in; while
an endpoint has waiting deliveries, claims skip it. A claimed delivery that the throttle or
the breaker holds back is deferred: handed back as pending, due when the endpoint can take
it, with no attempt counted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from hookwire import __version__
from hookwire.clock import now_ms
from hookwire.delivery import transformations
from hookwire.delivery.claimed import ClaimedDelivery, MessageToSend
from hookwire.delivery.due_times import DueTimes
from hookwire.delivery.endpoint_cache import EndpointCache, EndpointTarget
from hookwire.delivery.limits import MAX_COOLDOWN, EndpointLimits
from hookwire.delivery.local_errors import LOCAL_BACKOFF, LocalErrorLog
from hookwire.delivery.retry import Verdict, is_success, judge_attempt
from hookwire.delivery.sender import Sender, SendResult
from hookwire.delivery.signing import sign
from hookwire.events import ATTEMPT_RECORDED
from hookwire.ids import new_id
from hookwire.operations.attempt_facts import attempt_facts
from hookwire.queue import LOST, LeaseBook, QueueTable, claim_until_stopped, log_failure
from hookwire.runtime import Runtime
from hookwire.store import typed
from hookwire.store.database import ALONE, AttemptsRecord, ClaimedBatch, WakeupTurn
from hookwire.store.statuses import MessageStatus

log = logging.getLogger("hookwire.delivery")

USER_AGENT = f"hookwire/{__version__}"
DELIVERIES = QueueTable(
    "deliveries",
    extend="extend_leases",
    finish="finish_delivery",
    failed=MessageStatus.FAIL,
    defer="defer_delivery",
    release="release_delivery",
)
_RECORD_BACKOFF = 2.0
# A worker records at most once per RECORD_EVERY seconds unless it needs the room (see
# _record_paced): one statement per ~25 ms of attempts instead of one per few attempts.
# Measured on PostgreSQL (2 API + 2 workers, end to end): worker CPU per message -9%,
# PostgreSQL's -15%, rate +7%; on SQLite the worker's CPU per message -11%. What waits is only
# the bookkeeping: the receiver got its request already; the attempt shows in the API up to
# 25 ms later.
RECORD_EVERY = 0.025
_LOCAL_BACKOFF_MS = int(LOCAL_BACKOFF * 1000)
_MIN_WAIT = 0.005
_NO_RETRY = Verdict(success=False, retry_in=None)
_CLAIM_SCAN = 1000  # due rows a claim looks at past held-back endpoints (claim_due_deliveries)


@dataclass
class _Done:
    delivery: ClaimedDelivery
    target: EndpointTarget
    result: SendResult
    finished_at: int
    final: bool = False  # failed for a reason of its own (see EndpointTarget.broken): no retry


_Work = tuple[ClaimedDelivery, MessageToSend, EndpointTarget]  # started, or waiting for its endpoint


def build_headers(msg_id: str, timestamp: int, body: bytes, target: EndpointTarget) -> dict[str, str]:
    """The request headers: Standard Webhooks, the same values as svix-*, then custom headers."""
    signature = sign(msg_id, timestamp, body, target.keys)
    ts = str(timestamp)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": signature,
        "svix-id": msg_id,
        "svix-timestamp": ts,
        "svix-signature": signature,
        **target.headers,
    }


class DeliveryWorker:
    """Runs until stopped; `run(burst=True)` drains the queue and returns (tests, CLI)."""

    def __init__(
        self,
        rt: Runtime,
        sender: Sender,
        *,
        concurrency: int | None = None,
        batch_size: int = 100,
        turn: WakeupTurn = ALONE,
    ):
        self._rt = rt
        self._sender = sender
        self._turn = turn  # among the workers of one `hookwire serve` (store/pg_wakeups.py)
        self._concurrency = max(1, concurrency or rt.settings.worker_concurrency)
        self._batch_size = max(1, batch_size)
        self._book: LeaseBook[int] = LeaseBook(rt.db, DELIVERIES, int(rt.settings.lease_seconds * 1000), log)
        self._endpoints = EndpointCache(rt.box)
        self._limits = EndpointLimits(
            max_inflight=rt.settings.endpoint_concurrency,
            failure_threshold=rt.settings.circuit_breaker_failures,
            cooldown=rt.settings.circuit_breaker_cooldown,
            max_cooldown=max(MAX_COOLDOWN, rt.settings.circuit_breaker_cooldown),
        )
        # Started deliveries go to a queue that `concurrency` long-lived sender tasks take from:
        # cheaper than a task per attempt, and it bounds in-flight sends by construction.
        self._ready: asyncio.Queue[_Work] = asyncio.Queue()
        self._senders: list[asyncio.Task[None]] = []
        self._sending = 0  # taken from the queue, not finished
        self._quiet = asyncio.Event()  # set while nothing is queued or being sent
        self._quiet.set()
        self._waiting: dict[str, collections.deque[_Work]] = {}  # at the cap
        self._to_defer: list[dict[str, Any]] = []  # waited at the cap, now held by throttle/breaker
        self._done: list[_Done] = []
        self._local_errors = LocalErrorLog(log)
        self._wake = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._recorded_at = -math.inf  # monotonic; when the last record started
        self._record_now = asyncio.Event()  # a paced record is needed now (see _record_paced)
        # The last claim may have left due deliveries behind: it took as many as it asked for
        # (a backlog, or all the room the worker had) or skipped endpoints at their limits. A
        # slot of the lease book frees only once its attempt is recorded, and the record wakes
        # the next claim, so while this holds the worker records at once. (Pacing a backlog's
        # records held a draining worker at 75% of a core: 4,974 deliveries/s against 6,761.)
        self._backlog = False
        self._stopping = False
        self._recorder_stopping = False
        self._retries = DueTimes()  # the retries and deferrals this worker scheduled (due_times.py)
        self._unblock_at = math.inf  # ms; when an endpoint the last claim skipped may go again
        self._paced_until = 0  # ms; deliveries held back by a cap or a throttle are due until then
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def limits(self) -> EndpointLimits:
        return self._limits

    def stop(self) -> None:
        """Stop claiming; in-flight attempts finish and are recorded, the rest released; run() returns."""
        self._stopping = True
        self._wake.set()

    async def run(self, *, burst: bool = False, burst_horizon: float | None = None) -> None:
        """Deliver until stop(). With burst, return once nothing is claimed, in flight or due
        within `burst_horizon` seconds (None: wait for every scheduled retry and lease)."""
        await self._rt.db.listen_deliveries(self.wake, turn=self._turn)
        recorder = asyncio.create_task(self._record_loop())
        self._senders = [asyncio.create_task(self._sender_loop()) for _ in range(self._concurrency)]
        try:
            await self._claim_loop(burst, burst_horizon)
        finally:
            await self._drain(recorder)

    # ------------------------------------------------------------------ claiming

    async def _claim_loop(self, burst: bool, horizon: float | None) -> None:
        async def step() -> float | None:
            _, more = await self._claim_and_start()
            return 0.0 if more else await self._idle_timeout(burst, horizon)

        await claim_until_stopped(
            step,
            wake=self._wake,
            stopping=lambda: self._stopping,
            log=log,
            what="claiming deliveries",
            burst=burst,
        )

    async def _idle_timeout(self, burst: bool, horizon: float | None) -> float | None:
        """How long to wait for a wake-up; None when a burst run is finished."""
        timeout = self._rt.settings.poll_interval
        if len(self._book) >= self._concurrency:
            return timeout  # the recorder wakes the loop when capacity frees up
        wake_at = min(self._retries.earliest, self._unblock_at)
        if wake_at != math.inf:
            timeout = min(timeout, (wake_at - now_ms()) / 1000)
        if burst and not self._book and self._quiet.is_set() and not self._done:
            row = await self._rt.db.fetchrow("next_due_at")
            due = row["due"] if row else None
            if due is None:
                return None
            now = now_ms()
            if due <= now and self._unblock_at != math.inf:
                due = max(due, self._unblock_at)  # due, but skipped: its endpoint is held back
            wait = (due - now) / 1000
            if horizon is not None and wait > horizon and now >= self._paced_until:
                return None  # paced deliveries were due: a burst waits for them, not for open circuits
            timeout = min(timeout, wait)
        # Due but not claimable (locked by another worker's claim in progress): do not spin.
        return max(timeout, _MIN_WAIT)

    async def _sleep(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim_and_start(self) -> tuple[int, bool]:
        """Claim what capacity allows and start sending; returns (claimed, more may be due now)."""
        free = self._concurrency - len(self._book)
        if free <= 0:
            return 0, False
        limit = min(free, self._batch_size)
        now = now_ms()
        lease_until = self._book.lease_until(now)
        blocked, open_circuits = self._limits.exclusions(now / 1000)
        if self._waiting:
            blocked = sorted({*blocked, *self._waiting})
        self._unblock_at = math.inf
        if blocked or open_circuits:
            token_at, circuit_at = self._limits.next_unblock(now / 1000)
            self._unblock_at = min(token_at, circuit_at) * 1000
            if token_at != math.inf:
                self._paced_until = max(self._paced_until, math.ceil(token_at * 1000))
        batch = await self._rt.db.claim_deliveries(
            now=now,
            lease_until=lease_until,
            limit=limit,
            scan=max(_CLAIM_SCAN, 10 * limit),
            blocked=blocked,
            open_circuits=open_circuits,
        )
        claimed = typed(ClaimedDelivery, batch.deliveries)
        if len(claimed) < limit:
            self._retries.passed(now)  # everything due by now was claimed
        # A row of ours whose lease ran out while it was still being sent keeps the new lease and
        # is not sent a second time.
        fresh_ids = set(self._book.claimed((d.id for d in claimed), lease_until))
        fresh = [d for d in claimed if d.id in fresh_ids]
        if fresh:
            await self._start(fresh, batch, now)
        self._backlog = len(claimed) == limit or bool(blocked)
        if self._backlog:
            self._record_now.set()
        return len(claimed), len(claimed) == limit

    async def _start(self, claimed: list[ClaimedDelivery], batch: ClaimedBatch, now: int) -> None:
        limits, now_s = self._limits, now / 1000
        sendable: list[_Work] = []
        waiting: list[_Work] = []
        waits: dict[str, int] = {}  # endpoint -> deliveries waiting for it, once counted
        try:
            messages = {m.id: m for m in typed(MessageToSend, batch.messages)}
            targets = await self._endpoints.load(self._rt.db, batch.endpoint_versions, now)
            for endpoint in targets.values():  # once per endpoint, not per delivery
                limits.set_rate(endpoint.id, endpoint.throttle_rate, now_s)
            canceled, deferred = [], []
            for delivery in claimed:
                msg = messages.get(delivery.msg_id)
                target = targets.get(delivery.endpoint_id)
                if msg is None or msg.payload is None or target is None or target.disabled:
                    canceled.append({"id": delivery.id, "now": now, "lease": self._book.fence(delivery.id)})
                    continue
                if target.broken is not None:  # a poison pill: fail it with its reason, go on
                    self._fail_unsendable(delivery, target, target.broken, now)
                    continue
                manual = bool(delivery.manual)
                if limits.try_acquire(target.id, now_s, manual=manual):
                    sendable.append((delivery, msg, target))
                    continue
                if limits.at_cap(target.id):
                    # At most one cap's worth waits in memory per endpoint; the rest go back to
                    # the queue, so an endpoint that does not answer holds few worker slots.
                    held = waits.get(target.id)
                    if held is None:
                        held = len(self._waiting.get(target.id, ()))
                    if held < limits.cap(target.id):
                        waits[target.id] = held + 1
                        waiting.append((delivery, msg, target))
                        continue
                row = self._deferral(delivery, target.id, now)
                if manual or not limits.circuit_open(target.id, now_s):
                    self._paced_until = max(self._paced_until, row["due"])
                deferred.append(row)
            if canceled or deferred:
                await self._rt.db.write([("cancel_delivery", canceled), ("defer_delivery", deferred)])
        except BaseException:
            for _, _, target in sendable:  # acquired, never sent
                limits.abandon(target.id)
            self._book.drop(d.id for d in claimed)  # not heartbeated any more: their leases run out
            raise
        self._book.drop(row["id"] for row in (*canceled, *deferred))
        for row in deferred:
            self._retries.add(row["due"])
        for item in waiting:
            self._waiting.setdefault(item[2].id, collections.deque()).append(item)
        for work in sendable:
            self._launch(work)

    def _fail_unsendable(
        self, delivery: ClaimedDelivery, target: EndpointTarget, reason: str, now: int
    ) -> None:
        """Record a failed attempt carrying `reason` and end the delivery as failed, without
        sending: it can never be sent as it is, and must not hold up the rest of the batch."""
        self._done.append(
            _Done(delivery, target, SendResult(status_code=0, duration_ms=0, error=reason), now, True)
        )
        self._results_ready.set()

    def _launch(self, work: _Work) -> None:
        self._quiet.clear()
        self._ready.put_nowait(work)

    async def _sender_loop(self) -> None:
        while True:
            delivery, msg, target = await self._ready.get()
            self._sending += 1
            try:
                await self._send_one(delivery, msg, target)
            finally:
                self._sending -= 1
                if not self._sending and self._ready.empty():
                    self._quiet.set()

    def _start_waiting(self, endpoint_ids: Iterable[str], now: int) -> list[dict[str, Any]]:
        """Start deliveries that waited for a slot at endpoints whose attempts were just recorded.

        Returns the ones to hand back instead: the endpoint is no longer held by its cap but
        by its throttle or breaker, which can last far longer than a lease should be held."""
        limits, now_s = self._limits, now / 1000
        deferred: list[dict[str, Any]] = []
        for endpoint_id in endpoint_ids:
            queue = self._waiting.get(endpoint_id)
            while queue:
                work = queue[0]
                delivery = work[0]
                manual = bool(delivery.manual)
                if self._book.fence(delivery.id) == LOST:  # lost to another worker meanwhile
                    self._book.drop((delivery.id,))
                elif limits.try_acquire(endpoint_id, now_s, manual=manual):
                    self._launch(work)
                elif limits.at_cap(endpoint_id):
                    break
                else:
                    deferred.append(self._deferral(delivery, endpoint_id, now))
                queue.popleft()
            if not queue:
                self._waiting.pop(endpoint_id, None)
        return deferred

    def _deferral(self, delivery: ClaimedDelivery, endpoint_id: str, now: int) -> dict[str, Any]:
        """The `defer_delivery` row for a claimed delivery its endpoint cannot take now."""
        due = self._limits.retry_at(endpoint_id, now / 1000, manual=bool(delivery.manual))
        return self._book.defer(delivery.id, math.ceil(due * 1000), now)

    async def _send_one(self, delivery: ClaimedDelivery, msg: MessageToSend, target: EndpointTarget) -> None:
        try:
            body = bytes(msg.payload or b"")
            if target.transformation is not None:  # endpoints without one never pay for it
                result = await transformations.send_for(
                    self._sender, self._rt.settings, msg, target, build_headers
                )
            else:
                headers = build_headers(msg.id, int(time.time()), body, target)
                result = await self._sender.send(target.url, body, headers)
        except asyncio.CancelledError:  # stopping: this attempt will not be recorded
            self._limits.abandon(target.id)
            raise
        except Exception as exc:  # a bug here must still end the claim with a recorded attempt
            log.exception("sending delivery %s failed unexpectedly", delivery.id)
            result = SendResult(status_code=0, duration_ms=0, error=f"internal error: {exc!r}")
        finished = now_ms()
        self._done.append(_Done(delivery, target, result, finished))
        # The slot frees when the response is in, not when it is recorded: a waiting delivery
        # to the same endpoint starts now rather than after the next database round trip.
        if result.local:  # this machine's fault: the endpoint's breaker and cap learn nothing
            self._limits.abandon(target.id)
        else:
            self._limits.release(
                target.id,
                success=is_success(result.status_code),
                now=finished / 1000,
                manual=bool(delivery.manual),
                took=result.duration_ms / 1000,
            )
        if target.id in self._waiting and not self._stopping:
            self._to_defer += self._start_waiting((target.id,), finished)
        self._results_ready.set()
        self.sent += 1

    # ------------------------------------------------------------------ recording

    async def _record_loop(self) -> None:
        """Record finished attempts in batches; between batches, keep in-flight leases alive."""
        beat_every = self._book.beat_every
        next_beat = time.monotonic() + beat_every
        failures = 0
        while True:
            if self._recorder_stopping and not self._done and not self._to_defer:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._results_ready.wait(), max(0.0, next_beat - time.monotonic()))
            self._results_ready.clear()
            try:
                if self._done or self._to_defer:
                    await self._record_paced()
                if time.monotonic() >= next_beat:
                    await self._book.heartbeat(now_ms())
                    next_beat = time.monotonic() + beat_every
                failures = 0
            except Exception as exc:
                failures += 1
                log_failure(log, exc, f"recording attempts failed (try {failures})")
                if self._recorder_stopping and failures >= 3:
                    return  # shutting down with the database away: the leases will run out
                # Capped low: an attempt that finished while the database was away is recorded
                # within seconds of its return, and the heartbeat resumes before leases run out.
                await asyncio.sleep(min(0.1 * 2**failures, _RECORD_BACKOFF))
                self._results_ready.set()

    async def _record_paced(self) -> None:
        """Wait out the rest of `RECORD_EVERY` since the last record, so more attempts share
        it, unless the worker needs the room (`_backlog`; a claim that finds it so cuts the
        wait short) or is stopping."""
        wait = self._recorded_at + RECORD_EVERY - time.monotonic()
        if wait > 0 and not self._backlog and not self._recorder_stopping:
            self._record_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._record_now.wait(), wait)
        self._recorded_at = time.monotonic()
        await self._record()

    async def _record(self) -> None:
        batch, self._done = self._done, []
        deferred, self._to_defer = self._to_defer, []
        attempts, updates, recorded, local = [], [], [], []
        failing, succeeding, gone = set(), set(), set()
        schedule = self._rt.settings.retry_delays
        book, now = self._book, now_ms()
        for item in batch:
            d, result = item.delivery, item.result
            if result.local:  # no attempt: handed back, due after a short local backoff
                local.append(book.defer(d.id, item.finished_at + _LOCAL_BACKOFF_MS, item.finished_at))
                self._local_errors.note(result.error)
                continue
            if result.canceled:  # the endpoint's transformation chose to send nothing: no retry
                attempts.append(_attempt_row(item, MessageStatus.CANCELED))
                recorded.append(item)
                updates.append(book.finish(d.id, MessageStatus.CANCELED, item.finished_at, now))
                continue
            verdict = judge_attempt(
                result.status_code,
                result.headers.get("retry-after"),
                d.attempts + 1,
                schedule,
                now=item.finished_at / 1000,
                delivery_header=result.headers.get("webhook-delivery"),
            )
            if item.final:
                verdict = _NO_RETRY
            attempts.append(
                _attempt_row(item, MessageStatus.SUCCESS if verdict.success else MessageStatus.FAIL)
            )
            recorded.append(item)
            if verdict.success:
                succeeding.add(d.endpoint_id)
                updates.append(book.finish(d.id, MessageStatus.SUCCESS, item.finished_at, now))
                continue
            failing.add(d.endpoint_id)
            if verdict.disable_endpoint:
                gone.add(d.endpoint_id)
            if verdict.retry_in is None:
                updates.append(book.fail(d.id, now))
            else:
                due = item.finished_at + math.ceil(verdict.retry_in * 1000)
                self._retries.add(due)
                updates.append(book.finish(d.id, MessageStatus.PENDING, due, now))
        record = AttemptsRecord(
            attempts=attempts,
            finished=updates,
            succeeded=sorted(succeeding),
            failing=sorted(failing - succeeding),
            gone=sorted(gone),
            deferred=deferred + local,
            now=now,
            cutoff=now - int(self._rt.settings.disable_after_seconds * 1000),
        )
        try:
            await self._rt.db.record_attempts(record)  # grouped with concurrent writes on SQLite
        except BaseException:
            self._done[:0] = batch  # recorded on the next try
            self._to_defer[:0] = deferred
            raise
        book.drop(item.delivery.id for item in recorded)
        for item, attempt, update in zip(recorded, attempts, updates, strict=True):
            self._rt.events.publish(
                ATTEMPT_RECORDED,
                {
                    "attemptId": attempt["id"],
                    "msgId": attempt["msg_id"],
                    "endpointId": attempt["endpoint_id"],
                    "appId": attempt["app_id"],
                    "status": attempt["status"],
                    "responseStatusCode": attempt["response_status_code"],
                    **attempt_facts(self._rt, item.delivery.attempts + 1, update["status"], attempt),
                },
            )
        book.drop(row["id"] for row in (*deferred, *local))
        for row in (*deferred, *local):
            self._retries.add(row["due"])
        if gone:
            log.warning("disabled endpoints that answered 410 Gone: %s", ", ".join(sorted(gone)))
        self._wake.set()  # capacity freed, and maybe a retry is due sooner

    # ------------------------------------------------------------------ stopping

    async def _drain(self, recorder: asyncio.Task[None]) -> None:
        """Let in-flight attempts finish (bounded by the request timeout), record them, and hand
        back every lease still held."""
        self._stopping = True
        grace = self._rt.settings.request_timeout + 1
        while not self._ready.empty():  # queued, never started: released with the other leases
            _, _, target = self._ready.get_nowait()
            self._limits.abandon(target.id)
        if not self._sending:
            self._quiet.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), grace)
        for task in self._senders:
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        self._senders = []
        self._recorder_stopping = True
        self._record_now.set()
        self._results_ready.set()
        try:
            await recorder
        except asyncio.CancelledError:
            if not recorder.cancelled():
                raise
        finally:
            if not recorder.done():
                recorder.cancel()
        self._waiting.clear()  # never started: their leases are released below
        self._to_defer.clear()
        self._done.clear()  # sent but never recorded (the database went away): leases released below
        await self._book.release_all(now_ms())


def _attempt_row(item: _Done, status: int) -> dict[str, object]:
    d, result = item.delivery, item.result
    return {
        "id": new_id("atmpt", item.finished_at),
        "delivery_id": d.id,
        "msg_id": d.msg_id,
        "endpoint_id": d.endpoint_id,
        "app_id": d.app_id,
        "url": item.target.url,
        "status": status,
        "response_status_code": result.status_code,
        "response_headers": orjson.dumps(result.headers).decode() if result.headers else None,
        "response_body": result.body,
        "duration_ms": result.duration_ms,
        "trigger_type": 1 if d.manual else 0,
        "error": result.error,
        "now": item.finished_at,
    }
