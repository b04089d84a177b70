"""Reads for the coding page: the codebook, the coder's segments, progress.

The text itself is rendered by the pure functions in ``coding_text``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import EllipsisType

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils.safestring import SafeString

from .. import permissions
from ..models import Assignment, Code, Document, Project, Segment
from .coding_text import SegmentItem, SpanView, codes_css, segment_items_html, text_html

__all__ = ["codes_css", "text_html"]  # re-exported for the views


# ---------------------------------------------------------------- codebook


@dataclass
class CodeNode:
    code: Code
    depth: int
    path: str
    offered: bool
    children: list[CodeNode] = field(default_factory=list)


@dataclass
class Codebook:
    """A project's codes in tree order, with paths and what may be applied."""

    nodes: list[CodeNode]  # depth-first, siblings by (order, id)
    by_id: dict[int, CodeNode]
    version: str  # changes when a colour or code changes: cache key of codes.css

    @property
    def offered(self) -> list[CodeNode]:
        return [n for n in self.nodes if n.offered]

    @property
    def roots(self) -> list[CodeNode]:
        return [n for n in self.nodes if n.depth == 0 and self.shown(n)]

    def shown(self, node: CodeNode) -> bool:
        """Offered codes, and retired ones only as headings of offered ones."""
        return node.offered or any(self.shown(c) for c in node.children)

    def path(self, code_id: int) -> str:
        node = self.by_id.get(code_id)
        return node.path if node else "?"


def codebook_get(project: Project) -> Codebook:
    codes = list(project.codes.all())
    children: dict[int | None, list[Code]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    nodes: list[CodeNode] = []
    by_id: dict[int, CodeNode] = {}

    def walk(parent: CodeNode | None, depth: int) -> None:
        for code in sorted(
            children.get(parent.code.pk if parent else None, []),
            key=lambda c: (c.order, c.pk),
        ):
            node = CodeNode(
                code=code,
                depth=depth,
                path=f"{parent.path}/{code.name}" if parent else code.name,
                offered=not code.retired and (parent is None or parent.offered),
            )
            nodes.append(node)
            by_id[code.pk] = node
            if parent:
                parent.children.append(node)
            walk(node, depth + 1)

    walk(None, 0)
    digest = hashlib.sha1(
        "|".join(f"{c.pk}:{c.color}:{c.version}" for c in codes).encode(),
        usedforsecurity=False,
    ).hexdigest()[:12]
    return Codebook(nodes=nodes, by_id=by_id, version=digest)


# ---------------------------------------------------------------- coding page


SEGMENT_FIELDS = ("id", "document_id", "coder_id", "code_id", "start", "end",
                  "quote", "memo", "version", "deleted_at")  # fmt: skip


@dataclass
class SegmentGroup:
    node: CodeNode | None
    segments: list[Segment]
    items: SafeString = SafeString("")  # the list's <li> lines


@dataclass
class Progress:
    total: int
    done: int
    position: int | None  # 1-based place of the current document
    next_document_id: int | None  # next unfinished after the current one

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class CodingPage:
    project: Project
    document: Document
    role: str | None
    assignment: Assignment | None
    codebook: Codebook
    segments: list[Segment]
    others: list[Segment]
    show_others: bool
    others_allowed: bool
    progress: Progress | None
    text: SafeString
    urls: tuple[str, str] = ("", "")  # the page's URL and its segments/ URL

    @property
    def can_code(self) -> bool:
        return (
            self.assignment is not None
            and self.assignment.status != Assignment.Status.DONE
        )

    @property
    def is_done(self) -> bool:
        return (
            self.assignment is not None
            and self.assignment.status == Assignment.Status.DONE
        )

    @cached_property
    def groups(self) -> list[SegmentGroup]:
        return segment_groups(self.segments, self.codebook, urls=self.urls)

    @cached_property
    def other_groups(self) -> list[SegmentGroup]:
        return segment_groups(self.others, self.codebook, urls=self.urls, own=False)


def segment_groups(
    segments: Sequence[Segment],
    codebook: Codebook,
    *,
    urls: tuple[str, str] | None = None,
    own: bool = True,
) -> list[SegmentGroup]:
    """Segments grouped by code, in codebook order; in text order within.
    With ``urls`` (page, segments), each group carries its list lines."""
    by_code: dict[int, list[Segment]] = defaultdict(list)
    for segment in segments:
        by_code[segment.code_id].append(segment)
    groups = [
        SegmentGroup(node, by_code.pop(node.code.pk))
        for node in codebook.nodes
        if node.code.pk in by_code
    ]
    groups.extend(SegmentGroup(None, segs) for segs in by_code.values())
    if urls:
        for group in groups:
            group.items = segment_items_html(
                [SegmentItem(s.pk, s.quote, s.memo, "" if own else s.coder.username)
                 for s in group.segments],
                page_url=urls[0], segments_url=urls[1],
            )  # fmt: skip
    return groups


def coding_segments(*, document: Document, coder: AbstractBaseUser) -> list[Segment]:
    """The coder's live segments of the document, in text order."""
    return list(
        Segment.objects.filter(document=document, coder=coder, deleted_at__isnull=True)
        .only(*SEGMENT_FIELDS)
        .order_by("start", "end", "id")
    )


def coding_other_segments(
    *, document: Document, user: AbstractBaseUser
) -> list[Segment]:
    """Other coders' live segments (the caller checks blind coding)."""
    return list(
        Segment.objects.filter(document=document, deleted_at__isnull=True)
        .exclude(coder=user)
        .select_related("coder")
        .only(*SEGMENT_FIELDS, "coder__username")
        .order_by("start", "end", "id")
    )


def coder_progress(
    *, user: AbstractBaseUser, project: Project, current_id: int | None = None
) -> Progress:
    rows = list(
        Assignment.objects.filter(coder=user, document__project=project)
        .order_by("document_id")
        .values_list("document_id", "status")
    )
    done = sum(status == Assignment.Status.DONE for _, status in rows)
    ids = [doc_id for doc_id, _ in rows]
    position = ids.index(current_id) + 1 if current_id in ids else None
    # The next unfinished document after the current one, wrapping around.
    start = position or 0
    ordered = rows[start:] + rows[:start]
    unfinished = [
        d for d, s in ordered if s != Assignment.Status.DONE and d != current_id
    ]
    return Progress(
        total=len(rows),
        done=done,
        position=position,
        next_document_id=unfinished[0] if unfinished else None,
    )


def next_unfinished(*, user: AbstractBaseUser, project: Project) -> int | None:
    """The document to open next: one in progress, else the first to do."""
    row = (
        Assignment.objects.filter(coder=user, document__project=project)
        .exclude(status=Assignment.Status.DONE)
        .order_by(
            # in_progress sorts before todo
            "status",
            "document_id",
        )
        .values_list("document_id", flat=True)
        .first()
    )
    return row


def span_views(
    segments: Sequence[Segment], codebook: Codebook, *, own: bool
) -> list[SpanView]:
    views = []
    for s in segments:
        label = codebook.path(s.code_id)
        if not own:
            label = f"{label} ({s.coder.username})"
        elif s.memo:
            label = f"{label}: {s.memo[:60]}"
        views.append(SpanView(s.pk, s.start, s.end, s.code_id, label, own))
    return views


def coding_page_get(
    *,
    user: AbstractBaseUser,
    project: Project,
    document: Document,
    show_others: bool,
    codebook: Codebook | None = None,
    assignment: Assignment | None | EllipsisType = ...,
    with_progress: bool = True,
) -> CodingPage:
    """Everything the coding page shows, in a fixed handful of queries.

    The caller may pass what it has loaded already: the ``codebook`` and the
    user's ``assignment`` of the document (``None``: not assigned; ``...``:
    look it up). Without ``with_progress`` the progress (a query, shown only
    in the work state) is left out.
    """
    role = permissions.role_in(user, project)
    if assignment is ...:
        assignment = Assignment.objects.filter(document=document, coder=user).first()
    codebook = codebook or codebook_get(project)
    segments = coding_segments(document=document, coder=user)
    others_allowed = permissions.sees_others_segments(user, project)
    # A PI who is not coding this document sees everyone's coding.
    show = others_allowed and (show_others or assignment is None)
    others = coding_other_segments(document=document, user=user) if show else []
    text = text_html(
        document.text,
        span_views(segments, codebook, own=True)
        + span_views(others, codebook, own=False),
    )
    url = reverse("coding_page", args=[project.slug, document.pk])
    return CodingPage(
        project=project,
        document=document,
        role=role,
        assignment=assignment,
        codebook=codebook,
        segments=segments,
        others=others,
        show_others=show,
        others_allowed=others_allowed,
        progress=coder_progress(user=user, project=project, current_id=document.pk)
        if with_progress
        else None,
        text=text,
        urls=(url, f"{url}segments/"),
    )
