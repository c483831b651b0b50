"""Per-endpoint limits that keep one endpoint from starving the others.

Three guards, all in memory per worker process and all pure (time is passed in):

* a **concurrency cap** — at most `max_inflight` attempts to one endpoint at once. The cap
  adapts, like TCP's slow start: an endpoint starts at `start_inflight`, gains one slot for
  every response that comes back within `slow_after` seconds, and loses half its slots for
  every one slower than that (a timeout included). An endpoint that never answers therefore
  never holds more than `start_inflight` slots, however many such endpoints there are, and
  one that answers fast reaches `max_inflight` within a few dozen responses;
* a **throttle** — an endpoint's `throttleRate` (messages per second) as a token bucket;
* a **circuit breaker** — after `failure_threshold` consecutive failures the endpoint is
  skipped for `cooldown` seconds, then one probe is let through; a success closes it,
  a failure opens it again for twice as long (up to `max_cooldown`). A threshold of 0
  turns the breaker off.

The worker asks `exclusions(now)` before claiming, so deliveries to a held-back endpoint stay
queued (no attempt is spent on them), and a dead endpoint costs one probe per cooldown
instead of a worker slot per message. Manual deliveries (resend, recover) go through an
open circuit but still respect the cap and the throttle.

Only limited endpoints are kept: in-flight counts while above zero, buckets until they have
refilled, breakers until the endpoint's next success. So with nothing limited, `exclusions`
looks at nothing and `try_acquire` / `release` are a few dict operations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_COOLDOWN = 300.0
_RETRY_SOON = 0.05  # seconds; a delivery deferred for want of a free slot


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def next_token_at(self) -> float:
        return self.updated + (1 - self.tokens) / self.rate


@dataclass
class _Breaker:
    failures: int = 0
    open_until: float = 0.0
    cooldown: float = 0.0  # 0 while closed; set when the breaker trips
    probing: bool = False


@dataclass
class EndpointLimits:
    max_inflight: int = 50
    start_inflight: int = 4
    slow_after: float = 1.0  # seconds; a response slower than this halves the endpoint's cap
    failure_threshold: int = 5
    cooldown: float = 5.0
    max_cooldown: float = MAX_COOLDOWN
    _inflight: dict[str, int] = field(default_factory=dict)  # only while > 0
    _caps: dict[str, int] = field(default_factory=dict)  # adapted caps; absent: the starting cap
    _full: set[str] = field(default_factory=set)  # at max_inflight
    _buckets: dict[str, _Bucket] = field(default_factory=dict)  # dropped once full again
    _breakers: dict[str, _Breaker] = field(default_factory=dict)  # failures since the last success
    _tripped: set[str] = field(default_factory=set)  # breakers open or probing

    def __post_init__(self) -> None:
        self._start = max(1, min(self.start_inflight, self.max_inflight))

    def cap(self, endpoint_id: str) -> int:
        """How many attempts the endpoint may have in flight now (see the module docstring)."""
        return self._caps.get(endpoint_id, self._start)

    def set_rate(self, endpoint_id: str, rate: int | None, now: float) -> None:
        """Apply the endpoint's throttleRate (messages/second); None or 0 removes the throttle."""
        if not rate:
            if self._buckets:
                self._buckets.pop(endpoint_id, None)
            return
        bucket = self._buckets.get(endpoint_id)
        if bucket is None or bucket.rate != rate:
            self._buckets[endpoint_id] = _Bucket(float(rate), float(rate), now)

    def exclusions(self, now: float) -> tuple[list[str], list[str]]:
        """(endpoints no delivery may be claimed for right now: at the cap or out of tokens,
        endpoints whose circuit is open or probing: only manual deliveries may be claimed)."""
        held = list(self._full)
        if self._buckets:
            for endpoint_id, bucket in list(self._buckets.items()):
                bucket.refill(now)
                if bucket.tokens < 1:
                    held.append(endpoint_id)
                elif bucket.tokens >= bucket.rate:
                    del self._buckets[endpoint_id]  # full and idle: as if new; set_rate brings it back
        circuit_open = []
        if self._tripped:
            for endpoint_id in list(self._tripped):
                breaker = self._breakers[endpoint_id]
                if breaker.probing or breaker.open_until > now:
                    circuit_open.append(endpoint_id)
                else:
                    self._tripped.discard(endpoint_id)  # half-open: try_acquire lets the probe through
        return sorted(held), sorted(circuit_open)

    def next_unblock(self, now: float) -> tuple[float, float]:
        """When the earliest endpoint held back by time may go again: (out of tokens, open circuit);
        inf where none is. A slot freed or a probe recorded wakes the worker by itself."""
        tokens = [bucket.next_token_at() for bucket in self._buckets.values() if bucket.tokens < 1]
        circuits = [
            breaker.open_until
            for endpoint_id in self._tripped
            if not (breaker := self._breakers[endpoint_id]).probing and breaker.open_until > now
        ]
        return min(tokens, default=math.inf), min(circuits, default=math.inf)

    def try_acquire(self, endpoint_id: str, now: float, *, manual: bool = False) -> bool:
        """Take a slot for one attempt; False means defer the delivery (it was claimed in a batch).
        A manual attempt ignores the circuit breaker."""
        count = self._inflight.get(endpoint_id, 0)
        cap = self._caps.get(endpoint_id, self._start)
        if count >= cap:
            return False
        breaker = None if manual or not self._breakers else self._breakers.get(endpoint_id)
        probe = False
        if breaker is not None and breaker.cooldown:
            if breaker.probing or breaker.open_until > now:
                return False
            breaker.probing = probe = True  # half-open: this attempt is the probe
            self._tripped.add(endpoint_id)
        bucket = self._buckets.get(endpoint_id) if self._buckets else None
        if bucket is not None:
            bucket.refill(now)
            if bucket.tokens < 1:
                if breaker is not None and probe:
                    breaker.probing = False
                return False
            bucket.tokens -= 1
        count += 1
        self._inflight[endpoint_id] = count
        if count >= cap:
            self._full.add(endpoint_id)
        return True

    def release(
        self, endpoint_id: str, *, success: bool, now: float, manual: bool = False, took: float = 0.0
    ) -> None:
        """Record the outcome of an attempt that `try_acquire` let through, `took` seconds long."""
        cap = self._caps.get(endpoint_id, self._start)
        if took >= self.slow_after:
            if cap > 1:
                self._caps[endpoint_id] = cap // 2
        elif cap < self.max_inflight:
            self._caps[endpoint_id] = cap + 1
        self._leave(endpoint_id)
        if success:
            if self._breakers and self._breakers.pop(endpoint_id, None) is not None:
                self._tripped.discard(endpoint_id)
            return
        if self.failure_threshold <= 0:
            return
        breaker = self._breakers.get(endpoint_id)
        if breaker is None:
            breaker = self._breakers[endpoint_id] = _Breaker()
        breaker.failures += 1
        if breaker.probing and not manual:  # the probe failed: open again, twice as long
            breaker.probing = False
            breaker.cooldown = min(breaker.cooldown * 2, self.max_cooldown)
        elif not breaker.cooldown:
            if breaker.failures < self.failure_threshold:
                return
            breaker.cooldown = self.cooldown  # trips
        breaker.open_until = max(breaker.open_until, now + breaker.cooldown)
        self._tripped.add(endpoint_id)

    def abandon(self, endpoint_id: str) -> None:
        """Give back a slot whose attempt was never made or will never be recorded."""
        self._leave(endpoint_id)
        breaker = self._breakers.get(endpoint_id) if self._breakers else None
        if breaker is not None:
            breaker.probing = False

    def at_cap(self, endpoint_id: str) -> bool:
        """Whether the endpoint has as many attempts in flight as it may (a slot frees soon)."""
        return self._inflight.get(endpoint_id, 0) >= self._caps.get(endpoint_id, self._start)

    def circuit_open(self, endpoint_id: str, now: float) -> bool:
        """Whether automatic attempts to the endpoint wait for its breaker (open, or probing)."""
        breaker = self._breakers.get(endpoint_id) if self._breakers else None
        return (
            breaker is not None and bool(breaker.cooldown) and (breaker.probing or breaker.open_until > now)
        )

    def retry_at(self, endpoint_id: str, now: float, *, manual: bool = False) -> float:
        """When a deferred delivery to this endpoint is worth claiming again."""
        breaker = None if manual else self._breakers.get(endpoint_id)
        if breaker is not None and breaker.open_until > now:
            return breaker.open_until
        bucket = self._buckets.get(endpoint_id)
        if bucket is not None and bucket.tokens < 1:
            return bucket.next_token_at()
        return now + _RETRY_SOON

    def _leave(self, endpoint_id: str) -> None:
        left = self._inflight.get(endpoint_id, 1) - 1
        if left > 0:
            self._inflight[endpoint_id] = left
        else:
            self._inflight.pop(endpoint_id, None)
        if left < self._caps.get(endpoint_id, self._start):
            self._full.discard(endpoint_id)
        else:  # the cap shrank below what is still in flight
            self._full.add(endpoint_id)
