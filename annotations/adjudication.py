"""Aligning coders' segments of one document: what they agree on, and where not.

Pure Python, no Django: plain ``Span`` tuples in, an ``Alignment`` out, so the
rule can be read, tested and reused (the ``adjudicate`` command, the
adjudication page) without a database.

The rule
--------
1. **Exact agreement**: every coder of the document applied the same code to the
   same ``[start, end)``. All segments with that code and span form one agreed
   group.
2. **Overlap agreement** (only with ``overlap``): one segment from each coder,
   all of the same code, every pair overlapping by at least ``overlap`` of their
   union (intersection over union, as in span-level F1 with a threshold). The
   consensus span is the medoid: the coder's span closest to all the others.
3. Everything else is a **disagreement**. Left-over segments of different
   coders are linked when they overlap and either have the same code (a
   boundary disagreement) or cover mostly the same text (intersection over
   union of at least ``LINK_IOU``: a code disagreement); each connected
   component is one disagreement, with its segments as the candidates.

Kinds of disagreement: ``missing`` (one code and one span, but not every coder
coded it), ``boundary`` (one code, several spans), ``code`` (one span, several
codes) and ``mixed``.

>>> a = Span(id=1, coder=10, code=5, start=0, end=7)
>>> b = Span(id=2, coder=11, code=5, start=0, end=7)
>>> c = Span(id=3, coder=10, code=6, start=20, end=30)
>>> d = Span(id=4, coder=11, code=6, start=22, end=30)
>>> result = segments_align([a, b, c, d], coders=[10, 11])
>>> [(g.code, g.start, g.end) for g in result.agreements]
[(5, 0, 7)]
>>> [(g.kind, [s.id for s in g.segments]) for g in result.disagreements]
[('boundary', [3, 4])]
>>> [g.kind for g in segments_align([a, b, c, d], coders=[10, 11], overlap=0.8).agreements]
['agreement', 'agreement']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Segments of different codes count as competing readings of one passage when
# they share at least half of their union.
LINK_IOU = 0.5


@dataclass(frozen=True, slots=True)
class Span:
    """One coder's segment: ``[start, end)`` in code points."""

    id: int
    coder: int
    code: int
    start: int
    end: int


@dataclass(frozen=True)
class Group:
    """Segments that belong together: an agreement or one disagreement.

    ``code``, ``start`` and ``end`` are the agreed code and span of an
    agreement; for a disagreement ``code`` is None and the span covers all
    candidates.
    """

    kind: str
    start: int
    end: int
    segments: tuple[Span, ...]
    code: int | None = None

    @property
    def key(self) -> str:
        """A stable name for the group: the smallest segment id in it."""
        return f"g{min(s.id for s in self.segments)}"

    @property
    def agreed(self) -> bool:
        return self.kind == "agreement"

    @property
    def segment_ids(self) -> tuple[int, ...]:
        return tuple(s.id for s in self.segments)

    @property
    def coders(self) -> frozenset[int]:
        return frozenset(s.coder for s in self.segments)

    def by_coder(self, coder: int) -> tuple[Span, ...]:
        return tuple(s for s in self.segments if s.coder == coder)


@dataclass(frozen=True)
class Alignment:
    coders: tuple[int, ...]
    overlap: float | None
    agreements: tuple[Group, ...]
    disagreements: tuple[Group, ...]

    @property
    def groups(self) -> tuple[Group, ...]:
        """Agreements and disagreements in text order."""
        return tuple(
            sorted(
                self.agreements + self.disagreements,
                key=lambda g: (g.start, g.end, g.key),
            )
        )


def iou(a: Span, b: Span) -> float:
    """Overlap as a share of the union of two spans (0 when they do not overlap).

    >>> iou(Span(1, 1, 1, 0, 10), Span(2, 2, 1, 2, 10))
    0.8
    """
    inter = min(a.end, b.end) - max(a.start, b.start)
    if inter <= 0:
        return 0.0
    return inter / (max(a.end, b.end) - min(a.start, b.start))


def segments_align(
    segments: Iterable[Span], *, coders: Sequence[int], overlap: float | None = None
) -> Alignment:
    """Split one document's segments into agreements and disagreements.

    ``coders`` are everyone whose coding counts, including coders without a
    segment: a span that some coders coded and others did not is a
    disagreement. ``overlap`` (0 < overlap <= 1) also accepts same-code spans
    overlapping by that share of their union; None means the exact span only.
    """
    if overlap is not None and not 0 < overlap <= 1:
        raise ValueError("overlap must be greater than 0 and at most 1")
    coders = tuple(dict.fromkeys(coders))
    rank = {c: i for i, c in enumerate(coders)}
    segments = sorted(
        segments, key=lambda s: (s.start, s.end, rank.get(s.coder, -1), s.id)
    )
    unknown = {s.coder for s in segments} - set(rank)
    if unknown:
        raise ValueError(f"segments of coders not listed: {sorted(unknown)}")
    everyone = frozenset(coders)

    agreements: list[Group] = []
    by_key: dict[tuple[int, int, int], list[Span]] = defaultdict(list)
    for s in segments:
        by_key[(s.code, s.start, s.end)].append(s)
    used: set[int] = set()
    for (code, start, end), group in by_key.items():
        if everyone and {s.coder for s in group} == everyone:
            agreements.append(Group("agreement", start, end, tuple(group), code))
            used.update(s.id for s in group)

    left = [s for s in segments if s.id not in used]
    if overlap is not None and len(coders) > 1:
        matched = _overlap_agreements(left, coders, overlap)
        agreements.extend(matched)
        used.update(s.id for g in matched for s in g.segments)
        left = [s for s in segments if s.id not in used]

    disagreements = [_disagreement(c) for c in _components(left)]
    order = lambda g: (g.start, g.end, g.key)  # noqa: E731
    return Alignment(
        coders=coders,
        overlap=overlap,
        agreements=tuple(sorted(agreements, key=order)),
        disagreements=tuple(sorted(disagreements, key=order)),
    )


def _overlap_agreements(
    left: list[Span], coders: tuple[int, ...], overlap: float
) -> list[Group]:
    by_code: dict[int, list[Span]] = defaultdict(list)
    for s in left:
        by_code[s.code].append(s)
    found = []
    for code, spans in by_code.items():
        taken: set[int] = set()
        for seed in spans:
            if seed.id in taken:
                continue
            chosen = [seed]
            for coder in coders:
                if coder == seed.coder:
                    continue
                best = None
                for t in spans:
                    if t.coder != coder or t.id in taken:
                        continue
                    if t.start >= seed.end:
                        break  # sorted by start: nothing further overlaps
                    if all(iou(t, c) >= overlap for c in chosen):
                        score = (iou(seed, t), -t.start, -t.id)
                        if best is None or score > best[0]:
                            best = (score, t)
                if best is None:
                    break
                chosen.append(best[1])
            else:
                taken.update(s.id for s in chosen)
                medoid = max(
                    chosen,
                    key=lambda s: (
                        sum(iou(s, o) for o in chosen),
                        -s.start,
                        -(s.end - s.start),
                    ),
                )
                found.append(
                    Group("agreement", medoid.start, medoid.end, tuple(chosen), code)
                )
    return found


def _components(left: list[Span]) -> list[list[Span]]:
    """Connected components of the link rule, by a sweep over start offsets."""
    parent = {s.id: s.id for s in left}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    active: list[Span] = []
    for s in left:  # sorted by start
        active = [a for a in active if a.end > s.start]
        for a in active:
            if a.coder != s.coder and (a.code == s.code or iou(a, s) >= LINK_IOU):
                parent[find(a.id)] = find(s.id)
        active.append(s)
    groups: dict[int, list[Span]] = defaultdict(list)
    for s in left:
        groups[find(s.id)].append(s)
    return list(groups.values())


def _disagreement(spans: list[Span]) -> Group:
    codes = {s.code for s in spans}
    extents = {(s.start, s.end) for s in spans}
    if len(codes) == 1 and len(extents) == 1:
        kind = "missing"
    elif len(codes) == 1:
        kind = "boundary"
    elif len(extents) == 1:
        kind = "code"
    else:
        kind = "mixed"
    return Group(
        kind,
        min(s.start for s in spans),
        max(s.end for s in spans),
        tuple(spans),
        next(iter(codes)) if len(codes) == 1 else None,
    )


def consensus_candidates(group: Group) -> list[tuple[int, int, int, tuple[int, ...]]]:
    """The distinct (code, start, end) readings of a group with their segment ids,
    most widely shared first: what "accept all" turns into consensus segments.

    >>> g = Group("boundary", 0, 9, (Span(1, 10, 5, 0, 7), Span(2, 11, 5, 0, 9)), 5)
    >>> consensus_candidates(g)
    [(5, 0, 7, (1,)), (5, 0, 9, (2,))]
    """
    ids: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for s in group.segments:
        ids[(s.code, s.start, s.end)].append(s.id)
    counts = Counter({k: len(v) for k, v in ids.items()})
    ordered = sorted(ids, key=lambda k: (-counts[k], k[1], k[2], k[0]))
    return [(k[0], k[1], k[2], tuple(ids[k])) for k in ordered]
