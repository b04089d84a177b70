"""``segments.dta`` and ``document_codes.dta``: the CSV tables for Stata 14+.

Coder and code are int32 (``long``) variables with value labels (username,
0 = consensus; code id -> code path); ``codebook_version`` is an int32, Stata
missing ``.`` before the first version; every variable has a label; quotes and
memos are ``strL`` so text of any length survives; times are ``%tc`` in UTC
(Stata has no time zones, the labels say UTC).
"""

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import numpy as np

from .matrix import MatrixRow
from .rows import ExportContext, SegmentColumns, naive_utc
from .stata import (
    MAX_LABEL,
    MAX_STR,
    DtaColumn,
    str_width,
    write_dta,
    write_dta_chunks,
)
from .stata_cells import UNIX_EPOCH_MS, stata_days

CODEBOOK_VERSION_LABEL = (
    "Codebook version the segment was coded under (missing: before the first)"
)


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _text_column(name: str, label: str, values: Iterable[str]) -> DtaColumn:
    width = str_width(values)
    if width > MAX_STR:
        return DtaColumn(name, label, "strl")
    return DtaColumn(name, label, "str", width)


def dataset_label(ctx: ExportContext, what: str) -> str:
    """``<project>: <what>, exported <time>Z`` in at most 80 characters."""
    tail = f": {what}, exported {ctx.stamp}"
    room = MAX_LABEL - len(tail)
    name = ctx.project_name
    if len(name) > room:
        name = name[: room - 1] + "…"
    return name + tail


def value_labels(ctx: ExportContext) -> dict[str, dict[int, str]]:
    return {
        "coder": {c.key: c.name for c in ctx.all_coders},
        "code": {c.id: c.path for c in ctx.codes},
    }


def segments_dta(
    out: BinaryIO, ctx: ExportContext, chunks: Iterable[SegmentColumns]
) -> int:
    """Write ``segments.dta`` (format 118) to a seekable file; return the rows.

    The document columns and the code path are encoded once per document and
    code and gathered for each chunk by position (numpy indexing)."""
    docs = list(ctx.documents.values())
    columns = [
        DtaColumn("project", "Project (slug)", "str", str_width([ctx.project_slug])),
        DtaColumn("segment_id", "Segment id (the consensus has its own ids)", "long"),
        DtaColumn("document_id", "Document id", "long"),
        _text_column("external_id", "External id of the document", (d.external_id for d in docs)),
        _text_column("title", "Document title", (d.title for d in docs)),
        _text_column("source", "Document source", (d.source for d in docs)),
        DtaColumn("published", "Publication date", "date"),
        DtaColumn("coder", "Coder (0 = consensus)", "long", value_labels="coder"),
        DtaColumn("code", "Code (value label: code path)", "long", value_labels="code"),
        _text_column("code_path", "Code path (parent/child)", (c.path for c in ctx.codes)),
        DtaColumn("codebook_version", CODEBOOK_VERSION_LABEL, "long"),
        DtaColumn("start", "Start offset, code points from 0 (inclusive)", "long"),
        DtaColumn("end_", "End offset, code points (exclusive)", "long"),
        DtaColumn("quote", "Quoted text: usubstr(text, start+1, end_-start)", "strl"),
        DtaColumn("memo", "Coder's memo", "strl"),
        DtaColumn("created", "Created (UTC)", "datetime"),
        DtaColumn("updated", "Last changed (UTC)", "datetime"),
    ]  # fmt: skip
    slug = ctx.project_slug.encode("utf-8")
    doc_at = _positions([d.id for d in docs])
    code_at = _positions([c.id for c in ctx.codes])
    external, title, source = (
        _text_cells(col, [getattr(d, col.name) for d in docs]) for col in columns[3:6]
    )
    published = np.ma.MaskedArray(
        [0 if d.published is None else stata_days(d.published) for d in docs],
        mask=[d.published is None for d in docs], dtype=np.int64,
    )  # fmt: skip
    paths = _text_cells(columns[9], [c.path for c in ctx.codes])

    def records() -> Iterator[list]:
        for c in chunks:
            d, k = doc_at(c.document_id), code_at(c.code_id)
            yield [
                np.full(len(c), slug, dtype=f"S{columns[0].width}"), c.id,
                c.document_id, external[d], title[d], source[d], published[d],
                c.coder, c.code_id, paths[k], c.codebook_version, c.start, c.end,
                c.quote, c.memo,
                c.created_ms + UNIX_EPOCH_MS, c.updated_ms + UNIX_EPOCH_MS,
            ]  # fmt: skip

    return write_dta_chunks(
        out, columns, records(), label=dataset_label(ctx, "segments"),
        value_labels=value_labels(ctx), timestamp=naive_utc(ctx.exported_at),
    )  # fmt: skip


def _positions(ids: list[int]) -> Callable[[np.ndarray], np.ndarray]:
    """A lookup from ids to their positions in ``ids``; an unknown id is a
    ``KeyError``."""
    order = np.argsort(np.array(ids, dtype=np.int64), kind="stable")
    known = np.array(ids, dtype=np.int64)[order]

    def at(wanted: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(known, wanted), max(len(known) - 1, 0))
        found = known[i] == wanted if len(known) else np.zeros(len(wanted), bool)
        if not found.all():
            raise KeyError(int(wanted[np.argmin(found)]))
        return order[i]

    return at


def _text_cells(column: DtaColumn, texts: list[str]) -> np.ndarray:
    """Encoded text to gather cells from: ``S`` for str, objects for strL."""
    data = [t.encode("utf-8") for t in texts]
    if column.kind == "str":
        return np.array(data, dtype=f"S{column.width}")
    cells = np.empty(len(data), dtype=object)
    cells[:] = data
    return cells


def document_codes_dta(
    out: BinaryIO, ctx: ExportContext, rows: Iterable[MatrixRow]
) -> int:
    """Write ``document_codes.dta``: one observation per document and coder,
    ``n_<code>`` (segments, subcodes rolled up) and ``has_<code>`` (0/1)."""
    docs = ctx.documents.values()
    columns = [
        DtaColumn("document_id", "Document id", "long"),
        _text_column("external_id", "External id of the document", (d.external_id for d in docs)),
        _text_column("title", "Document title", (d.title for d in docs)),
        DtaColumn("coder", "Coder (0 = consensus)", "long", value_labels="coder"),
        DtaColumn("status", "Assignment status (adjudication for the consensus)", "str", 12),
        DtaColumn("n_segments", "Segments of this coder in the document", "long"),
    ]  # fmt: skip
    for code in ctx.codes:
        columns.append(
            DtaColumn(
                f"n_{code.variable}",
                _label(f"Segments: {code.path} (+subcodes)"),
                "long",
            )
        )
        columns.append(
            DtaColumn(
                f"has_{code.variable}",
                _label(f"Applied: {code.path} (+subcodes)"),
                "byte",
            )
        )

    def records() -> Iterator[tuple]:
        for row in rows:
            doc = ctx.documents[row.document_id]
            cells = [
                row.document_id, doc.external_id, doc.title, row.coder,
                row.status, row.n_segments,
            ]  # fmt: skip
            for count in row.counts:
                cells += [count, 1 if count else 0]
            yield cells

    return write_dta(
        out, columns, records(), label=dataset_label(ctx, "documents x codes"),
        value_labels=value_labels(ctx), timestamp=naive_utc(ctx.exported_at),
    )  # fmt: skip
