"""Write the figures into BENCHMARKS.md, keeping rows from other runs.

The table lives between two HTML comments; rows are keyed by (figure, data
size), so a medium run replaces the medium rows and keeps the large ones.
Text outside the markers is never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from .figures import ORDER, figures
from .runner import format_spread

TABLE = ("<!-- bench:table:start -->", "<!-- bench:table:end -->")
MACHINES = ("<!-- bench:machines:start -->", "<!-- bench:machines:end -->")
TABLE_HEAD = [
    "| figure | data | target | measured (median) | spread over runs | verdict | run |",
    "|---|---|---|---|---|---|---|",
]
MACHINE_HEAD = [
    "| run | data | commit | cores | memory | CPU | database | Python / Django "
    "| load average (1, 5, 15 min) at start / end | command |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
VERDICT = {"met": "✅ met", "missed": "❌ missed", "n/a": "—"}

SKELETON = f"""# Benchmarks

Figures measured by `python manage.py bench` (see the end of this file for how
to reproduce them). Each figure runs several times, each time in a fresh
process; the table shows the median and the spread (minimum-maximum).

## Figures

{TABLE[0]}
{TABLE[1]}

## Machines and commands

{MACHINES[0]}
{MACHINES[1]}
"""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip() for c in cells]


def _rows_between(text: str, markers: tuple[str, str]) -> list[str]:
    start, end = text.index(markers[0]), text.index(markers[1])
    body = text[start + len(markers[0]) : end].strip().splitlines()
    return [
        line for line in body if line.startswith("|") and not line.startswith("|---")
    ][1:]


def _replace_between(text: str, markers: tuple[str, str], lines: list[str]) -> str:
    start, end = text.index(markers[0]), text.index(markers[1])
    return text[: start + len(markers[0])] + "\n" + "\n".join(lines) + "\n" + text[end:]


def figure_row(entry: dict, run: str = "") -> str:
    cells = [
        entry["title"],
        entry["data"],
        entry["target"],
        entry["measured"],
        format_spread(entry),
        VERDICT.get(entry["verdict"], entry["verdict"]),
        run,
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def markdown_update(path: Path, results: dict) -> None:
    """Put ``results`` (one run of ``bench``) into the Markdown file at ``path``.

    Each figure row names its run (the date in the machines table); a run's
    row in the machines table stays while a figure row refers to it.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else SKELETON
    for markers in (TABLE, MACHINES):
        if markers[0] not in text:
            text = text.rstrip() + f"\n\n{markers[0]}\n{markers[1]}\n"
    width = len(_split_row(TABLE_HEAD[0]))
    rows: dict[tuple[str, str], str] = {}
    for line in _rows_between(text, TABLE):
        cells = _split_row(line)
        if len(cells) >= 2:
            cells += [""] * (width - len(cells))  # rows from before a new column
            rows[(cells[0], cells[1])] = "| " + " | ".join(cells) + " |"
    run = results["machine"]["date"]
    for entry in results["figures"].values():
        rows[(_cell(entry["title"]), entry["data"])] = figure_row(entry, run)
    titles = [_cell(f.title) for f in figures()]

    def order(key: tuple[str, str]) -> tuple[int, int]:
        title, data = key
        return (
            titles.index(title) if title in titles else len(titles),
            ORDER.index(data) if data in ORDER else len(ORDER),
        )

    table = TABLE_HEAD + [rows[k] for k in sorted(rows, key=order)]
    text = _replace_between(text, TABLE, table)
    used = {_split_row(line)[-1] for line in table[2:]}

    machines: dict[str, str] = {}
    for line in _rows_between(text, MACHINES):
        cells = _split_row(line)
        if cells and cells[0] in used:
            machines[cells[0]] = line
    m = results["machine"]
    cells = [
        m["date"], results["size"], m["commit"], m["cores"], f"{m['memory_gb']} GB",
        m["cpu"], m["database"], f"{m['python']} / {m['django']}",
        " / ".join(
            ", ".join(str(x) for x in m.get(k, []))
            for k in ("load_average", "load_average_end") if m.get(k)
        ),
        f"`{results['command']}`",
    ]  # fmt: skip
    machines[run] = "| " + " | ".join(_cell(c) for c in cells) + " |"
    text = _replace_between(
        text, MACHINES, MACHINE_HEAD + [machines[d] for d in sorted(machines)]
    )
    path.write_text(text, encoding="utf-8")


def markdown_rows(results: dict) -> str:
    """The rows alone, to paste by hand."""
    run = results["machine"]["date"]
    return "\n".join(
        TABLE_HEAD + [figure_row(e, run) for e in results["figures"].values()]
    )
