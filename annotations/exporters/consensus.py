"""How the consensus was reached (``consensus.csv``) and who coded what, when,
with which note (``assignments.csv``): plain rows in, CSV lines out.

``consensus.csv`` has one row per live consensus segment and one per coder's
segment a live rejection left out, so the adjudication can be described, and
recomputed, from the export alone. ``support`` sorts every decision by how
many of the document's coders made a segment it used::

    table(consensus$decision, consensus$support)   # in R

``assignments.csv`` has one row per document and coder (status, times, the
coder's note on the document) and one per document whose adjudication
started (the coder ``consensus``: status, adjudicator, overlap threshold,
override reason): the same (document_id, coder) pairs as document_codes.csv.
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .csv_export import CsvLines
from .rows import ExportContext, iso_utc

CONSENSUS_COLUMNS = [
    "project", "segment_id", "rejection_id", "document_id", "external_id",
    "coder", "code", "code_path", "code_id", "codebook_version", "start", "end",
    "quote", "decision", "support", "n_coders", "n_source_coders", "source_coders",
    "source_segment_ids", "sources_changed", "decided_by", "decided_at",
    "updated_at", "note",
]  # fmt: skip
ASSIGNMENT_COLUMNS = [
    "project", "document_id", "external_id", "coder", "status", "assigned_at",
    "started_at", "done_at", "note", "adjudicator", "overlap", "override_reason",
]  # fmt: skip
# ConsensusSegment.Decision's values, then the rows of rejected segments.
DECISIONS = ["auto", "accept", "accept_all", "adjust", "change_code", "manual"]
REJECT = "reject"
SUPPORT_LEVELS = ["unanimous", "majority", "half", "minority", "none"]
# AdjudicationState.Status's values follow the assignment statuses.
ASSIGNMENT_STATUSES = ["todo", "in_progress", "done"]
ADJUDICATION_STATUSES = ["open", "adjudicated", "needs_review"]
SEPARATOR = ";"

CONSENSUS_LABELS = {
    "project": "Project (slug)",
    "segment_id": "Consensus segment id (coder consensus), or the rejected "
    "coder's segment id: (coder, segment_id) as in segments.csv",
    "rejection_id": "Rejection id (rows of one rejection share it); NA for "
    "consensus segments",
    "document_id": "Document id",
    "external_id": "External id of the document",
    "coder": "consensus, or the coder whose segment was rejected",
    "code": "Code name",
    "code_path": "Code path (parent/child), levels in codebook order",
    "code_id": "Code id",
    "codebook_version": "Codebook version the segment was coded (or decided) "
    "under; NA: before the first",
    "start": "Start offset, code points from 0 (inclusive)",
    "end": "End offset, code points (exclusive): substr(text, start + 1, end)",
    "quote": "Quoted text",
    "decision": "auto (all coders agreed), accept (one coder's segment), "
    "accept_all (several coders'), adjust (boundaries), change_code, "
    "manual (added by the adjudicator), reject (left out)",
    "support": "Coders whose segment the decision used, of the document's "
    "coders: unanimous, majority (> half), half, minority (< half), none",
    "n_coders": "Coders of the document (assigned or with a live segment)",
    "n_source_coders": "Coders whose segment the decision used",
    "source_coders": "Usernames of those coders, ';'-joined in username order",
    "source_segment_ids": "Ids of the coders' segments the decision used, "
    "';'-joined ascending",
    "sources_changed": "TRUE if one of those segments was changed or deleted "
    "after the decision was made or last changed",
    "decided_by": "Adjudicator who made or last changed the decision (username)",
    "decided_at": "Decided (UTC)",
    "updated_at": "Last changed (UTC)",
    "note": "Adjudicator's note on the decision",
}
ASSIGNMENT_LABELS = {
    "project": "Project (slug)",
    "document_id": "Document id",
    "external_id": "External id of the document",
    "coder": "Coder (username), or consensus for the document's adjudication",
    "status": "Assignment status; for the consensus the adjudication's "
    "(open, adjudicated, needs_review)",
    "assigned_at": "Assigned (UTC); NA for the consensus",
    "started_at": "Started: the status first left todo (UTC); NA for the consensus",
    "done_at": "Marked done (UTC); for the consensus, marked adjudicated",
    "note": "The coder's note on the document",
    "adjudicator": "Who started or marked the adjudication (consensus only)",
    "overlap": "Overlap share (of the union) that counted as agreement for "
    "decision auto; NA: the exact same span (consensus only)",
    "override_reason": "Why the document was adjudicated before every coder "
    "was done (consensus only)",
}


class DecisionRow(NamedTuple):
    """One row of consensus.csv: a consensus segment, or one coder's segment
    a rejection left out (``decision`` ``reject``, ``coder`` its coder)."""

    segment_id: int
    rejection_id: int | None
    document_id: int
    coder: str
    code_id: int
    codebook_version: int | None  # None: before the first version
    start: int
    end: int
    quote: str
    decision: str
    n_coders: int
    source_coders: tuple[str, ...]  # usernames, sorted
    source_segment_ids: tuple[int, ...]  # ascending
    sources_changed: bool
    decided_by: str  # "" when the user was removed
    decided_at: dt.datetime
    updated_at: dt.datetime
    note: str


class AssignmentRow(NamedTuple):
    """One row of assignments.csv: an assignment, or a document's
    adjudication (``coder`` "consensus")."""

    document_id: int
    coder: str
    status: str
    assigned_at: dt.datetime | None
    started_at: dt.datetime | None
    done_at: dt.datetime | None
    note: str
    adjudicator: str = ""
    overlap: float | None = None
    override_reason: str = ""


def support(n_source_coders: int, n_coders: int) -> str:
    """How widely a decision is supported: ``k`` of the document's ``n``
    coders made a segment it used.

    ``none`` when k = 0 (the adjudicator added it), else ``unanimous`` when
    k >= n, ``majority`` when 2k > n, ``half`` when 2k = n and ``minority``
    when 2k < n. With two coders a segment only one of them made is ``half``.

    >>> [support(k, 3) for k in (3, 2, 1, 0)]
    ['unanimous', 'majority', 'minority', 'none']
    >>> [support(k, 2) for k in (2, 1)], support(2, 4), support(1, 0)
    (['unanimous', 'half'], 'half', 'unanimous')
    """
    if n_source_coders <= 0:
        return "none"
    if n_source_coders >= n_coders:
        return "unanimous"
    if 2 * n_source_coders > n_coders:
        return "majority"
    if 2 * n_source_coders == n_coders:
        return "half"
    return "minority"


def consensus_csv(ctx: ExportContext, rows: Iterable[DecisionRow]) -> Iterator[str]:
    """One line per decision row: :data:`CONSENSUS_COLUMNS`.

    Lists are ``;``-joined (usernames cannot hold one); ``sources_changed``
    is 0/1; times are UTC ISO 8601 like segments.csv's.
    """
    line = CsvLines()
    yield line(CONSENSUS_COLUMNS)
    codes = {c.id: (c.name, c.path, c.id) for c in ctx.codes}
    project = ctx.project_slug
    for r in rows:
        k = len(r.source_coders)
        yield line(
            (project, r.segment_id, "" if r.rejection_id is None else r.rejection_id,
             r.document_id, ctx.documents[r.document_id].external_id, r.coder,
             *codes[r.code_id],
             "" if r.codebook_version is None else r.codebook_version,
             r.start, r.end, r.quote, r.decision,
             support(k, r.n_coders), r.n_coders, k, SEPARATOR.join(r.source_coders),
             SEPARATOR.join(map(str, r.source_segment_ids)), int(r.sources_changed),
             r.decided_by, iso_utc(r.decided_at), iso_utc(r.updated_at), r.note)
        )  # fmt: skip


def assignments_csv(ctx: ExportContext, rows: Iterable[AssignmentRow]) -> Iterator[str]:
    """One line per assignment or adjudication: :data:`ASSIGNMENT_COLUMNS`
    (a missing time or overlap is an empty cell)."""
    line = CsvLines()
    yield line(ASSIGNMENT_COLUMNS)
    project = ctx.project_slug
    for r in rows:
        yield line(
            (project, r.document_id, ctx.documents[r.document_id].external_id,
             r.coder, r.status, iso_utc(r.assigned_at), iso_utc(r.started_at),
             iso_utc(r.done_at), r.note, r.adjudicator,
             "" if r.overlap is None else r.overlap, r.override_reason)
        )  # fmt: skip
