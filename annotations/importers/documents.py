import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePath

from ..services.errors import InputError, Problem
from .text import (
    cell_str,
    decode_utf8,
    normalise_newlines,
    read_table,
    short,
    storable_check,
)

KNOWN = {"external_id", "title", "text", "source", "url", "published"}


@dataclass(frozen=True)
class DocumentRow:
    external_id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: dt.date | None = None
    metadata: dict = field(default_factory=dict)
    origin: str = ""


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(
            f"published must be a date (YYYY-MM-DD), got {short(value)}"
        ) from None


def parse_document_files(files: list[tuple[str, bytes]]) -> list[DocumentRow]:
    """Parse ``.txt``, ``.csv`` and ``.jsonl`` files into document rows.

    A ``.txt`` file is one document titled after its file name. Tables need
    ``external_id``, ``title`` and ``text``; other columns become metadata.
    Every problem in every file is collected before raising, so one run
    reports them all.
    """
    rows: list[DocumentRow] = []
    problems: list[Problem] = []
    for name, data in files:
        suffix = PurePath(name).suffix.lower()
        try:
            text = decode_utf8(data, name)
            if suffix == ".txt":
                stem = PurePath(name).stem
                if not text.strip():
                    problems.append(Problem("the text is empty", name))
                    continue
                rows.append(
                    DocumentRow(
                        external_id=stem, title=stem.replace("_", " "),
                        text=normalise_newlines(text), origin=name,
                    )
                )  # fmt: skip
            elif suffix in {".csv", ".jsonl", ".ndjson"}:
                rows.extend(_parse_table(text, name, problems))
            else:
                problems.append(
                    Problem("unsupported file type (use .txt, .csv or .jsonl)", name)
                )
        except InputError as exc:
            problems.extend(exc.problems)
    seen: dict[str, str] = {}
    for row in rows:
        if row.external_id in seen:
            problems.append(
                Problem(
                    f"duplicate external_id {short(row.external_id)} "
                    f"(also in {seen[row.external_id]})",
                    row.origin,
                )
            )
        seen[row.external_id] = row.origin
    if not rows and not problems:
        problems.append(Problem("no documents found"))
    if problems:
        raise InputError(problems)
    return rows


def _parse_table(text: str, name: str, problems: list[Problem]) -> list[DocumentRow]:
    rows = []
    for line, raw in read_table(text, name):
        try:
            missing = [
                k
                for k in ("external_id", "title", "text")
                if not cell_str(raw, k).strip()
            ]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            metadata = {k: v for k, v in raw.items() if k not in KNOWN and k}
            storable_check(metadata, "a metadata column")
            url = cell_str(raw, "url")
            if len(url) > 1000:
                raise ValueError("url is longer than 1000 characters")
            rows.append(
                DocumentRow(
                    external_id=cell_str(raw, "external_id"),
                    title=cell_str(raw, "title")[:500],
                    text=normalise_newlines(cell_str(raw, "text")),
                    source=cell_str(raw, "source")[:255],
                    url=url,
                    published=_date(cell_str(raw, "published")),
                    metadata=metadata,
                    origin=f"{name}, line {line}",
                )
            )
        except ValueError as exc:
            problems.append(Problem(str(exc), name, line))
    return rows
