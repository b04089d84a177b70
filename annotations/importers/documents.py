import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO

from ..services.errors import InputError, Problem
from .text import (
    UnreadableError,
    Utf8Lines,
    cell_str,
    decode_utf8,
    normalise_newlines,
    read_all,
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


def parse_document_files(
    files: Iterable[tuple[str, bytes | IO[bytes]]],
) -> list[DocumentRow]:
    """Parse ``.txt``, ``.csv`` and ``.jsonl`` files into document rows.

    A ``.txt`` file is one document titled after its file name. Tables need
    ``external_id``, ``title`` and ``text``; other columns become metadata.
    Every problem in every file is collected before raising, so one run
    reports them all. A file is bytes or a binary file; tables are read a
    line at a time.
    """
    rows: list[DocumentRow] = []
    problems: list[Problem] = []
    for name, data in files:
        suffix = PurePath(name).suffix.lower()
        try:
            if suffix in {".csv", ".jsonl", ".ndjson"}:
                rows.extend(_parse_table(data, name, problems))
            elif suffix == ".txt":
                text = decode_utf8(read_all(data), name)
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
            else:
                # Undecodable bytes are named before the type, as for the others.
                for _ in Utf8Lines(data, name):
                    pass
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


def _parse_table(
    data: bytes | IO[bytes], name: str, problems: list[Problem]
) -> list[DocumentRow]:
    """The rows of one table; the problems of bad rows go to ``problems``."""
    rows = []
    found: list[Problem] = []
    try:
        for line, raw in read_table(data, name):
            try:
                rows.append(_row(raw, f"{name}, line {line}"))
            except ValueError as exc:
                found.append(Problem(str(exc), name, line))
    except UnreadableError:
        raise  # reported alone, as if the file had been decoded first
    except InputError:
        problems.extend(found)
        raise
    problems.extend(found)
    return rows


def _row(raw: dict, origin: str) -> DocumentRow:
    # Each cell is read (and checked) once: a text is long.
    external_id = cell_str(raw, "external_id")
    title = cell_str(raw, "title")
    text = cell_str(raw, "text")
    missing = [
        k
        for k, v in (("external_id", external_id), ("title", title), ("text", text))
        if not v.strip()
    ]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    metadata = {k: v for k, v in raw.items() if k not in KNOWN and k}
    storable_check(metadata, "a metadata column")
    url = cell_str(raw, "url")
    if len(url) > 1000:
        raise ValueError("url is longer than 1000 characters")
    return DocumentRow(
        external_id=external_id,
        title=title[:500],
        text=normalise_newlines(text),
        source=cell_str(raw, "source")[:255],
        url=url,
        published=_date(cell_str(raw, "published")),
        metadata=metadata,
        origin=origin,
    )
