"""The codebook as a table (``codebook.csv``) and as a methods appendix
(``codebook.md``), with the number of segments per code and coder.

Counts are a code's own segments (not its subcodes'); the document tables
roll subcodes up instead, and both files say so.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .csv_export import CsvLines, coder_columns
from .rows import CodeInfo, ExportContext

CODEBOOK_COLUMNS = [
    "code_id", "path", "name", "parent_id", "parent_path", "depth", "position",
    "variable", "description", "definition", "when_to_use", "when_not_to_use",
    "example", "color", "key", "retired", "level", "value", "segments_total",
]  # fmt: skip
FIELDS = [
    ("description", "Description"),
    ("definition", "Definition"),
    ("when_to_use", "When to use"),
    ("when_not_to_use", "When not to use"),
    ("example", "Example"),
]
# The columns of the codebook file the Codebook page exports and imports (CSV
# and JSON), in the order the CSV writes them; the importer reads each one but
# ``retired``.
CODEBOOK_FILE_FIELDS = [
    "name", "parent", "description", "definition", "when_to_use",
    "when_not_to_use", "example", "color", "key", "order", "value", "level",
    "retired",
]  # fmt: skip
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def codebook_csv(
    ctx: ExportContext, counts: Mapping[tuple[int, int], int]
) -> Iterator[str]:
    """One line per code in codebook order: its fields, the stem of its
    columns in the document tables (``variable``), and segments per coder."""
    line = CsvLines()
    coders = ctx.coders
    yield line(CODEBOOK_COLUMNS + _count_columns(ctx))
    paths = {c.id: c.path for c in ctx.codes}
    for code in ctx.codes:
        per_coder = [counts.get((code.id, c.key), 0) for c in coders]
        yield line(
            [
                code.id, code.path, code.name, code.parent_id or "",
                paths.get(code.parent_id, ""), code.depth, code.position + 1,
                code.variable, code.description, code.definition,
                code.when_to_use, code.when_not_to_use, code.example,
                code.color, code.key, int(code.retired), code.level,
                "" if code.value is None else code.value, sum(per_coder),
                *per_coder,
            ]
        )  # fmt: skip


def _count_columns(ctx: ExportContext) -> list[str]:
    names = coder_columns([c.name for c in ctx.coders], CODEBOOK_COLUMNS)
    return [f"segments_{n}"[:32] for n in names]


def md_escape(text: str) -> str:
    """User text made inert in Markdown and HTML: ``&``, ``<``, ``>`` become
    entities and Markdown punctuation is backslash-escaped; leading spaces are
    dropped so no line turns into a code block.

    >>> md_escape("<b>*x*</b> & [a](b)")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt; &amp; \\\\[a\\\\]\\\\(b\\\\)'
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return "\n".join(line.strip() for line in text.splitlines())


def _cell(text: str) -> str:
    """A Markdown table cell: escaped, on one line."""
    return md_escape(" ".join(text.split()))


def _numbers(codes: list[CodeInfo]) -> dict[int, str]:
    """Outline numbers: 1, 1.1, 1.2, 2 ..."""
    numbers: dict[int, str] = {}
    child_count: dict[int | None, int] = {}
    for code in codes:
        child_count[code.parent_id] = child_count.get(code.parent_id, 0) + 1
        prefix = numbers.get(code.parent_id, "")
        numbers[code.id] = (
            f"{prefix}.{child_count[code.parent_id]}"
            if prefix
            else str(child_count[code.parent_id])
        )
    return numbers


def codebook_md(
    ctx: ExportContext, counts: Mapping[tuple[int, int], int]
) -> Iterator[str]:
    """A readable methods appendix: a summary table of segments per code and
    coder, then every code with its definition, rules and example."""
    coders = ctx.coders
    numbers = _numbers(ctx.codes)
    yield f"# Codebook: {md_escape(ctx.project_name)}\n\n"
    yield (
        f"Exported {ctx.stamp} (UTC) from the coding workbench "
        f"{ctx.software_version}. Coding included: "
        f"{md_escape(ctx.filter_text)}. {len(ctx.codes)} codes.\n\n"
    )
    yield (
        "Counts are the segments coded with each code itself (segments of its "
        "subcodes are counted under the subcodes). Offsets in the data files "
        "are half-open intervals of Unicode code points.\n\n"
    )
    yield "## Segments per code and coder\n\n"
    header = ["No.", "Code"] + [_cell(c.name) for c in coders] + ["Total"]
    yield "| " + " | ".join(header) + " |\n"
    yield "|" + "|".join(["---", "---"] + ["---:"] * (len(coders) + 1)) + "|\n"
    totals = [0] * len(coders)
    for code in ctx.codes:
        per_coder = [counts.get((code.id, c.key), 0) for c in coders]
        totals = [a + b for a, b in zip(totals, per_coder, strict=True)]
        cells = [numbers[code.id], _cell(code.path)] + [str(n) for n in per_coder]
        yield "| " + " | ".join(cells + [str(sum(per_coder))]) + " |\n"
    yield (
        "| | **All codes** | "
        + " | ".join([str(t) for t in totals] + [str(sum(totals))])
        + " |\n\n"
    )
    yield "## Codes\n"
    for code in ctx.codes:
        level = "#" * min(3 + code.depth, 6)
        yield f"\n{level} {numbers[code.id]} {md_escape(code.name)}\n\n"
        facts = [f"Path: {md_escape(code.path)}", f"Colour: `{code.color}`"]
        if code.key:
            facts.append(f"Key: {md_escape(code.key)}")
        if code.level:
            facts.append(f"Values: {md_escape(code.level)} variable")
        if code.value is not None:
            facts.append(f"Value: {code.value:g}")
        if code.retired:
            facts.append("Retired: no longer applied")
        yield " · ".join(facts) + "\n\n"
        for field, title in FIELDS:
            value = getattr(code, field).strip()
            if value:
                yield f"**{title}.** {md_escape(value)}\n\n"
        per_coder = [
            f"{md_escape(c.name)} {counts.get((code.id, c.key), 0)}" for c in coders
        ]
        total = sum(counts.get((code.id, c.key), 0) for c in coders)
        yield f"**Segments.** {', '.join(per_coder) or 'none'} (total {total})\n"


# --- the codebook file (the Codebook page's export, the importer's input) -----


def codebook_file_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the codebook file from codebook rows (a selector's, or a
    published version's snapshot): the file's fields only (no ``id``), keys
    in the order the JSON file has always had (``parent`` last).

    >>> codebook_file_rows([{"id": 7, "parent": "", "name": "actor", "order": 0}])
    [{'name': 'actor', 'order': 0, 'parent': ''}]
    """
    order = [f for f in CODEBOOK_FILE_FIELDS if f != "parent"] + ["parent"]
    return [{f: row[f] for f in order if f in row} for row in rows]


def codebook_file_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """The codebook as JSON: ``{"codes": [...]}``, indented, UTF-8 as is."""
    return json.dumps({"codes": codebook_file_rows(rows)}, ensure_ascii=False, indent=2)


def codebook_file_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The codebook as CSV, one code a line, empty cells for missing values.

    >>> print(codebook_file_csv([{"name": "a", "parent": "", "value": None}]), end="")
    name,parent,description,definition,when_to_use,when_not_to_use,example,color,key,order,value,level,retired
    a,,,,,,,,,,,,
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=CODEBOOK_FILE_FIELDS, lineterminator="\n"
    )
    writer.writeheader()
    for row in codebook_file_rows(rows):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
