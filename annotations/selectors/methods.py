"""Reads for the methods paragraph: what the agreement report lacks, as a
:class:`~annotations.exporters.methods.MethodsContext`, in two small queries
(one before the first codebook version is published)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q

from ..exporters.methods import MethodsContext
from ..models import AdjudicationState, CodebookVersion, Document, Project
from ..version import git_commit, software_version


def methods_context(project: Project) -> MethodsContext:
    counts = Document.objects.filter(project=project).aggregate(
        n=Count("pk"),
        adjudicated=Count(
            "pk", filter=Q(adjudication__status=AdjudicationState.Status.ADJUDICATED)
        ),
    )
    checksums: tuple[tuple[int, str], ...] = ()
    if project.codebook_version is not None:
        checksums = tuple(
            CodebookVersion.objects.filter(project=project)
            .order_by("number")
            .values_list("number", "checksum")
        )
    return MethodsContext(
        project_name=project.name,
        documents=counts["n"],
        blind=project.blind,
        reliability_share=project.reliability_share,
        reliability_coders=project.reliability_coders,
        reliability_seed=project.reliability_seed,
        reliability_stratify=project.reliability_stratify,
        codebook_checksums=checksums,
        adjudicated_documents=counts["adjudicated"],
        software_version=software_version(),
        commit=git_commit(Path(settings.BASE_DIR)),
    )
