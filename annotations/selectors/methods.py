"""Reads for the methods paragraph: what the agreement report lacks, as a
:class:`~annotations.exporters.methods.MethodsContext`, in two small queries
(one before the first codebook version is published)."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q

from ..exporters.methods import MethodsContext
from ..models import AdjudicationState, CodebookVersion, Document, Project
from ..services.exports import software_version


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
        codebook_version=project.codebook_version,
        codebook_checksums=checksums,
        adjudicated_documents=counts["adjudicated"],
        software_version=software_version(),
        commit=git_commit(Path(settings.BASE_DIR)),
    )


@functools.cache
def git_commit(base: Path) -> str:
    """The checkout's commit, short, read from ``.git`` without running git;
    "" when there is none (an installed copy, a Docker image)."""
    git = base / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return _short(head)
        ref = head.removeprefix("ref: ")
        if (git / ref).is_file():
            return _short((git / ref).read_text().strip())
        for line in (git / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return _short(sha)
    except OSError:
        pass
    return ""


def _short(sha: str) -> str:
    hexdigits = set("0123456789abcdef")
    return sha[:7] if len(sha) == 40 and set(sha) <= hexdigits else ""
