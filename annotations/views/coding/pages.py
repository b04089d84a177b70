"""The coding page itself, the next-article redirect, the code colours,
marking an assignment done or reopening it, and the coder's note on it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from ... import permissions
from ...models import Assignment
from ...selectors import coding as selectors
from ...services import coding as services
from .base import (
    NOTE_REGIONS,
    OTHERS_KEY,
    REDO_KEY,
    UNDO_KEY,
    _assignment,
    _context,
    _errors,
    _load,
    _panel,
    _respond,
    _segment,
)


@login_required
@require_GET
def coding_page(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    if "others" in request.GET:
        prefs = request.session.get(OTHERS_KEY, {})
        prefs[str(project.pk)] = request.GET["others"] == "1"
        request.session[OTHERS_KEY] = prefs
    panel = None
    if (seg := request.GET.get("seg", "")).isdigit():
        panel = _panel(
            request, project, document, _segment(request, project, document, int(seg))
        )
    ctx = _context(request, project, document, panel=panel)
    return render(request, "annotations/coding.html", ctx)


@login_required
@require_GET
def next_article(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug)
    document_id = selectors.next_unfinished(user=request.user, project=project)
    if document_id is None:
        messages.info(request, f"Nothing left to code in {project.name}: all done.")
        return redirect("home")
    return redirect("coding_page", project.slug, document_id)


@login_required
@require_GET
def codes_css(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's code colours as classes (the CSP forbids inline styles)."""
    project = permissions.project_get_or_404(request.user, slug)
    css = selectors.codes_css(list(project.codes.values_list("pk", "color")))
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    # The page links it with ?v=<codebook version>: a new colour is a new URL.
    response["Cache-Control"] = (
        "private, max-age=86400" if "v" in request.GET else "no-cache"
    )
    return response


@login_required
@require_POST
def assignment_done(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    assignment = _assignment(request, document)
    if assignment is None:
        return _respond(request, project, document, status=400,
                        message="This article is not assigned to you.")  # fmt: skip
    services.assignment_set_status(
        assignment=assignment, status=Assignment.Status.DONE, actor=request.user
    )
    for key in (UNDO_KEY, REDO_KEY):  # done: the article is read-only now
        request.session.get(key, {}).pop(str(document.pk), None)
    request.session.modified = True
    progress = selectors.coder_progress(
        user=request.user, project=project, current_id=document.pk
    )
    if progress.next_document_id is None:
        messages.success(
            request,
            f"Marked “{document.title}” done. That was your last article in {project.name}.",
        )
        url = reverse("home")
    else:
        messages.success(
            request, f"Marked “{document.title}” done. Here is your next article."
        )
        url = reverse("coding_page", args=[project.slug, progress.next_document_id])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
@require_POST
def assignment_reopen(
    request: HttpRequest, slug: str, document_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    assignment = _assignment(request, document)
    if assignment is None:
        return _respond(request, project, document, status=400,
                        message="This article is not assigned to you.")  # fmt: skip
    services.assignment_set_status(
        assignment=assignment, status=Assignment.Status.IN_PROGRESS, actor=request.user
    )
    return _respond(
        request,
        project,
        document,
        message="Reopened: you can change your coding again.",
    )


@login_required
@require_POST
def assignment_note(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """The coder's note on the article. Only their own: without an assignment
    there is no note to write (404, as for a document one may not read)."""
    project, document = _load(request, slug, document_id)
    assignment = _assignment(request, document)
    if assignment is None:
        raise Http404("No such assignment.")
    note = request.POST.get("note", "")
    try:
        services.assignment_note_set(
            assignment=assignment, note=note, actor=request.user
        )
    except ValidationError as exc:
        # htmx: the status bar only, so the text being typed stays; the plain
        # form gets the page back with it.
        return _respond(request, project, document, status=400,
                        message=f"The note was not saved. {_errors(exc)}",
                        regions=frozenset(), extra={"note_draft": note})  # fmt: skip
    return _respond(request, project, document, message="Saved your note.",
                    regions=NOTE_REGIONS)  # fmt: skip
