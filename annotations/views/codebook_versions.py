"""Codebook versions on the Codebook page (PIs only, as the page): publish the
next version, list them, one version's changes and its files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_POST

from .. import permissions
from ..models import CodebookVersion, Project
from ..services import codebook_versions as service
from .codebook import codebook_file_response, page_context, versions_context


def _project(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _version(project: Project, number: int) -> CodebookVersion:
    version = (
        CodebookVersion.objects.filter(project=project, number=number)
        .select_related("created_by")
        .first()
    )
    if version is None:
        raise Http404("No such codebook version.")
    return version


@login_required
@require_POST
def codebook_publish(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    note = request.POST.get("note", "")
    try:
        version = service.codebook_publish(
            project=project, actor=request.user, note=note
        )
    except ValidationError as exc:
        extra = {"publish_error": " ".join(exc.messages), "note": note}
        if request.htmx:  # htmx swaps 2xx answers only: the reason in a 200
            return render(
                request,
                "annotations/codebook.html#versions",
                {"project": project, **versions_context(project, **extra)},
            )
        return render(
            request,
            "annotations/codebook.html",
            page_context(project, **extra),
            status=400,
        )
    n = len(version.snapshot["codes"])
    text = f"Published codebook version {version.number} with {n} code{pluralize(n)}."
    if request.htmx:
        context = versions_context(project, published=text)
        return render(
            request,
            "annotations/codebook.html#versions",
            {"project": project, **context},
        )
    messages.success(request, text)
    return redirect("codebook", slug=project.slug)


@login_required
@require_GET
def codebook_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    project = _project(request, slug)
    version = _version(project, number)
    return render(
        request,
        "annotations/codebook_version.html",
        {
            "project": project, "is_pi": True, "active": "codebook",
            "version": version, "diff": service.codebook_version_diff(version),
            "code_count": len(version.snapshot.get("codes", [])),
        },
    )  # fmt: skip


@login_required
@require_GET
def codebook_version_export(
    request: HttpRequest, slug: str, number: int, fmt: str
) -> HttpResponse:
    """The version's codebook as the Codebook page's export writes the current
    one: the same JSON or CSV file, which the import reads back."""
    project = _project(request, slug)
    if fmt not in ("csv", "json"):
        raise Http404("The codebook exports as .csv or .json.")
    version = _version(project, number)
    return codebook_file_response(
        version.snapshot.get("codes", []),
        f"{project.slug}-codebook-v{version.number}.{fmt}",
        fmt,
    )
