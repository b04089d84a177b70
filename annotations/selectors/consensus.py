"""Reads of a project's consensus and of where its adjudication stands, for
the API: lists one page at a time, with what each row needs besides read for
the whole page in one query (no query per row)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from ..models import ConsensusSegment, Document, Project
from .adjudication import adjudication_documents
from .consensus_export import sources_by_owner


def consensus_segments(
    project: Project,
    *,
    document_id: int | None = None,
    code_id: int | None = None,
    decision: str | None = None,
) -> QuerySet[ConsensusSegment]:
    """The live consensus segments of a project (the dataset of record), in
    document and text order, with the document's ``external_id`` and the
    deciding user's ``decided_by_username`` (None once the account is gone)."""
    qs = ConsensusSegment.objects.filter(
        document__project=project, deleted_at__isnull=True
    )
    if document_id is not None:
        qs = qs.filter(document_id=document_id)
    if code_id is not None:
        qs = qs.filter(code_id=code_id)
    if decision:
        qs = qs.filter(decision=decision)
    return qs.annotate(
        external_id=F("document__external_id"),
        decided_by_username=F("decided_by__username"),
    ).order_by("document_id", "start", "end", "id")


def consensus_provenance(rows: list[ConsensusSegment]) -> list[ConsensusSegment]:
    """Set ``source_segments`` (ids), ``source_coders`` (usernames) and
    ``sources_changed`` on each consensus segment, in one query for all rows.

    ``sources_changed``: a source segment was changed or deleted after the
    decision, the rule of consensus.csv and of the adjudication page's marks.
    """
    sources = sources_by_owner(
        ConsensusSegment.sources.through, "consensussegment", [c.pk for c in rows]
    )
    for c in rows:
        found = sources.get(c.pk, [])
        c.source_segments = sorted(s[0] for s in found)
        c.source_coders = sorted({s[1] for s in found})
        c.sources_changed = any(
            deleted is not None or updated > c.updated_at
            for _, _, updated, deleted in found
        )
    return rows


def adjudication_overview(
    project: Project, *, status: str | None = None, document_id: int | None = None
) -> QuerySet[Document]:
    """The documents of the Adjudication page (two coders or more), with
    their adjudication state and its adjudicator; ``status`` is an effective
    status (see ``selectors.adjudication.status_effective``). The counts of
    disagreements come from ``adjudication_summaries`` for one page."""
    qs = adjudication_documents(project, status=status).select_related(
        "adjudication__adjudicator"
    )
    if document_id is not None:
        qs = qs.filter(pk=document_id)
    return qs
