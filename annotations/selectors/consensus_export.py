"""Reads for consensus.csv and assignments.csv: the adjudication's record and
the coders' assignments, flattened into the rows of ``exporters/consensus.py``.

Both stream: the main rows come from ``iterator()`` (a server-side cursor on
PostgreSQL) and what each row needs besides (a decision's source segments,
a document's coders, its last segment change) is read for a batch of rows
at a time, so memory stays flat however large the consensus. Rows are
ordered by ids and offsets only (never by text), so SQLite and PostgreSQL
write the same bytes.
"""

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Max

from ..exporters.consensus import REJECT, AssignmentRow, DecisionRow
from ..exporters.rows import CONSENSUS_NAME
from ..models import (
    AdjudicationState,
    Assignment,
    ConsensusRejection,
    ConsensusSegment,
    Project,
    Segment,
)
from .adjudication import status_effective
from .export import ExportFilter, selected_assignments

BATCH = 2000
# The columns read, in the order the rows unpack them (the first four sort).
_CONSENSUS_FIELDS = (
    "document_id", "start", "end", "id", "code_id", "quote", "decision",
    "decided_by__username", "decided_at", "updated_at", "note", "codebook_version",
)  # fmt: skip
_REJECTED_ORDER = (
    "consensusrejection__document_id", "segment__start", "segment__end",
    "segment_id", "consensusrejection_id",
)  # fmt: skip
_REJECTED_FIELDS = (
    "consensusrejection__document_id", "segment__start", "segment__end",
    "segment_id", "segment__code_id", "segment__quote", "consensusrejection_id",
    "segment__coder__username", "consensusrejection__decided_by__username",
    "consensusrejection__decided_at", "consensusrejection__note",
    "segment__codebook_version",
)  # fmt: skip
_STATE_FIELDS = (
    "document_id", "status", "adjudicated_at", "adjudicator__username",
    "overlap", "override_reason",
)  # fmt: skip
# Sorts the consensus after every coder within a document (as the other
# per-coder tables do).
_LAST = 2**62


def _batches(rows: Iterable) -> Iterator[list]:
    it = iter(rows)
    while batch := list(itertools.islice(it, BATCH)):
        yield batch


def _document_coders(document_ids: Iterable[int]) -> dict[int, int]:
    """How many coders each document has: everyone assigned to it or with a
    live segment in it (the lanes of the adjudication page)."""
    ids = list(set(document_ids))
    coders: dict[int, set[int]] = defaultdict(set)
    for doc, coder in Assignment.objects.filter(document_id__in=ids).values_list(
        "document_id", "coder_id"
    ):
        coders[doc].add(coder)
    for doc, coder in (
        Segment.objects.filter(document_id__in=ids, deleted_at__isnull=True)
        .order_by()
        .values_list("document_id", "coder_id")
        .distinct()
    ):
        coders[doc].add(coder)
    return {doc: len(c) for doc, c in coders.items()}


def sources_by_owner(through, owner: str, ids: list[int]) -> dict[int, list[tuple]]:
    """(segment id, coder's username, updated_at, deleted_at) of the source
    segments of each consensus segment or rejection in ``ids``."""
    found: dict[int, list[tuple]] = defaultdict(list)
    for row in through.objects.filter(**{f"{owner}_id__in": ids}).values_list(
        f"{owner}_id", "segment_id", "segment__coder__username",
        "segment__updated_at", "segment__deleted_at",
    ):  # fmt: skip
        found[row[0]].append(row[1:])
    return found


def consensus_decision_rows(
    project: Project, filt: ExportFilter
) -> Iterator[DecisionRow]:
    """The rows of consensus.csv: the live consensus segments and each segment
    of every live rejection, by document, then span, the consensus segment
    before a rejected segment with the same span. Nothing when the filter
    leaves the consensus out; ``since``/``until`` select by ``decided_at``.
    The coder part of a filter does not narrow it (the source columns name
    every coder whose segment a decision used)."""
    if not filt.consensus:
        return
    consensus = (
        ConsensusSegment.objects.filter(
            filt.time_q("decided_at"),
            document__project=project,
            deleted_at__isnull=True,
        )
        .order_by("document_id", "start", "end", "id")
        .values_list(*_CONSENSUS_FIELDS)
    )
    RejectedThrough = ConsensusRejection.sources.through
    rejected = (
        RejectedThrough.objects.filter(
            filt.time_q("consensusrejection__decided_at"),
            consensusrejection__document__project=project,
            consensusrejection__deleted_at__isnull=True,
        )
        .order_by(*_REJECTED_ORDER)
        .values_list(*_REJECTED_FIELDS)
    )
    # (document, start, end, kind, id): consensus (0) before rejected (1).
    merged = heapq.merge(
        ((*r[:3], 0, r) for r in consensus.iterator(chunk_size=BATCH)),
        ((*r[:3], 1, r) for r in rejected.iterator(chunk_size=BATCH)),
        key=lambda t: (*t[:4], t[4][3]),
    )
    for batch in _batches(t[3:] for t in merged):
        yield from _decision_batch(batch)


def _decision_batch(batch: list[tuple[int, tuple]]) -> Iterator[DecisionRow]:
    n_coders = _document_coders(row[0] for _, row in batch)
    consensus_sources = sources_by_owner(
        ConsensusSegment.sources.through, "consensussegment",
        [row[3] for kind, row in batch if kind == 0],
    )  # fmt: skip
    rejection_sources = sources_by_owner(
        ConsensusRejection.sources.through, "consensusrejection",
        [row[6] for kind, row in batch if kind == 1],
    )  # fmt: skip
    for kind, row in batch:
        if kind == 0:
            (doc, start, end, pk, code, quote, decision, by, at, updated, note,
             version) = row  # fmt: skip
            sources, rejection, coder = consensus_sources[pk], None, CONSENSUS_NAME
        else:
            (doc, start, end, pk, code, quote, rejection, coder, by, at, note,
             version) = row  # fmt: skip
            sources, updated, decision = rejection_sources[rejection], at, REJECT
        # A source changed after the decision, as the adjudication page marks it.
        changed = any(
            deleted is not None or seg_updated > updated
            for _, _, seg_updated, deleted in sources
        )
        yield DecisionRow(
            segment_id=pk,
            rejection_id=rejection,
            document_id=doc,
            coder=coder,
            code_id=code,
            codebook_version=version,
            start=start,
            end=end,
            quote=quote,
            decision=decision,
            n_coders=n_coders.get(doc, 0),
            source_coders=tuple(sorted({s[1] for s in sources})),
            source_segment_ids=tuple(sorted(s[0] for s in sources)),
            sources_changed=changed,
            decided_by=by or "",
            decided_at=at,
            updated_at=updated,
            note=note,
        )


def assignment_rows(project: Project, filt: ExportFilter) -> Iterator[AssignmentRow]:
    """The rows of assignments.csv: the assignments of the selected coders
    and, with the consensus, every document whose adjudication started, by
    document, then coder (user id, the consensus last). The date filters do
    not apply (they select segments)."""
    streams = []
    if (assigned := selected_assignments(project, filt)) is not None:
        qs = assigned.values_list(
            "document_id", "coder_id", "coder__username", "status", "created_at",
            "started_at", "done_at", "note",
        )  # fmt: skip
        streams.append(
            ((r[0], r[1]), AssignmentRow(r[0], *r[2:]))
            for r in qs.iterator(chunk_size=BATCH)
        )
    if filt.consensus:
        streams.append(((r.document_id, _LAST), r) for r in _adjudication_rows(project))
    for _, row in heapq.merge(*streams, key=lambda t: t[0]):
        yield row


def _adjudication_rows(project: Project) -> Iterator[AssignmentRow]:
    """One row per adjudication state, with the status the adjudication page
    shows (adjudicated becomes needs_review once a coder changed a segment
    after it)."""
    states = (
        AdjudicationState.objects.filter(document__project=project)
        .order_by("document_id")
        .values_list(*_STATE_FIELDS)
    )
    for batch in _batches(states.iterator(chunk_size=BATCH)):
        last = dict(
            Segment.objects.filter(document_id__in=[r[0] for r in batch])
            .values("document_id")
            .annotate(last=Max("updated_at"))
            .values_list("document_id", "last")
        )
        for doc, status, at, adjudicator, overlap, reason in batch:
            state = AdjudicationState(status=status, adjudicated_at=at)
            yield AssignmentRow(
                document_id=doc,
                coder=CONSENSUS_NAME,
                status=status_effective(state, last.get(doc)),
                assigned_at=None,
                started_at=None,
                done_at=at,
                note="",
                adjudicator=adjudicator or "",
                overlap=overlap,
                override_reason=reason,
            )
