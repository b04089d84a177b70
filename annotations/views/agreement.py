"""The PI's agreement pages: the report (summary per code, plots, pair heat
maps, every result, documents by disagreement), its JSON and CSV, and the
compare view of one document. PI only: anyone else gets 404.

The report comes from :func:`annotations.services.agreement.agreement_payload`,
computed once per change of the data and cached: a page view costs a few
indexed queries. Filters (level, code, heat map) only pick from the cached
results; htmx swaps ``#results`` (or ``#documents`` when paging), and the
same form works as a plain GET.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from .. import permissions
from ..exporters.methods import methods_paragraph
from ..models import CodebookVersion, Document, Project
from ..selectors.agreement import CONSENSUS_NAME, compare_lanes
from ..selectors.codebook import code_paths
from ..selectors.methods import methods_context
from ..services import agreement as service
from ..services.recode import recode_rounds
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from ..stats.thresholds import prevalence_paradox
from . import agreement_charts as charts

DOCS_PER_PAGE = 25
# The results table shows at most this many rows (a project with ten coders
# has ~50 pairwise rows per code and level); the downloads have them all.
DETAIL_ROWS = 600
# (key, level, coefficient, header, chance-corrected: coloured by the thresholds)
HEADLINE = [
    ("doc_alpha", "document", "krippendorff_alpha", "α document", True),
    ("doc_kappa", "document", "cohen_kappa", "κ document (mean of pairs)", True),
    ("doc_pa", "document", "percent_agreement", "% agreement document", False),
    ("doc_ac1", "document", "gwet_ac1", "AC1 document", True),
    ("chr_alpha", "character", "krippendorff_alpha", "α character", True),
    ("u_alpha", "unitizing", "u_alpha", "u-α", True),
    ("f1", "span", "f1_overlap", "F1 overlap", False),
]
MATRICES = {
    "doc_kappa": ("document", "cohen_kappa", "Cohen's κ, document level"),
    "chr_kappa": ("character", "cohen_kappa", "Cohen's κ, character level"),
    "f1_overlap": ("span", "f1_overlap", "F1, overlap match"),
    "f1_exact": ("span", "f1_exact", "F1, exact match"),
}
# Not chance-corrected: shown without the reliability thresholds' colours.
RAW_COEFFICIENTS = frozenset(
    {
        "percent_agreement",
        "f1_exact",
        "f1_overlap",
        "precision_exact",
        "recall_exact",
        "precision_overlap",
        "recall_overlap",
    }
)
ALL_CODES = "-"  # the code filter's value for the rows over all codes together


class AgreementForm(forms.Form):
    level = forms.ChoiceField(
        choices=[(lv, lv) for lv in LEVELS], required=False, initial="document"
    )
    code = forms.CharField(required=False, max_length=1000)
    matrix = forms.ChoiceField(
        choices=[(k, v[2]) for k, v in MATRICES.items()], required=False
    )
    all_coded = forms.BooleanField(required=False)
    with_consensus = forms.BooleanField(required=False)
    bootstrap = forms.IntegerField(
        required=False, min_value=0, max_value=service.MAX_BOOTSTRAP
    )
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**32 - 1)
    # Whether the project published it is the service's check.
    codebook_version = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1
    )
    docs = forms.IntegerField(required=False, min_value=1)

    def options(self) -> dict:
        d = self.cleaned_data
        return {
            "all_coded": bool(d.get("all_coded")),
            "with_consensus": bool(d.get("with_consensus")),
            "bootstrap": DEFAULT_RESAMPLES
            if d.get("bootstrap") is None
            else d["bootstrap"],
            "seed": DEFAULT_SEED if d.get("seed") is None else d["seed"],
            "codebook_version": d.get("codebook_version"),
        }


def _project(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _form(request: HttpRequest) -> AgreementForm:
    form = AgreementForm(request.GET)
    form.is_valid()
    return form


def _find(results: list[dict], level: str, coefficient: str, code) -> dict | None:
    for r in results:
        if (
            r["level"] == level
            and r["coefficient"] == coefficient
            and r["code"] == code
            and r["pair"] is None
        ):
            return r
    return None


def summary_rows(report: dict) -> list[dict]:
    """One row per code (all codes together first) with the headline
    coefficients, and a warning where kappa and percent agreement diverge."""
    results = report["results"]
    codes: list = [None]
    for r in results:
        if (
            r["code"] is not None
            and r["code"] not in codes
            and r["level"] != "variable"
        ):
            codes.append(r["code"])
    index: dict[tuple, dict] = {}
    for r in results:
        if r["pair"] is None:
            index.setdefault((r["level"], r["coefficient"], r["code"]), r)
    rows = []
    for code in codes:
        cells = []
        found = {}
        for key, level, coefficient, _, corrected in HEADLINE:
            r = index.get((level, coefficient, code))
            found[key] = r
            cells.append(
                {
                    "key": key,
                    "result": r,
                    "band": charts.band(r["value"]) if r and corrected else "raw",
                    "text": charts.fmt(r["value"] if r else None),
                }
            )
        pa, kappa = found["doc_pa"], found["doc_kappa"]
        paradox = bool(pa and kappa) and prevalence_paradox(pa["value"], kappa["value"])
        head = found["doc_alpha"] or found["chr_alpha"] or found["u_alpha"]
        rows.append(
            {
                "code": code,
                "label": "All codes" if code is None else code,
                "cells": cells,
                "paradox": paradox,
                "ac1": found["doc_ac1"],
                "n_documents": head["n_documents"] if head else None,
                "n_units": found["doc_alpha"]["n_units"]
                if found["doc_alpha"]
                else None,
            }
        )
    return rows


def variable_rows(report: dict) -> list[dict]:
    rows: dict[str, dict] = {}
    for r in report["results"]:
        if r["level"] != "variable" or r["pair"] is not None:
            continue
        row = rows.setdefault(r["code"], {"code": r["code"], "results": []})
        row["results"].append(
            {**r, "band": "raw" if r["coefficient"] == "percent_agreement"
             else charts.band(r["value"]), "text": charts.fmt(r["value"])}
        )  # fmt: skip
    return list(rows.values())


def ci_plot(rows: list[dict]) -> str:
    def points(key: str):
        out = []
        for row in rows:
            r = next(c["result"] for c in row["cells"] if c["key"] == key)
            out.append(
                (r["value"], r["ci_low"], r["ci_high"]) if r else (None, None, None)
            )
        return out

    return charts.ci_chart(
        [row["label"] for row in rows],
        [
            charts.Series("α document", "circle", "#1f5fa8", points("doc_alpha")),
            charts.Series("α character", "diamond", "#c2410c", points("chr_alpha")),
        ],
        title="Krippendorff's α per code with 95% bootstrap intervals",
    )


def heat_maps(report: dict, matrix: str, code_filter: str) -> list[dict]:
    level, coefficient, title = MATRICES[matrix]
    coders = list(report["sample"]["coders"])
    by_code: dict = {}
    for r in report["results"]:
        if r["level"] == level and r["coefficient"] == coefficient and r["pair"]:
            by_code.setdefault(r["code"], {})[tuple(r["pair"])] = r["value"]
            if CONSENSUS_NAME in r["pair"] and CONSENSUS_NAME not in coders:
                coders.append(CONSENSUS_NAME)
    wanted = list(by_code)
    if code_filter == ALL_CODES:
        wanted = [None]
    elif code_filter:
        wanted = [code_filter]
    compact = len(wanted) > 1
    return [
        {
            "code": code,
            "svg": charts.heat_map(
                coders,
                by_code.get(code, {}),
                title="All codes" if code is None else code,
                compact=compact,
            ),
        }
        for code in wanted
        if code in by_code
    ]


def _detail(report: dict, level: str, code: str) -> list[dict]:
    rows = []
    for r in report["results"]:
        if level and r["level"] != level:
            continue
        if code == ALL_CODES and r["code"] is not None:
            continue
        if code and code != ALL_CODES and r["code"] != code:
            continue
        corrected = r["coefficient"] not in RAW_COEFFICIENTS
        rows.append({
            **r, "band": charts.band(r["value"]) if corrected else "raw",
            "text": charts.fmt(r["value"]), "raw": "" if r["value"] is None else repr(r["value"]),
            "coders_text": ", ".join(r["coders"]),
            "pair_text": " × ".join(r["pair"]) if r["pair"] else "all",
        })  # fmt: skip
    return rows


def _query(form: AgreementForm, **overrides) -> str:
    """The current options as a query string (for downloads and paging)."""

    data = {k: v for k, v in form.data.items() if v not in ("", None)}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return urlencode(data)


def _api_query(form: AgreementForm) -> str:

    options = form.options()
    data = {k: "true" for k in ("all_coded", "with_consensus") if options[k]}
    if options["bootstrap"] != DEFAULT_RESAMPLES:
        data["bootstrap"] = options["bootstrap"]
    if options["seed"] != DEFAULT_SEED:
        data["seed"] = options["seed"]
    if options["codebook_version"] is not None:
        data["codebook_version"] = options["codebook_version"]
    return urlencode(data)


def _versions(project: Project) -> list[int]:
    """The published version numbers, newest first; no query before the
    first (the page then has no version control)."""
    if project.codebook_version is None:
        return []
    return list(
        CodebookVersion.objects.filter(project=project)
        .order_by("-number")
        .values_list("number", flat=True)
    )


@login_required
@require_GET
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    form = _form(request)
    context = {"project": project, "is_pi": True, "active": "agreement", "form": form,
               "versions": _versions(project)}  # fmt: skip
    context["recode_rounds"] = [] if request.htmx else recode_rounds(project)
    if not form.is_valid():
        return render(request, "annotations/agreement.html", context, status=400)
    params = service.agreement_params(**form.options())
    try:
        payload = service.agreement_payload(project, params)
    except ValidationError as exc:  # a codebook version the project lacks
        form.add_error(None, exc)
        context["options"] = form.options()
        return render(request, "annotations/agreement.html", context, status=400)
    report = payload["report"]
    d = form.cleaned_data
    level = d.get("level") or "document"
    code = d.get("code") or ""
    matrix = d.get("matrix") or "doc_kappa"
    rows = summary_rows(report)
    detail = _detail(report, level, code)
    page = Paginator(payload["documents"], DOCS_PER_PAGE).get_page(d.get("docs") or 1)
    docs = service.agreement_documents(payload, list(page.object_list))
    for doc in docs:
        doc["percent"] = round(doc["disagreement"] * 100)
    context.update(
        report=report, sample=report["sample"], rows=rows,
        variables=variable_rows(report), plot=ci_plot(rows),
        heat_maps=heat_maps(report, matrix, code), matrix=matrix, matrix_title=MATRICES[matrix][2],
        matrices=[(k, v[2]) for k, v in MATRICES.items()],
        detail=detail[:DETAIL_ROWS], detail_total=len(detail), level=level, code=code,
        levels=list(LEVELS), all_codes=ALL_CODES,
        codes=[r["code"] for r in rows if r["code"] is not None],
        docs_page=page, docs=docs, query=_query(form, docs=None),
        options=form.options(), computed_at=parse_datetime(report["sample"]["computed_at"]),
        api_query=_api_query(form),
    )  # fmt: skip
    template = "annotations/agreement.html"
    target = (request.htmx.target or "") if request.htmx else ""
    if target != "documents":  # the documents pager does not show the paragraph
        context["methods"] = methods_paragraph(report, methods_context(project))
    if request.htmx:
        template += "#documents" if target == "documents" else "#results"
    return render(request, template, context)


def _download(
    request: HttpRequest, slug: str, *, write, extension: str, content_type: str
) -> HttpResponse:
    """The report written by ``write`` as an attachment; a bad filter answers
    400 with the form's errors as JSON."""
    project = _project(request, slug)
    form = _form(request)
    if not form.is_valid():
        return JsonResponse({"detail": form.errors.get_json_data()}, status=400)
    levels = [form.cleaned_data["level"]] if form.cleaned_data.get("level") else None
    try:
        report = service.agreement_report(project, levels=levels, **form.options())
    except ValidationError as exc:  # a codebook version the project lacks
        return JsonResponse({"detail": exc.messages}, status=400)
    response = HttpResponse(write(report), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{project.slug}-agreement.{extension}"'
    )
    return response


@login_required
@require_GET
def agreement_json(request: HttpRequest, slug: str) -> HttpResponse:
    return _download(
        request, slug, write=service.agreement_json, extension="json",
        content_type="application/json; charset=utf-8",
    )  # fmt: skip


@login_required
@require_GET
def agreement_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return _download(
        request, slug, write=service.agreement_csv, extension="csv",
        content_type="text/csv; charset=utf-8",
    )  # fmt: skip


# -- compare one document -----------------------------------------------------------


def compare_context(project: Project, document: Document) -> dict:
    """The document's coders as lanes, the text cut where any lane changes
    (disagreements marked), and the regions of overlapping segments."""
    lanes = compare_lanes(document)
    paths = code_paths(project)
    colors = dict(project.codes.values_list("pk", "color"))
    coders = [ln for ln in lanes if ln.coder_id >= 0]
    in_sample = [ln for ln in coders if ln.in_sample]
    compared = (
        in_sample
        if len(in_sample) >= 2
        else [ln for ln in coders if ln.status or ln.segments]
    )
    compared_ids = {ln.coder_id for ln in compared}
    text = document.text
    cuts = {0, len(text)}
    for ln in lanes:
        for _, _, s, e in ln.segments:
            cuts.update((s, e))
    cuts = sorted(cuts)
    # per chunk: the set of codes each lane has there
    events: dict[int, list] = {}
    for li, ln in enumerate(lanes):
        for _, code, s, e in ln.segments:
            events.setdefault(s, []).append((li, code, 1))
            events.setdefault(e, []).append((li, code, -1))
    active: list[dict] = [{} for _ in lanes]
    html, dis_spans, n_dis_chars = [], [], 0
    for a, b in zip(cuts, cuts[1:], strict=False):
        for li, code, step in events.get(a, []):
            active[li][code] = active[li].get(code, 0) + step
            if not active[li][code]:
                del active[li][code]
        sets = [frozenset(active[li]) for li in range(len(lanes))]
        cmp_sets = {
            sets[li] for li, ln in enumerate(lanes) if ln.coder_id in compared_ids
        }
        any_code = any(sets)
        piece = escape(text[a:b])
        if not any_code:
            html.append(piece)
            continue
        disagree = len(cmp_sets) > 1
        label = "; ".join(
            f"{ln.name}: {', '.join(sorted(paths[c] for c in sets[li])) or '—'}"
            for li, ln in enumerate(lanes)
        )
        cls = (
            "cmp-dis"
            if disagree
            else "cmp-agr"
            if cmp_sets and next(iter(cmp_sets))
            else "cmp-one"
        )
        if disagree:
            n_dis_chars += b - a
            if dis_spans and dis_spans[-1][1] == a:
                dis_spans[-1] = (dis_spans[-1][0], b)
            else:
                dis_spans.append((a, b))
        html.append(f'<span class="{cls}" title="{escape(label)}">{piece}</span>')
    return {
        "lanes": lanes,
        "compared": compared,
        "text_html": mark_safe("".join(html)),  # noqa: S308 - text and labels escaped
        "chart": charts.lanes_chart(
            len(text),
            [
                (
                    ln.name,
                    [
                        (s, e, colors.get(code, "#999999"), paths[code])
                        for _, code, s, e in ln.segments
                    ],
                )
                for ln in lanes
            ],
            dis_spans,
        ),  # fmt: skip
        "regions": _regions(lanes, compared_ids, text, paths),
        "disagreement_chars": n_dis_chars,
    }


def _regions(
    lanes, compared_ids: set[int], text: str, paths: dict[int, str]
) -> list[dict]:
    """Maximal runs of overlapping segments (any lane), each with every
    lane's segments in it and whether the compared coders agree."""
    items = sorted(
        (s, e, li, code) for li, ln in enumerate(lanes) for _, code, s, e in ln.segments
    )
    groups: list[list] = []
    end = -1
    for item in items:
        if item[0] >= end:
            groups.append([])
        groups[-1].append(item)
        end = max(end, item[1]) if item[0] < end else item[1]
    out = []
    for n, g in enumerate(groups, start=1):
        start, stop = g[0][0], max(i[1] for i in g)
        per_lane = [
            sorted((c, s, e) for s, e, li2, c in g if li2 == li)
            for li in range(len(lanes))
        ]
        cmp = [
            per_lane[li] for li, ln in enumerate(lanes) if ln.coder_id in compared_ids
        ]
        if cmp and all(x == cmp[0] for x in cmp):
            status = "agree"
        elif cmp and all({c for c, *_ in x} == {c for c, *_ in cmp[0]} for x in cmp):
            status = "boundaries"
        else:
            status = "codes"
        quote = text[start:stop]
        out.append({
            "n": n, "start": start, "end": stop, "status": status,
            "quote": quote if len(quote) <= 300 else quote[:299] + "…",
            "lanes": [
                [{"code": paths[c], "code_id": c, "start": s, "end": e} for c, s, e in segs]
                for segs in per_lane
            ],
        })  # fmt: skip
    return out


@login_required
@require_GET
def agreement_compare(
    request: HttpRequest, slug: str, document_id: int
) -> HttpResponse:
    project = _project(request, slug)
    document = permissions.document_get_or_404(request.user, project, document_id)
    status_filter = request.GET.get("show", "")
    ctx = compare_context(project, document)
    if status_filter in ("agree", "boundaries", "codes"):
        ctx["regions"] = [r for r in ctx["regions"] if r["status"] == status_filter]
    context = {
        "project": project, "is_pi": True, "active": "agreement",
        "document": document, "show": status_filter, **ctx,
    }  # fmt: skip
    template = "annotations/agreement_compare.html"
    if request.htmx:
        template += "#regions"
    return render(request, template, context)
