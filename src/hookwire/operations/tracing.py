"""Optional OpenTelemetry tracing: spans for API requests and delivery attempts.

On only when `opentelemetry-sdk` (and for export, `opentelemetry-exporter-otlp`) is installed
and OTEL_EXPORTER_OTLP_ENDPOINT is set; neither package is a dependency of hookwire, and
without them this module does nothing. The SDK reads its other OTEL_* variables itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("hookwire.tracing")


def start_tracing(service_name: str, environ: Mapping[str, str]) -> Any | None:
    """A tracer exporting over OTLP, or None when tracing is not configured or not installed."""
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: %s "
            "(pip install opentelemetry-sdk opentelemetry-exporter-otlp)",
            exc,
        )
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return trace.get_tracer("hookwire")


def record_attempt_span(tracer: Any, attempt: dict[str, Any]) -> None:
    """One finished span for a delivery attempt, placed at the time it happened."""
    end_ns = int(attempt["now"]) * 1_000_000
    span = tracer.start_span(
        "webhook attempt",
        start_time=end_ns - int(attempt["duration_ms"]) * 1_000_000,
        attributes={
            "hookwire.msg_id": attempt["msg_id"],
            "hookwire.endpoint_id": attempt["endpoint_id"],
            "hookwire.attempt_id": attempt["id"],
            "http.response.status_code": int(attempt["response_status_code"]),
        },
    )
    span.end(end_time=end_ns)
