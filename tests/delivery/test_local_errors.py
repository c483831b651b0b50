"""An attempt that fails on this machine (out of file descriptors) is not the receiver's fault:
no attempt is counted, the endpoint's breaker stays closed, and the delivery goes out once the
machine recovers."""

from __future__ import annotations

import asyncio
import logging
import os
import resource

import pytest

from hookwire.runtime import Runtime
from tests.delivery.test_worker import SUCCESS, Workers, add_endpoint, attempts_of, send, tuned
from tests.support.receiver import Receiver


async def test_running_out_of_file_descriptors_costs_the_endpoint_no_attempt(
    runtime: Runtime, receiver: Receiver, workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    if runtime.db.dialect != "sqlite":
        pytest.skip("the sender is the same on both; PostgreSQL's pool would need descriptors too")
    rt = tuned(runtime, circuit_breaker_failures=1, retry_schedule="100ms")
    app_id, _ = await add_endpoint(rt, receiver.url + "/hook")
    messages = [await send(rt, app_id, {"n": n}) for n in range(3)]
    worker = workers.new(rt)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    running = None
    try:
        # No new descriptor can be opened: every connection attempt fails with EMFILE.
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) - 1, hard))
        with caplog.at_level(logging.WARNING, logger="hookwire.delivery"):
            running = asyncio.create_task(worker.run())
            await asyncio.sleep(2.5)  # two local backoffs: without the fix, all retries were spent
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            await asyncio.to_thread(receiver.wait_for, 3, 15)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        worker.stop()
        if running is not None:
            await asyncio.wait_for(running, 30)

    for msg_id in messages:
        [attempt] = await attempts_of(rt, app_id, msg_id)  # only the one that reached the receiver
        assert attempt["status"] == SUCCESS
    local = [r for r in caplog.records if "failed on this machine" in r.getMessage()]
    assert local and len(local) <= 2, [r.getMessage() for r in local]  # once per interval
    assert "resource exhausted" in local[0].getMessage()
