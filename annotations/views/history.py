"""The history pages: every change in a project (or one document), filterable
by person and date, exportable as CSV; a PI restores deleted segments here.
PI only: anyone else gets 404."""

from __future__ import annotations

import csv
import json

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .. import permissions
from ..models import Code, ConsensusSegment, HistoryEvent, Project, Segment
from ..selectors.history import history_entities, history_events
from ..services.adjudication import consensus_restore
from ..services.coding import segment_restore

PAGE_SIZE = 100
RESTORABLE = {"segment", "consensus"}
CSV_HEADER = [
    "event_id", "created_at", "user", "via", "entity", "entity_id", "action",
    "document_id", "document_external_id", "document_title", "before", "after",
]  # fmt: skip


class HistoryFilter(forms.Form):
    user = forms.CharField(required=False, label="Person")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput({"type": "date"})
    )
    entity = forms.CharField(required=False, label="What")
    action = forms.ChoiceField(
        choices=[("", "any")] + HistoryEvent.Action.choices, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("The start date is after the end date.")
        return data


def _events(request: HttpRequest, project: Project, document_id: int | None):
    form = HistoryFilter(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    f = form.cleaned_data if form.is_bound else {}
    qs = history_events(
        project,
        username=f.get("user") or None,
        since=f.get("since"),
        until=f.get("until"),
        document_id=document_id,
        entity=f.get("entity") or None,
        action=f.get("action") or None,
    ).defer("document__text", "document__metadata")
    return form, qs


def _label(key: str, value, codes: dict, users: dict) -> str:
    if value is None or value == "":
        return "—"
    if key in {"code", "parent"} and value in codes:
        return codes[value]
    if key in {"coder", "decided_by", "adjudicator", "user"} and value in users:
        return users[value]
    if isinstance(value, str) and len(value) > 60:
        return value[:59] + "…"
    return str(value)


def describe(event: HistoryEvent, codes: dict, users: dict) -> str:
    """What changed, in words: the changed fields for an update, the main
    fields for a create or delete."""
    before, after = event.before or {}, event.after or {}
    if before and after:
        keys = [k for k in after if before.get(k) != after.get(k) and k != "version"]
        return "; ".join(
            f"{k}: {_label(k, before.get(k), codes, users)} → {_label(k, after.get(k), codes, users)}"
            for k in keys
        )
    data = after or before
    shown = [k for k in ("code", "coder", "status", "role", "name", "number",
                         "decision", "note", "quote", "sources", "source")
             if k in data]  # fmt: skip
    span = (
        f"[{data['start']}, {data['end']}) "
        if "start" in data and "end" in data
        else ""
    )
    return span + "; ".join(f"{k}: {_label(k, data[k], codes, users)}" for k in shown)


def _page(request, project, *, document=None) -> HttpResponse:
    form, qs = _events(request, project, document.pk if document else None)
    if qs is None:
        context = {"project": project, "is_pi": True, "active": "history", "form": form,
                   "document": document, "page": None, "rows": []}  # fmt: skip
        return render(request, "annotations/history.html", context, status=400)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    codes = dict(Code.objects.filter(project=project).values_list("pk", "name"))
    users = dict(get_user_model().objects.filter(memberships__project=project)
                 .values_list("pk", "username"))  # fmt: skip
    deleted = {
        "segment": set(Segment.objects.filter(
            pk__in=[e.entity_id for e in events if e.entity == "segment"],
            deleted_at__isnull=False).values_list("pk", flat=True)),
        "consensus": set(ConsensusSegment.objects.filter(
            pk__in=[e.entity_id for e in events if e.entity == "consensus"],
            deleted_at__isnull=False).values_list("pk", flat=True)),
    }  # fmt: skip
    rows = [
        {
            "event": e,
            "summary": describe(e, codes, users),
            "restorable": e.action == "delete"
            and e.entity in RESTORABLE
            and e.entity_id in deleted[e.entity],
        }
        for e in events
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project, "is_pi": True, "active": "history", "form": form,
        "document": document, "page": page, "rows": rows, "query": query.urlencode(),
        "entities": history_entities(project),
    }  # fmt: skip
    return render(request, "annotations/history.html", context)


@login_required
@require_GET
def history(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    return _page(request, project)


@login_required
@require_GET
def history_document(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    document = permissions.document_get_or_404(request.user, project, document_id)
    return _page(request, project, document=document)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def history_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The filtered history as CSV (UTF-8, RFC 4180), streamed: one row per
    event, before and after as JSON."""
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    document_id = None
    if request.GET.get("document"):
        try:
            document_id = permissions.document_get_or_404(
                request.user, project, int(request.GET["document"])
            ).pk
        except ValueError:
            raise Http404("No such document.") from None
    form, qs = _events(request, project, document_id)
    if qs is None:
        return HttpResponse(
            "Bad filter: " + "; ".join(m for ms in form.errors.values() for m in ms),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_HEADER)
        for e in qs.values_list(
            "pk", "created_at", "user__username", "via", "entity", "entity_id",
            "action", "document_id", "document__external_id", "document__title",
            "before", "after",
        ).iterator(chunk_size=2000):  # fmt: skip
            *head, before, after = e
            head[1] = head[1].isoformat()
            yield writer.writerow(
                [*["" if v is None else v for v in head],
                 "" if before is None else json.dumps(before, ensure_ascii=False),
                 "" if after is None else json.dumps(after, ensure_ascii=False)]
            )  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    name = f"{project.slug}-history" + (
        f"-document-{document_id}" if document_id else ""
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
@require_POST
def history_restore(request: HttpRequest, slug: str, event_id: int) -> HttpResponse:
    """Bring back a segment or consensus segment whose deletion this event recorded."""
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    event = HistoryEvent.objects.filter(
        pk=event_id, project=project, action="delete", entity__in=RESTORABLE
    ).first()
    if event is None:
        raise Http404("No such deletion in the history.")
    model = Segment if event.entity == "segment" else ConsensusSegment
    obj = model.objects.filter(pk=event.entity_id, document__project=project).first()
    if obj is None:
        raise Http404("It no longer exists.")
    try:
        if obj.deleted_at is None:
            messages.info(request, "It is not deleted: nothing to restore.")
        elif event.entity == "segment":
            segment_restore(segment=obj, actor=request.user)
            messages.success(
                request, f"Restored {obj.coder}'s segment [{obj.start}, {obj.end})."
            )
        else:
            consensus_restore(consensus=obj, actor=request.user)
            messages.success(
                request, f"Restored the consensus segment [{obj.start}, {obj.end})."
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        response = _page(request, project)
        response.status_code = 400
        return response
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("history", project.slug)
