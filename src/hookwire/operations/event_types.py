"""The operational webhook event types and the internal application that delivers them.

A leaf module (imports nothing of hookwire) so the endpoint use-cases can tell operational
endpoints apart without importing the operations package.
"""

from __future__ import annotations

# Created on first use (operational_endpoints.ensure_operational_app), hidden from application lists.
OPERATIONAL_APP_ID = "app_0000000000000000000000000op"

ENDPOINT_CREATED = "endpoint.created"
ENDPOINT_UPDATED = "endpoint.updated"
ENDPOINT_DELETED = "endpoint.deleted"
ENDPOINT_DISABLED = "endpoint.disabled"
ENDPOINT_ENABLED = "endpoint.enabled"
ATTEMPT_FAILING = "message.attempt.failing"
ATTEMPT_EXHAUSTED = "message.attempt.exhausted"
ATTEMPT_RECOVERED = "message.attempt.recovered"
INGEST_ENDPOINT_DISABLED = "ingest.endpoint.disabled"
INGEST_ATTEMPT_FAILING = "ingest.message.attempt.failing"
INGEST_ATTEMPT_EXHAUSTED = "ingest.message.attempt.exhausted"
INGEST_ATTEMPT_RECOVERED = "ingest.message.attempt.recovered"
AUTOMATION_FAILING = "automation.run.failing"  # hookwire's own two: automations are not in Svix
AUTOMATION_EXHAUSTED = "automation.run.exhausted"

OPERATIONAL_EVENT_TYPES = frozenset(
    {
        ENDPOINT_CREATED,
        ENDPOINT_UPDATED,
        ENDPOINT_DELETED,
        ENDPOINT_DISABLED,
        ENDPOINT_ENABLED,
        ATTEMPT_FAILING,
        ATTEMPT_EXHAUSTED,
        ATTEMPT_RECOVERED,
        INGEST_ENDPOINT_DISABLED,
        INGEST_ATTEMPT_FAILING,
        INGEST_ATTEMPT_EXHAUSTED,
        INGEST_ATTEMPT_RECOVERED,
        AUTOMATION_FAILING,
        AUTOMATION_EXHAUSTED,
    }
)

# Svix sends `message.attempt.failing` on the fourth failed attempt in a row, and
# `message.attempt.recovered` on a success that follows it.
FAILING_AFTER_ATTEMPTS = 4
