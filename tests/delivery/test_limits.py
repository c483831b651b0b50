"""Per-endpoint limits: concurrency cap, throttle and circuit breaker, driven by a fake clock."""

from __future__ import annotations

from hookwire.delivery.limits import EndpointLimits


def test_concurrency_cap_blocks_the_endpoint_until_a_slot_frees() -> None:
    limits = EndpointLimits(max_inflight=2)
    assert limits.try_acquire("ep", 0) and limits.try_acquire("ep", 0)
    assert not limits.try_acquire("ep", 0)
    assert limits.blocked(0) == ["ep"]
    limits.release("ep", success=True, now=0)
    assert limits.blocked(0) == []
    assert limits.try_acquire("ep", 0)


def test_throttle_rate_allows_that_many_per_second() -> None:
    limits = EndpointLimits()
    limits.set_rate("ep", 2, now=0)
    allowed = 0
    for _ in range(10):
        if limits.try_acquire("ep", 0.0):
            allowed += 1
            limits.release("ep", success=True, now=0)
    assert allowed == 2
    assert "ep" in limits.blocked(0.1)
    assert limits.retry_at("ep", 0.1) > 0.1
    assert limits.try_acquire("ep", 0.6)  # one token back after half a second at 2/s


def test_circuit_opens_after_consecutive_failures_and_lets_one_probe_through() -> None:
    limits = EndpointLimits(failure_threshold=3, cooldown=10)
    for _ in range(3):
        assert limits.try_acquire("dead", 0)
        limits.release("dead", success=False, now=0)
    assert limits.blocked(1) == ["dead"]
    assert not limits.try_acquire("dead", 5)
    assert limits.retry_at("dead", 5) == 10
    assert limits.try_acquire("dead", 10)  # the probe
    assert not limits.try_acquire("dead", 10)  # only one probe at a time
    limits.release("dead", success=False, now=10)
    assert limits.retry_at("dead", 10) == 30  # cooldown doubled


def test_a_success_closes_the_circuit() -> None:
    limits = EndpointLimits(failure_threshold=2, cooldown=10)
    for _ in range(2):
        limits.try_acquire("ep", 0)
        limits.release("ep", success=False, now=0)
    assert limits.try_acquire("ep", 10)
    limits.release("ep", success=True, now=10)
    assert limits.blocked(10) == []
    assert limits.try_acquire("ep", 10) and limits.try_acquire("ep", 10)


def test_healthy_endpoints_are_never_blocked_by_a_dead_one() -> None:
    limits = EndpointLimits(failure_threshold=1, cooldown=60)
    limits.try_acquire("dead", 0)
    limits.release("dead", success=False, now=0)
    assert limits.blocked(1) == ["dead"]
    assert limits.try_acquire("healthy", 1)
