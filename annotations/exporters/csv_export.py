"""CSV tables: UTF-8 without a BOM, RFC 4180 quoting, ``\\n`` line ends.

Every writer is a generator of text, one line per row, so the same code
streams an HTTP response and writes a file; nothing holds more than a row.
Missing numbers are empty cells (what pandas, R's ``read.csv`` and Stata's
``import delimited`` all read as missing).
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

from .matrix import MatrixRow, reliability_values
from .names import safe_name
from .rows import ExportContext, SegmentRow, iso_utc

SEGMENT_COLUMNS = [
    "project", "segment_id", "document_id", "external_id", "title", "source",
    "published", "coder", "code", "code_path", "code_id", "codebook_version",
    "start", "end", "quote", "memo", "created", "updated",
]  # fmt: skip
DOCUMENT_COLUMNS = [
    "document_id", "external_id", "title", "source", "url", "published",
    "length", "checksum", "created",
]  # fmt: skip
MATRIX_COLUMNS = [
    "document_id",
    "external_id",
    "title",
    "coder",
    "status",
    "n_segments",
]
RELIABILITY_COLUMNS = [
    "code", "code_path", "code_id", "document_id", "external_id", "n_coders", "n_done",
]  # fmt: skip


class _Line:
    """A file-like target that keeps the last line ``csv.writer`` wrote."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


class CsvLines:
    """Turns rows into CSV lines.

    ``csv`` quotes a field with ``\\n`` but not one with a lone ``\\r`` when the
    line end is ``\\n``. A row holding ``\\r`` is therefore written by hand with
    every non-empty text field quoted; numbers and empty cells stay bare, so
    R's ``read.csv`` still reads them into integer columns.
    """

    def __init__(self) -> None:
        self._line = _Line()
        self._minimal = csv.writer(self._line, lineterminator="\n")

    def __call__(self, row: Sequence) -> str:
        self._minimal.writerow(row)
        # The line holds a \r only if a field does: one scan of the line.
        if "\r" in self._line.text:
            return ",".join(_quoted(v) for v in row) + "\n"
        return self._line.text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """A text cell that a spreadsheet will not run as a formula.

    Excel, LibreOffice and Google Sheets evaluate a cell that starts with
    ``=``, ``+``, ``-`` or ``@`` (and, after a tab or carriage return, what
    follows), so a code or user name can carry a formula into the PI's
    spreadsheet. Such text gets a leading apostrophe, which the spreadsheet
    shows as text (OWASP, "CSV Injection"). Numbers are left as they are.

    >>> formula_safe("=HYPERLINK(1)"), formula_safe("-x"), formula_safe("@a")
    ("'=HYPERLINK(1)", "'-x", "'@a")
    >>> formula_safe("a=b"), formula_safe(-1), formula_safe("")
    ('a=b', -1, '')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _quoted(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)


def segments_csv(ctx: ExportContext, rows: Iterable[SegmentRow]) -> Iterator[str]:
    """One line per segment; the consensus appears as the coder "consensus".

    Columns: :data:`SEGMENT_COLUMNS`. ``start``/``end`` are code points,
    half-open, so ``text[start:end] == quote``; times are UTC ISO 8601;
    ``codebook_version`` is empty for coding before the first version.
    """
    line = CsvLines()
    yield line(SEGMENT_COLUMNS)
    # Per-document and per-code cells are made once, not once per row.
    docs = {
        d.id: (d.id, d.external_id, d.title, d.source,
               d.published.isoformat() if d.published else "")
        for d in ctx.documents.values()
    }  # fmt: skip
    codes = {c.id: (c.name, c.path, c.id) for c in ctx.codes}
    coders = {k: c.name for k, c in ctx.coder_by_key.items()}
    project = ctx.project_slug
    for s in rows:
        yield line(
            (project, s.id, *docs[s.document_id], coders[s.coder], *codes[s.code_id],
             "" if s.codebook_version is None else s.codebook_version,
             s.start, s.end, s.quote, s.memo, iso_utc(s.created), iso_utc(s.updated))
        )  # fmt: skip


# The integer columns of segments.csv (written bare, never quoted; the
# codebook version may be empty).
_SEGMENT_INTS = frozenset(
    SEGMENT_COLUMNS.index(c)
    for c in (
        "segment_id",
        "document_id",
        "code_id",
        "codebook_version",
        "start",
        "end",
    )
)


def segments_csv_bytes(rows: Iterable[bytes]) -> Iterator[bytes]:
    """segments.csv from lines PostgreSQL's ``COPY ... (FORMAT csv)`` wrote
    (empty strings sent as NULL): byte for byte what :func:`segments_csv` writes.

    Both quote a cell only when it needs it, except for ``\r``: PostgreSQL
    quotes a cell holding one, :class:`CsvLines` quotes every non-empty text
    cell of such a row. Chunks holding a ``\r`` (rare) are read back and
    written again by :class:`CsvLines`; the others pass through untouched.
    """
    yield CsvLines()(SEGMENT_COLUMNS).encode()
    line = CsvLines()
    for chunk in rows:
        if b"\r" not in chunk:
            yield chunk
            continue
        cells = csv.reader(io.StringIO(chunk.decode("utf-8"), newline=""))
        yield "".join(
            line([int(v) if i in _SEGMENT_INTS and v else v for i, v in enumerate(row)])
            for row in cells
        ).encode("utf-8")


def metadata_keys(ctx: ExportContext) -> list[str]:
    """Every metadata key any document has, sorted."""
    keys: set[str] = set()
    for doc in ctx.documents.values():
        keys.update(str(k) for k in doc.metadata)
    return sorted(keys)


def _cell(value) -> object:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


def documents_csv(ctx: ExportContext) -> Iterator[str]:
    """One line per document: :data:`DOCUMENT_COLUMNS` then one ``meta_<key>``
    column per metadata key (objects and lists as JSON)."""
    line = CsvLines()
    keys = metadata_keys(ctx)
    taken = set(DOCUMENT_COLUMNS)
    yield line(DOCUMENT_COLUMNS + [safe_name(f"meta_{k}", taken) for k in keys])
    for doc in ctx.documents.values():
        yield line(
            [
                doc.id, doc.external_id, doc.title, doc.source, doc.url,
                doc.published.isoformat() if doc.published else "", doc.length,
                doc.checksum, iso_utc(doc.created),
            ]
            + [_cell(doc.metadata.get(k)) for k in keys]
        )  # fmt: skip


def matrix_columns(ctx: ExportContext) -> list[str]:
    columns = list(MATRIX_COLUMNS)
    for code in ctx.codes:
        columns += [f"n_{code.variable}", f"has_{code.variable}"]
    return columns


def document_codes_csv(ctx: ExportContext, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """Wide: one line per document and coder (the consensus too), a count
    (``n_<code>``, subcodes rolled up) and a presence (``has_<code>``, 0/1)
    column per code in codebook order."""
    line = CsvLines()
    yield line(matrix_columns(ctx))
    coders = ctx.coder_by_key
    for row in rows:
        doc = ctx.documents[row.document_id]
        cells: list = [
            row.document_id, doc.external_id, doc.title, coders[row.coder].name,
            row.status, row.n_segments,
        ]  # fmt: skip
        for count in row.counts:
            cells += [count, 1 if count else 0]
        yield line(cells)


def coder_columns(names: Sequence[str], reserved: Iterable[str]) -> list[str]:
    """Column names for coders: their usernames made valid for Stata and R."""
    taken = set(reserved)
    return [safe_name(n, taken, fallback="coder") for n in names]


def reliability_csv(
    ctx: ExportContext, rows: Iterable[MatrixRow], coder_keys: Sequence[int]
) -> Iterator[str]:
    """Per document and code (codebook order within each document), one column
    per coder: 1 if the coder applied the code (or a subcode) in the document,
    0 if they marked the document done without applying it, empty (missing)
    if it was not assigned to them or they have not marked it done: the
    agreement report's document level reads exactly these values.

    This is the units x raters shape of R's ``irr::kappa2``/``kappam.fleiss``
    and ``psych::cohen.kappa``, and of Stata's ``kap coder1 coder2`` after
    ``keep if code == "..."``. Units are the documents assigned to at least one
    of the coders; ``n_coders`` counts the coders assigned, ``n_done`` those
    who marked the document done (the report's sample: ``n_done >= 2``).
    """
    line = CsvLines()
    coders = ctx.coder_by_key
    names = coder_columns([coders[k].name for k in coder_keys], RELIABILITY_COLUMNS)
    yield line(RELIABILITY_COLUMNS + names)
    for doc_id, values, n_coders, n_done in reliability_values(
        rows, coder_keys, len(ctx.codes)
    ):
        external_id = ctx.documents[doc_id].external_id
        for code, per_coder in zip(ctx.codes, values, strict=True):
            yield line(
                [code.name, code.path, code.id, doc_id, external_id, n_coders, n_done]
                + ["" if v is None else v for v in per_coder]
            )
