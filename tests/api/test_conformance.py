"""Svix's own OpenAPI document judges hookwire: schemathesis generates requests from it for every
public operation hookwire serves, against a real `hookwire serve`, and any answer that breaks the
document fails the test.

The document is `../shared/reference/svix-openapi.json` (Svix's `codegen/lib-openapi.json`, from
which the official SDKs are generated); set HOOKWIRE_SVIX_OPENAPI to use another copy. Each
operation runs twice: with generated path parameters (mostly unknown keys: the 404 paths) and with
the keys of resources created beforehand (the handlers' real work). Generation is derandomized and
bounded, so a run is reproducible and takes about a minute.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.server import HookwireProcess


def _find_spec() -> Path | None:
    """HOOKWIRE_SVIX_OPENAPI, else `shared/reference/svix-openapi.json` beside the checkout or a
    directory above it (the repository's `../shared`, also from a worktree deeper down)."""
    if os.environ.get("HOOKWIRE_SVIX_OPENAPI"):
        return Path(os.environ["HOOKWIRE_SVIX_OPENAPI"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "svix-openapi.json"
        if candidate.exists():
            return candidate
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
UNKNOWN_KEY_EXAMPLES = 2  # generated path parameters: nearly always the 404 path
SEEDED_EXAMPLES = 8  # the seeded resources' keys: the handlers' real work
KEY = "unique-identifier"  # the uid of every seeded resource (also the spec's example value)

# Path parameters that name the seeded resources.
SEEDED = {
    "app_id": KEY,
    "endpoint_id": KEY,
    "msg_id": KEY,
    "event_type_name": "user.signup",
    "source_id": KEY,
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _served(server: HookwireProcess) -> set[tuple[str, str]]:
    """(METHOD, path shape) of every route hookwire serves, from its own OpenAPI document."""
    doc = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    return {(method.upper(), _shape(path)) for path, ops in doc["paths"].items() for method in ops}


def _seed(server: HookwireProcess, receiver_url: str) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        for method, path, body in (
            ("POST", "/api/v1/event-type", {"name": "user.signup", "description": "A user signed up"}),
            ("POST", "/api/v1/app", {"name": "Seeded", "uid": KEY}),
            ("POST", f"/api/v1/app/{KEY}/endpoint", {"url": receiver_url, "uid": KEY}),
            ("POST", f"/api/v1/app/{KEY}/msg", {"eventType": "user.signup", "eventId": KEY, "payload": {}}),
            ("POST", "/ingest/api/v1/source", {"name": "Seeded", "uid": KEY, "type": "generic-webhook"}),
            ("POST", f"/ingest/api/v1/source/{KEY}/endpoint", {"url": receiver_url, "uid": KEY}),
        ):
            response = client.request(method, path, json=body)
            assert response.status_code in (201, 202), (path, response.text)


@pytest.fixture(scope="module")
def served_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookwireProcess]:
    tmp = tmp_path_factory.mktemp("conformance")
    with HookwireProcess(f"sqlite:///{tmp}/hookwire.db", log=tmp / "hookwire.log") as proc:
        _seed(proc, "http://127.0.0.1:9/hook")  # a closed port: deliveries just fail
        yield proc


def _run(
    operation: Any, server: HookwireProcess, path_parameters: dict[str, str] | None, examples: int
) -> dict[str, str]:
    """Distinct findings of one bounded run of one operation: what broke -> a curl that shows it."""
    findings: dict[str, str] = {}
    strategy = operation.as_strategy(path_parameters=path_parameters)
    auth = {"Authorization": f"Bearer {server.token}"}

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        try:
            case.call_and_validate(base_url=server.url, headers=auth, checks=CHECKS, timeout=10)
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # a FailureGroup of failed checks, or a transport error
            parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
            for part in parts:
                lines = str(part).strip().splitlines() or [type(part).__name__]
                what = f"{operation.label}: {type(part).__name__}: {lines[0][:200]}"
                findings.setdefault(what, f"{' '.join(lines[1:5])[:400]}\n    {case.as_curl_command()}")

    check()
    return findings


def test_hookwire_answers_conform_to_svix_openapi(served_server: HookwireProcess) -> None:
    spec = _find_spec()
    if spec is None or not spec.exists():
        pytest.fail("Svix's OpenAPI document not found: set HOOKWIRE_SVIX_OPENAPI to its path")
    schema = schemathesis.openapi.from_path(str(spec))
    served = _served(served_server)
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        definition = operation.definition.raw
        if definition.get("x-internal"):
            continue
        if (operation.method.upper(), _shape(operation.path)) in served:
            operations.append(operation)
    assert len(operations) >= 60, "fewer public operations matched than hookwire implements"
    # Deletions last, so the other operations still find the seeded resources.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")

    findings: dict[str, str] = {}
    for operation in operations:
        names = re.findall(r"\{([^}]+)\}", operation.path)
        if names:
            findings |= _run(operation, served_server, None, UNKNOWN_KEY_EXAMPLES)
        if all(name in SEEDED for name in names):
            seeded = {name: SEEDED[name] for name in names} or None
            findings |= _run(operation, served_server, seeded, SEEDED_EXAMPLES)
    report = "\n".join(f"- {what}\n    {curl}" for what, curl in findings.items())
    assert not findings, f"{len(findings)} findings:\n{report}"
