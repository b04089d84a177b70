"""Progress of a project's coding: per coder, overall, per day."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Assignment, Code, Document, Membership, Project, Segment


@dataclass(frozen=True)
class CoderProgress:
    user_id: int
    username: str
    role: str
    todo: int
    in_progress: int
    done: int
    segments: int
    last_activity: dt.datetime | None

    @property
    def total(self) -> int:
        return self.todo + self.in_progress + self.done

    @property
    def not_started(self) -> bool:
        return self.total > 0 and self.in_progress == 0 and self.done == 0

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress_by_coder(project: Project) -> list[CoderProgress]:
    """Every member with assignments, and every coder (even with none)."""
    counts = {
        row["coder_id"]: row
        for row in Assignment.objects.filter(document__project=project)
        .values("coder_id")
        .annotate(
            todo=Count("pk", filter=Q(status=Assignment.Status.TODO)),
            in_progress=Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
            done=Count("pk", filter=Q(status=Assignment.Status.DONE)),
            last=Max("updated_at"),
        )
    }
    segments = dict(
        Segment.objects.filter(document__project=project, deleted_at__isnull=True)
        .values("coder_id")
        .annotate(n=Count("pk"))
        .values_list("coder_id", "n")
    )
    roles = dict(
        Membership.objects.filter(project=project).values_list("user_id", "role")
    )
    ids = set(counts) | {u for u, r in roles.items() if r == Membership.Role.CODER}
    names = dict(
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    )
    rows = []
    for user_id in ids:
        c = counts.get(user_id, {})
        rows.append(
            CoderProgress(
                user_id=user_id,
                username=names.get(user_id, f"user {user_id}"),
                role=roles.get(user_id, "former member"),
                todo=c.get("todo", 0),
                in_progress=c.get("in_progress", 0),
                done=c.get("done", 0),
                segments=segments.get(user_id, 0),
                last_activity=c.get("last"),
            )
        )
    return sorted(rows, key=lambda r: r.username.lower())


@dataclass(frozen=True)
class ProjectCounts:
    documents: int
    unassigned: int
    done_documents: int
    codes: int
    active_codes: int
    pis: int
    coders: int
    todo: int
    in_progress: int
    done: int
    segments: int
    sample: int

    @property
    def assignments(self) -> int:
        return self.todo + self.in_progress + self.done

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.assignments) if self.assignments else 0


def project_counts(project: Project) -> ProjectCounts:
    docs = Document.objects.filter(project=project)
    per_doc = docs.annotate(
        n=Count("assignments"),
        n_done=Count("assignments", filter=Q(assignments__status="done")),
    ).aggregate(
        documents=Count("pk"),
        unassigned=Count("pk", filter=Q(n=0)),
        done=Count("pk", filter=Q(n__gt=0, n=F("n_done"))),
        sample=Count("pk", filter=Q(n__gte=2)),
    )
    status = Assignment.objects.filter(document__project=project).aggregate(
        todo=Count("pk", filter=Q(status=Assignment.Status.TODO)),
        in_progress=Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
        done=Count("pk", filter=Q(status=Assignment.Status.DONE)),
    )
    codes = Code.objects.filter(project=project).aggregate(
        all=Count("pk"), active=Count("pk", filter=Q(retired=False))
    )
    members = Membership.objects.filter(project=project).aggregate(
        pis=Count("pk", filter=Q(role=Membership.Role.PI)),
        coders=Count("pk", filter=Q(role=Membership.Role.CODER)),
    )
    return ProjectCounts(
        documents=per_doc["documents"],
        unassigned=per_doc["unassigned"],
        done_documents=per_doc["done"],
        codes=codes["all"],
        active_codes=codes["active"],
        pis=members["pis"],
        coders=members["coders"],
        segments=Segment.objects.filter(
            document__project=project, deleted_at__isnull=True
        ).count(),
        sample=per_doc["sample"],
        **status,
    )


@dataclass(frozen=True)
class DailyCounts:
    days: list[dt.date]
    rows: list[tuple[str, list[int]]]  # (username, one count per day)

    @property
    def peak(self) -> int:
        return max((n for _, counts in self.rows for n in counts), default=0)


def segments_per_day(
    project: Project, *, days: int = 14, today: dt.date | None = None
) -> DailyCounts:
    """Live segments created per coder per day over the last ``days`` days."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    span = [first + dt.timedelta(days=i) for i in range(days)]
    counts: dict[str, dict[dt.date, int]] = {}
    rows = (
        Segment.objects.filter(
            document__project=project,
            deleted_at__isnull=True,
            created_at__date__gte=first,
        )
        .annotate(day=TruncDate("created_at"))
        .values("coder__username", "day")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts.setdefault(row["coder__username"], {})[row["day"]] = row["n"]
    return DailyCounts(
        days=span,
        rows=[
            (name, [by_day.get(d, 0) for d in span])
            for name, by_day in sorted(counts.items())
        ],
    )


def coder_summary(project: Project, user) -> dict[str, int]:
    """A coder's own assignments by status (for their view of the dashboard)."""
    return Assignment.objects.filter(document__project=project, coder=user).aggregate(
        todo=Count("pk", filter=Q(status=Assignment.Status.TODO)),
        in_progress=Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
        done=Count("pk", filter=Q(status=Assignment.Status.DONE)),
    )
