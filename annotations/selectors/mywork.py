"""Reads for My work: the user's projects, progress and one page of articles.

Everything is bounded by the page, not by the number of assignments: the
summary is one aggregate query over all the user's projects, each project's
list is one query that counts segments for the rows shown only. A coder with 20,000 articles costs the same number of queries as
one with 20.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from ..models import Assignment, Membership, Project, Segment

PER_PAGE = 50
Status = Assignment.Status
# The list's order, and the order "Open next unfinished article" uses
# (selectors.coding.next_unfinished): in progress, then to do, then done.
STATUS_RANK = {Status.IN_PROGRESS: 0, Status.TODO: 1, Status.DONE: 2}
STATUS_FILTERS = {
    "all": "All",
    Status.IN_PROGRESS: "In progress",
    Status.TODO: "To do",
    Status.DONE: "Done",
}


@dataclass(frozen=True)
class ArticleQuery:
    """What the request asks of one project's list; the parser in the view
    has already replaced bad values by these defaults."""

    status: str = "all"
    q: str = ""
    page: int = 1


@dataclass
class WorkRow:
    document_id: int
    title: str
    source: str
    status: str
    segments: int = 0  # the user's own live segments


@dataclass
class ArticlePage:
    """One page of a project's list: Django's Page over the matching
    assignments, the rows shown and the query it answers."""

    rows: list[WorkRow]
    query: ArticleQuery
    page: Page
    slug: str

    @property
    def count(self) -> int:  # articles matching the filter and search
        return self.page.paginator.count

    @property
    def page_links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of
        the current one; None marks a gap (Django's elided range, which never
        hides just one page)."""
        pages = self.page.paginator.get_elided_page_range(
            self.page.number, on_each_side=2, on_ends=1
        )
        return [None if n == Paginator.ELLIPSIS else n for n in pages]

    @property
    def is_filtered(self) -> bool:
        return bool(self.query.q) or self.query.status != "all"

    @property
    def base_query(self) -> str:
        """``project=…&status=…&q=…`` (defaults left out): links to other
        pages of this list add ``&page=N``."""
        params = {"project": self.slug}
        if self.query.status != "all":
            params["status"] = self.query.status
        if self.query.q:
            params["q"] = self.query.q
        return urlencode(params)


@dataclass
class ProjectWork:
    project: Project
    role: str
    total: int = 0  # the user's assignments in the project
    done: int = 0
    in_progress: int = 0
    segments: int = 0  # the user's own live segments in the project
    next_document_id: int | None = None
    articles: ArticlePage | None = None
    # For PIs: every coder's assignments in the project.
    team_total: int = 0
    team_done: int = 0

    @property
    def todo(self) -> int:
        return self.total - self.done - self.in_progress

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def team_percent(self) -> int:
        return round(100 * self.team_done / self.team_total) if self.team_total else 0

    def status_count(self, status: str) -> int:
        """How many of the user's articles a status filter keeps."""
        return {
            "all": self.total,
            Status.IN_PROGRESS: self.in_progress,
            Status.TODO: self.todo,
            Status.DONE: self.done,
        }[status]

    @property
    def status_options(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for the status filter."""
        return [(v, label, self.status_count(v)) for v, label in STATUS_FILTERS.items()]


def my_work(
    user: AbstractBaseUser,
    *,
    slug: str = "",
    query: ArticleQuery | None = None,
) -> list[ProjectWork]:
    """The user's projects, each with its summary and first page of articles;
    the project named by ``slug`` gets ``query`` (status, search, page)."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("project")
        .order_by("project__name")
    )  # fmt: skip
    work = [ProjectWork(project=m.project, role=m.role) for m in memberships]
    _summaries_add(user, work)
    _segment_totals_add(user, work)
    _team_add(work)
    for w in work:
        if w.total:
            _articles_add(user, w, query if w.project.slug == slug else None)
    return work


def my_work_project(
    user: AbstractBaseUser, *, slug: str, query: ArticleQuery
) -> ProjectWork | None:
    """One project's summary and page of articles (the list htmx swaps), or
    None when the user is not a member of a project with that slug."""
    membership = (
        Membership.objects.filter(user=user, project__slug=slug)
        .select_related("project")
        .first()
    )
    if membership is None:
        return None
    work = ProjectWork(project=membership.project, role=membership.role)
    _summaries_add(user, [work])
    if work.total:
        _articles_add(user, work, query)
    return work


def _summaries_add(user: AbstractBaseUser, work: list[ProjectWork]) -> None:
    """Counts by status and the next unfinished article, one aggregate query
    for all projects."""
    if not work:
        return
    by_id = {w.project.pk: w for w in work}
    rows = (
        Assignment.objects.filter(coder=user, document__project_id__in=by_id)
        .values("document__project_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=Status.DONE)),
            in_progress=Count("id", filter=Q(status=Status.IN_PROGRESS)),
            first_started=Min("document_id", filter=Q(status=Status.IN_PROGRESS)),
            first_todo=Min("document_id", filter=Q(status=Status.TODO)),
        )
        .order_by()
    )
    for r in rows:
        w = by_id[r["document__project_id"]]
        w.total, w.done, w.in_progress = r["total"], r["done"], r["in_progress"]
        w.next_document_id = r["first_started"] or r["first_todo"]


def _segment_totals_add(user: AbstractBaseUser, work: list[ProjectWork]) -> None:
    """The user's own live segments per project (never another coder's)."""
    by_id = {w.project.pk: w for w in work if w.total}
    if not by_id:
        return
    rows = (
        Segment.objects.filter(
            coder=user, deleted_at__isnull=True, document__project_id__in=by_id
        )
        .values("document__project_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in rows:
        by_id[r["document__project_id"]].segments = r["n"]


def _team_add(work: list[ProjectWork]) -> None:
    """For the projects the user leads: all coders' assignments and done."""
    by_id = {w.project.pk: w for w in work if w.role == Membership.Role.PI}
    if not by_id:
        return
    rows = (
        Assignment.objects.filter(document__project_id__in=by_id)
        .values("document__project_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=Status.DONE)),
        )
        .order_by()
    )
    for r in rows:
        w = by_id[r["document__project_id"]]
        w.team_total, w.team_done = r["total"], r["done"]


def _status_rank() -> Case:
    return Case(
        *(When(status=s, then=Value(rank)) for s, rank in STATUS_RANK.items()),
        default=Value(len(STATUS_RANK)),
        output_field=IntegerField(),
    )


def title_matches(q: str) -> Q:
    """Titles containing ``q``, case-insensitively for every script: a
    regex of the escaped text, since SQLite's LIKE folds ASCII letters only
    (Python's re and PostgreSQL's ~* fold all of Unicode)."""
    return Q(document__title__iregex=re.escape(q))


def article_list(
    user: AbstractBaseUser, project: Project, query: ArticleQuery
) -> QuerySet[Assignment]:
    """The user's assignments in the project matching the query, in the
    list's order."""
    assignments = Assignment.objects.filter(coder=user, document__project=project)
    if query.status in STATUS_RANK:
        assignments = assignments.filter(status=query.status)
    if query.q:
        assignments = assignments.filter(title_matches(query.q))
    return assignments.order_by(_status_rank().asc(), "document_id")


def _articles_add(
    user: AbstractBaseUser, work: ProjectWork, query: ArticleQuery | None
) -> ArticlePage:
    query = query or ArticleQuery()
    assignments = article_list(user, work.project, query)
    paginator = Paginator(assignments.values("pk"), PER_PAGE)
    if not query.q:
        # Without a search the summary has counted them already: no COUNT.
        paginator.count = work.status_count(query.status)
    # A page past the end (the list shrinks as articles are done) is
    # answered with the first one, as every other bad value is.
    number = query.page if 1 <= query.page <= paginator.num_pages else 1
    page = paginator.page(number)
    # The page's rows are picked first (LIMIT inside IN), so the segment
    # counts are read for those rows only, whatever the offset.
    page_ids = page.object_list
    own = Segment.objects.filter(
        document_id=OuterRef("document_id"), coder=user, deleted_at__isnull=True
    )
    rows = (
        Assignment.objects.filter(pk__in=page_ids)
        .annotate(segments=_count(own))
        .order_by(_status_rank().asc(), "document_id")
        .values_list(
            "document_id", "document__title", "document__source", "status", "segments"
        )
    )
    work.articles = ArticlePage(
        rows=[WorkRow(*r) for r in rows], query=query, page=page,
        slug=work.project.slug,
    )  # fmt: skip
    return work.articles


def _count(rows: QuerySet) -> Subquery:
    """``(SELECT COUNT(*) FROM …)``: no GROUP BY, so 0 for no rows."""
    count = Func(Value(1), function="COUNT", output_field=IntegerField())
    return Subquery(rows.order_by().values(n=count))
