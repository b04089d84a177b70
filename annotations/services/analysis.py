"""The Analysis page's tables: what was coded, per code, per coder and per
pair of codes, computed once per change of the data and kept in Django's
cache.

:func:`analysis_payload` gathers the project's live coding
(:func:`annotations.selectors.analysis.analysis_rows`), runs the pure
functions of :mod:`annotations.stats.code_counts` for every source at once
(all coders together, each coder, the consensus) and returns plain lists and
dicts, so that switching the page's source or measure costs no computation::

    {"version", "fingerprint", "computed_at", "seconds", "n_documents",
     "codes": [{"id", "name", "path", "depth", "retired", "has_children"}],
     "coders": [username, ...],                 # with a live segment
     "has_consensus": bool,
     "code_coder": {"columns": [username, ..., "consensus"],
                    "counts": [[...]], "subtree": [[...]]},
     "sources": {"all" | "coder:<username>" | "consensus": {
         "label", "segments",
         "frequencies": {"segments", "documents", "coders", "median_length",
                         "segments_subtree", ..., "median_length_subtree"},
         "documents": [[...]], "overlaps": [[...]], "same_code": [...]}}}

Rows and columns follow ``codes`` (codebook order). The cache key
(:func:`~annotations.selectors.cached.fingerprint_cached`) holds the project
and :func:`~annotations.selectors.agreement.agreement_fingerprint`, the
digest of the data the agreement report uses too (a few cheap queries): any
change of a segment, code, document or consensus gives a new key, so an
entry is never served stale, and old entries expire.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from django.utils import timezone

from ..models import Project
from ..selectors.analysis import (
    CONSENSUS_ID,
    CONSENSUS_NAME,
    AnalysisRows,
    analysis_rows,
)
from ..selectors.cached import fingerprint_cached
from ..stats.code_counts import (
    code_coder_counts,
    code_frequencies,
    document_cooccurrence,
    overlap_cooccurrence,
)

# Bump when the payload's shape changes: old entries are then never read.
PAYLOAD_VERSION = 1
ALL = "all"
CONSENSUS = "consensus"
CODER_PREFIX = "coder:"
FREQUENCY_FIELDS = (
    "segments", "documents", "coders", "median_length",
    "segments_subtree", "documents_subtree", "coders_subtree", "median_length_subtree",
)  # fmt: skip


def coder_source(username: str) -> str:
    return f"{CODER_PREFIX}{username}"


def analysis_payload(project: Project, *, use_cache: bool = True) -> dict[str, Any]:
    """The project's analysis tables (shape in the module docstring), from
    the cache while the data is unchanged; ``use_cache=False`` recomputes
    (and stores) them."""
    return fingerprint_cached(
        project,
        f"analysis:v{PAYLOAD_VERSION}",
        lambda fingerprint: _payload(project, fingerprint),
        use_cache=use_cache,
    )


def _payload(project: Project, fingerprint: str) -> dict[str, Any]:
    started = time.perf_counter()
    payload = analysis_tables(analysis_rows(project))
    payload["fingerprint"] = fingerprint
    payload["computed_at"] = timezone.now().isoformat()
    payload["seconds"] = round(time.perf_counter() - started, 3)
    return payload


def analysis_tables(rows: AnalysisRows) -> dict[str, Any]:
    """Every table of the page from the gathered rows (no queries)."""
    codes = [c.id for c in rows.codes]
    parents = rows.parents
    segs, cons = rows.segments, rows.consensus
    names = rows.coder_names
    coder_ids = sorted(names, key=lambda c: (names[c].lower(), names[c], c))
    # Sorted by coder once, each coder's segments are a slice, not a copy.
    segs = segs[np.argsort(segs[:, 1], kind="stable")]
    bounds = np.searchsorted(segs[:, 1], [[c, c + 1] for c in coder_ids]).tolist()
    sources: dict[str, tuple[str, np.ndarray]] = {ALL: ("all coders", segs)}
    for c, (lo, hi) in zip(coder_ids, bounds, strict=True):
        sources[coder_source(names[c])] = (names[c], segs[lo:hi])
    has_consensus = bool(cons.size)
    if has_consensus:
        sources[CONSENSUS] = ("the consensus", cons)
    columns = coder_ids + ([CONSENSUS_ID] if has_consensus else [])
    both = np.concatenate([segs, cons])
    by_coder = code_coder_counts(
        coder=both[:, 1], code=both[:, 2], codes=codes, coders=columns, parents=parents
    )
    has_children = {c.parent_id for c in rows.codes}
    return {
        "version": PAYLOAD_VERSION,
        "n_documents": rows.n_documents,
        "codes": [
            {
                "id": c.id,
                "name": c.name,
                "path": c.path,
                "depth": c.depth,
                "retired": c.retired,
                "has_children": c.id in has_children,
            }
            for c in rows.codes
        ],  # fmt: skip
        "coders": [names[c] for c in coder_ids],
        "has_consensus": has_consensus,
        "code_coder": {
            "columns": [names[c] for c in coder_ids]
            + ([CONSENSUS_NAME] if has_consensus else []),
            "counts": by_coder.counts.tolist(),
            "subtree": by_coder.subtree.tolist(),
        },
        "sources": {
            key: _source_tables(label, arr, codes, parents, rows.n_documents)
            for key, (label, arr) in sources.items()
        },
    }


def _source_tables(
    label: str, segs: np.ndarray, codes: list[int], parents: dict, n_documents: int
) -> dict[str, Any]:
    document, coder, code, start, end = (np.ascontiguousarray(col) for col in segs.T)
    freq = code_frequencies(
        document=document, coder=coder, code=code, start=start, end=end,
        codes=codes, parents=parents, n_documents=n_documents,
    )  # fmt: skip
    overlaps = overlap_cooccurrence(
        document=document, coder=coder, code=code, start=start, end=end, codes=codes
    )
    return {
        "label": label,
        "segments": int(segs.shape[0]),
        "frequencies": {f: _plain(getattr(freq, f)) for f in FREQUENCY_FIELDS},
        "documents": document_cooccurrence(
            document=document, code=code, codes=codes
        ).counts.tolist(),
        "overlaps": overlaps.counts.tolist(),
        "same_code": overlaps.same_code.tolist(),
    }


def _plain(values: np.ndarray) -> list:
    """Numbers for JSON and templates: ints as ints, NaN as None."""
    if values.dtype.kind == "f":
        return [None if math.isnan(v) else v for v in values.tolist()]
    return values.tolist()
