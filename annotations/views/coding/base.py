"""What the coding page's views share: loading what the request names (404
for outsiders), the session's undo and redo stacks and "show others" choice,
the page's context, and the answer to a change (fragments for htmx, a
redirect or the page otherwise)."""

import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ... import permissions
from ...models import Assignment, Code, Document, Project, Segment
from ...selectors import coding as selectors
from ...services import coding as services

UNDO_KEY = "wb-undo"
REDO_KEY = "wb-redo"
UNDO_LIMIT = 50  # steps per article (each stack)
UNDO_DOCUMENTS = 5  # articles (each stack)
OTHERS_KEY = "wb-others"

# The regions an htmx answer re-renders (``coding.html#changed``; the status
# bar always). A segment change leaves the assignment, and with it the work
# state, the hint and the codebook's buttons, as they were: rendering those
# again cost most of a create's template time. (The codebook form's fresh
# client_id serves only the plain form, which gets the whole page anyway.)
ALL_REGIONS = frozenset(
    {"work_state", "hint", "text_block", "segment_list", "codebook", "note"}
)
SEGMENT_REGIONS = frozenset({"text_block", "segment_list"})
NOTE_REGIONS = frozenset({"note"})


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
    document, assignment = permissions.document_assignment_get_or_404(
        request.user, project, document_id
    )
    request.__dict__.setdefault("_wb_assignments", {})[document.pk] = assignment
    return project, document


def _assignment(request: HttpRequest, document: Document) -> Assignment | None:
    """The user's assignment of the document, read once per request (by
    ``_load``): services that change it change this instance, so the page
    rendered after shows the new state."""
    cache = request.__dict__.setdefault("_wb_assignments", {})
    if document.pk not in cache:
        cache[document.pk] = permissions.assignment_for(request.user, document)
    return cache[document.pk]


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
    return _steps(request, UNDO_KEY, document)


def _redo_stack(request: HttpRequest, document: Document) -> list[dict]:
    return _steps(request, REDO_KEY, document)


def _steps(request: HttpRequest, key: str, document: Document) -> list[dict]:
    return request.session.get(key, {}).get(str(document.pk), [])


def _undo_push(
    request: HttpRequest, document: Document, op: str, segment: Segment, label: str,
    **extra,
) -> None:  # fmt: skip
    """Remember the coder's new change to ``segment`` so that Undo can revert
    it. A new change ends what Redo could bring back, as in any editor."""
    entry = {"op": op, "id": segment.pk, **extra, "label": label}
    _steps_push(request, UNDO_KEY, document, entry)
    _steps_clear(request, REDO_KEY, document)


def _steps_push(
    request: HttpRequest, key: str, document: Document, entry: dict
) -> None:
    stacks = request.session.get(key, {})
    stack = stacks.pop(str(document.pk), [])[-(UNDO_LIMIT - 1) :]
    stack.append(entry)
    stacks[str(document.pk)] = stack
    # The session keeps the stacks of the few articles coded last, not all.
    while len(stacks) > UNDO_DOCUMENTS:
        stacks.pop(next(iter(stacks)))
    request.session[key] = stacks


def _steps_pop(request: HttpRequest, key: str, document: Document) -> None:
    stacks = request.session.get(key, {})
    if stacks.get(str(document.pk)):
        stacks[str(document.pk)].pop()
        request.session[key] = stacks


def _steps_clear(request: HttpRequest, key: str, document: Document) -> None:
    # Only when there is something to clear: an unchanged session is not
    # written back.
    stacks = request.session.get(key, {})
    if str(document.pk) in stacks:
        del stacks[str(document.pk)]
        request.session[key] = stacks


APPLIED_KEY = "wb-steps-applied"
APPLIED_LIMIT = 100


def _step_applied(request: HttpRequest) -> bool:
    """Whether this Undo/Redo request (its ``step`` id, fixed by the page's
    outbox across retries) was applied already: a retry after a lost answer
    must not undo or redo one step more."""
    step = request.POST.get("step", "")
    return bool(step) and step in request.session.get(APPLIED_KEY, [])


def _step_remember(request: HttpRequest) -> None:
    """Record the applied request's ``step`` id, saved with the stacks in the
    same session write, so the two never disagree."""
    step = request.POST.get("step", "")[:64]
    if step:
        applied = request.session.get(APPLIED_KEY, [])[-(APPLIED_LIMIT - 1) :]
        request.session[APPLIED_KEY] = [*applied, step]


def _undo_pop(request: HttpRequest, document: Document) -> None:
    _steps_pop(request, UNDO_KEY, document)


def _undone(
    request: HttpRequest, document: Document, entry: dict, segment: Segment
) -> None:
    """Undo reverted ``entry`` (the undo stack's top), leaving ``segment`` at
    a new version: the step moves to the redo stack with that version, which
    Redo expects (a 409 if the segment was changed elsewhere meanwhile)."""
    _steps_pop(request, UNDO_KEY, document)
    _steps_push(request, REDO_KEY, document, {**entry, "version": segment.version})


def _redone(
    request: HttpRequest, document: Document, entry: dict, segment: Segment
) -> None:
    """Redo re-applied ``entry`` (the redo stack's top): the step goes back on
    the undo stack, and the segment's next redo step, if any, expects its new
    version (the segment is as that step's undo left it, one version on)."""
    _steps_pop(request, REDO_KEY, document)
    for later in reversed(_redo_stack(request, document)):
        if later["id"] == segment.pk:
            later["version"] = segment.version
            request.session.modified = True
            break
    step = {key: value for key, value in entry.items() if key != "version"}
    _steps_push(request, UNDO_KEY, document, step)


def _show_others(request: HttpRequest, project: Project) -> bool:
    return bool(request.session.get(OTHERS_KEY, {}).get(str(project.pk)))


def _codebook(request: HttpRequest, project: Project) -> selectors.Codebook:
    """The codebook, read once per request."""
    cache = request.__dict__.setdefault("_wb_codebooks", {})
    if project.pk not in cache:
        cache[project.pk] = selectors.codebook_get(project)
    return cache[project.pk]


def _code(request: HttpRequest, project: Project, code_id: int | None) -> Code | None:
    if code_id is None:
        return None
    # Only this project's codes: another project's ids must not be probeable.
    # From the codebook, which the answer needs anyway: no query of its own.
    node = _codebook(request, project).by_id.get(code_id)
    if node is None:
        raise ValidationError({"code": f"There is no code {code_id} in this project."})
    return node.code


def _context(request, project, document, *, panel=None, message="", level="success",
             include_panel=False, regions=ALL_REGIONS) -> dict:  # fmt: skip
    page = selectors.coding_page_get(
        user=request.user, project=project, document=document,
        show_others=_show_others(request, project),
        codebook=_codebook(request, project),
        assignment=_assignment(request, document),
        with_progress="work_state" in regions,
    )  # fmt: skip
    if panel is not None:
        panel.path = page.codebook.path(panel.segment.code_id)
        for other in panel.also:
            other.path = page.codebook.path(other.code_id)
    stack = _undo_stack(request, document)
    redo = _redo_stack(request, document)
    base = reverse("coding_page", args=[project.slug, document.pk])
    return {
        "page": page,
        "panel": panel,
        "message": message,
        "level": level,
        "undo": stack[-1] if stack and page.can_code else None,
        "redo": redo[-1] if redo and page.can_code else None,
        "include_panel": include_panel,
        "regions": regions,
        "page_url": base,
        "segments_url": f"{base}segments/",
        "client_id": uuid.uuid4(),
        "note_max_length": services.ASSIGNMENT_NOTE_MAX_LENGTH,
    }


def _respond(request, project, document, *, status=200, message="", level="success",
             panel=None, include_panel=False, regions=ALL_REGIONS,
             extra=None) -> HttpResponse:  # fmt: skip
    """Changed regions for htmx (the status bar, ``regions`` and, with
    ``include_panel``, the panel); a redirect (success) or the page (error)
    otherwise. ``extra`` goes into the template's context."""
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
                   include_panel=include_panel,
                   regions=regions if request.htmx else ALL_REGIONS)  # fmt: skip
    ctx.update(extra or {})
    template = "annotations/coding.html" + ("#changed" if request.htmx else "")
    return render(request, template, ctx, status=status)


def _panel(request, project, document, segment, *, also_ids=(), conflict=None) -> Panel:
    assignment = _assignment(request, document)
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
