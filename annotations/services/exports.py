"""Exports: which formats exist, checking a request, and writing the files.

Selectors (``selectors/export.py``) read rows; exporters (``exporters/``)
turn rows into files; this module wires them and guarantees that a file on
disk is either complete or absent: everything is written to a temporary
name beside the target and renamed at the end, and removed on any error.
Text formats can also be streamed (an HTTP response), row by row.
"""

import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ..exporters import bundle as bundle_exporter
from ..exporters import codebook as codebook_exporter
from ..exporters import consensus as consensus_exporter
from ..exporters import csv_export, dta_tables, r_script, refi_qda, web_annotation
from ..exporters.formats import (  # noqa: F401  (re-exported)
    ALIASES,
    BUNDLE_MEMBERS,
    FORMATS,
    R_MEMBERS,
    ExportFormat,
)
from ..exporters.matrix import matrix_rows
from ..exporters.methods import methods_paragraph
from ..exporters.rows import (
    CONSENSUS_KEY,
    ExportContext,
    SegmentColumns,
    segment_columns,
)
from ..models import Membership, Project
from ..selectors import consensus_export
from ..selectors import export as sel
from ..selectors.methods import methods_context
from ..selectors.segments_copy import SegmentCsvCopy
from ..stats import RECORD_FIELDS
from ..version import software_version
from .agreement import agreement_flat_rows, agreement_json, agreement_report
from .files import atomic_write

STREAM_CHUNK = 64 * 1024
METHODS = "METHODS.txt"  # in bundle.zip, beside agreement.json


def export_format_get(name: str) -> ExportFormat:
    """The format called ``name`` (a file name, or ``bundle``/``r``)."""
    fmt = FORMATS.get(ALIASES.get(name, name))
    if fmt is None:
        raise ValidationError(
            f"Unknown export format {name!r}. Choose one of: "
            + ", ".join(FORMATS) + " (or 'bundle')."
        )  # fmt: skip
    return fmt


def _date(value, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            f"{what} must be a date like 2024-05-31, not {str(value)[:40]!r}."
        ) from None


def export_filter_build(
    *,
    project: Project,
    coder: str | None = None,
    consensus: bool = False,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> sel.ExportFilter:
    """Check and build a filter. No coder and no consensus means everyone and
    the consensus; a coder alone means that coder; ``consensus`` alone the
    consensus only; both, that coder and the consensus."""
    coder_ids: tuple[int, ...] | None = None
    if coder:
        user_id = (
            Membership.objects.filter(project=project, user__username=coder)
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            raise ValidationError(
                f"{coder!r} is not a member of the project {project.slug!r}."
            )
        coder_ids = (user_id,)
    elif consensus:
        coder_ids = ()
    start, stop = _date(since, "since"), _date(until, "until")
    if start and stop and start > stop:
        raise ValidationError(f"since ({start}) is after until ({stop}).")
    return sel.ExportFilter(
        coder_ids=coder_ids, consensus=consensus or not coder, since=start, until=stop
    )


def export_filter_params(project: Project, filt: sel.ExportFilter) -> dict[str, str]:
    """The filter as query parameters (for links and the manifest)."""
    params: dict[str, str] = {}
    if filt.coder_ids:
        params["coder"] = (
            Membership.objects.filter(project=project, user_id=filt.coder_ids[0])
            .values_list("user__username", flat=True)
            .first()
            or ""
        )
    if filt.consensus and filt.coder_ids is not None:
        params["consensus"] = "1"
    if filt.since:
        params["since"] = filt.since.isoformat()
    if filt.until:
        params["until"] = filt.until.isoformat()
    return params


TRUE = {"1", "true", "yes", "on"}


def export_request_parse(
    *, project: Project, name: str, params
) -> tuple[ExportFormat, sel.ExportFilter]:
    """A format name and query parameters (``coder``, ``consensus``,
    ``since``, ``until``) from a page or the API, checked."""
    fmt = export_format_get(name)
    filt = export_filter_build(
        project=project,
        coder=(params.get("coder") or "").strip() or None,
        consensus=str(params.get("consensus", "")).lower() in TRUE,
        since=params.get("since") or None,
        until=params.get("until") or None,
    )
    return fmt, filt


class _Export:
    """One export run: the context is read once and shared by every file."""

    def __init__(
        self, project: Project, filt: sel.ExportFilter, now: dt.datetime | None
    ):
        self.project, self.filt = project, filt
        self.ctx: ExportContext = sel.export_context(
            project, filt, exported_at=now or timezone.now(),
            software_version=software_version(),
        )  # fmt: skip
        self.keys = filt.coder_keys(self.ctx.all_coders)
        # Reliability is between coders: the consensus joins only when asked for.
        explicit = filt.coder_ids is not None
        self.reliability_keys = [k for k in self.keys if k != CONSENSUS_KEY or explicit]
        self._agreement: dict | None = None

    def rank(self, coder: int) -> int:
        return 2**62 if coder == CONSENSUS_KEY else coder

    def matrix(self):
        return matrix_rows(
            self.ctx.codes, sel.coverage_rows(self.project, self.filt),
            sel.count_rows(self.project, self.filt), coder_rank=self.rank,
        )  # fmt: skip

    def segments_copy(self) -> Iterator[bytes] | None:
        """segments.csv in blocks of UTF-8 lines straight from PostgreSQL's ``COPY``
        (about 10x the Python writer, same bytes); None on other databases."""
        if connection.vendor != "postgresql":
            return None
        self.copied = SegmentCsvCopy(self.project, self.filt, self.ctx)
        return csv_export.segments_csv_bytes(self.copied)

    def segment_chunks(self) -> Iterator[SegmentColumns]:
        """The segments in chunks of columns for segments.dta: read in binary
        from PostgreSQL (no str or datetime per cell), or chunked from
        :func:`sel.segment_rows` elsewhere; both give the same file, byte for
        byte (tests/exports/test_dta_postgres.py)."""
        if connection.vendor == "postgresql":
            return sel.segment_column_chunks(self.project, self.filt)
        return segment_columns(sel.segment_rows(self.project, self.filt))

    def text(self, name: str) -> Iterator[str]:
        ctx, project, filt = self.ctx, self.project, self.filt
        if name == "segments.csv":
            return csv_export.segments_csv(ctx, sel.segment_rows(project, filt))
        if name == "documents.csv":
            return csv_export.documents_csv(ctx)
        if name == "document_codes.csv":
            return csv_export.document_codes_csv(ctx, self.matrix())
        if name == "reliability.csv":
            return csv_export.reliability_csv(ctx, self.matrix(), self.reliability_keys)
        if name == "consensus.csv":
            return consensus_exporter.consensus_csv(
                ctx, consensus_export.consensus_decision_rows(project, filt)
            )
        if name == "assignments.csv":
            return consensus_exporter.assignments_csv(
                ctx, consensus_export.assignment_rows(project, filt)
            )
        if name == "codebook.csv":
            return codebook_exporter.codebook_csv(
                ctx, sel.code_coder_counts(project, filt)
            )
        if name == "codebook.md":
            return codebook_exporter.codebook_md(
                ctx, sel.code_coder_counts(project, filt)
            )
        if name == "annotations.jsonld":
            return web_annotation.annotations_jsonld(
                ctx, sel.segment_rows(project, filt), sel.document_texts(project)
            )
        if name == "agreement.csv":
            line = csv_export.CsvLines()
            fields = list(RECORD_FIELDS)
            rows = agreement_flat_rows(self.agreement())
            return itertools.chain(
                [line(fields)], (line([r[f] for f in fields]) for r in rows)
            )
        if name == "agreement.json":
            return iter([agreement_json(self.agreement())])
        if name == "load.R":
            return r_script.load_r(ctx, self.reliability_keys, with_reliability=True)
        raise ValueError(name)

    def write(self, name: str, path: Path) -> int:
        """Write one format to ``path`` (not atomically); return its rows."""
        ctx, project, filt = self.ctx, self.project, self.filt
        if name in (
            "segments.dta",
            "document_codes.dta",
            "project.qdpx",
            "codebook.qdc",
        ):
            with open(path, "w+b", buffering=1024 * 1024) as out:
                if name == "segments.dta":
                    with (
                        contextlib.closing(self.segment_chunks()) as chunks,
                        _collector_paused(),
                    ):
                        return dta_tables.segments_dta(out, ctx, chunks)
                if name == "document_codes.dta":
                    return dta_tables.document_codes_dta(out, ctx, self.matrix())
                if name == "codebook.qdc":
                    return refi_qda.write_qdc(out, ctx)
                return refi_qda.write_qdpx(
                    out, ctx, sel.segment_rows(project, filt),
                    sel.document_texts(project), ctx.coders,
                )  # fmt: skip
        if name == "r_bundle.zip":
            return self.write_zip(path, R_MEMBERS + ["load.R"], manifest=False)
        if name == "bundle.zip":
            return self.write_zip(path, BUNDLE_MEMBERS + ["load.R"], manifest=True)
        copied = self.segments_copy() if name == "segments.csv" else None
        if copied is not None:
            with open(path, "wb", buffering=1024 * 1024) as out:
                for block in copied:
                    out.write(block)
            return self.copied.rows
        lines = 0
        with open(
            path, "w", encoding="utf-8", newline="", buffering=1024 * 1024
        ) as out:
            for chunk in self.text(name):
                out.write(chunk)
                lines += 1
        return self.rows_of(name, lines)

    def agreement(self) -> dict:
        """The agreement report (computed once per export, cached by the
        agreement service while the data is unchanged). It always covers the
        whole reliability sample; with the consensus in the export, the
        coders are also compared with the consensus."""
        if self._agreement is None:
            self._agreement = agreement_report(
                self.project, with_consensus=self.filt.consensus
            )
        return self._agreement

    def methods_text(self) -> str:
        """The methods paragraph of :meth:`agreement`'s report."""
        context = methods_context(self.project)
        return methods_paragraph(self.agreement(), context) + "\n"

    def rows_of(self, name: str, chunks: int) -> int:
        if name == "agreement.json":
            return len(self.agreement()["results"])
        if name.endswith(".csv"):
            return chunks - 1
        if name == "annotations.jsonld":
            return chunks - 2
        if name == "codebook.md":
            return len(self.ctx.codes)
        return chunks

    def write_zip(self, path: Path, members: list[str], *, manifest: bool) -> int:
        left_out: dict[str, str] = {}
        if "codebook.qdc" in members and not self.ctx.codes:
            members = [m for m in members if m != "codebook.qdc"]
            left_out["codebook.qdc"] = "the project has no codes (the schema needs one)"
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
            files, rows = {}, {}
            for name in members:
                files[name] = Path(tmp) / name
                rows[name] = self.write(name, files[name])
            rows.pop("load.R", None)
            if manifest and "agreement.json" in members:
                # A draft for the methods section, from the same report.
                files[METHODS] = Path(tmp) / METHODS
                files[METHODS].write_text(self.methods_text(), encoding="utf-8")
                rows[METHODS] = 1
            rel_names = csv_export.coder_columns(
                [self.ctx.coder_by_key[k].name for k in self.reliability_keys],
                csv_export.RELIABILITY_COLUMNS,
            )
            coder_cols = dict(
                zip(
                    [self.ctx.coder_by_key[k].name for k in self.reliability_keys],
                    rel_names, strict=True,
                )
            )  # fmt: skip
            names = [*files, "MANIFEST.json"] if manifest else members
            extra = {
                "README.txt": bundle_exporter.readme_text(
                    self.ctx, names, coder_cols, left_out=left_out
                ),
                **bundle_exporter.codebook_version_files(self.ctx),
            }
            if manifest:
                content = bundle_exporter.manifest(
                    self.ctx, files, rows,
                    filters={**export_filter_params(self.project, self.filt),
                             "description": self.ctx.filter_text},
                )  # fmt: skip
                extra["MANIFEST.json"] = json.dumps(
                    content, ensure_ascii=False, indent=2
                )
            with open(path, "wb") as out:
                bundle_exporter.zip_files(out, files, extra)
        return sum(rows.values())


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of row tuples stream
    through. They hold no reference cycles, but each 700 new ones start a
    pass, and the tuples that live through a chunk reach the oldest
    generation, whose passes walk every object of the process: about a fifth
    of the CPU of segments.dta on bench-large. Reference counting still frees
    everything; cycles made meanwhile wait for the next pass."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def export_write(
    *,
    project: Project,
    name: str,
    filt: sel.ExportFilter,
    path: Path | str,
    now: dt.datetime | None = None,
) -> int:
    """Write one format (or ``bundle``) to ``path`` atomically; return rows."""
    fmt = export_format_get(name)
    run = _Export(project, filt, now)
    if fmt.name in ("codebook.qdc",) and not run.ctx.codes:
        raise ValidationError(
            "The project has no codes: a REFI-QDA codebook needs one."
        )
    return atomic_write(path, lambda tmp: run.write(fmt.name, tmp))


def export_stream(
    *,
    project: Project,
    name: str,
    filt: sel.ExportFilter,
    now: dt.datetime | None = None,
) -> Iterator[bytes]:
    """A text format as UTF-8 chunks of about 64 KB, read row by row."""
    fmt = export_format_get(name)
    if not fmt.text:
        raise ValueError(f"{fmt.name} cannot be streamed")
    run = _Export(project, filt, now)
    copied = run.segments_copy() if fmt.name == "segments.csv" else None
    if copied is not None:
        return _batched(copied)
    chunks = run.text(fmt.name)

    def encoded() -> Iterator[bytes]:
        buffer: list[str] = []
        size = 0
        for chunk in chunks:
            buffer.append(chunk)
            size += len(chunk)
            if size >= STREAM_CHUNK:
                yield "".join(buffer).encode("utf-8")
                buffer, size = [], 0
        if buffer:
            yield "".join(buffer).encode("utf-8")

    return encoded()


def _batched(lines: Iterator[bytes]) -> Iterator[bytes]:
    """Byte lines joined into chunks of about :data:`STREAM_CHUNK`."""
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= STREAM_CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def export_temp_file(
    *,
    project: Project,
    name: str,
    filt: sel.ExportFilter,
    now: dt.datetime | None = None,
):
    """Write a binary format to an anonymous temporary file and return it open
    at the start (the file is gone from disk once closed)."""
    fmt = export_format_get(name)
    run = _Export(project, filt, now)
    if fmt.name == "codebook.qdc" and not run.ctx.codes:
        raise ValidationError(
            "The project has no codes: a REFI-QDA codebook needs one."
        )
    directory = tempfile.mkdtemp(prefix="export-")
    path = Path(directory) / fmt.name
    try:
        run.write(fmt.name, path)
        handle = open(path, "rb")  # noqa: SIM115 - returned to the caller
    finally:
        path.unlink(missing_ok=True)
        os.rmdir(directory)
    return handle
