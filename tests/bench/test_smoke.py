"""A small run of the benchmark harness, end to end, as a user runs it.

Speed is never asserted here (figures are measured by ``manage.py bench``,
not in tests): only that the run completes and reports every figure.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from annotations.bench.figures import figures


def test_bench_small_reports_every_figure(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    results, markdown = tmp_path / "small.json", tmp_path / "BENCHMARKS.md"
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench", "--size", "small", "--repeat", "1",
         "--quick", "--json", str(results), "--output", str(markdown)],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(results.read_text())
    expected = {f.key for f in figures()}
    assert set(report["figures"]) == expected
    for key, entry in report["figures"].items():
        # A figure either measured something, or says why it could not.
        assert entry["status"] in ("ok", "not available"), (key, entry.get("reason"))
        if entry["status"] == "ok":
            assert entry["runs"] and entry["summary"], key
        else:
            assert entry["reason"], key
    table = markdown.read_text()
    for figure in figures():
        assert f"| {figure.title.replace('|', chr(92) + '|')} | small |" in table
    (run,) = report["runs"].values()
    assert run["machine"]["cores"] and "SQLite" in run["machine"]["database"]
    assert all(e["run"] in report["runs"] for e in report["figures"].values())


def test_bench_refuses_unknown_figure(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench", "--only", "nope"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "unknown figures: nope" in proc.stderr
    assert not Path(tmp_path / "x.sqlite3").exists()
