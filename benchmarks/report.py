"""The results of a run: figures, targets met or missed, the table, the JSON file.

Every figure is kept with its unit and, for rates, its ratio to the ceiling (what one
aiohttp process can push at the same receiver with no hookwire in the way). A scenario
that failed is recorded with its error, and every target that depends on it reads
"not measured" — never a number from another run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    rate: bool = False  # a throughput: shown with its ratio to the ceiling
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    label: str
    check: Callable[[Results], tuple[bool, str] | None]  # (met, measured) or None: not measured


class Results:
    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}
        self.failures: dict[str, str] = {}
        self.notes: dict[str, Any] = {}

    @classmethod
    def load(cls, path: Path) -> Results:
        """The results a run wrote to JSON (to print its table again)."""
        data = json.loads(path.read_text())
        results = cls()
        for key, f in data["figures"].items():
            value = float("nan") if f["value"] is None else f["value"]
            results.figures[key] = Figure(key, f["label"], value, f["unit"], f["rate"], f["detail"])
        results.failures = data["failures"]
        results.notes = data["notes"]
        return results

    def add(
        self, key: str, label: str, value: float, unit: str, *, rate: bool = False, **detail: Any
    ) -> None:
        self.figures[key] = Figure(key, label, value, unit, rate, detail)

    def value(self, key: str) -> float | None:
        figure = self.figures.get(key)
        if figure is None or math.isnan(figure.value):
            return None
        return figure.value

    def ratio_to_ceiling(self, figure: Figure) -> float | None:
        ceiling = self.value("ceiling.rate")
        if not figure.rate or not ceiling or figure.key == "ceiling.rate":
            return None
        return figure.value / ceiling


def _ratio_target(label: str, numerator: str, denominator: str, at_least: float) -> Target:
    def check(results: Results) -> tuple[bool, str] | None:
        top, bottom = results.value(numerator), results.value(denominator)
        if top is None or not bottom:
            return None
        ratio = top / bottom
        return ratio >= at_least, f"{ratio:.2f}x"

    return Target(label, check)


# issue 9: "p99 from accepted to first attempt, at half the maximum rate, stays under 50 ms"
LATENCY_TARGET_MS = 50


def _latency_target(results: Results) -> tuple[bool, str] | None:
    p99 = results.value("latency.p99_ms")
    if p99 is None:
        return None
    lower = results.value("latency.accepted_p99_ms")
    also = f" (lower bound, 202→arrival: {lower:.1f} ms)" if lower is not None else ""
    return p99 < LATENCY_TARGET_MS, f"{p99:.1f} ms{also}"


def _backlog_target(results: Results) -> tuple[bool, str] | None:
    small, large = results.value("backlog.small_rate"), results.value("backlog.large_rate")
    rss = results.value("backlog.peak_rss_mb")
    if small is None or large is None or rss is None:
        return None
    ratio = large / small
    return ratio >= 0.85 and rss < 300, f"{ratio:.2f}x the small-backlog rate, peak RSS {rss:.0f} MB"


def _isolation_target(results: Results) -> tuple[bool, str] | None:
    clean, dead = results.value("isolation.clean_p99_ms"), results.value("isolation.dead_p99_ms")
    if clean is None or dead is None or not clean:
        return None
    ratio = dead / clean
    return ratio <= 1.10, f"{dead:.1f} vs {clean:.1f} ms ({ratio:.2f}x)"


def _ingest_target(results: Results) -> tuple[bool, str] | None:
    rate = results.value("sqlite.ingest_rate")
    return None if rate is None else (rate >= 4000, f"{rate:,.0f} msg/s")


TARGETS = (
    _ratio_target("end to end, SQLite ≥ 0.6 of the relay", "e2e.sqlite", "e2e.relay", 0.6),
    _ratio_target(
        "end to end, PostgreSQL 2 API + 2 workers ≥ 0.5 of the relay", "e2e.postgres", "e2e.relay", 0.5
    ),
    _ratio_target(
        "end to end, SQLite ≥ 5x Celery (.delay() to last arrival)", "e2e.sqlite", "e2e.celery", 5.0
    ),
    Target("API ingest, workers off, SQLite ≥ 4,000 msg/s", _ingest_target),
    _ratio_target(
        "fan-out x100: API ingest per message ≤ 10x one endpoint's cost",
        "fanout.ingest_rate",
        "sqlite.ingest_rate",
        0.1,
    ),
    _ratio_target("SQLite delivery rate ≥ 70% of ceiling", "sqlite.delivery_rate", "ceiling.rate", 0.70),
    _ratio_target(
        "hookwire (SQLite delivery) ≥ 10x Celery, same number of processes",
        "sqlite.delivery_rate_workers",
        "celery.rate",
        10.0,
    ),
    Target(
        f"p99 accepted→first attempt < {LATENCY_TARGET_MS} ms at half max rate (judged on sent→)",
        _latency_target,
    ),
    _ratio_target("PostgreSQL 2 workers ≥ 1.7x 1 worker", "postgres.rate_2", "postgres.rate_1", 1.7),
    Target("big backlog drains ≥ 85% of the 10k rate, every process < 300 MB", _backlog_target),
    Target("healthy p99 with a dead endpoint within 10% of without", _isolation_target),
)


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "—"
    if unit in ("ms", "MB", "x"):
        return f"{value:,.1f} {unit}"
    return f"{value:,.0f} {unit}"


def _cpu_usage(figure: Figure) -> tuple[float | None, float | None]:
    """(measured process, whole machine) CPU during the measurement, in % of one core."""
    cpu = figure.detail.get("cpu_percent_of_a_core")
    if not isinstance(cpu, dict):
        rounds = figure.detail.get("rounds")
        cpu = rounds[0].get("cpu_percent_of_a_core") if isinstance(rounds, list) and rounds else None
    if not isinstance(cpu, dict):
        return None, None
    measured = ("hookwire", "celery", "relay", "load client")
    own = next((v for k, v in cpu.items() if k.startswith(measured)), None)
    return own, cpu.get("machine, all processes")


def _cpu(figure: Figure) -> str:
    own, machine = _cpu_usage(figure)
    if own is None and machine is None:
        return "—"
    own_text = f"{own:.0f}%" if own is not None else "?"
    return f"{own_text} / {machine:.0f}%" if machine is not None else own_text


def per_core_second(figure: Figure) -> float | None:
    """A rate divided by the CPU its process got: what it does per second of one core.

    Less sensitive than the rate to other work on the machine (which takes CPU away
    from the process measured), so it is shown beside it.
    """
    own, _ = _cpu_usage(figure)
    if not figure.rate or not own:
        return None
    return figure.value / (own / 100)


def table(results: Results) -> str:
    """The figures and the targets, as Markdown tables (readable in a terminal too)."""
    cores = os.cpu_count() or 1
    lines = [
        f"| figure | value | vs ceiling | CPU: measured / machine (of {100 * cores}%) | per core-second |",
        "|---|---:|---:|---:|---:|",
    ]
    for figure in results.figures.values():
        ratio = results.ratio_to_ceiling(figure)
        shown = f"{ratio:.0%}" if ratio is not None else "—"
        efficiency = per_core_second(figure)
        per_core = f"{efficiency:,.0f}" if efficiency is not None else "—"
        value = _number(figure.value, figure.unit)
        lines.append(f"| {figure.label} | {value} | {shown} | {_cpu(figure)} | {per_core} |")
    for scenario, error in results.failures.items():
        lines.append(f"| **{scenario}: FAILED** — {error.splitlines()[0][:90]} | — | — | — | — |")
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    for target in TARGETS:
        outcome = target.check(results)
        if outcome is None:
            lines.append(f"| {target.label} | — | **not measured** |")
        else:
            met, measured = outcome
            lines.append(f"| {target.label} | {measured} | {'met' if met else '**MISSED**'} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": mem_total,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _finite(value: Any) -> Any:
    """The data with NaN and infinities as null (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_json(results: Results, *, mode: str, started: dt.datetime, seconds: float, argv: list[str]) -> Path:
    """benchmarks/results/<date>.json for a full run, <date>-<mode>.json otherwise (via a .tmp)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = started.date().isoformat() + ("" if mode == "full" else f"-{mode}")
    path = RESULTS_DIR / f"{stem}.json"
    data = {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 1),
        "mode": mode,
        "argv": argv,
        "machine": machine(),
        "notes": results.notes,
        "figures": {
            key: {**asdict(f), "ratio_to_ceiling": results.ratio_to_ceiling(f)}
            for key, f in results.figures.items()
        },
        "failures": results.failures,
        "targets": [
            {
                "target": t.label,
                "status": "not measured"
                if (o := t.check(results)) is None
                else ("met" if o[0] else "missed"),
                "measured": None if o is None else o[1],
            }
            for t in TARGETS
        ],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_finite(data), indent=2, default=str, allow_nan=False) + "\n")
    tmp.replace(path)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}:\n\n{table(Results.load(Path(name)))}\n")
