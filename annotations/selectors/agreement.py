"""Reads for agreement: a project's reliability sample as compact arrays for
the statistics engine (:mod:`annotations.stats`), a cheap fingerprint of the
data a report depends on, and one document's coding for the compare view.

The reliability sample (DESIGN.md):

* default (``rule="done"``): documents that two or more coders marked done;
  only those coders count for the document. A coder who did not mark it
  done, or was never assigned it, is *missing* for it, not "coded nothing".
* ``all_coded=True`` (``rule="all_coded"``): documents that two or more
  coders worked on, a coder counting when their assignment is in progress
  or done or when they have a live segment in the document.
* ``codebook_version=N``: of those documents, only the ones where every
  counted coder's live segments were all coded under codebook version N (a
  counted coder with no segment there coded nothing under N). A document
  where a counted coder has a segment under another version, or before the
  first, is left out whole, and counted in ``left_out_other_versions``.

Soft-deleted segments never count. The consensus (adjudicated segments) is an
extra coder, ``consensus``, on the sample's documents whose adjudication has
started; it is gathered apart so the coders' own coefficients do not change
when it is added.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, Q

from ..models import (
    AdjudicationState,
    Assignment,
    Code,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Project,
    Segment,
)
from ..stats import AgreementInput, Variable
from .adjudication import consensus_rows
from .codebook import code_paths

CONSENSUS_ID = -1  # the consensus "coder" in the engine's arrays
CONSENSUS_NAME = "consensus"
RULES = {
    "done": "documents marked done by at least two coders; only those coders count",
    "all_coded": "documents coded by at least two coders (an assignment in "
    "progress or done, or a live segment); those coders count",
}
_FETCH = 50_000  # rows per fetchmany when COPY is not available


@dataclass
class AgreementRows:
    """Everything a report needs, as plain values.

    ``data`` is the coders' reliability sample; ``consensus`` (or ``None``)
    the sample's adjudicated documents with the consensus as one more coder.
    Ids are database ids; the name maps turn them into report labels.
    """

    rule: str
    data: AgreementInput
    consensus: AgreementInput | None
    external_ids: dict[int, str]
    coder_names: dict[int, str]
    code_labels: dict[int, str]
    code_colors: dict[int, str]
    warnings: list[str] = field(default_factory=list)
    # Live segments of the sample per codebook version they were coded under
    # (None: before the first); empty when the project never published one.
    codebook_versions: dict[int | None, int] = field(default_factory=dict)
    # The codebook_version option, and the documents it left out.
    codebook_version: int | None = None
    left_out_other_versions: int = 0

    @property
    def document_ids(self) -> list[int]:
        return [int(d) for d in self.data.documents]


# -- the rows -------------------------------------------------------------------


def codebook_structure(
    project: Project,
) -> tuple[list[int], dict[int, int | None], list, dict]:
    """Codes in codebook order (depth first), their parents, variables, and
    ``{"warnings": [...], "colors": {id: colour}}``."""
    rows = list(
        Code.objects.filter(project=project)
        .order_by("order", "id")
        .values_list("pk", "parent_id", "level", "value", "color")
    )
    children: dict[int | None, list[tuple]] = {}
    for row in rows:
        children.setdefault(row[1], []).append(row)
    ordered: list[int] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        ordered.append(row[0])
        stack.extend(reversed(children.get(row[0], [])))
    # A hierarchy that does not reach a root (cannot happen through the app)
    # still gets its codes listed, after the others.
    ordered += [r[0] for r in rows if r[0] not in set(ordered)]
    parents = {pk: parent for pk, parent, *_ in rows}
    variables = []
    warnings = []
    paths = code_paths(project)
    for pk, _, level, _, _ in rows:
        if not level:
            continue
        kids = children.get(pk, [])
        if level in ("interval", "ratio") and any(k[3] is None for k in kids):
            warnings.append(
                f"variable {paths[pk]!r} ({level}) left out: a value has no number"
            )
            continue
        values = tuple(
            (k[0], float(k[3]) if k[3] is not None else float(i))
            for i, k in enumerate(kids, start=1)
        )
        variables.append(Variable(code=pk, level=level, values=values))
    colors = {pk: color for pk, *_, color in rows}
    return ordered, parents, variables, {"warnings": warnings, "colors": colors}


def _segment_sql(project: Project) -> tuple[str, list]:
    seg, doc = Segment._meta.db_table, Document._meta.db_table
    sql = (
        f'SELECT s.document_id, s.coder_id, s.code_id, s.start, s."end" '
        f"FROM {seg} s JOIN {doc} d ON d.id = s.document_id "
        f"WHERE d.project_id = %s AND s.deleted_at IS NULL"
    )
    return sql, [project.pk]


# One row per document, its segments packed into one bytea of big-endian
# (coder int8, code int8, start int4, end int4) records.
_PACKED_SQL = (
    "SELECT s.document_id, string_agg(int8send(s.coder_id::int8) || "
    "int8send(s.code_id::int8) || int4send(s.start::int4) || "
    "int4send(s.\"end\"::int4), ''::bytea) "
    "FROM {seg} s JOIN {doc} d ON d.id = s.document_id "
    "WHERE d.project_id = %s AND s.deleted_at IS NULL GROUP BY s.document_id"
)
_PACKED = np.dtype(
    [("coder", ">i8"), ("code", ">i8"), ("start", ">i4"), ("end", ">i4")]
)


def segment_columns(project: Project) -> np.ndarray:
    """Live segments of the project as an ``(n, 5)`` int64 array of
    (document, coder, code, start, end), never as model instances.

    PostgreSQL: the server packs each document's segments into one binary
    string (``string_agg`` of ``int8send``...), read through a server-side
    cursor a batch of documents at a time and viewed by numpy without a
    Python object per segment: about three times faster than a binary COPY,
    which psycopg hands over one row at a time. Elsewhere: ``fetchmany``.
    """
    if connection.vendor == "postgresql":
        return _packed_columns(project)
    sql, params = _segment_sql(project)
    blocks = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH):
            blocks.append(np.asarray(rows, dtype=np.int64))
    return np.concatenate(blocks) if blocks else np.zeros((0, 5), dtype=np.int64)


def _packed_columns(project: Project) -> np.ndarray:
    sql = _PACKED_SQL.format(seg=Segment._meta.db_table, doc=Document._meta.db_table)
    blocks = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [project.pk])
        while rows := cursor.fetchmany(1000):
            packed = [np.frombuffer(blob, _PACKED) for _, blob in rows]
            recs = np.concatenate(packed)
            out = np.empty((recs.size, 5), dtype=np.int64)
            out[:, 0] = np.repeat(
                np.asarray([d for d, _ in rows], dtype=np.int64),
                [x.size for x in packed],
            )
            for i, name in enumerate(("coder", "code", "start", "end"), start=1):
                out[:, i] = recs[name]
            blocks.append(out)
    return np.concatenate(blocks) if blocks else np.zeros((0, 5), dtype=np.int64)


def _participants(project: Project, segs: np.ndarray, *, all_coded: bool) -> np.ndarray:
    """``(n, 2)`` array of (document, coder) that count, before the two-coder
    rule."""
    statuses = (
        [Assignment.Status.DONE, Assignment.Status.IN_PROGRESS]
        if all_coded
        else [Assignment.Status.DONE]
    )
    pairs = np.asarray(
        list(
            Assignment.objects.filter(
                document__project=project, status__in=statuses
            ).values_list("document_id", "coder_id")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    if all_coded and segs.size:
        pairs = np.concatenate([pairs, segs[:, :2]])
    return np.unique(pairs, axis=0) if pairs.size else pairs


def _keys(doc: np.ndarray, coder: np.ndarray, base: int) -> np.ndarray:
    return doc * base + coder


def agreement_rows(
    project: Project,
    *,
    all_coded: bool = False,
    with_consensus: bool = False,
    codebook_version: int | None = None,
) -> AgreementRows:
    """The project's reliability sample (see the module docstring) as engine
    input, with names for ids."""
    codes, parents, variables, extra = codebook_structure(project)
    segs = segment_columns(project)
    pairs = _participants(project, segs, all_coded=all_coded)
    docs, per_doc = (
        np.unique(pairs[:, 0], return_counts=True) if pairs.size else (pairs, pairs)
    )
    sample = docs[per_doc >= 2] if pairs.size else np.zeros(0, np.int64)
    pairs = pairs[np.isin(pairs[:, 0], sample)]
    # Whole documents go, never single segments: without its v1 segment a
    # coder would look as if they had not coded that passage, a disagreement
    # that nobody made.
    left_out, versions = codebook_versions_coded(project, pairs, codebook_version)
    if left_out.size:
        sample = sample[~np.isin(sample, left_out)]
        pairs = pairs[np.isin(pairs[:, 0], sample)]
    base = int(max(pairs[:, 1].max(initial=0), segs[:, 1].max(initial=0))) + 2
    keep = np.isin(
        _keys(segs[:, 0], segs[:, 1], base), _keys(pairs[:, 0], pairs[:, 1], base)
    )
    segs = segs[keep]

    info = {
        pk: (length, ext)
        for pk, length, ext in Document.objects.filter(project=project)
        .order_by("pk")
        .values_list("pk", "length", "external_id")
    }
    sample_ids = [int(d) for d in sample]
    lengths = {d: info[d][0] for d in sample_ids}
    coder_ids = sorted({int(c) for c in pairs[:, 1]})
    names = dict(
        get_user_model().objects.filter(pk__in=coder_ids).values_list("pk", "username")
    )
    coder_ids.sort(key=lambda pk: (names.get(pk, ""), pk))
    data = AgreementInput.from_arrays(
        document=segs[:, 0], coder=segs[:, 1], code=segs[:, 2],
        start=segs[:, 3], end=segs[:, 4],
        document_lengths=lengths,
        assignments=[tuple(p) for p in pairs.tolist()],
        code_parents=parents, codes=codes, coders=coder_ids, variables=variables,
    )  # fmt: skip
    consensus = None
    if with_consensus:
        consensus = _with_consensus(project, segs, pairs, lengths, data)
        names[CONSENSUS_ID] = CONSENSUS_NAME
    warnings = extra["warnings"]
    if len(versions) > 1:
        warnings = [*warnings, versions_warning(versions)]
    if left_out.size:
        warnings = [*warnings, left_out_warning(int(left_out.size), codebook_version)]
    return AgreementRows(
        rule="all_coded" if all_coded else "done",
        data=data,
        consensus=consensus,
        external_ids={d: info[d][1] for d in sample_ids},
        coder_names=names,
        code_labels=code_paths(project),
        code_colors=extra["colors"],
        warnings=warnings,
        codebook_versions=versions,
        codebook_version=codebook_version,
        left_out_other_versions=int(left_out.size),
    )


def codebook_versions_coded(
    project: Project, pairs: np.ndarray, number: int | None = None
) -> tuple[np.ndarray, dict[int | None, int]]:
    """The documents of ``pairs`` that the ``codebook_version=number`` option
    leaves out (a counted coder has a live segment there under another
    version, or before the first; none without ``number``), sorted, and how
    many live segments of the pairs on the other documents were coded under
    each version (None first, then ascending).

    One grouped query, and none before the project publishes a version (the
    option is refused then, see ``codebook_version_check``), so projects
    without versions pay nothing for it.
    """
    none = np.zeros(0, np.int64)
    if not pairs.size or project.codebook_version is None:
        return none, {}
    grouped = (
        Segment.objects.filter(document__project=project, deleted_at=None)
        .values("document_id", "coder_id", "codebook_version")
        .annotate(n=Count("pk"))
        .values_list("document_id", "coder_id", "codebook_version", "n")
        .order_by()
    )
    # The version as -1 when None (numbers start at 1): one integer array.
    found = np.asarray(
        [(d, c, -1 if v is None else v, n) for d, c, v, n in grouped], dtype=np.int64
    ).reshape(-1, 4)
    base = int(max(pairs[:, 1].max(), found[:, 1].max(initial=0))) + 2
    found = found[
        np.isin(
            _keys(found[:, 0], found[:, 1], base),
            _keys(pairs[:, 0], pairs[:, 1], base),
        )
    ]
    left_out = none
    if number is not None:
        left_out = np.unique(found[found[:, 2] != number, 0])
        found = found[~np.isin(found[:, 0], left_out)]
    # np.unique sorts: -1 (None) first, then the versions ascending.
    versions, where = np.unique(found[:, 2], return_inverse=True)
    totals = np.zeros(versions.size, np.int64)
    np.add.at(totals, where.ravel(), found[:, 3])
    return left_out, {
        (None if v == -1 else int(v)): int(n)
        for v, n in zip(versions.tolist(), totals.tolist(), strict=True)
    }


def versions_warning(versions: dict[int | None, int]) -> str:
    """The report's note when a sample mixes codebook versions."""
    parts = [
        f"{'before the first version' if v is None else f'v{v}'}: "
        f"{n:,} segment{'' if n == 1 else 's'}"
        for v, n in versions.items()
    ]
    return (
        "The sample was coded under more than one codebook version ("
        + "; ".join(parts)
        + "); the coefficients pool them. The codebook page lists what changed "
        "between versions."
    )


def left_out_warning(n: int, number: int | None) -> str:
    """The report's note on the documents the codebook version left out."""
    return (
        f"{n:,} document{'' if n == 1 else 's'} of the sample left out: a coder "
        f"counted there has segments coded under another codebook version than "
        f"v{number} (or before the first)."
    )


def _with_consensus(
    project: Project,
    segs: np.ndarray,
    pairs: np.ndarray,
    lengths: dict[int, int],
    data: AgreementInput,
) -> AgreementInput:
    """The sample's documents whose adjudication has started (or that have a
    consensus segment), with the consensus as coder ``CONSENSUS_ID``."""
    started = set(
        AdjudicationState.objects.filter(document__project=project).values_list(
            "document_id", flat=True
        )
    )
    rows = [
        (d, CONSENSUS_ID, code, start, end)
        for d, code, start, end, *_ in consensus_rows(project)
        if d in lengths
    ]
    docs = sorted((started & set(lengths)) | {r[0] for r in rows})
    in_docs = np.isin(segs[:, 0], docs)
    cons = np.asarray(rows, dtype=np.int64).reshape(-1, 5)
    allsegs = np.concatenate([segs[in_docs], cons])
    asg = [tuple(p) for p in pairs[np.isin(pairs[:, 0], docs)].tolist()]
    asg += [(d, CONSENSUS_ID) for d in docs]
    return AgreementInput.from_arrays(
        document=allsegs[:, 0], coder=allsegs[:, 1], code=allsegs[:, 2],
        start=allsegs[:, 3], end=allsegs[:, 4],
        document_lengths={d: lengths[d] for d in docs},
        assignments=asg,
        code_parents=dict(zip(data.codes, _parent_ids(data), strict=True)),
        codes=data.codes, coders=(*data.coders, CONSENSUS_ID),
        variables=data.variables,
    )  # fmt: skip


def _parent_ids(data: AgreementInput) -> list:
    return [None if p < 0 else data.codes[p] for p in data.parent.tolist()]


# -- fingerprint ------------------------------------------------------------------


def agreement_fingerprint(project: Project) -> str:
    """A short digest of everything a report depends on, from cheap queries.

    Segments (millions of rows) are not scanned: every change of a segment
    writes a history row (services, imports, adjudication), so the project's
    latest history row, one step down the ``(project, created_at)`` index,
    stands for all of them. Walking the segments' own indexes instead visited
    every newer project's segments too (seconds on a shared database). The
    smaller tables (documents, assignments, consensus segments, adjudication
    states, codes) are counted too, so a hard delete or a bulk status change
    shows even without a history row.
    """
    latest = (
        HistoryEvent.objects.filter(project=project)
        .order_by("-created_at", "-pk")
        .values_list("pk", "created_at")
        .first()
    )
    parts = [str(latest)]
    for qs, extra in (
        (Document.objects.filter(project=project), {}),
        (
            Assignment.objects.filter(document__project=project),
            {
                "done": Count("pk", filter=Q(status=Assignment.Status.DONE)),
                "started": Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
                "last": Max("updated_at"),
            },
        ),
        (
            ConsensusSegment.objects.filter(document__project=project),
            {
                "live": Count("pk", filter=Q(deleted_at__isnull=True)),
                "last": Max("updated_at"),
            },
        ),
        (
            AdjudicationState.objects.filter(document__project=project),
            {"last": Max("updated_at")},
        ),
        (Code.objects.filter(project=project), {"last": Max("updated_at")}),
    ):
        agg = qs.aggregate(n=Count("pk"), top=Max("pk"), **extra)
        parts.append(":".join(f"{k}={v}" for k, v in sorted(agg.items())))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


# -- one document, for the compare view -------------------------------------------


@dataclass
class CompareLane:
    coder_id: int
    name: str
    status: str  # the assignment's status, "" when unassigned, "consensus"
    in_sample: bool
    segments: list[tuple[int, int, int, int]]  # (segment id, code id, start, end)

    @property
    def status_label(self) -> str:
        if self.status == CONSENSUS_NAME:
            return "adjudicated consensus"
        if not self.status:
            return "not assigned"
        return str(Assignment.Status(self.status).label).lower()


def compare_lanes(
    document: Document, *, with_consensus: bool = True
) -> list[CompareLane]:
    """Every coder assigned to the document or with a live segment in it (by
    username), then the consensus lane when there is a consensus."""
    status = dict(
        Assignment.objects.filter(document=document).values_list("coder_id", "status")
    )
    segs: dict[int, list] = {}
    for pk, coder, code, start, end in (
        Segment.objects.filter(document=document, deleted_at__isnull=True)
        .order_by("start", "end", "pk")
        .values_list("pk", "coder_id", "code_id", "start", "end")
    ):
        segs.setdefault(coder, []).append((pk, code, start, end))
    ids = set(status) | set(segs)
    names = dict(
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    )
    done = [c for c, s in status.items() if s == Assignment.Status.DONE]
    lanes = [
        CompareLane(
            coder_id=c,
            name=names[c],
            status=status.get(c, ""),
            in_sample=c in done and len(done) >= 2,
            segments=segs.get(c, []),
        )
        for c in sorted(ids, key=lambda c: (names[c], c))
    ]
    if with_consensus:
        cons = list(
            ConsensusSegment.objects.filter(document=document, deleted_at__isnull=True)
            .order_by("start", "end", "pk")
            .values_list("pk", "code_id", "start", "end")
        )
        started = AdjudicationState.objects.filter(document=document).exists()
        if cons or started:
            lanes.append(
                CompareLane(CONSENSUS_ID, CONSENSUS_NAME, CONSENSUS_NAME, False, cons)
            )
    return lanes
