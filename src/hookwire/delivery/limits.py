"""Per-endpoint limits that keep one endpoint from starving the others.

Three guards, all in memory per worker process and all pure (time is passed in):

* a **concurrency cap** — at most `max_inflight` attempts to one endpoint at once;
* a **throttle** — an endpoint's `throttleRate` (messages per second) as a token bucket;
* a **circuit breaker** — after `failure_threshold` consecutive failures the endpoint is
  skipped for `cooldown` seconds, then one probe is let through; a success closes it,
  a failure opens it again for twice as long (up to `max_cooldown`).

The worker asks `blocked(now)` before claiming, so deliveries to a blocked endpoint stay
queued (no attempt is spent on them), and a dead endpoint costs one probe per cooldown
instead of a worker slot per message.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


@dataclass
class _Breaker:
    failures: int = 0
    open_until: float = 0.0
    cooldown: float = 0.0
    probing: bool = False


@dataclass
class EndpointLimits:
    max_inflight: int = 50
    failure_threshold: int = 5
    cooldown: float = 5.0
    max_cooldown: float = 300.0
    _inflight: dict[str, int] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _breakers: dict[str, _Breaker] = field(default_factory=dict)

    def set_rate(self, endpoint_id: str, rate: int | None, now: float) -> None:
        """Apply the endpoint's throttleRate (messages/second); None or 0 removes the throttle."""
        if not rate:
            self._buckets.pop(endpoint_id, None)
            return
        bucket = self._buckets.get(endpoint_id)
        if bucket is None or bucket.rate != rate:
            self._buckets[endpoint_id] = _Bucket(float(rate), float(rate), now)

    def blocked(self, now: float) -> list[str]:
        """Endpoints that must not be claimed for right now."""
        out = [ep for ep, n in self._inflight.items() if n >= self.max_inflight]
        for ep, breaker in self._breakers.items():
            if breaker.probing or breaker.open_until > now:
                out.append(ep)
        for ep, bucket in self._buckets.items():
            bucket.refill(now)
            if bucket.tokens < 1:
                out.append(ep)
        return sorted(set(out))

    def try_acquire(self, endpoint_id: str, now: float) -> bool:
        """Take a slot for one attempt; False means defer the delivery (it was claimed in a batch)."""
        if self._inflight.get(endpoint_id, 0) >= self.max_inflight:
            return False
        breaker = self._breakers.get(endpoint_id)
        if breaker is not None and breaker.failures >= self.failure_threshold:
            if breaker.probing or breaker.open_until > now:
                return False
            breaker.probing = True  # half-open: this attempt is the probe
        bucket = self._buckets.get(endpoint_id)
        if bucket is not None:
            bucket.refill(now)
            if bucket.tokens < 1:
                if breaker is not None and breaker.probing:
                    breaker.probing = False
                return False
            bucket.tokens -= 1
        self._inflight[endpoint_id] = self._inflight.get(endpoint_id, 0) + 1
        return True

    def release(self, endpoint_id: str, *, success: bool, now: float) -> None:
        """Record the outcome of an attempt that `try_acquire` let through."""
        left = self._inflight.get(endpoint_id, 1) - 1
        if left:
            self._inflight[endpoint_id] = left
        else:
            self._inflight.pop(endpoint_id, None)
        if success:
            self._breakers.pop(endpoint_id, None)
            return
        breaker = self._breakers.setdefault(endpoint_id, _Breaker())
        breaker.failures += 1
        if breaker.failures >= self.failure_threshold:
            breaker.cooldown = (
                self.cooldown if not breaker.probing else min(breaker.cooldown * 2, self.max_cooldown)
            )
            breaker.open_until = now + breaker.cooldown
        breaker.probing = False

    def retry_at(self, endpoint_id: str, now: float) -> float:
        """When a deferred delivery to this endpoint is worth claiming again."""
        breaker = self._breakers.get(endpoint_id)
        if breaker is not None and breaker.open_until > now:
            return breaker.open_until
        bucket = self._buckets.get(endpoint_id)
        if bucket is not None and bucket.tokens < 1:
            return now + (1 - bucket.tokens) / bucket.rate
        return now + 0.05
