"""The segment panel and the changes to segments: create, update, delete,
restore, undo and redo."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ...models import Code, Project, Segment
from ...services import coding as services
from ...services.errors import ConflictError
from .base import (
    REDO_KEY,
    SEGMENT_REGIONS,
    _assignment,
    _code,
    _codebook,
    _context,
    _errors,
    _form_errors,
    _int_list,
    _label,
    _load,
    _own_segment,
    _panel,
    _redo_stack,
    _redone,
    _Refused,
    _respond,
    _segment,
    _step_applied,
    _step_remember,
    _steps_clear,
    _steps_pop,
    _undo_pop,
    _undo_push,
    _undo_stack,
    _undone,
)


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
    # The panel alone: none of the #changed regions (nor the progress query).
    ctx = _context(request, project, document, panel=panel, regions=frozenset())
    return render(request, "annotations/coding.html#panel", ctx)


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
    assignment = _assignment(request, document)
    was = getattr(assignment, "status", None)
    try:
        segment, created = services.segment_create(
            document=document, coder=request.user,
            code=_code(request, project, data["code"]),
            start=data["start"], end=data["end"], quote=quote,
            memo=data["memo"].replace("\r\n", "\n"), client_id=data["client_id"],
            assignment=assignment,
        )  # fmt: skip
    except ValidationError as exc:
        return _respond(request, project, document, status=400,
                        message=f"The segment was not saved. {_errors(exc)}")  # fmt: skip
    label = _label(request, project, segment)
    if created:
        _undo_push(request, document, "create", segment, f"add {label}")
    regions = SEGMENT_REGIONS
    if getattr(assignment, "status", None) != was:  # coding started: "In progress"
        regions |= {"work_state"}
    return _respond(request, project, document, status=201 if created else 200,
                    message=f"Added {label}.", regions=regions)  # fmt: skip


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
            segment=segment, actor=request.user,
            code=_code(request, project, data["code"]),
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
                    message=f"Saved {label}.", regions=SEGMENT_REGIONS)  # fmt: skip


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
                    message=f"Deleted {label}. Undo brings it back.",
                    regions=SEGMENT_REGIONS)  # fmt: skip


@login_required
@require_POST
def segment_restore(
    request: HttpRequest, slug: str, document_id: int, segment_id: int
) -> HttpResponse:
    project, document = _load(request, slug, document_id)
    try:
        segment = _own_segment(request, project, document, segment_id)
        was_deleted = segment.deleted_at is not None
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
    if was_deleted:  # a new change: Redo has nothing left to re-apply
        _steps_clear(request, REDO_KEY, document)
    label = _label(request, project, segment)
    return _respond(request, project, document, message=f"Restored {label}.",
                    regions=SEGMENT_REGIONS)  # fmt: skip


@login_required
@require_POST
def coding_undo(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Revert the coder's last change to this article: create -> delete,
    delete -> restore, change -> the previous code and memo."""
    project, document = _load(request, slug, document_id)
    if _step_applied(request):
        return _respond(request, project, document, include_panel=True,
                        message="Undone.", regions=SEGMENT_REGIONS)  # fmt: skip
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
        segment = _undo_apply(request, segment, entry)
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
    _undone(request, document, entry, segment)
    _step_remember(request)
    return _respond(request, project, document, include_panel=True,
                    message=f"Undone: {entry['label']}.",
                    regions=SEGMENT_REGIONS)  # fmt: skip


def _undo_apply(request: HttpRequest, segment: Segment, entry: dict) -> Segment:
    if entry["op"] == "create":
        return services.segment_delete(segment=segment, actor=request.user)
    if entry["op"] == "delete":
        return services.segment_restore(segment=segment, actor=request.user)
    if entry["op"] == "update":
        # Undo only what this page changed: if the segment was changed
        # elsewhere since, refuse rather than overwrite that change.
        if (segment.code_id, segment.memo) != (
            entry["after"]["code"],
            entry["after"]["memo"],
        ):
            raise ConflictError("the segment was changed elsewhere since.", current={})
        return services.segment_update(
            segment=segment, actor=request.user,
            code=Code.objects.get(pk=entry["before"]["code"]),
            memo=entry["before"]["memo"], expected_version=segment.version,
        )  # fmt: skip
    raise ValueError(f"Unknown undo step {entry['op']!r}.")


@login_required
@require_POST
def coding_redo(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Re-apply the change the coder last undid on this article: create ->
    restore, delete -> delete again, change -> the new code and memo; the
    step goes back on the undo stack. A new change clears the redo stack."""
    project, document = _load(request, slug, document_id)
    if _step_applied(request):
        return _respond(request, project, document, include_panel=True,
                        message="Redone.", regions=SEGMENT_REGIONS)  # fmt: skip
    stack = _redo_stack(request, document)
    if not stack:
        return _respond(
            request, project, document, status=409, message="Nothing to redo."
        )
    entry = stack[-1]
    segment = Segment.objects.filter(
        pk=entry["id"], document=document, coder=request.user
    ).first()
    if segment is None:
        # Only the coder's own segments of this article, as for every change:
        # 404, whoever's segment the id names.
        _steps_pop(request, REDO_KEY, document)
        return _respond(
            request, project, document, status=404, message="That segment is gone."
        )
    try:
        segment = _redo_apply(request, project, segment, entry)
    except ConflictError as exc:
        _steps_pop(request, REDO_KEY, document)
        return _respond(
            request, project, document, status=409, message=f"Cannot redo: {exc}"
        )
    except ValidationError as exc:  # kept: e.g. marked done, redo after Reopen
        return _respond(request, project, document, status=400,
                        message=f"Cannot redo. {_errors(exc)}")  # fmt: skip
    _redone(request, document, entry, segment)
    _step_remember(request)
    return _respond(request, project, document, include_panel=True,
                    message=f"Redone: {entry['label']}.",
                    regions=SEGMENT_REGIONS)  # fmt: skip


def _redo_apply(
    request: HttpRequest, project: Project, segment: Segment, entry: dict
) -> Segment:
    version = entry.get("version")
    if entry["op"] == "create":
        return services.segment_restore(
            segment=segment, actor=request.user, expected_version=version
        )
    if entry["op"] == "delete":
        return services.segment_delete(
            segment=segment, actor=request.user, expected_version=version
        )
    if entry["op"] == "update":
        if (segment.code_id, segment.memo) != (
            entry["before"]["code"],
            entry["before"]["memo"],
        ):
            raise ConflictError("the segment was changed elsewhere since.", current={})
        return services.segment_update(
            segment=segment, actor=request.user,
            code=_code(request, project, entry["after"]["code"]),
            memo=entry["after"]["memo"], expected_version=version,
        )  # fmt: skip
    raise ValueError(f"Unknown redo step {entry['op']!r}.")
