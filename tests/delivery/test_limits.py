"""Per-endpoint limits: concurrency cap, throttle and circuit breaker, driven by a fake clock."""

from __future__ import annotations

from hookwire.delivery.limits import EndpointLimits


def blocked(limits: EndpointLimits, now: float) -> list[str]:
    """Every endpoint held back for automatic deliveries: at the cap, out of tokens or open."""
    held, circuit_open = limits.exclusions(now)
    return sorted({*held, *circuit_open})


def test_concurrency_cap_blocks_the_endpoint_until_a_slot_frees() -> None:
    limits = EndpointLimits(max_inflight=2)
    assert limits.try_acquire("ep", 0) and limits.try_acquire("ep", 0)
    assert not limits.try_acquire("ep", 0)
    assert blocked(limits, 0) == ["ep"]
    limits.release("ep", success=True, now=0)
    assert blocked(limits, 0) == []
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
    assert "ep" in blocked(limits, 0.1)
    assert limits.retry_at("ep", 0.1) > 0.1
    assert limits.try_acquire("ep", 0.6)  # one token back after half a second at 2/s


def test_circuit_opens_after_consecutive_failures_and_lets_one_probe_through() -> None:
    limits = EndpointLimits(failure_threshold=3, cooldown=10)
    for _ in range(3):
        assert limits.try_acquire("dead", 0)
        limits.release("dead", success=False, now=0)
    assert blocked(limits, 1) == ["dead"]
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
    assert blocked(limits, 10) == []
    assert limits.try_acquire("ep", 10) and limits.try_acquire("ep", 10)


def test_healthy_endpoints_are_never_blocked_by_a_dead_one() -> None:
    limits = EndpointLimits(failure_threshold=1, cooldown=60)
    limits.try_acquire("dead", 0)
    limits.release("dead", success=False, now=0)
    assert blocked(limits, 1) == ["dead"]
    assert limits.try_acquire("healthy", 1)


def test_manual_attempts_go_through_an_open_circuit_but_not_past_the_cap() -> None:
    limits = EndpointLimits(max_inflight=1, failure_threshold=1, cooldown=60)
    limits.try_acquire("ep", 0)
    limits.release("ep", success=False, now=0)
    assert limits.exclusions(1) == ([], ["ep"])  # held for automatic deliveries only
    assert not limits.try_acquire("ep", 1)
    assert limits.retry_at("ep", 1, manual=True) < limits.retry_at("ep", 1) == 60
    assert limits.try_acquire("ep", 1, manual=True)
    assert not limits.try_acquire("ep", 1, manual=True)  # the cap still counts
    assert limits.exclusions(1) == (["ep"], ["ep"])
    limits.release("ep", success=True, now=2, manual=True)  # a success closes the circuit
    assert limits.exclusions(2) == ([], [])
    assert limits.try_acquire("ep", 2)


def test_a_failed_manual_attempt_is_not_taken_for_the_probe() -> None:
    limits = EndpointLimits(failure_threshold=1, cooldown=10)
    limits.try_acquire("ep", 0)
    limits.release("ep", success=False, now=0)
    assert limits.try_acquire("ep", 10)  # the probe
    assert limits.try_acquire("ep", 10, manual=True)
    limits.release("ep", success=False, now=11, manual=True)
    assert limits.circuit_open("ep", 11) and not limits.try_acquire("ep", 11)  # still probing
    limits.release("ep", success=False, now=12)  # the probe fails: twice the cooldown
    assert limits.retry_at("ep", 12) == 32


def test_zero_failures_turns_the_breaker_off() -> None:
    limits = EndpointLimits(failure_threshold=0)
    for _ in range(100):
        assert limits.try_acquire("ep", 0)
        limits.release("ep", success=False, now=0)
    assert blocked(limits, 0) == [] and not limits.circuit_open("ep", 0)


def test_unlimited_endpoints_leave_nothing_behind() -> None:
    limits = EndpointLimits(max_inflight=2, failure_threshold=2)
    limits.set_rate("throttled", 2, now=0)
    for ep in ("a", "b", "throttled"):
        assert limits.try_acquire(ep, 0)
        limits.release(ep, success=True, now=0)
    limits.try_acquire("flaky", 0)
    limits.release("flaky", success=False, now=0)
    limits.try_acquire("flaky", 0)
    limits.release("flaky", success=True, now=0)
    assert limits.exclusions(5) == ([], [])  # the throttled bucket refilled and was dropped
    assert (limits._inflight, limits._buckets, limits._breakers, limits._full, limits._tripped) == (
        {},
        {},
        {},
        set(),
        set(),
    )


def test_next_unblock_is_the_earliest_time_a_held_endpoint_may_go() -> None:
    limits = EndpointLimits(failure_threshold=1, cooldown=10)
    assert limits.next_unblock(0) == (float("inf"), float("inf"))
    limits.try_acquire("dead", 0)
    limits.release("dead", success=False, now=0)
    limits.set_rate("slow", 4, now=0)
    for _ in range(4):
        limits.try_acquire("slow", 0)
    assert limits.next_unblock(0) == (0.25, 10)  # the next token; the end of the cooldown
    assert limits.retry_at("slow", 0) == 0.25


def test_abandoning_the_probe_lets_another_probe_through() -> None:
    limits = EndpointLimits(failure_threshold=1, cooldown=10)
    limits.try_acquire("ep", 0)
    limits.release("ep", success=False, now=0)
    assert limits.try_acquire("ep", 10)
    limits.abandon("ep")  # e.g. the worker stopped before the probe was sent
    assert limits.exclusions(10) == ([], [])
    assert limits.try_acquire("ep", 10)
