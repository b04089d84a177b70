"""Reads for the Analysis page: a project's live coding as plain arrays for
:mod:`annotations.stats.code_counts`, with the codebook and coder names.

Soft-deleted segments and consensus segments never count. The consensus
(adjudicated segments) is kept apart from the coders' segments, as coder
:data:`CONSENSUS_ID` in its own array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model

from ..exporters.rows import CodeInfo
from ..models import ConsensusSegment, Document, Project
from .agreement import CONSENSUS_ID, CONSENSUS_NAME, segment_columns
from .export import export_codes

__all__ = ["CONSENSUS_ID", "CONSENSUS_NAME", "AnalysisRows", "analysis_rows"]


@dataclass
class AnalysisRows:
    """``segments`` and ``consensus`` are ``(n, 5)`` int64 arrays of
    (document, coder, code, start, end); the consensus's coder is
    :data:`CONSENSUS_ID`. ``codes`` are the exports' codebook
    (:func:`~.export.export_codes`: depth first, with paths and depths),
    ``coder_names`` holds every coder with a live segment."""

    segments: np.ndarray
    consensus: np.ndarray
    codes: list[CodeInfo]
    coder_names: dict[int, str]
    n_documents: int

    @property
    def parents(self) -> dict[int, int | None]:
        return {c.id: c.parent_id for c in self.codes}


def analysis_rows(project: Project) -> AnalysisRows:
    """The project's live segments and consensus as arrays, its codebook,
    its coders' names and its number of documents: five queries, none
    returning a row per segment to Python objects."""
    segments = segment_columns(project)
    consensus = np.asarray(
        [
            (document, CONSENSUS_ID, code, start, end)
            for document, code, start, end in ConsensusSegment.objects.filter(
                document__project=project, deleted_at__isnull=True
            ).values_list("document_id", "code_id", "start", "end")
        ],
        dtype=np.int64,
    ).reshape(-1, 5)
    # Coder ids are small positive keys: a count per id is cheaper than a sort.
    coder_ids = (
        np.flatnonzero(np.bincount(segments[:, 1])).tolist() if segments.size else []
    )
    names = dict(
        get_user_model().objects.filter(pk__in=coder_ids).values_list("pk", "username")
    )
    return AnalysisRows(
        segments=segments,
        consensus=consensus,
        codes=export_codes(project),
        coder_names={c: names.get(c, f"user {c}") for c in coder_ids},
        n_documents=Document.objects.filter(project=project).count(),
    )
