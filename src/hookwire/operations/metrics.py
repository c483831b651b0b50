"""Prometheus metrics: what happened (counters, histograms) and where things stand (gauges).

Counters and histograms are incremented where the work happens: delivery attempts where the
worker records them, inbound requests where the receive path stores them, API requests in a
middleware. Gauges of shared state (queue depth, oldest due delivery, disabled endpoints) are
read from the database when /metrics is scraped, so they are right whichever process answers.

Labels are bounded: outcome, status class, route template, source type. A per-endpoint label
exists only with HOOKWIRE_METRICS_PER_ENDPOINT (one series per endpoint).

Several processes on one machine (`serve` with separate API and worker processes) share a
directory, HOOKWIRE_METRICS_DIR: prometheus_client's multiprocess mode writes every process's
values there and /metrics sums them. Without it, each process reports its own values.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hookwire.settings import Settings

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_END_TO_END_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400)


def status_class(status_code: int) -> str:
    """`2xx` ... `5xx`, or `none` for no response (timeout, connection or TLS error)."""
    return f"{status_code // 100}xx" if 100 <= status_code < 600 else "none"


def use_directory(directory: str) -> None:
    """Switch this process to prometheus_client's multiprocess mode, writing to `directory`.

    Must run before any metric is created in the process; the library reads the directory
    from its environment variable, so it is set here (the one place that writes it)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.MultiProcessValue()


def for_children(settings: Settings, scratch: str) -> Settings:
    """Settings for the processes a supervisor starts: one metrics directory for all of them
    (HOOKWIRE_METRICS_DIR, or a fresh one in the supervisor's scratch directory), emptied now so
    counts from an earlier run are not added to this one."""
    directory = Path(settings.metrics_dir or Path(scratch) / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return settings.with_overrides(metrics_dir=str(directory))


class Metrics:
    """The metrics of one process. Built once per Runtime."""

    def __init__(self, settings: Settings) -> None:
        self.directory = settings.metrics_dir
        self.tracer: Any | None = None  # set by the CLI when OpenTelemetry tracing is on (tracing.py)
        if self.directory:
            use_directory(self.directory)
        self.registry = CollectorRegistry(auto_describe=True)
        self.per_endpoint = settings.metrics_per_endpoint
        delivery_labels = ["outcome", "status_class"] + (["endpoint"] if self.per_endpoint else [])
        r = self.registry
        self.deliveries = Counter(
            "hookwire_deliveries",
            "Delivery attempts by outcome: success, failure (will retry) or exhausted (no retry left)",
            delivery_labels,
            registry=r,
        )
        self.attempt_seconds = Histogram(
            "hookwire_attempt_duration_seconds",
            "Time one delivery attempt took, request to response",
            ["endpoint"] if self.per_endpoint else [],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "hookwire_message_to_success_seconds",
            "Time from a message's creation to its first successful delivery to an endpoint",
            buckets=_END_TO_END_BUCKETS,
            registry=r,
        )
        self.inbound = Counter(
            "hookwire_inbound_requests",
            "Requests received by ingest sources, by source type and outcome",
            ["source_type", "outcome"],
            registry=r,
        )
        self.api_requests = Counter(
            "hookwire_api_requests",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=r,
        )
        self.api_seconds = Histogram(
            "hookwire_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.open_circuits = Gauge(
            "hookwire_open_circuits",
            "Endpoints whose circuit breaker is open or probing, summed over worker processes",
            registry=r,
            multiprocess_mode="livesum",
        )

    def attempt(
        self, *, outcome: str, status_code: int, duration_ms: int, endpoint_id: str, end_to_end_ms: int | None
    ) -> None:
        labels = [outcome, status_class(status_code)] + ([endpoint_id] if self.per_endpoint else [])
        self.deliveries.labels(*labels).inc()
        histogram = self.attempt_seconds.labels(endpoint_id) if self.per_endpoint else self.attempt_seconds
        histogram.observe(duration_ms / 1000)
        if end_to_end_ms is not None:
            self.end_to_end_seconds.observe(max(end_to_end_ms, 0) / 1000)

    def exposition_registry(self, extra: Iterable[Collector] = ()) -> CollectorRegistry:
        """What /metrics renders: this process's metrics (or every process's, from the
        directory), plus collectors of shared state read at scrape time."""
        if self.directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.directory)
        else:
            registry = CollectorRegistry()
            registry.register(_Forward(self.registry))
        for collector in extra:
            registry.register(collector)
        return registry


class _Forward(Collector):
    """Exposes another registry's metrics inside a new registry (one per scrape)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        yield from self._source.collect()


class StateCollector(Collector):
    """Gauges read from the database at scrape time, handed in as already-fetched numbers."""

    def __init__(self, *, depth: int, oldest_due_age: float, disabled_endpoints: int) -> None:
        self._values = (depth, oldest_due_age, disabled_endpoints)

    def collect(self) -> Iterator[Metric]:
        depth, age, disabled = self._values
        yield GaugeMetricFamily("hookwire_queue_depth", "Deliveries due now and not yet sent", value=depth)
        yield GaugeMetricFamily(
            "hookwire_oldest_due_age_seconds",
            "How long the oldest due delivery has waited (0 when none is due)",
            value=age,
        )
        yield GaugeMetricFamily(
            "hookwire_disabled_endpoints", "Endpoints disabled (by hand or after failing)", value=disabled
        )
