"""``load.R``: a base-R script that reads the exported CSVs with the right types.

Generated per export so it knows the columns: ``read.csv`` with
``colClasses`` (text stays text, ids stay integers), UTF-8, factors in
codebook order with unused levels kept, ``POSIXct`` times in UTC, ``Date``
publication dates, a ``label`` attribute on every variable, and the document
x code matrices. The script itself is pure ASCII (other characters are
``\\u{...}`` escapes), so it runs in any locale.
"""

from collections.abc import Iterator, Sequence

from .codebook import CODEBOOK_COLUMNS, _count_columns
from .consensus import (
    ADJUDICATION_STATUSES,
    ASSIGNMENT_COLUMNS,
    ASSIGNMENT_LABELS,
    ASSIGNMENT_STATUSES,
    CONSENSUS_COLUMNS,
    CONSENSUS_LABELS,
    DECISIONS,
    REJECT,
    SUPPORT_LEVELS,
)
from .csv_export import (
    DOCUMENT_COLUMNS,
    RELIABILITY_COLUMNS,
    SEGMENT_COLUMNS,
    coder_columns,
    matrix_columns,
    metadata_keys,
)
from .names import safe_name
from .rows import ExportContext

SEGMENT_TYPES = {
    "segment_id": "integer", "document_id": "integer", "code_id": "integer",
    "codebook_version": "integer", "start": "integer", "end": "integer",
}  # fmt: skip
SEGMENT_LABELS = {
    "project": "Project (slug)",
    "segment_id": "Segment id (the consensus has its own ids)",
    "document_id": "Document id",
    "external_id": "External id of the document",
    "title": "Document title",
    "source": "Document source",
    "published": "Publication date",
    "coder": "Coder (username, or consensus)",
    "code": "Code name",
    "code_path": "Code path (parent/child), levels in codebook order",
    "code_id": "Code id",
    "codebook_version": "Codebook version the segment was coded under (NA: before "
    "the first); codebook/v<N>.json in the bundles",
    "start": "Start offset, code points from 0 (inclusive)",
    "end": "End offset, code points (exclusive): substr(text, start + 1, end)",
    "quote": "Quoted text",
    "memo": "Coder's memo",
    "created": "Created (UTC)",
    "updated": "Last changed (UTC)",
}
DOCUMENT_LABELS = {
    "document_id": "Document id",
    "external_id": "External id",
    "title": "Title",
    "source": "Source",
    "url": "URL",
    "published": "Publication date",
    "length": "Length of the text in code points",
    "checksum": "SHA-256 of the text (UTF-8)",
    "created": "Imported (UTC)",
}


def r_string(text: str) -> str:
    """An ASCII R string literal.

    >>> r_string('a "b" \\\\ é🎉')
    '"a \\\\"b\\\\" \\\\\\\\ \\\\u{e9}\\\\u{1f389}"'
    """
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return '"' + "".join(out) + '"'


def _vector(values: Sequence[str]) -> str:
    items = [r_string(v) for v in values]
    lines, line = [], "c("
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(piece) > 76:
            lines.append(line.rstrip())
            line = "    "
        line += piece
    return "\n".join([*lines, line + ")"])


def _labels(frame: str, labels: dict[str, str]) -> Iterator[str]:
    for column, label in labels.items():
        yield f'attr({frame}[[{r_string(column)}]], "label") <- {r_string(label)}\n'


def load_r(
    ctx: ExportContext, coder_keys: Sequence[int], *, with_reliability: bool
) -> Iterator[str]:
    """The text of ``load.R`` for the files of this export."""
    coders = ctx.coder_by_key
    levels = [c.name for c in ctx.all_coders]
    yield f"# load.R: the coding workbench export of {r_string(ctx.project_name)}\n"
    yield f"# exported {ctx.stamp} (UTC), coding workbench {ctx.software_version}.\n"
    yield "# Base R only. Run it from the export's folder:\n"
    yield '#   source("load.R", chdir = TRUE)      or      Rscript load.R [folder]\n'
    yield "# Offsets are half-open Unicode code points, as R's substr() counts:\n"
    yield "#   substr(text, start + 1, end) == quote\n\n"
    yield 'if (!exists("wb_dir")) {\n'
    yield "  wb_args <- commandArgs(trailingOnly = TRUE)\n"
    yield '  wb_dir <- if (length(wb_args) > 0) wb_args[[1]] else "."\n'
    yield "}\n"
    yield "wb_read <- function(name, classes) {\n"
    yield '  read.csv(file.path(wb_dir, name), colClasses = classes, encoding = "UTF-8",\n'
    yield "           na.strings = character(0), check.names = FALSE,\n"
    yield "           stringsAsFactors = FALSE)\n"
    yield "}\n"
    yield 'wb_time <- function(x) as.POSIXct(x, format = "%Y-%m-%dT%H:%M:%SZ", tz = "UTC")\n'
    yield 'wb_date <- function(x) as.Date(x, format = "%Y-%m-%d")\n\n'
    yield f"wb_coders <- {_vector(levels)}\n\n"

    yield "# The codebook, in codebook order: it sets the order of every code factor.\n"
    count_cols = _count_columns(ctx)
    classes = {
        "code_id": "integer", "parent_id": "integer", "depth": "integer",
        "position": "integer", "retired": "integer", "value": "numeric",
        "segments_total": "integer",
    }  # fmt: skip
    classes.update(dict.fromkeys(count_cols, "integer"))
    yield from _read("codebook", "codebook.csv", CODEBOOK_COLUMNS + count_cols, classes)
    yield "codebook$retired <- codebook$retired == 1L\n"
    yield from _labels(
        "codebook",
        {
            "path": "Code path (parent/child)",
            "variable": "Stem of the code's columns in document_codes (n_, has_)",
            "segments_total": "Segments with this code itself (not its subcodes)",
        },
    )

    yield '\n# Segments: one row per coded span (the consensus is the coder "consensus").\n'
    yield from _read("segments", "segments.csv", SEGMENT_COLUMNS, SEGMENT_TYPES)
    yield "segments$published <- wb_date(segments$published)\n"
    yield "segments$created <- wb_time(segments$created)\n"
    yield "segments$updated <- wb_time(segments$updated)\n"
    yield "segments$coder <- factor(segments$coder, levels = wb_coders)\n"
    yield "segments$code_path <- factor(segments$code_path, levels = codebook$path)\n"
    yield "segments$code <- factor(segments$code, levels = unique(codebook$name))\n"
    yield from _labels("segments", SEGMENT_LABELS)

    yield "\n# Documents and their metadata.\n"
    keys = metadata_keys(ctx)
    taken = set(DOCUMENT_COLUMNS)
    meta_cols = [safe_name(f"meta_{k}", taken) for k in keys]
    yield from _read(
        "documents", "documents.csv", DOCUMENT_COLUMNS + meta_cols,
        {"document_id": "integer", "length": "integer"},
    )  # fmt: skip
    yield "documents$published <- wb_date(documents$published)\n"
    yield "documents$created <- wb_time(documents$created)\n"
    yield from _labels(
        "documents",
        {
            **DOCUMENT_LABELS,
            **{c: f"Metadata: {k}" for c, k in zip(meta_cols, keys, strict=True)},
        },
    )

    yield "\n# One row per document and coder: n_<code> segments (subcodes rolled up),\n"
    yield "# has_<code> 1 if applied. See codebook$variable for the stems.\n"
    columns = matrix_columns(ctx)
    numeric = dict.fromkeys(columns[5:], "integer")
    numeric["document_id"] = "integer"
    yield from _read("document_codes", "document_codes.csv", columns, numeric)
    yield "document_codes$coder <- factor(document_codes$coder, levels = wb_coders)\n"
    matrix_labels = {"status": "Assignment status (adjudication for the consensus)"}
    for code in ctx.codes:
        matrix_labels[f"n_{code.variable}"] = f"Segments: {code.path} (+subcodes)"
        matrix_labels[f"has_{code.variable}"] = f"Applied: {code.path} (+subcodes)"
    yield from _labels("document_codes", matrix_labels)

    if with_reliability:
        yield "\n# Reliability: per document and code, one column per coder: 1 applied,\n"
        yield "# 0 marked done without it, NA not assigned or not marked done. The\n"
        yield "# agreement report's sample is n_done >= 2; for irr::kappa2 use\n"
        yield '# subset(reliability, code_path == "..." & n_done >= 2)[, wb_rel_coders].\n'
        names = coder_columns([coders[k].name for k in coder_keys], RELIABILITY_COLUMNS)
        rel_classes = {"code_id": "integer", "document_id": "integer",
                       "n_coders": "integer", "n_done": "integer"}  # fmt: skip
        rel_classes.update(dict.fromkeys(names, "integer"))
        yield from _read(
            "reliability", "reliability.csv", RELIABILITY_COLUMNS + names, rel_classes
        )
        yield f"wb_rel_coders <- {_vector(names)}\n"
        yield "reliability$code_path <- factor(reliability$code_path, levels = codebook$path)\n"
        yield from _labels(
            "reliability",
            {n: f"Coder {coders[k].name}: 1 applied, 0 not, NA not assigned or not done"
             for n, k in zip(names, coder_keys, strict=True)},
        )  # fmt: skip

    yield from _consensus_r()

    yield "\n# The document x code matrices.\n"
    yield "# doc_code_counts: documents x codes, segments of all exported coders\n"
    yield "# (each code's own segments); rows are document ids.\n"
    yield "doc_code_counts <- unclass(table(\n"
    yield "  factor(segments$document_id, levels = documents$document_id),\n"
    yield '  segments$code_path, dnn = c("document_id", "code")))\n'
    yield "# doc_code_matrix: one row per document and coder, 0/1 per code\n"
    yield "# (subcodes rolled up), columns named by code path.\n"
    yield 'doc_code_matrix <- as.matrix(document_codes[, sprintf("has_%s", codebook$variable), drop = FALSE])\n'
    yield "colnames(doc_code_matrix) <- codebook$path\n"
    yield 'rownames(doc_code_matrix) <- paste(document_codes$document_id, document_codes$coder, sep = ":")\n\n'
    yield 'cat(sprintf("loaded %d segments, %d documents, %d codes, %d document x coder rows\\n",\n'
    yield "            nrow(segments), nrow(documents), nrow(codebook), nrow(document_codes)))\n"
    yield 'cat(sprintf("loaded %d consensus segments, %d rejected segments, %d assignment rows\\n",\n'
    yield '            sum(consensus$decision != "reject"), sum(consensus$decision == "reject"),\n'
    yield "            nrow(assignments)))\n"


def _consensus_r() -> Iterator[str]:
    """Read consensus.csv and assignments.csv."""
    yield "\n# How the consensus was reached: one row per consensus segment (coder\n"
    yield '# "consensus") and per coder\'s segment a rejection left out (decision\n'
    yield '# "reject"). table(consensus$decision, consensus$support) sums it up.\n'
    integers = (
        "segment_id", "rejection_id", "document_id", "code_id", "codebook_version",
        "start", "end", "n_coders", "n_source_coders", "sources_changed",
    )  # fmt: skip
    yield from _read(
        "consensus", "consensus.csv", CONSENSUS_COLUMNS,
        dict.fromkeys(integers, "integer"),
    )  # fmt: skip
    yield "consensus$coder <- factor(consensus$coder, levels = wb_coders)\n"
    yield "consensus$code_path <- factor(consensus$code_path, levels = codebook$path)\n"
    yield "consensus$code <- factor(consensus$code, levels = unique(codebook$name))\n"
    yield (
        f"consensus$decision <- factor(consensus$decision, levels = "
        f"{_vector([*DECISIONS, REJECT])})\n"
    )
    yield (
        f"consensus$support <- factor(consensus$support, levels = "
        f"{_vector(SUPPORT_LEVELS)})\n"
    )
    yield "consensus$sources_changed <- consensus$sources_changed == 1L\n"
    yield "consensus$decided_at <- wb_time(consensus$decided_at)\n"
    yield "consensus$updated_at <- wb_time(consensus$updated_at)\n"
    yield from _labels("consensus", CONSENSUS_LABELS)

    yield "\n# One row per document and coder (status, times, the coder's note) and per\n"
    yield '# document whose adjudication started (coder "consensus").\n'
    yield from _read(
        "assignments", "assignments.csv", ASSIGNMENT_COLUMNS,
        {"document_id": "integer", "overlap": "numeric"},
    )  # fmt: skip
    yield "assignments$coder <- factor(assignments$coder, levels = wb_coders)\n"
    yield (
        f"assignments$status <- factor(assignments$status, levels = "
        f"{_vector([*ASSIGNMENT_STATUSES, *ADJUDICATION_STATUSES])})\n"
    )
    for column in ("assigned_at", "started_at", "done_at"):
        yield f"assignments${column} <- wb_time(assignments${column})\n"
    yield from _labels("assignments", ASSIGNMENT_LABELS)


def _read(
    frame: str, filename: str, columns: Sequence[str], types: dict[str, str]
) -> Iterator[str]:
    classes = [types.get(c, "character") for c in columns]
    yield f"{frame} <- wb_read({r_string(filename)}, {_vector(classes)})\n"
