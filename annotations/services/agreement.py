"""The agreement report: gather a project's reliability sample, run the
statistics engine, name the results, and keep them until the data changes.

:func:`agreement_report` is the one entry point for the page, the API, the
``agreement`` command and the exports (agreement.csv / agreement.json); its
name and shape are stable::

    {"project": slug,
     "sample": {"rule", "description", "documents", "external_ids", "coders",
                "levels", "bootstrap", "seed", "confidence", "with_consensus",
                "consensus_documents", "segments", "warnings",
                "codebook_versions", "codebook_version", "left_out_other_versions",
                "fingerprint", "computed_at", "seconds"},
     "results": [{"level", "code", "coefficient", "coders", "pair", "value",
                  "ci_low", "ci_high", "n_units", "n_documents", "note"}, ...]}

``code`` is the code's path ("actor/law_enforcement") or ``None`` for all
codes together; ``coders`` and ``pair`` hold usernames (``"consensus"`` for
the adjudicated version; with it, the span level adds precision and recall
of each coder with the consensus as the reference). A report is computed once
per change of the data and parameters and stored in
:class:`~annotations.models.AgreementCache`.

``codebook_version=N`` reports the coding done under one published codebook
version: the sample keeps only the documents where every counted coder's
live segments were all coded under N (a counted coder without segments
there coded nothing under N); a document where one of them has a segment
under another version, or before the first, is left out whole and counted
in ``sample["left_out_other_versions"]``. Single segments are never dropped:
a coder's v1 segment, taken away, would read as a passage they did not
code, a disagreement nobody made.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..disagreement import document_disagreements
from ..models import AgreementCache, CodebookVersion, Document, Project
from ..selectors.agreement import (
    CONSENSUS_ID,
    RULES,
    AgreementRows,
    agreement_fingerprint,
    agreement_rows,
)
from ..stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    LEVELS,
    RECORD_FIELDS,
    AgreementRecord,
    compute_agreement,
)
from .files import atomic_write

MAX_BOOTSTRAP = 10_000
# Bump when the cached payload's shape changes: old entries are then ignored
# (and pruned) instead of being served to code that expects the new shape.
# 3: span precision/recall rows against the consensus.
# 4: the sample's codebook_versions, codebook_version, left_out_other_versions.
PAYLOAD_VERSION = 4
KEEP_REPORTS = 12  # cached reports per project (one per set of parameters)
CONFIDENCE = 0.95
Engine = Callable[..., list[AgreementRecord]]


@dataclass(frozen=True)
class AgreementParams:
    levels: tuple[str, ...]
    all_coded: bool
    with_consensus: bool
    bootstrap: int
    seed: int
    codebook_version: int | None = None

    @property
    def key(self) -> str:
        """The cache key of the parameters (the data has its fingerprint);
        ``;codebook_version=N`` only with that option."""
        key = (
            f"v{PAYLOAD_VERSION};"
            f"levels={','.join(self.levels)};all_coded={int(self.all_coded)};"
            f"consensus={int(self.with_consensus)};bootstrap={self.bootstrap};"
            f"seed={self.seed}"
        )
        if self.codebook_version is not None:
            key += f";codebook_version={self.codebook_version}"
        return key


def agreement_params(
    *,
    levels: Iterable[str] | None = None,
    all_coded: bool = False,
    with_consensus: bool = False,
    bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    codebook_version: int | None = None,
) -> AgreementParams:
    """Checked parameters; a ``ValidationError`` says what is wrong. Whether
    ``codebook_version`` is published is the project's to say:
    :func:`agreement_payload` checks it."""
    errors: dict[str, str] = {}
    wanted = tuple(dict.fromkeys(levels)) if levels else LEVELS
    unknown = [lv for lv in wanted if lv not in LEVELS]
    if unknown:
        errors["level"] = (
            f"unknown level {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(LEVELS)}"
        )
    if not isinstance(bootstrap, int) or not 0 <= bootstrap <= MAX_BOOTSTRAP:
        errors["bootstrap"] = (
            f"bootstrap must be a whole number from 0 to {MAX_BOOTSTRAP}"
        )
    if not isinstance(seed, int) or not 0 <= seed < 2**32:
        errors["seed"] = "seed must be a whole number from 0 to 4294967295"
    if codebook_version is not None and (
        not isinstance(codebook_version, int)
        or isinstance(codebook_version, bool)
        or codebook_version < 1
    ):
        errors["codebook_version"] = "codebook_version must be a whole number from 1"
    if errors:
        raise ValidationError(errors)
    # The engine's order, whatever order they were asked in: stable cache keys.
    return AgreementParams(
        levels=tuple(lv for lv in LEVELS if lv in wanted),
        all_coded=bool(all_coded),
        with_consensus=bool(with_consensus),
        bootstrap=bootstrap,
        seed=seed,
        codebook_version=codebook_version,
    )


def codebook_version_check(project: Project, number: int | None) -> None:
    """A ``ValidationError`` unless ``number`` is None or a version the
    project published."""
    if number is None:
        return
    # Compared in Python: a huge number never reaches the database's integer.
    published = sorted(
        CodebookVersion.objects.filter(project=project).values_list("number", flat=True)
    )
    if number in published:
        return
    if not published:
        message = (
            f"codebook version {number} does not exist: the project has not "
            "published a codebook version yet"
        )
    else:
        message = (
            f"codebook version {number} does not exist: the project published "
            f"{', '.join(f'v{n}' for n in published)}"
        )
    raise ValidationError({"codebook_version": message})


def agreement_report(
    project: Project,
    *,
    levels: Iterable[str] | None = None,
    all_coded: bool = False,
    with_consensus: bool = False,
    bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    codebook_version: int | None = None,
    use_cache: bool = True,
    engine: Engine = compute_agreement,
) -> dict[str, Any]:
    """The agreement report of ``project`` (shape in the module docstring).

    Reused from the cache while the data's fingerprint and the parameters
    are unchanged; ``use_cache=False`` recomputes (and stores) it. ``engine``
    is a seam for tests; it defaults to :func:`annotations.stats.compute_agreement`.
    Raises ``ValidationError`` for bad parameters.
    """
    params = agreement_params(
        levels=levels, all_coded=all_coded, with_consensus=with_consensus,
        bootstrap=bootstrap, seed=seed, codebook_version=codebook_version,
    )  # fmt: skip
    return agreement_payload(project, params, use_cache=use_cache, engine=engine)[
        "report"
    ]


def agreement_payload(
    project: Project,
    params: AgreementParams,
    *,
    use_cache: bool = True,
    engine: Engine = compute_agreement,
) -> dict[str, Any]:
    """``{"report": <agreement_report>, "documents": [...]}``: the report and
    the sample's documents ranked by disagreement (for the page), computed
    together and cached together. Raises ``ValidationError`` when
    ``params.codebook_version`` is not one of the project's versions."""
    codebook_version_check(project, params.codebook_version)
    fingerprint = agreement_fingerprint(project)
    if use_cache:
        hit = (
            AgreementCache.objects.filter(
                project=project, params=params.key, fingerprint=fingerprint
            )
            .values_list("payload", flat=True)
            .first()
        )
        if hit is not None:
            return hit
    started = time.perf_counter()
    payload = _compute(project, params, engine)
    seconds = time.perf_counter() - started
    sample = payload["report"]["sample"]
    sample["fingerprint"] = fingerprint
    sample["computed_at"] = timezone.now().isoformat()
    sample["seconds"] = round(seconds, 3)
    try:
        with transaction.atomic():
            AgreementCache.objects.update_or_create(
                project=project,
                params=params.key,
                defaults={
                    "fingerprint": fingerprint,
                    "payload": payload,
                    "seconds": seconds,
                },
            )
    except IntegrityError:  # pragma: no cover - another request stored it first
        pass
    _prune(project)
    return payload


def _prune(project: Project) -> None:
    """Keep the most recent reports of a project only: every new set of
    parameters (through the API, say) would otherwise add a row for good."""
    stale = AgreementCache.objects.filter(project=project).order_by(
        "-computed_at", "-pk"
    )
    ids = list(stale.values_list("pk", flat=True)[KEEP_REPORTS:])
    if ids:
        AgreementCache.objects.filter(pk__in=ids).delete()


def _compute(
    project: Project, params: AgreementParams, engine: Engine
) -> dict[str, Any]:
    rows = agreement_rows(
        project,
        all_coded=params.all_coded,
        with_consensus=params.with_consensus,
        codebook_version=params.codebook_version,
    )
    kw = {"levels": params.levels, "bootstrap": params.bootstrap, "seed": params.seed,
          "confidence": CONFIDENCE}  # fmt: skip
    results = [result_record(r, rows) for r in engine(rows.data, **kw)]
    if rows.consensus is not None and rows.consensus.documents:
        extra = [
            result_record(r, rows, consensus=True)
            for r in engine(rows.consensus, reference=CONSENSUS_ID, **kw)
            if r.pair is not None and CONSENSUS_ID in r.pair
        ]
        results = _merged(results, extra, params.levels, rows)
    data = rows.data
    description = RULES[rows.rule]
    if rows.codebook_version is not None:
        description += (
            f"; only documents whose counted coders coded every segment under "
            f"codebook v{rows.codebook_version}"
        )
    report = {
        "project": project.slug,
        "sample": {
            "rule": rows.rule,
            "description": description,
            "documents": len(data.documents),
            "external_ids": [rows.external_ids[d] for d in data.documents],
            "coders": [rows.coder_names[c] for c in data.coders],
            "levels": list(params.levels),
            "bootstrap": params.bootstrap,
            "seed": params.seed,
            "confidence": CONFIDENCE,
            "with_consensus": params.with_consensus,
            "consensus_documents": len(rows.consensus.documents)
            if rows.consensus is not None
            else 0,
            "segments": int(data.seg_document.size),
            "warnings": rows.warnings,
            "codebook_versions": [
                {"version": v, "segments": n} for v, n in rows.codebook_versions.items()
            ],
            "codebook_version": rows.codebook_version,
            "left_out_other_versions": rows.left_out_other_versions,
        },
        "results": results,
    }
    return {"report": report, "documents": _documents(rows)}


def result_record(
    r: AgreementRecord, rows: AgreementRows, *, consensus: bool = False
) -> dict:
    names = rows.coder_names
    note = r.note
    if consensus:
        extra = "against the adjudicated consensus, on the documents adjudicated"
        note = f"{note}; {extra}" if note else extra
    return {
        "level": r.level,
        "code": None if r.code is None else rows.code_labels[r.code],
        "coefficient": r.coefficient,
        "coders": [names[c] for c in r.coders],
        "pair": None if r.pair is None else [names[c] for c in r.pair],
        "value": _number(r.value),
        "ci_low": _number(r.ci_low),
        "ci_high": _number(r.ci_high),
        "n_units": int(r.n_units),
        "n_documents": int(r.n_documents),
        "note": note,
    }


def _number(x: float | None) -> float | None:
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return None
    return float(x)


def _merged(
    results: list[dict], extra: list[dict], levels: tuple[str, ...], rows: AgreementRows
) -> list[dict]:
    """The consensus pairs after the coders' rows of the same level and code."""
    order = {None: -1} | {rows.code_labels[k]: i for i, k in enumerate(rows.data.codes)}
    level = {lv: i for i, lv in enumerate(levels)}
    both = [(0, i, r) for i, r in enumerate(results)] + [
        (1, i, r) for i, r in enumerate(extra)
    ]
    both.sort(key=lambda t: (level[t[2]["level"]], order[t[2]["code"]], t[0], t[1]))
    return [r for *_, r in both]


DOCUMENT_COLUMNS = (
    "id",
    "disagreement",
    "codes_disputed",
    "segments",
    "coded",
    "coders",
)


def _documents(rows: AgreementRows) -> list[list]:
    """The sample's documents, most disagreement first, as compact rows of
    :data:`DOCUMENT_COLUMNS` (a large project has tens of thousands; a page
    shows 25 and looks their titles up). ``coders`` is a bit mask over the
    report's ``sample["coders"]``."""
    data = rows.data
    dis = document_disagreements(
        seg_document=data.seg_document, seg_coder=data.seg_coder,
        seg_code=data.seg_code, seg_start=data.seg_start, seg_end=data.seg_end,
        coders_per_document=data.assigned.sum(axis=1),
    )  # fmt: skip
    masks = data.assigned.astype(np.int64) @ (
        1 << np.arange(len(data.coders), dtype=np.int64)
    )
    share = np.round(dis.disagreement, 6)
    order = np.lexsort(
        (np.asarray(data.documents, dtype=np.int64), -dis.codes_disputed, -share)
    )
    return [
        [int(data.documents[i]), float(share[i]), int(dis.codes_disputed[i]),
         int(dis.segments[i]), int(dis.coded[i]), int(masks[i])]
        for i in order.tolist()
    ]  # fmt: skip


def agreement_documents(payload: dict, rows: list[list]) -> list[dict]:
    """Some of ``payload["documents"]`` as dicts, with titles, external ids
    and coder names (for a page of the list)."""
    coders = payload["report"]["sample"]["coders"]
    info = {
        pk: (title, external_id)
        for pk, title, external_id in Document.objects.filter(
            pk__in=[r[0] for r in rows]
        ).values_list("pk", "title", "external_id")
    }
    out = []
    for row in rows:
        doc = dict(zip(DOCUMENT_COLUMNS, row, strict=True))
        doc["title"], doc["external_id"] = info.get(doc["id"], ("", ""))
        doc["coders"] = [c for i, c in enumerate(coders) if row[5] >> i & 1]
        out.append(doc)
    return out


# -- files --------------------------------------------------------------------


def agreement_flat_rows(report: dict) -> Iterable[dict[str, Any]]:
    """The results as CSV rows: ``coders`` and ``pair`` joined with ``;``,
    missing values empty (R's ``read.csv`` reads them as ``NA``)."""
    for r in report["results"]:
        row = dict(r)
        row["coders"] = ";".join(r["coders"])
        row["pair"] = ";".join(r["pair"]) if r["pair"] else ""
        yield {k: "" if row[k] is None else row[k] for k in RECORD_FIELDS}


def agreement_csv_write(report: dict, out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=list(RECORD_FIELDS), lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in agreement_flat_rows(report):
        writer.writerow(row)
        n += 1
    return n


def agreement_csv(report: dict) -> str:
    buf = io.StringIO()
    agreement_csv_write(report, buf)
    return buf.getvalue()


def agreement_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1) + "\n"


def agreement_file_write(*, report: dict, fmt: str, path: Path) -> int:
    """Write the report as ``fmt`` ("json" or "csv") to ``path`` atomically:
    a temporary file in the same folder, renamed when complete. Returns the
    number of results."""
    if fmt not in ("json", "csv"):
        raise ValidationError({"format": "format must be json or csv"})
    text = agreement_json(report) if fmt == "json" else agreement_csv(report)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))
    return len(report["results"])
