"""`python -m benchmarks [--quick] [--only SCENARIO ...]`: run the benchmark suite, print the table.

Everything runs on 127.0.0.1: a receiver (nginx when `which nginx` finds one, otherwise
`benchmarks.receiver`), the recording receiver for latency, hookwire processes on fresh
SQLite files and PostgreSQL databases, and the Celery baseline. Every process is stopped
and every database dropped at the end, whatever happened. The ceiling always runs first,
because every rate is also reported as a fraction of it, and is measured again at the end
(the higher of the two counts).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks import ceiling
from benchmarks.context import FULL, QUICK, Context
from benchmarks.processes import CpuMeter, Supervisor
from benchmarks.provenance import provenance, source_hash
from benchmarks.report import Results, machine, table, write_json
from benchmarks.sinks import NginxSink, RecordingSink, Sink

# name -> (module, time limit in seconds for a full run; a quick run gets a third)
SCENARIOS: dict[str, tuple[str, float]] = {
    "ceiling": ("benchmarks.ceiling", 120),
    "e2e": ("benchmarks.end_to_end", 1500),
    "sqlite": ("benchmarks.sqlite_delivery", 300),
    "latency": ("benchmarks.latency", 300),
    "fanout": ("benchmarks.fanout", 300),
    "celery": ("benchmarks.celery_baseline", 600),
    "postgres": ("benchmarks.postgres_scaleout", 400),
    "backlog": ("benchmarks.backlog", 1500),
    "isolation": ("benchmarks.isolation", 300),
}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of ~3 minutes")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SCENARIO",
        help=f"run only these (repeat or comma-separate): {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--e2e",
        default="",
        metavar="VARIANTS",
        help="end to end: run only these variants (comma-separated: relay, sqlite, "
        "sqlite_one_process, postgres, celery); the relay always runs, as the ratios need it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run every hookwire process under cProfile, writing DIR/<process>.prof (slows them down)",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for value in args.only for name in value.split(",") if name.strip()]
    unknown = [name for name in only if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    args.scenarios = [name for name in SCENARIOS if not only or name in only or name == "ceiling"]
    return args


async def _receivers(supervisor: Supervisor, workdir: Path) -> tuple[Sink, RecordingSink]:
    recorder = await RecordingSink.start(supervisor)
    nginx = NginxSink.available()
    if nginx is None:
        return recorder, recorder
    return await NginxSink.start(supervisor, nginx, workdir), recorder


async def _machine_idle(ctx: Context) -> None:
    """Note how busy the machine is before anything starts (other work skews every figure)."""
    meter = CpuMeter({})
    meter.start()
    await asyncio.sleep(2)
    busy = meter.stop().get("machine, all processes", 0.0)
    ctx.results.notes["machine_cpu_before_start_percent_of_a_core"] = busy
    if busy > 25:
        ctx.log("run", f"WARNING: the machine is busy before we start ({busy:.0f}% of a core in use)")


async def _scenario(ctx: Context, name: str) -> None:
    """Run one scenario within its time limit; a failure is recorded, never raised."""
    module, limit = SCENARIOS[name]
    limit = limit if ctx.plan is FULL else limit / 3
    ctx.log(name, "start")
    began = time.monotonic()
    try:
        scenario = importlib.import_module(module)
        await asyncio.wait_for(scenario.run(ctx), timeout=limit)
    except Exception as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        ctx.results.failures[name] = reason
        ctx.log(name, f"FAILED: {reason}")
        print(traceback.format_exc(), file=sys.stderr, flush=True)
    ctx.log(name, f"done in {time.monotonic() - began:.0f}s")


async def _run(args: argparse.Namespace, results: Results, workdir: Path) -> None:
    plan = QUICK if args.quick else FULL
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        results.notes["profiled"] = "hookwire ran under cProfile: rates are lower than unprofiled"
    supervisor = Supervisor(workdir, args.profile.resolve() if args.profile else None)
    started = time.monotonic()
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)  # clean up as on ^C
    sinks: list[Sink] = []
    try:
        sink, recorder = await _receivers(supervisor, workdir)
        sinks = [sink] if sink is recorder else [sink, recorder]
        ctx = Context(plan, workdir, supervisor, results, sink, recorder, started)
        ctx.e2e_variants = frozenset(v.strip() for v in args.e2e.split(",") if v.strip())
        results.notes.update(
            receiver=sink.kind,
            latency_receiver=recorder.kind,
            plan=plan.__dict__,
            load_average_at_start=os.getloadavg(),
            code=provenance(),
        )
        ctx.log("run", f"{plan.mode} run of {', '.join(args.scenarios)}; receiver: {sink.kind}; in {workdir}")
        await _machine_idle(ctx)
        for name in args.scenarios:
            await _scenario(ctx, name)
        if len(args.scenarios) > 1 and "ceiling" not in results.failures:
            ctx.log("ceiling", "measuring again at the end (the ceiling is the higher of the two)")
            await ceiling.again(ctx)
        results.notes["receiver_peak_rss_mb"] = ctx.rss(*(s.process for s in sinks))
        results.notes["load_average_at_end"] = os.getloadavg()
        results.notes["src_hash_at_end"] = source_hash()
    finally:
        for opened in sinks:
            await opened.close()
        await asyncio.to_thread(supervisor.stop_all)


def _load(value: object) -> str:
    return " ".join(f"{x:.2f}" for x in value) if isinstance(value, tuple | list) else "?"


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    results = Results()
    started_at = dt.datetime.now().astimezone()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="hookwire-bench-"))
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        runner(_run(args, results, workdir))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; every process was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.monotonic() - started
    mode = "quick" if args.quick else "full"
    if len(args.scenarios) < len(SCENARIOS):
        mode = "quick-partial" if args.quick else "partial"
    if args.profile:
        mode += "-profiled"
    print()
    print(f"hookwire benchmarks, {mode} run, {started_at:%Y-%m-%d %H:%M %Z}, {seconds / 60:.1f} min")
    info, notes = machine(), results.notes
    print(
        f"{info['cpu_count']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"receiver: {notes.get('receiver', '?')}, load average at start / end: "
        f"{_load(notes.get('load_average_at_start'))} / {_load(notes.get('load_average_at_end'))}"
    )
    code = notes.get("code", {})
    if isinstance(code, dict):
        dirty = " + uncommitted changes in src/" if code.get("src_uncommitted_changes") else ""
        print(f"code: commit {code.get('commit')}{dirty} (src hash {code.get('src_hash')})")
        if notes.get("src_hash_at_end") not in (None, code.get("src_hash")):
            print(
                f"WARNING: src/ changed during the run (hash {code.get('src_hash')} → "
                f"{notes['src_hash_at_end']}): scenarios may have measured different code"
            )
    print()
    print(table(results))
    path = write_json(results, mode=mode, started=started_at, seconds=seconds, argv=sys.argv[1:])
    print(f"\nresults written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
