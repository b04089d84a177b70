"""Run figures, each repetition in a fresh process, and summarise them.

The parent process prepares the database and the data, then starts
``manage.py bench --child FIGURE`` once per repetition: a fresh process has
no caches warmed by another figure and its peak memory is its own. Each child
writes its numbers to a JSON file; the parent keeps the median, the minimum
and the maximum of every number.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from .figures import Ctx, Figure, NotAvailable, figure_get

CHILD_TIMEOUT = {"small": 300, "medium": 1800, "large": 3600}


def child_run(key: str, size: str, out: Path, *, quick: bool) -> dict:
    """Run one repetition of one figure in this process; write and return
    ``{"status": "ok", "metrics": {...}}`` or ``{"status": "not available",
    "reason": ...}``."""
    figure = figure_get(key)
    # Production-like: DEBUG keeps every query in memory and adds checks.
    settings.DEBUG = False
    with tempfile.TemporaryDirectory(prefix=f"bench-{key}-") as tmp:
        ctx = Ctx(
            size=size, data_size=figure.data_size(size), tmp=Path(tmp), quick=quick
        )
        try:
            metrics = figure.run(ctx)
            numbers = {k: float(v) for k, v in metrics.items() if _is_number(v)}
            info = {k: v for k, v in metrics.items() if not _is_number(v)}
            result = {"status": "ok", "metrics": numbers, "info": info}
        except NotAvailable as exc:
            result = {"status": "not available", "reason": str(exc)}
        except Exception as exc:  # reported, not raised: other figures still run
            result = {
                "status": "failed",
                "reason": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
    out.write_text(json.dumps(result))
    return result


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def figure_run(
    figure: Figure,
    size: str,
    repeat: int,
    *,
    quick: bool,
    in_process: bool,
    say: Callable[[str], None],
) -> dict:
    """Every repetition of one figure; the summary of their numbers."""
    n = min(repeat, figure.repeat_cap or repeat)
    runs, notes = [], []
    status, reason = "ok", ""
    for i in range(n):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = Path(f.name)
        t0 = time.perf_counter()
        try:
            if in_process:
                result = child_run(figure.key, size, out, quick=quick)
            else:
                result = _spawn(figure.key, size, out, quick=quick)
        finally:
            out.unlink(missing_ok=True)
        wall = time.perf_counter() - t0
        if result["status"] != "ok":
            status, reason = result["status"], result["reason"]
            say(f"  {figure.key}: {status}: {reason}")
            if result.get("traceback"):
                say(result["traceback"])
            break
        runs.append(result["metrics"])
        notes.append(result.get("info", {}))
        say(f"  {figure.key} run {i + 1}/{n} done in {wall:.1f} s")
    summary = summarise(runs)
    data_size = figure.data_size(size)
    median = {k: v["median"] for k, v in summary.items()}
    entry = {
        "key": figure.key,
        "title": figure.title,
        "target": figure.target,
        "data": data_size,
        "status": status if not runs else "ok",
        "reason": reason,
        "runs": runs,
        "info": notes[0] if notes else {},
        "info_runs": notes,
        "summary": summary,
    }
    if runs:
        entry["measured"] = figure.show(median)
        # The targets are stated for PostgreSQL: elsewhere there is no verdict.
        verdict = (
            figure.check(median, data_size)
            if connection.vendor == "postgresql"
            else None
        )
        entry["verdict"] = {True: "met", False: "missed", None: "n/a"}[verdict]
    else:
        entry["measured"] = f"{status}: {reason}" if reason else "not run"
        entry["verdict"] = "n/a"
    return entry


def _spawn(key: str, size: str, out: Path, *, quick: bool) -> dict:
    cmd = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench",
           "--size", size, "--child", key, "--child-out", str(out)]  # fmt: skip
    if quick:
        cmd.append("--quick")
    try:
        proc = subprocess.run(
            cmd, cwd=settings.BASE_DIR, capture_output=True, text=True,
            timeout=CHILD_TIMEOUT[size],
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {
            "status": "failed",
            "reason": f"timed out after {CHILD_TIMEOUT[size]} s",
        }
    if proc.returncode != 0 or not out.exists() or not out.read_text():
        tail = (proc.stderr or proc.stdout)[-3000:]
        return {"status": "failed", "reason": f"the child exited with {proc.returncode}",
                "traceback": tail}  # fmt: skip
    return json.loads(out.read_text())


def summarise(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Median, minimum, maximum and the count of every number."""
    keys = list(dict.fromkeys(k for r in runs for k in r))
    out = {}
    for k in keys:
        values = [r[k] for r in runs if k in r]
        out[k] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "n": len(values),
        }
    return out


def machine() -> dict:
    """Where the figures come from."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
            cursor.execute("SHOW fsync")
            database += f" (fsync {cursor.fetchone()[0]})"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=settings.BASE_DIR,
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    import django

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "cpu": cpu,
        "database": database,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(),
        "commit": commit,
        # Other work on the machine slows every figure: keep the load with them.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def format_spread(entry: dict) -> str:
    """The spread of the headline number: min-max over the repetitions."""
    summary = entry.get("summary") or {}
    for key in ("seconds", "p95_ms", "rows_per_s", "engine_seconds", "slowest_warm_ms"):
        if key in summary:
            s = summary[key]
            if s["n"] < 2:
                return f"1 run ({key})"
            rel = (s["max"] - s["min"]) / s["median"] * 100 if s["median"] else 0
            return f"{_num(s['min'])}–{_num(s['max'])} {key} ({rel:.0f}%, n={s['n']})"
    return ""


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"
