"""Running one automation command: argv (never a shell), stdin, a timeout, captured output.

The command starts in a session of its own, so on timeout (or when the runner stops)
the whole process group is sent SIGTERM and, after a grace period, SIGKILL: nothing it
started outlives it by accident. Output is drained to the end so a chatty command
never blocks on a full pipe, but only the first `OUTPUT_LIMIT` bytes of each stream
are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hookwire.automations.claimed import ClaimedRun
from hookwire.automations.config import RESERVED_ENV_PREFIX, Automation

OUTPUT_LIMIT = 64 * 1024
KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
OUTPUT_GRACE = 1.0  # seconds to finish reading once the command has exited
_CHUNK = 64 * 1024


def command_env(base: Mapping[str, str], automation: Automation, run: ClaimedRun) -> dict[str, str]:
    """The command's environment: the server's own minus HOOKWIRE_* (secrets live there), the
    automation's `env`, then the run's metadata."""
    env = {k: v for k, v in base.items() if not k.upper().startswith(RESERVED_ENV_PREFIX)}
    env.update(automation.env)
    metadata = {
        "HOOKWIRE_AUTOMATION": automation.name,
        "HOOKWIRE_RUN_ID": run.id,
        "HOOKWIRE_ATTEMPT": str(run.attempts + 1),
        "HOOKWIRE_EVENT_ID": run.event_id or run.request_id,
        "HOOKWIRE_EVENT_TYPE": run.event_type,
        "HOOKWIRE_SOURCE_ID": run.source_id,
        "HOOKWIRE_REQUEST_ID": run.request_id,
    }
    env.update({k: str(v).replace("\x00", "") for k, v in metadata.items()})
    return env


_UNSTARTABLE = frozenset(
    {errno.ENOENT, errno.EACCES, errno.ENOEXEC, errno.ENOTDIR, errno.EISDIR, errno.EPERM}
)


@dataclass(frozen=True)
class CommandResult:
    """What one run of a command did. exit_code: None when it never started; negative: the
    signal that ended it."""

    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    error: str | None = None
    interrupted: bool = False
    unstartable: bool = False  # can never start as configured (no such file, not executable)

    @property
    def success(self) -> bool:
        return self.exit_code == 0 and self.error is None


class _Capture:
    """Reads a stream to its end, keeping the first `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(_CHUNK):
            self.total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        if self.total > len(self.kept):
            text += f"\n[hookwire: output truncated, {self.total} bytes in all, first {self.limit} kept]"
        return text


async def _feed(stdin: asyncio.StreamWriter | None, data: bytes) -> None:
    if stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the command need not read it
        stdin.write(data)
        await stdin.drain()
    stdin.close()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await stdin.wait_closed()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _kill_group(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM to the command's process group; SIGKILL to what is left of it after `grace`."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
    _signal_group(process.pid, signal.SIGKILL)
    await process.wait()


async def run_command(
    argv: Sequence[str],
    *,
    stdin: bytes,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    interrupt: asyncio.Event,
    kill_grace: float = KILL_GRACE,
    output_limit: int = OUTPUT_LIMIT,
) -> CommandResult:
    """Run `argv` with `stdin`; stop it when `timeout` seconds pass or `interrupt` is set."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        # A missing or non-executable command fails the same way on every retry; running out of
        # processes or file descriptors (EAGAIN, EMFILE) is local and passes.
        unstartable = not isinstance(exc, OSError) or exc.errno in _UNSTARTABLE
        return CommandResult(
            None, "", "", elapsed(), error=f"cannot start {argv[0]!r}: {reason}", unstartable=unstartable
        )
    out, err = _Capture(output_limit), _Capture(output_limit)
    io = [
        asyncio.create_task(out.drain(process.stdout)),
        asyncio.create_task(err.drain(process.stderr)),
        asyncio.create_task(_feed(process.stdin, stdin)),
    ]
    exited = asyncio.create_task(process.wait())
    interrupted = asyncio.create_task(interrupt.wait())
    error, stopped = None, False
    try:
        await asyncio.wait({exited, interrupted}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            stopped = interrupt.is_set()
            if stopped:
                error = "interrupted: the automation runner stopped; killed the process group"
            else:
                error = f"timed out after {timeout:g}s; killed the process group"
            await _kill_group(process, kill_grace)
        # Output still open after the command exited is held by something it left running.
        await asyncio.wait(io, timeout=OUTPUT_GRACE)
    finally:
        if process.returncode is None:  # cancelled from outside: leave nothing running
            _signal_group(process.pid, signal.SIGKILL)
        for task in (*io, exited, interrupted):
            task.cancel()
        await asyncio.gather(*io, exited, interrupted, return_exceptions=True)
    return CommandResult(
        exit_code=process.returncode,
        stdout=out.text(),
        stderr=err.text(),
        duration_ms=elapsed(),
        error=error,
        interrupted=stopped,
    )
