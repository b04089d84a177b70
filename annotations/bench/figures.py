"""The figures of issue 8: what each measures, on which data, against which target.

A figure is a function ``run(ctx) -> dict`` of plain numbers (seconds, rows
per second, peak MB...). It raises :class:`NotAvailable` when the feature it
measures is not built. The runner calls it once per repetition, each time in
a fresh process, and keeps the median and the spread of every number.
"""

from __future__ import annotations

import io
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from django.core.management import call_command, get_commands
from django.db import connection, transaction

from ..models import Document, HistoryEvent, Project, Segment
from . import textgen
from .data import (
    SIZES,
    bench_project_delete,
    bench_project_generate,
    coder_names,
    spec_of,
)
from .db import tables_tidy
from .memory import PeakMemory

ORDER = ("small", "medium", "large")


class NotAvailable(Exception):
    """The feature this figure measures is not there (yet): say why."""


@dataclass
class Ctx:
    size: str  # the size the run was asked for
    data_size: str  # the size of the data this figure uses
    tmp: Path
    quick: bool = False  # smoke run: fewer requests, smaller samples

    @property
    def slug(self) -> str:
        return dataset_slug(self.data_size)


def dataset_slug(size: str) -> str:
    return f"bench-{size}"


def dataset_ensure(size: str, say: Callable[[str], None] = print) -> Project:
    """The generated project of ``size``; generated (again) when missing or
    made with other parameters."""
    slug = dataset_slug(size)
    return project_ensure(slug, SIZES[size], say)


def project_ensure(slug: str, spec, say: Callable[[str], None] = print) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is not None and spec_of(project) == spec:
        return project
    if project is not None:
        say(f"regenerating {slug!r}: it was made with other parameters")
        bench_project_delete(slug)
    say(f"generating {slug!r} ({spec.documents:,} documents, {spec.coders} coders)")
    t0 = time.perf_counter()
    project = bench_project_generate(
        slug=slug, spec=spec, progress=lambda m: say("  " + m)
    )
    say(f"generated {slug!r} in {time.perf_counter() - t0:.1f} s")
    return project


def live_segments(project: Project) -> int:
    return Segment.objects.filter(
        document__project=project, deleted_at__isnull=True
    ).count()


def command_available(name: str, issue: int) -> None:
    if name not in get_commands():
        raise NotAvailable(f"the `{name}` command (issue {issue}) is not built yet")


def _quiet() -> io.StringIO:
    return io.StringIO()


# ------------------------------------------------------------------ imports


def fig_import_documents(ctx: Ctx) -> dict:
    """``import_documents`` of a JSON Lines file of generated articles into an
    empty project, end to end (read, parse, validate, write)."""
    n = SIZES[ctx.data_size].documents if ctx.data_size == "small" else 20_000
    slug = "bench-scratch-documents"
    bench_project_delete(slug)
    Project.objects.create(slug=slug, name="Benchmark scratch: documents")
    path = ctx.tmp / "documents.jsonl"
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            a = textgen.article_make(rng, i)
            row = {"external_id": a.external_id, "title": a.title, "text": a.text,
                   "source": a.source, "published": a.published.isoformat(),
                   "section": "world"}  # fmt: skip
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    try:
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            call_command("import_documents", slug, str(path), stdout=_quiet())
            seconds = time.perf_counter() - t0
        made = Document.objects.filter(project__slug=slug).count()
        if made != n:
            raise RuntimeError(f"imported {made} documents, expected {n}")
    finally:
        bench_project_delete(slug)
    return {
        "documents": n,
        "seconds": seconds,
        "documents_per_s": n / seconds,
        "megabytes": path.stat().st_size / 2**20,
        "peak_mb": mem.peak_mb,
    }


def _scratch_segments_project(ctx: Ctx) -> tuple[Project, object]:
    base = SIZES[ctx.data_size]
    spec = replace(
        base, documents=min(base.documents, 2_000), with_segments=False, seed=11
    )
    project = project_ensure(
        f"bench-scratch-segments-{ctx.data_size}", spec, lambda m: None
    )
    _scratch_clear(project)
    return project, spec


def _scratch_clear(project: Project) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Segment._meta.db_table} WHERE document_id IN "
            f"(SELECT id FROM {Document._meta.db_table} WHERE project_id = %s)",
            [project.pk],
        )
        cursor.execute(
            f"DELETE FROM {HistoryEvent._meta.db_table} WHERE project_id = %s",
            [project.pk],
        )
    # Else the next run's duplicate check walks the index entries of the rows
    # just deleted (0.35 s per chunk of 500 articles; a fresh project never
    # pays that).
    tables_tidy(Segment, HistoryEvent)


def _segments_csv(project: Project, spec, path: Path) -> int:
    import csv

    rng = random.Random(spec.seed)
    codes = textgen.codebook_spec(spec.codes)
    coders = coder_names(project.slug, spec.coders)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["document", "coder", "code", "start", "end", "quote", "memo"])
        docs = Document.objects.filter(project=project).order_by("id")
        for external_id, text in docs.values_list("external_id", "text").iterator():
            words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            article = textgen.Article(external_id, "", "", None, text, words)
            coding = textgen.coding_make(
                rng, article, coders=spec.coders,
                per_document=spec.segments_per_document, codes=codes,
            )  # fmt: skip
            for coder, mine in zip(coders, coding, strict=True):
                for code, start, end in mine:
                    memo = "checked twice" if rng.random() < 0.02 else ""
                    writer.writerow(
                        [
                            external_id,
                            coder,
                            codes[code].name,
                            start,
                            end,
                            text[start:end],
                            memo,
                        ]
                    )
                    count += 1
    return count


def fig_import_segments(ctx: Ctx) -> dict:
    """``import_segments``: parse a CSV of coded segments (with quotes, which
    are checked against the text), then ``segments_import`` writes them."""
    from ..importers.segments import parse_segment_file
    from ..services.imports import segments_import

    project, spec = _scratch_segments_project(ctx)
    path = ctx.tmp / "segments.csv"
    expected = _segments_csv(project, spec, path)
    try:
        with PeakMemory() as whole:
            t0 = time.perf_counter()
            with path.open("rb") as stream:  # as the command does: line by line
                rows = parse_segment_file(path.name, stream)
            t1 = time.perf_counter()
            with PeakMemory() as write:
                counts = segments_import(project=project, rows=rows, source=path.name)
            t2 = time.perf_counter()
        made = live_segments(project)
        if (
            counts["created"] + counts["skipped"] != expected
            or made != counts["created"]
        ):
            raise RuntimeError(
                f"import made {made} segments of {expected} rows: {counts}"
            )
    finally:
        _scratch_clear(project)
    return {
        "rows": expected,
        "seconds": t2 - t0,
        "rows_per_s": expected / (t2 - t0),
        "parse_seconds": t1 - t0,
        "write_seconds": t2 - t1,
        "write_rows_per_s": expected / (t2 - t1),
        "peak_mb": whole.peak_mb,
        "write_extra_mb": write.extra_mb,
    }


# ------------------------------------------------------------------ exports


def _export(ctx: Ctx, fmt: str, filename: str) -> dict:
    command_available("export", 5)
    project = Project.objects.get(slug=ctx.slug)
    rows = live_segments(project)
    path = ctx.tmp / filename
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        call_command(
            "export", ctx.slug, "--format", fmt, "--output", str(path), stdout=_quiet()
        )
        seconds = time.perf_counter() - t0
    size = path.stat().st_size if path.exists() else 0
    if not size:
        raise RuntimeError(f"export {fmt} wrote no file at {path}")
    path.unlink()
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "megabytes": size / 2**20,
        "peak_mb": mem.peak_mb,
    }


def fig_export_csv(ctx: Ctx) -> dict:
    return _export(ctx, "segments.csv", "segments.csv")


def fig_export_dta(ctx: Ctx) -> dict:
    return _export(ctx, "segments.dta", "segments.dta")


def fig_export_qdpx(ctx: Ctx) -> dict:
    return _export(ctx, "project.qdpx", "project.qdpx")


# ------------------------------------------------------------------ registry


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    target: str
    run: Callable[[Ctx], dict]
    # The largest data size this figure runs on (a large run uses medium data
    # for figures whose target is stated on medium).
    max_size: str = "large"
    repeat_cap: int | None = None
    # Formats the median numbers as the "measured" cell.
    show: Callable[[dict], str] = lambda m: ""
    # True / False against the target; None when the target does not apply.
    check: Callable[[dict, str], bool | None] = lambda m, size: None

    def data_size(self, size: str) -> str:
        return min(size, self.max_size, key=ORDER.index)


def _f(x: float, unit: str = "", digits: int = 2) -> str:
    if x >= 100:
        text = f"{x:,.0f}"
    elif x >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.{digits}f}"
    return f"{text} {unit}".strip()


def _mb(x: float) -> str:
    return f"{x:,.0f} MB"


def _figures() -> list[Figure]:
    from . import fig_agreement, fig_web

    return [
        Figure(
            "import_documents", "importing documents",
            "20,000 articles in under 20 s", fig_import_documents,
            max_size="medium",  # always 20,000 new articles (50 on small)
            show=lambda m: f"{m['documents']:,.0f} articles in {_f(m['seconds'], 's')} "
            f"({m['documents_per_s']:,.0f}/s), peak {_mb(m['peak_mb'])}",
            check=lambda m, s: m["seconds"] < 20 if m["documents"] >= 20_000 else None,
        ),
        Figure(
            "import_segments", "importing segments (`import_segments`)",
            "200,000 rows/s or better with COPY; flat memory", fig_import_segments,
            show=lambda m: f"{m['rows_per_s']:,.0f} rows/s end to end "
            f"({m['rows']:,.0f} rows in {_f(m['seconds'], 's')}; writing alone "
            f"{m['write_rows_per_s']:,.0f} rows/s); peak {_mb(m['peak_mb'])}, "
            f"+{_mb(m['write_extra_mb'])} while writing",
            check=lambda m, s: m["rows_per_s"] >= 200_000,
        ),
        Figure(
            "agreement", "agreement, all levels and codes, with bootstrap CIs, from the database",
            "`medium` under 2 s, `large` under 30 s; peak memory under 2 GB",
            fig_agreement.fig_agreement_db,
            show=lambda m: f"{_f(m['seconds'], 's')} for {m['segments']:,.0f} segments "
            f"({m['records']:,.0f} result rows); peak {_mb(m['peak_mb'])}; "
            f"from the report cache {_f(m['cached_seconds'], 's')}",
            check=lambda m, s: (
                m["seconds"] < {"medium": 2, "large": 30}[s] and m["peak_mb"] < 2048
            ) if s in ("medium", "large") else None,
        ),
        Figure(
            "analysis", "the Analysis page's tables (frequencies, code x coder, "
            "co-occurrence; every source), from the database",
            "no target in issue 8; ours: `large` under 10 s, then from the cache "
            "under 0.5 s",
            fig_agreement.fig_analysis,
            show=lambda m: f"{_f(m['seconds'], 's')} for {m['segments']:,.0f} segments "
            f"({m['sources']:.0f} sources); peak {_mb(m['peak_mb'])}; "
            f"from the cache {_f(m['cached_seconds'], 's')}",
            check=lambda m, s: (m["seconds"] < 10 and m["cached_seconds"] < 0.5)
            if s == "large" else None,
        ),
        Figure(
            "engine_vs_krippendorff",
            "agreement engine alone vs the `krippendorff` package on the same data",
            "character level on `medium`: 20x faster or more, identical values to 1e-9",
            fig_agreement.fig_engine_vs_krippendorff, max_size="medium", repeat_cap=1,
            show=lambda m: f"engine {_f(m['engine_seconds'], 's')} (peak "
            f"{_mb(m['engine_peak_mb'])}) vs krippendorff {_f(m['krippendorff_seconds'], 's')} "
            f"(peak {_mb(m['krippendorff_peak_mb'])}): {m['speedup']:,.0f}x; "
            f"max difference {m['max_abs_diff']:.1e} over {m['codes']:.0f} codes",
            check=lambda m, s: (
                m["speedup"] >= 20 and m["max_abs_diff"] <= 1e-9 and m["mismatched"] == 0
            )
            if s == "medium" else None,
        ),
        Figure(
            "coding_page", "coding page for a 10,000-word article with 500 segments (server time)",
            "p50 under 50 ms, p95 under 100 ms", fig_web.fig_coding_page,
            max_size="medium",  # its own article: the same at every size
            show=lambda m: f"p50 {_f(m['p50_ms'], 'ms', 1)}, p95 {_f(m['p95_ms'], 'ms', 1)} "
            f"over {m['requests']:.0f} requests ({m['queries']:.0f} queries, "
            f"{m['html_kb']:,.0f} kB of HTML); creating a segment in-process: "
            f"p50 {_f(m['create_p50_ms'], 'ms', 1)}, p95 {_f(m['create_p95_ms'], 'ms', 1)}",
            check=lambda m, s: m["p50_ms"] < 50 and m["p95_ms"] < 100,
        ),
        Figure(
            "pages", "the PI's project pages and the coder's My work (server time)",
            "no target in issue 8; ours: every page under 0.5 s once warm on `large`",
            fig_web.fig_pages,
            show=fig_web.pages_show,
            check=lambda m, s: m["slowest_warm_ms"] < 500 if s == "large" else None,
        ),
        Figure(
            "create_segment_load",
            "creating a segment (htmx POST, full round trip through the app server) "
            "with 20 concurrent coders",
            "on `large`: p95 under 50 ms, zero errors, zero lost segments (count after)",
            fig_web.fig_create_segment_load,
            show=lambda m: f"p50 {_f(m['p50_ms'], 'ms', 1)}, p95 {_f(m['p95_ms'], 'ms', 1)}, "
            f"{m['requests_per_s']:,.0f} requests/s; {m['errors']:.0f} errors, "
            f"{m['lost']:.0f} lost and {m['extra']:.0f} extra of {m['ok']:,.0f} created "
            f"({m['coders']:.0f} coders x {m['requests'] / m['coders']:.0f} requests; "
            f"gunicorn {m['workers']:.0f} workers x {m['threads']:.0f} threads). "
            f"At human pace (a segment every {m['paced_think_s']:g} s per coder, "
            f"{m['paced_requests_per_s']:.0f} requests/s): p50 "
            f"{_f(m['paced_p50_ms'], 'ms', 1)}, p95 {_f(m['paced_p95_ms'], 'ms', 1)}, "
            f"{m['paced_errors']:.0f} errors",
            check=lambda m, s: (
                m["p95_ms"] < 50
                and m["errors"] + m["paced_errors"] == 0
                and m["lost"] == 0
                and m["extra"] == 0
            )
            if s == "large" else None,
        ),
        Figure(
            "export_csv", "export `segments.csv`",
            "`large`: 500,000 rows/s or better, peak memory under 300 MB", fig_export_csv,
            show=lambda m: f"{m['rows_per_s']:,.0f} rows/s ({m['rows']:,.0f} rows, "
            f"{m['megabytes']:,.0f} MB in {_f(m['seconds'], 's')}); peak {_mb(m['peak_mb'])}",
            check=lambda m, s: (m["rows_per_s"] >= 500_000 and m["peak_mb"] < 300)
            if s == "large" else None,
        ),
        Figure(
            "export_dta", "export `.dta`",
            "`large`: 200,000 rows/s or better, peak memory bounded", fig_export_dta,
            show=lambda m: f"{m['rows_per_s']:,.0f} rows/s ({m['rows']:,.0f} rows, "
            f"{m['megabytes']:,.0f} MB in {_f(m['seconds'], 's')}); peak {_mb(m['peak_mb'])}",
            check=lambda m, s: (m["rows_per_s"] >= 200_000 and m["peak_mb"] < 1024)
            if s == "large" else None,
        ),
        Figure(
            "export_qdpx", "REFI-QDA `.qdpx`", "`medium`: under 30 s", fig_export_qdpx,
            max_size="medium",
            show=lambda m: f"{_f(m['seconds'], 's')} ({m['rows']:,.0f} segments, "
            f"{m['megabytes']:,.0f} MB); peak {_mb(m['peak_mb'])}",
            check=lambda m, s: m["seconds"] < 30 if s == "medium" else None,
        ),
    ]  # fmt: skip


def figures() -> list[Figure]:
    return _figures()


def figure_get(key: str) -> Figure:
    for figure in figures():
        if figure.key == key:
            return figure
    raise KeyError(key)
