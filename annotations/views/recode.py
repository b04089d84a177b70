"""Recode rounds (intra-coder, test-retest reliability): the PI of the source
project starts a round and reads its report. PI of the source only: anyone
else, the round's coder included, gets 404.

The core is :mod:`annotations.services.recode`; these views parse, call it
and render. The report's records have the agreement report's shape, so its
downloads reuse the agreement writers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods

from .. import permissions
from ..models import Assignment, Membership, Project
from ..services import agreement as agreement_service
from ..services import recode as service
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from . import agreement_charts as charts
from .agreement import RAW_COEFFICIENTS

# The service's error keys that the form shows under one of its own fields.
ERROR_FIELDS = {"coder": "coder", "share": "amount", "count": "amount", "slug": "slug"}


class RecodeForm(forms.Form):
    coder = forms.TypedChoiceField(coerce=int, choices=[], label="Coder")
    how = forms.ChoiceField(
        choices=[
            ("count", "a number of documents"),
            ("share", "a percentage of their done documents"),
        ],
        initial="count",
        widget=forms.RadioSelect,
        label="Recode",
    )
    amount = forms.IntegerField(
        min_value=1, label="How many",
        help_text="Documents, or per cent of the coder's done documents (1–100).",
    )  # fmt: skip
    seed = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, initial=1, label="Seed",
        help_text="The draw is random but reproducible: the same seed with the same "
        "coder and choices picks the same documents.",
    )  # fmt: skip
    slug = forms.SlugField(
        max_length=64, required=False, label="Short id of the round (optional)",
        help_text="Used in its links; <project>-recode-<n> if empty.",
    )  # fmt: skip

    def __init__(self, *args, coders: list[tuple[int, str, int]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coder"].choices = [
            (pk, f"{name} ({done} done)") for pk, name, done in coders
        ]

    def clean(self):
        data = super().clean()
        if data.get("how") == "share" and (data.get("amount") or 0) > 100:
            self.add_error("amount", "A percentage is at most 100.")
        return data


class ReportForm(forms.Form):
    level = forms.ChoiceField(choices=[(lv, lv) for lv in LEVELS], required=False)
    bootstrap = forms.IntegerField(
        required=False, min_value=0, max_value=agreement_service.MAX_BOOTSTRAP
    )
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**32 - 1)

    def options(self) -> dict:
        d = self.cleaned_data
        return {
            "bootstrap": DEFAULT_RESAMPLES
            if d.get("bootstrap") is None
            else d["bootstrap"],
            "seed": DEFAULT_SEED if d.get("seed") is None else d["seed"],
        }


def _source(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _round(source: Project, recode_slug: str) -> Project:
    recode = (
        Project.objects.select_related("recode_coder")
        .filter(slug=recode_slug, recode_of=source)
        .first()
    )
    if recode is None:
        raise Http404("No such recode round.")
    return recode


def coder_choices(source: Project) -> list[tuple[int, str, int]]:
    """The source's coders with documents marked done: (id, name, done)."""
    done = Count(
        "user__assignments",
        filter=Q(
            user__assignments__document__project=source,
            user__assignments__status=Assignment.Status.DONE,
        ),
    )
    rows = (
        Membership.objects.filter(project=source, role=Membership.Role.CODER)
        .annotate(done=done)
        .filter(done__gt=0)
        .order_by("user__username")
        .values_list("user_id", "user__username", "done")
    )
    return list(rows)


@login_required
@require_http_methods(["GET", "POST"])
def recode_create(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(request, slug)
    coders = coder_choices(source)
    data = request.POST if request.method == "POST" else None
    form = RecodeForm(data, coders=coders)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        how = {d["how"]: d["amount"] / 100 if d["how"] == "share" else d["amount"]}
        try:
            recode = service.recode_round_create(
                source=source, coder=get_user_model().objects.get(pk=d["coder"]),
                actor=request.user, seed=d["seed"], slug=d["slug"] or None, **how,
            )  # fmt: skip
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error(ERROR_FIELDS.get(key), errors)
        else:
            name = recode.recode_coder.username
            n = recode.documents.count()
            messages.success(
                request,
                f"Recode round {recode.slug} started: {n} document{'s' * (n != 1)} "
                f"for {name}, who will find it under My work.",
            )
            return redirect("recode_report", slug=source.slug, recode_slug=recode.slug)
    context = {"project": source, "is_pi": True, "active": "agreement",
               "form": form, "coders": coders}  # fmt: skip
    status = 400 if form.is_bound else 200
    return render(request, "annotations/recode_create.html", context, status=status)


def result_rows(report: dict, level: str) -> list[dict]:
    """The records over both rounds together (no pair), and pair records only
    where a coefficient has no such record; filtered by level."""
    records = [r for r in report["results"] if not level or r["level"] == level]
    whole = {
        (r["level"], r["coefficient"], r["code"]) for r in records if not r["pair"]
    }
    rows = []
    for r in records:
        if r["pair"] and (r["level"], r["coefficient"], r["code"]) in whole:
            continue
        corrected = r["coefficient"] not in RAW_COEFFICIENTS
        rows.append({
            **r, "band": charts.band(r["value"]) if corrected else "raw",
            "text": charts.fmt(r["value"]),
            "raw": "" if r["value"] is None else repr(r["value"]),
        })  # fmt: skip
    return rows


def headline(report: dict) -> dict | None:
    """The number to report: α at the document level over all codes, else
    the first α of any level over all codes."""
    alphas = [
        r for r in report["results"]
        if r["code"] is None and not r["pair"]
        and r["coefficient"] in ("krippendorff_alpha", "u_alpha")
    ]  # fmt: skip
    alphas.sort(key=lambda r: r["level"] != "document")
    return alphas[0] if alphas else None


def _round_status(source: Project, recode: Project):
    return next(
        (r for r in service.recode_rounds(source) if r.project.pk == recode.pk), None
    )


@login_required
@require_GET
def recode_report(request: HttpRequest, slug: str, recode_slug: str) -> HttpResponse:
    source = _source(request, slug)
    recode = _round(source, recode_slug)
    form = ReportForm(request.GET)
    context = {"project": source, "is_pi": True, "active": "agreement",
               "recode": recode, "form": form, "round": _round_status(source, recode),
               "recode_pi": permissions.is_pi(request.user, recode)}  # fmt: skip
    if not form.is_valid():
        return render(request, "annotations/recode_report.html", context, status=400)
    report = service.intra_coder_report(recode, **form.options())
    level = form.cleaned_data.get("level") or ""
    query = {k: v for k, v in request.GET.items() if k != "level" and v}
    context.update(
        report=report, sample=report["sample"], rows=result_rows(report, level),
        level=level, levels=list(LEVELS), headline=headline(report),
        options=form.options(), query=urlencode(query),
        computed_at=parse_datetime(report["sample"]["computed_at"]),
    )  # fmt: skip
    template = "annotations/recode_report.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def _download(request, slug, recode_slug, *, write, extension, content_type):
    source = _source(request, slug)
    recode = _round(source, recode_slug)
    form = ReportForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"detail": form.errors.get_json_data()}, status=400)
    level = form.cleaned_data.get("level")
    report = service.intra_coder_report(
        recode, levels=[level] if level else None, **form.options()
    )
    response = HttpResponse(write(report), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{recode.slug}-intra-coder.{extension}"'
    )
    return response


@login_required
@require_GET
def recode_report_json(request: HttpRequest, slug: str, recode_slug: str):
    return _download(
        request, slug, recode_slug, write=agreement_service.agreement_json,
        extension="json", content_type="application/json; charset=utf-8",
    )  # fmt: skip


@login_required
@require_GET
def recode_report_csv(request: HttpRequest, slug: str, recode_slug: str):
    return _download(
        request, slug, recode_slug, write=agreement_service.agreement_csv,
        extension="csv", content_type="text/csv; charset=utf-8",
    )  # fmt: skip
