"""Reads for My work: the user's projects, assignments and progress."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q

from ..models import Assignment, Membership, Project


@dataclass
class WorkRow:
    document_id: int
    title: str
    source: str
    status: str
    segments: int


@dataclass
class ProjectWork:
    project: Project
    role: str
    rows: list[WorkRow]
    next_document_id: int | None
    # For PIs: every coder's assignments in the project.
    team_total: int = 0
    team_done: int = 0

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return sum(r.status == Assignment.Status.DONE for r in self.rows)

    @property
    def in_progress(self) -> int:
        return sum(r.status == Assignment.Status.IN_PROGRESS for r in self.rows)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def team_percent(self) -> int:
        return round(100 * self.team_done / self.team_total) if self.team_total else 0


STATUS_ORDER = {
    Assignment.Status.IN_PROGRESS: 0,
    Assignment.Status.TODO: 1,
    Assignment.Status.DONE: 2,
}


def my_work(user: AbstractBaseUser) -> list[ProjectWork]:
    """The user's projects with their assignments and own segment counts."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("project")
        .order_by("project__name")
    )  # fmt: skip
    if not memberships:
        return []
    rows = (
        Assignment.objects.filter(coder=user)
        .values(
            "document_id",
            "document__project_id",
            "document__title",
            "document__source",
            "status",
        )  # fmt: skip
        .annotate(
            n=Count(
                "document__segments",
                filter=Q(
                    document__segments__coder=user,
                    document__segments__deleted_at__isnull=True,
                ),
            )
        )
        .order_by("document_id")
    )
    by_project: dict[int, list[WorkRow]] = defaultdict(list)
    for r in rows:
        by_project[r["document__project_id"]].append(
            WorkRow(
                r["document_id"],
                r["document__title"],
                r["document__source"],
                r["status"],
                r["n"],
            )  # fmt: skip
        )
    pi_projects = [m.project_id for m in memberships if m.role == Membership.Role.PI]
    team: dict[int, dict[str, int]] = {}
    if pi_projects:
        for r in (
            Assignment.objects.filter(document__project_id__in=pi_projects)
            .values("document__project_id")
            .annotate(
                total=Count("id"),
                done=Count("id", filter=Q(status=Assignment.Status.DONE)),
            )
        ):
            team[r["document__project_id"]] = r
    work = []
    for m in memberships:
        mine = sorted(by_project.get(m.project_id, []),
                      key=lambda r: (STATUS_ORDER.get(r.status, 3), r.document_id))  # fmt: skip
        unfinished = [r.document_id for r in mine if r.status != Assignment.Status.DONE]
        stats = team.get(m.project_id, {})
        work.append(
            ProjectWork(
                project=m.project,
                role=m.role,
                rows=mine,
                next_document_id=unfinished[0] if unfinished else None,
                team_total=stats.get("total", 0),
                team_done=stats.get("done", 0),
            )  # fmt: skip
        )
    return work
