"""The PI's adjudication pages: the list of documents to settle, and one
document's coders in aligned lanes with the consensus lane under them.

Every action is a POST that works as a plain form (redirect back with a
message, or the page with the error and a 4xx) and, sent with
``HX-Request``, answers with the page's workspace fragment
(``adjudicate.html#workspace``). PI only: anyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from .. import permissions
from ..models import Code, ConsensusSegment, Document, Project, Segment
from ..selectors import adjudication as selectors
from ..services import adjudication as services
from ..services.errors import ConflictError

OVERLAP_CHOICES = [("", "the exact same span"), ("0.9", "90%"), ("0.8", "80%"),
                   ("0.7", "70%"), ("0.5", "50%")]  # fmt: skip
PAGE_SIZE = 50


def _document(
    request: HttpRequest, slug: str, document_id: int
) -> tuple[Project, Document]:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    return project, permissions.document_get_or_404(request.user, project, document_id)


def code_choices(codes: dict[int, Code]) -> list[tuple[int, str]]:
    """Active codes as (id, parent/child path), in codebook order."""

    def path(code: Code) -> list[Code]:
        chain = [code]
        while chain[-1].parent_id:
            chain.append(codes[chain[-1].parent_id])
        return chain[::-1]

    ordered = sorted(codes.values(), key=lambda c: [(x.order, x.pk) for x in path(c)])
    return [(c.pk, "/".join(x.name for x in path(c))) for c in ordered if not c.retired]


def chunks_html(chunks: list[selectors.Chunk]) -> str:
    """The text as runs of ``<span class="ch">``: built here rather than in a
    template loop, as a long article has thousands of runs."""
    out = []
    for c in chunks:
        cls = "ch open" if c.open else "ch dis" if c.groups else "ch"
        attrs = f' data-g="{" ".join(c.groups)}"' if c.groups else ""
        if c.labels:
            lanes = "|".join(",".join(lane) for lane in c.lanes)
            attrs += f' data-lanes="{escape(lanes)}" title="{escape(c.labels)}"'
        out.append(
            f'<span class="{cls}" data-s="{c.start}"{attrs}>{escape(c.text)}</span>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def options_html(codes: list[tuple[int, str]], selected: int | None = None) -> str:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, " selected" if pk == selected else "", path) for pk, path in codes),
    )


def _context(project: Project, document: Document, **extra) -> dict:
    data = selectors.adjudication_data(document)
    codes = code_choices(data.codes)
    paths = dict(codes) | {
        c.pk: c.name for c in data.codes.values() if c.pk not in dict(codes)
    }
    for s in [*data.segments.values(), *data.consensus, *data.deleted_consensus]:
        s.code_path = paths[s.code_id]
    for c in data.consensus:
        c.code_options = options_html(codes, selected=c.code_id)
    return {
        "project": project,
        "is_pi": True,
        "active": "adjudication",
        "document": document,
        "data": data,
        "text_html": chunks_html(selectors.adjudication_chunks(data)),
        "codes": codes,
        "code_options": options_html(codes),
        "overlap_choices": OVERLAP_CHOICES,
        "overlap_value": ""
        if data.state is None or data.state.overlap is None
        else f"{data.state.overlap:g}",
        "needs_reason": not data.all_done
        and not (data.state and data.state.override_reason),
        **extra,
    }


def _render(request, project, document, *, error: str = "", status: int = 200):
    if request.htmx and error:
        response = render(
            request,
            "annotations/adjudicate.html#message",
            {"error": error},
            status=status,
        )
        response["HX-Retarget"] = "#adj-message"
        response["HX-Reswap"] = "innerHTML"
        return response
    context = _context(project, document, error=error)
    template = "annotations/adjudicate.html"
    if request.htmx:
        template += "#workspace"
    return render(request, template, context, status=status)


def _done(request, project, document, message: str) -> HttpResponse:
    if request.htmx:
        return _render(request, project, document)
    messages.success(request, message)
    return redirect("adjudicate", project.slug, document.pk)


def _act(request, project, document, action) -> HttpResponse:
    """Run a service call, turning bad input into a 400 and stale edits into 409."""
    try:
        message = action()
    except ValidationError as exc:
        return _render(
            request, project, document, error=" ".join(exc.messages), status=400
        )
    except ConflictError as exc:
        return _render(request, project, document, error=str(exc), status=409)
    return _done(request, project, document, message)


def _int(request, name: str, *, required: bool = True) -> int | None:
    raw = request.POST.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: f"{name} must be a whole number."}) from None


def _overlap(request) -> float | None:
    raw = request.POST.get("overlap", "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError({"overlap": "The overlap must be a number."}) from None


def _code(request, project, *, required: bool) -> Code | None:
    pk = _int(request, "code", required=required)
    if pk is None:
        return None
    code = Code.objects.filter(pk=pk, project=project).first()
    if code is None:
        raise ValidationError({"code": "Choose a code of this project."})
    return code


def _segment_ids(request) -> list[int]:
    try:
        return [int(v) for v in request.POST.getlist("segments")]
    except ValueError:
        raise ValidationError({"segments": "Bad segment ids."}) from None


@login_required
@require_GET
def adjudication_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    status = request.GET.get("status", "")
    if status not in selectors.STATUS_LABELS:
        status = ""
    docs = selectors.adjudication_documents(project, status=status or None)
    page = Paginator(docs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    summaries = selectors.adjudication_summaries(rows)
    for doc in rows:
        doc.summary = summaries[doc.pk]
        doc.status_label = selectors.STATUS_LABELS[doc.summary["status"]]
    return render(
        request,
        "annotations/adjudication_list.html",
        {"project": project, "is_pi": True, "active": "adjudication", "page": page,
         "rows": rows, "status": status, "statuses": selectors.STATUS_LABELS},
    )  # fmt: skip


@login_required
@require_GET
def adjudicate(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _document(request, slug, document_id)
    return _render(request, project, document)


@login_required
@require_POST
def adjudicate_start(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _document(request, slug, document_id)

    def action():
        _, n = services.adjudication_start(
            document=document, actor=request.user, overlap=_overlap(request),
            override_reason=request.POST.get("override_reason", ""),
        )  # fmt: skip
        return f"{n} agreed segment(s) accepted into the consensus."

    return _act(request, project, document, action)


@login_required
@require_POST
def adjudicate_decide(
    request: HttpRequest, slug: str, document_id: int
) -> HttpResponse:
    """One decision on one disagreement: its segments come as ``segments``."""
    project, document = _document(request, slug, document_id)
    kw = {"document": document, "actor": request.user}
    note = request.POST.get("note", "")

    def action():
        ids = _segment_ids(request)
        if "accept" in request.POST:
            coder = _int(request, "accept")
            chosen = list(
                Segment.objects.filter(
                    pk__in=ids, document=document, coder_id=coder
                ).values_list("pk", flat=True)
            )
            services.consensus_accept(**kw, segment_ids=chosen, note=note)
            return "Accepted."
        what = request.POST.get("action", "")
        if what == "accept_all":
            services.consensus_accept(**kw, segment_ids=ids, note=note)
            return "Accepted all readings."
        if what == "reject":
            services.consensus_reject(**kw, segment_ids=ids, note=note)
            return "Rejected."
        if what == "adjust":
            services.consensus_adjust(
                **kw, segment_ids=ids, start=_int(request, "start"),
                end=_int(request, "end"), code=_code(request, project, required=False),
                note=note,
            )  # fmt: skip
            return "Accepted with new boundaries."
        if what == "change_code":
            base = _int(request, "base", required=False)
            if base in ids:
                ids = [base, *[i for i in ids if i != base]]
            services.consensus_change_code(
                **kw, segment_ids=ids, code=_code(request, project, required=True),
                note=note,
            )  # fmt: skip
            return "Accepted with another code."
        if what == "undo":
            n = services.decision_undo(**kw, segment_ids=ids)
            return f"{n} decision(s) taken back."
        raise ValidationError({"action": "Unknown action."})

    return _act(request, project, document, action)


@login_required
@require_POST
def adjudicate_add(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project, document = _document(request, slug, document_id)

    def action():
        services.consensus_add(
            document=document, actor=request.user,
            code=_code(request, project, required=True),
            start=_int(request, "start"), end=_int(request, "end"),
            quote=request.POST.get("quote") or None,
            memo=request.POST.get("memo", ""), note=request.POST.get("note", ""),
        )  # fmt: skip
        return "Segment added to the consensus."

    return _act(request, project, document, action)


@login_required
@require_POST
def adjudicate_consensus(
    request: HttpRequest, slug: str, document_id: int, consensus_id: int
) -> HttpResponse:
    """Change, delete or restore one consensus segment."""
    project, document = _document(request, slug, document_id)
    consensus = ConsensusSegment.objects.filter(
        pk=consensus_id, document=document
    ).first()
    if consensus is None:
        return _render(
            request, project, document, error="No such consensus segment.", status=404
        )
    kw = {"consensus": consensus, "actor": request.user}

    def action():
        what = request.POST.get("action", "")
        version = _int(request, "version", required=False)
        if what == "delete":
            services.consensus_delete(**kw, expected_version=version)
            return "Removed from the consensus."
        if what == "restore":
            services.consensus_restore(**kw)
            return "Restored to the consensus."
        if what == "update":
            start = _int(request, "start", required=False)
            end = _int(request, "end", required=False)
            services.consensus_update(
                **kw, code=_code(request, project, required=False),
                span=(start, end) if start is not None and end is not None else None,
                note=request.POST.get("note"), expected_version=version,
            )  # fmt: skip
            return "Consensus segment changed."
        raise ValidationError({"action": "Unknown action."})

    return _act(request, project, document, action)


@login_required
@require_POST
def adjudicate_status(
    request: HttpRequest, slug: str, document_id: int
) -> HttpResponse:
    """Mark the document adjudicated, or reopen it."""
    project, document = _document(request, slug, document_id)

    def action():
        what = request.POST.get("action", "")
        if what == "mark":
            services.adjudication_mark(
                document=document, actor=request.user,
                override_reason=request.POST.get("override_reason", ""),
            )  # fmt: skip
            return "Marked adjudicated."
        if what == "reopen":
            services.adjudication_reopen(
                document=document, actor=request.user,
                reason=request.POST.get("reason", ""),
            )  # fmt: skip
            return "Reopened: every decision is kept."
        raise ValidationError({"action": "Unknown action."})

    return _act(request, project, document, action)


def adjudicate_url(document: Document) -> str:
    return reverse("adjudicate", args=[document.project.slug, document.pk])
