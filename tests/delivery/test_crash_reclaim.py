"""A crash costs seconds, not a lease: after `kill -9` of `hookwire serve` mid-drain and a
restart on the same database, every message is delivered within 15 s of the restart, with the
default lease (short, and pushed forward by the heartbeat while a worker lives)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hookwire.runtime import Runtime
from hookwire.settings import Settings
from tests.delivery.test_crash import (
    CONCURRENCY,
    ENV,
    SENDING,
    _start_and_interrupt,
    _statuses,
    _wait_for_ids,
)
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

DEFAULT_LEASE = {k: v for k, v in ENV.items() if k != "HOOKWIRE_LEASE_SECONDS"}


async def test_a_killed_servers_deliveries_go_out_within_15_s_of_the_restart(
    runtime: Runtime, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    assert Settings().lease_seconds <= 15  # the default this test is about
    msg_ids = await _start_and_interrupt(
        runtime, database_url, receiver, tmp_path / "1.log", kill=True, env=DEFAULT_LEASE
    )
    assert (await _statuses(runtime)).get(SENDING, 0) > 0  # the dead worker's leases are still there

    with HookwireProcess(database_url, log=tmp_path / "2.log", **DEFAULT_LEASE) as server:
        restarted = time.monotonic()
        seen = await asyncio.to_thread(_wait_for_ids, receiver, msg_ids, 15.0)
        took = time.monotonic() - restarted
        server.terminate()

    assert set(seen) == msg_ids
    assert sum(seen.values()) - len(seen) <= CONCURRENCY  # duplicates stay bounded
    print(f"\nevery message delivered {took:.1f} s after the restart")
