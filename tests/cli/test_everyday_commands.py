"""trigger, resend, recover and replay against a live server, as subprocesses, with --json output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess


def test_trigger_resend_recover_and_replay(database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")},
            "HOOKWIRE_URL": server.url,
            "HOOKWIRE_TOKEN": server.token,
        }

        def hookwire(*args: str) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                [sys.executable, "-m", "hookwire", *args], env=env, capture_output=True, timeout=60
            )

        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})
        example = {"type": "invoice.paid", "data": {"amount": 100, "currency": "eur"}}
        schema = {"type": "object", "examples": [example]}
        api.post(
            "/api/v1/event-type", json={"name": "invoice.paid", "description": "x", "schemas": {"1": schema}}
        )
        app = api.post("/api/v1/app", json={"name": "shop", "uid": "shop"}).json()
        api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": receiver.url + "/hook"})

        sent = hookwire("trigger", "invoice.paid", "--app", "shop", "--set", "data.amount=5", "--json")
        assert sent.returncode == 0, sent.stderr
        [first] = receiver.wait_for(1)
        assert orjson.loads(first.body) == {"type": "invoice.paid", "data": {"amount": 5, "currency": "eur"}}

        sample = hookwire("trigger", "order.shipped", "--app", "shop")
        assert sample.returncode == 0 and b"a built-in sample" in sample.stdout
        second = receiver.wait_for(2)[1]
        assert orjson.loads(second.body)["type"] == "order.shipped"

        msg_id = orjson.loads(sent.stdout)["id"]
        resent = hookwire("resend", msg_id, "--app", "shop", "--json")
        assert resent.returncode == 0, resent.stderr
        assert len(orjson.loads(resent.stdout)) == 1
        assert orjson.loads(receiver.wait_for(3)[2].body)["data"]["amount"] == 5

        for command in ("recover", "replay"):
            ran = hookwire(command, "--app", "shop", "--since", "1h", "--json")
            assert ran.returncode == 0, ran.stderr
            [queued] = orjson.loads(ran.stdout)
            assert queued["task"]["id"]

        missing = hookwire("trigger", "x.y", "--app", "nope")
        assert missing.returncode == 4 and b"404" in missing.stderr
        wrong = hookwire("recover", "--app", "shop", "--since", "soon")
        assert wrong.returncode == 2 and b"--since" in wrong.stderr
