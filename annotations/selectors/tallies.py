"""The counts behind the PI's pages (dashboard, progress, team, codebook,
export): live segments per coder, per code and per coder and day, who has
segments at all, assignments per coder and status, finished documents.

Counting millions of segments takes seconds, so :func:`project_tallies`
gathers every segment count in one grouped pass over the project's segments
(instead of one scan per number) and keeps the result in Django's cache
while the project's data is unchanged
(:func:`~annotations.selectors.cached.fingerprint_cached`): a new or deleted
segment, a status change, a code or document change gives a new key, so a
page never shows a stale number.

The day of a segment is the date of ``created_at`` in the current time
zone, as :func:`~django.db.models.functions.TruncDate` gives it; per-day
counts cover the days from ``since`` on, and the cache key holds ``since``
and the time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, DateField, F, Max, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Assignment, Document, Project, Segment
from .cached import fingerprint_cached

# Bump when the shape of ProjectTallies changes: old entries are then never read.
TALLIES_VERSION = 1
DAILY_DAYS = 14  # the Progress page's chart
MAX_RUNS = 8  # ranges of document ids tested per row before joining instead


@dataclass(frozen=True)
class CoderAssignments:
    todo: int
    in_progress: int
    done: int
    last: dt.datetime | None  # latest change of one of them


@dataclass(frozen=True)
class ProjectTallies:
    """Counts of one project's coding (ids are database ids).

    Live segments (not soft-deleted) count everywhere except in
    ``segment_coders``, the coders with any segment, deleted ones included.
    ``by_coder_day`` holds the days from ``since`` on, non-zero counts only.
    """

    fingerprint: str
    since: dt.date
    segments: int
    by_coder: dict[int, int]
    by_code: dict[int, int]
    by_coder_day: dict[tuple[int, dt.date], int]
    segment_coders: frozenset[int]
    assignments: dict[int, CoderAssignments]
    documents: int
    unassigned: int
    done_documents: int  # assigned, and every assignment done
    sample: int  # assigned to two coders or more

    @property
    def todo(self) -> int:
        return sum(a.todo for a in self.assignments.values())

    @property
    def in_progress(self) -> int:
        return sum(a.in_progress for a in self.assignments.values())

    @property
    def done(self) -> int:
        return sum(a.done for a in self.assignments.values())


def daily_since(today: dt.date | None = None, days: int = DAILY_DAYS) -> dt.date:
    """The first day of a chart of ``days`` days ending ``today``."""
    return (today or timezone.localdate()) - dt.timedelta(days=days - 1)


def project_tallies(
    project: Project, *, since: dt.date | None = None
) -> ProjectTallies:
    """The project's counts, per-day ones from ``since`` (default: the last
    :data:`DAILY_DAYS` days), from the cache while the data is unchanged."""
    since = since or daily_since()
    zone = timezone.get_current_timezone_name()
    return fingerprint_cached(
        project,
        f"tallies:v{TALLIES_VERSION}:{since.isoformat()}:{zone}",
        lambda fingerprint: tallies_compute(project, since, fingerprint=fingerprint),
    )


def tallies_compute(
    project: Project, since: dt.date, *, fingerprint: str = ""
) -> ProjectTallies:
    """The counts from the database: one pass over the segments, two over the
    assignments (and a look at the documents' ids)."""
    by_coder: dict[int, int] = {}
    by_code: dict[int, int] = {}
    by_coder_day: dict[tuple[int, dt.date], int] = {}
    coders: set[int] = set()
    mine = _documents_q(project)
    for coder, code, day, live in _segment_groups(mine, since):
        coders.add(coder)
        if not live:
            continue
        by_coder[coder] = by_coder.get(coder, 0) + live
        by_code[code] = by_code.get(code, 0) + live
        if day is not None and day >= since:
            by_coder_day[coder, day] = by_coder_day.get((coder, day), 0) + live
    per_coder = (
        Assignment.objects.filter(mine)
        .values("coder_id")
        .annotate(
            todo=Count("pk", filter=Q(status=Assignment.Status.TODO)),
            in_progress=Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
            done=Count("pk", filter=Q(status=Assignment.Status.DONE)),
            last=Max("updated_at"),
        )
        .order_by()
    )
    per_doc = (
        Document.objects.filter(project=project)
        .annotate(
            n=Count("assignments"),
            n_done=Count("assignments", filter=Q(assignments__status="done")),
        )
        .aggregate(
            documents=Count("pk"),
            unassigned=Count("pk", filter=Q(n=0)),
            done=Count("pk", filter=Q(n__gt=0, n=F("n_done"))),
            sample=Count("pk", filter=Q(n__gte=2)),
        )
    )
    return ProjectTallies(
        fingerprint=fingerprint,
        since=since,
        segments=sum(by_coder.values()),
        by_coder=by_coder,
        by_code=by_code,
        by_coder_day=by_coder_day,
        segment_coders=frozenset(coders),
        assignments={row.pop("coder_id"): CoderAssignments(**row) for row in per_coder},
        documents=per_doc["documents"],
        unassigned=per_doc["unassigned"],
        done_documents=per_doc["done"],
        sample=per_doc["sample"],
    )


def _documents_q(project: Project) -> Q:
    """Rows (segments, assignments) of the project's documents: by ranges of
    document ids when its documents are a few runs of consecutive ids, as
    after uploads, since comparing each row's id costs less than joining the
    documents; else through the join."""
    doc = Document._meta
    sql = (
        f"SELECT MIN(id), MAX(id) FROM (SELECT {doc.pk.column} AS id, "
        f"{doc.pk.column} - ROW_NUMBER() OVER (ORDER BY {doc.pk.column}) AS run "
        f"FROM {doc.db_table} WHERE {doc.get_field('project').column} = %s) AS ids "
        "GROUP BY run ORDER BY 1 LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [project.pk, MAX_RUNS + 1])
        runs = cursor.fetchall()
    if len(runs) > MAX_RUNS:
        return Q(document__project=project)
    # Every id of a run is one of the project's documents, and ids are never
    # reused, so the ranges hold exactly its documents (none: nothing).
    q = Q(pk__in=[])
    for lo, hi in runs:
        q |= Q(document__gte=lo, document__lte=hi)
    return q


def _segment_groups(mine: Q, since: dt.date):
    """(coder, code, day or None, live segments) for every group of the
    segments ``mine`` selects, deleted ones included (a group may have 0
    live)."""
    # Rows from the first instant of `since` (local midnight; fold=0 in a
    # DST gap gives the gap's end) get a day: a timestamp comparison, not a
    # date conversion of every row. The caller drops days before `since` (a
    # clock turned back across midnight), so the days are exactly those of
    # created_at__date__gte=since.
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    day = Case(
        When(created_at__gte=start, then=TruncDate("created_at")),
        default=Value(None),
        output_field=DateField(),
    )
    return (
        Segment.objects.filter(mine)
        .values("coder_id", "code_id", day=day)
        .annotate(live=Count("pk", filter=Q(deleted_at__isnull=True)))
        .order_by()
        .values_list("coder_id", "code_id", "day", "live")
    )
