"""Reads for the exports: the database flattened into the plain rows of
``exporters/rows.py``.

Large reads are iterators over ``values_list(...).iterator()`` (a server-side
cursor on PostgreSQL, chunked fetches on SQLite), ordered so the exporters can
merge them as streams: memory stays flat whatever the number of segments.
Small things (codes, coders, document heads without their text) are lists.
"""

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from ..exporters.names import code_variables
from ..exporters.rows import (
    CONSENSUS_KEY,
    CONSENSUS_NAME,
    NO_VERSION,
    CodebookVersionInfo,
    CodeInfo,
    CoderInfo,
    CountRow,
    CoverageRow,
    DocumentInfo,
    ExportContext,
    SegmentColumns,
    SegmentRow,
    codebook_versions,
)
from ..models import (
    AdjudicationState,
    Assignment,
    Code,
    CodebookVersion,
    ConsensusSegment,
    Document,
    Membership,
    Project,
    Segment,
)
from .cached import fingerprint_cached
from .tallies import ProjectTallies

CHUNK = 2000
# Sorts the consensus after every real coder within a document.
_LAST = 2**62


@dataclass(frozen=True)
class ExportFilter:
    """Which coding goes into an export.

    ``coder_ids`` None means every coder; ``consensus`` adds the adjudicated
    segments as the coder "consensus". ``since``/``until`` are inclusive UTC
    dates on when a segment was made (decided, for the consensus).
    """

    coder_ids: tuple[int, ...] | None = None
    consensus: bool = True
    since: dt.date | None = None
    until: dt.date | None = None

    def coder_keys(self, all_coders: Iterable[CoderInfo]) -> list[int]:
        keys = [
            c.key
            for c in all_coders
            if not c.is_consensus
            and (self.coder_ids is None or c.key in self.coder_ids)
        ]
        return keys + ([CONSENSUS_KEY] if self.consensus else [])

    def time_q(self, field: str) -> Q:
        q = Q()
        if self.since is not None:
            start = dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC)
            q &= Q(**{f"{field}__gte": start})
        if self.until is not None:
            stop = dt.datetime.combine(
                self.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
            )
            q &= Q(**{f"{field}__lt": stop})
        return q


def _rank(coder: int) -> int:
    return _LAST if coder == CONSENSUS_KEY else coder


def _segments(
    project: Project, filt: ExportFilter
) -> tuple[QuerySet[Segment] | None, QuerySet[ConsensusSegment] | None]:
    """The live segments the filter selects: the coders' (None when it selects
    no coder) and the consensus (None when it leaves the consensus out)."""
    coded = consensus = None
    if filt.coder_ids is None or filt.coder_ids:
        coded = Segment.objects.filter(
            filt.time_q("created_at"), document__project=project,
            deleted_at__isnull=True,
        )  # fmt: skip
        if filt.coder_ids is not None:
            coded = coded.filter(coder_id__in=filt.coder_ids)
    if filt.consensus:
        consensus = ConsensusSegment.objects.filter(
            filt.time_q("decided_at"), document__project=project,
            deleted_at__isnull=True,
        )  # fmt: skip
    return coded, consensus


def export_codes(project: Project) -> list[CodeInfo]:
    """The codebook in order: depth first, siblings by (order, id)."""
    fields = (
        "id", "name", "parent_id", "order", "description", "definition",
        "when_to_use", "when_not_to_use", "example", "color", "key", "retired",
        "level", "value",
    )  # fmt: skip
    rows = [dict(zip(fields, r, strict=True)) for r in
            Code.objects.filter(project=project).values_list(*fields)]  # fmt: skip
    children: dict[int | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: (r["order"], r["id"]))
    ordered: list[tuple[dict, str, int]] = []

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        for row in children.get(parent_id, []):
            path = f"{prefix}/{row['name']}" if prefix else row["name"]
            ordered.append((row, path, depth))
            walk(row["id"], path, depth + 1)

    walk(None, "", 0)
    stems = code_variables((r["id"], r["name"], path) for r, path, _ in ordered)
    return [
        CodeInfo(
            id=r["id"],
            name=r["name"],
            path=path,
            parent_id=r["parent_id"],
            depth=depth,
            position=i,
            variable=stems[r["id"]],
            description=r["description"],
            definition=r["definition"],
            when_to_use=r["when_to_use"],
            when_not_to_use=r["when_not_to_use"],
            example=r["example"],
            color=r["color"],
            key=r["key"],
            retired=r["retired"],
            level=r["level"],
            value=r["value"],
        )  # fmt: skip
        for i, (r, path, depth) in enumerate(ordered)
    ]


def export_coders(
    project: Project, tallies: ProjectTallies | None = None
) -> list[CoderInfo]:
    """Everyone who codes in the project (coder members, anyone assigned or
    with segments), by username, then the consensus. ``tallies`` (the
    project's cached counts) saves reading the assignments and segments.

    ``order_by()`` clears the default ordering (start, end, id), which would
    join the ``SELECT DISTINCT`` and return one row per segment."""
    ids = set(
        Membership.objects.filter(project=project, role=Membership.Role.CODER)
        .values_list("user_id", flat=True)
    )  # fmt: skip
    if tallies is not None:
        ids |= set(tallies.assignments) | tallies.segment_coders
    else:
        ids |= set(
            Assignment.objects.filter(document__project=project)
            .order_by().values_list("coder_id", flat=True).distinct()
        )  # fmt: skip
        ids |= set(
            Segment.objects.filter(document__project=project)
            .order_by().values_list("coder_id", flat=True).distinct()
        )  # fmt: skip
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    coders = sorted((CoderInfo(pk, name) for pk, name in users), key=lambda c: c.name)
    return [*coders, CoderInfo(CONSENSUS_KEY, CONSENSUS_NAME)]


def export_documents(project: Project) -> dict[int, DocumentInfo]:
    """Document heads (no text) by id, in id order."""
    fields = (
        "id", "external_id", "title", "source", "url", "published", "length",
        "checksum", "created_at", "metadata",
    )  # fmt: skip
    qs = Document.objects.filter(project=project).order_by("id").values_list(*fields)
    return {
        r[0]: DocumentInfo(*r[:8], created=r[8], metadata=r[9] or {})
        for r in qs.iterator(chunk_size=CHUNK)
    }


def document_texts(project: Project) -> Iterator[tuple[int, str]]:
    """(id, text) of every document in id order, one at a time."""
    qs = Document.objects.filter(project=project).order_by("id")
    return qs.values_list("id", "text").iterator(chunk_size=200)


def segment_rows(project: Project, filt: ExportFilter) -> Iterator[SegmentRow]:
    """Live segments by document, then coder (the consensus last), then span."""
    streams = []
    coded, consensus = _segments(project, filt)
    if coded is not None:
        qs = coded.order_by("document_id", "coder_id", "start", "end", "id").values_list(
            "id", "document_id", "coder_id", "code_id", "start", "end", "quote",
            "memo", "created_at", "updated_at", "codebook_version",
        )  # fmt: skip
        streams.append(SegmentRow._make(r) for r in qs.iterator(chunk_size=CHUNK))
    if consensus is not None:
        qs = consensus.order_by("document_id", "start", "end", "id").values_list(
            "id", "document_id", "code_id", "start", "end", "quote", "memo",
            "decided_at", "updated_at", "codebook_version",
        )  # fmt: skip
        streams.append(
            SegmentRow(r[0], r[1], CONSENSUS_KEY, *r[2:])
            for r in qs.iterator(chunk_size=CHUNK)
        )
    return heapq.merge(*streams, key=lambda s: (s.document_id, _rank(s.coder)))


def count_rows(project: Project, filt: ExportFilter) -> Iterator[CountRow]:
    """Segments per (document, coder, code), ordered by document then coder."""
    streams = []
    coded, consensus = _segments(project, filt)
    if coded is not None:
        qs = (
            coded.values_list("document_id", "coder_id", "code_id")
            .annotate(n=Count("id"))
            .order_by("document_id", "coder_id", "code_id")
        )
        streams.append(CountRow._make(r) for r in qs.iterator(chunk_size=CHUNK))
    if consensus is not None:
        qs = (
            consensus.values_list("document_id", "code_id")
            .annotate(n=Count("id"))
            .order_by("document_id", "code_id")
        )
        streams.append(
            CountRow(d, CONSENSUS_KEY, c, n)
            for d, c, n in qs.iterator(chunk_size=CHUNK)
        )
    return heapq.merge(*streams, key=lambda r: (r.document_id, _rank(r.coder)))


def selected_assignments(project: Project, filt: ExportFilter):
    """The assignments of the coders ``filt`` selects (None when it selects
    none), by document, then coder."""
    if filt.coder_ids is not None and not filt.coder_ids:
        return None
    qs = Assignment.objects.filter(document__project=project)
    if filt.coder_ids is not None:
        qs = qs.filter(coder_id__in=filt.coder_ids)
    return qs.order_by("document_id", "coder_id")


def coverage_rows(project: Project, filt: ExportFilter) -> Iterator[CoverageRow]:
    """(document, coder, status) for every assignment of a selected coder and,
    with the consensus, every document with an adjudication or consensus
    segments; ordered like :func:`count_rows`."""
    streams = []
    if (assigned := selected_assignments(project, filt)) is not None:
        qs = assigned.values_list("document_id", "coder_id", "status")
        streams.append(CoverageRow._make(r) for r in qs.iterator(chunk_size=CHUNK))
    if filt.consensus:
        states = dict(
            AdjudicationState.objects.filter(document__project=project).values_list(
                "document_id", "status"
            )
        )
        with_segments = set(
            ConsensusSegment.objects.filter(
                document__project=project, deleted_at__isnull=True
            ).values_list("document_id", flat=True)
        )
        docs = sorted(with_segments | set(states))
        streams.append(
            CoverageRow(d, CONSENSUS_KEY, states.get(d, AdjudicationState.Status.OPEN))
            for d in docs
        )
    return heapq.merge(*streams, key=lambda r: (r.document_id, _rank(r.coder)))


def code_coder_counts(
    project: Project, filt: ExportFilter
) -> dict[tuple[int, int], int]:
    """Segments per (code id, coder key): the codebook's counts per coder."""
    counts: dict[tuple[int, int], int] = {}
    coded, consensus = _segments(project, filt)
    if coded is not None:
        for code, coder, n in (
            coded.values_list("code_id", "coder_id").annotate(n=Count("id")).order_by()
        ):
            counts[(code, coder)] = n
    if consensus is not None:
        per_code = consensus.values_list("code_id").annotate(n=Count("id")).order_by()
        for code, n in per_code:
            counts[(code, CONSENSUS_KEY)] = n
    return counts


def filter_text(filt: ExportFilter, coders: Iterable[CoderInfo]) -> str:
    """The filter in words, for READMEs and the codebook appendix."""
    names = [c.name for c in coders if not c.is_consensus]
    who = "all coders" if filt.coder_ids is None else (", ".join(names) or "no coder")
    if filt.consensus:
        who = "the consensus" if filt.coder_ids == () else f"{who} and the consensus"
    if filt.since or filt.until:
        who += (
            f", segments made from {filt.since or 'the start'} "
            f"to {filt.until or 'today'} (UTC dates, inclusive)"
        )
    return who


def export_context(
    project: Project,
    filt: ExportFilter,
    *,
    exported_at: dt.datetime,
    software_version: str,
) -> ExportContext:
    """The small part of an export: codebook, coders, document heads."""
    all_coders = export_coders(project)
    keys = set(filt.coder_keys(all_coders))
    coders = [c for c in all_coders if c.key in keys]
    return ExportContext(
        project_name=project.name,
        project_slug=project.slug,
        project_description=project.description,
        exported_at=exported_at,
        software_version=software_version,
        codes=export_codes(project),
        coders=coders,
        all_coders=all_coders,
        documents=export_documents(project),
        filter_text=filter_text(filt, coders),
        reliability_sample=reliability_sample(project),
        codebook_versions=export_codebook_versions(project),
        codebook_version=project.codebook_version,
    )


def export_codebook_versions(project: Project) -> list[CodebookVersionInfo]:
    """The project's published codebook versions with their snapshots,
    oldest first (a few, each the size of the codebook)."""
    fields = ("number", "created_at", "note", "checksum", "snapshot")
    qs = CodebookVersion.objects.filter(project=project).order_by("number")
    return [CodebookVersionInfo(*row) for row in qs.values_list(*fields)]


def reliability_sample(project: Project) -> dict | None:
    """How the project's reliability sample was last drawn, for the bundle's
    manifest and README (a methods section reports it)."""
    if project.reliability_seed is None:
        return None
    return {
        "share": project.reliability_share,
        "coders_per_document": project.reliability_coders,
        "seed": project.reliability_seed,
        "stratified_by": project.reliability_stratify,
    }


def export_segment_count(
    project: Project, filt: ExportFilter, tallies: ProjectTallies | None = None
) -> int:
    """How many segments (consensus included) an export with this filter
    holds. With ``tallies`` (the project's cached counts) the coders' segments
    are not counted again: they are summed from it, or, for a date range,
    counted once per range and state of the data."""
    coded, consensus = _segments(project, filt)
    n = consensus.count() if consensus is not None else 0
    if coded is None:
        return n
    if tallies is None:
        return n + coded.count()
    if filt.since is None and filt.until is None:
        ids = tallies.by_coder if filt.coder_ids is None else filt.coder_ids
        return n + sum(tallies.by_coder.get(c, 0) for c in ids)
    who = "all" if filt.coder_ids is None else ",".join(map(str, filt.coder_ids))
    return n + fingerprint_cached(
        project,
        f"export-count:v1:{who}:{filt.since}:{filt.until}",
        lambda _: coded.count(),
        fingerprint=tallies.fingerprint,
    )


# ------------------------------------------------- segments.csv by COPY (PostgreSQL)

# Document by document, like _SEGMENT_COLUMNS_SQL below: sorting the whole
# project's wide rows at once spilled to disk on large projects. Times are
# cast to text under DateStyle ISO (set by segment_csv_copy): a third of the
# cost of to_char.
_SEGMENTS_COPY_SQL = """
COPY (
  WITH codes(id, name, path) AS (
    SELECT * FROM unnest({code_ids}::bigint[], {code_names}::text[],
                         {code_paths}::text[])
  ), coders(key, name) AS (
    SELECT * FROM unnest({coder_keys}::bigint[], {coder_names}::text[])
  )
  SELECT {slug}, s.id, d.id, NULLIF(d.external_id, ''), NULLIF(d.title, ''),
         NULLIF(d.source, ''), to_char(d.published, 'YYYY-MM-DD'),
         NULLIF(w.name, ''), NULLIF(c.name, ''), NULLIF(c.path, ''), c.id,
         s.codebook_version,
         s.start, s."end", NULLIF(s.quote, ''), NULLIF(s.memo, ''),
         replace(date_trunc('second', s.created AT TIME ZONE 'UTC')::text, ' ', 'T') || 'Z',
         replace(date_trunc('second', s.updated AT TIME ZONE 'UTC')::text, ' ', 'T') || 'Z'
  FROM {document} d CROSS JOIN LATERAL ({spans}) s
  JOIN codes c ON c.id = s.code_id
  JOIN coders w ON w.key = s.coder
  WHERE d.project_id = {project} AND d.id > {after} AND d.id <= {upto}
  ORDER BY d.id, s.rank, s.start, s."end", s.id
) TO STDOUT WITH (FORMAT csv)
"""

_SPANS_SQL = """
SELECT x.id, x.document_id, {coder} AS coder, {rank}::bigint AS rank, x.code_id,
       x.start, x."end", x.quote, x.memo, x.{created} AS created,
       x.updated_at AS updated, x.codebook_version
FROM {table} x WHERE x.document_id = d.id AND x.deleted_at IS NULL{where}
"""


def _time_sql(filt: ExportFilter, column: str, params: dict, psql) -> object:
    parts = []
    if filt.since is not None:
        params["since"] = dt.datetime.combine(filt.since, dt.time(), tzinfo=dt.UTC)
        parts.append(psql.SQL(" AND x.{} >= {}").format(
            psql.Identifier(column), psql.Placeholder("since")))  # fmt: skip
    if filt.until is not None:
        params["until"] = dt.datetime.combine(
            filt.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
        )
        parts.append(psql.SQL(" AND x.{} < {}").format(
            psql.Identifier(column), psql.Placeholder("until")))  # fmt: skip
    return psql.SQL("").join(parts)


def _spans_sql(project: Project, filt: ExportFilter, params: dict, psql) -> list:
    """One ``_SPANS_SQL`` per selected stream (coders', consensus): the live
    segments of the document ``d`` of an enclosing ``CROSS JOIN LATERAL``
    (so both exports read document by document, never sorting the project);
    adds their parameters to ``params``."""
    params["project"] = project.pk
    spans = []
    if filt.coder_ids is None or filt.coder_ids:
        where = _time_sql(filt, "created_at", params, psql)
        if filt.coder_ids is not None:
            params["coder_ids"] = list(filt.coder_ids)
            where = psql.SQL("{} AND x.coder_id = ANY({}::bigint[])").format(
                where, psql.Placeholder("coder_ids")
            )
        spans.append(psql.SQL(_SPANS_SQL).format(
            coder=psql.SQL("x.coder_id"), rank=psql.SQL("x.coder_id"),
            created=psql.Identifier("created_at"),
            table=psql.Identifier(Segment._meta.db_table),
            where=where,
        ))  # fmt: skip
    if filt.consensus:
        params["consensus_key"] = CONSENSUS_KEY
        params["last"] = _LAST
        spans.append(psql.SQL(_SPANS_SQL).format(
            coder=psql.SQL("{}::bigint").format(psql.Placeholder("consensus_key")),
            rank=psql.Placeholder("last"), created=psql.Identifier("decided_at"),
            table=psql.Identifier(ConsensusSegment._meta.db_table),
            where=_time_sql(filt, "decided_at", params, psql),
        ))  # fmt: skip
    return spans


def segments_copy_sql(
    project: Project,
    filt: ExportFilter,
    ctx: ExportContext,
    documents: tuple[int, int] = (0, 2**63 - 1),
):
    """The ``COPY ... TO STDOUT`` statement and its parameters that write the
    rows of segments.csv (no header) in :func:`segment_rows` order, with the
    cells of ``csv_export.segments_csv``, for the documents whose id is in
    ``(after, upto]``; None when the filter selects nothing.

    Empty strings become NULL so that PostgreSQL writes them as empty cells
    (it quotes ``""`` otherwise); code names and paths and coder names come
    from ``ctx`` so they are exactly the Python writer's.
    """
    from psycopg import sql as psql

    params: dict = {
        "slug": ctx.project_slug,
        "code_ids": [c.id for c in ctx.codes],
        "code_names": [c.name for c in ctx.codes],
        "code_paths": [c.path for c in ctx.codes],
        "coder_keys": [c.key for c in ctx.all_coders],
        "coder_names": [c.name for c in ctx.all_coders],
        "after": documents[0],
        "upto": documents[1],
    }
    spans = _spans_sql(project, filt, params, psql)
    if not spans:
        return None
    statement = psql.SQL(_SEGMENTS_COPY_SQL).format(
        spans=psql.SQL(" UNION ALL ").join(spans),
        document=psql.Identifier(Document._meta.db_table),
        **{k: psql.Placeholder(k) for k in (
            "slug", "code_ids", "code_names", "code_paths", "coder_keys",
            "coder_names", "project", "after", "upto",
        )},
    )  # fmt: skip
    return statement, params


# ------------------------------------------ segments in columns (PostgreSQL)

# Rows per chunk: 1,000-2,000 were the fastest on bench-large (larger chunks
# fall out of the CPU caches); memory stays flat whatever the project.
COLUMN_CHUNK = 1000
# PostgreSQL's binary timestamptz: microseconds since 2000-01-01 UTC.
_PG_EPOCH_US = 946_684_800_000_000

# Document by document (an index scan on (document_id, coder_id) and a
# small sort per document) instead of sorting every segment of the project
# at once, which spills to disk on large projects. The times are sent as
# they are stored: converting them in SQL took half the query's time.
_SEGMENT_COLUMNS_SQL = """
SELECT s.id, s.document_id, s.coder, s.code_id, s.start, s."end", s.quote,
       s.memo, s.created, s.updated, COALESCE(s.codebook_version, {no_version})
FROM {document} d CROSS JOIN LATERAL ({spans}) s
WHERE d.project_id = {project}
ORDER BY d.id, s.rank, s.start, s."end", s.id
"""


def segment_column_chunks(
    project: Project, filt: ExportFilter, size: int = COLUMN_CHUNK
) -> Iterator[SegmentColumns]:
    """The rows of :func:`segment_rows` as chunks of columns, read from
    PostgreSQL ``size`` rows at a time through a server-side cursor in binary:
    numbers arrive as ints, text as its UTF-8 bytes and times as their 8
    bytes (decoded a chunk at a time by numpy), so no str or datetime is
    made per cell. Close the iterator when leaving it early: it holds a
    transaction open."""
    from django.db import connection, transaction
    from psycopg import sql as psql
    from psycopg.types.string import ByteaBinaryLoader

    params: dict = {}
    spans = _spans_sql(project, filt, params, psql)
    if not spans:
        return
    statement = psql.SQL(_SEGMENT_COLUMNS_SQL).format(
        document=psql.Identifier(Document._meta.db_table),
        spans=psql.SQL(" UNION ALL ").join(spans),
        project=psql.Placeholder("project"),
        no_version=psql.Literal(NO_VERSION),
    )
    # A server-side cursor without WITH HOLD lives in a transaction.
    with (
        transaction.atomic(),
        connection.connection.cursor(name="segment_columns", binary=True) as cursor,
    ):
        for name in ("text", "timestamptz"):
            cursor.adapters.register_loader(name, ByteaBinaryLoader)
        cursor.execute(statement, params)
        while rows := cursor.fetchmany(size):
            cells = list(zip(*rows, strict=True))
            numbers = [np.array(c, dtype=np.int64) for c in cells[:6]]
            yield SegmentColumns(
                *numbers, cells[6], cells[7], _unix_ms(cells[8]), _unix_ms(cells[9]),
                codebook_versions(np.array(cells[10], dtype=np.int64)),
            )  # fmt: skip


def _unix_ms(stamps: Iterable[bytes]) -> np.ndarray:
    """Binary timestamptz values as milliseconds since 1970, rounded down
    like ``rows.unix_ms``."""
    micros = np.frombuffer(b"".join(stamps), ">i8").astype(np.int64)
    return (micros + _PG_EPOCH_US) // 1000
