"""The coding page: read an article, highlight and tag spans, memo, undo, done.

Every change is a POST that works as a plain form (redirect back with a
message, or the page with the error and a 4xx) and, sent with
``HX-Request``, answers with the changed regions of the page as
out-of-band fragments (``coding.html#changed``). Writes go through
``services.coding``; who sees what through ``permissions``.
"""

import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .. import permissions
from ..models import Assignment, Code, Document, Project, Segment
from ..selectors import coding as selectors
from ..services import coding as services
from ..services.errors import ConflictError

UNDO_KEY = "wb-undo"
UNDO_LIMIT = 50  # steps per article
UNDO_DOCUMENTS = 5  # articles
OTHERS_KEY = "wb-others"


class SegmentCreateForm(forms.Form):
    code = forms.IntegerField()
    start = forms.IntegerField(min_value=0)
    end = forms.IntegerField(min_value=0)
    # Optional only for the no-JS form, where the coder types code-point
    # offsets; the page's script always sends the selected text.
    quote = forms.CharField(strip=False, required=False)
    memo = forms.CharField(strip=False, required=False)
    client_id = forms.UUIDField(required=False)


class SegmentUpdateForm(forms.Form):
    code = forms.IntegerField(required=False)
    memo = forms.CharField(strip=False, required=False)
    version = forms.IntegerField(min_value=1, required=False)


@dataclass
class Panel:
    segment: Segment
    editable: bool
    also: list[Segment]
    conflict: dict | None = None
    path: str = ""  # the code's path, filled in by _context


# ---------------------------------------------------------------- helpers


def _load(
    request: HttpRequest, slug: str, document_id: int
) -> tuple[Project, Document]:
    project = permissions.project_get_or_404(request.user, slug)
    return project, permissions.document_get_or_404(request.user, project, document_id)


def _segment(
    request: HttpRequest, project: Project, document: Document, segment_id: int
) -> Segment:
    segment = permissions.segment_get_or_404(request.user, project, segment_id)
    if segment.document_id != document.pk:
        raise Http404("No such segment.")
    return segment


def _own_segment(request, project, document, segment_id) -> Segment:
    segment = _segment(request, project, document, segment_id)
    if segment.deleted_at is not None and segment.coder_id != request.user.pk:
        raise Http404("No such segment.")
    if not permissions.can_edit_segment(request.user, segment):
        raise _Refused("You can change only your own segments.", status=403)
    return segment


class _Refused(Exception):
    def __init__(self, message: str, *, status: int = 400):
        self.status = status
        super().__init__(message)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _form_errors(form: forms.Form) -> str:
    return " ".join(f"{name}: {'; '.join(errs)}" for name, errs in form.errors.items())


def _undo_stack(request: HttpRequest, document: Document) -> list[dict]:
    return request.session.get(UNDO_KEY, {}).get(str(document.pk), [])


def _undo_push(
    request: HttpRequest, document: Document, op: str, segment: Segment, label: str,
    **extra,
) -> None:  # fmt: skip
    """Remember the coder's change to ``segment`` so that Undo can revert it."""
    entry = {"op": op, "id": segment.pk, **extra, "label": label}
    stacks = request.session.get(UNDO_KEY, {})
    stack = stacks.pop(str(document.pk), [])[-(UNDO_LIMIT - 1) :]
    stack.append(entry)
    stacks[str(document.pk)] = stack
    # The session keeps the stacks of the few articles coded last, not all.
    while len(stacks) > UNDO_DOCUMENTS:
        stacks.pop(next(iter(stacks)))
    request.session[UNDO_KEY] = stacks


def _undo_pop(request: HttpRequest, document: Document) -> None:
    stacks = request.session.get(UNDO_KEY, {})
    if stacks.get(str(document.pk)):
        stacks[str(document.pk)].pop()
        request.session[UNDO_KEY] = stacks


def _show_others(request: HttpRequest, project: Project) -> bool:
    return bool(request.session.get(OTHERS_KEY, {}).get(str(project.pk)))


def _codebook(request: HttpRequest, project: Project) -> selectors.Codebook:
    """The codebook, read once per request."""
    cache = request.__dict__.setdefault("_wb_codebooks", {})
    if project.pk not in cache:
        cache[project.pk] = selectors.codebook_get(project)
    return cache[project.pk]


def _code(project: Project, code_id: int | None) -> Code | None:
    if code_id is None:
        return None
    # Only this project's codes: another project's ids must not be probeable.
    code = project.codes.filter(pk=code_id).first()
    if code is None:
        raise ValidationError({"code": f"There is no code {code_id} in this project."})
    return code


def _context(request, project, document, *, panel=None, message="", level="success",
             include_panel=False) -> dict:  # fmt: skip
    page = selectors.coding_page_get(
        user=request.user, project=project, document=document,
        show_others=_show_others(request, project),
        codebook=_codebook(request, project),
    )  # fmt: skip
    if panel is not None:
        panel.path = page.codebook.path(panel.segment.code_id)
        for other in panel.also:
            other.path = page.codebook.path(other.code_id)
    stack = _undo_stack(request, document)
    base = reverse("coding_page", args=[project.slug, document.pk])
    return {
        "page": page,
        "panel": panel,
        "message": message,
        "level": level,
        "undo": stack[-1] if stack and page.can_code else None,
        "include_panel": include_panel,
        "page_url": base,
        "segments_url": f"{base}segments/",
        "client_id": uuid.uuid4(),
    }


def _respond(request, project, document, *, status=200, message="", level="success",
             panel=None, include_panel=False) -> HttpResponse:  # fmt: skip
    """Changed regions for htmx; a redirect (success) or the page (error) otherwise."""
    if not request.htmx and status < 400:
        if message:
            level_ = messages.SUCCESS if level == "success" else messages.INFO
            messages.add_message(request, level_, message)
        url = reverse("coding_page", args=[project.slug, document.pk])
        if panel is not None and panel.segment.deleted_at is None:
            url += f"?seg={panel.segment.pk}#panel"
        return redirect(url)
    ctx = _context(request, project, document, panel=panel, message=message,
                   level="error" if status >= 400 else level,
                   include_panel=include_panel)  # fmt: skip
    template = "annotations/coding.html" + ("#changed" if request.htmx else "")
    return render(request, template, ctx, status=status)


def _panel(request, project, document, segment, *, also_ids=(), conflict=None) -> Panel:
    assignment = permissions.assignment_for(request.user, document)
    also = []
    if also_ids:
        # The other segments under the clicked spot, as the page shows them.
        visible = permissions.segments_visible(request.user, project).filter(
            document=document, pk__in=[i for i in also_ids if i != segment.pk]
        )
        if assignment is not None and not _show_others(request, project):
            visible = visible.filter(coder=request.user)
        also = list(visible.select_related("coder").order_by("start", "end", "id"))
    editable = (
        permissions.can_edit_segment(request.user, segment)
        and segment.deleted_at is None
        and assignment is not None
        and assignment.status != Assignment.Status.DONE
    )
    return Panel(segment=segment, editable=editable, also=also, conflict=conflict)


def _label(request: HttpRequest, project: Project, segment: Segment) -> str:
    """The segment's code path and the start of its quote, for messages."""
    path = _codebook(request, project).path(segment.code_id)
    quote = segment.quote if len(segment.quote) <= 40 else segment.quote[:39] + "…"
    return f"{path} “{quote}”"


def _int_list(raw: str) -> list[int]:
    return [int(x) for x in raw.replace(",", " ").split() if x.isdigit()][:20]


# ---------------------------------------------------------------- pages


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
@require_GET
def segment_detail(
    request: HttpRequest, slug: str, document_id: int, segment_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    segment = _segment(request, project, document, segment_id)
    if segment.deleted_at is not None:
        raise Http404("No such segment.")
    panel = _panel(request, project, document, segment,
                   also_ids=_int_list(request.GET.get("also", "")))  # fmt: skip
    if not request.htmx:
        return redirect(
            f"{reverse('coding_page', args=[slug, document_id])}?seg={segment_id}#panel"
        )
    ctx = _context(request, project, document, panel=panel)
    return render(request, "annotations/coding.html#panel", ctx)


# ---------------------------------------------------------------- changes


@login_required
@require_POST
def segment_create(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    form = SegmentCreateForm(request.POST)
    if not form.is_valid():
        return _respond(request, project, document, status=400,
                        message=f"The segment was not saved. {_form_errors(form)}")  # fmt: skip
    data = form.cleaned_data
    quote = (
        data["quote"]
        if "quote" in request.POST
        else document.text[data["start"] : data["end"]]
    )
    try:
        segment, created = services.segment_create(
            document=document, coder=request.user, code=_code(project, data["code"]),
            start=data["start"], end=data["end"], quote=quote,
            memo=data["memo"].replace("\r\n", "\n"), client_id=data["client_id"],
        )  # fmt: skip
    except ValidationError as exc:
        return _respond(request, project, document, status=400,
                        message=f"The segment was not saved. {_errors(exc)}")  # fmt: skip
    label = _label(request, project, segment)
    if created:
        _undo_push(request, document, "create", segment, f"add {label}")
    return _respond(request, project, document, status=201 if created else 200,
                    message=f"Added {label}.")  # fmt: skip


@login_required
@require_POST
def segment_update(
    request: HttpRequest, slug: str, document_id: int, segment_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    try:
        segment = _own_segment(request, project, document, segment_id)
    except _Refused as exc:
        return _respond(request, project, document, status=exc.status, message=str(exc))
    form = SegmentUpdateForm(request.POST)
    if not form.is_valid():
        return _respond(request, project, document, status=400,
                        message=f"Not saved. {_form_errors(form)}")  # fmt: skip
    data = form.cleaned_data
    memo = data["memo"].replace("\r\n", "\n") if "memo" in request.POST else None
    before = {"code": segment.code_id, "memo": segment.memo}
    try:
        updated = services.segment_update(
            segment=segment, actor=request.user, code=_code(project, data["code"]),
            memo=memo, expected_version=data["version"],
        )  # fmt: skip
    except ConflictError as exc:
        mine = {
            "code": data["code"] or segment.code_id,
            "memo": memo if memo is not None else segment.memo,
        }
        panel = _panel(request, project, document, segment, conflict={
            "mine": mine, "saved": exc.current,
            "mine_path": _codebook(request, project).path(mine["code"]),
            "saved_path": _codebook(request, project).path(exc.current["code"]),
        })  # fmt: skip
        return _respond(request, project, document, status=409, panel=panel, include_panel=True,
                        message=f"Not saved: {exc} Both versions are shown beside the text.")  # fmt: skip
    except ValidationError as exc:
        panel = _panel(request, project, document, segment)
        return _respond(request, project, document, status=400, panel=panel,
                        include_panel=True, message=f"Not saved. {_errors(exc)}")  # fmt: skip
    label = _label(request, project, updated)
    after = {"code": updated.code_id, "memo": updated.memo}
    if after != before:
        _undo_push(request, document, "update", updated, f"change {label}",
                   before=before, after=after)  # fmt: skip
    panel = _panel(request, project, document, updated)
    return _respond(request, project, document, panel=panel, include_panel=True,
                    message=f"Saved {label}.")  # fmt: skip


@login_required
@require_POST
def segment_delete(
    request: HttpRequest, slug: str, document_id: int, segment_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    form = SegmentUpdateForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        segment = _own_segment(request, project, document, segment_id)
        was_deleted = segment.deleted_at is not None
        segment = services.segment_delete(
            segment=segment, actor=request.user, expected_version=version
        )
    except _Refused as exc:
        return _respond(request, project, document, status=exc.status, message=str(exc))
    except ConflictError as exc:
        return _respond(request, project, document, status=409,
                        message=f"Not deleted: {exc} Open it again to see the saved version.")  # fmt: skip
    except ValidationError as exc:
        return _respond(
            request,
            project,
            document,
            status=400,
            message=f"Not deleted. {_errors(exc)}",
        )
    label = _label(request, project, segment)
    if not was_deleted:
        _undo_push(request, document, "delete", segment, f"delete {label}")
    return _respond(request, project, document, include_panel=True,
                    message=f"Deleted {label}. Undo brings it back.")  # fmt: skip


@login_required
@require_POST
def segment_restore(
    request: HttpRequest, slug: str, document_id: int, segment_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    try:
        segment = _own_segment(request, project, document, segment_id)
        segment = services.segment_restore(segment=segment, actor=request.user)
    except _Refused as exc:
        return _respond(request, project, document, status=exc.status, message=str(exc))
    except ValidationError as exc:
        return _respond(
            request,
            project,
            document,
            status=400,
            message=f"Not restored. {_errors(exc)}",
        )
    label = _label(request, project, segment)
    return _respond(request, project, document, message=f"Restored {label}.")


@login_required
@require_POST
def coding_undo(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Revert the coder's last change to this article: create -> delete,
    delete -> restore, change -> the previous code and memo."""
    project, document = _load(request, slug, document_id)
    stack = _undo_stack(request, document)
    if not stack:
        return _respond(
            request, project, document, message="Nothing to undo.", level="info"
        )
    entry = stack[-1]
    segment = Segment.objects.filter(
        pk=entry["id"], document=document, coder=request.user
    ).first()
    if segment is None:
        _undo_pop(request, document)
        return _respond(
            request, project, document, status=409, message="That segment is gone."
        )
    try:
        _undo_apply(request, segment, entry)
    except ConflictError as exc:
        _undo_pop(request, document)
        return _respond(
            request, project, document, status=409, message=f"Cannot undo: {exc}"
        )
    except ValidationError as exc:
        return _respond(
            request,
            project,
            document,
            status=400,
            message=f"Cannot undo. {_errors(exc)}",
        )
    _undo_pop(request, document)
    return _respond(request, project, document, include_panel=True,
                    message=f"Undone: {entry['label']}.")  # fmt: skip


def _undo_apply(request: HttpRequest, segment: Segment, entry: dict) -> None:
    if entry["op"] == "create":
        services.segment_delete(segment=segment, actor=request.user)
    elif entry["op"] == "delete":
        services.segment_restore(segment=segment, actor=request.user)
    elif entry["op"] == "update":
        # Undo only what this page changed: if the segment was changed
        # elsewhere since, refuse rather than overwrite that change.
        if (segment.code_id, segment.memo) != (
            entry["after"]["code"],
            entry["after"]["memo"],
        ):
            raise ConflictError("the segment was changed elsewhere since.", current={})
        services.segment_update(
            segment=segment, actor=request.user,
            code=Code.objects.get(pk=entry["before"]["code"]),
            memo=entry["before"]["memo"], expected_version=segment.version,
        )  # fmt: skip


@login_required
@require_POST
def assignment_done(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    assignment = permissions.assignment_for(request.user, document)
    if assignment is None:
        return _respond(request, project, document, status=400,
                        message="This article is not assigned to you.")  # fmt: skip
    services.assignment_set_status(
        assignment=assignment, status=Assignment.Status.DONE, actor=request.user
    )
    request.session.get(UNDO_KEY, {}).pop(str(document.pk), None)
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
    assignment = permissions.assignment_for(request.user, document)
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
