import math
import re
from dataclasses import dataclass
from pathlib import PurePath

from ..services.errors import InputError, Problem
from .text import cell_int, cell_str, decode_utf8, json_loads, read_table, short

LEVELS = {"", "nominal", "ordinal", "interval", "ratio"}
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TEXT_FIELDS = (
    "description", "definition", "when_to_use", "when_not_to_use", "example",
)  # fmt: skip


@dataclass(frozen=True)
class CodeRow:
    name: str
    parent: str  # "" for a top-level code; a name or a "parent/child" path
    description: str = ""
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    color: str = ""
    key: str = ""
    order: int | None = None
    value: float | None = None
    level: str = ""
    line: int | None = None


def parse_codebook_file(name: str, data: bytes) -> list[CodeRow]:
    """Parse a codebook from CSV, JSON (a list of code objects) or a REFI-QDA
    codebook (``.qdc``: ATLAS.ti, MAXQDA, NVivo, QualCoder, and this app's own
    export).

    Checks everything that can be checked without the database: names,
    colours, keys, levels, values, and that every parent is defined.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix == ".qdc":
        raw_rows = _qdc_rows(data, name)
    elif suffix == ".json":
        loaded = json_loads(decode_utf8(data, name), name)
        if isinstance(loaded, dict):
            loaded = loaded.get("codes")
        if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
            raise InputError([Problem("expected a list of code objects", name)])
        raw_rows = list(enumerate(loaded, start=1))
    else:
        raw_rows = list(read_table(data, name))
    problems: list[Problem] = []
    rows: list[CodeRow] = []
    for line, raw in raw_rows:
        try:
            rows.append(_row(raw, line))
        except ValueError as exc:
            problems.append(Problem(str(exc), name, line))
    problems += _check_set(rows, name)
    if not rows and not problems:
        problems.append(Problem("no codes found", name))
    if problems:
        raise InputError(problems)
    return rows


def _qdc_rows(data: bytes, name: str) -> list[tuple[int, dict]]:
    """A ``.qdc`` file's codes as the rows a CSV codebook would have (so they
    get the same checks): names with "/" made "-", parents as paths, the
    Description split into the text fields, tree order as the order."""
    from .refi_qda import description_fields, parse_qdc, qda_code_name

    paths: dict[str, str] = {}
    rows = []
    for position, code in enumerate(parse_qdc(data, name), start=1):
        code_name = qda_code_name(code.name or "")
        parent = paths.get(code.parent, "") if code.parent else ""
        paths[code.guid] = f"{parent}/{code_name}" if parent else code_name
        raw = {"name": code_name, "parent": parent, "color": code.color}
        raw.update(description_fields(code.description))
        rows.append((code.line or position, raw))
    return rows


def _row(raw: dict, line: int) -> CodeRow:
    name = cell_str(raw, "name")
    if not name:
        raise ValueError("a code needs a name")
    if "/" in name or len(name) > 100:
        raise ValueError(
            f"invalid code name {short(name)} (no '/', 100 characters at most)"
        )
    color = cell_str(raw, "color")
    if color and not COLOR.match(color):
        raise ValueError(f"colour must look like #1f77b4, got {short(color)}")
    key = cell_str(raw, "key")
    if len(key) > 1:
        raise ValueError(f"key must be one character, got {short(key)}")
    level = cell_str(raw, "level").lower()
    if level not in LEVELS:
        raise ValueError(
            f"level must be nominal, ordinal, interval or ratio, got {short(level)}"
        )
    value_text = cell_str(raw, "value")
    try:
        value = float(value_text) if value_text else None
    except ValueError:
        raise ValueError(f"value must be a number, got {short(value_text)}") from None
    if value is not None and not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {short(value_text)}")
    order = cell_int(raw, "order") if cell_str(raw, "order") else None
    parent = cell_str(raw, "parent")
    if len(parent) > 1000:
        raise ValueError("parent is longer than 1000 characters")
    if order is not None and not -(2**31) <= order < 2**31:
        raise ValueError(f"order is out of range: {short(order)}")
    fields = {f: cell_str(raw, f) for f in TEXT_FIELDS}
    if len(fields["description"]) > 300:
        raise ValueError("description is longer than 300 characters")
    return CodeRow(
        name=name, parent=parent, color=color.lower(), key=key,
        order=order, value=value, level=level, line=line, **fields,
    )  # fmt: skip


def code_path(row: CodeRow) -> str:
    return f"{row.parent}/{row.name}" if row.parent else row.name


def _check_set(rows: list[CodeRow], name: str) -> list[Problem]:
    problems = []
    paths: set[str] = set()
    names_seen: set[str] = set()
    keys: dict[str, str] = {}
    for row in rows:
        path = code_path(row)
        if path in paths:
            problems.append(
                Problem(f"code {short(path)} is defined twice", name, row.line)
            )
        paths.add(path)
        names_seen.add(row.name)
        if row.key:
            if row.key in keys:
                problems.append(
                    Problem(
                        f"key {row.key!r} is used by {short(keys[row.key])} and {short(row.name)}",
                        name,
                        row.line,
                    )
                )
            keys[row.key] = row.name
    for row in rows:
        # A parent may be named by its path or, when unambiguous, by its name.
        if row.parent and row.parent not in paths and row.parent not in names_seen:
            problems.append(
                Problem(
                    f"parent {short(row.parent)} of {short(row.name)} is not defined in the file",
                    name,
                    row.line,
                )
            )
    return problems
