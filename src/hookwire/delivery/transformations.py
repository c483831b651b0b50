"""Endpoint transformations: Svix's JavaScript `handler(webhook)`, run in a sandbox per attempt.

The code gets the webhook as Svix describes it and returns it, changed:

    function handler(webhook) {
      // webhook.method ("POST"), webhook.url, webhook.payload (the parsed JSON),
      // webhook.eventType, webhook.headers (the endpoint's custom headers),
      // webhook.variables (the transformation's variables), webhook.cancel (false)
      webhook.payload = { text: `paid ${webhook.payload.amount}` };
      return webhook;
    }

It may change the method (POST, PUT or PATCH), the URL (http or https; the SSRF guard still
applies to it), the payload, the custom headers (not the ones hookwire sets), or set `cancel`
to send nothing. The body that is signed and sent is the compact JSON of the returned payload.

The engine is QuickJS (PyPI `quickjs`), in a fresh context for every run, so nothing leaks
from one message or endpoint to the next. The context has no file, network, module or timer
access (the binding offers none), and its clock is removed (`Date.now()` and `new Date()`
throw), so a transformation is a pure function of its input. Each run has a CPU-time and a
memory limit (`HOOKWIRE_TRANSFORMATION_TIME_LIMIT`, `..._MEMORY_LIMIT`); an endless loop is
interrupted, an unbounded allocation runs out of memory, and both, like a `throw` or a wrong
return value, become `TransformationFailed` with the reason, which the worker records on the
attempt. Measured on this machine (2 cores): a fresh QuickJS context and a small handler take
about 2 ms per run; `mini-racer` (V8) takes about 24 ms to create an isolate, 1 ms per call on a
reused one, and shares the isolate between runs; QuickJS's fresh context per run is both
cheaper and better isolated.

Runs happen in a thread (`asyncio.to_thread`), so the event loop keeps serving while one runs;
endpoints without a transformation never reach this module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson
import quickjs

from hookwire.delivery.claimed import MessageToSend
from hookwire.delivery.sender import Sender, SendResult
from hookwire.errors import TransformationFailed
from hookwire.settings import Settings

if TYPE_CHECKING:
    from hookwire.delivery.endpoint_cache import EndpointTarget

METHODS = ("POST", "PUT", "PATCH")

# Runs before the user's code: no clock, so the output depends only on the input.
_PRELUDE = """
(() => {
  const RealDate = Date;
  const noClock = () => {
    throw new Error("transformations have no clock: Date.now() and new Date() are not available");
  };
  function SandboxDate(...args) {
    if (args.length === 0) noClock();
    return new RealDate(...args);
  }
  SandboxDate.UTC = RealDate.UTC;
  SandboxDate.parse = RealDate.parse;
  SandboxDate.now = noClock;
  SandboxDate.prototype = RealDate.prototype;
  globalThis.Date = SandboxDate;
})();
"""

_RUN = """
function __hookwire_run(input) {
  if (typeof handler !== "function") throw new Error("the code defines no function handler(webhook)");
  const webhook = JSON.parse(input);
  const out = handler(webhook);
  return JSON.stringify(out === undefined ? webhook : out);
}
"""


@dataclass(frozen=True)
class Transformation:
    """An endpoint's transformation as stored: its code and its variables."""

    code: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Webhook:
    """What the handler receives, and (changed) what it returns."""

    method: str
    url: str
    payload: Any
    event_type: str
    headers: dict[str, str]
    cancel: bool = False


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float
    memory_bytes: int


def _as_input(webhook: Webhook, variables: dict[str, str]) -> str:
    return orjson.dumps(
        {
            "method": webhook.method,
            "url": webhook.url,
            "payload": webhook.payload,
            "eventType": webhook.event_type,
            "headers": webhook.headers,
            "variables": variables,
            "cancel": webhook.cancel,
        }
    ).decode()


def _from_output(text: Any, given: Webhook) -> Webhook:
    if not isinstance(text, str):
        raise TransformationFailed("handler(webhook) must return the webhook object")
    try:
        out = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise TransformationFailed(f"handler(webhook) returned something that is not JSON: {exc}") from None
    if not isinstance(out, dict):
        raise TransformationFailed("handler(webhook) must return the webhook object")
    method = out.get("method", given.method)
    url = out.get("url", given.url)
    headers = out.get("headers", given.headers) or {}
    if method not in METHODS:
        raise TransformationFailed(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise TransformationFailed(f"url must be an http or https URL, not {url!r}")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise TransformationFailed("headers must be an object of strings")
    return Webhook(
        method=method,
        url=url,
        payload=out.get("payload"),
        event_type=given.event_type,
        headers=headers,
        cancel=bool(out.get("cancel", False)),
    )


def run(transformation: Transformation, webhook: Webhook, limits: Limits) -> Webhook:
    """Run the handler once in a fresh sandbox; `TransformationFailed` says why it did not work."""
    context = quickjs.Context()
    context.set_memory_limit(limits.memory_bytes)
    context.set_time_limit(limits.cpu_seconds)
    context.set_max_stack_size(1024 * 1024)
    try:
        context.eval(_PRELUDE)
        context.eval(transformation.code)
        context.eval(_RUN)
        output = context.get("__hookwire_run")(_as_input(webhook, transformation.variables))
    except quickjs.JSException as exc:
        raise TransformationFailed(_describe(str(exc))) from None
    except (OverflowError, MemoryError) as exc:
        raise TransformationFailed(f"the transformation failed: {type(exc).__name__}") from None
    return _from_output(output, webhook)


def _describe(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if "interrupted" in first:
        return "the transformation ran longer than its CPU-time limit and was stopped"
    if "out of memory" in first or first == "null":
        return "the transformation used more than its memory limit and was stopped"
    return f"the transformation threw: {first[:500]}"


async def run_async(transformation: Transformation, webhook: Webhook, limits: Limits) -> Webhook:
    """`run` in a thread, so the event loop keeps serving while the handler runs."""
    return await asyncio.to_thread(run, transformation, webhook, limits)


def body_of(webhook: Webhook) -> bytes:
    """The bytes sent (and signed) for a transformed webhook: the compact JSON of its payload."""
    try:
        return orjson.dumps(webhook.payload)
    except orjson.JSONEncodeError as exc:
        raise TransformationFailed(f"the returned payload cannot be sent as JSON: {exc}") from None


BuildHeaders = Callable[[str, int, bytes, "EndpointTarget"], dict[str, str]]
CANCELED_BY_TRANSFORMATION = "canceled by the endpoint's transformation: nothing was sent"


async def send_for(
    sender: Sender,
    settings: Settings,
    msg: MessageToSend,
    target: EndpointTarget,
    build_headers: BuildHeaders,
) -> SendResult:
    """Run the endpoint's transformation on the message and send what it returns: the worker's
    one call in here, made only for endpoints that have an enabled transformation.

    A failed transformation is a failed attempt carrying the reason (retried like any failure);
    a cancelled one is a `canceled` result, sent nowhere. The body actually sent is what is signed."""
    assert target.transformation is not None
    limits = Limits(settings.transformation_time_limit, settings.transformation_memory_limit)
    started = time.monotonic()
    try:
        given = Webhook(
            method="POST",
            url=target.url,
            payload=_payload(bytes(msg.payload or b"")),
            event_type=msg.event_type,
            headers=dict(target.headers),
        )
        out = await run_async(target.transformation, given, limits)
        body = body_of(out)
    except TransformationFailed as exc:
        return SendResult(status_code=0, duration_ms=_since(started), error=str(exc))
    if out.cancel:
        return SendResult(0, _since(started), error=CANCELED_BY_TRANSFORMATION, canceled=True)
    headers = build_headers(msg.id, int(time.time()), body, replace(target, headers=out.headers))
    return await sender.send(out.url, body, headers, method=out.method)


def _payload(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise TransformationFailed("the message payload is not JSON, so it cannot be transformed") from None


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
