"""Agreement figures: the whole report from the database, and the engine
alone against the ``krippendorff`` package on the same character-level data."""

from __future__ import annotations

import json
import time

import numpy as np
from django.db import connection

from ..models import Assignment, Code, Document, Project, Segment
from .figures import Ctx, NotAvailable, _quiet, command_available, live_segments
from .memory import PeakMemory


def fig_agreement_db(ctx: Ctx) -> dict:
    """``manage.py agreement SLUG --format json --no-cache``: gather the rows,
    every level and code, 1,000 bootstrap resamples (the default), write the
    JSON. Then the same again with the report cache, as a page view would."""
    from django.core.management import call_command

    command_available("agreement", 4)
    project = Project.objects.get(slug=ctx.slug)
    path = ctx.tmp / "agreement.json"
    args = ["agreement", ctx.slug, "--format", "json", "--output", str(path)]
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        call_command(*args, "--no-cache", stdout=_quiet())
        seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    call_command(*args, stdout=_quiet())
    cached = time.perf_counter() - t0
    loaded = json.loads(path.read_text(encoding="utf-8"))
    records = loaded.get("results", loaded) if isinstance(loaded, dict) else loaded
    return {
        "seconds": seconds,
        "cached_seconds": cached,
        "peak_mb": mem.peak_mb,
        "records": len(records),
        "segments": live_segments(project),
    }


def fig_analysis(ctx: Ctx) -> dict:
    """The PI's Analysis tables (every source, both co-occurrence measures),
    computed as the first view after a change computes them, then read from
    the cache as the next view does."""
    from ..services.analysis import analysis_payload

    project = Project.objects.get(slug=ctx.slug)
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        payload = analysis_payload(project, use_cache=False)
        seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    analysis_payload(project)
    cached = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "cached_seconds": cached,
        "peak_mb": mem.peak_mb,
        "sources": len(payload["sources"]),
        "segments": live_segments(project),
    }


def sample_arrays(project: Project) -> dict:
    """The reliability sample as plain arrays, straight from SQL: documents
    marked done by two or more coders, those coders' live segments."""
    seg, asg, doc = (m._meta.db_table for m in (Segment, Assignment, Document))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.document_id, a.coder_id FROM {asg} a JOIN {doc} d "
            f"ON d.id = a.document_id WHERE d.project_id = %s AND a.status = 'done'",
            [project.pk],
        )
        done = np.asarray(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
        docs, counts = np.unique(done[:, 0], return_counts=True)
        sample = docs[counts >= 2]
        pairs = done[np.isin(done[:, 0], sample)]
        cursor.execute(
            f'SELECT s.document_id, s.coder_id, s.code_id, s.start, s."end" '
            f"FROM {seg} s JOIN {asg} a ON a.document_id = s.document_id "
            f"AND a.coder_id = s.coder_id JOIN {doc} d ON d.id = s.document_id "
            f"WHERE d.project_id = %s AND a.status = 'done' AND s.deleted_at IS NULL",
            [project.pk],
        )
        rows = np.asarray(cursor.fetchall(), dtype=np.int64).reshape(-1, 5)
    rows = rows[np.isin(rows[:, 0], sample)]
    lengths = dict(
        Document.objects.filter(pk__in=sample.tolist()).values_list("pk", "length")
    )
    parents = dict(Code.objects.filter(project=project).values_list("pk", "parent_id"))
    return {
        "document_lengths": {int(d): lengths[int(d)] for d in sample},
        "assignments": [tuple(p) for p in pairs.tolist()],
        "rows": rows,
        "code_parents": parents,
    }


def engine_input(arrays: dict):
    from ..stats import AgreementInput

    rows = arrays["rows"]
    return AgreementInput.from_arrays(
        document=rows[:, 0], coder=rows[:, 1], code=rows[:, 2],
        start=rows[:, 3], end=rows[:, 4],
        document_lengths=arrays["document_lengths"],
        assignments=arrays["assignments"], code_parents=arrays["code_parents"],
    )  # fmt: skip


def krippendorff_character(
    arrays: dict, code_ids: list[int]
) -> tuple[dict[int, float], float]:
    """Character-level alpha per code through the ``krippendorff`` package:
    one reliability matrix (coders x every character of the sample) per code,
    1 inside a segment of the code or a subcode, 0 outside, NaN where the
    coder is not in the sample for the document. Returns the alphas and the
    seconds spent in ``krippendorff.alpha`` alone (building the matrices is
    not counted, which flatters the package)."""
    import krippendorff

    docs = list(arrays["document_lengths"])
    lengths = np.asarray([arrays["document_lengths"][d] for d in docs], dtype=np.int64)
    starts_at = np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist()
    offset = dict(zip(docs, starts_at, strict=True))
    total = int(lengths.sum())
    coders = sorted({c for _, c in arrays["assignments"]})
    row_of = {c: i for i, c in enumerate(coders)}
    base = np.full((len(coders), total), np.nan)
    for d, c in arrays["assignments"]:
        base[row_of[c], offset[d] : offset[d] + arrays["document_lengths"][d]] = 0.0
    rows = arrays["rows"]
    parents = arrays["code_parents"]

    def under(code: int | None, k: int) -> bool:
        while code is not None:
            if code == k:
                return True
            code = parents.get(code)
        return False

    starts = rows[:, 3] + np.asarray(
        [offset[d] for d in rows[:, 0].tolist()], dtype=np.int64
    )
    ends = starts + (rows[:, 4] - rows[:, 3])
    out = {}
    alpha_seconds = 0.0
    for k in code_ids:
        below = [c for c in parents if under(c, k)]
        mask = np.isin(rows[:, 2], below)
        data = base.copy()
        for c in coders:
            sel = mask & (rows[:, 1] == c)
            diff = np.zeros(total + 1, dtype=np.int32)
            np.add.at(diff, starts[sel], 1)
            np.add.at(diff, ends[sel], -1)
            inside = np.cumsum(diff[:-1]) > 0
            row = data[row_of[c]]
            row[inside & ~np.isnan(row)] = 1.0
        t0 = time.perf_counter()
        out[k] = float(
            krippendorff.alpha(
                reliability_data=data,
                level_of_measurement="nominal",
                value_domain=[0.0, 1.0],
            )  # fmt: skip
        )
        alpha_seconds += time.perf_counter() - t0
        del data
    return out, alpha_seconds


def fig_engine_vs_krippendorff(ctx: Ctx) -> dict:
    """Character-level Krippendorff's alpha for every code on the same data:
    the engine (``compute_agreement(levels=["character"], bootstrap=0)``, from
    arrays to records) against the ``krippendorff`` package."""
    try:
        from ..stats import compute_agreement
    except ImportError as exc:  # pragma: no cover - before issue 4 lands
        raise NotAvailable(
            f"the agreement engine (issue 4) is not there: {exc}"
        ) from None
    project = Project.objects.get(slug=ctx.slug)
    arrays = sample_arrays(project)
    timings = []
    for _ in range(1 if ctx.quick else 3):
        with PeakMemory() as engine_mem:
            t0 = time.perf_counter()
            records = compute_agreement(
                engine_input(arrays), levels=("character",), bootstrap=0
            )
            timings.append(time.perf_counter() - t0)
    ours = {
        r.code: r.value
        for r in records
        if r.coefficient == "krippendorff_alpha"
        and r.code is not None
        and r.pair is None
    }
    codes = sorted(ours)
    with PeakMemory() as kripp_mem:
        t0 = time.perf_counter()
        theirs, kripp_seconds = krippendorff_character(arrays, codes)
        kripp_total = time.perf_counter() - t0
    diffs = []
    mismatched = 0  # defined by one tool and not by the other
    for k in codes:
        defined = (ours[k] is not None, bool(np.isfinite(theirs[k])))
        if all(defined):
            diffs.append(abs(ours[k] - theirs[k]))
        elif any(defined):
            mismatched += 1
    engine_seconds = float(np.median(timings))
    return {
        "engine_seconds": engine_seconds,
        "engine_peak_mb": engine_mem.peak_mb,
        "krippendorff_seconds": kripp_seconds,
        "krippendorff_with_matrices_seconds": kripp_total,
        "krippendorff_peak_mb": kripp_mem.peak_mb,
        "speedup": kripp_seconds / engine_seconds,
        "max_abs_diff": max(diffs) if diffs else float("nan"),
        "codes": len(diffs),
        "mismatched": mismatched,
        "characters": float(sum(arrays["document_lengths"].values())),
        "documents": len(arrays["document_lengths"]),
    }
