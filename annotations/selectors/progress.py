"""Progress of a project's coding: per coder, overall, per day.

The counts over segments and assignments come from
:func:`~annotations.selectors.tallies.project_tallies` (cached while the
data is unchanged); a page that shows several of them passes the same
tallies to each, so the data's fingerprint is read once."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from ..models import Assignment, Code, Membership, Project
from .tallies import (
    DAILY_DAYS,
    CoderAssignments,
    ProjectTallies,
    daily_since,
    project_tallies,
)


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


def progress_by_coder(
    project: Project, tallies: ProjectTallies | None = None
) -> list[CoderProgress]:
    """Every member with assignments, and every coder (even with none)."""
    tallies = tallies or project_tallies(project)
    roles = dict(
        Membership.objects.filter(project=project).values_list("user_id", "role")
    )
    ids = set(tallies.assignments) | {
        u for u, r in roles.items() if r == Membership.Role.CODER
    }
    names = dict(
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    )
    none = CoderAssignments(todo=0, in_progress=0, done=0, last=None)
    rows = []
    for user_id in ids:
        c = tallies.assignments.get(user_id, none)
        rows.append(
            CoderProgress(
                user_id=user_id,
                username=names.get(user_id, f"user {user_id}"),
                role=roles.get(user_id, "former member"),
                todo=c.todo,
                in_progress=c.in_progress,
                done=c.done,
                segments=tallies.by_coder.get(user_id, 0),
                last_activity=c.last,
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


def project_counts(
    project: Project, tallies: ProjectTallies | None = None
) -> ProjectCounts:
    tallies = tallies or project_tallies(project)
    codes = Code.objects.filter(project=project).aggregate(
        all=Count("pk"), active=Count("pk", filter=Q(retired=False))
    )
    members = Membership.objects.filter(project=project).aggregate(
        pis=Count("pk", filter=Q(role=Membership.Role.PI)),
        coders=Count("pk", filter=Q(role=Membership.Role.CODER)),
    )
    return ProjectCounts(
        documents=tallies.documents,
        unassigned=tallies.unassigned,
        done_documents=tallies.done_documents,
        codes=codes["all"],
        active_codes=codes["active"],
        pis=members["pis"],
        coders=members["coders"],
        todo=tallies.todo,
        in_progress=tallies.in_progress,
        done=tallies.done,
        segments=tallies.segments,
        sample=tallies.sample,
    )


@dataclass(frozen=True)
class DailyCounts:
    days: list[dt.date]
    rows: list[tuple[str, list[int]]]  # (username, one count per day)

    @property
    def peak(self) -> int:
        return max((n for _, counts in self.rows for n in counts), default=0)


def segments_per_day(
    project: Project,
    *,
    days: int = DAILY_DAYS,
    today: dt.date | None = None,
    tallies: ProjectTallies | None = None,
) -> DailyCounts:
    """Live segments created per coder per day over the last ``days`` days."""
    first = daily_since(today, days)
    span = [first + dt.timedelta(days=i) for i in range(days)]
    if tallies is None or tallies.since != first:
        tallies = project_tallies(project, since=first)
    names = dict(
        get_user_model()
        .objects.filter(pk__in={c for c, _ in tallies.by_coder_day})
        .values_list("pk", "username")
    )
    counts: dict[str, dict[dt.date, int]] = {}
    for (coder, day), n in tallies.by_coder_day.items():
        counts.setdefault(names[coder], {})[day] = n
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
