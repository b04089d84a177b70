"""Documents: browse and search, read one, upload with a preview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import permissions
from ..models import Project
from ..selectors.documents import document_search
from ..services.document_upload import (
    documents_upload_confirm,
    documents_upload_preview,
    rows_from_plain,
    rows_to_plain,
)
from ..services.errors import InputError
from ..uploads import UploadError, upload_read

PER_PAGE = 50
PREVIEW_ROWS = 200


def _session_key(project: Project) -> str:
    return f"document_upload:{project.pk}"


@login_required
@require_GET
def document_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    q = request.GET.get("q", "").strip()[:200]
    field = request.GET.get("in", "all")
    documents = document_search(project, q=q, field=field)
    page = Paginator(documents, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project, "is_pi": True, "active": "documents", "page": page,
        "q": q, "field": field, "total": project.documents.count(),
    }  # fmt: skip
    template = "annotations/documents.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@login_required
@require_GET
def document_detail(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    document = permissions.document_get_or_404(request.user, project, document_id)
    assignments = document.assignments.select_related("coder").order_by(
        "coder__username"
    )
    return render(
        request,
        "annotations/documents_detail.html",
        {
            "project": project, "is_pi": True, "active": "documents",
            "document": document, "assignments": assignments,
        },
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 1: choose files; the POST answers with a preview, nothing saved."""
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    context = {"project": project, "is_pi": True, "active": "documents"}
    if request.method == "GET":
        return render(request, "annotations/documents_upload.html", context)
    uploads = request.FILES.getlist("files")
    if not uploads:
        context["error"] = "Choose one or more .txt, .csv or .jsonl files."
        return render(request, "annotations/documents_upload.html", context, status=400)
    try:
        files = [(f.name, upload_read(f)) for f in uploads]
    except UploadError as exc:
        context["error"] = str(exc)
        return render(
            request, "annotations/documents_upload.html", context, status=exc.status
        )
    preview = documents_upload_preview(project=project, files=files)
    request.session[_session_key(project)] = rows_to_plain(preview.new)
    context.update(preview=preview, shown=preview.new[:PREVIEW_ROWS], files=len(files))
    return render(
        request,
        "annotations/documents_upload.html",
        context,
        status=200 if preview.new or preview.present else 400,
    )


@login_required
@require_POST
def document_upload_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 2: import the rows the preview showed as new."""
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    plain = request.session.pop(_session_key(project), None)
    if not plain:
        messages.error(request, "Nothing to import: upload the files again.")
        return redirect("document_upload", slug=project.slug)
    try:
        result = documents_upload_confirm(project=project, rows=rows_from_plain(plain))
    except InputError as exc:
        context = {
            "project": project, "is_pi": True, "active": "documents",
            "error": "Nothing was imported: " + str(exc),
        }  # fmt: skip
        return render(request, "annotations/documents_upload.html", context, status=400)
    messages.success(
        request,
        f"Imported {result['created']} documents"
        + (f" ({result['skipped']} were already there)." if result["skipped"] else "."),
    )
    return redirect("document_list", slug=project.slug)
