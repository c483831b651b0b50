"""What every scenario is handed: the sizes of this run, its processes, receivers and results."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.processes import Process, Supervisor
from benchmarks.report import Results
from benchmarks.sinks import RecordingSink, Sink


@dataclass(frozen=True)
class Plan:
    """How big each scenario is. `FULL` fits ~20 minutes on 2 cores, `QUICK` ~3."""

    mode: str
    ceiling_seconds: float
    client_concurrency: (
        int  # in-flight requests of the ceiling client (hookwire's default worker concurrency)
    )
    e2e_messages: int  # per end-to-end run (relay, hookwire on each database, Celery)
    ingest_messages: int
    ingest_concurrency: int
    latency_probe_messages: int
    latency_seconds: float
    fanout_messages: int
    fanout_endpoints: int
    celery_tasks: int
    postgres_messages: int
    backlog_small: int
    backlog_large: int
    isolation_seconds: float  # per variant, split over its rounds
    isolation_rounds: int
    isolation_healthy: int
    isolation_timeout: float  # HOOKWIRE_REQUEST_TIMEOUT in the isolation runs


FULL = Plan(
    mode="full",
    ceiling_seconds=15,
    client_concurrency=200,
    e2e_messages=10_000,
    ingest_messages=20_000,
    ingest_concurrency=50,
    latency_probe_messages=10_000,
    latency_seconds=30,
    fanout_messages=300,
    fanout_endpoints=100,
    celery_tasks=10_000,
    postgres_messages=30_000,
    backlog_small=10_000,
    backlog_large=1_000_000,
    isolation_seconds=30,
    isolation_rounds=2,
    isolation_healthy=99,
    isolation_timeout=2.0,
)

QUICK = Plan(
    mode="quick",
    ceiling_seconds=5,
    client_concurrency=200,
    e2e_messages=3_000,
    ingest_messages=5_000,
    ingest_concurrency=50,
    latency_probe_messages=2_000,
    latency_seconds=8,
    fanout_messages=50,
    fanout_endpoints=100,
    celery_tasks=2_000,
    postgres_messages=5_000,
    backlog_small=10_000,
    backlog_large=100_000,
    isolation_seconds=8,
    isolation_rounds=1,
    isolation_healthy=99,
    isolation_timeout=2.0,
)


@dataclass
class Context:
    plan: Plan
    workdir: Path
    supervisor: Supervisor
    results: Results
    sink: Sink  # the fast receiver for throughput runs (nginx when installed)
    recorder: RecordingSink  # the receiver that records arrival times and hangs on /hang
    started: float
    # end to end: the variants to run (empty: all of them)
    e2e_variants: frozenset[str] = frozenset()

    def e2e_runs(self, variant: str) -> bool:
        return not self.e2e_variants or variant in self.e2e_variants

    def log(self, scenario: str, message: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f}s] {scenario:<9} {message}", flush=True)

    def rss(self, *processes: Process) -> dict[str, float]:
        """Peak RSS (MB) of each process and its children, by name."""
        found: dict[str, float] = {}
        for process in processes:
            found.update(process.peak_rss_mb)
        return found
