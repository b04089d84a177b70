"""Measure every figure of the benchmark (issue 8) and write BENCHMARKS.md."""

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ...bench.data import SIZES
from ...bench.db import database_prepare
from ...bench.figures import dataset_ensure, figures
from ...bench.report import markdown_rows, markdown_update
from ...bench.runner import child_run, figure_run, format_spread, machine


class Command(BaseCommand):
    help = (
        "Run the benchmark figures on generated data (several repetitions, each "
        "in a fresh process), print median and spread, write a JSON file and "
        "update the table in BENCHMARKS.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="medium")
        parser.add_argument("--repeat", type=int, default=3, help="repetitions (3)")
        parser.add_argument("--only", default="", help="comma-separated figure keys")
        parser.add_argument(
            "--output", default=None,
            help="Markdown file to update (default BENCHMARKS.md; '-' prints the rows)",
        )  # fmt: skip
        parser.add_argument(
            "--json", default=None, help="default bench-results/SIZE.json"
        )
        parser.add_argument(
            "--quick", action="store_true", help="fewer requests (smoke)"
        )
        parser.add_argument(
            "--in-process", action="store_true", help="no child processes"
        )
        parser.add_argument("--list", action="store_true", help="list the figures")
        parser.add_argument("--child", help=argparse_hidden())
        parser.add_argument("--child-out", help=argparse_hidden())

    def handle(self, *args, **o):
        if o["child"]:
            child_run(o["child"], o["size"], Path(o["child_out"]), quick=o["quick"])
            return
        chosen = figures()
        if o["list"]:
            for f in chosen:
                self.stdout.write(f"{f.key:24s} {f.title}  [target: {f.target}]")
            return
        if o["only"]:
            keys = [k.strip() for k in o["only"].split(",") if k.strip()]
            unknown = set(keys) - {f.key for f in chosen}
            if unknown:
                raise CommandError(
                    f"unknown figures: {', '.join(sorted(unknown))} (see --list)"
                )
            chosen = [f for f in chosen if f.key in keys]
        if o["repeat"] < 1:
            raise CommandError("--repeat must be at least 1")
        size = o["size"]
        say = self.stdout.write
        database_prepare(say)
        for data_size in dict.fromkeys(f.data_size(size) for f in chosen):
            dataset_ensure(data_size, say)
        results = {
            "size": size,
            "repeat": o["repeat"],
            "command": _command(sys.argv),
            "machine": machine(),
            "figures": {},
        }
        t0 = time.perf_counter()
        for figure in chosen:
            say(f"{figure.key} on {figure.data_size(size)} data ...")
            entry = figure_run(
                figure, size, o["repeat"], quick=o["quick"],
                in_process=o["in_process"], say=say,
            )  # fmt: skip
            results["figures"][figure.key] = entry
            say(
                f"  => {entry['measured']}  [{format_spread(entry)}] {entry['verdict']}"
            )
        results["seconds"] = time.perf_counter() - t0
        results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        json_path = Path(
            o["json"] or Path(settings.BASE_DIR) / "bench-results" / f"{size}.json"
        )
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_merge(json_path, results)
        say(f"wrote {json_path}")
        if o["output"] == "-":
            say(markdown_rows(results))
        else:
            md = Path(o["output"] or Path(settings.BASE_DIR) / "BENCHMARKS.md")
            markdown_update(md, results)
            say(f"updated {md}")
        say(f"done in {results['seconds']:.0f} s")


def json_merge(path: Path, results: dict) -> None:
    """Write this run into the size's JSON file, keeping the figures of earlier
    runs that this one did not measure (each figure names its run)."""
    run = results["machine"]["date"]
    stored = {"size": results["size"], "figures": {}, "runs": {}}
    if path.exists():
        try:
            old = json.loads(path.read_text())
            if "runs" in old:
                stored = old
        except ValueError:
            pass
    stored["runs"][run] = {
        k: results[k] for k in ("command", "repeat", "machine", "seconds")
    }
    for key, entry in results["figures"].items():
        stored["figures"][key] = dict(entry, run=run)
    used = {e["run"] for e in stored["figures"].values()}
    stored["runs"] = {d: r for d, r in stored["runs"].items() if d in used}
    path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n")


def argparse_hidden():
    return argparse.SUPPRESS


def _command(argv: list[str]) -> str:
    """The command line, with the database it ran on (credentials removed)."""
    import re

    args = argv[1:] if argv and argv[0].endswith("manage.py") else argv
    line = "python manage.py " + shlex.join(args)
    url = os.environ.get("DATABASE_URL")
    if url:
        url = re.sub(
            r"//[^@/]*@",
            lambda m: "//" + m.group(0)[2:].split(":")[0].rstrip("@") + "@",
            url,
        )
        line = f"DATABASE_URL={url} {line}"
    return line
