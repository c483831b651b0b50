"""A PostgreSQL crash and restart under a steady stream heals without restarting hookwire.

The test's own cluster (never the shared one) is stopped with `pg_ctl stop -m immediate`
for 10 s while messages keep coming. Checked afterwards: no acknowledged message lost,
503 (never 500) while the database was away, delivery latency back under 100 ms p50
within 10 s of the restart, nothing in flight left waiting for its 60 s lease, and an
attempt that finished during the outage recorded once the database was back.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.pg_cluster import OwnCluster, cluster_unavailable_reason
from tests.support.receiver import Receiver, Reply
from tests.support.server import HookwireProcess

OUTAGE = 10.0
SEND_EVERY = 0.05


@dataclass
class Sent:
    at: float
    status: int
    msg_id: str | None
    retry_after: str | None
    code: str | None


@dataclass
class Stream:
    """POSTs a message every SEND_EVERY seconds from a thread until stopped."""

    url: str
    token: str
    app_id: str
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=5) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                body = {"eventType": "tick", "payload": {"n": n}}
                try:
                    answer = client.post(
                        f"{self.url}/api/v1/app/{self.app_id}/msg", headers=headers, json=body
                    )
                except httpx.HTTPError:
                    self.sent.append(Sent(time.time(), -1, None, None, None))
                else:
                    ok = answer.status_code == 202
                    self.sent.append(
                        Sent(
                            time.time(),
                            answer.status_code,
                            answer.json()["id"] if ok else None,
                            answer.headers.get("retry-after"),
                            None if ok else answer.json().get("code"),
                        )
                    )
                self._stop.wait(SEND_EVERY)

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def cluster() -> Iterator[OwnCluster]:
    reason = cluster_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    own = OwnCluster().init()
    own.start()
    try:
        yield own
    finally:
        own.destroy()


def test_a_postgresql_crash_and_restart_heals_without_restarting_hookwire(
    cluster: OwnCluster, receiver: Receiver, tmp_path: Path
) -> None:
    slow = Receiver().__enter__()
    slow.default = Reply(delay=3.0)
    try:
        with HookwireProcess(cluster.url, log=tmp_path / "hookwire.log") as server:
            _run_outage(cluster, server, receiver, slow)
    finally:
        slow.__exit__()


def _run_outage(cluster: OwnCluster, server: HookwireProcess, receiver: Receiver, slow: Receiver) -> None:
    admin = {"authorization": f"Bearer {server.token}"}

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        answer = httpx.post(f"{server.url}/api/v1{path}", headers=admin, json=body, timeout=10)
        assert answer.is_success, answer.text
        return answer.json()  # type: ignore[no-any-return]

    app = post("/app", {"name": "stream"})
    post(f"/app/{app['id']}/endpoint", {"url": receiver.url + "/hook"})
    slow_app = post("/app", {"name": "slow"})
    post(f"/app/{slow_app['id']}/endpoint", {"url": slow.url + "/slow"})

    stream = Stream(server.url, server.token, str(app["id"]))
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    try:
        time.sleep(2.0)
        in_flight = post(f"/app/{slow_app['id']}/msg", {"eventType": "slow", "payload": {}})
        slow_deadline = time.monotonic() + 5
        while slow.in_flight == 0 and time.monotonic() < slow_deadline:  # its attempt has started
            time.sleep(0.02)
        assert slow.in_flight == 1

        cluster.stop_immediately()
        down_at = time.time()
        time.sleep(OUTAGE / 2)
        health = httpx.get(f"{server.url}/api/v1/health", timeout=5)
        time.sleep(OUTAGE / 2)
        cluster.start()
        up_at = time.time()
        time.sleep(14.0)
    finally:
        stream.stop()
        thread.join(10)

    accepted = {s.msg_id: s.at for s in stream.sent if s.status == 202 and s.msg_id}
    delivered = {r.headers["webhook-id"]: r.at for r in receiver.wait_for(len(accepted), timeout=30)}

    # 0 acknowledged messages lost.
    assert set(accepted) <= set(delivered), f"{len(set(accepted) - set(delivered))} acknowledged lost"
    # While it was down: 503 with Retry-After and database_unavailable, never a 500.
    statuses = {s.status for s in stream.sent}
    assert 500 not in statuses and -1 not in statuses, statuses
    refused = [s for s in stream.sent if s.status == 503]
    assert refused and all(s.retry_after and s.code == "database_unavailable" for s in refused)
    assert health.status_code == 503 and health.json()["code"] == "database_unavailable"
    # Latency is back under 100 ms p50 within 10 s of the restart, without restarting hookwire.
    late = [delivered[m] - at for m, at in accepted.items() if at >= up_at + 10.0]
    assert len(late) > 20
    p50 = statistics.median(late)
    assert p50 < 0.1, f"p50 {p50 * 1000:.0f} ms for messages accepted 10 s after the restart"
    # Messages accepted just before the crash did not wait for their 60 s lease.
    before = [delivered[m] - at for m, at in accepted.items() if down_at - 2 <= at < down_at]
    assert before and max(before) < 30, max(before)
    # The attempt that finished during the outage was recorded once the database was back.
    attempts = httpx.get(
        f"{server.url}/api/v1/app/{slow_app['id']}/attempt/msg/{in_flight['id']}", headers=admin, timeout=10
    ).json()["data"]
    assert [a["status"] for a in attempts] == [0], attempts
    assert len(slow.requests) == 1  # recorded, not sent again
    print(
        f"\noutage: {len(refused)} x 503, {len(accepted)} accepted, all delivered; "
        f"p50 latency 10 s after restart {p50 * 1000:.1f} ms; worst before the crash {max(before):.2f} s"
    )
