"""The Celery baseline's side: the app, the delivery task, and the enqueuer.

Imported only from `benchmarks/.venv-celery` (Celery 5 + requests, nothing of hookwire's):
the worker runs `celery -A benchmarks.celery_app worker`, and `python -m
benchmarks.celery_app N URL` queues N tasks. The task is what a team writes before they
adopt a webhook service: sign the body (Standard Webhooks HMAC), `requests` POST it on a
keep-alive session, raise on anything but 2xx, and let Celery retry with backoff.
`acks_late` makes delivery at-least-once, the guarantee hookwire gives.
"""

from __future__ import annotations

import base64
import os
import sys
import time

import requests
from celery import Celery

from benchmarks.payloads import new_secret_key, payload_bytes, signature

BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/13")
QUEUE = "hookwire-bench"

app = Celery("hookwire_bench", broker=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_acks_late=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

_sessions: dict[int, requests.Session] = {}


def _session() -> requests.Session:
    """One keep-alive session per worker process (created after the fork)."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions[pid] = requests.Session()
    return _sessions[pid]


@app.task(
    name="hookwire_bench.deliver",
    autoretry_for=(requests.RequestException,),
    retry_backoff=5,
    retry_backoff_max=36_000,
    retry_jitter=True,
    max_retries=7,
)
def deliver(url: str, msg_id: str, body: str, secret: str) -> None:
    data = body.encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(base64.b64decode(secret), msg_id, timestamp, data),
    }
    response = _session().post(url, data=data, headers=headers, timeout=15, allow_redirects=False)
    response.raise_for_status()


def enqueue(count: int, url: str) -> None:
    body = payload_bytes().decode()
    secret = base64.b64encode(new_secret_key()).decode()
    with app.producer_or_acquire() as producer:
        for i in range(count):
            deliver.apply_async((url, f"msg_celery{i}", body, secret), producer=producer)


def delay_all(count: int, url: str, started_file: str) -> None:
    """The application's side of the end-to-end path: one `.delay()` per message, as a web
    handler would call it; writes the wall-clock start to `started_file` first."""
    body = payload_bytes().decode()
    secret = base64.b64encode(new_secret_key()).decode()
    deliver.delay(url, "msg_celery_warmup", body, secret)  # connect to the broker before timing
    with open(started_file, "w") as out:
        out.write(repr(time.time()))
    for i in range(count):
        deliver.delay(url, f"msg_celery_e2e{i}", body, secret)


if __name__ == "__main__":
    if len(sys.argv) > 3:
        delay_all(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    else:
        enqueue(int(sys.argv[1]), sys.argv[2])
