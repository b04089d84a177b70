"""Reads for adjudication: the aligned view of one document, the list of
documents to adjudicate, and the consensus as plain rows for exports and
agreement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from ..adjudication import Alignment, Group, Span, segments_align
from ..models import (
    AdjudicationState,
    Assignment,
    Code,
    ConsensusRejection,
    ConsensusSegment,
    Document,
    Project,
    Segment,
)

NOT_STARTED = "not_started"
STATUS_LABELS = {
    NOT_STARTED: "Not started",
    **dict(AdjudicationState.Status.choices),
}


@dataclass
class Lane:
    """One coder's row in the aligned view; ``number`` is the key that accepts
    their segment."""

    number: int
    coder: AbstractBaseUser
    assignment: Assignment | None

    @property
    def done(self) -> bool:
        return (
            self.assignment is not None
            and self.assignment.status == Assignment.Status.DONE
        )


@dataclass
class GroupView:
    """A group of the alignment with what the adjudicator decided about it."""

    group: Group
    number: int
    candidates: list[tuple[Lane, list[Segment]]]
    consensus: list[ConsensusSegment] = field(default_factory=list)
    rejection: ConsensusRejection | None = None
    stale: bool = False

    @property
    def key(self) -> str:
        return self.group.key

    @property
    def resolved(self) -> bool:
        return bool(self.consensus) or self.rejection is not None

    @property
    def segment_ids(self) -> tuple[int, ...]:
        return self.group.segment_ids

    @property
    def first(self) -> Segment:
        return next(segs[0] for _, segs in self.candidates if segs)


@dataclass
class AdjudicationData:
    document: Document
    state: AdjudicationState | None
    status: str
    lanes: list[Lane]
    alignment: Alignment
    segments: dict[int, Segment]
    codes: dict[int, Code]
    consensus: list[ConsensusSegment]
    deleted_consensus: list[ConsensusSegment]
    disagreements: list[GroupView]
    agreements: list[GroupView]
    last_change: datetime | None

    @property
    def open_count(self) -> int:
        return sum(not g.resolved for g in self.disagreements)

    @property
    def all_done(self) -> bool:
        return all(lane.done for lane in self.lanes)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def editable(self) -> bool:
        return self.state is not None and self.state.status != (
            AdjudicationState.Status.ADJUDICATED
        )


def status_effective(
    state: AdjudicationState | None, last_change: datetime | None
) -> str:
    """Where a document stands. An adjudicated document whose coders changed a
    segment afterwards needs another look: derived from timestamps, so it holds
    whatever path the change took (page, API, import)."""
    if state is None:
        return NOT_STARTED
    if (
        state.status == AdjudicationState.Status.ADJUDICATED
        and last_change is not None
        and state.adjudicated_at is not None
        and last_change > state.adjudicated_at
    ):
        return AdjudicationState.Status.NEEDS_REVIEW
    return state.status


def adjudication_lanes(document: Document) -> list[Lane]:
    """Everyone assigned to the document, plus anyone with a segment in it."""
    assignments = {
        a.coder_id: a
        for a in Assignment.objects.filter(document=document).select_related("coder")
    }
    users = {a.coder_id: a.coder for a in assignments.values()}
    extra = (
        Segment.objects.filter(document=document, deleted_at__isnull=True)
        .exclude(coder_id__in=users)
        .values_list("coder_id", flat=True)
        .distinct()
    )
    for user in get_user_model().objects.filter(pk__in=list(extra)):
        users[user.pk] = user
    ordered = sorted(users.values(), key=lambda u: (u.get_username(), u.pk))
    return [
        Lane(number=i, coder=u, assignment=assignments.get(u.pk))
        for i, u in enumerate(ordered, start=1)
    ]


def adjudication_data(
    document: Document, *, overlap: float | None = None
) -> AdjudicationData:
    """Everything the adjudication page shows for one document.

    ``overlap`` defaults to the threshold the adjudication was started with.
    """
    state = AdjudicationState.objects.filter(document=document).first()
    if overlap is None and state is not None:
        overlap = state.overlap
    lanes = adjudication_lanes(document)
    lane_of = {lane.coder.pk: lane for lane in lanes}
    segments = {
        s.pk: s
        for s in Segment.objects.filter(document=document, deleted_at__isnull=True)
    }
    codes = {c.pk: c for c in Code.objects.filter(project_id=document.project_id)}
    for s in segments.values():
        s.code = codes[s.code_id]
        s.coder = lane_of[s.coder_id].coder
    alignment = segments_align(
        (Span(s.pk, s.coder_id, s.code_id, s.start, s.end) for s in segments.values()),
        coders=[lane.coder.pk for lane in lanes],
        overlap=overlap,
    )
    all_consensus = list(
        ConsensusSegment.objects.filter(document=document).select_related("decided_by")
    )
    for c in all_consensus:
        c.code = codes[c.code_id]
    sources = defaultdict(list)
    through = ConsensusSegment.sources.through.objects.filter(
        consensussegment__document=document
    ).values_list("consensussegment_id", "segment_id")
    for cid, sid in through:
        sources[cid].append(sid)
    for c in all_consensus:
        c.source_ids = sources[c.pk]
        c.source_coders = sorted(
            {
                lane_of[segments[s].coder_id].number
                for s in c.source_ids
                if s in segments
            }
        )
    live = [c for c in all_consensus if c.deleted_at is None]
    by_source: dict[int, list[ConsensusSegment]] = defaultdict(list)
    for c in live:
        for sid in c.source_ids:
            by_source[sid].append(c)
    rejected: dict[int, ConsensusRejection] = {}
    rejections = ConsensusRejection.objects.filter(
        document=document, deleted_at__isnull=True
    ).prefetch_related("sources")
    for r in rejections:
        for s in r.sources.all():
            rejected[s.pk] = r

    def view(group: Group, number: int) -> GroupView:
        per_lane = [
            (lane, [segments[s.id] for s in group.by_coder(lane.coder.pk)])
            for lane in lanes
        ]
        consensus = list(
            {c.pk: c for sid in group.segment_ids for c in by_source[sid]}.values()
        )
        rejection = next(
            (rejected[s] for s in group.segment_ids if s in rejected), None
        )
        decided = [c.updated_at for c in consensus] + (
            [rejection.decided_at] if rejection else []
        )
        changed = max(segments[s].updated_at for s in group.segment_ids)
        return GroupView(
            group=group,
            number=number,
            candidates=per_lane,
            consensus=sorted(consensus, key=lambda c: (c.start, c.end, c.pk)),
            rejection=rejection,
            stale=bool(decided) and changed > max(decided),
        )

    last_change = Segment.objects.filter(document=document).aggregate(
        last=Max("updated_at")
    )["last"]
    return AdjudicationData(
        document=document,
        state=state,
        status=status_effective(state, last_change),
        lanes=lanes,
        alignment=alignment,
        segments=segments,
        codes=codes,
        consensus=live,
        deleted_consensus=[c for c in all_consensus if c.deleted_at is not None],
        disagreements=[view(g, i) for i, g in enumerate(alignment.disagreements, 1)],
        agreements=[view(g, i) for i, g in enumerate(alignment.agreements, 1)],
        last_change=last_change,
    )


@dataclass(frozen=True)
class Chunk:
    """A run of text between two segment boundaries, with what covers it:
    per lane (coders, then the consensus) the colours of the codes there."""

    start: int
    text: str
    lanes: tuple[tuple[str, ...], ...]
    groups: tuple[str, ...]
    open: bool
    labels: str


def adjudication_chunks(data: AdjudicationData) -> list[Chunk]:
    """Cut the text at every boundary of every lane, in one sweep."""
    text = data.document.text
    n_lanes = len(data.lanes) + 1
    lane_index = {lane.coder.pk: i for i, lane in enumerate(data.lanes)}
    items: list[tuple[int, int, int, Code, str]] = []
    for s in data.segments.values():
        items.append(
            (s.start, s.end, lane_index[s.coder_id], s.code, s.coder.get_username())
        )
    for c in data.consensus:
        items.append((c.start, c.end, n_lanes - 1, c.code, "consensus"))
    groups = [
        (g.group.start, g.group.end, g.key, not g.resolved) for g in data.disagreements
    ]
    cuts = {0, len(text)}
    for start, end, *_ in items:
        cuts.update((start, end))
    for start, end, *_ in groups:
        cuts.update((start, end))
    cuts = sorted(cuts)
    starts: dict[int, list] = defaultdict(list)
    for item in items:
        starts[item[0]].append(item)
    gstarts: dict[int, list] = defaultdict(list)
    for g in groups:
        gstarts[g[0]].append(g)
    active: list = []
    gactive: list = []
    chunks = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        active = [i for i in active if i[1] > a] + starts.get(a, [])
        gactive = [g for g in gactive if g[1] > a] + gstarts.get(a, [])
        lanes: list[list[str]] = [[] for _ in range(n_lanes)]
        labels = []
        for _, _, lane, code, who in sorted(active, key=lambda i: (i[2], i[0], -i[1])):
            lanes[lane].append(code.color)
            labels.append(f"{who}: {code.name}")
        chunks.append(
            Chunk(
                start=a,
                text=text[a:b],
                lanes=tuple(tuple(colours) for colours in lanes),
                groups=tuple(g[2] for g in gactive),
                open=any(g[3] for g in gactive),
                labels="; ".join(labels),
            )
        )
    return chunks


def adjudication_documents(
    project: Project, *, status: str | None = None
) -> QuerySet[Document]:
    """Documents with at least two coders, with counts for the list page;
    ``status`` filters by the effective status (see ``status_effective``)."""
    qs = project.documents.all()
    if status is not None:
        changed = Exists(
            Segment.objects.filter(
                document=OuterRef("pk"),
                updated_at__gt=OuterRef("adjudication__adjudicated_at"),
            )
        )
        done = AdjudicationState.Status.ADJUDICATED
        qs = {
            NOT_STARTED: qs.filter(adjudication__isnull=True),
            AdjudicationState.Status.OPEN: qs.filter(adjudication__status="open"),
            done: qs.filter(adjudication__status=done).exclude(changed),
            AdjudicationState.Status.NEEDS_REVIEW: qs.filter(
                Q(
                    adjudication__status=done,
                )
                & changed
                | Q(adjudication__status="needs_review")
            ),
        }[status]
    return (
        qs.annotate(
            n_coders=Count("assignments", distinct=True),
            n_done=Count(
                "assignments",
                filter=Q(assignments__status=Assignment.Status.DONE),
                distinct=True,
            ),
        )
        .filter(n_coders__gte=2)
        .select_related("adjudication")
        .defer("text", "metadata")
        .order_by("id")
    )


def adjudication_summaries(documents: list[Document]) -> dict[int, dict]:
    """Per document of one page of the list: its effective status, open
    disagreements and consensus size, in a few queries for the whole page."""
    ids = [d.pk for d in documents]
    last = dict(
        Segment.objects.filter(document_id__in=ids)
        .values("document_id")
        .annotate(last=Max("updated_at"))
        .values_list("document_id", "last")
    )
    consensus = dict(
        ConsensusSegment.objects.filter(document_id__in=ids, deleted_at__isnull=True)
        .values("document_id")
        .annotate(n=Count("id"))
        .values_list("document_id", "n")
    )
    coders: dict[int, set[int]] = defaultdict(set)
    for d, c in Assignment.objects.filter(document_id__in=ids).values_list(
        "document_id", "coder_id"
    ):
        coders[d].add(c)
    spans: dict[int, list[Span]] = defaultdict(list)
    for pk, d, c, code, start, end in Segment.objects.filter(
        document_id__in=ids, deleted_at__isnull=True
    ).values_list("pk", "document_id", "coder_id", "code_id", "start", "end"):
        spans[d].append(Span(pk, c, code, start, end))
        coders[d].add(c)
    settled = set(
        ConsensusSegment.sources.through.objects.filter(
            consensussegment__document_id__in=ids,
            consensussegment__deleted_at__isnull=True,
        ).values_list("segment_id", flat=True)
    ) | set(
        ConsensusRejection.sources.through.objects.filter(
            consensusrejection__document_id__in=ids,
            consensusrejection__deleted_at__isnull=True,
        ).values_list("segment_id", flat=True)
    )
    out = {}
    for doc in documents:
        state = getattr(doc, "adjudication", None)
        alignment = segments_align(
            spans[doc.pk],
            coders=sorted(coders[doc.pk]),
            overlap=state.overlap if state else None,
        )
        open_ = sum(
            not settled.intersection(g.segment_ids) for g in alignment.disagreements
        )
        out[doc.pk] = {
            "status": status_effective(state, last.get(doc.pk)),
            "disagreements": len(alignment.disagreements),
            "open": open_,
            "consensus": consensus.get(doc.pk, 0),
        }
    return out


def consensus_rows(
    project: Project, documents: Iterable[int] | None = None
) -> Iterator[tuple]:
    """The live consensus of a project as plain tuples, in document and text
    order, for exports (the coder ``consensus``) and agreement (coder vs
    consensus)::

        (document_id, code_id, start, end, quote, memo, decided_by_username,
         decided_at, decision, note, source_segment_ids)

    ``decided_by_username`` is "" when the user was removed;
    ``source_segment_ids`` is a tuple of the coders' segment ids it came from
    (empty for a segment the adjudicator added). Streams in batches, so memory
    stays flat on a large project.
    """
    qs = ConsensusSegment.objects.filter(
        document__project=project, deleted_at__isnull=True
    ).order_by("document_id", "start", "end", "id")
    if documents is not None:
        qs = qs.filter(document_id__in=list(documents))
    batch: list[tuple] = []

    def flush(batch: list[tuple]) -> Iterator[tuple]:
        sources: dict[int, list[int]] = defaultdict(list)
        for cid, sid in (
            ConsensusSegment.sources.through.objects.filter(
                consensussegment_id__in=[row[0] for row in batch]
            )
            .order_by("segment_id")
            .values_list("consensussegment_id", "segment_id")
        ):
            sources[cid].append(sid)
        for row in batch:
            yield (*row[1:], tuple(sources[row[0]]))

    for row in qs.values_list(
        "id", "document_id", "code_id", "start", "end", "quote", "memo",
        "decided_by__username", "decided_at", "decision", "note",
    ).iterator(chunk_size=2000):  # fmt: skip
        row = (*row[:7], row[7] or "", *row[8:])
        batch.append(row)
        if len(batch) >= 2000:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)
