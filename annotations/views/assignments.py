"""Assignments: a document x coder grid, a reproducible reliability sample,
and re-balancing a coder's unstarted work."""

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .. import permissions
from ..models import Assignment, Membership, Project
from ..sampling import (
    METADATA_PREFIX,
    SPEC_MAX_LENGTH,
    stratify_label,
    stratify_parse,
)
from ..selectors.sampling import metadata_keys, sample_strata
from ..services.assignments import assignment_toggle
from ..services.assignments import assignments_rebalance as rebalance_service
from ..services.reliability_sample import reliability_sample_draw

PER_PAGE = 50
STATUS_FILTERS = {
    "": "all documents",
    "unassigned": "unassigned",
    "sample": "in the reliability sample (2+ coders)",
    "todo": "with work to do",
    "in_progress": "in progress",
    "done": "done by everyone assigned",
}


class SampleForm(forms.Form):
    share = forms.IntegerField(
        min_value=0, max_value=100, initial=20, label="Share double-coded (%)"
    )
    per_document = forms.IntegerField(
        min_value=1, max_value=50, initial=2, label="Coders per sampled document"
    )
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, label="Seed")
    stratify = forms.ChoiceField(
        choices=[], required=False, label="Stratify by",
        help_text="Double-code the same share of each outlet, year or metadata "
        "value (proportional allocation), instead of one draw over all documents.",
    )  # fmt: skip
    coders = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, choices=[])

    def __init__(self, *args, members: list, metadata_keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coders"].choices = [
            (str(m.user_id), m.user.username) for m in members
        ]
        self.fields["stratify"].choices = [
            ("", "none: one draw over all documents"),
            ("source", "outlet (source)"),
            ("published_year", "year published"),
        ] + [
            (spec, f"metadata: {key}")
            for key in metadata_keys
            if len(spec := METADATA_PREFIX + key) <= SPEC_MAX_LENGTH
        ]


class RebalanceForm(forms.Form):
    coder = forms.TypedChoiceField(
        coerce=int, choices=[], label="Take unstarted documents from"
    )

    def __init__(self, *args, members: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coder"].choices = [(m.user_id, m.user.username) for m in members]


def _project(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _members(project: Project) -> list[Membership]:
    """Coders first, then PIs (who may code too)."""
    return sorted(
        project.memberships.select_related("user"),
        key=lambda m: (m.role != Membership.Role.CODER, m.user.username.lower()),
    )


def _filtered_documents(project: Project, q: str, show: str, coder: str):
    docs = project.documents.defer("text").annotate(n=Count("assignments"))
    if q:
        docs = docs.filter(title__icontains=q) | docs.filter(external_id__icontains=q)
    if show == "unassigned":
        docs = docs.filter(n=0)
    elif show == "sample":
        docs = docs.filter(n__gte=2)
    elif show in ("todo", "in_progress"):
        docs = docs.filter(assignments__status=show).distinct()
    elif show == "done":
        docs = docs.filter(n__gt=0).exclude(
            assignments__status__in=["todo", "in_progress"]
        )
    if coder.isdigit():
        docs = docs.filter(assignments__coder_id=int(coder)).distinct()
    return docs.order_by("id")


def _sample_form(project: Project, members: list[Membership], data=None) -> SampleForm:
    coders = [m for m in members if m.role == Membership.Role.CODER]
    return SampleForm(
        data, members=members, metadata_keys=metadata_keys(project),
        initial={"seed": secrets.randbelow(1_000_000),
                 "coders": [str(m.user_id) for m in coders],
                 "stratify": project.reliability_stratify},
    )  # fmt: skip


def _page(
    request, project, *, sample_form=None, rebalance_form=None, status=200, **extra
):
    members = _members(project)
    q = request.GET.get("q", "").strip()[:200]
    show = request.GET.get("show", "")
    show = show if show in STATUS_FILTERS else ""
    coder = request.GET.get("coder", "")
    page = Paginator(_filtered_documents(project, q, show, coder), PER_PAGE).get_page(
        request.GET.get("page")
    )
    doc_ids = [d.pk for d in page]
    cells = {
        (a.document_id, a.coder_id): a
        for a in Assignment.objects.filter(document_id__in=doc_ids)
    }
    rows = [
        (doc, [(m, cells.get((doc.pk, m.user_id))) for m in members]) for doc in page
    ]
    sample = (
        project.documents.defer("text")
        .annotate(n=Count("assignments"))
        .filter(n__gte=2)
        .order_by("id")
    )
    context = {
        "project": project, "is_pi": True, "active": "assignments", "members": members,
        "rows": rows, "page": page, "q": q, "show": show, "coder": coder,
        "filters": STATUS_FILTERS,
        "sample_form": sample_form or _sample_form(project, members),
        "rebalance_form": rebalance_form or RebalanceForm(members=members),
        "unassigned": project.documents.filter(assignments__isnull=True).count(),
        "sample_count": sample.count(), "sample": sample[:100],
        **_strata_context(project),
        **extra,
    }  # fmt: skip
    return render(request, "annotations/assignments.html", context, status=status)


def _strata_context(project: Project) -> dict:
    """How the last draw was stratified, and the sample per stratum now."""
    try:
        by = stratify_parse(project.reliability_stratify)
    except ValueError:  # empty: not stratified
        return {"stratify_label": stratify_label(project.reliability_stratify)}
    return {"stratify_label": by.label, "strata": sample_strata(project, by)}


@login_required
@require_GET
def assignments(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _project(request, slug))


@login_required
@require_POST
def assignments_save(request: HttpRequest, slug: str) -> HttpResponse:
    """The grid's form: the cells of the documents it showed, checked or not."""
    project = _project(request, slug)
    members = {m.user_id: m.user for m in _members(project)}
    try:
        doc_ids = {int(d) for d in request.POST.getlist("docs")}
        checked = {
            tuple(int(x) for x in c.split(":", 1)) for c in request.POST.getlist("cell")
        }
    except ValueError:
        return _page(request, project, error="The grid was not understood.", status=400)
    documents = {
        d.pk: d for d in project.documents.defer("text").filter(pk__in=doc_ids)
    }
    current = set(
        Assignment.objects.filter(document_id__in=documents).values_list(
            "document_id", "coder_id"
        )
    )
    wanted = {(d, c) for d, c in checked if d in documents and c in members}
    shown = {(d, c) for d in documents for c in members}
    added = removed = 0
    refused = []
    for doc_id, coder_id in sorted(shown):
        pair = (doc_id, coder_id)
        if (pair in wanted) == (pair in current):
            continue
        try:
            assignment_toggle(
                project=project, document=documents[doc_id], coder=members[coder_id],
                assigned=pair in wanted, actor=request.user,
            )  # fmt: skip
        except ValidationError as exc:
            refused.extend(exc.messages)
        else:
            added += pair in wanted
            removed += pair not in wanted
    if refused:
        messages.error(request, "Kept: " + " ".join(refused))
    messages.success(request, f"Assignments saved: {added} added, {removed} removed.")
    grid = reverse("assignments", args=[project.slug])
    back = request.POST.get("next", "")
    # Back to the same filtered page of the grid, never to another site.
    if back.startswith(grid) and url_has_allowed_host_and_scheme(
        back, allowed_hosts=None
    ):
        return redirect(back)
    return redirect(grid)


@login_required
@require_POST
def assignments_sample(request: HttpRequest, slug: str) -> HttpResponse:
    """Draw the reliability sample over the unassigned documents."""
    project = _project(request, slug)
    members = _members(project)
    form = _sample_form(project, members, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = reliability_sample_draw(
                project=project, coders=[int(c) for c in data["coders"]],
                share=data["share"] / 100, per_document=data["per_document"],
                seed=data["seed"], stratify=data["stratify"], actor=request.user,
            )  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            within = (
                f", stratified by {stratify_parse(data['stratify']).label} (per "
                "stratum in the table)"
                if data["stratify"]
                else ""
            )
            messages.success(
                request,
                f"Assigned {result['documents']} documents with seed {data['seed']}: "
                f"{result['sample']} double-coded by {data['per_document']} coders"
                f"{within}, the rest split evenly.",
            )
            return redirect("assignments", slug=project.slug)
    return _page(request, project, sample_form=form, status=400)


@login_required
@require_POST
def assignments_rebalance(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    members = _members(project)
    form = RebalanceForm(request.POST, members=members)
    if not form.is_valid():
        return _page(request, project, rebalance_form=form, status=400)
    coder_id = form.cleaned_data["coder"]
    others = [
        m.user_id
        for m in members
        if m.role == Membership.Role.CODER and m.user_id != coder_id
    ]
    result = rebalance_service(
        project=project, coder_id=coder_id, to_coders=others, actor=request.user
    )
    name = get_user_model().objects.get(pk=coder_id).username
    messages.success(
        request,
        f"Moved {result['moved']} unstarted documents from {name} to other coders"
        + (
            f"; {result['kept']} stay (every other coder has them already)."
            if result["kept"]
            else "."
        ),
    )
    return redirect("assignments", slug=project.slug)
